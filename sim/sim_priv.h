/*
 * Internals of the fleet simulator shared by its files: the simulator and
 * device objects and what each file provides to the others. Not installed;
 * sim.h is the API.
 *
 * Threads: the scheduler (one) decides which device steps next, applies
 * events and follows their effects; step workers (a few) run one device's
 * agent_open/agent_step/agent_close at a time, never two steps of a device
 * at once, all PSA work under the fleet's psa_lock (mbedTLS 2.28's PSA is
 * not thread-safe), which a worker lets go while its agent waits for the
 * server (the agent's network hook); inference threads run inferences.
 * [step] fields belong to whichever worker runs the device's step; [lock]
 * fields are guarded by the device's lock (the inference thread holds it
 * around each inference; status readers take it); [sched] fields belong to
 * the scheduler; [inf] to the device's inference thread.
 */
#ifndef TMO_SIM_PRIV_H
#define TMO_SIM_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "agent.h"
#include "sim.h"
#include "sim_class.h"
#include "sim_data.h"
#include "sim_heap.h"
#include "tinymlops/monitor.h"
#include "tinymlops/profile.h"

#define SIM_MAX_INFER_THREADS 8
#define SIM_MAX_WORKERS 16
#define SIM_TOP_CLASSES 16 /* predicted classes counted per device */
#define SIM_WATCH_MAX 5    /* devices per event whose agent log lines are shown */
#define SIM_WATCH_MS 60000 /* for this many simulated ms */

typedef enum { DEV_OFF = 0, DEV_UP, DEV_DOWN, DEV_FAILED } sim_dev_state;

/* What the agent said about itself after its last step (agent_status), for status and kills. */
typedef struct sim_snapshot {
    int enrolled;
    char model[72], version[24]; /* of the active slot; "" when none */
    char phase[12];              /* update job phase ("idle", "download", ...) */
    uint32_t offset, size;       /* download progress */
    uint64_t checkins_ok, checkins_failed;
    int64_t clock_offset_ms;
    char last_error[200];
} sim_snapshot;

/* The last monitor report of a device. */
typedef struct sim_monitor_view {
    uint64_t reports;
    tmo_drift drift;
    uint32_t events; /* TMO_EV_* of the last report */
    uint64_t submit_failed; /* reports the agent could not buffer */
} sim_monitor_view;

typedef struct sim_device {
    struct sim *sim;
    int index, cls, group;
    uint32_t tags; /* bit per --tags name */
    char name[16];
    char device_id[33]; /* [lock] once powered on */
    const char *token;  /* enrollment token (shared string) */
    pthread_mutex_t lock;
    /* [lock] the agent and its state; written by the step worker */
    agent *ag;
    sim_dev_state state;
    sim_snapshot snap;
    uint64_t ok_before, failed_before; /* check-ins of earlier agent lives (before power losses) */
    /* [lock] faults: set by events (scheduler), acted on by the step worker */
    uint64_t up_at_ms, outage_until_ms, kill_expires_ms;
    int kill_armed;
    sim_kill_phase kill_phase;
    double kill_down_s;
    uint32_t corrupt_left, corrupt_bytes;
    int64_t skew_ms;
    int skew_pending; /* skew_ms not yet given to the running agent */
    uint64_t failed_during_outage;
    int kills, restarts;
    atomic_uint_fast64_t watch_until_ms; /* show this device's agent log lines until then */
    /* [sched] */
    int busy; /* a worker runs its step */
    /* [lock] the input stream and what the device saw */
    sim_drift drift;
    uint64_t drift_until_ms; /* 0: no end */
    uint64_t rng, salt;
    sim_stream_stats stats, stats_before; /* since the last drift change; before it */
    uint64_t inferences, errors, correct, labelled;
    uint64_t correct_before, labelled_before;
    uint32_t top1[SIM_TOP_CLASSES];
    double latency_us; /* simulated, summed */
    /* [lock] the model binding and its monitor (rebuilt when the model changes) */
    uint64_t bound_gen;
    const sim_dataset *ds;
    tmo_profile prof;
    tmo_monitor mon;
    void *mon_mem;
    size_t mon_len;
    int mon_on;
    uint64_t mon_base_us, mon_mark_ns, mon_last_us; /* the device clock the monitor reads */
    sim_monitor_view mview;
    char note[240]; /* a line to log once the lock is released ("" when none) */
    /* [inf] */
    uint64_t next_infer_ms;
} sim_device;

/*
 * An applied event and the devices it touched, followed until every device
 * shows the effect (or a deadline passes), then summarized in the log.
 */
typedef struct sim_record {
    sim_event ev;
    uint64_t serial, at_ms, end_ms, deadline_ms;
    int count, done_count, ended, closed;
    int *ids;
    uint8_t *done;
    uint64_t *base;           /* per device: a counter at the start (kind-specific) */
    double *dwell_s;          /* per device: seconds until its effect showed */
    sim_stream_stats before;  /* DRIFT: the inputs before the change, summed */
    uint64_t corrected, extra; /* kind-specific tallies for the summary */
} sim_record;

struct sim {
    sim_config cfg;
    char state_dir[1024];
    int temp_dir;
    char *root_keys[8];
    char *server_url, *enroll_token, *admin_token;
    char profile_path[SIM_CLASSES][1100];
    char data_path[1024], ref_dir[1024];
    sim_split groups, tags;
    char **tokens;
    size_t token_count;
    sim_data data;
    sim_device *dev;
    int n;
    /* clock */
    uint64_t start_ns;
    /* threads */
    pthread_t control, infer[SIM_MAX_INFER_THREADS], worker[SIM_MAX_WORKERS];
    int workers_started;
    pthread_mutex_t psa_lock;
    /* step hand-off: scheduler -> workers (work), workers -> scheduler (done, under cmd_lock) */
    pthread_mutex_t work_lock;
    pthread_cond_t work_cond;
    int *work, *done_ids;
    uint64_t *done_due;
    size_t work_head, work_count, done_count, in_flight;
    struct sim_infer_arg {
        struct sim *s;
        int part;
    } infer_arg[SIM_MAX_INFER_THREADS];
    int threads_started, infer_started;
    atomic_int running;
    atomic_int finished;
    /* commands for the control thread */
    pthread_mutex_t cmd_lock;
    pthread_cond_t cmd_cond;
    sim_event *cmds;
    size_t cmd_count, cmd_cap;
    sim_event *sched; /* scenario events [ctl after sim_schedule hands them over under cmd_lock] */
    size_t sched_count, sched_next;
    sim_record *records; /* [ctl] */
    size_t record_count, record_cap;
    /* [ctl] */
    sim_heap ctl;
    uint64_t next_progress_ns, next_tick_ns;
    sim_counters last; /* at the previous progress line */
    uint64_t last_ns;
    /* counters */
    atomic_uint_fast64_t steps, events, inferences, infer_errors, infer_late, reports;
    atomic_uint_fast64_t steps_late, step_late_max, step_ns;
    pthread_mutex_t log_lock;
};

/* ---- sim_setup.c: sim_open's work ---- */
int sim_setup(struct sim *s, const sim_config *c, char *err, size_t err_len);
void sim_teardown(struct sim *s); /* frees what sim_setup made (agents must be closed) */

/* ---- sim_fleet.c ---- */
uint64_t sim_clock_ms(const struct sim *s); /* simulated ms since start */
void sim_log(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Wakes the control thread (a command was queued). */
void sim_wake(struct sim *s);
/* Takes / releases the PSA lock (cfg.psa_lock, or the simulator's own). */
void sim_psa(struct sim *s, int lock);

/* ---- sim_device.c: one device's life on the control thread ---- */
/* Powers the device on (agent_open); 0, or -1 (the device is FAILED, logged). */
int sim_device_power_on(sim_device *d, uint64_t now_ms);
/* Power loss: agent_close without any goodbye; back on at now + down_ms (the next due step). */
void sim_device_kill(sim_device *d, uint64_t now_ms, uint64_t down_ms, const char *why);
/*
 * [step, psa_lock held] One agent_step and what follows from it (or power
 * on); returns the simulated ms of the next due step, UINT64_MAX for none.
 */
uint64_t sim_device_step(sim_device *d, uint64_t now_ms);
void sim_device_close(sim_device *d);

/* ---- sim_infer.c: one inference (the inference threads) ---- */
/* Runs one inference on the device's model if it has one. 1 ran, 0 nothing to run, -1 error. */
int sim_device_infer(sim_device *d, uint64_t now_ms);
void sim_device_unbind(sim_device *d); /* [lock] frees the monitor */

/* ---- sim_events.c: selecting devices and applying events (control thread) ---- */
/* Which devices an event selects (indices into out, returns how many); serial varies pct picks. */
int sim_events_select(struct sim *s, const sim_event *ev, uint64_t serial, int *out);
void sim_events_apply(struct sim *s, const sim_event *ev, uint64_t now_ms);
/* Sets a device's drift (under its lock), restarting its since-the-change statistics. */
void sim_events_set_drift(sim_device *d, const sim_drift *drift);

/* ---- sim_effects.c: following each event's effect (control thread) ---- */
/* Starts following ev on ids (copied); the record's kind-specific start values are taken here. */
void sim_effects_follow(struct sim *s, const sim_event *ev, const int *ids, int count,
                        uint64_t now_ms);
/* Ends of outages and drifts with a duration, effects that showed, summaries. */
void sim_effects_tick(struct sim *s, uint64_t now_ms);
void sim_effects_free(struct sim *s);

/* ---- sim_status.c ---- */
void sim_progress(struct sim *s);

/* ---- sim_enroll.c ---- */
/* Enrollment tokens per (class, group, tags) through the admin API; sets every device's token. */
int sim_enroll_tokens(struct sim *s, char *err, size_t err_len);

#endif
