/*
 * The device library's ports on Linux/POSIX (see include/tinymlops/port.h):
 * a bundle reader over a file, the NV security counter as a small file, and
 * the wall clock. Used by the agent, the CLI tools and the tests; firmware
 * implements the same three interfaces over flash, OTP/RPMB and its RTC.
 */
#ifndef TMO_PORT_POSIX_H
#define TMO_PORT_POSIX_H

#include "tinymlops/port.h"

/* A bundle reader over an open file (pread). */
typedef struct tmo_posix_file {
    int fd;
    tmo_port_reader port;
} tmo_posix_file;

/* Opens path read-only; TMO_PORT_EIO if it cannot, TMO_PORT_ERANGE if it is 4 GiB or larger. */
tmo_err tmo_posix_file_open(tmo_posix_file *f, const char *path);
void tmo_posix_file_close(tmo_posix_file *f);

/*
 * NV counter stored in a 16-byte file: "TMNV", u64 value, u32 CRC-32 of the
 * first 12 bytes (all little-endian). A missing file reads as 0 (a device
 * that never accepted a bundle); a file that fails its check reads as
 * TMO_PORT_ECORRUPT, never as 0, so damaging the file cannot roll it back.
 * advance() writes a temporary file, fsyncs it and renames it over the old
 * one (then fsyncs the directory): after a power cut the old or the new
 * value is there.
 */
typedef struct tmo_posix_counter {
    char path[4096];
    tmo_port_counter port;
} tmo_posix_counter;

tmo_err tmo_posix_counter_init(tmo_posix_counter *c, const char *path);

/* The wall clock (CLOCK_REALTIME). */
void tmo_posix_clock_init(tmo_port_clock *clock);

/*
 * Slot storage (tinymlops/update.h areas) as three files in a directory:
 * slot-a.bin and slot-b.bin (the model slots) and journal.bin (the update
 * journal: two halves of at least 4096 bytes, whole erase units). A missing
 * file is created at its size through a temporary file, fsync and rename
 * (then the directory is fsynced), so an area never exists at a wrong size;
 * an existing file keeps the size it was created with (flash partitions do
 * not change). Every write and erase ends with fdatasync, so TMO_OK means
 * durable.
 *
 * It behaves like NOR flash of the given geometry, so the engine runs here
 * exactly as on a microcontroller, and breaking a flash rule fails here as
 * it would there: erase sets whole erase units to 0xFF (TMO_PORT_EALIGN off
 * the unit); write refuses a range off the write unit or shorter than it
 * (TMO_PORT_EALIGN) and programming any byte that is not erased
 * (TMO_PORT_ENOTERASED, nothing written). Erases are counted per erase unit
 * since open (tmo_posix_storage_erases), so a test can measure wear. Areas
 * are created zero-filled (not erased): the engine erases before it writes.
 */
#define TMO_POSIX_ERASE_UNIT 4096u /* a 4 KiB sector, as on most NOR flash */
#define TMO_POSIX_WRITE_UNIT 8u    /* a double word, as on STM32L4 */

typedef struct tmo_posix_storage {
    int fd[3];
    uint32_t size[3];
    uint32_t *erases[3]; /* erases of each erase unit since open */
    tmo_port_storage port;
} tmo_posix_storage;

/*
 * Opens or creates the areas in dir (which must exist) with the default
 * geometry (TMO_POSIX_ERASE_UNIT, TMO_POSIX_WRITE_UNIT). TMO_PORT_EIO when a
 * file cannot be made or its size is not whole erase units.
 */
tmo_err tmo_posix_storage_open(tmo_posix_storage *s, const char *dir, uint32_t slot_size);

/*
 * The same with another geometry: erase_unit and write_unit powers of two,
 * write_unit <= erase_unit <= 65536 (TMO_PORT_ERANGE otherwise).
 */
tmo_err tmo_posix_storage_open_flash(tmo_posix_storage *s, const char *dir, uint32_t slot_size,
                                     uint32_t erase_unit, uint32_t write_unit);
void tmo_posix_storage_close(tmo_posix_storage *s);

/* Erases of erase unit `unit` (offset / erase_unit) of area since open; 0 out of range. */
uint32_t tmo_posix_storage_erases(const tmo_posix_storage *s, uint32_t area, uint32_t unit);

#endif
