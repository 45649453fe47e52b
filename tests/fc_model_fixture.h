/*
 * The small model the bundle, update and fleet tests ship around: float
 * in[1,IN] -> FULLY_CONNECTED (no activation) -> out[1,OUT], written by the
 * project's own .tflite writer. What the weights are is up to each test
 * (different weights make different bundles).
 */
#ifndef TMO_TESTS_FC_MODEL_FIXTURE_H
#define TMO_TESTS_FC_MODEL_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "tflite/options_types.h"
#include "tflite_writer.h"

/* w: out_features x in_features, row-major; b: out_features. Returns the
 * file's bytes (caller frees) with their length in *len, or NULL. */
static inline uint8_t *fc_model_fixture(int in_features, int out_features, const float *w,
                                        const float *b, size_t *len)
{
    tw_model *m = tw_new();
    int32_t in_d[2] = {1, in_features}, w_d[2] = {out_features, in_features},
            b_d[1] = {out_features}, out_d[2] = {1, out_features};
    size_t w_bytes = sizeof(float) * (size_t)out_features * (size_t)in_features,
           b_bytes = sizeof(float) * (size_t)out_features;
    int in = tw_tensor(m, "in", TMO_FLOAT32, in_d, 2, 0, NULL);
    int wt = tw_tensor(m, "w", TMO_FLOAT32, w_d, 2, tw_buffer(m, w, w_bytes), NULL);
    int bt = tw_tensor(m, "b", TMO_FLOAT32, b_d, 1, tw_buffer(m, b, b_bytes), NULL);
    int out = tw_tensor(m, "out", TMO_FLOAT32, out_d, 2, 0, NULL);
    int32_t ins[3] = {in, wt, bt}, outs[1] = {out};
    tw_options o = {OPTIONS_FULLY_CONNECTED_OPTIONS, 1, {tw_u8(0, 0)}};
    tw_operator(m, 9 /* FULLY_CONNECTED */, ins, 3, outs, 1, &o);
    tw_inputs(m, ins, 1);
    tw_outputs(m, outs, 1);
    uint8_t *bytes = NULL;
    if (tw_finish(m, &bytes, len) != 0)
        bytes = NULL;
    tw_free(m);
    return bytes;
}

#endif
