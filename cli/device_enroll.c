/*
 * `tinymlops enroll-token create` (also `tinymlops device enroll-token`):
 * a one-time (or N-times), expiring token a new device enrolls with
 * (docs/protocol.md P-7). The token is printed once.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "server_client.h"

static const char *usage =
    "tinymlops enroll-token create [--ttl SECONDS] [--uses N] [--group G] [--tag T ...] "
    "[--server URL] [--token T] [--json]";

static const cli_command commands[] = {
    {"create", cmd_enroll_token_create, "create a one-time, expiring device enrollment token"},
    {"list", cmd_enroll_token_list, "enrollment tokens: group, uses left, expiry, state"},
    {"revoke", cmd_enroll_token_revoke, "revoke an enrollment token by id"},
    {NULL, NULL, NULL},
};

int cmd_enroll_token(int argc, char **argv)
{
    return cli_dispatch("enroll-token", commands, argc, argv);
}

int cmd_enroll_token_create(int argc, char **argv)
{
    static const struct option opts[] = {{"ttl", required_argument, NULL, 't'},
                                         {"uses", required_argument, NULL, 'u'},
                                         {"group", required_argument, NULL, 'g'},
                                         {"tag", required_argument, NULL, 'a'},
                                         {NULL, 0, NULL, 0}};
    api_ctx ctx;
    if (api_take_options(&ctx, &argc, argv, usage) != 0)
        return CLI_USAGE;
    json_t *body = json_object(), *tags = json_array();
    json_object_set_new(body, "tags", tags);
    long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if ((c == 't' || c == 'u') &&
            !cli_parse_count(c == 't' ? "--ttl" : "--uses", optarg, 30L * 86400, &v)) {
            json_decref(body);
            return CLI_USAGE;
        }
        if (c == 't')
            json_object_set_new(body, "ttl_s", json_integer(v));
        else if (c == 'u')
            json_object_set_new(body, "uses", json_integer(v));
        else if (c == 'g')
            json_object_set_new(body, "group", json_string(optarg));
        else if (c == 'a')
            json_array_append_new(tags, json_string(optarg));
        else {
            json_decref(body);
            return cli_usage(usage, "unknown option");
        }
    }
    if (optind != argc) {
        json_decref(body);
        return cli_usage(usage, "unexpected argument '%s'", argv[optind]);
    }
    json_t *out = NULL;
    int rc = api_once(&ctx, "POST", "/api/v1/enrollment-tokens", body, &out);
    json_decref(body);
    if (rc != 0)
        return rc;
    if (ctx.json) {
        api_print_json(out);
    } else {
        printf("%s\n", json_string_value(json_object_get(out, "token")));
        fprintf(stderr,
                "tinymlops: enrollment token for %lld device(s), expires at %lld (Unix ms); shown "
                "once\n",
                (long long)json_integer_value(json_object_get(out, "uses")),
                (long long)json_integer_value(json_object_get(out, "expires_at")));
    }
    json_decref(out);
    return CLI_OK;
}
