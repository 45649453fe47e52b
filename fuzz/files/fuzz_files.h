/*
 * Shared by the file-parser fuzz targets in fuzz/files/ (train data, scenario
 * files, key files, the update journal): the libFuzzer entry point each
 * target defines, the "valid seed is still accepted" hook the corpus replay
 * test calls, and one private scratch directory per process for parsers
 * that only take paths.
 */
#ifndef TMO_FUZZ_FILES_H
#define TMO_FUZZ_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "corpus_replay.h" /* LLVMFuzzerTestOneInput, fuzz_seed_valid */

/*
 * Path of the scratch file called name in this process's temporary
 * directory (created on first use under $TMPDIR or /tmp, removed with its
 * files at exit). The same name always gives the same path.
 */
const char *fuzz_tmp_path(const char *name);

/* Writes data to fuzz_tmp_path(name) (replacing it); returns the path. Aborts on I/O errors. */
const char *fuzz_tmp_write(const char *name, const void *data, size_t size);

/* Aborts with a message on stderr (a broken contract: libFuzzer reports it as a crash). */
void fuzz_fail(const char *what, const char *detail) __attribute__((noreturn));

#endif
