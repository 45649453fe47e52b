/*
 * Min-heap of device ids with decrease/increase-key (sim_heap.h).
 */
#include "sim_heap.h"

#include <stdlib.h>

int sim_heap_init(sim_heap *h, size_t ids)
{
    h->e = malloc((ids ? ids : 1) * sizeof *h->e);
    h->pos = malloc((ids ? ids : 1) * sizeof *h->pos);
    h->n = 0;
    h->ids = ids;
    if (h->e == NULL || h->pos == NULL) {
        sim_heap_free(h);
        return -1;
    }
    for (size_t i = 0; i < ids; i++)
        h->pos[i] = -1;
    return 0;
}

void sim_heap_free(sim_heap *h)
{
    free(h->e);
    free(h->pos);
    h->e = NULL;
    h->pos = NULL;
    h->n = 0;
}

static void put(sim_heap *h, size_t i, sim_heap_entry v)
{
    h->e[i] = v;
    h->pos[v.id] = (int)i;
}

static void up(sim_heap *h, size_t i)
{
    sim_heap_entry v = h->e[i];
    while (i > 0 && h->e[(i - 1) / 2].key > v.key) {
        put(h, i, h->e[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    put(h, i, v);
}

static void down(sim_heap *h, size_t i)
{
    sim_heap_entry v = h->e[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->e[c + 1].key < h->e[c].key)
            c++;
        if (h->e[c].key >= v.key)
            break;
        put(h, i, h->e[c]);
        i = c;
    }
    put(h, i, v);
}

void sim_heap_set(sim_heap *h, int id, uint64_t key)
{
    if (id < 0 || (size_t)id >= h->ids)
        return;
    int p = h->pos[id];
    if (p < 0) {
        put(h, h->n++, (sim_heap_entry){key, id});
        up(h, h->n - 1);
        return;
    }
    uint64_t old = h->e[p].key;
    h->e[p].key = key;
    if (key < old)
        up(h, (size_t)p);
    else
        down(h, (size_t)p);
}

void sim_heap_remove(sim_heap *h, int id)
{
    if (id < 0 || (size_t)id >= h->ids || h->pos[id] < 0)
        return;
    size_t p = (size_t)h->pos[id];
    h->pos[id] = -1;
    if (--h->n == p)
        return;
    sim_heap_entry last = h->e[h->n];
    put(h, p, last);
    up(h, p);
    down(h, (size_t)h->pos[last.id]);
}

int sim_heap_top(const sim_heap *h, uint64_t *key)
{
    if (h->n == 0)
        return -1;
    if (key != NULL)
        *key = h->e[0].key;
    return h->e[0].id;
}
