/*
 * The agent object: opening a device's state (identity, slots, boot
 * recovery, running model), the scheduler that agent_step() runs (enroll,
 * check in on an interval with jitter, back off exponentially while the
 * server is unreachable, advance the update job), and logging.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_priv.h"
#include "devauth.h"
#include "host.h"

#define DEFAULT_SLOT_SIZE (4u << 20)
#define DEFAULT_CHUNK (64u << 10)
#define DEFAULT_INTERVAL_S 60
#define DEFAULT_MAX_BACKOFF_S 300

uint64_t agent_now_ms(const agent *a)
{
    return a->cfg.now_ms != NULL ? a->cfg.now_ms(a->cfg.now_ctx) : host_now_ns() / 1000000u;
}

static void vlog(agent *a, const char *fmt, va_list ap)
{
    char msg[900], line[1000];
    vsnprintf(msg, sizeof msg, fmt, ap);
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(line, sizeof line, "%02d:%02d:%02d agent %s: %s", tm.tm_hour, tm.tm_min, tm.tm_sec,
             a->name, msg);
    if (a->cfg.log != NULL)
        a->cfg.log(a->cfg.log_ctx, line);
    else
        fprintf(stderr, "%s\n", line);
}

void agent_log(agent *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(a, fmt, ap);
    va_end(ap);
}

void agent_error(agent *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->last_error, sizeof a->last_error, fmt, ap);
    va_end(ap);
    for (char *p = a->last_error; *p; p++) /* ASCII only: it goes into JSON (status, reports) */
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7F)
            *p = '?';
    agent_log(a, "%s", a->last_error);
}

const char *agent_device_id(const agent *a)
{
    return a->device_id;
}

const char *agent_last_error(agent *a)
{
    return a->last_error;
}

/* The bundle verifier's clock: this device's clock corrected by the server's offset (P-4). */
static tmo_err clock_now(void *ctx, uint64_t *unix_seconds)
{
    const agent *a = ctx;
    *unix_seconds =
        (hc_now_ms() + (uint64_t)a->cfg.clock_skew_ms + (uint64_t)a->clock_offset_ms) / 1000u;
    return TMO_OK;
}

static void defaults(agent_config *c)
{
    if (c->slot_size == 0)
        c->slot_size = DEFAULT_SLOT_SIZE;
    if (c->download_chunk == 0)
        c->download_chunk = DEFAULT_CHUNK;
    if (c->health_inferences < 0)
        c->health_inferences = 8;
    if (c->max_backoff_s <= 0)
        c->max_backoff_s = DEFAULT_MAX_BACKOFF_S;
}

static int open_engine(agent *a, char *err, size_t err_len)
{
    if (tmo_posix_storage_open(&a->storage, a->state_dir, a->cfg.slot_size) != TMO_OK) {
        snprintf(err, err_len, "%s: cannot open the slot files", a->state_dir);
        return -1;
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/nv-counter", a->state_dir);
    if (tmo_posix_counter_init(&a->counter, path) != TMO_OK) {
        snprintf(err, err_len, "%s: cannot use the NV counter file", path);
        return -1;
    }
    a->clock = (tmo_port_clock){clock_now, a};
    tmo_update_config uc;
    memset(&uc, 0, sizeof uc);
    uc.storage = &a->storage.port;
    uc.env.roots = (const uint8_t(*)[TMO_P256_PUBLIC_KEY_LEN])a->roots;
    uc.env.root_count = (uint32_t)a->root_count;
    uc.env.counter = &a->counter.port;
    uc.env.clock = &a->clock;
    uc.env.caps = &a->caps;
    uc.env.device_key = a->enc_key; /* encrypted bundles (agent_enc.c) */
    uc.max_trial_boots = a->cfg.max_trial_boots;
    tmo_diag d;
    if (tmo_update_open(&a->update, &uc, &d) != TMO_OK) {
        host_format_diag(err, err_len, "update engine", &d);
        return -1;
    }
    return 0;
}

agent *agent_open(const agent_config *cfg, char *err, size_t err_len)
{
    if (cfg == NULL || cfg->server_url == NULL || cfg->state_dir == NULL) {
        snprintf(err, err_len, "a server URL and a state dir are required");
        return NULL;
    }
    if (devauth_init() != 0 || hc_global_init() != 0) {
        snprintf(err, err_len, "cannot initialize crypto or curl");
        return NULL;
    }
    agent *a = calloc(1, sizeof *a);
    if (a == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    a->cfg = *cfg;
    defaults(&a->cfg);
    snprintf(a->state_dir, sizeof a->state_dir, "%s", cfg->state_dir);
    snprintf(a->name, sizeof a->name, "%s", cfg->name != NULL ? cfg->name : "?");
    pthread_mutex_init(&a->run.lock, NULL);
    pthread_mutex_init(&a->status_lock, NULL);
    a->storage.fd[0] = a->storage.fd[1] = a->storage.fd[2] = -1;
    if (identity_load(a, err, err_len) != 0) {
        agent_close(a);
        return NULL;
    }
    if (cfg->name == NULL)
        snprintf(a->name, sizeof a->name, "%.8s", a->device_id);
    if (enc_key_load(a, err, err_len) != 0 || telemetry_open(a, err, err_len) != 0) {
        agent_close(a);
        return NULL;
    }
    state_load(a);
    char boot_err[300];
    if (profile_load(a, err, err_len) != 0 || roots_load(a, err, err_len) != 0 ||
        open_engine(a, err, err_len) != 0 || update_boot(a, err, err_len) != 0) {
        agent_close(a);
        return NULL;
    }
    if (tmo_update_get_state(&a->update)->active != TMO_UPDATE_NO_SLOT &&
        model_load_active(a, boot_err, sizeof boot_err) != 0)
        agent_error(a, "%s", boot_err);
    a->hc = hc_open(cfg->server_url);
    if (a->hc != NULL && cfg->ca_path != NULL)
        hc_set_ca(a->hc, cfg->ca_path);
    if (a->hc == NULL) {
        snprintf(err, err_len, "out of memory");
        agent_close(a);
        return NULL;
    }
    hc_set_timeout(a->hc, 15000);
    a->interval_s = cfg->checkin_interval_s > 0 ? cfg->checkin_interval_s : DEFAULT_INTERVAL_S;
    a->started_ms = agent_now_ms(a);
    a->next_checkin_ms = a->next_enroll_ms = a->started_ms;
    a->rng = (unsigned)(a->pub[1] | a->pub[2] << 8 | a->pub[3] << 16) ^ (unsigned)time(NULL);
    agent_log(a, "device %s, state in %s, server %s", a->device_id, a->state_dir, cfg->server_url);
    status_publish(a);
    return a;
}

void agent_close(agent *a)
{
    if (a == NULL)
        return;
    model_unload(a); /* closes the open telemetry window: its report is on disk */
    telemetry_close(a);
    enc_key_close(a);
    hc_close(a->hc);
    tmo_posix_storage_close(&a->storage);
    if (a->key != 0)
        psa_destroy_key(a->key);
    volatile uint8_t *priv = a->key_priv; /* wiped even though it is freed next */
    for (size_t i = 0; i < sizeof a->key_priv; i++)
        priv[i] = 0;
    json_decref(a->profile);
    json_decref(a->refused);
    json_decref(a->reports);
    json_decref(a->status);
    free(a->replay_body);
    pthread_mutex_destroy(&a->run.lock);
    pthread_mutex_destroy(&a->status_lock);
    free(a);
}

/* Uniform in [lo, hi] milliseconds. */
static uint64_t jitter(agent *a, uint64_t lo, uint64_t hi)
{
    return lo + (hi > lo ? (uint64_t)rand_r(&a->rng) % (hi - lo + 1) : 0);
}

/* Capped exponential backoff with jitter: ~1 s, 2 s, 4 s ... up to max_backoff_s. */
uint64_t agent_retry_delay(agent *a, int failures)
{
    uint64_t cap = (uint64_t)a->cfg.max_backoff_s * 1000, d = 1000;
    for (int i = 1; i < failures && d < cap; i++)
        d *= 2;
    if (d > cap)
        d = cap;
    return jitter(a, d / 2, d);
}

static int64_t until(uint64_t due, uint64_t now)
{
    return due > now ? (int64_t)(due - now) : 0;
}

int64_t agent_step(agent *a)
{
    uint64_t now = agent_now_ms(a);
    if (!a->enrolled) {
        if (now < a->next_enroll_ms)
            return until(a->next_enroll_ms, now);
        int rc = net_enroll(a);
        if (rc == AGENT_FATAL) {
            status_publish(a);
            return AGENT_FATAL;
        }
        if (rc != 0) {
            a->next_enroll_ms = now + agent_retry_delay(a, ++a->checkin_failures);
            status_publish(a);
            return until(a->next_enroll_ms, now);
        }
        a->checkin_failures = 0;
        a->next_checkin_ms = now;
    }
    if (a->job.phase != JOB_IDLE && now >= a->job.next_ms)
        update_step(a);
    now = agent_now_ms(a);
    if (now >= a->next_checkin_ms || (a->flush && a->checkin_failures == 0)) {
        int had = a->flush;
        a->flush = 0; /* reports queued while handling the answer ask for the next one */
        if (net_checkin(a) == 0) {
            a->checkin_failures = 0;
            uint64_t iv = (uint64_t)a->interval_s * 1000;
            a->next_checkin_ms = agent_now_ms(a) + jitter(a, iv * 9 / 10, iv * 11 / 10);
        } else {
            a->flush |= had;
            a->next_checkin_ms = agent_now_ms(a) + agent_retry_delay(a, ++a->checkin_failures);
        }
    }
    int64_t tel_wait = telemetry_step(a);
    status_publish(a);
    now = agent_now_ms(a);
    int64_t wait = until(a->next_checkin_ms, now);
    if (tel_wait < wait)
        wait = tel_wait;
    if (a->flush && a->checkin_failures == 0)
        wait = 0;
    if (a->job.phase != JOB_IDLE && until(a->job.next_ms, now) < wait)
        wait = until(a->job.next_ms, now);
    return wait;
}
