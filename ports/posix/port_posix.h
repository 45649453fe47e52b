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
 * journal, two erase units). A missing file is created at its size through
 * a temporary file, fsync and rename (then the directory is fsynced), so an
 * area never exists at a wrong size; an existing file keeps the size it was
 * created with (flash partitions do not change). Erase writes 0xFF; every
 * write and erase ends with fdatasync, so TMO_OK means durable. The erase
 * unit is TMO_POSIX_ERASE_UNIT; slot sizes are rounded up to it.
 */
#define TMO_POSIX_ERASE_UNIT 4096u

typedef struct tmo_posix_storage {
    int fd[3];
    uint32_t size[3];
    tmo_port_storage port;
} tmo_posix_storage;

/* Opens or creates the areas in dir (which must exist). TMO_PORT_EIO when a file cannot be made. */
tmo_err tmo_posix_storage_open(tmo_posix_storage *s, const char *dir, uint32_t slot_size);
void tmo_posix_storage_close(tmo_posix_storage *s);

#endif
