/*
 * What the simulated fleet looks like right now (any thread): counters,
 * the fleet as JSON by class, group, model version and update phase, one
 * device's JSON, and the periodic progress line on the log.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "report.h"
#include "sim_priv.h"

static const char *state_name(sim_dev_state st)
{
    static const char *const names[] = {"off", "up", "down", "failed"};
    return (unsigned)st < 4 ? names[st] : "?";
}

void sim_get_counters(sim *s, sim_counters *c)
{
    memset(c, 0, sizeof *c);
    c->sim_ms = sim_clock_ms(s);
    c->devices = s->n;
    for (int i = 0; i < s->n; i++) {
        sim_device *d = &s->dev[i];
        pthread_mutex_lock(&d->lock);
        c->up += d->state == DEV_UP;
        c->down += d->state == DEV_DOWN;
        c->failed += d->state == DEV_FAILED;
        c->enrolled += d->snap.enrolled;
        c->with_model += d->snap.model[0] != '\0';
        c->updating += d->state == DEV_UP && strcmp(d->snap.phase, "idle") != 0;
        c->checkins_ok += d->ok_before + d->snap.checkins_ok;
        c->checkins_failed += d->failed_before + d->snap.checkins_failed;
        pthread_mutex_unlock(&d->lock);
    }
    c->inferences = atomic_load(&s->inferences);
    c->infer_errors = atomic_load(&s->infer_errors);
    c->infer_late = atomic_load(&s->infer_late);
    c->reports = atomic_load(&s->reports);
    c->steps = atomic_load(&s->steps);
    c->events = atomic_load(&s->events);
    c->steps_late = atomic_load(&s->steps_late);
    c->step_late_max_ms = atomic_load(&s->step_late_max);
    c->step_us = atomic_load(&s->step_ns) / 1000u;
}

static json_t *stats_json(const sim_stream_stats *st)
{
    double m = st->values ? st->sum / (double)st->values : 0;
    double v = st->values ? st->sumsq / (double)st->values - m * m : 0;
    return json_pack("{s:I,s:f,s:f}", "inputs", (json_int_t)st->inputs, "mean", m, "std",
                     v > 0 ? sqrt(v) : 0.0);
}

static json_t *events_json(uint32_t bits)
{
    json_t *a = json_array();
    for (uint32_t b = 1; b != 0; b <<= 1)
        if ((bits & b) && host_report_event_name(b) != NULL)
            json_array_append_new(a, json_string(host_report_event_name(b)));
    return a;
}

/* [lock] held by the caller. */
static json_t *device_locked(struct sim *s, const sim_device *d, uint64_t now)
{
    const sim_snapshot *sn = &d->snap;
    json_t *tags = json_array();
    for (size_t t = 0; t < s->tags.count; t++)
        if (d->tags & (1u << t))
            json_array_append_new(tags, json_string(s->tags.name[t]));
    json_t *top = json_array();
    for (int k = 0; k < SIM_TOP_CLASSES; k++)
        json_array_append_new(top, json_integer(d->top1[k]));
    json_t *o = json_pack(
        "{s:i,s:s,s:s,s:s,s:s,s:o,s:s,s:b,s:s,s:s,s:s,s:I,s:I,s:I,s:s}", "index", d->index, "name",
        d->name, "device_id", d->device_id, "class", sim_class_get(d->cls)->name, "group",
        s->groups.name[d->group], "tags", tags, "state", state_name(d->state), "enrolled",
        sn->enrolled, "model", sn->model, "version", sn->version, "phase", sn->phase,
        "checkins_ok", (json_int_t)(d->ok_before + sn->checkins_ok), "checkins_failed",
        (json_int_t)(d->failed_before + sn->checkins_failed), "clock_offset_ms",
        (json_int_t)sn->clock_offset_ms, "last_error", sn->last_error);
    if (strcmp(sn->phase, "download") == 0)
        json_object_set_new(o, "download", json_pack("{s:I,s:I}", "offset", (json_int_t)sn->offset,
                                                     "size", (json_int_t)sn->size));
    json_object_set_new(o, "inferences", json_integer((json_int_t)d->inferences));
    json_object_set_new(o, "inference_errors", json_integer((json_int_t)d->errors));
    json_object_set_new(o, "latency_ms", json_real(d->inferences ? d->latency_us / 1000.0 /
                                                                       (double)d->inferences
                                                                 : 0));
    json_object_set_new(o, "accuracy", d->labelled ? json_real((double)d->correct /
                                                               (double)d->labelled)
                                                   : json_null());
    json_object_set_new(o, "input", stats_json(&d->stats));
    json_object_set_new(o, "input_before_drift", stats_json(&d->stats_before));
    json_object_set_new(o, "top1", top);
    const sim_drift *dr = &d->drift;
    int drifted = dr->shift != 0 || dr->scale != 1 || dr->noise > 0 || dr->stuck || dr->saturate ||
                  dr->class_count > 0;
    json_object_set_new(o, "drift",
                        drifted ? json_pack("{s:f,s:f,s:f,s:b,s:b,s:f,s:b}", "shift", dr->shift,
                                            "scale", dr->scale, "noise", dr->noise, "stuck",
                                            dr->stuck, "saturate", dr->saturate, "frac", dr->frac,
                                            "class_mix", dr->class_count > 0)
                                : json_null());
    json_object_set_new(
        o, "faults",
        json_pack("{s:f,s:b,s:s,s:I,s:f,s:i,s:i}", "outage_s_left",
                  d->outage_until_ms > now ? (double)(d->outage_until_ms - now) / 1000.0 : 0.0,
                  "kill_armed", d->kill_armed, "kill_during", sim_kill_phase_name(d->kill_phase),
                  "corrupt_left", (json_int_t)d->corrupt_left, "skew_s",
                  (double)d->skew_ms / 1000.0, "kills", d->kills, "restarts", d->restarts));
    const tmo_drift *m = &d->mview.drift;
    json_object_set_new(o, "monitor",
                        d->mview.reports == 0
                            ? json_pack("{s:b}", "on", d->mon_on)
                            : json_pack("{s:b,s:I,s:I,s:f,s:f,s:f,s:f,s:f,s:o}", "on", d->mon_on,
                                        "reports", (json_int_t)d->mview.reports, "not_buffered",
                                        (json_int_t)d->mview.submit_failed, "psi_in_max",
                                        m->psi_in_max, "js_in_max", m->js_in_max, "psi_out",
                                        m->psi_out, "acc_est", m->acc_est, "conf_mean",
                                        m->conf_mean, "events", events_json(d->mview.events)));
    return o;
}

char *sim_device_json(sim *s, int index)
{
    if (index < 0 || index >= s->n)
        return NULL;
    sim_device *d = &s->dev[index];
    uint64_t now = sim_clock_ms(s);
    pthread_mutex_lock(&d->lock);
    json_t *o = device_locked(s, d, now);
    pthread_mutex_unlock(&d->lock);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

static void bump(json_t *obj, const char *key, const char *sub)
{
    json_t *v = json_object_get(obj, key);
    if (sub != NULL) {
        if (v == NULL)
            json_object_set_new(obj, key, v = json_object());
        bump(v, sub, NULL);
        return;
    }
    json_object_set_new(obj, key, json_integer(json_integer_value(v) + 1));
}

char *sim_status_json(sim *s, int with_devices)
{
    sim_counters c;
    sim_get_counters(s, &c);
    uint64_t now = c.sim_ms;
    json_t *classes = json_object(), *groups = json_object(), *models = json_object(),
           *phases = json_object(), *faults = json_object(), *devices = json_array();
    for (int i = 0; i < s->n; i++) {
        sim_device *d = &s->dev[i];
        pthread_mutex_lock(&d->lock);
        const char *cls = sim_class_get(d->cls)->name;
        bump(classes, cls, "devices");
        bump(classes, cls, state_name(d->state));
        bump(groups, s->groups.name[d->group], "devices");
        char model[100];
        snprintf(model, sizeof model, "%s %s", d->snap.model[0] ? d->snap.model : "(none)",
                 d->snap.version);
        bump(models, model, NULL);
        bump(phases, d->snap.phase[0] ? d->snap.phase : "idle", NULL);
        if (d->outage_until_ms > now)
            bump(faults, "outage", NULL);
        if (d->kill_armed)
            bump(faults, "kill_armed", NULL);
        if (d->corrupt_left > 0)
            bump(faults, "corrupt_pending", NULL);
        if (d->skew_ms != 0)
            bump(faults, "clock_skewed", NULL);
        if (d->drift.shift != 0 || d->drift.scale != 1 || d->drift.noise > 0 || d->drift.stuck ||
            d->drift.saturate || d->drift.class_count > 0)
            bump(faults, "drifting", NULL);
        if (with_devices)
            json_array_append_new(devices, device_locked(s, d, now));
        pthread_mutex_unlock(&d->lock);
    }
    json_t *o = json_pack(
        "{s:f,s:f,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:{s:I,s:I},s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o}",
        "sim_s", (double)now / 1000.0, "speed", s->cfg.speed, "devices", c.devices, "up", c.up,
        "enrolled", c.enrolled, "with_model", c.with_model, "updating", c.updating, "down", c.down,
        "failed", c.failed, "checkins", "ok", (json_int_t)c.checkins_ok, "failed",
        (json_int_t)c.checkins_failed, "inferences", (json_int_t)c.inferences, "inference_errors",
        (json_int_t)c.infer_errors, "inferences_late", (json_int_t)c.infer_late, "monitor_reports",
        (json_int_t)c.reports, "events", (json_int_t)c.events, "classes", classes, "groups", groups,
        "models", models, "phases", phases, "faults", faults);
    if (with_devices)
        json_object_set_new(o, "device_list", devices);
    else
        json_decref(devices);
    char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return text;
}

void sim_progress(struct sim *s)
{
    sim_counters c;
    sim_get_counters(s, &c);
    uint64_t real = host_now_ns();
    double dt = s->last_ns ? (double)(real - s->last_ns) / 1e9 : 0;
    double ck = dt > 0 ? (double)(c.checkins_ok + c.checkins_failed - s->last.checkins_ok -
                                  s->last.checkins_failed) / dt
                       : 0;
    double inf = dt > 0 ? (double)(c.inferences - s->last.inferences) / dt : 0;
    sim_log(s, "progress: %d devices (up %d, enrolled %d, with a model %d, updating %d, down %d, "
               "failed %d) | check-ins %llu ok, %llu failed (%.1f/s) | inferences %llu (%.0f/s, "
               "late %llu, errors %llu) | monitor reports %llu | events %llu | agent steps %llu "
               "(%llu late > 1 s, %.1f ms each)",
            c.devices, c.up, c.enrolled, c.with_model, c.updating, c.down, c.failed,
            (unsigned long long)c.checkins_ok, (unsigned long long)c.checkins_failed, ck,
            (unsigned long long)c.inferences, inf, (unsigned long long)c.infer_late,
            (unsigned long long)c.infer_errors, (unsigned long long)c.reports,
            (unsigned long long)c.events, (unsigned long long)c.steps,
            (unsigned long long)c.steps_late,
            c.steps > s->last.steps
                ? (double)(c.step_us - s->last.step_us) / 1000.0 / (double)(c.steps - s->last.steps)
                : 0.0);
    s->last = c;
    s->last_ns = real;
}
