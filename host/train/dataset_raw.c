/*
 * The raw tensor data layout (docs/model-factory.md, "Raw data files"): for
 * data that already sits in arrays (images, sensor windows) and would only
 * lose precision and time as text.
 *
 *   offset 0   8 bytes  magic "TMODATA1"
 *          8   uint32   sample count N (>= 1)
 *         12   uint32   features per sample F (>= 1)
 *         16   uint32   feature type, TFLite TensorType: 0 FLOAT32, 3 UINT8, 9 INT8
 *         20   uint32   reserved, 0
 *         24   N*F      features, sample-major, little-endian
 *              N        labels, int32 little-endian
 *
 * Problems name the sample and its byte offset, the raw equivalent of a line.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dataset.h"

enum { TYPE_FLOAT32 = 0, TYPE_UINT8 = 3, TYPE_INT8 = 9 };

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static size_t elem_size(uint32_t type)
{
    return type == TYPE_FLOAT32 ? 4 : (type == TYPE_UINT8 || type == TYPE_INT8) ? 1 : 0;
}

static float feature(const uint8_t *p, uint32_t type)
{
    if (type == TYPE_UINT8)
        return (float)p[0];
    if (type == TYPE_INT8)
        return (float)(int8_t)p[0];
    uint32_t bits = le32(p);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static int check_header(const char *name, const uint8_t *b, size_t len, char *err, size_t err_len)
{
    if (len < TR_RAW_HEADER_BYTES || memcmp(b, TR_RAW_MAGIC, 8) != 0) {
        snprintf(err, err_len, "%s: not a raw data file (needs the %d-byte \"%s\" header)", name,
                 TR_RAW_HEADER_BYTES, TR_RAW_MAGIC);
        return -1;
    }
    uint32_t count = le32(b + 8), features = le32(b + 12), type = le32(b + 16);
    if (count == 0 || features == 0 || features > TR_MAX_FEATURES) {
        snprintf(err, err_len,
                 "%s: header: %u samples of %u features (need >= 1 and <= %u features)", name,
                 count, features, TR_MAX_FEATURES);
        return -1;
    }
    if (elem_size(type) == 0) {
        snprintf(err, err_len,
                 "%s: header: feature type %u is not supported (0 FLOAT32, 3 UINT8, 9 INT8)", name,
                 type);
        return -1;
    }
    if (le32(b + 20) != 0) {
        snprintf(err, err_len, "%s: header: reserved field (offset 20) must be 0", name);
        return -1;
    }
    /* count < 2^32 and features <= 2^20: this product cannot overflow 64 bits. */
    uint64_t want =
        TR_RAW_HEADER_BYTES + (uint64_t)count * features * elem_size(type) + (uint64_t)count * 4;
    if ((uint64_t)len != want) {
        snprintf(err, err_len,
                 "%s: %zu bytes, but the header (%u samples, %u features, type %u) implies %llu",
                 name, len, count, features, type, (unsigned long long)want);
        return -1;
    }
    return 0;
}

int tr_dataset_parse_raw(const char *name, const uint8_t *b, size_t len, tr_dataset *ds, char *err,
                         size_t err_len)
{
    memset(ds, 0, sizeof *ds);
    if (check_header(name, b, len, err, err_len) != 0)
        return -1;
    uint32_t count = le32(b + 8), features = le32(b + 12), type = le32(b + 16);
    size_t es = elem_size(type);
    if (tr_dataset_alloc(ds, count, features, 0) != 0) {
        snprintf(err, err_len, "%s: out of memory for %u samples", name, count);
        return -1;
    }
    const uint8_t *x = b + TR_RAW_HEADER_BYTES;
    const uint8_t *labels = x + (size_t)count * features * es;
    int32_t max_label = -1;
    for (size_t s = 0; s < count; s++) {
        for (size_t j = 0; j < features; j++) {
            size_t at = (s * features + j) * es;
            float v = feature(x + at, type);
            if (!isfinite(v)) {
                snprintf(err, err_len,
                         "%s: sample %zu (byte offset %zu): feature %zu is not finite", name, s,
                         TR_RAW_HEADER_BYTES + at, j);
                tr_dataset_free(ds);
                return -1;
            }
            ds->x[s * features + j] = v;
        }
        int32_t label = (int32_t)le32(labels + 4 * s);
        if (label < 0 || label >= TR_MAX_CLASSES) {
            snprintf(err, err_len,
                     "%s: sample %zu (byte offset %zu): label %d out of range [0, %d]", name, s,
                     (size_t)(labels - b) + 4 * s, label, TR_MAX_CLASSES - 1);
            tr_dataset_free(ds);
            return -1;
        }
        ds->y[s] = label;
        if (label > max_label)
            max_label = label;
    }
    ds->classes = max_label + 1;
    return 0;
}
