/*
 * Contract between the interpreter and the kernels (private to the runtime).
 *
 * A kernel has two halves. prepare() runs once at load: it reads the
 * operator's tensors and options, rejects anything it can not run (naming
 * the problem in p->diag), computes every parameter invoke needs into memory
 * from prep_alloc(), and picks the invoke function. invoke() then runs
 * blindly on those parameters: it must not fail, allocate or check.
 */
#ifndef TMO_KERNEL_H
#define TMO_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "../diag.h"
#include "tinymlops/config.h"
#include "tinymlops/interp.h"
#include "tinymlops/model.h"
#include "tinymlops/ops.h"

/* tensor_loc values with this bit point into the model (constant data), otherwise into the arena. */
#define TMO_LOC_CONST 0x80000000u

/* What a kernel sees at invoke time. */
typedef struct tmo_exec {
    uint8_t *arena;
    const uint8_t *model;
    const uint32_t *loc;
} tmo_exec;

static inline void *exec_tensor(const tmo_exec *x, uint32_t t)
{
    uint32_t loc = x->loc[t];
    if (loc & TMO_LOC_CONST)
        return (void *)(uintptr_t)(x->model + (loc & ~TMO_LOC_CONST));
    return x->arena + loc;
}

/*
 * Kernel variants: every kernel has a plain reference implementation
 * (name_ref, the bit-exact oracle); some also have an optimized one
 * (name_opt) with the same signature and results. The build picks with
 * TMO_KERNELS_REF; tests run both and demand identical output.
 */
#ifdef TMO_KERNELS_REF
#define KERNEL_PICK(name) name##_ref
#else
#define KERNEL_PICK(name) name##_opt
#endif

typedef void (*tmo_invoke_fn)(const tmo_exec *x, const void *params, void *scratch);

/* One prepared operator. */
typedef struct tmo_node {
    tmo_invoke_fn invoke;
    const void *params;
    uint32_t scratch_off;   /* arena offset of this node's scratch buffer */
    uint32_t scratch_bytes; /* 0 when the kernel needs none */
} tmo_node;

/* What a kernel sees at prepare time. */
typedef struct tmo_prep {
    const tmo_model *m;
    const tmo_op_info *op;
    const char *op_name; /* the operator's registered name, for errors */
    uint32_t op_index;
    tmo_diag *diag;
    /* persistent allocator (bump, 8-byte aligned) */
    uint8_t *mem;
    size_t cap;
    size_t used;
    /* outputs of prepare */
    tmo_invoke_fn invoke;
    const void *params;
    uint32_t scratch_bytes; /* scratch needed during invoke only */
    uint8_t alias_output;   /* output 0 may share input 0's memory (data unchanged) */
} tmo_prep;

typedef tmo_err (*tmo_prepare_fn)(tmo_prep *p);

/* Kernels are found through the op table the interpreter was given (tinymlops/ops.h). */

/* Persistent memory for parameters, zeroed; NULL (and ENOSPC in diag) when the arena is full. */
void *prep_alloc(tmo_prep *p, size_t bytes);

/* Records an error about this operator and returns err. */
tmo_err(prep_fail)(tmo_prep *p, tmo_err err, const char *field, const char *problem);
#define prep_fail(p, err, field, problem) prep_fail(p, err, field, TMO_DIAG_TEXT(problem))

/* Same, with the offending value and the limit it broke. */
tmo_err(prep_fail_value)(tmo_prep *p, tmo_err err, const char *field, const char *problem,
                         int64_t value, int64_t limit);
#define prep_fail_value(p, err, field, problem, value, limit)                                    \
    prep_fail_value(p, err, field, TMO_DIAG_TEXT(problem), value, limit)

/*
 * Tensor of input/output slot i. Fails when the slot does not exist or the
 * optional input is omitted (prep_input_opt returns TMO_OK with *present = 0).
 */
tmo_err prep_input(tmo_prep *p, uint32_t i, tmo_tensor_info *t);
tmo_err prep_input_opt(tmo_prep *p, uint32_t i, tmo_tensor_info *t, int *present);
tmo_err prep_output(tmo_prep *p, uint32_t i, tmo_tensor_info *t);

/* Requires exactly (min..max) inputs and n outputs. */
tmo_err prep_io_count(tmo_prep *p, uint32_t min_in, uint32_t max_in, uint32_t n_out);

/* Fails with EUNSUPPORTED naming the type unless t->type is one of the allowed. */
tmo_err prep_type(tmo_prep *p, const tmo_tensor_info *t, const char *which, int32_t a, int32_t b);

/* Requires tensor `t` to have the same type (and for int8 a usable scale). */
tmo_err prep_same_type(tmo_prep *p, const tmo_tensor_info *a, const tmo_tensor_info *b,
                       const char *which);

/*
 * Fails with EUNSUPPORTED: float32 kernels are left out of this build. Each
 * prepare's float path starts with `if (!TMO_FLOAT_KERNELS) return
 * prep_no_float(p);`, a constant condition, so the compiler drops the path
 * and nothing references the float kernels.
 */
tmo_err prep_no_float(tmo_prep *p);

/* Requires per-tensor quantization with a positive scale (int8 tensors). */
tmo_err prep_quantized(tmo_prep *p, const tmo_tensor_info *t, const char *which);

/* Requires the operator's BuiltinOptions union type to be `expected` (or absent). */
tmo_err prep_options(tmo_prep *p, uint8_t expected);

/* Options readers that record a malformed-field error in p->diag. */
tmo_err prep_opt_i32(tmo_prep *p, unsigned field, int32_t dflt, int32_t *out);
tmo_err prep_opt_u8(tmo_prep *p, unsigned field, uint8_t dflt, uint8_t *out);
tmo_err prep_opt_f32(tmo_prep *p, unsigned field, float dflt, float *out);

/* Index of slot i as a uint16 for parameter structs (validated by the reader). */
static inline uint16_t prep_in_index(const tmo_prep *p, uint32_t i)
{
    return (uint16_t)p->op->inputs[i];
}

static inline uint16_t prep_out_index(const tmo_prep *p, uint32_t i)
{
    return (uint16_t)p->op->outputs[i];
}

#endif
