/*
 * `tinymlops device list|show|tag|pubkey|revoke|enroll-token`: the device inventory of a
 * fleet server.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "server_client.h"

static const cli_command commands[] = {
    {"list", cmd_device_list, "devices with health and what they run (--group, --tag)"},
    {"show", cmd_device_show, "one device: profile, slots, counters, deployments"},
    {"tag", cmd_device_tag, "add (+TAG) or remove (-TAG) tags, set --group"},
    {"pubkey", cmd_device_pubkey, "the device's encryption key as PEM (bundle pack --encrypt-for)"},
    {"revoke", cmd_device_revoke, "revoke a device's key for good (a stolen or retired device)"},
    {"enroll-token", cmd_enroll_token_create, "create a one-time enrollment token for new devices"},
    {NULL, NULL, NULL},
};

int cmd_device(int argc, char **argv)
{
    return cli_dispatch("device", commands, argc, argv);
}

/* "12 s ago", "never". */
static void ago(long long ms, char *out, size_t len)
{
    if (ms <= 0) {
        snprintf(out, len, "never");
        return;
    }
    long long s = (long long)time(NULL) - ms / 1000;
    if (s < 120)
        snprintf(out, len, "%lld s ago", s < 0 ? 0 : s);
    else if (s < 7200)
        snprintf(out, len, "%lld min ago", s / 60);
    else
        snprintf(out, len, "%lld h ago", s / 3600);
}

static void running(json_t *dev, char *out, size_t len)
{
    json_t *r = json_object_get(dev, "running");
    const char *model = json_string_value(json_object_get(r, "model"));
    const char *version = json_string_value(json_object_get(r, "version"));
    if (model != NULL)
        snprintf(out, len, "%s %s", model, version != NULL ? version : "?");
    else
        snprintf(out, len, "-");
}

static void tags_text(json_t *tags, char *out, size_t len)
{
    out[0] = '\0';
    for (size_t i = 0; i < json_array_size(tags); i++) {
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s", i ? "," : "",
                 json_string_value(json_array_get(tags, i)));
    }
    if (out[0] == '\0')
        snprintf(out, len, "-");
}

static const char *list_usage =
    "tinymlops device list [--group G] [--tag T[,T...]] [--limit N] [--offset N] "
    "[--server URL] [--token T] [--json]";

int cmd_device_list(int argc, char **argv)
{
    static const char *const params[] = {"group", "tag", "limit", "offset", NULL};
    api_ctx ctx;
    json_t *out = NULL;
    int rc = api_get_listing(&ctx, argc, argv, list_usage, "/api/v1/devices", params, &out);
    if (rc != 0)
        return rc;
    if (ctx.json) {
        api_print_json(out);
    } else {
        json_t *devs = json_object_get(out, "devices");
        printf("%-32s  %-12s  %-16s  %-10s  %-20s  %s\n", "DEVICE", "GROUP", "TAGS", "HEALTH",
               "RUNNING", "LAST SEEN");
        for (size_t i = 0; i < json_array_size(devs); i++) {
            json_t *d = json_array_get(devs, i);
            char run[96], seen[32], tags[256];
            running(d, run, sizeof run);
            ago((long long)json_integer_value(json_object_get(d, "last_seen")), seen, sizeof seen);
            tags_text(json_object_get(d, "tags"), tags, sizeof tags);
            const char *group = json_string_value(json_object_get(d, "group"));
            printf("%-32s  %-12s  %-16s  %-10s  %-20s  %s\n",
                   json_string_value(json_object_get(d, "id")),
                   group != NULL && group[0] ? group : "-", tags,
                   json_string_value(json_object_get(d, "health")), run, seen);
        }
        printf("%lld device(s)\n", (long long)json_integer_value(json_object_get(out, "total")));
    }
    json_decref(out);
    return CLI_OK;
}

static const char *show_usage =
    "tinymlops device show DEVICE_ID [--server URL] [--token T] [--json]";

int cmd_device_show(int argc, char **argv)
{
    api_ctx ctx;
    if (api_take_options(&ctx, &argc, argv, show_usage) != 0)
        return CLI_USAGE;
    if (argc != 2 || argv[1][0] == '-')
        return cli_usage(show_usage, "expected one device id");
    char path[256];
    snprintf(path, sizeof path, "/api/v1/devices/%.64s", argv[1]);
    json_t *d = NULL;
    int rc = api_once(&ctx, "GET", path, NULL, &d);
    if (rc != 0)
        return rc;
    if (ctx.json) {
        api_print_json(d);
        json_decref(d);
        return CLI_OK;
    }
    json_t *p = json_object_get(d, "profile");
    char run[96], seen[32], tags[256];
    running(d, run, sizeof run);
    ago((long long)json_integer_value(json_object_get(d, "last_seen")), seen, sizeof seen);
    tags_text(json_object_get(d, "tags"), tags, sizeof tags);
    printf("device      %s\n", json_string_value(json_object_get(d, "id")));
    printf("group       %s\ntags        %s\n", json_string_value(json_object_get(d, "group")),
           tags);
    printf("health      %s (last seen %s)\n", json_string_value(json_object_get(d, "health")),
           seen);
    printf("profile     %s, runtime %s, RAM %lld, flash %lld, %zu ops\n",
           json_string_value(json_object_get(p, "arch")),
           json_string_value(json_object_get(p, "runtime_version")),
           (long long)json_integer_value(json_object_get(p, "ram_bytes")),
           (long long)json_integer_value(json_object_get(p, "flash_bytes")),
           json_array_size(json_object_get(p, "ops")));
    printf("running     %s (NV counter %lld)\n", run,
           (long long)json_integer_value(json_object_get(d, "nv_counter")));
    const char *enc = json_string_value(json_object_get(d, "enc_key_id"));
    printf("enc key     %s\n", enc != NULL ? enc : "- (not sent yet)");
    json_t *slots = json_object_get(json_object_get(d, "status"), "slots");
    for (size_t i = 0; i < json_array_size(slots); i++) {
        json_t *s = json_array_get(slots, i);
        const char *model = json_string_value(json_object_get(s, "model"));
        printf("slot %-6s %-9s %s %s\n", json_string_value(json_object_get(s, "slot")),
               json_string_value(json_object_get(s, "state")), model != NULL ? model : "",
               model != NULL ? json_string_value(json_object_get(s, "version")) : "");
    }
    json_t *deps = json_object_get(d, "deployments");
    for (size_t i = 0; i < json_array_size(deps); i++) {
        json_t *a = json_array_get(deps, i);
        const char *reason = json_string_value(json_object_get(a, "reason"));
        printf("deployment  %lld: %s%s%s\n",
               (long long)json_integer_value(json_object_get(a, "deployment_id")),
               json_string_value(json_object_get(a, "state")),
               reason != NULL && reason[0] ? " - " : "", reason != NULL ? reason : "");
    }
    json_decref(d);
    return CLI_OK;
}
