/*
 * The model factory pipeline (see factory.h).
 */
#include "factory.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "export.h"
#include "host.h"
#include "net.h"

void tr_job_defaults(tr_job *j)
{
    memset(j, 0, sizeof *j);
    j->epochs = 30;
    j->batch = 32;
    j->lr = 0.003f;
    j->seed = 1;
    j->val_split = 0.2;
}

/* A power of two 2^-e with max|x| <= 2^e, so folding it into weights is exact. */
static float input_scale(const tr_dataset *ds)
{
    float max = 0.0f;
    for (size_t i = 0; i < ds->count * ds->features; i++)
        max = fabsf(ds->x[i]) > max ? fabsf(ds->x[i]) : max;
    if (max == 0.0f)
        return 1.0f;
    int e;
    float m = frexpf(max, &e); /* max = m * 2^e, m in [0.5, 1) */
    if (m == 0.5f)
        e--;
    return ldexpf(1.0f, -e);
}

static int input_shape(const tr_job *job, const tr_arch *a, const tr_dataset *all, tr_result *r,
                       char *err, size_t err_len)
{
    size_t f = all->features;
    if (!a->spatial) {
        r->in_h = r->in_w = 1;
        r->in_c = (int32_t)f;
        return 0;
    }
    if (job->in_h || job->in_w || job->in_c) {
        if (job->in_h < 1 || job->in_w < 1 || job->in_c < 1 ||
            (size_t)job->in_h * (size_t)job->in_w * (size_t)job->in_c != f) {
            snprintf(err, err_len, "input shape %dx%dx%d does not hold the %zu features per sample",
                     job->in_h, job->in_w, job->in_c, f);
            return -1;
        }
        r->in_h = job->in_h;
        r->in_w = job->in_w;
        r->in_c = job->in_c;
        return 0;
    }
    size_t side = (size_t)sqrt((double)f);
    while (side * side > f)
        side--;
    while ((side + 1) * (side + 1) <= f)
        side++;
    if (side * side != f) {
        snprintf(err, err_len,
                 "a cnn needs an image: %zu features is not a square, give --input-shape H,W,C", f);
        return -1;
    }
    r->in_h = r->in_w = (int32_t)side;
    r->in_c = 1;
    return 0;
}

static int check_job(const tr_job *job, const tr_dataset *all, char *err, size_t err_len)
{
    if (job->epochs < 1 || job->batch < 1 || !(job->lr > 0.0f && job->lr < 1.0f)) {
        snprintf(err, err_len, "epochs and batch must be >= 1 and the learning rate in (0, 1)");
        return -1;
    }
    if (all->classes < 2) {
        snprintf(err, err_len, "all labels are 0: a classifier needs at least two classes");
        return -1;
    }
    return 0;
}

/* Float accuracy, calibration, quantization, export and int8 evaluation of a trained net. */
static int deploy(const tr_job *job, tr_net *n, const tr_dataset *train, const tr_dataset *val,
                  tr_result *r, char *err, size_t err_len)
{
    tr_net_fold_input_scale(n);
    r->float_val_acc = tr_accuracy(n, val);
    tr_range ranges[TR_MAX_LAYERS + 2];
    tr_calibrate(n, train, ranges);
    tr_qnet q;
    if (tr_quantize(n, ranges, &q) != 0) {
        snprintf(err, err_len, "out of memory quantizing");
        return -1;
    }
    r->input_q = q.input;
    char desc[256];
    snprintf(desc, sizeof desc, "tinymlops model factory: %s, %d classes, int8", job->arch,
             n->classes);
    tr_export_opts o = {1, desc};
    int rc = tr_export(n, &q, &o, &r->int8_model, &r->int8_len);
    tr_qnet_free(&q);
    if (rc == 0 && job->want_float) {
        snprintf(desc, sizeof desc, "tinymlops model factory: %s, %d classes, float32", job->arch,
                 n->classes);
        rc = tr_export(n, NULL, &o, &r->float_model, &r->float_len);
    }
    if (rc != 0) {
        snprintf(err, err_len, "cannot serialize the model (out of memory?)");
        return -1;
    }
    double float_acc;
    if (tr_eval_model(r->int8_model, r->int8_len, val, &r->int8_val_acc, &r->int8_arena, err,
                      err_len) != 0 ||
        (r->float_model != NULL && tr_eval_model(r->float_model, r->float_len, val, &float_acc,
                                                 &r->float_arena, err, err_len) != 0))
        return -1;
    return 0;
}

int tr_factory_run(const tr_job *job, const tr_dataset *all, tr_result *r, char *err,
                   size_t err_len)
{
    memset(r, 0, sizeof *r);
    r->float_val_acc = r->int8_val_acc = NAN;
    tr_arch a;
    if (check_job(job, all, err, err_len) != 0 || tr_arch_parse(job->arch, &a, err, err_len) != 0 ||
        input_shape(job, &a, all, r, err, err_len) != 0)
        return -1;
    tr_dataset train, val;
    if (tr_dataset_split(all, job->val_split, job->seed, &train, &val, err, err_len) != 0)
        return -1;
    r->n_train = train.count;
    r->n_val = val.count;
    r->features = all->features;
    r->classes = all->classes;
    tr_net n;
    int rc = tr_net_build(&n, &a, r->in_h, r->in_w, r->in_c, all->classes, input_scale(&train),
                          job->seed, err, err_len);
    if (rc == 0) {
        r->params = tr_net_params(&n);
        tr_train_config c = {job->epochs, job->batch, job->lr, job->seed};
        uint64_t t0 = host_now_ns();
        rc = tr_train(&n, &train, &val, &c, job->progress, job->progress_ctx, &r->last);
        r->train_seconds = (double)(host_now_ns() - t0) / 1e9;
        if (rc != 0)
            snprintf(err, err_len, "out of memory for %zu training samples", train.count);
        else
            rc = deploy(job, &n, &train, &val, r, err, err_len);
        tr_net_free(&n);
    }
    tr_dataset_free(&train);
    tr_dataset_free(&val);
    if (rc != 0)
        tr_result_free(r);
    return rc;
}

void tr_result_free(tr_result *r)
{
    free(r->int8_model);
    free(r->float_model);
    r->int8_model = r->float_model = NULL;
    r->int8_len = r->float_len = 0;
}
