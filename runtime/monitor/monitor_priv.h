/*
 * Private parts of the monitor shared by its files: explicit little-endian
 * access (the formats are little-endian whatever the device), the per-group
 * accumulators of a tensor's values, and the report writer.
 */
#ifndef TMO_MONITOR_PRIV_H
#define TMO_MONITOR_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tinymlops/monitor.h"
#include "tinymlops/profile.h"

static inline uint16_t mon_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t mon_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t mon_le64(const uint8_t *p)
{
    return (uint64_t)mon_le32(p) | (uint64_t)mon_le32(p + 4) << 32;
}

static inline float mon_lef32(const uint8_t *p)
{
    uint32_t u = mon_le32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline double mon_lef64(const uint8_t *p)
{
    uint64_t u = mon_le64(p);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static inline void mon_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void mon_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void mon_put64(uint8_t *p, uint64_t v)
{
    mon_put32(p, (uint32_t)v);
    mon_put32(p + 4, (uint32_t)(v >> 32));
}

static inline void mon_putf32(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    mon_put32(p, u);
}

static inline void mon_putf64(uint8_t *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    mon_put64(p, u);
}

/* Shift applied to int8 bin arithmetic: exact for (q - lo) * bins < 2^14 and widths <= 256. */
#define MON_BIN_SHIFT 22

/* One channel group of a monitored tensor: bin mapping and window accumulators. */
typedef struct mon_group {
    uint32_t first, end; /* channels [first, end) of the last dimension */
    int32_t lo;          /* int8: lowest value of bin 0 */
    uint32_t wm1;        /* int8: width - 1 of the range (hi - lo) */
    uint32_t mb;         /* int8: bins * ceil(2^MON_BIN_SHIFT / width) */
    float flo, inv;      /* float32: lo and bins / (hi - lo) */
    float shift;         /* float32: the profile's mean, subtracted before summing squares */
    uint64_t count;
    int64_t isum; /* int8: exact sums of values and squares */
    uint64_t isq;
    double fsum, fsq; /* float32: sums of (v - shift) and its square */
} mon_group;

struct tmo_mon_tensor {
    const tmo_profile_stats *ps;
    int32_t type;
    uint32_t bins, groups, channels, rows;
    mon_group *g;
    uint32_t *hist; /* groups * bins */
    uint64_t fp;    /* fingerprint of the last values added: their per-group sums */
};
typedef struct tmo_mon_tensor mon_tensor;

/* Memory of a mon_tensor with these counts (struct + groups + histograms). */
size_t mon_tensor_bytes(uint32_t groups, uint32_t bins);

/* Lays t out in mem (mon_tensor_bytes of it) from the profile block ps. */
void mon_tensor_init(mon_tensor *t, void *mem, const tmo_profile_stats *ps);

/* Zeroes the window accumulators. */
void mon_tensor_reset(mon_tensor *t);

/*
 * Adds the values of one tensor (every stride-th row) to the histograms and
 * sums. *sum and *n receive the raw sum and count of the values taken (for
 * the per-inference mean); *nonfinite counts skipped NaN/Inf floats.
 */
void mon_tensor_add(mon_tensor *t, const void *data, uint32_t stride, double *sum, uint64_t *n,
                    uint32_t *nonfinite);

/* Window moments of group g (raw units). */
void mon_tensor_moments(const mon_tensor *t, uint32_t g, double *mean, double *m2);

/* Reference histogram of group g from the profile into ref[bins]. */
void mon_profile_hist(const tmo_profile_stats *ps, uint32_t g, uint32_t *ref);

/*
 * Penultimate accumulators per channel: exact integer sums for int8 (no
 * floating point per value, which MCUs without a double FPU pay dearly for),
 * sums of (value - profile mean) in double for float32.
 */
typedef union mon_pen {
    struct {
        int64_t sum;
        uint64_t sq;
    } i;
    struct {
        double sum, sq;
    } f;
} mon_pen;

/* Adds the penultimate tensor (in the arena) to the window's sums. */
void mon_pen_add(tmo_monitor *m);

/* Window mean and M2 of penultimate channel c (raw units); 0 when none was seen. */
void mon_pen_moments(const tmo_monitor *m, uint32_t c, double *mean, double *m2);

/* Top-1 class and its probability of an output tensor; -1 when out is empty. */
int32_t mon_top1(const tmo_profile *p, const void *data, float *conf);

/* Confidence bin of a probability. */
uint32_t mon_conf_bin(float conf, uint32_t bins);

/* Log2 latency bucket. */
uint32_t mon_latency_bin(uint32_t us);

/* The i-th kept raw input of the window (slot order); 0 when there is none. */
uint32_t mon_samples_get(const tmo_monitor *m, uint32_t i, uint32_t *index, float *score,
                         uint32_t *cls, const uint8_t **bytes);

/* Starts a new window at now_ms (device-local milliseconds). */
void mon_window_reset(tmo_monitor *m, uint64_t now_ms);

/* Encodes the current window into m->report (drift computed here). */
void mon_report_write(tmo_monitor *m, uint32_t close_reason, uint64_t end_ms);

/* The window's drift scores against the profile and the window-end events they raise. */
void mon_drift(const tmo_monitor *m, tmo_drift *d, uint32_t *events);

#endif
