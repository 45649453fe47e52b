/*
 * Representative data for a model's monitoring profile, drawn from the
 * simulator's own data sets the way an undrifted device draws its inputs
 * (sim_profile_rows in sim.h), so that a monitor sees no drift until an
 * event causes one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "sim_priv.h"

#define DIGITS_CSV "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

static int fill(const sim_dataset *ds, host_model *hm, size_t rows, uint8_t **data,
                size_t *data_len, int32_t **labels, char *err, size_t err_len)
{
    tmo_io in;
    tmo_interp_input(&hm->interp, 0, &in);
    size_t n = rows < ds->count ? rows : ds->count, stride = ds->count / (n ? n : 1);
    *data = malloc(n * in.bytes);
    *labels = malloc(n * sizeof **labels);
    if (*data == NULL || *labels == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        (*labels)[i] = sim_stream_row(ds, i * stride, &in); /* writes into the arena's input */
        memcpy(*data + i * in.bytes, in.data, in.bytes);
    }
    *data_len = n * in.bytes;
    return 0;
}

int sim_profile_rows(const uint8_t *model, size_t model_len, const char *data_path, size_t rows,
                     uint8_t **data, size_t *data_len, int32_t **labels, char *err, size_t err_len)
{
    *data = NULL;
    *labels = NULL;
    *data_len = 0;
    uint8_t *copy = aligned_alloc(16, (model_len + 15) & ~(size_t)15);
    if (copy == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    memcpy(copy, model, model_len);
    host_model hm;
    memset(&hm, 0, sizeof hm);
    if (host_model_open_bytes(&hm, copy, model_len, err, err_len) != TMO_OK)
        return -1; /* host_model_open_bytes took the bytes */
    sim_data d;
    int rc = -1;
    if (sim_data_load(&d, data_path != NULL ? data_path : DIGITS_CSV, NULL, err, err_len) == 0) {
        tmo_io in;
        tmo_interp_input(&hm.interp, 0, &in);
        const sim_dataset *ds = sim_data_match(&d, &in);
        if (ds == NULL)
            snprintf(err, err_len, "the data has no rows of the model's %zu-byte input", in.bytes);
        else
            rc = fill(ds, &hm, rows, data, data_len, labels, err, err_len);
        sim_data_free(&d);
    }
    host_model_close(&hm);
    if (rc != 0) {
        free(*data), free(*labels);
        *data = NULL, *labels = NULL;
    }
    return rc;
}
