/*
 * `tinymlops device tag DEVICE_ID [+TAG|-TAG ...] [--group G]`: change a
 * device's tags and group (what deployments target).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "server_client.h"

static const char *usage =
    "tinymlops device tag DEVICE_ID [+TAG|-TAG ...] [--group G] [--server URL] [--token T] "
    "[--json]";

int cmd_device_tag(int argc, char **argv)
{
    api_ctx ctx;
    if (api_take_options(&ctx, &argc, argv, usage) != 0)
        return CLI_USAGE;
    if (argc < 2 || argv[1][0] == '-' || argv[1][0] == '+')
        return cli_usage(usage, "expected a device id first");
    json_t *body = json_object(), *add = json_array(), *remove = json_array();
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--group") == 0 && i + 1 < argc) {
            json_object_set_new(body, "group", json_string(argv[++i]));
        } else if (strncmp(a, "--group=", 8) == 0) {
            json_object_set_new(body, "group", json_string(a + 8));
        } else if ((a[0] == '+' || a[0] == '-') && a[1] != '\0' && a[1] != '-') {
            json_array_append_new(a[0] == '+' ? add : remove, json_string(a + 1));
        } else {
            json_decref(body);
            json_decref(add);
            json_decref(remove);
            return cli_usage(usage, "unexpected argument '%s' (tags are +TAG or -TAG)", a);
        }
    }
    json_object_set_new(body, "add_tags", add);
    json_object_set_new(body, "remove_tags", remove);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/devices/%.64s", argv[1]);
    json_t *out = NULL;
    int rc = api_once(&ctx, "PATCH", path, body, &out);
    json_decref(body);
    if (rc != 0)
        return rc;
    if (ctx.json) {
        api_print_json(out);
    } else {
        char *tags = json_dumps(json_object_get(out, "tags"), JSON_COMPACT);
        printf("%s: group '%s', tags %s\n", json_string_value(json_object_get(out, "id")),
               json_string_value(json_object_get(out, "group")), tags != NULL ? tags : "[]");
        free(tags);
    }
    json_decref(out);
    return CLI_OK;
}
