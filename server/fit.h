/*
 * Which variant of a model a device can run (DESIGN.md section 6): the
 * bundle's target requirements against the device's capability profile
 * (P-9), and the choice of the best fitting variant, or the reason none
 * fits. Pure functions: the deployment controller and the unit tests call
 * them with parsed records.
 */
#ifndef TMO_FIT_H
#define TMO_FIT_H

#include <stddef.h>
#include <stdint.h>

#include "tinymlops/bundle.h"

#define FIT_ARCH_LEN 32
#define FIT_MAX_ARCHES 8

/* Builtin operators as a set of codes 0..255. */
typedef struct fit_ops {
    uint64_t bits[4];
} fit_ops;

typedef struct fit_device {
    char arch[FIT_ARCH_LEN + 1];
    tmo_semver runtime;
    int64_t ram_bytes;   /* bounds the arena */
    int64_t flash_bytes; /* bounds the model */
    fit_ops ops;
} fit_device;

typedef struct fit_variant {
    int64_t bundle_id;
    int64_t rank;
    char arches[FIT_MAX_ARCHES][FIT_ARCH_LEN + 1]; /* none = any architecture */
    size_t arch_count;
    tmo_semver min_runtime;
    int64_t arena_bytes;
    int64_t flash_bytes;
    fit_ops ops;
} fit_variant;

/* Code of a builtin operator name ("CONV_2D" -> 3), -1 when unknown. Thread-safe. */
int fit_op_code(const char *name);

/* Parses a JSON array text of operator names into a set; unknown names are ignored. */
void fit_ops_from_json(const char *json_text, fit_ops *out);

/* Parses a stored capability profile (P-9 JSON). 0 on success, -1 when a field is missing. */
int fit_device_from_json(const char *profile_json, fit_device *out);

/*
 * Why v does not fit d, written to why (e.g. "arena 300000 > ram 262144");
 * returns 1 when it fits (why = ""). Checks, in order: architecture, runtime
 * version, arena vs RAM, model size vs flash, operators.
 */
int fit_check(const fit_device *d, const fit_variant *v, char *why, size_t why_len);

/*
 * The best variant of v[0..n) that fits d: highest rank, then one built for
 * d's architecture over a generic one, then the larger arena (the more
 * capable model that still fits), then the lower bundle id. Returns its
 * index, or -1 with reason naming why each variant does not fit.
 */
int fit_pick(const fit_device *d, const fit_variant *v, size_t n, char *reason, size_t reason_len);

/* Compares two versions: <0, 0, >0. */
int fit_semver_cmp(tmo_semver a, tmo_semver b);

#endif
