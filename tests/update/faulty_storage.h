/*
 * A slot storage port and NV counter that lose power on demand, for the
 * update engine's tests (STYLE.md 17, MCUboot's simulator idea): in-memory
 * areas that behave like real flash of a chosen geometry, and every durable
 * operation (erase, write, counter advance) numbered from power-on.
 *
 * Flash rules, each broken call counted as a violation (tests require none):
 * a write must start and end on the write unit (else it is refused with
 * TMO_PORT_EALIGN), an erase on the erase unit; a byte programmed when it is
 * not erased is counted and programmed the way flash does it (bits only move
 * away from the erased value: AND for 0xFF, OR for 0x00), so the damage shows
 * too. Erases are counted per erase unit (wear).
 *
 * The operation numbered cut_at is torn according to tear and fails; from
 * then on everything fails (the power is off) until the next fs_power_on().
 * Error injection rather than longjmp: the engine must stop on the first
 * port error on its own.
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
    uint32_t *erases[3]; /* erases of each erase unit of each area */
    uint64_t counter;    /* the NV counter's value */
    long ops;            /* durable operations since power-on */
    long cut_at;         /* operation that loses power, -1: none */
    int tear;            /* fs_tear for the cut operation */
    int cut_counter;     /* the next counter advance loses power (after its tear) */
    int powered;
    long violations; /* any broken rule: range, alignment, programming a non-erased byte */
    long misaligned; /* writes or erases refused for their alignment */
    long writes;     /* write calls that programmed (since fs_init) */
    tmo_port_storage port;
    tmo_port_counter counter_port;
} faulty_storage;

/* Areas of slot_size, slot_size and journal_size bytes filled with junk (never erased bytes). */
void fs_init_flash(faulty_storage *f, uint32_t slot_size, uint32_t journal_size,
                   uint32_t erase_unit, uint32_t write_unit, uint8_t erased_value);

/* fs_init_flash with byte-writable NOR flash: write unit 1, erased value 0xFF. */
void fs_init(faulty_storage *f, uint32_t slot_size, uint32_t journal_size, uint32_t erase_unit);
void fs_free(faulty_storage *f);

/* dst becomes an independent copy of src's contents and wear (dst made with the same geometry). */
void fs_copy(faulty_storage *dst, const faulty_storage *src);

/* Power on: operation count 0, cut at operation cut_at (-1: never) with tear mode. */
void fs_power_on(faulty_storage *f, long cut_at, int tear);

/* Erases of area's erase units, summed. */
long fs_erases(const faulty_storage *f, uint32_t area);

#endif
