/*
 * Drift scores of a window against the profile: PSI and
 * Jensen-Shannon divergence on histograms, the penultimate mean shift, the
 * calibrated accuracy estimate, and the CUSUM step. Runs once per window (or
 * once per inference for CUSUM), so clarity wins over speed here; double
 * precision keeps the scores independent of the histogram sizes.
 */
#include <math.h>

#include "monitor_priv.h"

/* Reference counts: either a native array or little-endian bytes inside a profile. */
typedef struct {
    const uint32_t *native;
    const uint8_t *le;
} counts;

static uint32_t at(counts c, uint32_t b)
{
    return c.native != NULL ? c.native[b] : mon_le32(c.le + 4u * b);
}

static tmo_divergence diverge(counts ref, const uint32_t *win, uint32_t bins)
{
    tmo_divergence r = {0, 0, 0, 0};
    double nr = 0, nw = 0;
    uint32_t used = 0;
    for (uint32_t b = 0; b < bins; b++) {
        nr += at(ref, b);
        nw += win[b];
        used += at(ref, b) + win[b] != 0;
    }
    if (nr == 0 || nw == 0)
        return r;
    const double a = 0.5;
    for (uint32_t b = 0; b < bins; b++) {
        double cr = at(ref, b), cw = win[b];
        if (cr == 0 && cw == 0)
            continue; /* outside the support of both: no evidence either way */
        double pr = (cr + a) / (nr + a * used), pw = (cw + a) / (nw + a * used);
        r.psi += (pw - pr) * log(pw / pr);
        double p = cw / nw, q = cr / nr, mid = 0.5 * (p + q);
        if (p > 0)
            r.js += 0.5 * p * log2(p / mid);
        if (q > 0)
            r.js += 0.5 * q * log2(q / mid);
    }
    r.stat = r.psi * nw * nr / (nw + nr);
    r.df = used - 1;
    return r;
}

tmo_divergence tmo_divergence_u32(const uint32_t *ref, const uint32_t *win, uint32_t bins)
{
    counts c = {ref, NULL};
    return diverge(c, win, bins);
}

int tmo_divergence_alarm(const tmo_divergence *d, float psi_alarm, float z)
{
    if (d->df == 0 || !(d->psi > psi_alarm))
        return 0;
    double k = d->df, c = 2.0 / (9.0 * k), t = 1.0 - c + (double)z * sqrt(c);
    return d->stat > k * t * t * t;
}

int tmo_cusum_step(tmo_cusum *c, float z, float k, float h, float clip)
{
    if (!(z == z))
        z = 0; /* a NaN statistic carries no evidence either way */
    z = z > clip ? clip : z < -clip ? -clip : z;
    float up = c->up + z - k, down = c->down - z - k;
    c->up = up > 0 ? up : 0;
    c->down = down > 0 ? down : 0;
    c->peak = c->up > c->down ? c->up : c->down;
    if (c->up > h) {
        c->up = 0;
        return 1;
    }
    if (c->down > h) {
        c->down = 0;
        return -1;
    }
    return 0;
}

/* Profile histogram bytes of group g of a stats block. */
static counts group_ref(const tmo_profile_stats *ps, uint32_t g)
{
    counts c = {NULL, ps->at + TMO_PROFILE_STATS_DESC_SIZE +
                          (size_t)g * (TMO_PROFILE_GROUP_FIXED + 4u * (size_t)ps->bins) +
                          TMO_PROFILE_GROUP_FIXED};
    return c;
}

/* Mean and max over groups of a tensor's divergences; returns whether any group alarms. */
static int tensor_drift(const mon_tensor *t, const tmo_monitor_config *c, float *psi_mean,
                        float *psi_max, float *js_mean, float *js_max, uint16_t *worst)
{
    double sp = 0, sj = 0, mp = 0, mj = 0;
    int alarm = 0;
    for (uint32_t g = 0; g < t->groups; g++) {
        tmo_divergence d = diverge(group_ref(t->ps, g), t->hist + (size_t)g * t->bins, t->bins);
        sp += d.psi;
        sj += d.js;
        if (d.psi > mp || g == 0) {
            mp = d.psi;
            if (worst != NULL)
                *worst = (uint16_t)g;
        }
        mj = d.js > mj ? d.js : mj;
        alarm |= tmo_divergence_alarm(&d, c->psi_alarm, c->psi_z);
    }
    *psi_mean = (float)(sp / t->groups);
    *js_mean = (float)(sj / t->groups);
    if (psi_max != NULL)
        *psi_max = (float)mp;
    if (js_max != NULL)
        *js_max = (float)mj;
    return alarm;
}

/* Mean over channels of the capped |z| of the window's channel means against the profile. */
static float pen_shift(const tmo_monitor *m)
{
    const tmo_profile *p = m->profile;
    if (!m->pen_on || m->pen_inf == 0)
        return 0;
    double total = 0;
    for (uint32_t c = 0; c < p->pen_channels; c++) {
        float mean, var;
        double wmean, m2;
        tmo_profile_pen(p, c, &mean, &var);
        mon_pen_moments(m, c, &wmean, &m2);
        double sd = sqrt((double)var), floor_sd = 0.05 * (1.0 + fabs((double)mean));
        double z = fabs(wmean - (double)mean) / (sd > floor_sd ? sd : floor_sd);
        total += z < 10 ? z : 10;
    }
    return (float)(total / p->pen_channels);
}

void mon_drift(const tmo_monitor *m, tmo_drift *d, uint32_t *events)
{
    const tmo_profile *p = m->profile;
    const tmo_monitor_config *c = &m->cfg;
    int x_in = 0, x_out = 0, x_conf = 0;
    memset(d, 0, sizeof *d);
    if (m->in_inf > 0)
        x_in = tensor_drift(m->in, c, &d->psi_in_mean, &d->psi_in_max, &d->js_in_mean,
                            &d->js_in_max, &d->worst_group);
    d->acc_est = -1;
    d->conf_mean = -1;
    if (m->out_inf > 0 && p->mode == TMO_OUT_VALUES) {
        x_out = tensor_drift(m->out, c, &d->psi_out, NULL, &d->js_out, NULL, NULL);
    } else if (m->out_inf > 0) {
        counts cls = {NULL, p->cls_at + TMO_PROFILE_CLASS_DESC_SIZE};
        counts conf = {NULL, cls.le + 4u * p->classes};
        tmo_divergence dc = diverge(cls, m->class_counts, p->classes);
        tmo_divergence df = diverge(conf, m->conf_counts, p->conf_bins);
        d->psi_out = (float)dc.psi;
        d->js_out = (float)dc.js;
        d->psi_conf = (float)df.psi;
        d->js_conf = (float)df.js;
        x_out = tmo_divergence_alarm(&dc, c->psi_alarm, c->psi_z);
        x_conf = tmo_divergence_alarm(&df, c->psi_alarm, c->psi_z);
        double est = 0;
        for (uint32_t b = 0; b < p->conf_bins; b++)
            est += (double)m->conf_counts[b] * tmo_profile_calib(p, b);
        d->acc_est = (float)(est / m->out_inf);
        d->conf_mean = (float)(m->conf_sum / m->out_inf);
    }
    d->pen_shift = pen_shift(m);
    d->cusum_conf = m->cusum_conf_max;
    d->cusum_in = m->cusum_in_max;

    uint32_t ev = 0;
    if (x_in)
        ev |= TMO_EV_DRIFT_INPUT;
    if (x_out)
        ev |= TMO_EV_DRIFT_OUTPUT;
    if (x_conf)
        ev |= TMO_EV_DRIFT_CONF;
    if (d->pen_shift > c->pen_alarm)
        ev |= TMO_EV_DRIFT_PEN;
    if (d->acc_est >= 0 && d->acc_est < p->acc_ref - c->acc_alarm)
        ev |= TMO_EV_ACC_DROP;
    if (m->errors > 0)
        ev |= TMO_EV_ERRORS;
    if (m->nonfinite > 0)
        ev |= TMO_EV_NONFINITE;
    *events = ev;
}
