/*
 * Static facts about a model that tools, bundles and the fleet server need
 * without running it: operator counts, multiply-accumulates, weight bytes
 * and the arena the runtime's planner needs.
 */
#ifndef TMO_MODEL_STATS_H
#define TMO_MODEL_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "tinymlops/model.h"

#define STATS_MAX_OP_KINDS 64

typedef struct model_stats {
    uint32_t op_kinds;                      /* distinct builtin codes */
    int32_t op_code[STATS_MAX_OP_KINDS];    /* sorted by code */
    uint32_t op_count[STATS_MAX_OP_KINDS];
    uint64_t macs;                          /* CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED */
    uint64_t weight_bytes;                  /* constant tensor data, each buffer once */
    size_t arena_bytes;                     /* 0 if the model can not be prepared */
    size_t persistent_bytes, activation_bytes;
} model_stats;

/* Fills st; arena figures come from preparing the model (diag on failure, stats still filled). */
tmo_err model_stats_compute(const tmo_model *m, model_stats *st, tmo_diag *diag);

#endif
