/*
 * Operator tables: the firmware names the operators it links, the way TFLite
 * Micro's MicroMutableOpResolver does, so the linker drops every other
 * kernel. A table lists kernel registrations, one per TFLite builtin
 * operator; the interpreter looks operators up only in the table it is given
 * (tmo_interp_init_ops) and rejects a model that uses any other, naming it.
 *
 *   static const tmo_op_reg *const kws_ops[] = {
 *       TMO_OP(AVERAGE_POOL_2D), TMO_OP(CONV_2D), TMO_OP(DEPTHWISE_CONV_2D),
 *       TMO_OP(FULLY_CONNECTED), TMO_OP(RESHAPE), TMO_OP(SOFTMAX),
 *   };
 *   static const tmo_op_table kws = TMO_OP_TABLE(kws_ops);
 *   tmo_interp_init_ops(&it, &model, &kws, arena, sizeof arena, &diag);
 *
 * Naming an operator this build has no kernel for fails at link time
 * ("undefined reference to tmo_op_<NAME>"). tmo_ops_all holds every operator
 * of the build (runtime/kernels/ops.def); tmo_interp_init() uses it, and so
 * links every kernel.
 *
 * Ownership: tables and registrations are constant data; the interpreter
 * keeps no pointer to the table after init.
 */
#ifndef TINYMLOPS_OPS_H
#define TINYMLOPS_OPS_H

#include <stdint.h>

#include "tinymlops/builtins.h"
#include "tinymlops/err.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tmo_prep; /* the kernels' load-time context (private to the library) */

/* One operator's kernel: its builtin code, name and load-time entry point. */
typedef struct tmo_op_reg {
    int32_t builtin;
    const char *name; /* e.g. "CONV_2D", for error messages */
    tmo_err (*prepare)(struct tmo_prep *p);
} tmo_op_reg;

/*
 * The operators a firmware links. name_of names operators outside the table
 * in errors (tmo_builtin_name, about 3.7 KB of names on Cortex-M); NULL keeps
 * them out of the firmware and errors give the builtin code instead.
 */
typedef struct tmo_op_table {
    const tmo_op_reg *const *ops;
    uint32_t count;
    const char *(*name_of)(int32_t builtin);
} tmo_op_table;

/* The registration of builtin operator NAME (e.g. TMO_OP(CONV_2D)). */
#define TMO_OP(NAME) (&tmo_op_##NAME)

/* A table over a static array of TMO_OP() entries (errors name other operators by code). */
/* clang-format off */
#define TMO_OP_TABLE(array) {(array), (uint32_t)(sizeof(array) / sizeof((array)[0])), 0}
/* clang-format on */

/* Every operator of this build. */
extern const tmo_op_table tmo_ops_all;

/* The registration for builtin in t, or NULL. */
const tmo_op_reg *tmo_op_find(const tmo_op_table *t, int32_t builtin);

#define TMO_OP_DECLARE_(code, name) extern const tmo_op_reg tmo_op_##name;
TMO_BUILTIN_FOREACH(TMO_OP_DECLARE_)
#undef TMO_OP_DECLARE_

#ifdef __cplusplus
}
#endif

#endif
