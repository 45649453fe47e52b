/*
 * Keeping the device on the version it should run (P-14, P-18): from a
 * check-in's `desired` to a confirmed model, one small step at a time so
 * the agent stays responsive and a simulator can interleave many agents:
 *
 *   download  Range requests of download_chunk bytes with If-Range (P-16),
 *             each written and journaled by the update engine (resumable)
 *   verify    the slot's SHA-256 is the announced digest (transport), then
 *             tmo_update_finish: signature chain, counter, target, time
 *   activate  the new slot becomes the trial slot and its model is loaded
 *   kat       the bundle's known-answer tests on the loaded model
 *   health    N more rounds and T seconds without inference errors
 *   confirm   tmo_update_confirm (the NV counter advances only now)
 *
 * A failure before activation reports `failed`; after it, the agent first
 * makes a `rolled-back` report durable, then reverts (a kill in between is
 * a restart during the trial, which boot reverts and reports again). The
 * durable truth is the engine's journal; the job here is RAM only and is
 * rebuilt from the next `desired` after a restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_priv.h"
#include "devauth.h"
#include "host.h"

static void digest_text(const uint8_t d[32], char out[72])
{
    memcpy(out, "sha256:", 7);
    devauth_hex(d, 32, out + 7);
}

static int digest_parse(const char *s, uint8_t out[32])
{
    if (s == NULL || strncmp(s, "sha256:", 7) != 0 || strlen(s) != 7 + 64)
        return -1;
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(s + 7 + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

static void job_end(agent *a)
{
    memset(&a->job, 0, sizeof a->job);
}

/* Failure before the new model ever ran: report `failed`, remember not to retry this deployment. */
static void job_failed(agent *a, const char *reason)
{
    char digest[72];
    digest_text(a->job.digest, digest);
    agent_error(a, "update to %s %s failed: %s", a->job.model, a->job.version, reason);
    reports_add(a, a->job.deployment_id, "failed", reason);
    refused_add(a, a->job.deployment_id, digest);
    tmo_update_cancel(&a->update, NULL);
    job_end(a);
}

/* Failure during the trial: durable report first, then back to the previous model. */
static void trial_failed(agent *a, const char *reason)
{
    char digest[72], err[300];
    digest_text(a->job.digest, digest);
    agent_error(a, "trial of %s %s failed: %s", a->job.model, a->job.version, reason);
    reports_add(a, a->job.deployment_id, "rolled-back", reason);
    refused_add(a, a->job.deployment_id, digest);
    tmo_diag d;
    if (tmo_update_revert(&a->update, &d) != TMO_OK) {
        host_format_diag(err, sizeof err, "revert", &d);
        agent_error(a, "%s (a restart reverts)", err);
    }
    if (tmo_update_get_state(&a->update)->active == TMO_UPDATE_NO_SLOT)
        model_unload(a);
    else if (model_load_active(a, err, sizeof err) != 0)
        agent_error(a, "previous model: %s", err);
    job_end(a);
}

static void start_job(agent *a, int64_t dep, int64_t bundle, const uint8_t digest[32],
                      uint32_t size, const char *url, const char *model, const char *version)
{
    job_end(a);
    agent_job *j = &a->job;
    j->deployment_id = dep;
    j->bundle_id = bundle;
    memcpy(j->digest, digest, 32);
    char text[72];
    digest_text(digest, text);
    snprintf(j->etag, sizeof j->etag, "\"%s\"", text);
    j->size = size;
    snprintf(j->url, sizeof j->url, "%s", url);
    snprintf(j->model, sizeof j->model, "%s", model);
    snprintf(j->version, sizeof j->version, "%s", version);
    if (reports_add(a, dep, "downloading", "") != 0)
        agent_error(a, "cannot persist a report");
    tmo_diag d;
    uint32_t off = 0;
    tmo_err e = tmo_update_begin(&a->update, size, digest, (uint64_t)dep, &off, &d);
    if (e != TMO_OK) {
        char reason[300];
        host_format_diag(reason, sizeof reason, e == TMO_ENOSPC ? "too_large" : "begin", &d);
        job_failed(a, reason);
        return;
    }
    j->offset = j->resumed_at = off;
    j->phase = off == size ? JOB_VERIFY : JOB_DOWNLOAD;
    j->next_ms = agent_now_ms(a);
    if (off > 0)
        agent_log(a, "resuming the download of %s %s at byte %u of %u", model, version, off, size);
    else
        agent_log(a, "downloading %s %s (%u bytes, deployment %lld)", model, version, size,
                  (long long)dep);
}

void update_desired(agent *a, json_t *desired)
{
    if (a->job.phase >= JOB_ACTIVATE)
        return; /* a trial runs to its end first */
    if (!json_is_object(desired)) {
        if (a->job.phase != JOB_IDLE) {
            agent_log(a, "update withdrawn by the server");
            tmo_update_cancel(&a->update, NULL);
            job_end(a);
        }
        return;
    }
    int64_t dep = json_integer_value(json_object_get(desired, "deployment_id"));
    int64_t bundle = json_integer_value(json_object_get(desired, "bundle_id"));
    json_int_t size = json_integer_value(json_object_get(desired, "size"));
    const char *url = json_string_value(json_object_get(desired, "url"));
    const char *digest_hex = json_string_value(json_object_get(desired, "digest"));
    const char *model = json_string_value(json_object_get(desired, "model"));
    const char *version = json_string_value(json_object_get(desired, "version"));
    uint8_t digest[32];
    if (url == NULL || url[0] != '/' || strlen(url) >= sizeof a->job.url || size <= 0 ||
        size > UINT32_MAX || digest_parse(digest_hex, digest) != 0) {
        agent_error(a, "ignoring a malformed `desired` from the server");
        return;
    }
    if (a->job.phase != JOB_IDLE && memcmp(a->job.digest, digest, 32) == 0)
        return; /* already on it */
    const tmo_update_state *st = tmo_update_get_state(&a->update);
    if (st->active != TMO_UPDATE_NO_SLOT && memcmp(st->slot[st->active].digest, digest, 32) == 0)
        return; /* running it */
    if (refused_has(a, dep, digest_hex))
        return;
    if (a->job.phase != JOB_IDLE)
        agent_log(a, "the server now wants another bundle: dropping the current download");
    start_job(a, dep, bundle, digest, (uint32_t)size, url, model != NULL ? model : "?",
              version != NULL ? version : "?");
}

/* Parses "bytes A-B/T". */
static int content_range(const char *h, uint64_t *first, uint64_t *last, uint64_t *total)
{
    unsigned long long f, l, t;
    if (sscanf(h, "bytes %llu-%llu/%llu", &f, &l, &t) != 3)
        return -1;
    *first = f, *last = l, *total = t;
    return 0;
}

static void write_bytes(agent *a, const uint8_t *p, size_t n)
{
    tmo_diag d;
    tmo_err e = tmo_update_write(&a->update, a->job.offset, p, n, &d);
    if (e != TMO_OK) {
        char err[300];
        host_format_diag(err, sizeof err, "storing the download", &d);
        agent_error(a, "%s", err);
        uint32_t off = 0; /* the engine knows from where it can go on */
        if (tmo_update_begin(&a->update, a->job.size, a->job.digest, (uint64_t)a->job.deployment_id,
                             &off, NULL) == TMO_OK)
            a->job.offset = off;
        a->job.failures++;
        a->job.next_ms = agent_now_ms(a) + agent_retry_delay(a, a->job.failures);
        return;
    }
    a->job.offset += (uint32_t)n;
    a->job.failures = 0;
    if (a->job.offset == a->job.size)
        a->job.phase = JOB_VERIFY;
    a->job.next_ms = agent_now_ms(a) + (uint64_t)a->cfg.download_delay_ms;
}

static void download_step(agent *a)
{
    agent_job *j = &a->job;
    uint32_t last = j->size - j->offset > a->cfg.download_chunk
                        ? j->offset + a->cfg.download_chunk - 1
                        : j->size - 1;
    char range[64], if_range[128], code[64];
    snprintf(range, sizeof range, "Range: bytes=%u-%u", j->offset, last);
    snprintf(if_range, sizeof if_range, "If-Range: %s", j->etag);
    const char *extra[] = {range, if_range, NULL};
    hc_response r;
    if (net_request(a, "GET", j->url, NULL, extra, &r) != 0) {
        j->failures++;
        j->next_ms = agent_now_ms(a) + agent_retry_delay(a, j->failures);
        return;
    }
    uint64_t first = 0, end = 0, total = 0;
    if (r.status == 206 && content_range(r.content_range, &first, &end, &total) == 0 &&
        first == j->offset && total == j->size && end >= first && end < total &&
        r.body_len == end - first + 1) {
        write_bytes(a, r.body, r.body_len);
    } else if (r.status == 200 && strcmp(r.etag, j->etag) == 0 && r.body_len == j->size) {
        write_bytes(a, r.body + j->offset,
                    j->size - j->offset); /* the whole bundle came instead of a range */
    } else if (r.status == 200 || r.status == 206 || r.status == 404 || r.status == 410 ||
               r.status == 416) {
        char reason[200];
        snprintf(reason, sizeof reason,
                 "download: HTTP %ld %s (the bundle is not the one announced)", r.status,
                 net_error_code(&r, code, sizeof code));
        job_failed(a, reason);
    } else {
        agent_error(a, "download: HTTP %ld %s", r.status, net_error_code(&r, code, sizeof code));
        j->failures++;
        j->next_ms = agent_now_ms(a) + agent_retry_delay(a, j->failures);
    }
    hc_response_free(&r);
}

/* The transport check: the bytes in the slot are the bundle the server announced (its ETag). */
static int slot_is_announced(agent *a)
{
    const tmo_update_state *st = tmo_update_get_state(&a->update);
    int slot = st->slot[0].state == TMO_SLOT_RECEIVING ? 0 : 1;
    tmo_port_reader r;
    if (tmo_update_slot_reader(&a->update, (uint8_t)slot, &r) != TMO_OK)
        return -1;
    psa_hash_operation_t h = PSA_HASH_OPERATION_INIT;
    uint8_t buf[16384], got[32];
    size_t n = 0;
    int ok = psa_hash_setup(&h, PSA_ALG_SHA_256) == PSA_SUCCESS;
    for (uint32_t off = 0; ok && off < r.size; off += (uint32_t)n) {
        n = r.size - off < sizeof buf ? r.size - off : sizeof buf;
        ok = r.read(r.ctx, off, buf, n) == TMO_OK && psa_hash_update(&h, buf, n) == PSA_SUCCESS;
    }
    ok = ok && psa_hash_finish(&h, got, sizeof got, &n) == PSA_SUCCESS;
    psa_hash_abort(&h);
    if (!ok)
        return -1;
    return memcmp(got, a->job.digest, sizeof got) == 0 ? 1 : 0;
}

static void verify_step(agent *a)
{
    tmo_diag d;
    int same = slot_is_announced(a);
    if (same == 0) {
        job_failed(a, "download: the received bytes differ from the announced bundle digest");
        return;
    }
    if (same < 0) {
        agent_error(a, "cannot read back the received bundle");
        a->job.next_ms = agent_now_ms(a) + agent_retry_delay(a, ++a->job.failures);
        return;
    }
    tmo_err e = tmo_update_finish(&a->update, &d);
    if (e == TMO_OK) {
        a->job.phase = JOB_ACTIVATE;
        return;
    }
    char reason[300];
    host_format_diag(reason, sizeof reason, "verify", &d);
    if (e <= TMO_EPORT_BASE) { /* storage trouble: try again later, the bundle may be fine */
        agent_error(a, "%s", reason);
        a->job.next_ms = agent_now_ms(a) + agent_retry_delay(a, ++a->job.failures);
        return;
    }
    job_failed(a, reason);
}

static void activate_step(agent *a)
{
    tmo_diag d;
    char reason[400];
    if (tmo_update_activate(&a->update, &d) != TMO_OK) {
        host_format_diag(reason, sizeof reason, "activate", &d);
        job_failed(a, reason);
        return;
    }
    if (reports_add(a, a->job.deployment_id, "installed-trial", "") != 0)
        agent_error(a, "cannot persist a report");
    char err[300];
    if (model_load_active(a, err, sizeof err) != 0) {
        snprintf(reason, sizeof reason, "load: %s", err);
        trial_failed(a, reason);
        return;
    }
    pthread_mutex_lock(&a->run.lock);
    a->job.errors_at_trial = a->run.errors;
    pthread_mutex_unlock(&a->run.lock);
    a->job.phase = JOB_KAT;
}

static void kat_step(agent *a)
{
    char reason[300];
    int had_kat = 0;
    if (model_kat(a, &had_kat, reason, sizeof reason) != 0) {
        trial_failed(a, reason);
        return;
    }
    agent_log(a, had_kat ? "known-answer tests passed" : "the bundle has no known-answer tests");
    a->job.phase = JOB_HEALTH;
    a->job.health_rounds_left = a->cfg.health_inferences;
    a->job.health_until_ms = agent_now_ms(a) + (uint64_t)a->cfg.health_seconds * 1000;
}

static void health_step(agent *a)
{
    char reason[300];
    pthread_mutex_lock(&a->run.lock);
    uint64_t errors = a->run.errors - a->job.errors_at_trial;
    pthread_mutex_unlock(&a->run.lock);
    if (errors > 0) {
        snprintf(reason, sizeof reason, "health: %llu inference errors during the trial",
                 (unsigned long long)errors);
        trial_failed(a, reason);
        return;
    }
    if (a->job.health_rounds_left > 0) {
        a->job.health_rounds_left--;
        if (model_health_round(a, reason, sizeof reason) != 0)
            trial_failed(a, reason);
        return;
    }
    uint64_t now = agent_now_ms(a);
    if (now < a->job.health_until_ms) {
        uint64_t left = a->job.health_until_ms - now;
        a->job.next_ms = now + (left < 200 ? left : 200);
        return;
    }
    a->job.phase = JOB_CONFIRM;
}

static void confirm_step(agent *a)
{
    tmo_diag d;
    char reason[300];
    if (tmo_update_confirm(&a->update, &d) != TMO_OK) {
        host_format_diag(reason, sizeof reason, "confirm", &d);
        trial_failed(a, reason);
        return;
    }
    /* The journal says GOOD before the report exists: a kill in between is covered by the slot
       state in the next check-in (the server derives `confirmed` from it, P-13). */
    reports_add(a, a->job.deployment_id, "confirmed", "");
    agent_log(a, "confirmed %s %s", a->job.model, a->job.version);
    job_end(a);
}

int64_t update_step(agent *a)
{
    switch (a->job.phase) {
    case JOB_DOWNLOAD:
        download_step(a);
        break;
    case JOB_VERIFY:
        verify_step(a);
        break;
    case JOB_ACTIVATE:
        activate_step(a);
        break;
    case JOB_KAT:
        kat_step(a);
        break;
    case JOB_HEALTH:
        health_step(a);
        break;
    case JOB_CONFIRM:
        confirm_step(a);
        break;
    default:
        break;
    }
    return 0;
}

int update_boot(agent *a, char *err, size_t err_len)
{
    const tmo_update_state *st = tmo_update_get_state(&a->update);
    int queued = 0;
    uint8_t act = st->active;
    char digest[72] = "";
    if (act != TMO_UPDATE_NO_SLOT && st->slot[act].state == TMO_SLOT_TRIAL) {
        digest_text(st->slot[act].digest, digest);
        if (st->trial_boots >= a->cfg.max_trial_boots) {
            /* Boot will revert this trial: make the report durable before the journal changes. */
            reports_add(a, (int64_t)st->slot[act].tag, "rolled-back", "restarted during the trial");
            refused_add(a, (int64_t)st->slot[act].tag, digest);
            queued = 1;
        }
    }
    tmo_boot_report rep;
    tmo_diag d;
    if (tmo_update_boot(&a->update, &rep, &d) != TMO_OK) {
        host_format_diag(err, err_len, "boot recovery", &d);
        return -1;
    }
    st = tmo_update_get_state(&a->update);
    switch (rep.action) {
    case TMO_BOOT_REVERTED:
        agent_log(a, "reverted the unconfirmed trial in slot %s", status_slot_name(rep.slot));
        if (!queued) {
            reports_add(a, (int64_t)rep.tag, "rolled-back", tmo_err_name(rep.why));
            if (digest[0] != '\0')
                refused_add(a, (int64_t)rep.tag, digest);
        }
        break;
    case TMO_BOOT_FELL_BACK:
        agent_error(a, "slot %s no longer verifies (%s): running the previous model",
                    status_slot_name(rep.slot), tmo_err_name(rep.why));
        break;
    case TMO_BOOT_NO_MODEL:
        agent_log(a, "no model installed yet");
        break;
    case TMO_BOOT_TRIAL_CONTINUES: {
        /* The trial goes on after this restart: known answers and health window again. */
        const tmo_update_slot *s = &st->slot[st->active];
        char version[24];
        snprintf(version, sizeof version, "%u.%u.%u", s->version.major, s->version.minor,
                 s->version.patch);
        job_end(a);
        a->job.deployment_id = (int64_t)s->tag;
        memcpy(a->job.digest, s->digest, 32);
        snprintf(a->job.model, sizeof a->job.model, "%s", s->name);
        snprintf(a->job.version, sizeof a->job.version, "%s", version);
        a->job.phase = JOB_KAT;
        a->job.next_ms = agent_now_ms(a);
        agent_log(a, "trial of %s %s continues after a restart (%u of %u)", s->name, version,
                  st->trial_boots, a->cfg.max_trial_boots);
        break;
    }
    default:
        break;
    }
    return 0;
}
