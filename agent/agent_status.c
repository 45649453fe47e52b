/*
 * What the agent tells about itself: the P-13 slots array (from the update
 * engine's journaled state) for check-ins, and the status object of the
 * local API and the simulator (slots, job in progress, health, network).
 */
#include <stdlib.h>
#include <string.h>

#include "agent_priv.h"
#include "devauth.h"

const char *status_slot_name(uint8_t slot)
{
    return slot == 0 ? "a" : "b";
}

/* P-13 slot states: active | trial | inactive | ready | receiving | empty. */
static const char *slot_state(const tmo_update_state *st, uint8_t i)
{
    const tmo_update_slot *s = &st->slot[i];
    if (i == st->active)
        return s->state == TMO_SLOT_TRIAL ? "trial" : "active";
    switch (s->state) {
    case TMO_SLOT_GOOD:
        return "inactive";
    case TMO_SLOT_READY:
        return "ready";
    case TMO_SLOT_RECEIVING:
        return "receiving";
    default:
        return "empty";
    }
}

json_t *status_slots(agent *a)
{
    const tmo_update_state *st = tmo_update_get_state(&a->update);
    json_t *out = json_array();
    for (uint8_t i = 0; i < TMO_UPDATE_SLOTS; i++) {
        const tmo_update_slot *s = &st->slot[i];
        json_t *o = json_pack("{s:s,s:s}", "slot", status_slot_name(i), "state", slot_state(st, i));
        if (s->state >= TMO_SLOT_READY) {
            char version[24], digest[72] = "sha256:";
            snprintf(version, sizeof version, "%u.%u.%u", s->version.major, s->version.minor,
                     s->version.patch);
            devauth_hex(s->digest, sizeof s->digest, digest + 7);
            json_object_set_new(o, "model", json_string(s->name));
            json_object_set_new(o, "version", json_string(version));
            json_object_set_new(o, "counter", json_integer((json_int_t)s->counter));
            json_object_set_new(o, "bundle_digest", json_string(digest));
        } else if (s->state == TMO_SLOT_RECEIVING) {
            json_object_set_new(o, "received", json_integer(s->written));
            json_object_set_new(o, "size", json_integer(s->size));
        }
        json_array_append_new(out, o);
    }
    return out;
}

static const char *phase_name(job_phase p)
{
    static const char *const names[] = {"idle", "download", "verify", "activate",
                                        "kat",  "health",   "confirm"};
    return p <= JOB_CONFIRM ? names[p] : "?";
}

static json_t *model_json(agent *a)
{
    pthread_mutex_lock(&a->run.lock);
    json_t *run = json_pack("{s:b,s:I,s:I}", "loaded", a->run.hm != NULL, "inferences",
                            (json_int_t)a->run.inferences, "errors", (json_int_t)a->run.errors);
    if (a->run.hm != NULL)
        json_object_set_new(run, "slot", json_string(status_slot_name(a->run.slot)));
    pthread_mutex_unlock(&a->run.lock);
    return run;
}

void status_publish(agent *a)
{
    const tmo_update_state *st = tmo_update_get_state(&a->update);
    uint64_t nv = 0;
    a->counter.port.read(a->counter.port.ctx, &nv);
    json_t *job = json_pack("{s:s}", "phase", phase_name(a->job.phase));
    if (a->job.phase != JOB_IDLE) {
        json_object_set_new(job, "deployment_id", json_integer(a->job.deployment_id));
        json_object_set_new(job, "offset", json_integer(a->job.offset));
        json_object_set_new(job, "size", json_integer(a->job.size));
        json_object_set_new(job, "resumed_at", json_integer(a->job.resumed_at));
    }
    json_t *s =
        json_pack("{s:s,s:b,s:o,s:I,s:o,s:s,s:s,s:I,s:I,s:I,s:I}", "device_id", a->device_id,
                  "enrolled", a->enrolled, "slots", status_slots(a), "nv_counter", (json_int_t)nv,
                  "job", job, "last_error", a->last_error, "last_refusal", a->last_refusal,
                  "clock_offset_ms", (json_int_t)a->clock_offset_ms, "checkins_ok",
                  (json_int_t)a->checkins_ok, "checkins_failed", (json_int_t)a->checkins_failed,
                  "pending_reports", (json_int_t)json_array_size(a->reports));
    json_object_set_new(s, "telemetry", telemetry_status(a));
    json_object_set_new(
        s, "active_slot",
        st->active == TMO_UPDATE_NO_SLOT ? json_null() : json_string(status_slot_name(st->active)));
    pthread_mutex_lock(&a->status_lock);
    json_decref(a->status);
    a->status = s;
    pthread_mutex_unlock(&a->status_lock);
}

char *agent_status(agent *a)
{
    pthread_mutex_lock(&a->status_lock);
    json_t *s = a->status != NULL ? json_deep_copy(a->status) : json_object();
    pthread_mutex_unlock(&a->status_lock);
    json_object_set_new(s, "model", model_json(a));
    char *text = json_dumps(s, JSON_COMPACT);
    json_decref(s);
    return text;
}
