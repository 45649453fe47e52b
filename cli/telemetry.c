/*
 * `tinymlops telemetry show`: the fleet's monitoring telemetry as time
 * series (GET /api/v1/telemetry) - per model version by default, or per
 * device, deployment wave or group - with counts, error rate, latency
 * p50/p95, estimated accuracy, drift and events per bucket.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_time.h"
#include "cli.h"
#include "server_client.h"

static const char *usage =
    "tinymlops telemetry show (--device ID | --group G | --deployment D | --all)\n"
    "       [--model M] [--version V] [--since T] [--until T] [--step S]\n"
    "       [--by version|device|wave|group|none] [--server URL] [--token T] [--json]\n"
    "  T: a duration before now (90s, 15m, 6h, 7d), YYYY-MM-DD[THH:MM:SSZ] or Unix ms";

static const cli_command commands[] = {
    {"show", cmd_telemetry_show, "time series of counts, errors, latency, accuracy and drift"},
    {NULL, NULL, NULL},
};

int cmd_telemetry(int argc, char **argv)
{
    return cli_dispatch("telemetry", commands, argc, argv);
}

/* A time argument as the server takes it: durations and Unix ms as given, dates converted. */
static int time_value(const char *text, char *out, size_t len)
{
    uint64_t s;
    if (strchr(text, '-') != NULL || text[0] == '@') {
        if (host_parse_time(text, &s) != 0)
            return -1;
        snprintf(out, len, "%llu", (unsigned long long)s * 1000u);
        return 0;
    }
    size_t n = strspn(text, "0123456789");
    if (n == 0 || (text[n] != '\0' && (strchr("smhd", text[n]) == NULL || text[n + 1] != '\0')))
        return -1;
    snprintf(out, len, "%s", text);
    return 0;
}

static void fmt_num(json_t *v, const char *fmt, double scale, char *buf, size_t len)
{
    if (json_is_number(v))
        snprintf(buf, len, fmt, json_number_value(v) * scale);
    else
        snprintf(buf, len, "-");
}

static void fmt_us(json_t *v, char *buf, size_t len)
{
    if (!json_is_number(v)) {
        snprintf(buf, len, "-");
        return;
    }
    double us = json_number_value(v);
    if (us < 1000)
        snprintf(buf, len, "%.0fus", us);
    else if (us < 1e6)
        snprintf(buf, len, "%.1fms", us / 1000);
    else
        snprintf(buf, len, "%.2fs", us / 1e6);
}

static void row(const char *label, json_t *p)
{
    char err[16], p50[16], p95[16], acc[16], drift[16], events[200] = "";
    fmt_num(json_object_get(p, "error_rate"), "%.2f%%", 100, err, sizeof err);
    fmt_us(json_object_get(p, "latency_p50_us"), p50, sizeof p50);
    fmt_us(json_object_get(p, "latency_p95_us"), p95, sizeof p95);
    fmt_num(json_object_get(p, "acc_est"), "%.3f", 1, acc, sizeof acc);
    fmt_num(json_object_get(json_object_get(p, "drift"), "score"), "%.3f", 1, drift, sizeof drift);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(p, "events"), i, e)
    {
        size_t used = strlen(events);
        snprintf(events + used, sizeof events - used, "%s%s", i ? "," : "", json_string_value(e));
    }
    printf("%-20s %7lld %10lld %7s %8s %8s %6s %6s  %s\n", label,
           (long long)json_integer_value(json_object_get(p, "devices")),
           (long long)json_integer_value(json_object_get(p, "inferences")), err, p50, p95, acc,
           drift, events[0] ? events : "-");
}

static void key_text(json_t *key, char *buf, size_t len)
{
    buf[0] = '\0';
    const char *k;
    json_t *v;
    json_object_foreach(key, k, v)
    {
        size_t used = strlen(buf);
        if (json_is_integer(v))
            snprintf(buf + used, len - used, "%s%s %lld", used ? ", " : "", k,
                     (long long)json_integer_value(v));
        else
            snprintf(buf + used, len - used, "%s%s %s", used ? ", " : "", k, json_string_value(v));
    }
    if (buf[0] == '\0')
        snprintf(buf, len, "all devices");
}

static void print_text(json_t *out)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(out, "series"), i, s)
    {
        char key[300];
        key_text(json_object_get(s, "key"), key, sizeof key);
        json_t *ref = json_object_get(s, "acc_ref");
        if (json_is_number(ref))
            printf("%s (profile accuracy estimate %.3f)\n", key, json_number_value(ref));
        else
            printf("%s\n", key);
        printf("%-20s %7s %10s %7s %8s %8s %6s %6s  %s\n", "TIME (UTC)", "DEVICES", "INFERENCES",
               "ERRORS", "P50", "P95", "ACC", "DRIFT", "EVENTS");
        size_t k;
        json_t *p;
        json_array_foreach(json_object_get(s, "points"), k, p)
        {
            char t[32];
            host_format_time((uint64_t)json_integer_value(json_object_get(p, "t")) / 1000, t,
                             sizeof t);
            row(t, p);
        }
        row("total", json_object_get(s, "totals"));
        printf("\n");
    }
    if (json_array_size(json_object_get(out, "series")) == 0)
        printf("no telemetry in this range\n");
}

int cmd_telemetry_show(int argc, char **argv)
{
    static const struct option opts[] = {{"device", required_argument, NULL, 'd'},
                                         {"group", required_argument, NULL, 'g'},
                                         {"deployment", required_argument, NULL, 'D'},
                                         {"model", required_argument, NULL, 'm'},
                                         {"version", required_argument, NULL, 'v'},
                                         {"since", required_argument, NULL, 's'},
                                         {"until", required_argument, NULL, 'u'},
                                         {"step", required_argument, NULL, 'S'},
                                         {"by", required_argument, NULL, 'b'},
                                         {"all", no_argument, NULL, 'a'},
                                         {NULL, 0, NULL, 0}};
    api_ctx ctx;
    if (api_take_options(&ctx, &argc, argv, usage) != 0)
        return CLI_USAGE;
    char path[1024] = "/api/v1/telemetry", value[64];
    int c, selected = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        const char *name = NULL, *arg = optarg;
        switch (c) {
        case 'd':
            name = "device";
            selected = 1;
            break;
        case 'g':
            name = "group";
            selected = 1;
            break;
        case 'D':
            name = "deployment";
            selected = 1;
            break;
        case 'a':
            selected = 1;
            continue;
        case 'm':
            name = "model";
            break;
        case 'v':
            name = "version";
            break;
        case 'b':
            name = "group_by";
            break;
        case 's':
        case 'u':
        case 'S':
            if (time_value(optarg, value, sizeof value) != 0)
                return cli_usage(usage, "bad time '%s'", optarg);
            name = c == 's' ? "since" : c == 'u' ? "until" : "step";
            arg = value;
            break;
        default:
            return cli_usage(usage, "unknown option");
        }
        api_query_add(path, sizeof path, name, arg);
    }
    if (optind != argc)
        return cli_usage(usage, "unexpected argument '%s'", argv[optind]);
    if (!selected)
        return cli_usage(usage, "choose the devices: --device, --group, --deployment or --all");
    json_t *out = NULL;
    int rc = api_once(&ctx, "GET", path, NULL, &out);
    if (rc != 0)
        return rc;
    if (ctx.json)
        api_print_json(out);
    else
        print_text(out);
    json_decref(out);
    return CLI_OK;
}
