/*
 * A slot storage port and NV counter that lose power on demand, for the
 * update engine's power-cut tests (STYLE.md 17, MCUboot's simulator idea):
 * in-memory areas with NOR-flash rules (a byte is programmed only once per
 * erase: any write to a byte that is not 0xFF is counted as a violation),
 * and every durable operation (erase, write, counter advance) numbered from
 * power-on. The operation numbered cut_at is torn according to tear and
 * fails; from then on everything fails (the power is off) until the next
 * fs_power_on(). Error injection rather than longjmp: the engine must stop
 * on the first port error on its own.
 */
#ifndef TMO_TEST_FAULTY_STORAGE_H
#define TMO_TEST_FAULTY_STORAGE_H

#include <stdint.h>

#include "tinymlops/port.h"

typedef enum {
    TEAR_NOTHING = 0, /* the cut operation changed nothing */
    TEAR_HALF = 1,    /* its first half happened (bytes or erase units), the rest not */
    TEAR_ALL = 2,     /* it completed, but power failed before it was acknowledged */
    TEAR_MODES = 3
} fs_tear;

typedef struct faulty_storage {
    uint8_t *area[3];
    uint32_t size[3];
    uint64_t counter; /* the NV counter's value */
    long ops;         /* durable operations since power-on */
    long cut_at;      /* operation that loses power, -1: none */
    int tear;         /* fs_tear for the cut operation */
    int powered;
    long violations; /* writes to non-erased bytes, misaligned or out-of-range calls */
    tmo_port_storage port;
    tmo_port_counter counter_port;
} faulty_storage;

/* Areas of slot_size, slot_size and journal_size bytes filled with junk (not 0xFF). */
void fs_init(faulty_storage *f, uint32_t slot_size, uint32_t journal_size, uint32_t erase_unit);
void fs_free(faulty_storage *f);

/* dst becomes an independent copy of src's contents (dst initialized by fs_init with the same sizes). */
void fs_copy(faulty_storage *dst, const faulty_storage *src);

/* Power on: operation count 0, cut at operation cut_at (-1: never) with tear mode. */
void fs_power_on(faulty_storage *f, long cut_at, int tear);

#endif
