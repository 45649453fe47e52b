/*
 * Applying an event to the devices it selects (control thread): which
 * devices (class, group, tag, ids, then a deterministic pct or count of
 * them), and what changes on each (its input stream, its network, an armed
 * power loss, corrupted bundle bytes, its clock). sim_effects.c then
 * follows what the change did.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_priv.h"

static int in_names(const char (*names)[SIM_NAME_LEN], size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

static int matches(const struct sim *s, const sim_device *d, const sim_select *sel)
{
    if (sel->classes != 0 && !(sel->classes & (1u << d->cls)))
        return 0;
    if (sel->group_count > 0 && !in_names(sel->groups, sel->group_count, s->groups.name[d->group]))
        return 0;
    if (sel->tag_count > 0) {
        int any = in_names(sel->tags, sel->tag_count, sim_class_get(d->cls)->name);
        for (size_t t = 0; !any && t < s->tags.count; t++)
            any = (d->tags & (1u << t)) && in_names(sel->tags, sel->tag_count, s->tags.name[t]);
        if (!any)
            return 0;
    }
    if (sel->range_count > 0) {
        int any = 0;
        for (size_t r = 0; !any && r < sel->range_count; r++)
            any = (uint32_t)d->index >= sel->ranges[r][0] && (uint32_t)d->index <= sel->ranges[r][1];
        if (!any)
            return 0;
    }
    return 1;
}

typedef struct keyed {
    uint64_t key;
    int id;
} keyed;

static int by_key(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key ? 1 : x->id - y->id;
}

static int by_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

int sim_events_select(struct sim *s, const sim_event *ev, uint64_t serial, int *out)
{
    int n = 0;
    for (int i = 0; i < s->n; i++)
        if (matches(s, &s->dev[i], &ev->sel))
            out[n++] = i;
    int take = n;
    if (ev->sel.pct < 100)
        take = (int)((ev->sel.pct * n + 99.999) / 100); /* ceil, at least one of a non-empty set */
    if (ev->sel.count > 0 && (uint32_t)take > ev->sel.count)
        take = (int)ev->sel.count;
    if (take >= n)
        return n;
    /* A deterministic sample: the same seed and scenario pick the same devices every run. */
    keyed *k = malloc((size_t)n * sizeof *k);
    if (k == NULL)
        return 0;
    for (int i = 0; i < n; i++) {
        uint64_t st = s->cfg.seed ^ (serial * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)out[i] << 32);
        k[i].key = sim_rand(&st);
        k[i].id = out[i];
    }
    qsort(k, (size_t)n, sizeof *k, by_key);
    for (int i = 0; i < take; i++)
        out[i] = k[i].id;
    free(k);
    qsort(out, (size_t)take, sizeof *out, by_int);
    return take;
}

void sim_events_set_drift(sim_device *d, const sim_drift *drift)
{
    pthread_mutex_lock(&d->lock);
    d->stats_before = d->stats;
    memset(&d->stats, 0, sizeof d->stats);
    memset(d->top1, 0, sizeof d->top1);
    d->correct_before = d->correct;
    d->labelled_before = d->labelled;
    d->correct = d->labelled = 0;
    if (drift->reset) {
        memset(&d->drift, 0, sizeof d->drift);
        d->drift.scale = 1;
        d->drift.frac = 1;
    } else {
        d->drift = *drift;
    }
    pthread_mutex_unlock(&d->lock);
}

static uint64_t watch_ms(const struct sim *s)
{
    int iv = s->cfg.checkin_interval_s > 0 ? s->cfg.checkin_interval_s : 60;
    return SIM_WATCH_MS + 2000u * (uint64_t)iv;
}

static void apply_one(struct sim *s, const sim_event *ev, sim_device *d, uint64_t now)
{
    if (ev->kind == SIM_EV_DRIFT) {
        sim_events_set_drift(d, &ev->drift);
        return;
    }
    pthread_mutex_lock(&d->lock); /* status readers see these fields */
    switch (ev->kind) {
    case SIM_EV_OUTAGE:
        d->outage_until_ms = now + (uint64_t)(ev->duration_s * 1000);
        d->failed_during_outage = 0;
        break;
    case SIM_EV_KILL:
        d->kill_armed = 1;
        d->kill_phase = ev->phase;
        d->kill_down_s = ev->down_s;
        d->kill_expires_ms = ev->within_s > 0 ? now + (uint64_t)(ev->within_s * 1000) : 0;
        if (ev->phase == SIM_KILL_NOW && d->state == DEV_UP && !d->busy)
            sim_heap_set(&s->ctl, d->index, now); /* a busy device checks when its step ends */
        break;
    case SIM_EV_CORRUPT:
        d->corrupt_left += ev->corrupt_times;
        d->corrupt_bytes = ev->corrupt_bytes;
        break;
    case SIM_EV_SKEW:
        d->skew_ms = (int64_t)(ev->skew_s * 1000);
        d->skew_pending = 1; /* given to the agent by its next step (its worker's to call) */
        break;
    default:
        break;
    }
    pthread_mutex_unlock(&d->lock);
}

static void describe(const sim_event *ev, char *out, size_t len)
{
    const sim_drift *dr = &ev->drift;
    switch (ev->kind) {
    case SIM_EV_DRIFT:
        if (dr->reset)
            snprintf(out, len, "inputs back to normal");
        else {
            char until[40] = "";
            if (ev->duration_s > 0)
                snprintf(until, sizeof until, " for %g s", ev->duration_s);
            snprintf(out, len, "inputs x %g %+g, noise %g%s%s%s%s", dr->scale, dr->shift,
                     dr->noise, dr->stuck ? ", stuck features" : "",
                     dr->saturate ? ", saturated features" : "",
                     dr->class_count > 0 ? ", class mix changed" : "", until);
        }
        break;
    case SIM_EV_OUTAGE:
        snprintf(out, len, "network down for %g s", ev->duration_s);
        break;
    case SIM_EV_KILL:
        snprintf(out, len, "power loss %s%s, back after %g s",
                 ev->phase == SIM_KILL_NOW ? "now" : "during ",
                 ev->phase == SIM_KILL_NOW ? "" : sim_kill_phase_name(ev->phase), ev->down_s);
        break;
    case SIM_EV_CORRUPT:
        snprintf(out, len, "%u byte(s) flipped in each of the next %u bundle download(s)",
                 ev->corrupt_bytes, ev->corrupt_times);
        break;
    case SIM_EV_SKEW:
        snprintf(out, len, "device clock moved by %+g s", ev->skew_s);
        break;
    default:
        out[0] = '\0';
    }
}

void sim_events_apply(struct sim *s, const sim_event *ev, uint64_t now)
{
    uint64_t serial = atomic_fetch_add(&s->events, 1) + 1;
    char where[48] = "";
    if (ev->line > 0)
        snprintf(where, sizeof where, " (scenario line %d)", ev->line);
    if (ev->kind == SIM_EV_NOTE) {
        sim_log(s, "note%s: %s", where, ev->text);
        return;
    }
    if (ev->kind == SIM_EV_END) {
        sim_log(s, "end%s: stopping the simulation", where);
        atomic_store(&s->finished, 1);
        return;
    }
    int *ids = malloc((size_t)(s->n > 0 ? s->n : 1) * sizeof *ids);
    if (ids == NULL)
        return;
    int n = sim_events_select(s, ev, serial, ids);
    char what[200];
    describe(ev, what, sizeof what);
    sim_log(s, "event %llu%s: %s on %d device%s%s%s", (unsigned long long)serial, where,
            sim_event_name(ev->kind), n, n == 1 ? "" : "s", n > 0 ? ": " : "", n > 0 ? what : "");
    for (int i = 0; i < n; i++) {
        sim_device *d = &s->dev[ids[i]];
        apply_one(s, ev, d, now);
        if (i < SIM_WATCH_MAX)
            atomic_store(&d->watch_until_ms, now + watch_ms(s));
    }
    if (n > 0)
        sim_effects_follow(s, ev, ids, n, now);
    free(ids);
}
