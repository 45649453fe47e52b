/*
 * Checks shared by the training-data fuzz targets (fuzz_train_csv.c,
 * fuzz_train_raw.c, fuzz_train_gz.c) over host/train/dataset.h.
 */
#ifndef TMO_FUZZ_TRAIN_H
#define TMO_FUZZ_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"

/* Aborts unless a loaded data set keeps its invariants (sizes, labels in range, finite values). */
void ft_check_dataset(const tr_dataset *ds);

/* Aborts unless err is a message that starts with "name:" (every refusal names the file). */
void ft_check_named(const char *err, const char *name);

/*
 * Parses text as tr_dataset_load would once the bytes are in memory (raw
 * layout when it starts with TR_RAW_MAGIC, CSV otherwise), naming it name.
 */
int ft_parse_memory(const char *name, const uint8_t *data, size_t size, tr_dataset *ds, char *err,
                    size_t err_len);

/*
 * The loader's file path, the way the CLI reaches it: writes data (gzip-
 * compressed when gz) to the scratch file and loads it with
 * tr_dataset_load. Aborts unless the result (data set, or error message)
 * equals what ft_parse_memory gives for the same bytes in memory.
 */
void ft_check_load_equals_memory(const uint8_t *data, size_t size, int gz);

#endif
