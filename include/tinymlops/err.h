/*
 * tinymlops error codes and diagnostics.
 *
 * One enum with stable values for the whole device library: a value never
 * changes meaning once released, so logs and telemetry from old firmware stay
 * readable. A tmo_diag carries the detail a user needs to act on an error
 * (which field, which tensor or operator, which value) without any stdio:
 * tmo_diag_format() renders it into a caller buffer.
 */
#ifndef TINYMLOPS_ERR_H
#define TINYMLOPS_ERR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    TMO_OK = 0,
    TMO_EINVAL = -1,       /* bad argument from the caller */
    TMO_ENOSPC = -2,       /* caller buffer or arena too small */
    TMO_EBADSIG = -3,      /* signature does not verify */
    TMO_EBADMODEL = -4,    /* malformed model: an offset, length, index or field is invalid */
    TMO_EUNSUPPORTED = -5, /* well-formed but uses an op, type or feature this build lacks */
    TMO_ERANGE = -6,       /* a value is outside the range the operation accepts */
    TMO_ESTATE = -7,       /* call not valid in the object's current state */
    /* Bundles (include/tinymlops/bundle.h, docs/bundle-format.md). */
    TMO_EBADBUNDLE = -8,   /* malformed bundle: header, section layout or manifest field */
    TMO_ECERT = -9,        /* certificate: not from a pinned root, outside validity, wrong model prefix */
    TMO_EEXPIRED = -10,    /* the bundle's expiry time has passed */
    TMO_EROLLBACK = -11,   /* security counter lower than the device's NV counter */
    TMO_ETARGET = -12,     /* the device does not meet the bundle's target requirements */
    TMO_EKEY = -13,        /* no key wrap for this device key, or the wrap does not open */
    TMO_EDIGEST = -14,     /* payload or model bytes do not match their signed digest */
    TMO_EKAT = -15,        /* a known-answer test vector gave a different output */
    TMO_EPORT_BASE = -1000 /* ports report their own errors below this value */
} tmo_err;

/* Where a diagnostic points inside a model. */
typedef enum {
    TMO_AT_NONE = 0,
    TMO_AT_MODEL,
    TMO_AT_SUBGRAPH,
    TMO_AT_OPCODE,
    TMO_AT_BUFFER,
    TMO_AT_TENSOR,
    TMO_AT_OPERATOR,
    TMO_AT_SECTION          /* a bundle section (index = position in the bundle) */
} tmo_where;

/*
 * Detail of the last error. All string pointers are either static or point
 * into the model bytes (tensor names), so a diag is only valid while the
 * model buffer is.
 */
typedef struct tmo_diag {
    tmo_err err;
    tmo_where where;
    int32_t index;        /* index of the tensor/operator/buffer/opcode, or -1 */
    const char *field;    /* the field or check, e.g. "tensor.shape" (static) */
    const char *problem;  /* what is wrong, e.g. "index out of range" (static) */
    const char *op_name;  /* builtin operator name when relevant, else NULL */
    const char *name;     /* tensor name from the model (not NUL-terminated), or NULL */
    uint32_t name_len;
    uint32_t offset;      /* byte offset in the model buffer where relevant, else 0 */
    int64_t value;        /* offending value, when has_value */
    int64_t limit;        /* bound it violated, when has_limit */
    uint8_t has_value;
    uint8_t has_limit;
} tmo_diag;

/* Stable short name of an error code, e.g. "EBADMODEL". Never NULL. */
const char *tmo_err_name(tmo_err err);

/* Resets a diag to "no error". d may be NULL. */
void tmo_diag_clear(tmo_diag *d);

/*
 * Renders a diag as one line of text into buf (always NUL-terminated when
 * len > 0, truncated if needed). Returns the length the full message would
 * have, like snprintf, so the caller can detect truncation.
 */
size_t tmo_diag_format(const tmo_diag *d, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
