/*
 * The models and golden samples a firmware embeds, as tables written at build
 * time by gen_models.py from ../shared/ref (never committed). Sample bytes are
 * the golden files' bytes: inputs of all input tensors concatenated in tensor
 * order, outputs likewise.
 */
#ifndef TMO_QEMU_MPS_FW_MODELS_H
#define TMO_QEMU_MPS_FW_MODELS_H

#include <stdint.h>

typedef struct {
    const char *name; /* file base name, e.g. "000" or "real_yes" */
    const uint8_t *in;
    uint32_t in_len;
    const uint8_t *out;
    uint32_t out_len;
} fw_sample;

typedef struct {
    const char *name;
    const uint8_t *model; /* .tflite bytes, 16-byte aligned */
    uint32_t model_len;
    const fw_sample *samples;
    uint32_t sample_count;
    /* Samples run in order on one interpreter, state carried over (ref/zoo README). */
    uint8_t stateful;
} fw_model;

/* The operators the firmware links (the generator's --ops). */
extern const struct tmo_op_table *const fw_ops;

extern const fw_model fw_models[];
extern const uint32_t fw_model_count;

#endif
