/*
 * libFuzzer target for CSV training data (host/train/dataset_csv.c,
 * docs/model-factory.md): any bytes give a data set that keeps its
 * invariants or a refusal of the form "file:LINE: ..." with LINE a line of
 * the input (or "file: no data rows ..."). The same bytes loaded from a
 * file, plain and gzip-compressed, the way `tinymlops train` reads them,
 * must give the same data set or the same message.
 *
 * Seeds: fuzz/corpus/train_csv (gen_files_corpus). Replayed in every build
 * by corpus_replay.c.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_files.h"
#include "fuzz_train.h"

static size_t count_lines(const uint8_t *data, size_t size)
{
    size_t n = size > 0 && data[size - 1] != '\n';
    for (size_t i = 0; i < size; i++)
        n += data[i] == '\n';
    return n;
}

int fuzz_seed_valid(const uint8_t *data, size_t size)
{
    tr_dataset ds;
    char err[512];
    int ok = tr_dataset_parse_csv("seed", (const char *)data, size, &ds, err, sizeof err) == 0;
    tr_dataset_free(&ds);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 8 && memcmp(data, TR_RAW_MAGIC, 8) == 0)
        return 0; /* the raw layout: fuzz_train_raw */
    tr_dataset ds;
    char err[512] = "";
    const char *name = "data.csv";
    if (tr_dataset_parse_csv(name, (const char *)data, size, &ds, err, sizeof err) == 0) {
        ft_check_dataset(&ds);
        if (ds.count > count_lines(data, size))
            fuzz_fail("more samples than lines", NULL);
        tr_dataset_free(&ds);
    } else {
        ft_check_named(err, name);
        const char *p = err + strlen(name) + 1;
        if (*p >= '0' && *p <= '9') {
            char *end;
            unsigned long line = strtoul(p, &end, 10);
            if (*end != ':' || line == 0 || line > count_lines(data, size))
                fuzz_fail("a refusal names a line that is not in the input", err);
        } else if (strncmp(p, " no data rows", 13) != 0 && strstr(p, "out of memory") == NULL) {
            fuzz_fail("a refusal names no line", err);
        }
        if (ds.x != NULL || ds.y != NULL || ds.count != 0)
            fuzz_fail("a refused data set is not empty", err);
    }
    ft_check_load_equals_memory(data, size, 0);
    ft_check_load_equals_memory(data, size, 1);
    return 0;
}
