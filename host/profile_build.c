/*
 * Profile builder: representative data in, PROFILE and KAT payloads out.
 *
 * 1. Host statistics over the raw data: histogram ranges per channel group
 *    and the per-inference mean statistics (profile_stats.c); one invoke per
 *    sample to record outputs (and output ranges for value models).
 * 2. A provisional profile with those ranges and no counts.
 * 3. The device monitor, attached to the runtime with the provisional
 *    profile, observes every sample in one window; its report's counts and
 *    moments become the profile's. Binning is therefore identical to the
 *    devices' by construction.
 * 4. Confidence statistics and calibration from the per-sample predictions.
 * 5. Known-answer vectors: evenly spaced samples and their exact outputs.
 */
#include "profile_build.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_crypto.h"
#include "host.h"
#include "profile_stats.h"
#include "profile_write.h"
#include "report.h"
#include "tinymlops/monitor.h"

#define OP_FULLY_CONNECTED 9
#define OP_SOFTMAX 25

void host_profile_opts_defaults(host_profile_opts *o)
{
    memset(o, 0, sizeof *o);
    o->bins = 16;
    o->max_groups = 16;
    o->conf_bins = 20;
    o->mode = -1;
    o->pen_tensor = -1;
    o->kat_count = 4;
    o->tail = 0.001;
}

void host_profile_result_free(host_profile_result *r)
{
    if (r == NULL)
        return;
    free(r->profile);
    free(r->kat);
    memset(r, 0, sizeof *r);
}

typedef struct builder {
    host_model hm;
    const host_profile_opts *o;
    const uint8_t *data;
    const int32_t *labels;
    size_t count, in_bytes, out_bytes;
    uint8_t *outputs; /* count * out_bytes: output 0 of every sample */
    host_profile_spec spec;
    char *err;
    size_t err_len;
} builder;

static int fail(builder *b, const char *msg)
{
    snprintf(b->err, b->err_len, "profile: %s", msg);
    return -1;
}

/* The operator that writes tensor t, or -1. */
static int32_t producer(const tmo_model *m, int32_t t)
{
    for (uint32_t i = 0; i < m->op_count; i++) {
        tmo_op_info op;
        tmo_model_op(m, i, &op);
        for (uint32_t k = 0; k < op.output_count; k++)
            if (op.outputs[k] == t)
                return (int32_t)op.builtin;
    }
    return -1;
}

static uint32_t last_dim(const tmo_io *io)
{
    return io->ndim > 0 && io->dims[io->ndim - 1] > 0 ? (uint32_t)io->dims[io->ndim - 1] : 1u;
}

static int init_stats(builder *b, host_pstats *s, const tmo_io *io, const char *what)
{
    char msg[160];
    if (io->type != TMO_INT8 && io->type != TMO_FLOAT32) {
        snprintf(msg, sizeof msg, "%s type %s not supported (INT8 or FLOAT32)", what,
                 tmo_type_name(io->type));
        return fail(b, msg);
    }
    s->type = io->type;
    s->bins = b->o->bins;
    s->channels = last_dim(io);
    s->elements = (uint32_t)(io->bytes / tmo_type_size(io->type));
    s->groups = s->channels < b->o->max_groups ? s->channels : b->o->max_groups;
    s->scale = io->type == TMO_INT8 ? io->scale : 0.0f;
    s->zero_point = io->type == TMO_INT8 ? io->zero_point : 0;
    if (s->elements == 0 || s->elements % s->channels != 0)
        return fail(b, "tensor shape has no whole number of rows");
    s->g = calloc(s->groups, sizeof *s->g);
    return s->g != NULL ? 0 : fail(b, "out of memory");
}

/* Picks the output mode and the penultimate tensor. */
static int choose_layout(builder *b, const tmo_io *out)
{
    const tmo_model *m = &b->hm.model;
    host_profile_spec *s = &b->spec;
    uint32_t k = (uint32_t)(out->bytes / (tmo_type_size(out->type) ? tmo_type_size(out->type) : 1));
    int softmax = producer(m, tmo_model_output(m, 0)) == OP_SOFTMAX;
    s->mode = b->o->mode >= 0 ? (tmo_out_mode)b->o->mode
                              : (softmax && k >= 2 ? TMO_OUT_PROBS : TMO_OUT_VALUES);
    if (s->mode != TMO_OUT_VALUES) {
        if (out->type != TMO_INT8 && out->type != TMO_FLOAT32)
            return fail(b, "classifier output must be INT8 or FLOAT32");
        if (k < 2 || k > TMO_PROFILE_MAX_CLASSES)
            return fail(b, "a classifier needs 2..1024 output classes");
        s->out_type = out->type;
        s->classes = k;
        s->conf_bins = b->o->conf_bins;
        s->out_scale = out->type == TMO_INT8 ? out->scale : 0.0f;
        s->out_zero_point = out->type == TMO_INT8 ? out->zero_point : 0;
    } else if (init_stats(b, &s->out, out, "output") != 0) {
        return -1;
    }
    int32_t pen = b->o->pen_tensor;
    if (pen == -1) {
        for (uint32_t i = 0; i < m->op_count; i++) {
            tmo_op_info op;
            tmo_model_op(m, i, &op);
            if (op.builtin == OP_FULLY_CONNECTED && op.inputs[0] != tmo_model_input(m, 0))
                pen = op.inputs[0];
        }
    }
    if (pen < 0)
        return 0;
    tmo_tensor_info t;
    if ((uint32_t)pen >= m->tensor_count || tmo_model_tensor(m, (uint32_t)pen, &t) != TMO_OK)
        return fail(b, "penultimate tensor index out of range");
    uint32_t ch = t.ndim > 0 ? (uint32_t)t.dims[t.ndim - 1] : 1u;
    int ok = t.data == NULL && (t.type == TMO_INT8 || t.type == TMO_FLOAT32) && ch >= 1 &&
             ch <= TMO_PROFILE_MAX_PEN && t.elements > 0 && t.elements % ch == 0;
    if (!ok && b->o->pen_tensor >= 0)
        return fail(b, "penultimate tensor must be an INT8/FLOAT32 activation, <= 1024 channels");
    if (ok) {
        s->pen_tensor = (uint32_t)pen;
        s->pen_channels = ch;
        s->pen_type = t.type;
        s->pen_scale = t.type == TMO_INT8 ? t.scale : 0.0f;
        s->pen_zero_point = t.type == TMO_INT8 ? t.zero_point : 0;
        s->pen_mean = calloc(ch, sizeof(float));
        s->pen_var = calloc(ch, sizeof(float));
        if (s->pen_mean == NULL || s->pen_var == NULL)
            return fail(b, "out of memory");
    }
    return 0;
}

/* Runs every sample once, keeping output 0. */
static int record_outputs(builder *b)
{
    tmo_io in, out;
    tmo_interp_input(&b->hm.interp, 0, &in);
    tmo_interp_output(&b->hm.interp, 0, &out);
    b->out_bytes = out.bytes;
    b->outputs = malloc(b->count * out.bytes + 1);
    if (b->outputs == NULL)
        return fail(b, "out of memory for the outputs");
    for (size_t i = 0; i < b->count; i++) {
        memcpy(in.data, b->data + i * b->in_bytes, b->in_bytes);
        if (tmo_interp_invoke(&b->hm.interp) != TMO_OK)
            return fail(b, "invoke failed");
        memcpy(b->outputs + i * out.bytes, out.data, out.bytes);
    }
    return 0;
}

/* Encodes and parses the current spec (the parse is the device's own check). */
static int encode_spec(builder *b, uint8_t **bytes, size_t *len, tmo_profile *p)
{
    tmo_diag d;
    if (host_profile_encode(&b->spec, bytes, len) != 0)
        return fail(b, "out of memory");
    if (tmo_profile_parse(p, *bytes, *len, &d) != TMO_OK) {
        char msg[300];
        host_format_diag(msg, sizeof msg, "internal error, profile does not parse", &d);
        free(*bytes);
        *bytes = NULL;
        return fail(b, msg);
    }
    return 0;
}

static void copy_groups(host_pstats *s, const host_group *g)
{
    for (uint32_t i = 0; i < s->groups; i++) {
        s->g[i].count = g[i].count;
        s->g[i].mean = g[i].mean;
        s->g[i].m2 = g[i].m2;
        memcpy(s->g[i].hist, g[i].hist, 4u * s->bins);
    }
}

/* Merges every report the profiling monitor closes (one, unless a counter limit splits it). */
typedef struct collector {
    host_report *acc;
    int have, failed;
} collector;

static void collect(void *ctx, const uint8_t *bytes, size_t len)
{
    collector *c = ctx;
    host_report r;
    char err[256];
    if (c->failed || host_report_decode(bytes, len, &r, err, sizeof err) != 0) {
        c->failed = 1;
        return;
    }
    if (!c->have) {
        *c->acc = r;
        c->have = 1;
        return;
    }
    c->failed |= host_report_merge(c->acc, &r, err, sizeof err) != 0;
    host_report_free(&r);
}

/* Step 3: the monitor observes all samples; its reports supply the counts and moments. */
static int monitor_pass(builder *b, const tmo_profile *prov, host_report *rep)
{
    collector col = {rep, 0, 0};
    tmo_monitor_config c;
    tmo_monitor_config_defaults(&c);
    c.window_inferences = 0;
    c.on_report = collect;
    c.report_ctx = &col;
    tmo_monitor mon;
    tmo_diag d;
    size_t need;
    char msg[300];
    if (tmo_monitor_mem_size(&c, prov, &b->hm.interp, &need, &d) != TMO_OK) {
        host_format_diag(msg, sizeof msg, "monitor", &d);
        return fail(b, msg);
    }
    void *mem = malloc(need);
    tmo_err e =
        mem != NULL ? tmo_monitor_init(&mon, &c, prov, &b->hm.interp, mem, need, &d) : TMO_ENOSPC;
    tmo_io in;
    tmo_interp_input(&b->hm.interp, 0, &in);
    for (size_t i = 0; e == TMO_OK && i < b->count; i++) {
        memcpy(in.data, b->data + i * b->in_bytes, b->in_bytes);
        e = tmo_monitor_invoke(&mon, &b->hm.interp);
    }
    if (e == TMO_OK && mon.inferences > 0)
        e = tmo_monitor_flush(&mon);
    if (e != TMO_OK)
        host_format_diag(msg, sizeof msg, "monitor pass", &d);
    free(mem);
    if (e == TMO_OK && (col.failed || !col.have))
        snprintf(msg, sizeof msg, "monitor pass: a report did not decode or merge");
    return e == TMO_OK && !col.failed && col.have ? 0 : fail(b, msg);
}

/* Step 4: confidence statistics and calibration from the recorded outputs. */
static int classes_stats(builder *b, const tmo_profile *prov, host_profile_result *r)
{
    host_profile_spec *s = &b->spec;
    hp_pred *pred = malloc(sizeof *pred * b->count);
    if (pred == NULL)
        return fail(b, "out of memory");
    double sum = 0, sq = 0;
    for (size_t i = 0; i < b->count; i++) {
        pred[i].cls = tmo_monitor_top1(prov, b->outputs + i * b->out_bytes, &pred[i].conf);
        pred[i].label = b->labels != NULL ? b->labels[i] : -1;
        sum += pred[i].conf;
        sq += (double)pred[i].conf * pred[i].conf;
    }
    double mean = sum / (double)b->count, var = sq / (double)b->count - mean * mean;
    s->conf_mean = (float)mean;
    s->conf_std = (float)sqrt(var > 0 ? var : 0);
    s->labelled = hp_calibrate(pred, b->count, s->conf_bins, s->calib, &r->label_accuracy);
    s->label_accuracy = s->labelled > 0 ? (float)r->label_accuracy : 0.0f;
    free(pred);
    double est = 0;
    for (uint32_t k = 0; k < s->conf_bins; k++)
        est += (double)s->conf_counts[k] * s->calib[k];
    s->acc_ref = (float)(est / (double)b->count);
    r->acc_ref = s->acc_ref;
    return 0;
}

/* Step 5: known-answer vectors from evenly spaced samples. */
static int build_kat(builder *b, host_profile_result *r)
{
    tmo_interp *it = &b->hm.interp;
    uint32_t k = b->o->kat_count < b->count ? b->o->kat_count : (uint32_t)b->count;
    uint32_t outs = tmo_interp_output_count(it);
    if (k == 0)
        return 0;
    if (k > TMO_KAT_MAX_VECTORS || tmo_interp_input_count(it) != 1 || outs > TMO_KAT_MAX_IO)
        return fail(b, "KAT needs a single-input model, at most 16 outputs and 256 vectors");
    host_kat_vector *v = calloc(k, sizeof *v);
    uint8_t **copies = calloc((size_t)k * outs, sizeof *copies);
    int rc = v != NULL && copies != NULL ? 0 : fail(b, "out of memory");
    tmo_io in, out;
    tmo_interp_input(it, 0, &in);
    for (uint32_t i = 0; rc == 0 && i < k; i++) {
        const uint8_t *x = b->data + (size_t)i * b->count / k * b->in_bytes;
        memcpy(in.data, x, b->in_bytes);
        tmo_interp_invoke(it);
        v[i].in[0] = x;
        v[i].in_len[0] = (uint32_t)b->in_bytes;
        for (uint32_t o = 0; rc == 0 && o < outs; o++) {
            tmo_interp_output(it, o, &out);
            uint8_t *c = copies[(size_t)i * outs + o] = malloc(out.bytes + 1);
            if (c == NULL) {
                rc = fail(b, "out of memory");
                break;
            }
            memcpy(c, out.data, out.bytes);
            v[i].out[o] = c;
            v[i].out_len[o] = (uint32_t)out.bytes;
        }
    }
    if (rc == 0 && host_kat_encode(v, k, 1, outs, &r->kat, &r->kat_len) != 0)
        rc = fail(b, "cannot encode the KAT");
    r->kat_vectors = rc == 0 ? k : 0;
    for (size_t i = 0; copies != NULL && i < (size_t)k * outs; i++)
        free(copies[i]);
    free(copies);
    free(v);
    return rc;
}

static int build(builder *b, host_profile_result *r)
{
    host_profile_spec *s = &b->spec;
    tmo_io in, out;
    tmo_interp_input(&b->hm.interp, 0, &in);
    tmo_interp_output(&b->hm.interp, 0, &out);
    if (init_stats(b, &s->in, &in, "input") != 0 || choose_layout(b, &out) != 0)
        return -1;
    if (hp_value_ranges(&s->in, b->data, b->count, b->in_bytes, b->o->tail) != 0 ||
        record_outputs(b) != 0)
        return fail(b, "out of memory");
    if (s->mode == TMO_OUT_VALUES &&
        hp_value_ranges(&s->out, b->outputs, b->count, b->out_bytes, b->o->tail) != 0)
        return fail(b, "out of memory");
    if (s->mode != TMO_OUT_VALUES) {
        s->class_counts = calloc(s->classes, 4);
        s->conf_counts = calloc(s->conf_bins, 4);
        s->calib = calloc(s->conf_bins, sizeof(float));
        if (s->class_counts == NULL || s->conf_counts == NULL || s->calib == NULL)
            return fail(b, "out of memory");
        for (uint32_t k = 0; k < s->conf_bins; k++)
            s->calib[k] = (k + 0.5f) / (float)s->conf_bins;
    }
    /* Provisional profile: ranges and shifts, no counts. */
    uint8_t *prov_bytes = NULL;
    size_t prov_len;
    tmo_profile prov;
    host_report rep;
    memset(&rep, 0, sizeof rep);
    int rc = encode_spec(b, &prov_bytes, &prov_len, &prov);
    if (rc == 0)
        rc = monitor_pass(b, &prov, &rep);
    if (rc == 0) {
        s->samples = (uint32_t)b->count;
        copy_groups(&s->in, rep.in);
        if (s->mode == TMO_OUT_VALUES) {
            copy_groups(&s->out, rep.out);
        } else {
            memcpy(s->class_counts, rep.classes, 4u * s->classes);
            memcpy(s->conf_counts, rep.conf, 4u * s->conf_bins);
            rc = classes_stats(b, &prov, r);
        }
        for (uint32_t c = 0; rc == 0 && c < s->pen_channels && rep.pen_count > 0; c++) {
            double n = (double)rep.pen_count * rep.pen_rows;
            s->pen_mean[c] = rep.pen_mean[c];
            s->pen_var[c] = (float)(rep.pen_m2[c] / n);
            s->pen_count = rep.pen_count;
        }
    }
    host_report_free(&rep);
    free(prov_bytes);
    tmo_profile final;
    if (rc == 0)
        rc = encode_spec(b, &r->profile, &r->profile_len, &final);
    if (rc == 0)
        rc = build_kat(b, r);
    r->samples = s->samples;
    r->labelled = s->labelled;
    r->mode = s->mode;
    r->pen_tensor = s->pen_channels > 0 ? (int32_t)s->pen_tensor : -1;
    if (s->mode == TMO_OUT_VALUES)
        r->acc_ref = -1;
    return rc;
}

static void free_spec(host_profile_spec *s)
{
    free(s->in.g);
    free(s->out.g);
    free(s->class_counts);
    free(s->conf_counts);
    free(s->calib);
    free(s->pen_mean);
    free(s->pen_var);
}

int host_profile_build(const uint8_t *model, size_t model_len, const uint8_t *data, size_t data_len,
                       const int32_t *labels, const host_profile_opts *o, host_profile_result *out,
                       char *err, size_t err_len)
{
    builder b;
    host_profile_opts dflt;
    memset(&b, 0, sizeof b);
    memset(out, 0, sizeof *out);
    out->label_accuracy = NAN;
    if (o == NULL) {
        host_profile_opts_defaults(&dflt);
        o = &dflt;
    }
    b.o = o;
    b.labels = labels;
    b.err = err;
    b.err_len = err_len;
    if (o->bins < 2 || o->bins > TMO_PROFILE_MAX_BINS || o->conf_bins < 2 ||
        o->conf_bins > TMO_PROFILE_MAX_BINS || o->max_groups < 1 ||
        o->max_groups > TMO_PROFILE_MAX_GROUPS || o->mode > TMO_OUT_VALUES || !(o->tail >= 0) ||
        !(o->tail < 0.5) || o->kat_count > TMO_KAT_MAX_VECTORS)
        return fail(&b, "options out of range (bins, conf bins 2..64; groups 1..256; kat <= 256)");
    void *copy = aligned_alloc(16, (model_len + 15) & ~(size_t)15);
    if (copy == NULL)
        return fail(&b, "out of memory");
    memcpy(copy, model, model_len);
    char msg[400];
    if (host_model_open_bytes(&b.hm, copy, model_len, msg, sizeof msg) != TMO_OK) {
        host_model_close(&b.hm);
        return fail(&b, msg);
    }
    tmo_io in;
    int rc = 0;
    if (tmo_interp_input_count(&b.hm.interp) < 1 || tmo_interp_output_count(&b.hm.interp) < 1)
        rc = fail(&b, "the model needs at least one input and one output");
    else if (tmo_interp_input(&b.hm.interp, 0, &in),
             in.bytes == 0 || data_len % in.bytes != 0 || data_len == 0)
        rc = fail(&b, "data size is not a whole, non-zero number of input tensors");
    else if (data_len / in.bytes > 0xffffffffu)
        rc = fail(&b, "more than 2^32 samples");
    if (rc == 0) {
        b.data = data;
        b.in_bytes = in.bytes;
        b.count = data_len / in.bytes;
        if (hb_sha256(model, model_len, b.spec.digest) != 0)
            rc = fail(&b, "SHA-256 failed");
    }
    if (rc == 0)
        rc = build(&b, out);
    free_spec(&b.spec);
    free(b.outputs);
    host_model_close(&b.hm);
    if (rc != 0)
        host_profile_result_free(out);
    return rc;
}
