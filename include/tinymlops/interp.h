/*
 * The interpreter: runs a parsed model out of one caller-provided arena.
 *
 * tmo_interp_init() checks that every operator and tensor type is supported
 * (an unsupported one fails here, with its name, never at invoke), computes
 * each operator's parameters once, and plans tensor lifetimes and offsets
 * inside the arena. tmo_interp_invoke() then runs the kernels without any
 * further checks or allocation.
 *
 * Ownership: the model bytes and the arena belong to the caller and must
 * outlive the interpreter; the interpreter never frees or moves them. Input
 * tensors live in the arena and may be overwritten during invoke (their
 * memory is reused once they are consumed): write all inputs before every
 * invoke.
 */
#ifndef TINYMLOPS_INTERP_H
#define TINYMLOPS_INTERP_H

#include <stddef.h>
#include <stdint.h>

#include "tinymlops/err.h"
#include "tinymlops/model.h"
#include "tinymlops/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Run-time state of one model. Opaque; contents may change between versions. */
typedef struct tmo_interp {
    const tmo_model *model;
    uint8_t *arena;          /* aligned start inside the caller's arena */
    size_t arena_used;       /* bytes of the arena in use, from its aligned start */
    size_t persistent_bytes; /* bookkeeping and operator parameters */
    size_t activation_bytes; /* planned tensor and scratch memory */
    uint32_t *tensor_loc;    /* per tensor: where its data lives (see interp.c) */
    struct tmo_node *nodes;  /* per operator: kernel and parameters */
    uint32_t node_count;
    uint8_t ready;
} tmo_interp;

/* A model input or output as the application sees it. */
typedef struct tmo_io {
    void *data;            /* tensor bytes inside the arena (or model, for constant outputs) */
    size_t bytes;
    int32_t type;          /* tmo_type */
    uint32_t ndim;
    int32_t dims[TMO_MAX_DIMS];
    float scale;           /* quantization of int8 tensors; 0 when not quantized */
    int32_t zero_point;
} tmo_io;

/*
 * Prepares m to run inside arena[0..arena_len), with the operators of ops
 * (tinymlops/ops.h): a model using any other operator fails with
 * TMO_EUNSUPPORTED naming it. Firmware that names its operators calls this;
 * the linker then drops every other kernel.
 */
tmo_err tmo_interp_init_ops(tmo_interp *it, const tmo_model *m, const tmo_op_table *ops,
                            void *arena, size_t arena_len, tmo_diag *diag);

/* tmo_interp_arena_size() with the operators of ops. */
tmo_err tmo_interp_arena_size_ops(const tmo_model *m, const tmo_op_table *ops, void *work,
                                  size_t work_len, size_t *needed, tmo_diag *diag);

/*
 * tmo_interp_init_ops() with every operator of the build (tmo_ops_all; links every kernel).
 * Prepares m to run inside arena[0..arena_len).
 * Returns TMO_OK; TMO_ENOSPC when the arena is too small (diag->value holds
 * the bytes needed when it is known); TMO_EUNSUPPORTED naming the operator or
 * type; TMO_EBADMODEL for inconsistent shapes or quantization.
 */
tmo_err tmo_interp_init(tmo_interp *it, const tmo_model *m, void *arena, size_t arena_len,
                        tmo_diag *diag);

/*
 * Exact arena size the model needs, found by preparing it inside the caller's
 * temporary buffer work[0..work_len) (for example the candidate arena itself,
 * or heap memory on a host). TMO_ENOSPC if work is too small to tell.
 */
tmo_err tmo_interp_arena_size(const tmo_model *m, void *work, size_t work_len, size_t *needed,
                              tmo_diag *diag);

/* Runs the model once. Inputs must have been written. */
tmo_err tmo_interp_invoke(tmo_interp *it);

uint32_t tmo_interp_input_count(const tmo_interp *it);
uint32_t tmo_interp_output_count(const tmo_interp *it);

/* Describes input/output i; TMO_EINVAL when i is out of range. */
tmo_err tmo_interp_input(const tmo_interp *it, uint32_t i, tmo_io *io);
tmo_err tmo_interp_output(const tmo_interp *it, uint32_t i, tmo_io *io);

/* Whether this build has a kernel for a builtin operator code (any type; tmo_ops_all). */
int tmo_interp_supports(int32_t builtin);

#ifdef __cplusplus
}
#endif

#endif
