/*
 * `tinymlops device revoke ID [--reason TEXT]` and `tinymlops enroll-token
 * list|revoke ID`: take back a credential (docs/protocol.md P-8a). A revoked
 * device key and a revoked enrollment token stop working at once.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "server_client.h"

static const char *revoke_usage =
    "tinymlops device revoke DEVICE_ID [--reason TEXT] [--server URL] [--token T] [--json]";

int cmd_device_revoke(int argc, char **argv)
{
    static const struct option opts[] = {{"reason", required_argument, NULL, 'r'},
                                         {NULL, 0, NULL, 0}};
    api_ctx ctx;
    if (api_take_options(&ctx, &argc, argv, revoke_usage) != 0)
        return CLI_USAGE;
    const char *reason = "";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 'r')
            return cli_usage(revoke_usage, "unknown option");
        reason = optarg;
    }
    if (argc - optind != 1)
        return cli_usage(revoke_usage, "expected one device id");
    char path[256];
    snprintf(path, sizeof path, "/api/v1/devices/%.64s/revoke", argv[optind]);
    json_t *body = json_pack("{s:s}", "reason", reason), *out = NULL;
    int rc = api_once(&ctx, "POST", path, body, &out);
    json_decref(body);
    if (rc != 0)
        return rc;
    if (ctx.json)
        api_print_json(out);
    else
        printf("device %s revoked at %lld (Unix ms)\n",
               json_string_value(json_object_get(out, "id")),
               (long long)json_integer_value(json_object_get(out, "revoked_at")));
    json_decref(out);
    return CLI_OK;
}

static const char *list_usage = "tinymlops enroll-token list [--server URL] [--token T] [--json]";

int cmd_enroll_token_list(int argc, char **argv)
{
    static const char *const params[] = {NULL};
    api_ctx ctx;
    json_t *out = NULL;
    int rc =
        api_get_listing(&ctx, argc, argv, list_usage, "/api/v1/enrollment-tokens", params, &out);
    if (rc != 0)
        return rc;
    if (ctx.json) {
        api_print_json(out);
        json_decref(out);
        return CLI_OK;
    }
    json_t *tokens = json_object_get(out, "tokens");
    printf("%-6s  %-12s  %-9s  %-15s  %s\n", "ID", "GROUP", "USES LEFT", "EXPIRES (ms)", "STATE");
    long long now = (long long)hc_now_ms();
    for (size_t i = 0; i < json_array_size(tokens); i++) {
        json_t *t = json_array_get(tokens, i);
        const char *group = json_string_value(json_object_get(t, "group"));
        long long expires = (long long)json_integer_value(json_object_get(t, "expires_at"));
        long long left = (long long)json_integer_value(json_object_get(t, "uses_left"));
        const char *state = json_integer_value(json_object_get(t, "revoked_at")) != 0 ? "revoked"
                            : expires <= now                                          ? "expired"
                            : left <= 0                                               ? "used"
                                                                                      : "active";
        printf("%-6lld  %-12s  %-9lld  %-15lld  %s\n",
               (long long)json_integer_value(json_object_get(t, "id")),
               group != NULL && group[0] ? group : "-", left, expires, state);
    }
    json_decref(out);
    return CLI_OK;
}

static const char *token_revoke_usage =
    "tinymlops enroll-token revoke ID [--server URL] [--token T] [--json]";

int cmd_enroll_token_revoke(int argc, char **argv)
{
    api_ctx ctx;
    if (api_take_options(&ctx, &argc, argv, token_revoke_usage) != 0)
        return CLI_USAGE;
    long id;
    if (argc != 2 || !cli_parse_count("ID", argv[1], 1L << 62, &id))
        return cli_usage(token_revoke_usage,
                         "expected one enrollment token id (enroll-token list)");
    char path[96];
    snprintf(path, sizeof path, "/api/v1/enrollment-tokens/%ld", id);
    json_t *out = NULL;
    int rc = api_once(&ctx, "DELETE", path, NULL, &out);
    if (rc != 0)
        return rc;
    if (ctx.json)
        api_print_json(out);
    else
        printf("enrollment token %ld revoked\n", id);
    json_decref(out);
    return CLI_OK;
}
