/*
 * Labelled data sets for the model factory: loading (CSV or the raw tensor
 * layout, either one optionally gzip-compressed), and the train/validation
 * split. Formats and error messages are documented in docs/model-factory.md.
 *
 * A data set owns its arrays; free it with tr_dataset_free().
 */
#ifndef TMO_TRAIN_DATASET_H
#define TMO_TRAIN_DATASET_H

#include <stddef.h>
#include <stdint.h>

/* Labels are integers 0 .. TR_MAX_CLASSES-1. */
#define TR_MAX_CLASSES 1000
/* Upper bound on features per sample (keeps every size computation far from overflow). */
#define TR_MAX_FEATURES (1u << 20)

typedef struct tr_dataset {
    size_t count;    /* samples */
    size_t features; /* values per sample */
    int32_t classes; /* largest label + 1 */
    float *x;        /* count * features values, sample-major */
    int32_t *y;      /* count labels */
} tr_dataset;

/* Magic of the raw tensor layout (first 8 bytes of such a file). */
#define TR_RAW_MAGIC "TMODATA1"
#define TR_RAW_HEADER_BYTES 24

/*
 * Loads path: gzip-compressed or plain (detected from the content), raw
 * layout when it starts with TR_RAW_MAGIC, CSV otherwise. On failure returns
 * -1 with a message naming the file and the line (CSV) or sample (raw) in err.
 */
int tr_dataset_load(const char *path, tr_dataset *ds, char *err, size_t err_len);

/* Parsers over bytes already in memory; name is used in messages. */
int tr_dataset_parse_csv(const char *name, const char *text, size_t len, tr_dataset *ds, char *err,
                         size_t err_len);
int tr_dataset_parse_raw(const char *name, const uint8_t *bytes, size_t len, tr_dataset *ds,
                         char *err, size_t err_len);

/*
 * Splits all into train and val: a permutation drawn from seed, the first
 * round(count * val_fraction) samples become the validation set. Both keep
 * all's class count. val_fraction in [0, 1); train gets at least one sample.
 * Returns -1 (message in err) when that is impossible or memory runs out.
 */
int tr_dataset_split(const tr_dataset *all, double val_fraction, uint64_t seed, tr_dataset *train,
                     tr_dataset *val, char *err, size_t err_len);

/* Allocates an empty set of count samples (zeroed); -1 when out of memory. */
int tr_dataset_alloc(tr_dataset *ds, size_t count, size_t features, int32_t classes);

void tr_dataset_free(tr_dataset *ds);

#endif
