/*
 * libFuzzer target for the agent's handling of what the server sends
 * (agent/agent_net.c, agent_update.c; host/http_client.c's header
 * parsing): enrollment answers, check-in answers and their `desired`,
 * bundle download chunks with ETag / Content-Range, and P-3 refusals. One
 * agent runs in process (state in a temporary directory, removed at exit)
 * with an in-process transport (hc_set_transport) that answers each
 * request from the input, and a fake clock that makes every step due.
 *
 * Input: response blocks separated by a line "-----". Each block is
 * "KIND STATUS\n" (KIND: enroll, checkin, download, other or session; STATUS a
 * number, or "-" for an unreachable server), header lines, an empty line
 * and the body. A request takes the next block of its kind. A first line
 * "fresh" starts the agent not enrolled (it enrolls first), anything else
 * enrolled. Session requests (P-30, P-31) take "session" blocks; with none
 * queued they get 404, as from a server without sessions, and the agent
 * signs every request. The agent is put back to the same state before each input
 * (its files too when an update got past the download).
 *
 * Asserts: agent_step returns a wait or AGENT_FATAL, the job never runs
 * past its bundle, agent_status() stays JSON and the last error ASCII.
 * Seeds: fuzz/corpus/agent_resp (gen_net_corpus); valid-* ones must see a
 * check-in succeed.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_priv.h"
#include "devauth.h"
#include "keys.h"

#include "corpus_replay.h"

#define KINDS 5
#define KIND_SESSION 4
#define MAX_BLOCKS 24
#define MAX_STEPS 10
#define SLOT_SIZE (64u << 10)

typedef struct block {
    const char *head; /* status line's status and the header lines, NUL-terminated */
    const uint8_t *body;
    size_t body_len;
} block;

static const char *const kinds[KINDS] = {"enroll", "checkin", "download", "other", "session"};
static char dir[64];
static char root_pub[128];
static agent *A;
static uint64_t fake_now;
static block queue[KINDS][MAX_BLOCKS];
static size_t queued[KINDS], taken[KINDS];

/*
 * No server checks signatures here, and ECDSA would cost more than the rest of an input: this
 * build links with -Wl,--wrap=devauth_sign, and a request's "signature" is its digest twice.
 */
int __wrap_devauth_sign(psa_key_id_t key, const uint8_t digest[32], uint8_t sig[DEVAUTH_SIG_LEN]);
int __wrap_devauth_sign(psa_key_id_t key, const uint8_t digest[32], uint8_t sig[DEVAUTH_SIG_LEN])
{
    (void)key;
    memcpy(sig, digest, 32);
    memcpy(sig + 32, digest, 32);
    return 0;
}

static uint64_t now_ms(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static void quiet(void *ctx, const char *line)
{
    (void)ctx;
    if (getenv("NA_TRACE") != NULL) /* the agent's log, for writing seeds */
        fprintf(stderr, "%s\n", line);
}

static int kind_of(const char *path)
{
    if (strcmp(path, "/api/v1/device/enroll") == 0)
        return 0;
    if (strcmp(path, "/api/v1/device/checkin") == 0)
        return 1;
    if (strncmp(path, "/api/v1/device/session", 22) == 0)
        return KIND_SESSION;
    if (strncmp(path, "/api/v1/device/bundles/", 23) == 0 || path[0] == '/')
        return strstr(path, "telemetry") != NULL ? 3 : 2;
    return 3;
}

static int transport(void *ctx, const char *method, const char *path, const void *body, size_t len,
                     hc_response *out)
{
    (void)ctx;
    (void)method;
    (void)body;
    (void)len;
    int k = kind_of(path);
    if (k == KIND_SESSION && taken[k] >= queued[k]) {
        out->status = 404;
        static const char none[] = "{\"error\":{\"code\":\"not_found\",\"message\":\"no route\"}}";
        return hc_response_append(out, none, sizeof none - 1);
    }
    if (taken[k] >= queued[k])
        return -1;
    const block *b = &queue[k][taken[k]++];
    if (b->head[0] == '-')
        return -1;
    out->status = strtol(b->head, NULL, 10);
    const char *line = strchr(b->head, '\n');
    while (line != NULL && line[1] != '\0') {
        line++;
        size_t n = strcspn(line, "\n");
        char buf[600];
        if (n < sizeof buf - 2) {
            memcpy(buf, line, n);
            memcpy(buf + n, "\r\n", 2);
            hc_response_header_line(out, buf, n + 2);
        }
        line += n;
        if (*line == '\0')
            break;
    }
    return hc_response_append(out, b->body, b->body_len);
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    agent_close(A);
    A = NULL;
    if (dir[0] != '\0')
        nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Removes what an update leaves behind (slots, journal, counter, agent state), keeps the keys. */
static void wipe_state(void)
{
    const char *names[] = {"slot-a.bin", "slot-b.bin", "journal.bin",
                           "nv-counter", "agent.json", "reports.json"};
    char path[200];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
}

static agent *open_agent(void)
{
    static const char *roots[1] = {root_pub};
    agent_config c;
    memset(&c, 0, sizeof c);
    c.server_url = "http://fuzz.invalid";
    c.state_dir = dir;
    c.enroll_token = "tmoe_fuzz_enroll";
    c.root_keys = roots;
    c.root_key_count = 1;
    c.max_backoff_s = 1;
    c.slot_size = SLOT_SIZE;
    c.download_chunk = 1024;
    c.health_inferences = 1;
    c.telemetry_off = 1;
    c.now_ms = now_ms;
    c.log = quiet;
    c.name = "fuzz";
    char err[300];
    agent *a = agent_open(&c, err, sizeof err);
    if (a == NULL) {
        fprintf(stderr, "fuzz_agent_resp: %s\n", err);
        abort();
    }
    hc_set_transport(a->hc, transport, NULL);
    return a;
}

/* The fixed key `which` of the network fuzzers (as net_server.c ns_key). */
static void fixed_key(int index, host_key *k)
{
    memset(k, 0, sizeof *k);
    for (int i = 0; i < 32; i++)
        k->priv[i] = (uint8_t)(0x11 * (index + 1) + i);
    k->priv[0] = 0x5a;
    psa_key_id_t id;
    if (devauth_init() != 0 || devauth_import_private(k->priv, &id, k->pub) != 0)
        abort();
    psa_destroy_key(id);
    k->has_private = 1;
}

static void setup(void)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/tmo-fuzz-agent-XXXXXX", base);
    char err[300], name[128];
    host_key dev, root;
    if (mkdtemp(dir) == NULL)
        abort();
    atexit(cleanup);
    fixed_key(0, &dev); /* device 'a': the id the seeds expect */
    fixed_key(2, &root);
    snprintf(name, sizeof name, "%s/device", dir);
    if (host_key_write(&dev, name, err, sizeof err) != 0)
        abort();
    root.has_private = 0;
    snprintf(name, sizeof name, "%s/root", dir);
    if (host_key_write(&root, name, err, sizeof err) != 0)
        abort();
    snprintf(root_pub, sizeof root_pub, "%s/root.pub", dir);
    A = open_agent();
}

/* Splits the input into per-kind queues (blocks point into text). Returns whether it says fresh. */
static int parse(char *text, size_t size)
{
    memset(queued, 0, sizeof queued);
    memset(taken, 0, sizeof taken);
    char *p = text, *end = text + size;
    int fresh = strncmp(p, "fresh\n", 6) == 0;
    if (fresh)
        p += 6;
    while (p < end) {
        char *sep = NULL;
        for (char *s = p; s + 7 <= end; s++)
            if (s[0] == '\n' && memcmp(s, "\n-----\n", 7) == 0) {
                sep = s;
                break;
            }
        char *stop = sep != NULL ? sep : end;
        *stop = '\0';
        /* head: up to the first empty line */
        char *blank = strstr(p, "\n\n");
        char *body = blank != NULL && blank < stop ? blank + 2 : stop;
        if (blank != NULL && blank < stop)
            blank[1] = '\0';
        int k = -1;
        for (int i = 0; i < KINDS; i++) {
            size_t n = strlen(kinds[i]);
            if (strncmp(p, kinds[i], n) == 0 && p[n] == ' ')
                k = i;
        }
        if (k >= 0 && queued[k] < MAX_BLOCKS)
            queue[k][queued[k]++] =
                (block){p + strlen(kinds[k]) + 1, (const uint8_t *)body, (size_t)(stop - body)};
        if (sep == NULL)
            break;
        p = sep + 7;
    }
    return fresh;
}

/* Back to the state every input starts from. */
static void reset(int fresh)
{
    const tmo_update_state *st = tmo_update_get_state(&A->update);
    if (A->job.phase >= JOB_VERIFY || st->active != TMO_UPDATE_NO_SLOT) {
        agent_close(A);
        wipe_state();
        A = open_agent();
    } else if (A->job.phase != JOB_IDLE) {
        tmo_update_cancel(&A->update, NULL);
    }
    memset(&A->job, 0, sizeof A->job);
    json_array_clear(A->refused);
    json_array_clear(A->reports);
    A->report_seq = 0;
    A->enrolled = !fresh;
    A->clock_offset_ms = 0;
    A->interval_s = 60;
    A->next_checkin_ms = A->next_enroll_ms = 0;
    A->checkin_failures = 0;
    A->flush = 0;
    A->profile_sent = 0;
    A->checkins_ok = A->checkins_failed = 0;
    A->last_refusal[0] = A->last_error[0] = '\0';
    A->rng = 1;
}

static void check(int64_t wait)
{
    if (wait < 0 && wait != AGENT_FATAL)
        abort();
    const agent_job *j = &A->job;
    if (j->phase != JOB_IDLE && (j->offset > j->size || j->size > SLOT_SIZE))
        abort();
}

/* After the input: what the agent shows others is still well formed. */
static void check_status(void)
{
    for (const char *p = A->last_error; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            abort();
    char *status = agent_status(A);
    json_t *v = status != NULL ? json_loads(status, 0, NULL) : NULL;
    if (!json_is_object(v))
        abort();
    json_decref(v);
    free(status);
}

static int pending(void)
{
    for (int k = 0; k < KINDS; k++)
        if (taken[k] < queued[k])
            return 1;
    return 0;
}

/* Runs the input; returns the number of successful check-ins. */
static uint64_t run(const uint8_t *data, size_t size)
{
    if (A == NULL)
        setup();
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    reset(parse(text, size));
    fake_now = 1000000000;
    for (int step = 0; step < MAX_STEPS; step++) {
        int had = pending();
        int64_t wait = agent_step(A);
        check(wait);
        if (wait == AGENT_FATAL || (!had && A->job.phase == JOB_IDLE))
            break;
        fake_now += 600000; /* everything is due again: check-in, backoff, health window */
    }
    check_status();
    free(text);
    return A->checkins_ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size);
    return 0;
}

int fuzz_seed_valid(const uint8_t *data, size_t size)
{
    return run(data, size) > 0;
}
