/*
 * Architecture specs of the model factory: a short text such as "mlp:64,32"
 * or "cnn:c8k3,dw,p2,d32" names the hidden layers; the classifier head (a
 * dense layer with one unit per class, then softmax) is always appended.
 * Grammar (docs/model-factory.md, "Architecture specs"):
 *
 *   spec   = "mlp:" [units {"," units}]
 *          | "cnn:" layer {"," layer}
 *   layer  = "c" N "k" K ["s" S]   CONV_2D, N filters KxK, stride S (1), SAME, ReLU
 *          | "dw" ["k" K] ["s" S]  DEPTHWISE_CONV_2D KxK (3), multiplier 1, SAME, ReLU
 *          | "p" K                 MAX_POOL_2D KxK, stride K, VALID
 *          | "a" K                 AVERAGE_POOL_2D KxK, stride K, VALID
 *          | "d" N                 FULLY_CONNECTED N units, ReLU (flattens its input)
 *
 * In "mlp:" every number is a "d" layer. No spatial layer may follow a "d".
 */
#ifndef TMO_TRAIN_ARCH_H
#define TMO_TRAIN_ARCH_H

#include <stddef.h>
#include <stdint.h>

#define TR_MAX_LAYERS 16  /* hidden layers; the head makes one more */
#define TR_MAX_UNITS 4096 /* units, filters */
#define TR_MAX_KERNEL 15  /* kernel and pool size, stride */

typedef enum { TR_DENSE, TR_CONV, TR_DWCONV, TR_MAXPOOL, TR_AVGPOOL } tr_layer_kind;

typedef struct tr_layer_spec {
    tr_layer_kind kind;
    int32_t units; /* dense units or conv filters; 0 for depthwise and pools */
    int32_t k;     /* kernel or pool size (square) */
    int32_t stride;
    int relu; /* fused ReLU after the layer */
} tr_layer_spec;

typedef struct tr_arch {
    int spatial;    /* "cnn:": the input is an H x W x C image */
    uint32_t count; /* hidden layers */
    tr_layer_spec layers[TR_MAX_LAYERS];
} tr_arch;

/* Parses spec; -1 with a message naming the offending part in err. */
int tr_arch_parse(const char *spec, tr_arch *a, char *err, size_t err_len);

/* Short name of a layer kind ("dense", "conv", ...). */
const char *tr_layer_kind_name(tr_layer_kind k);

#endif
