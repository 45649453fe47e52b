/*
 * Monitor set-up: configuration defaults, the memory layout inside the
 * caller's buffer (computed by one function for both sizing and init, so the
 * two can not disagree), and the check that decides how the penultimate
 * tensor can be read.
 */
#include <math.h>

#include "../diag.h"
#include "../kernels/kernel.h"
#include "monitor_priv.h"

#define ALIGN8(x) (((x) + 7u) & ~(size_t)7u)

/* Widest int8 channel group: keeps the per-row 32-bit sums exact (stats.c). */
#define MAX_GROUP_CHANNELS (1u << 18)

/* Bytes of one reservoir entry's metadata: u32 index, f32 score, u32 class. */
#define SAMPLE_META 12u

void tmo_monitor_config_defaults(tmo_monitor_config *c)
{
    memset(c, 0, sizeof *c);
    c->window_inferences = 100;
    c->input_stride = 1;
    c->use_pen = 1;
    c->stuck_after = 16;
    c->cusum_k = 0.5f;
    c->cusum_h = 16.0f;
    c->cusum_clip = 3.0f;
    c->psi_alarm = 0.2f;
    c->psi_z = 3.7f;
    c->pen_alarm = 1.0f;
    c->acc_alarm = 0.15f;
}

static size_t sample_bytes_of(const tmo_profile *p)
{
    return (size_t)p->in.elements * (p->in.type == TMO_INT8 ? 1u : 4u);
}

static size_t report_bytes(const tmo_profile *p, int pen_on, uint32_t samples)
{
    int values = p->mode == TMO_OUT_VALUES;
    return tmo_report_size(p->in.groups, p->in.bins, p->mode, values ? p->out.groups : p->classes,
                           values ? p->out.bins : p->conf_bins, pen_on ? p->pen_channels : 0,
                           samples, (uint32_t)sample_bytes_of(p));
}

/*
 * Places every array of the monitor at base (NULL: only sums the sizes).
 * Layout: input tensor, output tensor (VALUES) or class and confidence
 * counts, latency histogram, penultimate sums, pending report, reservoir.
 */
static size_t layout(tmo_monitor *m, const tmo_monitor_config *c, const tmo_profile *p, int pen_on,
                     uint8_t *base)
{
    size_t at = 0;
#define PLACE(bytes) (at += ALIGN8(bytes), base != NULL ? base + at - ALIGN8(bytes) : NULL)
    size_t tstruct = ALIGN8(sizeof(mon_tensor));
    uint8_t *in = PLACE(tstruct + mon_tensor_bytes(p->in.groups, p->in.bins));
    uint8_t *out = NULL, *cls = NULL, *conf = NULL;
    if (p->mode == TMO_OUT_VALUES) {
        out = PLACE(tstruct + mon_tensor_bytes(p->out.groups, p->out.bins));
    } else {
        cls = PLACE((size_t)p->classes * 4u);
        conf = PLACE((size_t)p->conf_bins * 4u);
    }
    uint8_t *lat = PLACE(TMO_REPORT_LATENCY_BINS * 4u);
    uint8_t *pen = pen_on ? PLACE((size_t)p->pen_channels * sizeof(mon_pen)) : NULL;
    uint8_t *shift = pen_on && p->pen_type != TMO_INT8 ? PLACE((size_t)p->pen_channels * 4u) : NULL;
    uint8_t *rep = PLACE(report_bytes(p, pen_on, c->samples));
    size_t sb = sample_bytes_of(p);
    uint8_t *smp = c->samples ? PLACE(((size_t)c->samples + 1u) * ALIGN8(sb)) : NULL;
    uint8_t *meta = c->samples ? PLACE(((size_t)c->samples + 1u) * SAMPLE_META) : NULL;
#undef PLACE
    if (base != NULL) {
        m->in = (mon_tensor *)(void *)in;
        mon_tensor_init(m->in, in + tstruct, &p->in);
        if (out != NULL) {
            m->out = (mon_tensor *)(void *)out;
            mon_tensor_init(m->out, out + tstruct, &p->out);
        }
        m->class_counts = (uint32_t *)(void *)cls;
        m->conf_counts = (uint32_t *)(void *)conf;
        m->latency = (uint32_t *)(void *)lat;
        m->pen_acc = pen;
        m->pen_shift = (float *)(void *)shift;
        for (uint32_t ch = 0; shift != NULL && ch < p->pen_channels; ch++) {
            float var;
            tmo_profile_pen(p, ch, &m->pen_shift[ch], &var);
        }
        m->report = rep;
        m->report_len = 0;
        m->samples = smp;
        m->sample_meta = meta;
        m->sample_bytes = sb;
    }
    return at;
}

static tmo_err check_config(const tmo_monitor_config *c, tmo_diag *d)
{
    const char *bad = NULL;
    if (c->input_stride == 0)
        bad = "input_stride must be at least 1";
    else if (c->samples > TMO_REPORT_MAX_SAMPLES)
        bad = "samples above TMO_REPORT_MAX_SAMPLES";
    else if (c->window_ms != 0 && c->now_us == NULL)
        bad = "window_ms needs a clock (now_us)";
    else if (!(c->cusum_k >= 0) || !(c->cusum_h > 0) || !(c->cusum_clip > 0) ||
             !isfinite(c->cusum_k + c->cusum_h + c->cusum_clip))
        bad = "CUSUM parameters must be finite, k >= 0, h > 0, clip > 0";
    else if (!(c->psi_alarm >= 0) || !(c->pen_alarm >= 0) || !(c->acc_alarm >= 0) ||
             !(c->psi_z >= 0) || !isfinite(c->psi_alarm + c->pen_alarm + c->acc_alarm + c->psi_z))
        bad = "alarm thresholds must be finite and >= 0";
    if (bad == NULL)
        return TMO_OK;
    return diag_set(d, TMO_EINVAL, TMO_AT_NONE, -1, "monitor.config", bad);
}

static tmo_err check_groups(const tmo_profile_stats *s, const char *field, tmo_diag *d)
{
    for (uint32_t g = 0; g < s->groups; g++) {
        uint32_t width = tmo_profile_group_first(s, g + 1) - tmo_profile_group_first(s, g);
        if (width > MAX_GROUP_CHANNELS) {
            diag_set(d, TMO_EUNSUPPORTED, TMO_AT_NONE, -1, field,
                     "a channel group is wider than this build supports");
            diag_limit(d, width, MAX_GROUP_CHANNELS);
            return TMO_EUNSUPPORTED;
        }
    }
    return TMO_OK;
}

static int is_alias_op(int32_t builtin)
{
    return builtin == 22 || builtin == 43 || builtin == 70; /* RESHAPE, SQUEEZE, EXPAND_DIMS */
}

static int overlaps(uint32_t a, size_t alen, uint32_t b, size_t blen)
{
    return alen > 0 && blen > 0 && a < b + blen && b < a + alen;
}

/*
 * Finds the operator that writes the penultimate tensor and whether any
 * later operator writes over its memory (outputs or scratch), in which case
 * it can only be read between operators (tmo_monitor_invoke).
 */
static tmo_err find_pen(tmo_monitor *m, const tmo_interp *it, tmo_diag *d)
{
    const tmo_model *md = it->model;
    uint32_t pen = m->profile->pen_tensor, loc = it->tensor_loc[pen];
    tmo_tensor_info pt;
    tmo_model_tensor(md, pen, &pt);
    int32_t producer = -1;
    m->pen_survives = 1;
    for (uint32_t i = 0; i < md->op_count; i++) {
        tmo_op_info op;
        tmo_model_op(md, i, &op);
        for (uint32_t k = 0; k < op.output_count; k++) {
            int32_t o = op.outputs[k];
            if ((uint32_t)o == pen) {
                producer = (int32_t)i;
                continue;
            }
            if (producer < 0 || (it->tensor_loc[o] & TMO_LOC_CONST))
                continue;
            tmo_tensor_info ot;
            tmo_model_tensor(md, (uint32_t)o, &ot);
            if (is_alias_op(op.builtin) && it->tensor_loc[o] == loc)
                continue; /* shares the memory without changing it */
            if (overlaps(it->tensor_loc[o], ot.bytes, loc, pt.bytes))
                m->pen_survives = 0;
        }
        const tmo_node *n = &it->nodes[i];
        if (producer >= 0 && (uint32_t)producer != i &&
            overlaps(n->scratch_off, n->scratch_bytes, loc, pt.bytes))
            m->pen_survives = 0;
    }
    if (producer < 0)
        return diag_set(d, TMO_EINVAL, TMO_AT_TENSOR, (int32_t)pen, "profile.pen",
                        "no operator writes the penultimate tensor");
    m->pen_producer = (uint32_t)producer;
    m->pen_rows = (uint32_t)(pt.elements / m->profile->pen_channels);
    m->pen_data = it->arena + loc;
    return TMO_OK;
}

/* Inferences after which a histogram bin of t could pass 2^32 - 1 (values per inference bound it). */
static uint32_t counter_limit(const tmo_profile_stats *s, uint32_t limit)
{
    uint32_t rows = s->elements / s->channels;
    for (uint32_t g = 0; g < s->groups; g++) {
        uint64_t per =
            (uint64_t)rows * (tmo_profile_group_first(s, g + 1) - tmo_profile_group_first(s, g));
        uint64_t most = per > 0 ? 0xffffffffu / per : limit;
        limit = most < limit ? (uint32_t)most : limit;
    }
    return limit > 0 ? limit : 1;
}

static tmo_err prepare(const tmo_monitor_config *c, const tmo_profile *p, const tmo_interp *it,
                       tmo_diag *d)
{
    if (c == NULL || p == NULL || it == NULL)
        return diag_set(d, TMO_EINVAL, TMO_AT_NONE, -1, "monitor", "NULL argument");
    tmo_err e = check_config(c, d);
    if (e == TMO_OK)
        e = tmo_profile_check(p, it, d);
    if (e == TMO_OK && p->in.type == TMO_INT8)
        e = check_groups(&p->in, "profile.input", d);
    if (e == TMO_OK && p->mode == TMO_OUT_VALUES && p->out.type == TMO_INT8)
        e = check_groups(&p->out, "profile.output", d);
    return e;
}

tmo_err tmo_monitor_mem_size(const tmo_monitor_config *c, const tmo_profile *p,
                             const tmo_interp *it, size_t *bytes, tmo_diag *d)
{
    tmo_diag_clear(d);
    if (bytes == NULL)
        return diag_set(d, TMO_EINVAL, TMO_AT_NONE, -1, "bytes", "NULL argument");
    *bytes = 0;
    tmo_err e = prepare(c, p, it, d);
    if (e != TMO_OK)
        return e;
    *bytes = layout(NULL, c, p, c->use_pen && p->pen_channels > 0, NULL) + 7u;
    return TMO_OK;
}

tmo_err tmo_monitor_init(tmo_monitor *m, const tmo_monitor_config *c, const tmo_profile *p,
                         const tmo_interp *it, void *mem, size_t len, tmo_diag *d)
{
    tmo_diag_clear(d);
    if (m == NULL || mem == NULL)
        return diag_set(d, TMO_EINVAL, TMO_AT_NONE, -1, "monitor", "NULL argument");
    tmo_err e = prepare(c, p, it, d);
    if (e != TMO_OK)
        return e;
    memset(m, 0, sizeof *m);
    int pen_on = c->use_pen && p->pen_channels > 0;
    uint8_t *base = (uint8_t *)ALIGN8((uintptr_t)mem);
    size_t skew = (size_t)(base - (uint8_t *)mem);
    size_t need = layout(NULL, c, p, pen_on, NULL);
    if (len < skew || len - skew < need) {
        diag_set(d, TMO_ENOSPC, TMO_AT_NONE, -1, "monitor.mem", "buffer too small");
        diag_limit(d, (int64_t)len, (int64_t)(need + skew));
        return TMO_ENOSPC;
    }
    memset(base, 0, need);
    m->cfg = *c;
    m->profile = p;
    m->interp = it;
    if (pen_on && (e = find_pen(m, it, d)) != TMO_OK)
        return e;
    m->pen_on = (uint8_t)pen_on;
    layout(m, c, p, pen_on, base);
    tmo_io io;
    tmo_interp_input(it, 0, &io);
    m->in_data = io.data;
    tmo_interp_output(it, 0, &io);
    m->out_data = io.data;
    m->max_inferences = counter_limit(&p->in, 0xfffffffeu);
    if (p->mode == TMO_OUT_VALUES)
        m->max_inferences = counter_limit(&p->out, m->max_inferences);
    m->seq = c->first_seq;
    mon_window_reset(m, c->now_us != NULL ? c->now_us(c->clock_ctx) / 1000u : 0);
    return TMO_OK;
}

size_t tmo_monitor_report_size(const tmo_monitor *m)
{
    return report_bytes(m->profile, m->pen_on, m->cfg.samples);
}
