/*
 * Reference profiles and known-answer tests: the two monitoring payloads a
 * bundle carries (sections PROFILE 0x0010 and KAT 0x0011, docs/bundle-format.md).
 *
 * A profile is what the model's inputs and outputs looked like on
 * representative data when it was packed: per-channel-group histograms and
 * moments of the input, the class and confidence distributions (or value
 * histograms for models that do not classify), a confidence calibration and
 * optionally per-channel statistics of one intermediate ("penultimate")
 * tensor. The device monitor (monitor.h) compares every reporting window with
 * it. Known-answer tests are inputs with the exact output bytes the runtime
 * produced for them; the agent runs them during an update trial.
 *
 * This header pins both wire formats (docs/monitoring.md is the spec; [P-x]
 * and [K-x] name its requirements). Both are self-contained, versioned byte
 * strings, little-endian on every device. Parsing never allocates and never
 * reads outside the given bytes; a parsed tmo_profile points into them, so
 * the bytes must stay valid and unchanged while the profile (and any monitor
 * built on it) is used.
 */
#ifndef TINYMLOPS_PROFILE_H
#define TINYMLOPS_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "tinymlops/err.h"
#include "tinymlops/interp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- PROFILE wire format, version 1 [P-1..P-7] ---- */

#define TMO_PROFILE_MAGIC "TMOP"
#define TMO_PROFILE_VERSION 1
#define TMO_PROFILE_HEADER_SIZE 64
#define TMO_PROFILE_STATS_DESC_SIZE 32 /* [P-3] a value-statistics block's descriptor */
#define TMO_PROFILE_GROUP_FIXED 32     /* [P-3] a group record before its histogram */
#define TMO_PROFILE_CLASS_DESC_SIZE 32 /* [P-4] */
#define TMO_PROFILE_PEN_DESC_SIZE 24   /* [P-5] */

/* Header flags [P-2]. */
#define TMO_PROFILE_F_CALIBRATED 0x0001u /* calibration fitted on labels (else identity) */
#define TMO_PROFILE_F_PEN 0x0002u        /* a penultimate block follows */
#define TMO_PROFILE_F_MODE_SHIFT 8       /* bits 8-9: output mode */
#define TMO_PROFILE_F_MODE_MASK 0x0300u

/* How the output is read [P-4]. */
typedef enum {
    TMO_OUT_PROBS = 0,  /* class probabilities (softmax output): top-1 value is the confidence */
    TMO_OUT_LOGITS = 1, /* class scores: confidence is the top-1 softmax probability */
    TMO_OUT_VALUES = 2  /* not a classifier: output values get histograms like the input */
} tmo_out_mode;

/* Limits every valid profile obeys (and the sizes a device must budget for). */
#define TMO_PROFILE_MAX_BINS 64
#define TMO_PROFILE_MAX_GROUPS 256
#define TMO_PROFILE_MAX_CLASSES 1024
#define TMO_PROFILE_MAX_PEN 1024

/* Byte offsets inside the header [P-2]. */
enum {
    TMO_PH_MAGIC = 0,
    TMO_PH_VERSION = 4,
    TMO_PH_HEADER_SIZE = 6,
    TMO_PH_TOTAL = 8,
    TMO_PH_FLAGS = 12,
    TMO_PH_DIGEST = 16, /* SHA-256 of the .tflite, 32 bytes */
    TMO_PH_SAMPLES = 48,
    TMO_PH_LABELLED = 52,
    TMO_PH_LABEL_ACC = 56, /* f32 */
    TMO_PH_RESERVED = 60
};
_Static_assert(TMO_PH_RESERVED + 4 == TMO_PROFILE_HEADER_SIZE, "profile header layout");

/* Statistics of one tensor's values (input, or output in VALUES mode), in raw tensor units. */
typedef struct tmo_profile_stats {
    const uint8_t *at; /* the block's descriptor inside the profile bytes */
    int32_t type;      /* TMO_INT8 or TMO_FLOAT32 */
    uint32_t bins;     /* per group, 2..TMO_PROFILE_MAX_BINS */
    uint32_t groups;   /* channel groups, 1..min(channels, TMO_PROFILE_MAX_GROUPS) */
    uint32_t channels; /* the tensor's last dimension */
    uint32_t elements; /* the tensor's element count (a multiple of channels) */
    float scale;       /* quantization of an int8 tensor (0 for float32) */
    int32_t zero_point;
    float seq_mean, seq_std; /* mean and std over samples of the per-inference mean value */
} tmo_profile_stats;

/* One channel group: channels [first, first + count) of the last dimension [P-3]. */
typedef struct tmo_profile_group {
    float lo, hi;   /* histogram range; int8: integers, bins cover lo..hi inclusive */
    uint64_t count; /* values seen (sum of the histogram) */
    double mean, m2;
} tmo_profile_group;

/* A parsed profile. Plain data pointing into the caller's bytes. */
typedef struct tmo_profile {
    const uint8_t *bytes;
    size_t len;
    uint32_t flags;
    tmo_out_mode mode;
    const uint8_t *model_digest; /* 32 bytes */
    uint32_t samples;            /* representative inputs the profile was made from */
    uint32_t labelled;           /* of them with labels (0 = calibration is the identity) */
    float label_accuracy;        /* fraction of labelled samples classified right */
    tmo_profile_stats in;
    tmo_profile_stats out; /* VALUES mode only */
    /* Classes block (PROBS / LOGITS modes) [P-4]. */
    const uint8_t *cls_at;
    int32_t out_type;
    uint32_t classes, conf_bins, out_elements;
    float out_scale;
    int32_t out_zero_point;
    float conf_mean, conf_std; /* of the per-inference top-1 confidence */
    float acc_ref;             /* calibrated accuracy estimate over the profile data */
    /* Penultimate block [P-5]; pen_channels == 0 when absent. */
    const uint8_t *pen_at;
    uint32_t pen_tensor;
    int32_t pen_type;
    uint32_t pen_channels, pen_count;
    float pen_scale;
    int32_t pen_zero_point;
} tmo_profile;

/*
 * Parses and validates a profile held in data[0..len): magic, version,
 * exact total size, every count within limits, every float finite, every
 * histogram summing to its group count, calibration values in [0, 1].
 * Returns TMO_OK, TMO_EUNSUPPORTED (other version), TMO_EBADMODEL (malformed;
 * diag names the field and the byte offset) or TMO_EINVAL (NULL).
 */
tmo_err tmo_profile_parse(tmo_profile *p, const void *data, size_t len, tmo_diag *diag);

/*
 * Checks that p describes the model it is attached to: the interpreter's
 * input 0 (and output 0) have the profile's type, element count, last
 * dimension and quantization, and the penultimate tensor exists with the
 * profile's type and channel count. TMO_EINVAL with diag naming the mismatch.
 */
tmo_err tmo_profile_check(const tmo_profile *p, const tmo_interp *it, tmo_diag *diag);

/* First channel of group g of s (group g covers [first(g), first(g + 1))). */
uint32_t tmo_profile_group_first(const tmo_profile_stats *s, uint32_t g);

/* Group g (< s->groups) and its histogram count of bin b (< s->bins). */
void tmo_profile_group_get(const tmo_profile_stats *s, uint32_t g, tmo_profile_group *out);
uint32_t tmo_profile_hist(const tmo_profile_stats *s, uint32_t g, uint32_t b);

/* Classes block: samples predicted as class k, samples in confidence bin b, calibration of bin b. */
uint32_t tmo_profile_class_count(const tmo_profile *p, uint32_t k);
uint32_t tmo_profile_conf_count(const tmo_profile *p, uint32_t b);
float tmo_profile_calib(const tmo_profile *p, uint32_t b);

/* Penultimate channel c: mean and variance (raw tensor units). */
void tmo_profile_pen(const tmo_profile *p, uint32_t c, float *mean, float *var);

/* Bytes of a stats block with these counts (descriptor + groups). */
size_t tmo_profile_stats_size(uint32_t groups, uint32_t bins);

/* ---- KAT wire format, version 1 [K-1..K-4] ---- */

#define TMO_KAT_MAGIC "TMOK"
#define TMO_KAT_VERSION 1
#define TMO_KAT_HEADER_SIZE 16
#define TMO_KAT_MAX_VECTORS 256
#define TMO_KAT_MAX_IO 16

enum {
    TMO_KH_MAGIC = 0,
    TMO_KH_VERSION = 4,
    TMO_KH_HEADER_SIZE = 6,
    TMO_KH_TOTAL = 8,
    TMO_KH_VECTORS = 12, /* u16 */
    TMO_KH_INPUTS = 14,  /* u8 */
    TMO_KH_OUTPUTS = 15  /* u8 */
};

/* Where a known-answer test failed (valid when tmo_kat_run returns an error). */
typedef struct tmo_kat_result {
    uint32_t vectors; /* vectors in the KAT */
    uint32_t passed;  /* vectors that matched before the failure (all on success) */
    int32_t vector;   /* failing vector, -1 when the KAT bytes themselves are bad */
    int32_t output;   /* failing output tensor, -1 for a layout problem */
    uint32_t byte;    /* first differing byte of that output */
    uint8_t expected, got;
} tmo_kat_result;

/* Validates KAT bytes (structure only). TMO_EBADMODEL / TMO_EUNSUPPORTED with diag. */
tmo_err tmo_kat_parse(const void *data, size_t len, uint32_t *vectors, tmo_diag *diag);

/*
 * Runs every vector: copies its inputs into the interpreter's inputs,
 * invokes, and compares every output byte for byte. Returns TMO_OK when all
 * match; TMO_EKAT at the first difference (res names the vector, output
 * and first differing byte with both values; diag too); TMO_EINVAL when a
 * vector's sizes do not fit the model; TMO_EBADMODEL/EUNSUPPORTED for bad
 * KAT bytes. Overwrites the interpreter's inputs and outputs.
 */
tmo_err tmo_kat_run(tmo_interp *it, const void *data, size_t len, tmo_kat_result *res,
                    tmo_diag *diag);

/* Renders res as one line ("vector 2 output 0 byte 7: expected 0x12, got 0x13"), like snprintf. */
size_t tmo_kat_format(const tmo_kat_result *res, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
