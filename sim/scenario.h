/*
 * Scenario files of the fleet simulator: a timeline of events (drift,
 * network outages, kills during updates, corrupted downloads, clock skew)
 * on subsets of devices. The line format is specified, with examples, in
 * docs/simulator.md "Scenario files"; this is its parser (pure: no I/O
 * besides sim_scenario_load reading the file).
 *
 *   # time   event    selector...            parameters...
 *   0        note     text="baseline"
 *   60       drift    group=field pct=20     shift=4 duration=300
 *   +30      outage   class=m4 count=5       duration=45
 */
#ifndef TMO_SIM_SCENARIO_H
#define TMO_SIM_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "sim_class.h"

#define SIM_SEL_MAX 8      /* names per selector list */
#define SIM_SEL_RANGES 16  /* id ranges per selector */
#define SIM_DRIFT_CLASSES 32

typedef enum {
    SIM_EV_NOTE = 0, /* only logs its text */
    SIM_EV_DRIFT,    /* changes the input stream */
    SIM_EV_OUTAGE,   /* every request fails for duration */
    SIM_EV_KILL,     /* power loss (now, or when an update reaches a phase), back after down_s */
    SIM_EV_CORRUPT,  /* bytes flipped in the next bundle download responses */
    SIM_EV_SKEW,     /* the device clock jumps */
    SIM_EV_END       /* the simulation stops */
} sim_event_kind;

/* When a kill fires. */
typedef enum {
    SIM_KILL_NOW = 0,
    SIM_KILL_UPDATE,   /* any phase of an update */
    SIM_KILL_DOWNLOAD, /* while downloading */
    SIM_KILL_VERIFY,   /* after the last byte, before the bundle is verified */
    SIM_KILL_TRIAL     /* after activation, before confirmation (known answers, health) */
} sim_kill_phase;

/* Which devices an event applies to: every filter given must match, then pct or count. */
typedef struct sim_select {
    uint32_t classes;                       /* bit per class index; 0: any */
    size_t group_count, tag_count;          /* 0: any */
    char groups[SIM_SEL_MAX][SIM_NAME_LEN]; /* any of them */
    char tags[SIM_SEL_MAX][SIM_NAME_LEN];   /* any of them */
    size_t range_count;                     /* 0: any */
    uint32_t ranges[SIM_SEL_RANGES][2];     /* device indices, inclusive */
    double pct;                             /* of the matching devices, 0 < pct <= 100 */
    uint32_t count;                         /* at most this many of them; 0: no limit */
} sim_select;

/* How a drifted input stream differs (raw feature units, before quantization). */
typedef struct sim_drift {
    int reset;           /* back to the undrifted stream (the other fields are ignored) */
    float shift, scale;  /* x * scale + shift (defaults 0, 1) */
    float noise;         /* + N(0, noise^2) */
    int stuck;           /* a fraction of the features reads stuck_value */
    float stuck_value;
    int saturate;        /* a fraction of the features reads the data's maximum */
    float frac;          /* that fraction (default 1: every feature) */
    size_t class_count;  /* > 0: rows are drawn by class with these weights */
    float class_weight[SIM_DRIFT_CLASSES];
} sim_drift;

typedef struct sim_event {
    double at_s; /* simulated seconds from the start */
    int line;    /* in the scenario file; 0 when made otherwise */
    sim_event_kind kind;
    sim_select sel;
    double duration_s; /* OUTAGE (required), DRIFT (0: until changed) */
    sim_drift drift;
    sim_kill_phase phase;
    double down_s;   /* KILL: simulated seconds before power comes back */
    double within_s; /* KILL: an armed kill expires after this (0: never) */
    uint32_t corrupt_times, corrupt_bytes;
    double skew_s; /* SKEW: seconds added to the device clock (replaces an earlier skew) */
    char text[200];
} sim_event;

typedef struct sim_scenario {
    sim_event *events; /* sorted by time; events at the same time keep file order */
    size_t count;
} sim_scenario;

/* Names of kinds and kill phases as written in scenario files. */
const char *sim_event_name(sim_event_kind k);
const char *sim_kill_phase_name(sim_kill_phase p);

/*
 * Parses scenario text; name is used in messages ("file:line: problem").
 * Returns 0, or -1 with the first problem in err; out is empty then.
 */
int sim_scenario_parse(const char *name, const char *text, sim_scenario *out, char *err,
                       size_t err_len);

/* Reads and parses a file. */
int sim_scenario_load(const char *path, sim_scenario *out, char *err, size_t err_len);

void sim_scenario_free(sim_scenario *s);

/*
 * Parses one event without its time ("drift class=m4 shift=2"), for events
 * applied at once (a demo, an API). at_s is 0, line 0.
 */
int sim_event_parse(const char *text, sim_event *ev, char *err, size_t err_len);

#endif
