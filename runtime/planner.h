/*
 * Memory planner: places buffers with known lifetimes inside one region so
 * that buffers alive at the same time never overlap, keeping the region
 * small. Pure computation on caller memory; the interpreter feeds it tensor
 * and scratch lifetimes.
 */
#ifndef TMO_PLANNER_H
#define TMO_PLANNER_H

#include <stddef.h>
#include <stdint.h>

/* Kept small: the planner's working memory is borrowed from the arena. */
typedef struct plan_item {
    uint32_t size;   /* bytes, already rounded to the alignment; 0 = not placed */
    uint32_t offset; /* result */
    int16_t first;   /* first operator index that uses it, -1 if none */
    int16_t last;    /* last operator index that uses it (>= first) */
    int16_t next;    /* planner-internal list link */
} plan_item;

/*
 * Assigns offsets to the n items (n <= 32767) using order[0..n) as working memory and
 * returns the size of the region they need, or SIZE_MAX when it would exceed
 * 2 GiB. Deterministic for a given input.
 */
size_t plan_offsets(plan_item *items, uint16_t *order, uint32_t n);

#endif
