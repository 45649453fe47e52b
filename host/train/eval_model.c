/*
 * Measures a written .tflite classifier with the device runtime, so the
 * int8 accuracy the factory reports is the accuracy a device gets.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factory.h"
#include "host.h"

static int fill_input(const tmo_io *io, const float *x, size_t features)
{
    if (io->type == TMO_INT8 && io->bytes == features) {
        tr_qparams qp = {io->scale, io->zero_point};
        int8_t *dst = io->data;
        for (size_t j = 0; j < features; j++)
            dst[j] = tr_quantize_value(x[j], qp);
        return 0;
    }
    if (io->type == TMO_FLOAT32 && io->bytes == features * sizeof(float)) {
        memcpy(io->data, x, io->bytes);
        return 0;
    }
    return -1;
}

static size_t argmax_output(const tmo_io *io)
{
    size_t n = io->type == TMO_INT8 ? io->bytes : io->bytes / sizeof(float), best = 0;
    for (size_t c = 1; c < n; c++) {
        int better = io->type == TMO_INT8
                         ? ((const int8_t *)io->data)[c] > ((const int8_t *)io->data)[best]
                         : ((const float *)io->data)[c] > ((const float *)io->data)[best];
        if (better)
            best = c;
    }
    return best;
}

int tr_eval_model(const uint8_t *model, size_t len, const tr_dataset *ds, double *acc,
                  size_t *arena, char *err, size_t err_len)
{
    /* host_model_close frees the bytes, so the interpreter gets its own aligned copy. */
    void *bytes = aligned_alloc(16, (len + 15) & ~(size_t)15);
    if (bytes == NULL) {
        snprintf(err, err_len, "out of memory for a %zu-byte model", len);
        return -1;
    }
    memcpy(bytes, model, len);
    host_model hm;
    if (host_model_open_bytes(&hm, bytes, len, err, err_len) != TMO_OK) {
        host_model_close(&hm); /* frees bytes too */
        return -1;
    }
    if (arena != NULL)
        *arena = hm.arena_len;
    size_t right = 0;
    for (size_t s = 0; s < ds->count; s++) {
        tmo_io in, out;
        tmo_interp_input(&hm.interp, 0, &in);
        if (fill_input(&in, ds->x + s * ds->features, ds->features) != 0) {
            snprintf(err, err_len, "model input (%s, %zu bytes) does not fit %zu features",
                     tmo_type_name(in.type), in.bytes, ds->features);
            host_model_close(&hm);
            return -1;
        }
        if (tmo_interp_invoke(&hm.interp) != TMO_OK) {
            snprintf(err, err_len, "inference failed on sample %zu", s);
            host_model_close(&hm);
            return -1;
        }
        tmo_interp_output(&hm.interp, 0, &out);
        if (out.type != TMO_INT8 && out.type != TMO_FLOAT32) {
            snprintf(err, err_len, "model output is %s, expected INT8 or FLOAT32 scores",
                     tmo_type_name(out.type));
            host_model_close(&hm);
            return -1;
        }
        right += argmax_output(&out) == (size_t)ds->y[s];
    }
    *acc = ds->count ? (double)right / (double)ds->count : NAN;
    host_model_close(&hm);
    return 0;
}
