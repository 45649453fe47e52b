/*
 * Greedy-by-size placement (the strategy of TFLM's GreedyMemoryPlanner):
 * buffers are placed largest first, each at the lowest offset that does not
 * collide with an already placed buffer whose lifetime overlaps. Placed
 * buffers are kept in a list sorted by offset so each placement is one walk:
 * O(n^2) overall, bounded by TMO_MAX_TENSORS + TMO_MAX_OPS items.
 */
#include "planner.h"

#define PLAN_MAX_BYTES 0x7fffffffu

/* Larger first; among equals, earlier first use first, then lower index (deterministic). */
static int before(const plan_item *items, uint32_t a, uint32_t b)
{
    if (items[a].size != items[b].size)
        return items[a].size > items[b].size;
    if (items[a].first != items[b].first)
        return items[a].first < items[b].first;
    return a < b;
}

static void sift_down(const plan_item *items, uint16_t *heap, uint32_t root, uint32_t n)
{
    for (;;) {
        uint32_t child = 2 * root + 1;
        if (child >= n)
            return;
        /* Max-heap on "placed later", so heap sort leaves order[] in placement order. */
        if (child + 1 < n && before(items, heap[child], heap[child + 1]))
            child++;
        if (!before(items, heap[root], heap[child]))
            return;
        uint16_t t = heap[root];
        heap[root] = heap[child];
        heap[child] = t;
        root = child;
    }
}

static void sort_order(const plan_item *items, uint16_t *order, uint32_t n)
{
    for (uint32_t i = n / 2; i-- > 0;)
        sift_down(items, order, i, n);
    for (uint32_t end = n; end-- > 1;) {
        uint16_t t = order[0];
        order[0] = order[end];
        order[end] = t;
        sift_down(items, order, 0, end);
    }
}

static int overlaps_in_time(const plan_item *a, const plan_item *b)
{
    return a->first <= b->last && b->first <= a->last;
}

size_t plan_offsets(plan_item *items, uint16_t *order, uint32_t n)
{
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; i++) {
        items[i].offset = 0;
        items[i].next = -1;
        if (items[i].size != 0)
            order[count++] = (uint16_t)i;
    }
    /* After sorting, order[0] is the first buffer to place. */
    sort_order(items, order, count);
    int16_t head = -1;
    uint64_t total = 0;
    for (uint32_t k = 0; k < count; k++) {
        plan_item *it = &items[order[k]];
        uint64_t candidate = 0;
        for (int16_t j = head; j >= 0; j = items[j].next) {
            const plan_item *placed = &items[j];
            if (!overlaps_in_time(it, placed))
                continue;
            if (candidate + it->size <= placed->offset)
                break;
            uint64_t end = (uint64_t)placed->offset + placed->size;
            if (end > candidate)
                candidate = end;
        }
        if (candidate + it->size > PLAN_MAX_BYTES)
            return SIZE_MAX;
        it->offset = (uint32_t)candidate;
        int16_t *link = &head;
        while (*link >= 0 && items[*link].offset <= it->offset)
            link = &items[*link].next;
        it->next = *link;
        *link = (int16_t)order[k];
        if (candidate + it->size > total)
            total = candidate + it->size;
    }
    return (size_t)total;
}
