/*
 * A binary min-heap of device ids keyed by a due time, with each id's
 * position remembered so a device can be rescheduled in O(log n): the
 * control thread's "who needs agent_step next" and each inference thread's
 * "who infers next". One owner thread per heap; no locking.
 */
#ifndef TMO_SIM_HEAP_H
#define TMO_SIM_HEAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_heap_entry {
    uint64_t key;
    int id;
} sim_heap_entry;

typedef struct sim_heap {
    sim_heap_entry *e;
    int *pos; /* per id: index in e, or -1 when absent */
    size_t n, ids;
} sim_heap;

/* Room for ids 0 .. ids - 1. 0, or -1 when out of memory. */
int sim_heap_init(sim_heap *h, size_t ids);
void sim_heap_free(sim_heap *h);

/* Inserts id with key, or moves it to key when present. */
void sim_heap_set(sim_heap *h, int id, uint64_t key);
void sim_heap_remove(sim_heap *h, int id);

/* The id with the smallest key (its key in *key), or -1 when empty. */
int sim_heap_top(const sim_heap *h, uint64_t *key);

#endif
