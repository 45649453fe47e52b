/*
 * Following what each applied event did (control thread): an outage's end
 * and the check-ins after it, a killed device coming back with a verified
 * model, a corrupted download refused by the digest check, a skewed clock
 * corrected from the server's time, a drifted stream's statistics. A few
 * devices of each event get a line of their own; every event gets one
 * summary when all its devices show the effect or its deadline passes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_priv.h"

#define DRIFT_MIN_INPUTS 20
#define DEADLINE_MS 600000u

static uint64_t deadline(const struct sim *s, const sim_event *ev, uint64_t now)
{
    switch (ev->kind) {
    case SIM_EV_OUTAGE:
        return now + (uint64_t)(ev->duration_s * 1000) + DEADLINE_MS;
    case SIM_EV_DRIFT: {
        double hz = s->cfg.infer_hz > 0 ? s->cfg.infer_hz : 1;
        return now + (uint64_t)(1000 * (30 + 2 * DRIFT_MIN_INPUTS / hz));
    }
    case SIM_EV_KILL:
        return now + (ev->within_s > 0 ? (uint64_t)(ev->within_s * 1000) + DEADLINE_MS
                                       : 6 * DEADLINE_MS);
    default:
        return now + DEADLINE_MS;
    }
}

void sim_effects_follow(struct sim *s, const sim_event *ev, const int *ids, int count,
                        uint64_t now)
{
    if (s->record_count == s->record_cap) {
        size_t cap = s->record_cap ? 2 * s->record_cap : 8;
        sim_record *grown = realloc(s->records, cap * sizeof *grown);
        if (grown == NULL)
            return;
        s->records = grown;
        s->record_cap = cap;
    }
    sim_record *r = &s->records[s->record_count];
    memset(r, 0, sizeof *r);
    r->ev = *ev;
    r->serial = atomic_load(&s->events);
    r->at_ms = now;
    r->count = count;
    r->ids = malloc((size_t)count * sizeof *r->ids);
    r->done = calloc((size_t)count, 1);
    r->base = calloc((size_t)count, sizeof *r->base);
    r->dwell_s = calloc((size_t)count, sizeof *r->dwell_s);
    if (r->ids == NULL || r->done == NULL || r->base == NULL || r->dwell_s == NULL) {
        free(r->ids), free(r->done), free(r->base), free(r->dwell_s);
        return;
    }
    memcpy(r->ids, ids, (size_t)count * sizeof *ids);
    if (ev->kind == SIM_EV_OUTAGE || (ev->kind == SIM_EV_DRIFT && ev->duration_s > 0))
        r->end_ms = now + (uint64_t)(ev->duration_s * 1000);
    r->deadline_ms = deadline(s, ev, now);
    for (int i = 0; i < count; i++) {
        sim_device *d = &s->dev[ids[i]];
        pthread_mutex_lock(&d->lock);
        if (ev->kind == SIM_EV_KILL)
            r->base[i] = (uint64_t)d->kills;
        if (ev->kind == SIM_EV_DRIFT) {
            r->before.inputs += d->stats_before.inputs;
            r->before.values += d->stats_before.values;
            r->before.sum += d->stats_before.sum;
            r->before.sumsq += d->stats_before.sumsq;
            r->corrected += d->correct_before;
            r->extra += d->labelled_before;
        }
        pthread_mutex_unlock(&d->lock);
    }
    s->record_count++;
}

static void summary(struct sim *s, sim_record *r);

static void end_of(struct sim *s, sim_record *r)
{
    r->ended = 1;
    if (r->ev.kind == SIM_EV_DRIFT && !r->closed) { /* what the drift did, before it is undone */
        summary(s, r);
        r->closed = 1;
    }
    if (r->ev.kind == SIM_EV_OUTAGE) {
        uint64_t failed = 0;
        for (int i = 0; i < r->count; i++) {
            sim_device *d = &s->dev[r->ids[i]];
            pthread_mutex_lock(&d->lock);
            r->base[i] = d->ok_before + d->snap.checkins_ok;
            failed += d->failed_during_outage;
            pthread_mutex_unlock(&d->lock);
        }
        r->extra = failed;
        sim_log(s, "event %llu: outage over on %d device%s (%llu requests failed during it)",
                (unsigned long long)r->serial, r->count, r->count == 1 ? "" : "s",
                (unsigned long long)failed);
    } else if (r->ev.kind == SIM_EV_DRIFT) {
        sim_drift reset;
        memset(&reset, 0, sizeof reset);
        reset.reset = 1;
        for (int i = 0; i < r->count; i++)
            sim_events_set_drift(&s->dev[r->ids[i]], &reset);
        sim_log(s, "event %llu: drift over, %d device%s back to normal inputs",
                (unsigned long long)r->serial, r->count, r->count == 1 ? "" : "s");
    }
}

static double mean_of(const sim_stream_stats *st)
{
    return st->values > 0 ? st->sum / (double)st->values : 0;
}

static double std_of(const sim_stream_stats *st)
{
    if (st->values == 0)
        return 0;
    double m = mean_of(st), v = st->sumsq / (double)st->values - m * m;
    return v > 0 ? sqrt(v) : 0;
}

/* A consistent copy of what the effects look at (the device's worker writes it). */
typedef struct dev_view {
    sim_snapshot snap;
    sim_dev_state state;
    int kills, kill_armed;
    uint32_t corrupt_left;
    int64_t skew_ms;
    uint64_t checkins_ok;
    sim_stream_stats now, before;
} dev_view;

static void view_of(sim_device *d, dev_view *v)
{
    pthread_mutex_lock(&d->lock);
    v->snap = d->snap;
    v->state = d->state;
    v->kills = d->kills;
    v->kill_armed = d->kill_armed;
    v->corrupt_left = d->corrupt_left;
    v->skew_ms = d->skew_ms;
    v->checkins_ok = d->ok_before + d->snap.checkins_ok;
    v->now = d->stats;
    v->before = d->stats_before;
    pthread_mutex_unlock(&d->lock);
}

/* Whether device i of r shows the effect now; may log a line for watched devices. */
static int shows(struct sim *s, sim_record *r, int i)
{
    sim_device *d = &s->dev[r->ids[i]];
    dev_view v;
    view_of(d, &v);
    const sim_snapshot *sn = &v.snap;
    int idle = strcmp(sn->phase, "idle") == 0, up = v.state == DEV_UP;
    switch (r->ev.kind) {
    case SIM_EV_OUTAGE:
        return r->ended && (v.checkins_ok > r->base[i] || v.state == DEV_FAILED);
    case SIM_EV_DRIFT: {
        sim_stream_stats now = v.now, before = v.before;
        if (now.inputs < DRIFT_MIN_INPUTS)
            return 0;
        if (i < SIM_WATCH_MAX)
            sim_log(s, "%s: inputs since the change: mean %.3f (before %.3f), std %.3f (before "
                       "%.3f), %llu inputs",
                    d->name, mean_of(&now), mean_of(&before), std_of(&now), std_of(&before),
                    (unsigned long long)now.inputs);
        return 1;
    }
    case SIM_EV_KILL:
        if (!v.kill_armed && (uint64_t)v.kills == r->base[i])
            return 1; /* the armed kill expired without an update to interrupt */
        if ((uint64_t)v.kills > r->base[i] && up && idle) {
            if (i < SIM_WATCH_MAX)
                sim_log(s, "%s: recovered from the power loss: %s %s %s", d->name,
                        sn->model[0] ? "running" : "no model yet", sn->model, sn->version);
            return 1;
        }
        return v.state == DEV_FAILED;
    case SIM_EV_CORRUPT:
        if (v.corrupt_left > 0 || !idle)
            return 0;
        if (strstr(sn->last_error, "differ") != NULL)
            r->corrected++;
        if (i < SIM_WATCH_MAX)
            sim_log(s, "%s: after the corrupted download: %s", d->name,
                    sn->last_error[0] ? sn->last_error : "no error");
        return 1;
    case SIM_EV_SKEW:
        if (llabs(sn->clock_offset_ms + v.skew_ms) > 2000)
            return 0;
        if (i < SIM_WATCH_MAX)
            sim_log(s, "%s: clock corrected: offset to the server now %+.1f s", d->name,
                    (double)sn->clock_offset_ms / 1000.0);
        return 1;
    default:
        return 1;
    }
}

/* "digits 1.0.0 x3, (none) x1" of the devices' running models. */
static void models_of(struct sim *s, const sim_record *r, char *out, size_t len)
{
    char names[8][100];
    int counts[8], n = 0;
    for (int i = 0; i < r->count; i++) {
        dev_view v;
        view_of(&s->dev[r->ids[i]], &v);
        char m[100];
        snprintf(m, sizeof m, "%s %s", v.snap.model[0] ? v.snap.model : "(none)", v.snap.version);
        int k = 0;
        while (k < n && strcmp(names[k], m) != 0)
            k++;
        if (k == n && n < 8)
            snprintf(names[n], sizeof names[n], "%s", m), counts[n++] = 0;
        if (k < n)
            counts[k]++;
    }
    size_t at = 0;
    out[0] = '\0';
    for (int k = 0; k < n && at < len; k++)
        at += (size_t)snprintf(out + at, len - at, "%s%s x%d", k ? ", " : "", names[k], counts[k]);
}

static void summary(struct sim *s, sim_record *r)
{
    unsigned long long id = (unsigned long long)r->serial;
    int done = r->done_count, n = r->count;
    double last = 0;
    for (int i = 0; i < n; i++)
        last = r->done[i] && r->dwell_s[i] > last ? r->dwell_s[i] : last;
    char models[400];
    switch (r->ev.kind) {
    case SIM_EV_OUTAGE:
        sim_log(s, "event %llu effect: %d/%d devices checked in again after the outage, the last "
                   "%.1f s after it ended",
                id, done, n, last);
        break;
    case SIM_EV_DRIFT: {
        sim_stream_stats after = {0, 0, 0, 0};
        uint64_t ok = 0, lab = 0, rep = 0;
        double psi = 0;
        for (int i = 0; i < n; i++) {
            sim_device *d = &s->dev[r->ids[i]];
            pthread_mutex_lock(&d->lock);
            after.inputs += d->stats.inputs, after.values += d->stats.values;
            after.sum += d->stats.sum, after.sumsq += d->stats.sumsq;
            ok += d->correct, lab += d->labelled;
            if (d->mview.reports > 0)
                rep++, psi += d->mview.drift.psi_in_max;
            pthread_mutex_unlock(&d->lock);
        }
        char acc[120] = "", mon[120] = "";
        if (lab > 0 && r->extra > 0)
            snprintf(acc, sizeof acc, "; accuracy on labelled inputs %.1f%% -> %.1f%%",
                     100.0 * (double)r->corrected / (double)r->extra, 100.0 * (double)ok / (double)lab);
        if (rep > 0)
            snprintf(mon, sizeof mon, "; latest monitor reports: mean psi_in_max %.3f (%llu devices)",
                     psi / (double)rep, (unsigned long long)rep);
        if (after.inputs == 0)
            sim_log(s, "event %llu effect: none of the %d drifted devices ran an inference since the "
                       "change (no model installed yet?)",
                    id, n);
        else
            sim_log(s, "event %llu effect: %d/%d drifted devices fed %llu inputs: mean %.3f -> %.3f, "
                       "std %.3f -> %.3f%s%s",
                    id, done, n, (unsigned long long)after.inputs, mean_of(&r->before),
                    mean_of(&after), std_of(&r->before), std_of(&after), acc, mon);
        break;
    }
    case SIM_EV_KILL: {
        int killed = 0;
        for (int i = 0; i < n; i++) {
            dev_view v;
            view_of(&s->dev[r->ids[i]], &v);
            killed += (uint64_t)v.kills > r->base[i];
        }
        models_of(s, r, models, sizeof models);
        sim_log(s, "event %llu effect: %d/%d devices lost power, %d of them back up and idle; "
                   "running now: %s",
                id, killed, n, done - (n - killed), models);
        break;
    }
    case SIM_EV_CORRUPT:
        sim_log(s, "event %llu effect: %d/%d devices finished with corrupted bytes; %llu refused "
                   "the bundle (digest check) and reported the update failed",
                id, done, n, (unsigned long long)r->corrected);
        break;
    case SIM_EV_SKEW:
        sim_log(s, "event %llu effect: %d/%d devices corrected their clock from the server's time "
                   "(the last after %.1f s)",
                id, done, n, last);
        break;
    default:
        break;
    }
}

void sim_effects_tick(struct sim *s, uint64_t now)
{
    for (size_t k = 0; k < s->record_count;) {
        sim_record *r = &s->records[k];
        if (r->end_ms != 0 && !r->ended && now >= r->end_ms)
            end_of(s, r);
        if (!r->closed) {
            for (int i = 0; i < r->count; i++) {
                if (r->done[i] || !shows(s, r, i))
                    continue;
                r->done[i] = 1;
                r->done_count++;
                uint64_t from = r->end_ms != 0 && r->ev.kind == SIM_EV_OUTAGE ? r->end_ms : r->at_ms;
                r->dwell_s[i] = (double)(now - from) / 1000.0;
            }
            if (r->done_count == r->count || now >= r->deadline_ms) {
                summary(s, r);
                r->closed = 1;
            }
        }
        if (r->closed && (r->end_ms == 0 || r->ended)) {
            free(r->ids), free(r->done), free(r->base), free(r->dwell_s);
            s->records[k] = s->records[--s->record_count];
            continue;
        }
        k++;
    }
}

void sim_effects_free(struct sim *s)
{
    for (size_t k = 0; k < s->record_count; k++) {
        sim_record *r = &s->records[k];
        free(r->ids), free(r->done), free(r->base), free(r->dwell_s);
    }
    free(s->records);
    s->records = NULL;
    s->record_count = s->record_cap = 0;
}
