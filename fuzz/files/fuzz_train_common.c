/*
 * Shared checks of the training-data fuzz targets (fuzz_train.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuzz_files.h"
#include "fuzz_train.h"

void ft_check_dataset(const tr_dataset *ds)
{
    if (ds->count == 0 || ds->features == 0 || ds->features > TR_MAX_FEATURES || ds->x == NULL ||
        ds->y == NULL)
        fuzz_fail("dataset", "empty, or features out of range");
    if (ds->classes < 1 || ds->classes > TR_MAX_CLASSES)
        fuzz_fail("dataset", "class count out of [1, TR_MAX_CLASSES]");
    int32_t max = -1;
    for (size_t i = 0; i < ds->count; i++) {
        if (ds->y[i] < 0 || ds->y[i] >= ds->classes)
            fuzz_fail("dataset", "label out of [0, classes)");
        if (ds->y[i] > max)
            max = ds->y[i];
    }
    if (max + 1 != ds->classes)
        fuzz_fail("dataset", "classes is not the largest label + 1");
    for (size_t i = 0; i < ds->count * ds->features; i++)
        if (!isfinite(ds->x[i]))
            fuzz_fail("dataset", "a feature is not finite");
}

void ft_check_named(const char *err, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(err, name, n) != 0 || err[n] != ':' || err[n + 1] == '\0')
        fuzz_fail("a refusal does not name the file", err);
}

int ft_parse_memory(const char *name, const uint8_t *data, size_t size, tr_dataset *ds, char *err,
                    size_t err_len)
{
    if (size >= 8 && memcmp(data, TR_RAW_MAGIC, 8) == 0)
        return tr_dataset_parse_raw(name, data, size, ds, err, err_len);
    return tr_dataset_parse_csv(name, (const char *)data, size, ds, err, err_len);
}

static uint8_t *gzip(const uint8_t *data, size_t size, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        fuzz_fail("deflateInit2", NULL);
    size_t cap = deflateBound(&z, (uLong)size);
    uint8_t *out = malloc(cap);
    if (out == NULL)
        fuzz_fail("out of memory", NULL);
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)size;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        fuzz_fail("deflate", NULL);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

void ft_check_load_equals_memory(const uint8_t *data, size_t size, int gz)
{
    const char *path = fuzz_tmp_path(gz ? "data.gz" : "data");
    tr_dataset mem, file;
    char merr[512] = "", ferr[512] = "";
    int mrc = ft_parse_memory(path, data, size, &mem, merr, sizeof merr);
    size_t len = size;
    uint8_t *bytes = gz ? gzip(data, size, &len) : NULL;
    fuzz_tmp_write(gz ? "data.gz" : "data", gz ? bytes : data, len);
    free(bytes);
    int frc = tr_dataset_load(path, &file, ferr, sizeof ferr);
    if (mrc != frc)
        fuzz_fail("tr_dataset_load and the in-memory parser disagree", frc == 0 ? merr : ferr);
    if (mrc != 0) {
        if (strcmp(merr, ferr) != 0)
            fuzz_fail("tr_dataset_load and the in-memory parser give different errors", ferr);
        return;
    }
    if (mem.count != file.count || mem.features != file.features || mem.classes != file.classes ||
        memcmp(mem.x, file.x, sizeof *mem.x * mem.count * mem.features) != 0 ||
        memcmp(mem.y, file.y, sizeof *mem.y * mem.count) != 0)
        fuzz_fail("tr_dataset_load lost or changed data", path);
    tr_dataset_free(&mem);
    tr_dataset_free(&file);
}
