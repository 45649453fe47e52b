/*
 * The model the agent runs for its host application: loaded from the
 * active slot through the update engine (verified, decrypted into RAM),
 * swapped under a mutex when a trial starts or is reverted, run by
 * agent_infer() for the local API and the simulator, and exercised by the
 * bundle's known-answer tests (KAT section, tinymlops/profile.h) and the
 * health window during a trial.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_priv.h"
#include "host.h"
#include "tinymlops/profile.h"

static void free_model(host_model *hm, uint8_t *kat)
{
    if (hm != NULL) {
        host_model_close(hm);
        free(hm);
    }
    free(kat);
}

/* Copies a section of the verified bundle out of the slot (the slot may be rewritten later). */
static int read_section(agent *a, uint8_t slot, const char *what, uint32_t offset, uint32_t length,
                        uint8_t **out, size_t *out_len, char *err, size_t err_len)
{
    *out = NULL;
    *out_len = 0;
    if (length == 0)
        return 0;
    tmo_port_reader r;
    uint8_t *buf = malloc(length);
    if (buf == NULL || tmo_update_slot_reader(&a->update, slot, &r) != TMO_OK ||
        r.read(r.ctx, offset, buf, length) != TMO_OK) {
        free(buf);
        snprintf(err, err_len, "cannot read the %s section from slot %s", what,
                 status_slot_name(slot));
        return -1;
    }
    *out = buf;
    *out_len = length;
    return 0;
}

static int read_kat(agent *a, uint8_t slot, uint8_t **kat, size_t *kat_len, char *err,
                    size_t err_len)
{
    const tmo_bundle *b = tmo_update_bundle(&a->update);
    if (b == NULL) {
        *kat = NULL;
        *kat_len = 0;
        return 0;
    }
    return read_section(a, slot, "KAT", b->kat_offset, b->kat_length, kat, kat_len, err, err_len);
}

int model_load_active(agent *a, char *err, size_t err_len)
{
    const tmo_update_state *st = tmo_update_get_state(&a->update);
    if (st->active == TMO_UPDATE_NO_SLOT) {
        model_unload(a);
        snprintf(err, err_len, "no active model");
        return -1;
    }
    uint8_t slot = st->active;
    size_t cap = (st->slot[slot].size + 15u) & ~(size_t)15u;
    uint8_t *bytes = aligned_alloc(16, cap);
    host_model *hm = calloc(1, sizeof *hm);
    size_t len = 0;
    tmo_diag d;
    if (bytes == NULL || hm == NULL) {
        free(bytes);
        free(hm);
        snprintf(err, err_len, "out of memory for a %zu-byte model", cap);
        return -1;
    }
    tmo_err e = tmo_update_load_active(&a->update, bytes, cap, &len, &d);
    if (e != TMO_OK) {
        host_format_diag(err, err_len, "active slot does not verify", &d);
        free(bytes);
        free(hm);
        return -1;
    }
    if (host_model_open_bytes(hm, bytes, len, err, err_len) != TMO_OK) { /* takes bytes */
        free_model(hm, NULL);
        return -1;
    }
    uint8_t *kat, *profile = NULL;
    size_t kat_len, profile_len = 0;
    const tmo_bundle *b = tmo_update_bundle(&a->update);
    if (read_kat(a, slot, &kat, &kat_len, err, err_len) != 0 ||
        (b != NULL && read_section(a, slot, "PROFILE", b->profile_offset, b->profile_length,
                                   &profile, &profile_len, err, err_len) != 0)) {
        free_model(hm, kat);
        return -1;
    }
    char version[24];
    snprintf(version, sizeof version, "%u.%u.%u", st->slot[slot].version.major,
             st->slot[slot].version.minor, st->slot[slot].version.patch);
    pthread_mutex_lock(&a->run.lock);
    telemetry_swap(a, st->slot[slot].digest, st->slot[slot].name, version);
    host_model *old = a->run.hm;
    uint8_t *old_kat = a->run.kat, *old_profile = a->run.profile;
    a->run.hm = hm;
    a->run.kat = kat;
    a->run.kat_len = kat_len;
    a->run.profile = profile;
    a->run.profile_len = profile_len;
    a->run.generation++;
    a->run.slot = slot;
    snprintf(a->run.name, sizeof a->run.name, "%s", st->slot[slot].name);
    snprintf(a->run.version, sizeof a->run.version, "%u.%u.%u", st->slot[slot].version.major,
             st->slot[slot].version.minor, st->slot[slot].version.patch);
    pthread_mutex_unlock(&a->run.lock);
    free_model(old, old_kat);
    free(old_profile);
    agent_log(a, "running %s %u.%u.%u from slot %s", st->slot[slot].name,
              st->slot[slot].version.major, st->slot[slot].version.minor,
              st->slot[slot].version.patch, status_slot_name(slot));
    return 0;
}

void model_unload(agent *a)
{
    pthread_mutex_lock(&a->run.lock);
    telemetry_swap(a, NULL, NULL, NULL);
    host_model *old = a->run.hm;
    uint8_t *kat = a->run.kat, *profile = a->run.profile;
    a->run.hm = NULL;
    a->run.kat = NULL;
    a->run.kat_len = 0;
    a->run.profile = NULL;
    a->run.profile_len = 0;
    a->run.generation++;
    pthread_mutex_unlock(&a->run.lock);
    free_model(old, kat);
    free(profile);
}

static int kat_locked(agent *a, char *reason, size_t len)
{
    tmo_kat_result res;
    tmo_diag d;
    tmo_err e = tmo_kat_run(&a->run.hm->interp, a->run.kat, a->run.kat_len, &res, &d);
    if (e == TMO_OK)
        return 0;
    char what[200];
    if (e == TMO_EKAT)
        tmo_kat_format(&res, what, sizeof what);
    else
        tmo_diag_format(&d, what, sizeof what);
    snprintf(reason, len, "kat_failed: %s", what);
    return -1;
}

int model_kat(agent *a, int *had_kat, char *reason, size_t len)
{
    pthread_mutex_lock(&a->run.lock);
    int rc = 0;
    *had_kat = a->run.kat != NULL;
    if (a->run.hm == NULL) {
        snprintf(reason, len, "kat_failed: no model loaded");
        rc = -1;
    } else if (a->run.kat != NULL) {
        rc = kat_locked(a, reason, len);
    }
    pthread_mutex_unlock(&a->run.lock);
    return rc;
}

/* Without known answers: zero inputs must run and give finite float outputs. */
static int smoke_locked(agent *a, char *reason, size_t len)
{
    tmo_interp *it = &a->run.hm->interp;
    tmo_io io;
    for (uint32_t i = 0; i < tmo_interp_input_count(it); i++)
        if (tmo_interp_input(it, i, &io) == TMO_OK)
            memset(io.data, 0, io.bytes);
    if (tmo_interp_invoke(it) != TMO_OK) {
        snprintf(reason, len, "health: invoke failed");
        return -1;
    }
    for (uint32_t o = 0; o < tmo_interp_output_count(it); o++) {
        if (tmo_interp_output(it, o, &io) != TMO_OK || io.type != TMO_FLOAT32)
            continue;
        const float *v = io.data;
        for (size_t k = 0; k < io.bytes / sizeof(float); k++)
            if (!isfinite(v[k])) {
                snprintf(reason, len, "health: output %u is not finite", o);
                return -1;
            }
    }
    return 0;
}

int model_health_round(agent *a, char *reason, size_t len)
{
    pthread_mutex_lock(&a->run.lock);
    int rc;
    if (a->run.hm == NULL) {
        snprintf(reason, len, "health: no model loaded");
        rc = -1;
    } else {
        rc = a->run.kat != NULL ? kat_locked(a, reason, len) : smoke_locked(a, reason, len);
    }
    pthread_mutex_unlock(&a->run.lock);
    return rc;
}

static int infer_locked(agent *a, const void *in, size_t in_len, void *out, size_t out_cap,
                        size_t *out_len, char *err, size_t err_len)
{
    if (a->run.hm == NULL) {
        snprintf(err, err_len, "no model installed yet");
        return -1;
    }
    tmo_interp *it = &a->run.hm->interp;
    tmo_io io;
    size_t need = 0, got = 0;
    for (uint32_t i = 0; i < tmo_interp_input_count(it); i++)
        if (tmo_interp_input(it, i, &io) == TMO_OK)
            need += io.bytes;
    if (in_len != need) {
        snprintf(err, err_len, "the model takes %zu input bytes, got %zu", need, in_len);
        return -1;
    }
    for (uint32_t i = 0, at = 0; i < tmo_interp_input_count(it); i++)
        if (tmo_interp_input(it, i, &io) == TMO_OK) {
            memcpy(io.data, (const uint8_t *)in + at, io.bytes);
            at += (uint32_t)io.bytes;
        }
    tmo_err e = telemetry_invoke(a, it); /* with the device monitor attached */
    if (e != TMO_OK) {
        snprintf(err, err_len, "invoke failed: %s", tmo_err_name(e));
        return -2; /* the model's fault, unlike a wrong request */
    }
    for (uint32_t o = 0; o < tmo_interp_output_count(it); o++)
        if (tmo_interp_output(it, o, &io) == TMO_OK) {
            if (got + io.bytes > out_cap) {
                snprintf(err, err_len, "output buffer too small (%zu bytes)", out_cap);
                return -1;
            }
            memcpy((uint8_t *)out + got, io.data, io.bytes);
            got += io.bytes;
        }
    *out_len = got;
    return 0;
}

int agent_infer(agent *a, const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len,
                char *err, size_t err_len)
{
    pthread_mutex_lock(&a->run.lock);
    int rc = infer_locked(a, in, in_len, out, out_cap, out_len, err, err_len);
    if (rc == 0)
        a->run.inferences++;
    else if (rc == -2)
        a->run.errors++; /* only failures of the model itself count against its health */
    pthread_mutex_unlock(&a->run.lock);
    return rc == 0 ? 0 : -1;
}
