/*
 * The agent's telemetry state (agent_telemetry.c: the monitor on the running
 * model and the uploads; agent_tbuf.c: the durable, bounded buffer of
 * reports in <state>/telemetry/). Private to those two files; the rest of
 * the agent calls the telemetry_* functions of agent_priv.h.
 *
 * Locks: the monitor fields belong to the model lock (a->run.lock); the
 * buffer fields to mu. The model lock may be held when mu is taken, never
 * the other way round.
 */
#ifndef TMO_AGENT_TEL_H
#define TMO_AGENT_TEL_H

#include <pthread.h>
#include <stdint.h>

#include "agent_priv.h"
#include "tinymlops/monitor.h"

typedef struct tel_entry {
    uint64_t seq;
    uint32_t bytes;    /* file size */
    uint8_t in_flight; /* part of the upload in progress: never dropped */
} tel_entry;

typedef struct agent_tel {
    pthread_mutex_t mu;
    char dir[1100];
    /* [mu] durable counters (telemetry.json) */
    uint64_t next_seq;        /* sequence number of the next report */
    uint64_t pend_reports;    /* reports dropped since the last report that carried the count */
    uint64_t pend_inferences; /* ... and their inferences */
    uint64_t pend_id;         /* changes each time a report carries the pending counts */
    uint64_t drop_through;    /* files up to this seq are being dropped (finished at open) */
    uint64_t dropped_total, lost_total;
    /* [mu] buffer index, by seq */
    tel_entry *e;
    size_t n, cap;
    uint64_t bytes;
    uint32_t max_reports;
    uint64_t max_bytes;
    /* [mu] the model reports belong to */
    char bundle_digest[80]; /* "sha256:<hex>", "" unknown */
    char model[72], version[32];
    uint64_t uploaded_total, duplicates_total, rejected_total;
    /* [model lock] the monitor */
    tmo_profile prof;
    tmo_monitor mon;
    void *mon_mem;
    int mon_on;
    uint64_t bound_gen; /* a->run.generation the monitor was attached for */
    int bound;
    uint32_t window_inf;      /* inferences in the open window */
    uint64_t window_start_ms; /* agent clock when it opened */
    /* [step thread] uploads */
    uint64_t next_upload_ms;
    int failures;
    int ack_lost_once; /* AGENT_FAULT_LOSE_TELEMETRY_ACK done */
} agent_tel;

/* ---- agent_tbuf.c ---- */
/* Creates the directory, loads telemetry.json and the index, finishes an interrupted drop. */
int tbuf_open(agent *a, agent_tel *t, char *err, size_t err_len);
void tbuf_close(agent_tel *t);
/*
 * [mu] Makes one report durable: stamps its sequence number and the pending
 * drop count into the header, writes it with the model identity and at (server
 * time), then drops the oldest reports while over the bounds. 0, or -1 (the
 * report is counted as dropped).
 */
int tbuf_add(agent *a, agent_tel *t, const uint8_t *report, size_t len, int64_t at);
/* [mu] Marks up to max entries (and max_bytes) from the oldest as in flight; returns how many. */
size_t tbuf_take(agent_tel *t, size_t max, uint64_t max_bytes, uint64_t *seqs);
/* [mu] Clears the in-flight marks. */
void tbuf_release(agent_tel *t);
/* Reads the entry file of seq (heap JSON), NULL when gone. No lock needed. */
json_t *tbuf_read(const agent_tel *t, uint64_t seq);
/* [mu] Deletes acknowledged entries (persisting next_seq first). */
void tbuf_ack(agent *a, agent_tel *t, const uint64_t *seqs, size_t n);
/* [mu] Writes telemetry.json. */
int tbuf_save(agent *a, agent_tel *t);

#endif
