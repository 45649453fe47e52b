/*
 * libFuzzer target for raw tensor training data (host/train/dataset_raw.c,
 * docs/model-factory.md "Raw data files"): any bytes give a data set whose
 * size matches its header and that keeps its invariants, or a refusal that
 * names the file (and the sample, for a bad value). Loaded from a file,
 * plain and gzip-compressed, the same bytes must give the same result.
 *
 * Inputs that do not start with the magic get it prepended, so the fuzzer
 * spends its time past the header check.
 *
 * Seeds: fuzz/corpus/train_raw (gen_files_corpus).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_files.h"
#include "fuzz_train.h"

static const uint8_t *with_magic(const uint8_t *data, size_t size, uint8_t **owned, size_t *len)
{
    *owned = NULL;
    *len = size;
    if (size >= 8 && memcmp(data, TR_RAW_MAGIC, 8) == 0)
        return data;
    *owned = malloc(size + 8);
    if (*owned == NULL)
        fuzz_fail("out of memory", NULL);
    memcpy(*owned, TR_RAW_MAGIC, 8);
    if (size > 0)
        memcpy(*owned + 8, data, size);
    *len = size + 8;
    return *owned;
}

int fuzz_seed_valid(const uint8_t *data, size_t size)
{
    tr_dataset ds;
    char err[512];
    int ok = tr_dataset_parse_raw("seed", data, size, &ds, err, sizeof err) == 0;
    tr_dataset_free(&ds);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *owned;
    size_t len;
    const uint8_t *b = with_magic(data, size, &owned, &len);
    tr_dataset ds;
    char err[512] = "";
    if (tr_dataset_parse_raw("data.bin", b, len, &ds, err, sizeof err) == 0) {
        ft_check_dataset(&ds);
        uint32_t type =
            (uint32_t)b[16] | (uint32_t)b[17] << 8 | (uint32_t)b[18] << 16 | (uint32_t)b[19] << 24;
        size_t es = type == 0 ? 4 : 1;
        if (len != TR_RAW_HEADER_BYTES + ds.count * ds.features * es + 4 * ds.count)
            fuzz_fail("accepted a file whose size does not match its header", NULL);
        tr_dataset_free(&ds);
    } else {
        ft_check_named(err, "data.bin");
        if (ds.x != NULL || ds.y != NULL || ds.count != 0)
            fuzz_fail("a refused data set is not empty", err);
    }
    ft_check_load_equals_memory(b, len, 0);
    ft_check_load_equals_memory(b, len, 1);
    free(owned);
    return 0;
}
