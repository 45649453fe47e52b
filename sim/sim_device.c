/*
 * One simulated device's steps, run by a step worker with the fleet's PSA
 * lock held: power on (the real agent opens its state dir: key, slots, boot
 * recovery), agent_step on its schedule, the network as the device sees it
 * (outages and corrupted bundle bytes through the agent's net hook, which
 * also lets the PSA lock go while the agent waits for the server), power
 * loss when an armed kill's update phase comes, and the status snapshot
 * other threads read.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "sim_priv.h"

#define BUNDLE_PATH "/api/v1/device/bundles/"

static uint64_t agent_clock(void *ctx)
{
    return sim_clock_ms(ctx);
}

/* Agent log lines: all of them when verbose, else those of devices an event is watching. */
static void agent_line(void *ctx, const char *line)
{
    sim_device *d = ctx;
    struct sim *s = d->sim;
    if (s->cfg.verbose ||
        (sim_clock_ms(s) < atomic_load(&d->watch_until_ms) &&
         strstr(line, "(simulated)") == NULL)) { /* each outage retry: the summary says it */
        const char *msg = strstr(line, ": "); /* drop the agent's own time and name prefix */
        sim_log(s, "%s: %s", d->name, msg != NULL ? msg + 2 : line);
    }
}

/* Corrupts a bundle download's bytes when an event asked for it. */
static void corrupt(sim_device *d, const char *path, uint8_t *body, size_t len, uint64_t now)
{
    pthread_mutex_lock(&d->lock);
    uint32_t n = d->corrupt_left > 0 ? d->corrupt_bytes : 0;
    d->corrupt_left -= d->corrupt_left > 0;
    size_t first = len;
    for (uint32_t i = 0; i < n; i++) {
        size_t at = (size_t)(sim_rand(&d->rng) % len);
        body[at] ^= (uint8_t)(1u + sim_rand(&d->rng) % 255u); /* never a no-op */
        first = at < first ? at : first;
    }
    pthread_mutex_unlock(&d->lock);
    if (n == 0)
        return;
    sim_log(d->sim, "%s: corrupted %u byte(s) of a bundle download in transit (%s, %zu bytes, "
                    "first at %zu)",
            d->name, n, path, len, first);
    atomic_store(&d->watch_until_ms, now + SIM_WATCH_MS);
}

static int net_hook(void *ctx, int phase, const char *method, const char *path, uint8_t *body,
                    size_t len)
{
    sim_device *d = ctx;
    struct sim *s = d->sim;
    uint64_t now = sim_clock_ms(s);
    int fail = 0;
    if (phase == AGENT_NET_BEFORE) {
        pthread_mutex_lock(&d->lock);
        if (now < d->outage_until_ms) {
            d->failed_during_outage++;
            fail = 1;
        }
        pthread_mutex_unlock(&d->lock);
        if (!fail)
            sim_psa(s, 0); /* other agents may sign while this one waits */
        return fail;
    }
    sim_psa(s, 1);
    if (phase == AGENT_NET_AFTER && body != NULL && len > 0 && strcmp(method, "GET") == 0 &&
        strncmp(path, BUNDLE_PATH, strlen(BUNDLE_PATH)) == 0)
        corrupt(d, path, body, len, now);
    return 0;
}

int sim_device_power_on(sim_device *d, uint64_t now_ms)
{
    struct sim *s = d->sim;
    char dir[1100], err[600];
    snprintf(dir, sizeof dir, "%s/%s", s->state_dir, d->name);
    agent_config c;
    memset(&c, 0, sizeof c);
    const sim_class *k = sim_class_get(d->cls);
    c.server_url = s->cfg.server_url;
    c.state_dir = dir;
    c.enroll_token = d->token;
    c.profile_path = s->profile_path[d->cls];
    c.root_keys = (const char *const *)s->root_keys;
    c.root_key_count = s->cfg.root_key_count;
    c.checkin_interval_s = s->cfg.checkin_interval_s;
    c.max_backoff_s = s->cfg.max_backoff_s;
    c.slot_size = k->flash_bytes;
    c.download_chunk = k->download_chunk;
    c.download_delay_ms = k->download_delay_ms;
    c.health_inferences = s->cfg.health_inferences;
    c.name = d->name;
    c.now_ms = agent_clock;
    c.now_ctx = s;
    c.log = agent_line;
    c.log_ctx = d;
    c.key_per_use = 1;
    c.net_hook = net_hook;
    c.net_ctx = d;
    pthread_mutex_lock(&d->lock);
    c.clock_skew_ms = d->skew_ms;
    d->skew_pending = 0;
    int restart = d->kills > d->restarts;
    double off_s = d->kill_down_s + (double)(now_ms - d->up_at_ms) / 1000.0;
    d->restarts += restart;
    pthread_mutex_unlock(&d->lock);
    if (restart)
        sim_log(s, "%s: power back on after %.1f s off", d->name, off_s);
    agent *a = agent_open(&c, err, sizeof err);
    pthread_mutex_lock(&d->lock);
    d->ag = a;
    if (a != NULL)
        snprintf(d->device_id, sizeof d->device_id, "%s", agent_device_id(a));
    d->state = a != NULL ? DEV_UP : DEV_FAILED;
    pthread_mutex_unlock(&d->lock);
    if (a == NULL) {
        sim_log(s, "%s: cannot power on: %s", d->name, err);
        return -1;
    }
    return 0;
}

void sim_device_close(sim_device *d)
{
    pthread_mutex_lock(&d->lock);
    agent *a = d->ag;
    d->ag = NULL;
    sim_device_unbind(d);
    d->ok_before += d->snap.checkins_ok; /* the next agent life counts from 0 again */
    d->failed_before += d->snap.checkins_failed;
    d->snap.checkins_ok = d->snap.checkins_failed = 0;
    pthread_mutex_unlock(&d->lock);
    agent_close(a);
}

void sim_device_kill(sim_device *d, uint64_t now_ms, uint64_t down_ms, const char *why)
{
    sim_log(d->sim, "%s: power lost %s; back in %.1f s", d->name, why, (double)down_ms / 1000.0);
    sim_device_close(d);
    pthread_mutex_lock(&d->lock);
    d->state = DEV_DOWN;
    d->kills++;
    d->kill_armed = 0;
    d->kill_down_s = (double)down_ms / 1000.0;
    d->up_at_ms = now_ms + down_ms;
    pthread_mutex_unlock(&d->lock);
    atomic_store(&d->watch_until_ms, now_ms + down_ms + SIM_WATCH_MS);
}

static void take_snapshot(sim_device *d)
{
    char *text = agent_status(d->ag);
    json_t *v = text != NULL ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (v == NULL)
        return;
    sim_snapshot n;
    memset(&n, 0, sizeof n);
    n.enrolled = json_is_true(json_object_get(v, "enrolled"));
    const char *active = json_string_value(json_object_get(v, "active_slot"));
    size_t i;
    json_t *slot;
    json_array_foreach(json_object_get(v, "slots"), i, slot)
    {
        const char *name = json_string_value(json_object_get(slot, "slot"));
        if (active == NULL || name == NULL || strcmp(name, active) != 0)
            continue;
        const char *m = json_string_value(json_object_get(slot, "model"));
        const char *ver = json_string_value(json_object_get(slot, "version"));
        snprintf(n.model, sizeof n.model, "%s", m != NULL ? m : "");
        snprintf(n.version, sizeof n.version, "%s", ver != NULL ? ver : "");
    }
    json_t *job = json_object_get(v, "job");
    const char *phase = json_string_value(json_object_get(job, "phase"));
    snprintf(n.phase, sizeof n.phase, "%s", phase != NULL ? phase : "idle");
    n.offset = (uint32_t)json_integer_value(json_object_get(job, "offset"));
    n.size = (uint32_t)json_integer_value(json_object_get(job, "size"));
    n.checkins_ok = (uint64_t)json_integer_value(json_object_get(v, "checkins_ok"));
    n.checkins_failed = (uint64_t)json_integer_value(json_object_get(v, "checkins_failed"));
    n.clock_offset_ms = json_integer_value(json_object_get(v, "clock_offset_ms"));
    const char *le = json_string_value(json_object_get(v, "last_error"));
    snprintf(n.last_error, sizeof n.last_error, "%s", le != NULL ? le : "");
    json_decref(v);
    pthread_mutex_lock(&d->lock);
    d->snap = n;
    pthread_mutex_unlock(&d->lock);
}

/* Whether the update job is in the phase an armed kill waits for. [lock] held. */
static int kill_due(const sim_device *d)
{
    const char *p = d->snap.phase;
    int idle = strcmp(p, "idle") == 0;
    if (!d->kill_armed)
        return 0;
    switch (d->kill_phase) {
    case SIM_KILL_NOW:
        return 1;
    case SIM_KILL_UPDATE:
        return !idle;
    case SIM_KILL_DOWNLOAD: /* after a first chunk, when there is more than one */
        return strcmp(p, "download") == 0 &&
               (d->snap.offset > 0 || d->snap.size <= sim_class_get(d->cls)->download_chunk);
    case SIM_KILL_VERIFY:
        return strcmp(p, "verify") == 0;
    case SIM_KILL_TRIAL:
        return strcmp(p, "kat") == 0 || strcmp(p, "health") == 0 || strcmp(p, "confirm") == 0;
    }
    return 0;
}

static void kill_now(sim_device *d, uint64_t now)
{
    char why[160];
    pthread_mutex_lock(&d->lock);
    uint64_t down_ms = (uint64_t)(d->kill_down_s * 1000);
    pthread_mutex_unlock(&d->lock);
    if (strcmp(d->snap.phase, "download") == 0)
        snprintf(why, sizeof why, "during the download (byte %u of %u)", d->snap.offset,
                 d->snap.size);
    else if (strcmp(d->snap.phase, "idle") != 0)
        snprintf(why, sizeof why, "during the update's %s step", d->snap.phase);
    else
        snprintf(why, sizeof why, "(no update in progress)");
    sim_device_kill(d, now, down_ms, why);
}

/* Expires an armed kill that waited too long; returns whether one is due now. */
static int kill_check(sim_device *d, uint64_t now)
{
    pthread_mutex_lock(&d->lock);
    int expired = d->kill_armed && d->kill_expires_ms != 0 && now >= d->kill_expires_ms;
    if (expired)
        d->kill_armed = 0;
    int due = kill_due(d);
    sim_kill_phase phase = d->kill_phase;
    pthread_mutex_unlock(&d->lock);
    if (expired)
        sim_log(d->sim, "%s: armed kill expired (no update reached %s)", d->name,
                sim_kill_phase_name(phase));
    return due;
}

uint64_t sim_device_step(sim_device *d, uint64_t now_ms)
{
    struct sim *s = d->sim;
    if (d->state == DEV_OFF || d->state == DEV_DOWN) {
        if (sim_device_power_on(d, now_ms) != 0)
            return UINT64_MAX;
        take_snapshot(d);
        return now_ms;
    }
    if (d->state != DEV_UP)
        return UINT64_MAX;
    pthread_mutex_lock(&d->lock);
    int now_kill = d->kill_armed && d->kill_phase == SIM_KILL_NOW, skew = d->skew_pending;
    int64_t skew_ms = d->skew_ms;
    d->skew_pending = 0;
    pthread_mutex_unlock(&d->lock);
    if (now_kill) {
        kill_now(d, now_ms);
        return d->up_at_ms;
    }
    if (skew)
        agent_set_clock_skew(d->ag, skew_ms);
    uint64_t t0 = host_now_ns();
    int64_t wait = agent_step(d->ag);
    atomic_fetch_add(&s->step_ns, host_now_ns() - t0);
    atomic_fetch_add(&s->steps, 1);
    take_snapshot(d);
    if (wait == AGENT_FATAL) {
        sim_log(s, "%s: gave up for good: %s", d->name, agent_last_error(d->ag));
        sim_device_close(d);
        pthread_mutex_lock(&d->lock);
        d->state = DEV_FAILED;
        pthread_mutex_unlock(&d->lock);
        return UINT64_MAX;
    }
    if (kill_check(d, now_ms)) {
        kill_now(d, sim_clock_ms(s));
        return d->up_at_ms;
    }
    return sim_clock_ms(s) + (uint64_t)(wait > 0 ? wait : 0);
}
