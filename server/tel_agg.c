/*
 * Aggregation of stored reports into time series (see tel_aggregate in
 * telemetry.h). Counters and latency histograms are summed; reports of one
 * model (same digest and layout) are merged with host_report_merge, so the
 * drift of a bucket is re-scored against the model's profile on the pooled
 * histograms (host_report_rescore) rather than averaged; the accuracy
 * estimate is exact either way (linear in the counts). Series of different
 * models are combined by inference-weighted means.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "telemetry.h"

#define MAX_BUCKETS 2000
#define MAX_SERIES 500

typedef struct merged {
    int64_t bundle_id;
    char digest[ST_DIGEST8_LEN + 1];
    host_report r;
} merged;

typedef struct acc {
    int64_t reports, windows, inferences, errors, out_inf, dropped, lost;
    uint32_t events;
    uint64_t latency[ST_LAT_BINS];
    double acc_sum, acc_w, conf_sum, conf_w;
    merged *m;
    size_t nm;
    char (*dev)[ST_DEVICE_ID_LEN + 1]; /* open-addressing set of device ids */
    size_t nd, capd;
} acc;

typedef struct series {
    char key[160];
    json_t *key_json;
    acc total;
    acc **points; /* per bucket, NULL when empty */
    double acc_ref;
} series;

typedef struct agg {
    store *st;
    const tel_query *q;
    size_t buckets;
    series *s;
    size_t ns;
    acc fleet;
    tel_profiles profiles;
    int failed;
    char err[200];
} agg;

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static int device_add(acc *a, const char *id)
{
    if (2 * (a->nd + 1) > a->capd) {
        size_t cap = a->capd ? a->capd * 2 : 16;
        char(*t)[ST_DEVICE_ID_LEN + 1] = calloc(cap, sizeof *t);
        if (t == NULL)
            return -1;
        for (size_t i = 0; i < a->capd; i++)
            if (a->dev[i][0] != '\0') {
                size_t k = fnv(a->dev[i]) & (cap - 1);
                while (t[k][0] != '\0')
                    k = (k + 1) & (cap - 1);
                memcpy(t[k], a->dev[i], sizeof t[k]);
            }
        free(a->dev);
        a->dev = t;
        a->capd = cap;
    }
    size_t k = fnv(id) & (a->capd - 1);
    while (a->dev[k][0] != '\0') {
        if (strcmp(a->dev[k], id) == 0)
            return 0;
        k = (k + 1) & (a->capd - 1);
    }
    st_copy(a->dev[k], sizeof a->dev[k], id);
    a->nd++;
    return 0;
}

static int merge_in(acc *a, const st_report *row, const host_report *rep)
{
    char err[120];
    for (size_t i = 0; i < a->nm; i++)
        if (a->m[i].bundle_id == row->bundle_id && strcmp(a->m[i].digest, row->digest) == 0 &&
            host_report_merge(&a->m[i].r, rep, err, sizeof err) == 0)
            return 0;
    merged *m = realloc(a->m, (a->nm + 1) * sizeof *m);
    if (m == NULL)
        return -1;
    a->m = m;
    merged *e = &a->m[a->nm];
    memset(e, 0, sizeof *e);
    e->bundle_id = row->bundle_id;
    st_copy(e->digest, sizeof e->digest, row->digest);
    if (host_report_copy(&e->r, rep) != 0)
        return -1;
    a->nm++;
    return 0;
}

static int add(acc *a, const st_report *row, const host_report *rep)
{
    a->reports = srv_counter_add(a->reports, 1);
    a->windows = srv_counter_add(a->windows, row->windows);
    a->inferences = srv_counter_add(a->inferences, row->inferences);
    a->errors = srv_counter_add(a->errors, row->errors);
    a->out_inf = srv_counter_add(a->out_inf, row->out_inf);
    a->dropped = srv_counter_add(a->dropped, row->dropped);
    a->lost = srv_counter_add(a->lost, row->lost_inferences);
    a->events |= (uint32_t)row->events;
    for (int b = 0; b < ST_LAT_BINS; b++)
        a->latency[b] += row->latency[b];
    if (row->acc_est >= 0) {
        a->acc_sum += row->acc_est * (double)row->out_inf;
        a->acc_w += (double)row->out_inf;
    }
    if (rep != NULL && rep->drift.conf_mean >= 0) {
        a->conf_sum += rep->drift.conf_mean * (double)rep->out_inf;
        a->conf_w += (double)rep->out_inf;
    }
    if (device_add(a, row->device_id) != 0)
        return -1;
    return rep != NULL ? merge_in(a, row, rep) : 0;
}

static void acc_free(acc *a)
{
    for (size_t i = 0; i < a->nm; i++)
        host_report_free(&a->m[i].r);
    free(a->m);
    free(a->dev);
    memset(a, 0, sizeof *a);
}

static json_t *real_or_null(double v, int have)
{
    return have && isfinite(v) ? json_real(v) : json_null();
}

/* Drift of the merged reports (re-scored when the profile is known), inference-weighted. */
static json_t *drift_json(agg *g, acc *a)
{
    double w = 0, psi_in_max = 0, psi_in_mean = 0, js_in_max = 0, psi_out = 0, js_out = 0,
           psi_conf = 0, pen = 0, score = 0;
    int rescored = 0;
    for (size_t i = 0; i < a->nm; i++) {
        host_report *r = &a->m[i].r;
        const tmo_profile *p = tel_profiles_get(&g->profiles, g->st, a->m[i].bundle_id);
        char err[120];
        if (p != NULL && host_report_rescore(r, p, err, sizeof err) == 0)
            rescored = 1;
        double x = (double)r->inferences;
        const tmo_drift *d = &r->drift;
        w += x;
        psi_in_max += x * d->psi_in_max;
        psi_in_mean += x * d->psi_in_mean;
        js_in_max += x * d->js_in_max;
        psi_out += x * d->psi_out;
        js_out += x * d->js_out;
        psi_conf += x * d->psi_conf;
        pen += x * d->pen_shift;
        double sc = d->psi_in_max > d->psi_out ? d->psi_in_max : d->psi_out;
        score += x * (d->psi_conf > sc ? d->psi_conf : sc);
    }
    if (w <= 0)
        return json_null();
    return json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:b}", "score", score / w, "psi_in_max",
                     psi_in_max / w, "psi_in_mean", psi_in_mean / w, "js_in_max", js_in_max / w,
                     "psi_out", psi_out / w, "js_out", js_out / w, "psi_conf", psi_conf / w,
                     "pen_shift", pen / w, "rescored", rescored);
}

static json_t *events_json(uint32_t events)
{
    json_t *a = json_array();
    for (uint32_t bit = 1; bit != 0; bit <<= 1) {
        const char *n = (events & bit) ? host_report_event_name(bit) : NULL;
        if (n != NULL)
            json_array_append_new(a, json_string(n));
    }
    return a;
}

static json_t *acc_json(agg *g, acc *a)
{
    double p50 = tel_latency_quantile64(a->latency, ST_LAT_BINS, 0.50);
    double p95 = tel_latency_quantile64(a->latency, ST_LAT_BINS, 0.95);
    uint64_t timed = 0;
    for (int b = 0; b < ST_LAT_BINS; b++)
        timed += a->latency[b];
    json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "devices", (json_int_t)a->nd,
                          "reports", (json_int_t)a->reports, "windows", (json_int_t)a->windows,
                          "inferences", (json_int_t)a->inferences, "errors", (json_int_t)a->errors,
                          "outputs", (json_int_t)a->out_inf, "dropped", (json_int_t)a->dropped,
                          "lost_inferences", (json_int_t)a->lost);
    json_object_set_new(o, "error_rate",
                        real_or_null((double)a->errors / (double)a->inferences, a->inferences > 0));
    json_object_set_new(o, "latency_p50_us", real_or_null(p50, timed > 0));
    json_object_set_new(o, "latency_p95_us", real_or_null(p95, timed > 0));
    json_object_set_new(o, "acc_est", real_or_null(a->acc_sum / a->acc_w, a->acc_w > 0));
    json_object_set_new(o, "conf_mean", real_or_null(a->conf_sum / a->conf_w, a->conf_w > 0));
    json_object_set_new(o, "drift", drift_json(g, a));
    json_object_set_new(o, "events", events_json(a->events));
    return o;
}

/* The series a row belongs to (created on first use); NULL when there are too many. */
static series *series_of(agg *g, const st_report *row)
{
    char key[160];
    json_t *kj;
    const char *by = g->q->group_by;
    if (strcmp(by, "device") == 0) {
        snprintf(key, sizeof key, "%s", row->device_id);
        kj = json_pack("{s:s}", "device_id", row->device_id);
    } else if (strcmp(by, "group") == 0) {
        snprintf(key, sizeof key, "%s", row->group);
        kj = json_pack("{s:s}", "group", row->group);
    } else if (strcmp(by, "none") == 0) {
        key[0] = '\0';
        kj = json_object();
    } else if (strcmp(by, "wave") == 0) {
        snprintf(key, sizeof key, "%lld\n%s\n%s", (long long)row->wave, row->model, row->version);
        kj = json_pack("{s:I,s:s,s:s}", "wave", (json_int_t)row->wave, "model", row->model,
                       "version", row->version);
    } else {
        snprintf(key, sizeof key, "%s\n%s", row->model, row->version);
        kj = json_pack("{s:s,s:s}", "model", row->model, "version", row->version);
    }
    for (size_t i = 0; i < g->ns; i++)
        if (strcmp(g->s[i].key, key) == 0) {
            json_decref(kj);
            return &g->s[i];
        }
    if (g->ns == MAX_SERIES) {
        json_decref(kj);
        return NULL;
    }
    series *s = &g->s[g->ns++];
    memset(s, 0, sizeof *s);
    snprintf(s->key, sizeof s->key, "%s", key);
    s->key_json = kj;
    s->acc_ref = -1;
    s->points = calloc(g->buckets, sizeof *s->points);
    return s->points != NULL ? s : NULL;
}

static int visit(void *ctx, const st_report *row)
{
    agg *g = ctx;
    host_report rep, *rp = NULL;
    char err[120];
    if (row->data != NULL &&
        host_report_decode(row->data, row->data_len, &rep, err, sizeof err) == 0)
        rp = &rep;
    series *s = series_of(g, row);
    int64_t b = (row->at - g->q->f.since) / g->q->step_ms;
    int rc = -1;
    if (s != NULL && b >= 0 && (size_t)b < g->buckets) {
        if (s->points[b] == NULL)
            s->points[b] = calloc(1, sizeof(acc));
        rc = s->points[b] == NULL || add(s->points[b], row, rp) != 0 ||
                     add(&s->total, row, rp) != 0 || add(&g->fleet, row, rp) != 0
                 ? -1
                 : 0;
        if (rc == 0 && s->acc_ref < 0)
            s->acc_ref = tel_profile_acc_ref(tel_profiles_get(&g->profiles, g->st, row->bundle_id));
    }
    if (rp != NULL)
        host_report_free(rp);
    if (rc != 0) {
        if (s == NULL)
            snprintf(g->err, sizeof g->err, "more than %d series: narrow the query", MAX_SERIES);
        else
            snprintf(g->err, sizeof g->err, "out of memory");
        g->failed = 1;
        return 1;
    }
    return 0;
}

static json_t *render(agg *g)
{
    json_t *list = json_array();
    for (size_t i = 0; i < g->ns; i++) {
        series *s = &g->s[i];
        json_t *points = json_array();
        for (size_t b = 0; b < g->buckets; b++) {
            if (s->points[b] == NULL)
                continue;
            json_t *p = acc_json(g, s->points[b]);
            json_object_set_new(p, "t", json_integer(g->q->f.since + (int64_t)b * g->q->step_ms));
            json_array_append_new(points, p);
        }
        json_array_append_new(list, json_pack("{s:O,s:o,s:o,s:o}", "key", s->key_json, "acc_ref",
                                              real_or_null(s->acc_ref, s->acc_ref >= 0), "totals",
                                              acc_json(g, &s->total), "points", points));
    }
    const st_report_filter *f = &g->q->f;
    json_t *filter = json_object();
    const char *names[] = {"device", "group", "model", "version"};
    const char *values[] = {f->device, f->group, f->model, f->version};
    for (size_t i = 0; i < 4; i++)
        if (values[i] != NULL)
            json_object_set_new(filter, names[i], json_string(values[i]));
    if (f->deployment > 0)
        json_object_set_new(filter, "deployment", json_integer(f->deployment));
    return json_pack("{s:o,s:I,s:I,s:I,s:s,s:o,s:o}", "filter", filter, "since",
                     (json_int_t)f->since, "until", (json_int_t)f->until, "step_ms",
                     (json_int_t)g->q->step_ms, "group_by", g->q->group_by, "series", list,
                     "totals", acc_json(g, &g->fleet));
}

json_t *tel_aggregate(store *st, const tel_query *q, char *err, size_t err_len)
{
    int64_t span = q->f.until - q->f.since;
    if (q->step_ms <= 0 || span <= 0 || span / q->step_ms >= MAX_BUCKETS) {
        snprintf(err, err_len, "at most %d points per series: raise step or narrow since/until",
                 MAX_BUCKETS);
        return NULL;
    }
    agg *g = calloc(1, sizeof *g);
    series *s = calloc(MAX_SERIES, sizeof *s);
    if (g == NULL || s == NULL) {
        free(g);
        free(s);
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    g->st = st;
    g->q = q;
    g->s = s;
    g->buckets = (size_t)((span + q->step_ms - 1) / q->step_ms);
    json_t *out = NULL;
    if (ST(st, report_scan, &q->f, visit, g) != ST_OK)
        srv_store_error_message(err, err_len);
    else if (g->failed)
        snprintf(err, err_len, "%s", g->err);
    else
        out = render(g);
    for (size_t i = 0; i < g->ns; i++) {
        for (size_t b = 0; b < g->buckets && g->s[i].points != NULL; b++)
            if (g->s[i].points[b] != NULL) {
                acc_free(g->s[i].points[b]);
                free(g->s[i].points[b]);
            }
        free(g->s[i].points);
        acc_free(&g->s[i].total);
        json_decref(g->s[i].key_json);
    }
    acc_free(&g->fleet);
    tel_profiles_free(&g->profiles);
    free(g->s);
    free(g);
    return out;
}
