/*
 * libFuzzer target for the data set loader's file path (host/train/
 * dataset.c: zlib's gzread, then the CSV or raw parser), the way `tinymlops
 * train` reads --data: the input is the file as stored, typically a gzip
 * stream, possibly truncated or corrupt (a half-written download). It must
 * load into a data set that keeps its invariants, or fail with a message
 * that names the file. A gzip stream that loads must hold exactly what the
 * in-memory parsers accept from its decompressed bytes.
 *
 * Seeds: fuzz/corpus/train_gz (gen_files_corpus).
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuzz_files.h"
#include "fuzz_train.h"

int fuzz_seed_valid(const uint8_t *data, size_t size)
{
    const char *path = fuzz_tmp_write("data.gz", data, size);
    tr_dataset ds;
    char err[512];
    int ok = tr_dataset_load(path, &ds, err, sizeof err) == 0;
    tr_dataset_free(&ds);
    return ok;
}

/* Decompresses a whole gzip file in memory (for the cross-check); NULL when zlib refuses it. */
static uint8_t *gunzip(const uint8_t *data, size_t size, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        fuzz_fail("inflateInit2", NULL);
    size_t cap = 4096, n = 0;
    uint8_t *out = malloc(cap);
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)size;
    int rc = Z_OK;
    while (out != NULL) {
        if (n == cap) {
            uint8_t *grown = cap < ((size_t)64 << 20) ? realloc(out, cap * 2) : NULL;
            if (grown == NULL) {
                free(out);
                out = NULL;
                break;
            }
            out = grown;
            cap *= 2;
        }
        z.next_out = out + n;
        z.avail_out = (uInt)(cap - n);
        rc = inflate(&z, Z_NO_FLUSH);
        n = cap - z.avail_out;
        if (rc == Z_STREAM_END || (rc != Z_OK && rc != Z_BUF_ERROR) ||
            (rc == Z_BUF_ERROR && z.avail_in == 0))
            break;
    }
    size_t left = z.avail_in;
    inflateEnd(&z);
    if (out != NULL && (rc != Z_STREAM_END || left != 0)) {
        free(out);
        out = NULL;
    }
    *out_len = n;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_tmp_write("data.gz", data, size);
    tr_dataset ds;
    char err[512] = "";
    int rc = tr_dataset_load(path, &ds, err, sizeof err);
    if (rc == 0)
        ft_check_dataset(&ds);
    else
        ft_check_named(err, path);
    /* A single, complete gzip member: the loader must see exactly its contents. */
    int gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    size_t plain_len = 0;
    uint8_t *plain = gz ? gunzip(data, size, &plain_len) : NULL;
    if (plain != NULL) {
        tr_dataset mem;
        char merr[512] = "";
        int mrc = ft_parse_memory(path, plain, plain_len, &mem, merr, sizeof merr);
        if (mrc == 0 && rc == 0 &&
            (mem.count != ds.count || mem.features != ds.features ||
             memcmp(mem.x, ds.x, sizeof *ds.x * ds.count * ds.features) != 0 ||
             memcmp(mem.y, ds.y, sizeof *ds.y * ds.count) != 0))
            fuzz_fail("the loaded data differ from the decompressed bytes", path);
        if ((mrc != 0) != (rc != 0))
            fuzz_fail("the loader and the parser of the decompressed bytes disagree",
                      rc != 0 ? err : merr);
        tr_dataset_free(&mem);
        free(plain);
    }
    if (rc == 0)
        tr_dataset_free(&ds);
    return 0;
}
