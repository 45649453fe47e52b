/*
 * `tinymlops model push B.tmb ...`: uploads bundles to the fleet server's
 * registry, which verifies each against its root keys and says why when it
 * refuses one.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "host.h"
#include "server_client.h"

static const char *usage =
    "tinymlops model push BUNDLE.tmb [...] [--server URL] [--token T] [--json]";

int cmd_model_push(int argc, char **argv)
{
    api_ctx ctx;
    if (api_take_options(&ctx, &argc, argv, usage) != 0)
        return CLI_USAGE;
    if (argc < 2)
        return cli_usage(usage, "expected at least one bundle file");
    int rc = api_open(&ctx), failed = 0;
    for (int i = 1; rc == 0 && i < argc; i++) {
        char err[600];
        size_t len;
        uint8_t *bytes = host_read_file(argv[i], &len, err, sizeof err);
        if (bytes == NULL) {
            cli_fail("%s", err);
            failed = 1;
            continue;
        }
        json_t *out = NULL;
        if (api_call(&ctx, "POST", "/api/v1/bundles", NULL, bytes, len, &out) != 0) {
            fprintf(stderr, "tinymlops: %s was not registered\n", argv[i]);
            failed = 1;
        } else if (ctx.json) {
            api_print_json(out);
        } else {
            printf("%s: bundle %lld, %s %s, %s, digest %s\n", argv[i],
                   (long long)json_integer_value(json_object_get(out, "id")),
                   json_string_value(json_object_get(out, "model")),
                   json_string_value(json_object_get(out, "version")),
                   json_is_true(json_object_get(out, "existing")) ? "already registered"
                                                                  : "registered",
                   json_string_value(json_object_get(out, "digest")));
        }
        json_decref(out);
        free(bytes);
    }
    api_close(&ctx);
    return rc != 0 ? rc : failed ? CLI_FAIL : CLI_OK;
}
