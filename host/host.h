/*
 * Host-side helpers shared by the CLI, tests, benchmarks and (later) the
 * agent and server: loading files, sizing arenas with heap memory, and
 * rendering diagnostics. Never linked into the device library.
 */
#ifndef TMO_HOST_H
#define TMO_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "tinymlops/interp.h"
#include "tinymlops/model.h"

/*
 * Reads a whole file into 16-byte aligned heap memory (free with free()).
 * On failure returns NULL and writes a message naming the file to err.
 */
void *host_read_file(const char *path, size_t *len, char *err, size_t err_len);

/* Writes len bytes to path atomically (temporary file, fsync, rename). 0 on success. */
int host_write_file(const char *path, const void *data, size_t len, char *err, size_t err_len);

/* A model loaded from a file with an interpreter over a heap arena of exactly the needed size. */
typedef struct host_model {
    void *bytes;
    size_t len;
    tmo_model model;
    void *arena;
    size_t arena_len;
    tmo_interp interp;
} host_model;

/*
 * Loads and parses path, sizes the arena and initializes the interpreter.
 * Returns TMO_OK or an error whose explanation is in err.
 */
tmo_err host_model_open(host_model *hm, const char *path, char *err, size_t err_len);
tmo_err host_model_open_bytes(host_model *hm, void *bytes, size_t len, char *err, size_t err_len);
void host_model_close(host_model *hm);

/* Exact arena bytes for m, using growing heap buffers as work space. */
tmo_err host_arena_size(const tmo_model *m, size_t *needed, tmo_diag *diag);

/* Writes "what: <diag>" to err. */
void host_format_diag(char *err, size_t err_len, const char *what, const tmo_diag *d);

/* Monotonic clock in nanoseconds. */
uint64_t host_now_ns(void);

#endif
