/*
 * tinymlops-agent: one device's daemon (docs/agent.md). Parses options,
 * opens the agent library on a state dir, serves the local API and runs
 * agent_step() until SIGTERM/SIGINT. Exit status: 0 stopped by a signal,
 * 1 cannot start, 2 usage, 3 refused for good (enrollment token invalid or
 * expired, not enrolled without a token).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"

static const char *usage =
    "usage: tinymlops-agent --server URL --state-dir DIR [--enroll-token T] [--profile FILE]\n"
    "         [--ca CA.pem] [--signed-requests]\n"
    "         [--root-key ROOT.pub ...] [--checkin-interval S] [--local-socket PATH]\n"
    "         [--slot-size BYTES] [--download-chunk BYTES] [--download-delay-ms MS]\n"
    "         [--health-inferences N] [--health-seconds S] [--max-trial-boots N] [--max-backoff "
    "S]\n"
    "         [--telemetry-window N] [--telemetry-window-s S] [--telemetry-interval S]\n"
    "         [--telemetry-batch N] [--telemetry-max-reports N] [--telemetry-max-bytes B]\n"
    "         [--telemetry off]\n"
    "         [--name NAME] [--test-fault forge-signature|replay|lose-telemetry-ack]\n"
    "         [--test-clock-skew-ms MS]\n"
    "The enrollment token may also come from the environment variable TMO_ENROLL_TOKEN;\n"
    "an https server's certificate is verified against --ca (or $TINYMLOPS_CA, or the system's "
    "CAs).\n";

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static int number(const char *opt, const char *text, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || end == text || v < lo || v > hi) {
        fprintf(stderr, "tinymlops-agent: %s must be an integer in %lld..%lld, not '%s'\n%s", opt,
                lo, hi, text, usage);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse(int argc, char **argv, agent_config *c, const char **roots,
                 const char **socket_path)
{
    size_t nroots = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            fputs(usage, stdout);
            exit(0);
        }
        if (strcmp(o, "--signed-requests") == 0) { /* no session (P-30): sign every request */
            c->signed_requests = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "tinymlops-agent: %s needs a value\n%s", o, usage);
            return -1;
        }
        const char *v = argv[++i];
        long long n = 0;
        int rc = 0;
        if (strcmp(o, "--server") == 0)
            c->server_url = v;
        else if (strcmp(o, "--ca") == 0)
            c->ca_path = v;
        else if (strcmp(o, "--state-dir") == 0)
            c->state_dir = v;
        else if (strcmp(o, "--enroll-token") == 0)
            c->enroll_token = v;
        else if (strcmp(o, "--profile") == 0)
            c->profile_path = v;
        else if (strcmp(o, "--root-key") == 0 && nroots < 8)
            roots[nroots++] = v;
        else if (strcmp(o, "--local-socket") == 0)
            *socket_path = v;
        else if (strcmp(o, "--name") == 0)
            c->name = v;
        else if (strcmp(o, "--checkin-interval") == 0 && (rc = number(o, v, 1, 86400, &n)) == 0)
            c->checkin_interval_s = (int)n;
        else if (strcmp(o, "--slot-size") == 0 && (rc = number(o, v, 4096, 1LL << 31, &n)) == 0)
            c->slot_size = (uint32_t)n;
        else if (strcmp(o, "--download-chunk") == 0 && (rc = number(o, v, 512, 16 << 20, &n)) == 0)
            c->download_chunk = (uint32_t)n;
        else if (strcmp(o, "--download-delay-ms") == 0 && (rc = number(o, v, 0, 60000, &n)) == 0)
            c->download_delay_ms = (int)n;
        else if (strcmp(o, "--health-inferences") == 0 && (rc = number(o, v, 0, 1000000, &n)) == 0)
            c->health_inferences = (int)n;
        else if (strcmp(o, "--health-seconds") == 0 && (rc = number(o, v, 0, 86400, &n)) == 0)
            c->health_seconds = (int)n;
        else if (strcmp(o, "--max-trial-boots") == 0 && (rc = number(o, v, 0, 255, &n)) == 0)
            c->max_trial_boots = (uint8_t)n;
        else if (strcmp(o, "--max-backoff") == 0 && (rc = number(o, v, 1, 86400, &n)) == 0)
            c->max_backoff_s = (int)n;
        else if (strcmp(o, "--test-clock-skew-ms") == 0 &&
                 (rc = number(o, v, -(1LL << 40), 1LL << 40, &n)) == 0)
            c->clock_skew_ms = n;
        else if (strcmp(o, "--test-fault") == 0 && strcmp(v, "forge-signature") == 0)
            c->fault = AGENT_FAULT_FORGE_SIGNATURE;
        else if (strcmp(o, "--test-fault") == 0 && strcmp(v, "replay") == 0)
            c->fault = AGENT_FAULT_REPLAY;
        else if (strcmp(o, "--test-fault") == 0 && strcmp(v, "lose-telemetry-ack") == 0)
            c->fault = AGENT_FAULT_LOSE_TELEMETRY_ACK;
        else if (strcmp(o, "--telemetry") == 0 && strcmp(v, "off") == 0)
            c->telemetry_off = 1;
        else if (strcmp(o, "--telemetry-window") == 0 && (rc = number(o, v, 1, 1000000, &n)) == 0)
            c->telemetry_window = (uint32_t)n;
        else if (strcmp(o, "--telemetry-window-s") == 0 && (rc = number(o, v, 1, 86400, &n)) == 0)
            c->telemetry_window_s = (int)n;
        else if (strcmp(o, "--telemetry-interval") == 0 && (rc = number(o, v, 1, 86400, &n)) == 0)
            c->telemetry_interval_s = (int)n;
        else if (strcmp(o, "--telemetry-batch") == 0 && (rc = number(o, v, 1, 64, &n)) == 0)
            c->telemetry_batch = (int)n;
        else if (strcmp(o, "--telemetry-max-reports") == 0 &&
                 (rc = number(o, v, 1, 1000000, &n)) == 0)
            c->telemetry_max_reports = (uint32_t)n;
        else if (strcmp(o, "--telemetry-max-bytes") == 0 &&
                 (rc = number(o, v, 4096, 1LL << 34, &n)) == 0)
            c->telemetry_max_bytes = (uint64_t)n;
        else if (rc == 0) {
            fprintf(stderr, "tinymlops-agent: unknown option or value: %s %s\n%s", o, v, usage);
            return -1;
        }
        if (rc != 0)
            return -1;
    }
    c->root_keys = roots;
    c->root_key_count = nroots;
    if (c->enroll_token == NULL)
        c->enroll_token = getenv("TMO_ENROLL_TOKEN");
    if (c->server_url == NULL || c->state_dir == NULL) {
        fprintf(stderr, "tinymlops-agent: --server and --state-dir are required\n%s", usage);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    agent_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.health_inferences = -1;
    const char *roots[8] = {NULL}, *socket_path = NULL;
    if (parse(argc, argv, &cfg, roots, &socket_path) != 0)
        return 2;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: a signal cuts the sleep short */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    char err[600];
    agent *a = agent_open(&cfg, err, sizeof err);
    if (a == NULL) {
        fprintf(stderr, "tinymlops-agent: %s\n", err);
        return 1;
    }
    agent_local *local = NULL;
    if (socket_path != NULL &&
        (local = agent_local_start(a, socket_path, err, sizeof err)) == NULL) {
        fprintf(stderr, "tinymlops-agent: local API: %s\n", err);
        agent_close(a);
        return 1;
    }
    int status = 0;
    while (!stopping) {
        int64_t wait = agent_step(a);
        if (wait == AGENT_FATAL) {
            fprintf(stderr, "tinymlops-agent: giving up: %s\n", agent_last_error(a));
            status = 3;
            break;
        }
        if (wait > 1000)
            wait = 1000; /* wake up now and then to notice signals promptly */
        struct timespec ts = {wait / 1000, (long)(wait % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    agent_local_stop(local);
    agent_close(a);
    return status;
}
