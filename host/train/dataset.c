/*
 * Data set loading entry point and the train/validation split. Files are
 * read through zlib's gzread, which passes plain files through unchanged,
 * so "digits.csv.gz" and "digits.csv" load the same way.
 */
#include "dataset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "rng.h"

/* Largest uncompressed data set we accept (a guard against gzip bombs). */
#define MAX_DATA_BYTES ((size_t)1 << 31)
enum { SPLIT_STREAM = 1 };

static uint8_t *read_all(const char *path, size_t *len, char *err, size_t err_len)
{
    gzFile f = gzopen(path, "rb");
    if (f == NULL) {
        snprintf(err, err_len, "%s: %s", path, errno ? strerror(errno) : "cannot open");
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap + 1);
    for (;;) {
        if (buf == NULL) {
            snprintf(err, err_len, "%s: out of memory", path);
            gzclose(f);
            return NULL;
        }
        int got = gzread(f, buf + n, (unsigned)(cap - n));
        if (got < 0) {
            int code;
            const char *msg = gzerror(f, &code);
            snprintf(err, err_len, "%s: read failed: %s", path,
                     code == Z_ERRNO ? strerror(errno) : msg);
            free(buf);
            gzclose(f);
            return NULL;
        }
        n += (size_t)got;
        if (got == 0)
            break;
        if (n == cap) {
            if (cap >= MAX_DATA_BYTES) {
                snprintf(err, err_len, "%s: larger than %zu bytes uncompressed", path,
                         MAX_DATA_BYTES);
                free(buf);
                gzclose(f);
                return NULL;
            }
            cap *= 2;
            uint8_t *grown = realloc(buf, cap + 1);
            if (grown == NULL)
                free(buf);
            buf = grown;
        }
    }
    /* A gzip stream that ends early is only reported here. */
    if (gzclose(f) != Z_OK) {
        snprintf(err, err_len, "%s: truncated or corrupt gzip data", path);
        free(buf);
        return NULL;
    }
    buf[n] = 0; /* the CSV parser may rely on a terminator */
    *len = n;
    return buf;
}

int tr_dataset_load(const char *path, tr_dataset *ds, char *err, size_t err_len)
{
    size_t len = 0;
    memset(ds, 0, sizeof *ds);
    errno = 0;
    uint8_t *bytes = read_all(path, &len, err, err_len);
    if (bytes == NULL)
        return -1;
    int rc;
    if (len >= 8 && memcmp(bytes, TR_RAW_MAGIC, 8) == 0)
        rc = tr_dataset_parse_raw(path, bytes, len, ds, err, err_len);
    else
        rc = tr_dataset_parse_csv(path, (const char *)bytes, len, ds, err, err_len);
    free(bytes);
    return rc;
}

int tr_dataset_alloc(tr_dataset *ds, size_t count, size_t features, int32_t classes)
{
    memset(ds, 0, sizeof *ds);
    ds->count = count;
    ds->features = features;
    ds->classes = classes;
    ds->x = calloc(count * features + 1, sizeof *ds->x);
    ds->y = calloc(count + 1, sizeof *ds->y);
    if (ds->x == NULL || ds->y == NULL) {
        tr_dataset_free(ds);
        return -1;
    }
    return 0;
}

void tr_dataset_free(tr_dataset *ds)
{
    free(ds->x);
    free(ds->y);
    memset(ds, 0, sizeof *ds);
}

static void copy_sample(tr_dataset *dst, size_t to, const tr_dataset *src, size_t from)
{
    memcpy(dst->x + to * dst->features, src->x + from * src->features,
           sizeof *src->x * src->features);
    dst->y[to] = src->y[from];
}

int tr_dataset_split(const tr_dataset *all, double val_fraction, uint64_t seed, tr_dataset *train,
                     tr_dataset *val, char *err, size_t err_len)
{
    memset(train, 0, sizeof *train);
    memset(val, 0, sizeof *val);
    if (!(val_fraction >= 0.0 && val_fraction < 1.0)) {
        snprintf(err, err_len, "validation fraction must be in [0, 1), got %g", val_fraction);
        return -1;
    }
    size_t n_val = (size_t)((double)all->count * val_fraction + 0.5);
    if (n_val >= all->count) {
        snprintf(err, err_len, "%zu samples leave none for training with validation fraction %g",
                 all->count, val_fraction);
        return -1;
    }
    size_t *perm = malloc(sizeof *perm * all->count);
    if (perm == NULL || tr_dataset_alloc(val, n_val, all->features, all->classes) != 0 ||
        tr_dataset_alloc(train, all->count - n_val, all->features, all->classes) != 0) {
        free(perm);
        tr_dataset_free(val);
        snprintf(err, err_len, "out of memory splitting %zu samples", all->count);
        return -1;
    }
    /* Fisher-Yates over the sample indices. */
    tr_rng rng;
    tr_rng_init(&rng, seed, SPLIT_STREAM);
    for (size_t i = 0; i < all->count; i++)
        perm[i] = i;
    for (size_t i = all->count; i > 1; i--) {
        size_t j = (size_t)tr_rng_below(&rng, i);
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
    for (size_t i = 0; i < n_val; i++)
        copy_sample(val, i, all, perm[i]);
    for (size_t i = n_val; i < all->count; i++)
        copy_sample(train, i - n_val, all, perm[i]);
    free(perm);
    return 0;
}
