/*
 * `tinymlops alerts list|ack|resolve`: the alerts the server raised on
 * telemetry (drift, estimated accuracy, latency, errors) and on silent
 * devices, and their state machine (open -> acknowledged -> resolved).
 */
#include <stdio.h>
#include <string.h>

#include "bundle_time.h"
#include "cli.h"
#include "server_client.h"

static const cli_command commands[] = {
    {"list", cmd_alerts_list, "alerts, newest first (--state, --device, --group, --kind)"},
    {"ack", cmd_alerts_ack, "acknowledge alerts: someone is on it"},
    {"resolve", cmd_alerts_resolve, "resolve alerts by hand (they also resolve when clear)"},
    {NULL, NULL, NULL},
};

int cmd_alerts(int argc, char **argv)
{
    return cli_dispatch("alerts", commands, argc, argv);
}

static void print_alert(json_t *a)
{
    char when[32];
    host_format_time((uint64_t)json_integer_value(json_object_get(a, "opened_at")) / 1000, when,
                     sizeof when);
    const char *model = json_string_value(json_object_get(a, "model"));
    printf("%-6lld %-13s %-9s %-32s %-20s %s  %s\n",
           (long long)json_integer_value(json_object_get(a, "id")),
           json_string_value(json_object_get(a, "state")),
           json_string_value(json_object_get(a, "kind")),
           json_string_value(json_object_get(a, "device_id")), when,
           model != NULL && model[0] ? model : "-",
           json_string_value(json_object_get(a, "message")));
}

static const char *list_usage =
    "tinymlops alerts list [--state open|acknowledged|resolved|active] [--device ID] [--group G]\n"
    "       [--kind drift|accuracy|latency|errors|silent] [--limit N] [--offset N]\n"
    "       [--server URL] [--token T] [--json]";

int cmd_alerts_list(int argc, char **argv)
{
    static const char *const params[] = {"state", "device", "group", "kind",
                                         "limit", "offset", NULL};
    api_ctx ctx;
    json_t *out = NULL;
    int rc = api_get_listing(&ctx, argc, argv, list_usage, "/api/v1/alerts", params, &out);
    if (rc != 0)
        return rc;
    if (ctx.json) {
        api_print_json(out);
    } else {
        printf("%-6s %-13s %-9s %-32s %-20s %s  %s\n", "ID", "STATE", "KIND", "DEVICE",
               "OPENED (UTC)", "MODEL", "MESSAGE");
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(out, "alerts"), i, a) print_alert(a);
        printf("%lld alert(s)\n", (long long)json_integer_value(json_object_get(out, "total")));
    }
    json_decref(out);
    return CLI_OK;
}

/* ack/resolve ID...: each id in turn; stops at the first failure. */
static int transition(int argc, char **argv, const char *verb)
{
    char usage[160];
    snprintf(usage, sizeof usage, "tinymlops alerts %s ID... [--server URL] [--token T] [--json]",
             verb);
    api_ctx ctx;
    if (api_take_options(&ctx, &argc, argv, usage) != 0)
        return CLI_USAGE;
    if (argc < 2)
        return cli_usage(usage, "expected at least one alert id");
    long ids[64];
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (n == 64 || !cli_parse_count("ID", argv[i], 1L << 50, &ids[n]))
            return cli_usage(usage, "alert ids are positive integers (at most 64)");
        n++;
    }
    int rc = api_open(&ctx);
    json_t *all = json_array();
    for (int i = 0; rc == 0 && i < n; i++) {
        char path[96];
        json_t *out = NULL;
        snprintf(path, sizeof path, "/api/v1/alerts/%ld/%s", ids[i], verb);
        rc = api_call(&ctx, "POST", path, NULL, NULL, 0, &out);
        if (rc == 0 && !ctx.json)
            printf("alert %ld: %s\n", ids[i], json_string_value(json_object_get(out, "state")));
        if (rc == 0)
            json_array_append_new(all, out);
    }
    api_close(&ctx);
    if (rc == 0 && ctx.json)
        api_print_json(n == 1 ? json_array_get(all, 0) : all);
    json_decref(all);
    return rc;
}

int cmd_alerts_ack(int argc, char **argv)
{
    return transition(argc, argv, "ack");
}

int cmd_alerts_resolve(int argc, char **argv)
{
    return transition(argc, argv, "resolve");
}
