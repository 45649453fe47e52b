/*
 * Ports: the few services the device library needs from the platform, as
 * small C interfaces (one function table and a context pointer each), the way
 * MCUboot's flash_area_* and Memfault's platform/ hooks work.
 *
 * ports/posix/ implements them on Linux (files, CLOCK_REALTIME); tests
 * substitute faulty ones. A port function returns TMO_OK or an error of its
 * own at or below TMO_EPORT_BASE (the TMO_PORT_E* values below, or any value
 * of the platform's choice below them); the library passes such errors
 * through unchanged and names the port in its tmo_diag.
 *
 * Ownership: a port structure and its context belong to the caller and must
 * outlive every library object that was given a pointer to them.
 */
#ifndef TINYMLOPS_PORT_H
#define TINYMLOPS_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "tinymlops/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Errors shared by the ports shipped with tinymlops. */
#define TMO_PORT_EIO ((tmo_err)(TMO_EPORT_BASE - 1))        /* storage read/write failed */
#define TMO_PORT_ECORRUPT ((tmo_err)(TMO_EPORT_BASE - 2))   /* stored state fails its check */
#define TMO_PORT_ERANGE ((tmo_err)(TMO_EPORT_BASE - 3))     /* offset/length outside the object */
#define TMO_PORT_ETIME ((tmo_err)(TMO_EPORT_BASE - 4))      /* clock not available or not set */
#define TMO_PORT_EALIGN ((tmo_err)(TMO_EPORT_BASE - 5))     /* write/erase off the flash's units */
#define TMO_PORT_ENOTERASED ((tmo_err)(TMO_EPORT_BASE - 6)) /* programming bytes not erased */

/*
 * Random-access reader of a bundle's bytes (a file, external flash, a
 * download buffer). read() fills buf[0..len) with bytes [offset, offset+len)
 * of the object; the library only asks for ranges inside [0, size).
 */
typedef struct tmo_port_reader {
    tmo_err (*read)(void *ctx, uint32_t offset, void *buf, size_t len);
    void *ctx;
    uint32_t size; /* total bytes of the object */
} tmo_port_reader;

/*
 * A reader over bytes already in memory (RAM or memory-mapped flash).
 * mem must stay valid while the reader is used.
 */
typedef struct tmo_port_mem {
    const uint8_t *bytes;
    uint32_t len;
} tmo_port_mem;

/* Fills r to read mem (which must outlive r). Returns TMO_EINVAL for NULL or len > 4 GiB - 1. */
tmo_err tmo_port_reader_mem(tmo_port_reader *r, tmo_port_mem *mem, const void *bytes, size_t len);

/*
 * Monotonic non-volatile counter (anti-rollback security counter).
 * read() gives the stored value (0 for a device that never stored one).
 * advance(value) stores value when it is greater than the stored one and
 * does nothing otherwise: the counter never decreases. The update must be
 * atomic across power loss (the old or the new value survives, never junk).
 */
typedef struct tmo_port_counter {
    tmo_err (*read)(void *ctx, uint64_t *value);
    tmo_err (*advance)(void *ctx, uint64_t value);
    void *ctx;
} tmo_port_counter;

/*
 * Wall clock: seconds since 1970-01-01T00:00:00Z (UTC, no leap seconds).
 * A device without trustworthy time passes no clock at all (NULL) rather
 * than a port that guesses; a clock that exists but is not set returns
 * TMO_PORT_ETIME.
 */
typedef struct tmo_port_clock {
    tmo_err (*now)(void *ctx, uint64_t *unix_seconds);
    void *ctx;
} tmo_port_clock;

/*
 * Slot storage: a few independently erasable areas of non-volatile memory
 * (model slots A and B and the update journal, see tinymlops/update.h), the
 * way MCUboot's flash_area_* reaches flash. The port states the geometry of
 * its flash, and the library keeps to it (MCUboot's flash_area_align and
 * flash_area_erased_val):
 *   - erase(area, offset, len) sets whole erase units to erased_value;
 *     offset and len are multiples of erase_unit (a power of two, at most
 *     65536);
 *   - write(area, offset, buf, len) programs bytes that were erased since
 *     they were last written: offset and len are multiples of write_unit
 *     (the program granularity and minimum write size: 1 for byte-writable
 *     NOR, 4 on nRF52, 8 on STM32L4, 32 on STM32H7; a power of two, at most
 *     erase_unit), len >= write_unit. Flash can only move bits away from the
 *     erased value, and ECC flash cannot program a unit twice: the library
 *     never writes a byte twice without erasing it in between;
 *   - when write() or erase() returns TMO_OK the bytes are durable;
 *   - a write or erase cut by power loss may leave any byte of ITS range in
 *     any state, and no byte outside it;
 *   - size() gives the area's fixed size in bytes (a multiple of erase_unit);
 *   - reads have no alignment rule.
 * Areas are numbered by the caller's convention (tinymlops/update.h uses
 * TMO_AREA_SLOT_A, TMO_AREA_SLOT_B, TMO_AREA_JOURNAL). Errors are port errors
 * (TMO_PORT_EIO, TMO_PORT_ERANGE for a range outside the area,
 * TMO_PORT_EALIGN and TMO_PORT_ENOTERASED for calls that break the rules
 * above: a flash driver refuses them rather than corrupt its neighbours).
 */
typedef struct tmo_port_storage {
    tmo_err (*size)(void *ctx, uint32_t area, uint32_t *bytes);
    tmo_err (*read)(void *ctx, uint32_t area, uint32_t offset, void *buf, size_t len);
    tmo_err (*write)(void *ctx, uint32_t area, uint32_t offset, const void *buf, size_t len);
    tmo_err (*erase)(void *ctx, uint32_t area, uint32_t offset, uint32_t len);
    uint32_t erase_unit;  /* bytes of the smallest erasable block (sector or page) */
    uint32_t write_unit;  /* program granularity: alignment and minimum length of a write */
    uint8_t erased_value; /* what an erased byte reads as: 0xFF on NOR flash */
    void *ctx;
} tmo_port_storage;

#ifdef __cplusplus
}
#endif

#endif
