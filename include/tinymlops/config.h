/*
 * Build-time limits of the device library.
 *
 * A firmware project overrides any of these by defining TMO_USER_CONFIG_FILE
 * (a header included first) or by -D flags; every value here is only a
 * default. The limits bound the work done on untrusted models (the planner is
 * quadratic in the number of tensors) and the size of fixed structures.
 */
#ifndef TINYMLOPS_CONFIG_H
#define TINYMLOPS_CONFIG_H

#ifdef TMO_USER_CONFIG_FILE
#include TMO_USER_CONFIG_FILE
#endif

/* Most dimensions a tensor may have (TFLite uses at most 6 for broadcasting ops). */
#ifndef TMO_MAX_DIMS
#define TMO_MAX_DIMS 6
#endif

/* Most tensors in the executed subgraph. Tensor indices are stored as uint16. */
#ifndef TMO_MAX_TENSORS
#define TMO_MAX_TENSORS 4096
#endif

/* Most operators in the executed subgraph. */
#ifndef TMO_MAX_OPS
#define TMO_MAX_OPS 2048
#endif

/* Most inputs or outputs of one operator (CONCATENATION is the widest). */
#ifndef TMO_MAX_OP_IO
#define TMO_MAX_OP_IO 16
#endif

/*
 * 1: the kernels run float32 models as well as int8 ones. 0: float32 tensors
 * are refused at load (TMO_EUNSUPPORTED) and no float32 kernel is linked: an
 * int8-only firmware saves their code (about 4.5 KB for KWS on Cortex-M4 -Os).
 */
#ifndef TMO_FLOAT_KERNELS
#define TMO_FLOAT_KERNELS 1
#endif

/*
 * 1: errors carry a sentence saying what is wrong (tmo_diag.problem). 0: the
 * sentences are left out of the build (about 4 KB for an inference-only
 * Cortex-M firmware); errors keep their code, place, field and values.
 */
#ifndef TMO_DIAG_MESSAGES
#define TMO_DIAG_MESSAGES 1
#endif

/*
 * Largest depthwise filter (bytes) the optimized one-input-channel path
 * copies, transposed, into scratch to run it as a CONV_2D: faster (micro_speech:
 * 26 % fewer instructions on x86-64, 8 % on Cortex-M4) but the copy adds to
 * the arena. Large on 64-bit hosts; small on 32-bit targets, where the arena
 * must stay within TFLite Micro's (micro_speech's 640-byte filter would not).
 */
#ifndef TMO_DWCONV_COPY_MAX
#if defined(__SIZEOF_POINTER__) && __SIZEOF_POINTER__ >= 8
#define TMO_DWCONV_COPY_MAX 16384u
#else
#define TMO_DWCONV_COPY_MAX 256u
#endif
#endif

/*
 * Alignment of every tensor placed in the arena. 4 is enough for the portable
 * kernels (int32 and float32 data); SIMD ports may raise it.
 */
#ifndef TMO_TENSOR_ALIGN
#define TMO_TENSOR_ALIGN 4
#endif

#endif
