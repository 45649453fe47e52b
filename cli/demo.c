/*
 * `tinymlops demo [--dir DIR] [--port N] [--devices N] [--exit]`: the
 * README's main command. Builds everything the demo needs, starts the server
 * and a simulated fleet, tells the story of demo_story.c, then keeps the
 * fleet running for the dashboard until Ctrl-C (or exits with --exit, for
 * tests), stopping everything cleanly either way.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "demo.h"
#include "devauth.h"

static const char *usage =
    "tinymlops demo [--dir DIR] [--port N (8080; 0 = any free port)] [--devices N] [--exit]";

#define DIGITS_CSV "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

int demo_interrupted(void)
{
    return interrupted != 0;
}

int demo_sleep_ms(int ms)
{
    for (; ms > 0 && !interrupted; ms -= 50) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return interrupted != 0;
}

void demo_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

void demo_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int parse(int argc, char **argv, demo *d)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"port", required_argument, NULL, 'p'},
                                         {"devices", required_argument, NULL, 'n'},
                                         {"exit", no_argument, NULL, 'x'},
                                         {NULL, 0, NULL, 0}};
    long v;
    int c;
    d->port = 8080;
    d->devices = 50;
    d->keep_running = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd' && strlen(optarg) < sizeof d->dir)
            snprintf(d->dir, sizeof d->dir, "%s", optarg);
        else if (c == 'p' &&
                 (strcmp(optarg, "0") == 0 || cli_parse_count("--port", optarg, 65535, &v)))
            d->port = strcmp(optarg, "0") == 0 ? 0 : (int)v;
        else if (c == 'n' && cli_parse_count("--devices", optarg, 1000, &v))
            d->devices = (int)v;
        else if (c == 'x')
            d->keep_running = 0;
        else
            return cli_usage(usage, "bad option");
    }
    if (optind != argc)
        return cli_usage(usage, "unexpected argument '%s'", argv[optind]);
    if (d->devices < 10)
        return cli_usage(usage, "--devices must be at least 10 (the waves need a few devices)");
    return CLI_OK;
}

static int prepare_dir(demo *d)
{
    if (d->dir[0] == '\0') {
        snprintf(d->dir, sizeof d->dir, "/tmp/tinymlops-demo-XXXXXX");
        if (mkdtemp(d->dir) == NULL)
            return cli_fail("cannot create a demo directory: %s", strerror(errno));
    } else if (mkdir(d->dir, 0700) != 0 && errno != EEXIST) {
        return cli_fail("%s: %s", d->dir, strerror(errno));
    }
    const char *ref = getenv("TINYMLOPS_REF");
    snprintf(d->ref_dir, sizeof d->ref_dir, "%s", ref && *ref ? ref : TMO_REF_DIR);
    snprintf(d->digits, sizeof d->digits, "%s", DIGITS_CSV);
    if (access(d->digits, R_OK) != 0)
        return cli_fail("%s is missing: the demo trains on scikit-learn's digits; install Debian's "
                        "python3-sklearn (scripts/deps.sh does)",
                        d->digits);
    return CLI_OK;
}

static int start_fleet(demo *d)
{
    sim_config c;
    char err[512];
    const char *roots[1] = {d->root_pub};
    sim_config_defaults(&c);
    c.server_url = d->url;
    c.admin_token = d->token;
    c.root_keys = roots;
    c.root_key_count = 1;
    c.devices = d->devices;
    c.groups = "field:80,lab:20";
    c.tags = "canary:10";
    c.checkin_interval_s = 2;
    c.infer_hz = 4;
    c.monitor_window = 20;
    c.data_path = d->digits;
    c.ref_dir = d->ref_dir;
    c.progress_s = 0;
    c.log = NULL;
    d->fleet = sim_open(&c, err, sizeof err);
    if (d->fleet == NULL || sim_start(d->fleet, err, sizeof err) != 0) {
        demo_say("the simulated fleet did not start: %s", err);
        return -1;
    }
    return 0;
}

static void stop_all(demo *d)
{
    if (d->fleet != NULL) {
        demo_note("stopping the simulated fleet...");
        sim_stop(d->fleet);
        sim_close(d->fleet);
        d->fleet = NULL;
    }
    demo_stop_server(d);
}

int cmd_demo(int argc, char **argv)
{
    demo d;
    memset(&d, 0, sizeof d);
    int rc = parse(argc, argv, &d);
    if (rc != CLI_OK || (rc = prepare_dir(&d)) != CLI_OK)
        return rc;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (devauth_init() != 0 || hc_global_init() != 0)
        return cli_fail("crypto or HTTP initialisation failed");
    demo_say("tinymlops demo: a fleet of %d simulated devices, end to end, in %s", d.devices,
             d.dir);
    rc = demo_make_artifacts(&d) == 0 && demo_start_server(&d) == 0 && start_fleet(&d) == 0 &&
                 demo_run_story(&d) == 0
             ? CLI_OK
             : CLI_FAIL;
    if (rc == CLI_OK && d.keep_running && !interrupted) {
        demo_say("\nThe fleet keeps running. Dashboard: %s/  (sign in with the admin token %s)",
                 d.url, d.token);
        demo_say("Press Ctrl-C to stop the fleet and the server.");
        while (!demo_sleep_ms(1000))
            ;
    }
    if (interrupted)
        demo_say("\ninterrupted: stopping.");
    stop_all(&d);
    return rc;
}
