/*
 * The fleet simulator as a library (docs/simulator.md): N simulated devices
 * in one process, each a real agent (own key, enrollment, signed check-ins,
 * bundles downloaded and verified by the real update engine) running real
 * inferences with the real runtime on its own data stream, in heterogeneous
 * device classes, with drift and faults applied by a scenario or on demand.
 * `tinymlops sim` and `tinymlops demo` are built on it.
 *
 *     sim_config c; sim_config_defaults(&c);
 *     c.server_url = url; c.devices = 50; c.admin_token = tok; c.root_keys = ...;
 *     sim *s = sim_open(&c, err, sizeof err);
 *     sim_start(s, err, sizeof err);
 *     sim_apply_text(s, "drift group=lab shift=4", err, sizeof err);
 *     char *status = sim_status_json(s, 0);  ...  free(status);
 *     sim_stop(s); sim_close(s);
 *
 * Threads: a scheduler applies events and hands due devices to step_workers
 * workers, which run agent_open/agent_step/agent_close with all PSA work
 * serialized by one lock (mbedTLS 2.28's PSA is not thread-safe) that a
 * worker releases while its agent waits for the server; infer_threads
 * threads run the inferences. The functions below may be called from any
 * thread.
 */
#ifndef TMO_SIM_H
#define TMO_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "scenario.h"

typedef struct sim_config {
    const char *server_url;
    const char *enroll_token; /* one token for every device (its uses >= devices), or: */
    const char *admin_token;  /* the simulator makes enrollment tokens per group and tags */
    const char *state_dir;    /* device identities and slots; NULL: a temporary dir, removed */
    const char *const *root_keys; /* pinned root public key files (1..8) */
    size_t root_key_count;
    int devices;
    const char *mix;    /* "m0:10,m4:50,m7:30,gw:10" (percent per class); NULL: that one */
    const char *groups; /* "field:80,lab:20"; NULL: every device in group "sim" */
    const char *tags;   /* "canary:5,beta:20": each tag on that percent of devices; NULL: none */
    double speed;       /* simulated seconds per real second (1) */
    int checkin_interval_s; /* 0: the server's */
    double infer_hz;        /* inferences per device per simulated second (1; 0: none) */
    double ramp_s;          /* devices power on spread over this many simulated seconds (5) */
    int infer_threads;      /* 1 */
    int step_workers;       /* agents stepping at once, overlapping their network waits (4) */
    const char *data_path;  /* labelled CSV/raw data (NULL: the digits file when installed) */
    const char *ref_dir;    /* MLPerf reference inputs (NULL: $TINYMLOPS_REF, ../shared/ref) */
    uint64_t seed;          /* classes, groups, streams, selections (1) */
    int health_inferences;  /* agents' health-window rounds (< 0: the agent's default) */
    int max_backoff_s;      /* agents' retry backoff cap (0: 60) */
    int monitor_window;     /* inferences per monitor report window (100) */
    int verbose;            /* forward every agent's own log lines too */
    double progress_s;      /* a fleet progress line every this many real seconds (0: none) */
    /* The lock every PSA call of the simulated agents runs under (lock != 0: take, 0: release).
       NULL: the simulator's own (see sim_crypto_lock). Every other PSA user of the process
       (signing or packing bundles, a server in the same process) must hold the same lock while
       the simulation runs: pass theirs here (e.g. the server's srv_crypto_lock/unlock), or take
       the simulator's with sim_crypto_lock. */
    void (*psa_lock)(void *ctx, int lock);
    void *psa_ctx;
    /* The event log (one line per call, no newline); NULL: stderr. Called from the simulator's
       threads, one call at a time; it may call sim_apply, sim_status_json and the like, but not
       sim_stop or sim_close. */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
} sim_config;

void sim_config_defaults(sim_config *c);

typedef struct sim sim;

/*
 * Validates the configuration, prepares the state dir (one subdirectory per
 * device, class profiles), loads the data sets and makes enrollment tokens
 * (admin_token). No agent runs yet. NULL with a message in err.
 */
sim *sim_open(const sim_config *c, char *err, size_t err_len);

/* Starts the control and inference threads. 0, or -1 with a message. */
int sim_start(sim *s, char *err, size_t err_len);

/*
 * Applies an event now (its at_s is ignored), or parses one first ("kill
 * class=m4 count=2 during=trial"). The control thread applies it within
 * milliseconds; the effects are logged. 0, or -1 with a message.
 */
int sim_apply(sim *s, const sim_event *ev, char *err, size_t err_len);
int sim_apply_text(sim *s, const char *event, char *err, size_t err_len);

/*
 * Schedules a scenario's events at their times from the start (events whose
 * time has passed run at once). The scenario is copied. An `end` event stops
 * the simulation (sim_finished turns true).
 */
int sim_schedule(sim *s, const sim_scenario *sc, char *err, size_t err_len);

/*
 * Takes (lock != 0) or releases the lock the simulated agents' PSA calls
 * run under: hold it around any PSA use of your own while the simulation
 * runs (mbedTLS 2.28's PSA is not thread-safe), e.g. packing a bundle.
 */
void sim_crypto_lock(sim *s, int lock);

/* Simulated milliseconds since the start (sim_start). */
uint64_t sim_now_ms(sim *s);

/* Whether an `end` event ran, or every device failed for good. */
int sim_finished(sim *s);

/* Fleet counters, cheap enough to poll. */
typedef struct sim_counters {
    uint64_t sim_ms;
    int devices, up, enrolled, with_model, updating, down, failed;
    uint64_t checkins_ok, checkins_failed;
    uint64_t inferences, infer_errors, infer_late; /* late: started > 1 s behind schedule */
    uint64_t reports;                              /* monitor windows closed */
    uint64_t steps, events;
    uint64_t steps_late;       /* agent steps started > 1 simulated s after they were due */
    uint64_t step_late_max_ms; /* the latest start, simulated ms */
    uint64_t step_us;          /* real time spent inside agent_step, summed */
} sim_counters;
void sim_get_counters(sim *s, sim_counters *out);

/*
 * The fleet as JSON text (heap, free()): counters, devices by class, group,
 * model version and update phase, active faults; with devices != 0 also one
 * object per device (docs/simulator.md "Status"). NULL when out of memory.
 */
char *sim_status_json(sim *s, int devices);

/* One device's status as JSON text (heap), NULL for a bad index. */
char *sim_device_json(sim *s, int index);

/*
 * Representative inputs for a model's monitoring profile, made the way an
 * undrifted simulated device makes its inputs: `rows` rows spread over the
 * labelled data set that fits the model's input (data_path NULL: the
 * digits file), quantized with the model's input scale and zero point and
 * laid end to end (what `bundle pack --profile-data` and host_profile_build
 * take), with their labels (-1 unknown). Heap *data and *labels. 0, or -1
 * with a message.
 */
int sim_profile_rows(const uint8_t *model, size_t model_len, const char *data_path, size_t rows,
                     uint8_t **data, size_t *data_len, int32_t **labels, char *err, size_t err_len);

/* Stops the threads (Ctrl-C: call from the main thread after the signal). Idempotent. */
void sim_stop(sim *s);

/* Stops, closes every agent and frees everything (removes a temporary state dir). */
void sim_close(sim *s);

#endif
