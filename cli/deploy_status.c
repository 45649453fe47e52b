/*
 * `tinymlops deploy status [ID] [--devices [--state S]]`: every deployment
 * with its progress, or one deployment's waves, and optionally each
 * device's state and reason (why a device was skipped or failed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "server_client.h"

static const char *usage =
    "tinymlops deploy status [ID [--devices] [--state S]] [--server URL] [--token T] [--json]";

static void counts(json_t *states, char *out, size_t len)
{
    const char *state;
    json_t *n;
    out[0] = '\0';
    json_object_foreach(states, state, n)
    {
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s %lld", used ? ", " : "", state,
                 (long long)json_integer_value(n));
    }
}

static void print_list(json_t *out)
{
    json_t *deps = json_object_get(out, "deployments");
    printf("%-5s  %-8s  %-24s  %-9s  %-11s  %s\n", "ID", "KIND", "MODEL", "VERSION", "STATE",
           "DEVICES");
    for (size_t i = 0; i < json_array_size(deps); i++) {
        json_t *d = json_array_get(deps, i);
        char c[300];
        counts(json_object_get(d, "devices"), c, sizeof c);
        printf("%-5lld  %-8s  %-24s  %-9s  %-11s  %s\n",
               (long long)json_integer_value(json_object_get(d, "id")),
               json_string_value(json_object_get(d, "kind")),
               json_string_value(json_object_get(d, "model")),
               json_string_value(json_object_get(d, "version")),
               json_string_value(json_object_get(d, "state")), c);
    }
}

static void print_one(json_t *d)
{
    char c[300];
    const char *reason = json_string_value(json_object_get(d, "reason"));
    printf("deployment %lld (%s): %s %s\n", (long long)json_integer_value(json_object_get(d, "id")),
           json_string_value(json_object_get(d, "kind")),
           json_string_value(json_object_get(d, "model")),
           json_string_value(json_object_get(d, "version")));
    printf("state      %s%s%s\n", json_string_value(json_object_get(d, "state")),
           reason && reason[0] ? ": " : "", reason ? reason : "");
    counts(json_object_get(d, "devices"), c, sizeof c);
    printf("devices    %s\n", c);
    json_t *gate = json_object_get(d, "health_gate");
    if (json_is_object(gate)) {
        json_t *last = json_object_get(gate, "last");
        const char *verdict = json_string_value(json_object_get(last, "verdict"));
        const char *why = json_string_value(json_object_get(last, "reason"));
        printf("gate       %s on failure; %s%s%s\n",
               json_string_value(json_object_get(json_object_get(gate, "policy"), "action")),
               verdict != NULL ? verdict : "not evaluated yet", why != NULL && why[0] ? ": " : "",
               why != NULL ? why : "");
    }
    json_t *waves = json_object_get(d, "waves");
    for (size_t i = 0; i < json_array_size(waves); i++) {
        json_t *w = json_array_get(waves, i);
        counts(json_object_get(w, "states"), c, sizeof c);
        printf("wave %zu     %3lld%%  %-7s  %lld device(s)  %s\n", i,
               (long long)json_integer_value(json_object_get(w, "percent")),
               json_string_value(json_object_get(w, "phase")),
               (long long)json_integer_value(json_object_get(w, "devices")), c);
    }
}

static void print_devices(json_t *out)
{
    json_t *devs = json_object_get(out, "devices");
    printf("%-32s  %-4s  %-15s  %-6s  %s\n", "DEVICE", "WAVE", "STATE", "BUNDLE", "REASON");
    for (size_t i = 0; i < json_array_size(devs); i++) {
        json_t *a = json_array_get(devs, i);
        long long wave = (long long)json_integer_value(json_object_get(a, "wave"));
        char w[16];
        snprintf(w, sizeof w, wave < 0 ? "-" : "%lld", wave);
        printf("%-32s  %-4s  %-15s  %-6lld  %s\n",
               json_string_value(json_object_get(a, "device_id")), w,
               json_string_value(json_object_get(a, "state")),
               (long long)json_integer_value(json_object_get(a, "bundle_id")),
               json_string_value(json_object_get(a, "reason")));
    }
}

int cmd_deploy_status(int argc, char **argv)
{
    api_ctx ctx;
    if (api_take_options(&ctx, &argc, argv, usage) != 0)
        return CLI_USAGE;
    long id = 0;
    int devices = 0;
    const char *state = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--devices") == 0)
            devices = 1;
        else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
            state = argv[++i];
        else if (id == 0 && cli_parse_count("ID", argv[i], 1L << 50, &id))
            continue;
        else
            return cli_usage(usage, "unexpected argument '%s'", argv[i]);
    }
    if ((devices || state != NULL) && id == 0)
        return cli_usage(usage, "--devices needs a deployment id");
    char path[256];
    if (id == 0)
        snprintf(path, sizeof path, "/api/v1/deployments");
    else
        snprintf(path, sizeof path, "/api/v1/deployments/%ld%s", id,
                 devices || state ? "/devices" : "");
    if (state != NULL)
        api_query_add(path, sizeof path, "state", state);
    json_t *out = NULL;
    int rc = api_once(&ctx, "GET", path, NULL, &out);
    if (rc != 0)
        return rc;
    if (ctx.json)
        api_print_json(out);
    else if (id == 0)
        print_list(out);
    else if (devices || state != NULL)
        print_devices(out);
    else
        print_one(out);
    json_decref(out);
    return CLI_OK;
}
