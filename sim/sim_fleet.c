/*
 * The simulated fleet running: the simulated clock, the scheduler (which
 * device steps next, events, effects), the step workers (agent steps, with
 * every PSA call serialized by psa_lock: mbedTLS 2.28's PSA is not
 * thread-safe; a worker lets the lock go while its agent waits for the
 * server, so several check-ins overlap), the inference threads (each drives
 * its share of devices at infer_hz), the command queue other threads hand
 * events through, and the log.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host.h"
#include "sim_priv.h"

#define MAX_SLEEP_NS 50000000ull  /* the control thread looks at commands at least this often */
#define TICK_NS 200000000ull      /* effects and timers */

uint64_t sim_clock_ms(const struct sim *s)
{
    if (s->start_ns == 0)
        return 0;
    return (uint64_t)((double)(host_now_ns() - s->start_ns) * s->cfg.speed / 1e6);
}

uint64_t sim_now_ms(sim *s)
{
    return sim_clock_ms(s);
}

void sim_log(struct sim *s, const char *fmt, ...)
{
    char msg[900], line[1000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "sim %9.1fs %s", (double)sim_clock_ms(s) / 1000.0, msg);
    pthread_mutex_lock(&s->log_lock);
    if (s->cfg.log != NULL)
        s->cfg.log(s->cfg.log_ctx, line);
    else
        fprintf(stderr, "%s\n", line);
    pthread_mutex_unlock(&s->log_lock);
}

void sim_psa(struct sim *s, int lock)
{
    if (s->cfg.psa_lock != NULL)
        s->cfg.psa_lock(s->cfg.psa_ctx, lock);
    else if (lock)
        pthread_mutex_lock(&s->psa_lock);
    else
        pthread_mutex_unlock(&s->psa_lock);
}

void sim_crypto_lock(sim *s, int lock)
{
    sim_psa(s, lock);
}

void sim_wake(struct sim *s)
{
    pthread_mutex_lock(&s->cmd_lock);
    pthread_cond_signal(&s->cmd_cond);
    pthread_mutex_unlock(&s->cmd_lock);
}

/* Waits on the command condition for at most ns (monotonic clock). */
static void nap(struct sim *s, uint64_t ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t t = (uint64_t)ts.tv_nsec + ns;
    ts.tv_sec += (time_t)(t / 1000000000u);
    ts.tv_nsec = (long)(t % 1000000000u);
    pthread_mutex_lock(&s->cmd_lock);
    if (s->cmd_count == 0 && s->done_count == 0 && atomic_load(&s->running))
        pthread_cond_timedwait(&s->cmd_cond, &s->cmd_lock, &ts);
    pthread_mutex_unlock(&s->cmd_lock);
}

/* Simulated ms from now until due, as real ns (capped). */
static uint64_t real_ns_until(const struct sim *s, uint64_t due, uint64_t now, uint64_t cap)
{
    if (due <= now)
        return 0;
    double ns = (double)(due - now) * 1e6 / s->cfg.speed;
    return ns < (double)cap ? (uint64_t)ns : cap;
}

/* Queued commands and due scenario events, applied outside the lock. */
static void run_events(struct sim *s, uint64_t now)
{
    pthread_mutex_lock(&s->cmd_lock);
    size_t due = s->sched_next;
    while (due < s->sched_count && (uint64_t)(s->sched[due].at_s * 1000) <= now)
        due++;
    size_t n = s->cmd_count + (due - s->sched_next);
    sim_event *batch = n > 0 ? malloc(n * sizeof *batch) : NULL;
    if (batch != NULL) {
        if (s->cmd_count > 0)
            memcpy(batch, s->cmds, s->cmd_count * sizeof *batch);
        if (due > s->sched_next)
            memcpy(batch + s->cmd_count, s->sched + s->sched_next,
                   (due - s->sched_next) * sizeof *batch);
        s->cmd_count = 0;
        s->sched_next = due;
    }
    pthread_mutex_unlock(&s->cmd_lock);
    for (size_t i = 0; batch != NULL && i < n; i++)
        sim_events_apply(s, &batch[i], now);
    free(batch);
}

static uint64_t next_sched_ms(struct sim *s)
{
    pthread_mutex_lock(&s->cmd_lock);
    uint64_t t = s->sched_next < s->sched_count ? (uint64_t)(s->sched[s->sched_next].at_s * 1000)
                                                : UINT64_MAX;
    pthread_mutex_unlock(&s->cmd_lock);
    return t;
}

static int all_failed(struct sim *s)
{
    int failed = 1;
    for (int i = 0; failed && i < s->n; i++) {
        pthread_mutex_lock(&s->dev[i].lock);
        failed = s->dev[i].state == DEV_FAILED;
        pthread_mutex_unlock(&s->dev[i].lock);
    }
    return failed;
}

/* A step worker: runs one due device's step at a time with the PSA lock held. */
static void *worker_main(void *arg)
{
    struct sim *s = arg;
    pthread_mutex_lock(&s->work_lock);
    for (;;) {
        while (s->work_count == 0 && atomic_load(&s->running))
            pthread_cond_wait(&s->work_cond, &s->work_lock);
        if (!atomic_load(&s->running))
            break;
        int id = s->work[s->work_head];
        s->work_head = (s->work_head + 1) % (size_t)s->n;
        s->work_count--;
        pthread_mutex_unlock(&s->work_lock);
        sim_psa(s, 1);
        uint64_t next = sim_device_step(&s->dev[id], sim_clock_ms(s));
        sim_psa(s, 0);
        pthread_mutex_lock(&s->cmd_lock); /* hand the device back to the scheduler */
        s->done_ids[s->done_count] = id;
        s->done_due[s->done_count++] = next;
        pthread_cond_signal(&s->cmd_cond);
        pthread_mutex_unlock(&s->cmd_lock);
        pthread_mutex_lock(&s->work_lock);
    }
    pthread_mutex_unlock(&s->work_lock);
    return NULL;
}

/* Devices whose step ended go back into the schedule. */
static void take_back(struct sim *s)
{
    pthread_mutex_lock(&s->cmd_lock);
    for (size_t i = 0; i < s->done_count; i++) {
        sim_device *d = &s->dev[s->done_ids[i]];
        d->busy = 0;
        s->in_flight--;
        uint64_t due = s->done_due[i];
        pthread_mutex_lock(&d->lock); /* a kill armed "now" while the step ran: at once */
        if (due != UINT64_MAX && d->kill_armed && d->kill_phase == SIM_KILL_NOW)
            due = 0;
        pthread_mutex_unlock(&d->lock);
        if (due != UINT64_MAX)
            sim_heap_set(&s->ctl, d->index, due);
    }
    s->done_count = 0;
    pthread_mutex_unlock(&s->cmd_lock);
}

/* Hands due devices to the workers (at most one queued step per worker). */
static void dispatch(struct sim *s, uint64_t now)
{
    uint64_t due;
    int id;
    while (s->in_flight < (size_t)s->workers_started && (id = sim_heap_top(&s->ctl, &due)) >= 0 &&
           due <= now) {
        if (now - due > 1000)
            atomic_fetch_add(&s->steps_late, 1);
        if (now - due > atomic_load(&s->step_late_max))
            atomic_store(&s->step_late_max, now - due);
        sim_heap_remove(&s->ctl, id);
        s->dev[id].busy = 1;
        s->in_flight++;
        pthread_mutex_lock(&s->work_lock);
        s->work[(s->work_head + s->work_count) % (size_t)s->n] = id;
        s->work_count++;
        pthread_cond_signal(&s->work_cond);
        pthread_mutex_unlock(&s->work_lock);
    }
}

static void *control_main(void *arg)
{
    struct sim *s = arg;
    while (atomic_load(&s->running)) {
        uint64_t now = sim_clock_ms(s), real = host_now_ns();
        take_back(s);
        run_events(s, now);
        if (real >= s->next_tick_ns) {
            sim_effects_tick(s, now);
            s->next_tick_ns = real + TICK_NS;
            if (all_failed(s))
                atomic_store(&s->finished, 1);
        }
        if (s->cfg.progress_s > 0 && real >= s->next_progress_ns) {
            if (s->next_progress_ns != 0)
                sim_progress(s);
            s->next_progress_ns = real + (uint64_t)(s->cfg.progress_s * 1e9);
        }
        dispatch(s, now);
        uint64_t due = UINT64_MAX, sched = next_sched_ms(s);
        int full = s->in_flight >= (size_t)s->workers_started;
        if (!full)
            sim_heap_top(&s->ctl, &due);
        uint64_t wake = sched < due ? sched : due;
        nap(s, wake == UINT64_MAX ? MAX_SLEEP_NS : real_ns_until(s, wake, now, MAX_SLEEP_NS));
    }
    return NULL;
}

static void *infer_main(void *arg)
{
    const struct sim_infer_arg *ia = arg;
    struct sim *s = ia->s;
    int parts = s->cfg.infer_threads;
    sim_heap h;
    if (sim_heap_init(&h, (size_t)s->n) != 0)
        return NULL;
    double period = 1000.0 / s->cfg.infer_hz;
    uint64_t rng = s->cfg.seed + 99u * (uint64_t)ia->part;
    for (int i = ia->part; i < s->n; i += parts)
        sim_heap_set(&h, i, (uint64_t)(sim_rand01(&rng) * period));
    while (atomic_load(&s->running)) {
        uint64_t due, now = sim_clock_ms(s);
        int id = sim_heap_top(&h, &due);
        if (id < 0)
            break;
        if (due > now) {
            uint64_t ns = real_ns_until(s, due, now, MAX_SLEEP_NS);
            struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
            nanosleep(&ts, NULL);
            continue;
        }
        int rc = sim_device_infer(&s->dev[id], now);
        if (rc > 0)
            atomic_fetch_add(&s->inferences, 1);
        else if (rc < 0)
            atomic_fetch_add(&s->infer_errors, 1);
        if (rc != 0 && now > due + 1000)
            atomic_fetch_add(&s->infer_late, 1);
        uint64_t next = due + (uint64_t)(period * (0.9 + 0.2 * sim_rand01(&rng)));
        if (next + 5 * (uint64_t)period < now) /* far behind: skip, do not pile up */
            next = now + (uint64_t)period;
        sim_heap_set(&h, id, next);
    }
    sim_heap_free(&h);
    return NULL;
}

sim *sim_open(const sim_config *c, char *err, size_t err_len)
{
    struct sim *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&s->cmd_lock, NULL);
    pthread_mutex_init(&s->log_lock, NULL);
    pthread_mutex_init(&s->psa_lock, NULL);
    pthread_mutex_init(&s->work_lock, NULL);
    pthread_cond_init(&s->work_cond, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cmd_cond, &ca);
    pthread_condattr_destroy(&ca);
    if (sim_setup(s, c, err, err_len) != 0) {
        sim_close(s);
        return NULL;
    }
    size_t n = (size_t)s->n;
    s->work = malloc(n * sizeof *s->work);
    s->done_ids = malloc(n * sizeof *s->done_ids);
    s->done_due = malloc(n * sizeof *s->done_due);
    if (s->work == NULL || s->done_ids == NULL || s->done_due == NULL) {
        snprintf(err, err_len, "out of memory");
        sim_close(s);
        return NULL;
    }
    return s;
}

static void stop_threads(struct sim *s, int control);

int sim_start(sim *s, char *err, size_t err_len)
{
    if (s->start_ns != 0) {
        snprintf(err, err_len, "a simulation starts once");
        return -1;
    }
    s->start_ns = host_now_ns();
    uint64_t rng = s->cfg.seed ^ 0xC0FFEE;
    for (int i = 0; i < s->n; i++) /* power on spread over the ramp, like a fleet booting */
        sim_heap_set(&s->ctl, i, (uint64_t)(sim_rand01(&rng) * s->cfg.ramp_s * 1000));
    atomic_store(&s->running, 1);
    int workers = s->cfg.step_workers < 1 ? 1 : s->cfg.step_workers;
    for (int w = 0; w < workers && w < SIM_MAX_WORKERS; w++) {
        if (pthread_create(&s->worker[w], NULL, worker_main, s) != 0)
            break;
        s->workers_started++;
    }
    if (s->cfg.infer_hz > 0)
        for (int t = 0; t < s->cfg.infer_threads; t++) {
            s->infer_arg[t].s = s;
            s->infer_arg[t].part = t;
            if (pthread_create(&s->infer[t], NULL, infer_main, &s->infer_arg[t]) != 0)
                break;
            s->infer_started++;
        }
    /* The scheduler last: it reads how many workers there are. */
    if (s->workers_started == 0 || pthread_create(&s->control, NULL, control_main, s) != 0) {
        snprintf(err, err_len, "cannot start the simulator's threads");
        stop_threads(s, 0);
        return -1;
    }
    s->threads_started = 1;
    sim_log(s, "started %d devices against %s (speed x%g, %g inferences/s each, %d step "
               "worker%s, %d inference thread%s, state in %s)",
            s->n, s->cfg.server_url, s->cfg.speed, s->cfg.infer_hz, s->workers_started,
            s->workers_started == 1 ? "" : "s", s->infer_started, s->infer_started == 1 ? "" : "s",
            s->state_dir);
    return 0;
}

static int queue(struct sim *s, const sim_event *ev)
{
    pthread_mutex_lock(&s->cmd_lock);
    if (s->cmd_count == s->cmd_cap) {
        size_t cap = s->cmd_cap ? 2 * s->cmd_cap : 8;
        sim_event *grown = realloc(s->cmds, cap * sizeof *grown);
        if (grown == NULL) {
            pthread_mutex_unlock(&s->cmd_lock);
            return -1;
        }
        s->cmds = grown;
        s->cmd_cap = cap;
    }
    s->cmds[s->cmd_count++] = *ev;
    pthread_cond_signal(&s->cmd_cond);
    pthread_mutex_unlock(&s->cmd_lock);
    return 0;
}

int sim_apply(sim *s, const sim_event *ev, char *err, size_t err_len)
{
    if (queue(s, ev) != 0) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    return 0;
}

int sim_apply_text(sim *s, const char *event, char *err, size_t err_len)
{
    sim_event ev;
    if (sim_event_parse(event, &ev, err, err_len) != 0)
        return -1;
    return sim_apply(s, &ev, err, err_len);
}

int sim_schedule(sim *s, const sim_scenario *sc, char *err, size_t err_len)
{
    pthread_mutex_lock(&s->cmd_lock);
    size_t keep = s->sched_count - s->sched_next, n = keep + sc->count;
    sim_event *all = malloc((n ? n : 1) * sizeof *all);
    if (all == NULL) {
        pthread_mutex_unlock(&s->cmd_lock);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    /* Merge the pending events with the new ones by time (both sorted). */
    size_t i = s->sched_next, j = 0, k = 0;
    while (i < s->sched_count || j < sc->count)
        all[k++] = j >= sc->count || (i < s->sched_count && s->sched[i].at_s <= sc->events[j].at_s)
                       ? s->sched[i++]
                       : sc->events[j++];
    free(s->sched);
    s->sched = all;
    s->sched_count = n;
    s->sched_next = 0;
    pthread_cond_signal(&s->cmd_cond);
    pthread_mutex_unlock(&s->cmd_lock);
    return 0;
}

int sim_finished(sim *s)
{
    return atomic_load(&s->finished);
}

void sim_stop(sim *s)
{
    if (s == NULL || !s->threads_started)
        return;
    stop_threads(s, 1);
}

static void stop_threads(struct sim *s, int control)
{
    atomic_store(&s->running, 0);
    sim_wake(s);
    pthread_mutex_lock(&s->work_lock);
    pthread_cond_broadcast(&s->work_cond);
    pthread_mutex_unlock(&s->work_lock);
    if (control)
        pthread_join(s->control, NULL);
    for (int w = 0; w < s->workers_started; w++)
        pthread_join(s->worker[w], NULL); /* each finishes the step it runs */
    for (int t = 0; t < s->infer_started; t++)
        pthread_join(s->infer[t], NULL);
    s->threads_started = 0;
    s->workers_started = 0;
    s->infer_started = 0;
}

void sim_close(sim *s)
{
    if (s == NULL)
        return;
    sim_stop(s);
    for (int i = 0; s->dev != NULL && i < s->n; i++)
        if (s->dev[i].ag != NULL) {
            sim_psa(s, 1);
            sim_device_close(&s->dev[i]);
            sim_psa(s, 0);
        }
    sim_effects_free(s);
    sim_teardown(s);
    free(s->cmds);
    free(s->sched);
    free(s->work);
    free(s->done_ids);
    free(s->done_due);
    pthread_mutex_destroy(&s->cmd_lock);
    pthread_mutex_destroy(&s->log_lock);
    pthread_mutex_destroy(&s->psa_lock);
    pthread_mutex_destroy(&s->work_lock);
    pthread_cond_destroy(&s->work_cond);
    pthread_cond_destroy(&s->cmd_cond);
    free(s);
}
