/*
 * `tinymlops deploy create`: a rollout of one model version to the devices
 * of a group and/or tags; each device gets the best variant it can run, or
 * is skipped with the reason.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "server_client.h"

static const char *usage = "tinymlops deploy create --model NAME --version X.Y.Z (--group G | "
                           "--tag T ... | --all) [--exclude-tag T ...]\n"
                           "       [--waves 1,10,50,100] [--soak SECONDS] [--max-failures N]\n"
                           "       [--gate halt|rollback [--gate-min-inferences N]\n"
                           "        [--gate-error-increase X|off] [--gate-latency-ratio X|off]\n"
                           "        [--gate-accuracy-drop X|off] [--gate-drift-increase X|off]]\n"
                           "       [--server URL] [--token T] [--json]";

/* A health-gate option (docs/server.md "Health gates") into gate; 0, or -1 when malformed. */
static int gate_option(json_t *gate, int c, const char *arg)
{
    static const struct {
        int c;
        const char *key;
    } keys[] = {{'G', "action"},
                {'I', "min_inferences"},
                {'E', "max_error_increase"},
                {'L', "max_latency_ratio"},
                {'A', "max_accuracy_drop"},
                {'D', "max_drift_increase"}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (keys[i].c != c)
            continue;
        if (c == 'G') {
            if (strcmp(arg, "halt") != 0 && strcmp(arg, "rollback") != 0)
                return -1;
            json_object_set_new(gate, keys[i].key, json_string(arg));
            return 0;
        }
        if (strcmp(arg, "off") == 0 && c != 'I') {
            json_object_set_new(gate, keys[i].key, json_null());
            return 0;
        }
        char *end;
        double v = strtod(arg, &end);
        if (end == arg || *end != '\0' || !(v >= 0))
            return -1;
        json_object_set_new(gate, keys[i].key,
                            c == 'I' ? json_integer((json_int_t)v) : json_real(v));
        return 0;
    }
    return -1;
}

/* "1,10,50,100" -> JSON array; NULL when malformed (the server checks the values). */
static json_t *waves_json(const char *text)
{
    json_t *a = json_array();
    char *end;
    for (const char *p = text; *p != '\0'; p = *end == ',' ? end + 1 : end) {
        long v = strtol(p, &end, 10);
        if (end == p || (*end != ',' && *end != '\0')) {
            json_decref(a);
            return NULL;
        }
        json_array_append_new(a, json_integer(v));
    }
    return a;
}

static void print_summary(json_t *d)
{
    json_t *devices = json_object_get(d, "devices");
    printf("deployment %lld: %s %s, %s\n", (long long)json_integer_value(json_object_get(d, "id")),
           json_string_value(json_object_get(d, "model")),
           json_string_value(json_object_get(d, "version")),
           json_string_value(json_object_get(d, "state")));
    const char *state;
    json_t *n;
    json_object_foreach(devices, state, n)
        printf("  %-16s %lld\n", state, (long long)json_integer_value(n));
}

int cmd_deploy_create(int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, NULL, 'm'},
                                         {"version", required_argument, NULL, 'v'},
                                         {"group", required_argument, NULL, 'g'},
                                         {"tag", required_argument, NULL, 't'},
                                         {"exclude-tag", required_argument, NULL, 'x'},
                                         {"all", no_argument, NULL, 'a'},
                                         {"waves", required_argument, NULL, 'w'},
                                         {"soak", required_argument, NULL, 's'},
                                         {"max-failures", required_argument, NULL, 'f'},
                                         {"gate", required_argument, NULL, 'G'},
                                         {"gate-min-inferences", required_argument, NULL, 'I'},
                                         {"gate-error-increase", required_argument, NULL, 'E'},
                                         {"gate-latency-ratio", required_argument, NULL, 'L'},
                                         {"gate-accuracy-drop", required_argument, NULL, 'A'},
                                         {"gate-drift-increase", required_argument, NULL, 'D'},
                                         {NULL, 0, NULL, 0}};
    api_ctx ctx;
    if (api_take_options(&ctx, &argc, argv, usage) != 0)
        return CLI_USAGE;
    json_t *body = json_object(), *target = json_object(), *tags = json_array(),
           *exclude = json_array(), *gate = json_object();
    json_object_set_new(body, "target", target);
    int c, bad = 0;
    optind = 1;
    while (!bad && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end = NULL;
        long v = 0;
        if (c == 's' || c == 'f') {
            v = strtol(optarg, &end, 10);
            bad = *end != '\0' || v < 0;
        }
        switch (c) {
        case 'm':
            json_object_set_new(body, "model", json_string(optarg));
            break;
        case 'v':
            json_object_set_new(body, "version", json_string(optarg));
            break;
        case 'g':
            json_object_set_new(target, "group", json_string(optarg));
            break;
        case 't':
            json_array_append_new(tags, json_string(optarg));
            break;
        case 'x':
            json_array_append_new(exclude, json_string(optarg));
            break;
        case 'a':
            json_object_set_new(target, "all", json_true());
            break;
        case 's':
            json_object_set_new(body, "soak_s", json_integer(v));
            break;
        case 'f':
            json_object_set_new(body, "max_failures", json_integer(v));
            break;
        case 'w': {
            json_t *w = waves_json(optarg);
            bad = w == NULL;
            if (w != NULL)
                json_object_set_new(body, "waves", w);
            break;
        }
        case 'G':
        case 'I':
        case 'E':
        case 'L':
        case 'A':
        case 'D':
            bad = gate_option(gate, c, optarg) != 0;
            break;
        default:
            bad = 1;
        }
    }
    if (json_object_size(gate) > 0 && json_object_get(gate, "action") == NULL)
        bad = 1; /* the gate's options need --gate */
    if (json_object_size(gate) > 0)
        json_object_set(body, "health_gate", gate);
    json_decref(gate);
    if (json_array_size(tags) > 0)
        json_object_set(target, "tags", tags);
    if (json_array_size(exclude) > 0)
        json_object_set(target, "exclude_tags", exclude);
    json_decref(tags);
    json_decref(exclude);
    if (bad || optind != argc || json_object_get(body, "model") == NULL ||
        json_object_get(body, "version") == NULL || json_object_size(target) == 0) {
        json_decref(body);
        return cli_usage(usage, "needs --model, --version and a target (--group, --tag or --all); "
                                "--gate-* options need --gate halt|rollback");
    }
    json_t *out = NULL;
    int rc = api_once(&ctx, "POST", "/api/v1/deployments", body, &out);
    json_decref(body);
    if (rc != 0)
        return rc;
    if (ctx.json)
        api_print_json(out);
    else
        print_summary(out);
    json_decref(out);
    return CLI_OK;
}
