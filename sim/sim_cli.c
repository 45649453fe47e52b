/*
 * `tinymlops sim`: runs a simulated fleet against a fleet server until the
 * duration passes, the scenario ends or Ctrl-C (docs/simulator.md). Event
 * and progress lines go to stderr; --json prints the final fleet status on
 * stdout.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "host.h"
#include "sim.h"

static const char *usage =
    "usage: tinymlops sim --server URL --devices N --root-key ROOT.pub [--root-key ...]\n"
    "         [--enroll-token T | --token ADMIN_TOKEN] [--scenario FILE] [--duration S]\n"
    "         [--speed X] [--mix m0:10,m4:50,m7:30,gw:10] [--groups NAME:PCT,...]\n"
    "         [--tags NAME:PCT,...] [--state-dir DIR] [--infer-hz R] [--checkin-interval S]\n"
    "         [--ramp S] [--threads N] [--step-workers N] [--data FILE] [--ref-dir DIR]\n"
    "         [--seed N]"
    " [--progress S] [--verbose] [--json]\n"
    "The server and admin token may also come from TINYMLOPS_SERVER and TINYMLOPS_TOKEN, the\n"
    "enrollment token from TMO_ENROLL_TOKEN. Times are simulated seconds (--speed X runs X\n"
    "simulated seconds per real second).\n";

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static int real_value(const char *opt, const char *text, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || *text == '\0' || *end != '\0' || !(v >= lo && v <= hi)) {
        cli_usage(usage, "%s expects a number from %g to %g, got '%s'", opt, lo, hi, text);
        return -1;
    }
    *out = v;
    return 0;
}

typedef struct opts {
    sim_config c;
    const char *roots[8], *scenario;
    double duration;
    int json;
} opts;

static int parse(int argc, char **argv, opts *o)
{
    size_t nroots = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            exit(0);
        }
        if (strcmp(a, "--json") == 0 || strcmp(a, "--verbose") == 0) {
            *(a[2] == 'j' ? &o->json : &o->c.verbose) = 1;
            continue;
        }
        if (i + 1 >= argc)
            return cli_usage(usage, "%s needs a value", a);
        const char *v = argv[++i];
        long n = 0;
        double x = 0;
        int bad = 0;
        if (strcmp(a, "--server") == 0)
            o->c.server_url = v;
        else if (strcmp(a, "--token") == 0)
            o->c.admin_token = v;
        else if (strcmp(a, "--enroll-token") == 0)
            o->c.enroll_token = v;
        else if (strcmp(a, "--root-key") == 0 && nroots < 8)
            o->roots[nroots++] = v;
        else if (strcmp(a, "--scenario") == 0)
            o->scenario = v;
        else if (strcmp(a, "--mix") == 0)
            o->c.mix = v;
        else if (strcmp(a, "--groups") == 0)
            o->c.groups = v;
        else if (strcmp(a, "--tags") == 0)
            o->c.tags = v;
        else if (strcmp(a, "--state-dir") == 0)
            o->c.state_dir = v;
        else if (strcmp(a, "--data") == 0)
            o->c.data_path = v;
        else if (strcmp(a, "--ref-dir") == 0)
            o->c.ref_dir = v;
        else if (strcmp(a, "--devices") == 0 && (bad = !cli_parse_count(a, v, 100000, &n)) == 0)
            o->c.devices = (int)n;
        else if (strcmp(a, "--threads") == 0 && (bad = !cli_parse_count(a, v, 8, &n)) == 0)
            o->c.infer_threads = (int)n;
        else if (strcmp(a, "--step-workers") == 0 && (bad = !cli_parse_count(a, v, 16, &n)) == 0)
            o->c.step_workers = (int)n;
        else if (strcmp(a, "--checkin-interval") == 0 &&
                 (bad = !cli_parse_count(a, v, 86400, &n)) == 0)
            o->c.checkin_interval_s = (int)n;
        else if (strcmp(a, "--seed") == 0 && (bad = !cli_parse_count(a, v, 1L << 30, &n)) == 0)
            o->c.seed = (uint64_t)n;
        else if (strcmp(a, "--duration") == 0 && (bad = real_value(a, v, 0, 1e9, &x) != 0) == 0)
            o->duration = x;
        else if (strcmp(a, "--speed") == 0 && (bad = real_value(a, v, 0.001, 1000, &x) != 0) == 0)
            o->c.speed = x;
        else if (strcmp(a, "--infer-hz") == 0 && (bad = real_value(a, v, 0, 1000, &x) != 0) == 0)
            o->c.infer_hz = x;
        else if (strcmp(a, "--ramp") == 0 && (bad = real_value(a, v, 0, 86400, &x) != 0) == 0)
            o->c.ramp_s = x;
        else if (strcmp(a, "--progress") == 0 && (bad = real_value(a, v, 0, 86400, &x) != 0) == 0)
            o->c.progress_s = x;
        else if (!bad)
            return cli_usage(usage, "unknown option %s", a);
        if (bad)
            return CLI_USAGE;
    }
    o->c.root_keys = o->roots;
    o->c.root_key_count = nroots;
    if (o->c.server_url == NULL)
        o->c.server_url = getenv("TINYMLOPS_SERVER");
    if (o->c.enroll_token == NULL && o->c.admin_token == NULL) {
        o->c.enroll_token = getenv("TMO_ENROLL_TOKEN");
        if (o->c.enroll_token == NULL)
            o->c.admin_token = getenv("TINYMLOPS_TOKEN");
    }
    if (o->c.server_url == NULL || o->c.devices == 0 || nroots == 0)
        return cli_usage(usage, "--server, --devices and --root-key are required");
    return CLI_OK;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void summary(sim *s, double real_s)
{
    sim_counters c;
    sim_get_counters(s, &c);
    double sim_s = (double)c.sim_ms / 1000.0;
    fprintf(stderr,
            "tinymlops sim: %.1f simulated s in %.1f real s, %d devices: %d enrolled, %d with a "
            "model, %d failed; check-ins %llu ok, %llu failed; inferences %llu (%.0f/s real, %llu "
            "late, %llu errors); monitor reports %llu; events %llu\n",
            sim_s, real_s, c.devices, c.enrolled, c.with_model, c.failed,
            (unsigned long long)c.checkins_ok, (unsigned long long)c.checkins_failed,
            (unsigned long long)c.inferences, real_s > 0 ? (double)c.inferences / real_s : 0,
            (unsigned long long)c.infer_late, (unsigned long long)c.infer_errors,
            (unsigned long long)c.reports, (unsigned long long)c.events);
}

int cmd_sim(int argc, char **argv)
{
    opts o;
    memset(&o, 0, sizeof o);
    sim_config_defaults(&o.c);
    o.c.progress_s = 10;
    int rc = parse(argc, argv, &o);
    if (rc != CLI_OK)
        return rc;
    char err[600];
    sim_scenario sc = {NULL, 0};
    if (o.scenario != NULL && sim_scenario_load(o.scenario, &sc, err, sizeof err) != 0)
        return cli_fail("%s", err);
    sim *s = sim_open(&o.c, err, sizeof err);
    if (s == NULL) {
        sim_scenario_free(&sc);
        return cli_fail("%s", err);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    uint64_t t0 = host_now_ns();
    rc = sim_schedule(s, &sc, err, sizeof err) == 0 && sim_start(s, err, sizeof err) == 0
             ? CLI_OK
             : cli_fail("%s", err);
    sim_scenario_free(&sc);
    while (rc == CLI_OK && !interrupted && !sim_finished(s) &&
           (o.duration <= 0 || (double)sim_now_ms(s) < o.duration * 1000))
        sleep_ms(100);
    if (interrupted)
        fprintf(stderr, "tinymlops sim: interrupted, stopping\n");
    sim_stop(s);
    if (rc == CLI_OK) {
        summary(s, (double)(host_now_ns() - t0) / 1e9);
        if (o.json) {
            char *status = sim_status_json(s, 0);
            if (status != NULL)
                printf("%s\n", status);
            free(status);
        }
        sim_counters c;
        sim_get_counters(s, &c);
        if (c.failed == c.devices)
            rc = cli_fail("every simulated device failed (see the log above)");
    }
    sim_close(s);
    return rc;
}
