/*
 * The labelled part of the drift evaluation: scikit-learn's handwritten
 * digits (Debian python3-sklearn, 1797 8x8 images, 10 classes). The project
 * trains its own int8 classifier on 60% (`tinymlops model train`'s pipeline,
 * host/train, arch mlp:64,32, seed 1), builds the profile with labels from
 * a 20% calibration split, and streams the remaining 20% (jittered) through
 * the monitor: the same detection table row as the reference models, and
 * the error of the label-free accuracy estimate per window, clean and under
 * each drift.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drift_eval.h"
#include "train/factory.h"

static int bank_from(ds_bank *b, const tr_dataset *d)
{
    memset(b, 0, sizeof *b);
    b->n = d->count;
    b->x = malloc(sizeof(double) * d->count * d->features);
    b->label = malloc(sizeof(int32_t) * d->count);
    if (b->x == NULL || b->label == NULL)
        return -1;
    for (size_t i = 0; i < d->count * d->features; i++)
        b->x[i] = d->x[i];
    memcpy(b->label, d->y, sizeof(int32_t) * d->count);
    ds_bank_moments(b, d->features);
    b->jitter = 0.05 * b->sigma;
    return 0;
}

static int train(const tr_dataset *train_set, tr_result *r)
{
    tr_job j;
    char err[512];
    tr_job_defaults(&j);
    j.arch = "mlp:64,32";
    j.val_split = 0.0;
    if (tr_factory_run(&j, train_set, r, err, sizeof err) != 0) {
        fprintf(stderr, "digits: %s\n", err);
        return -1;
    }
    return 0;
}

static void accuracy_table(const outcome *fa, const outcome *drift)
{
    printf("\nLabel-free accuracy estimate on digits (windows of inferences as above; "
           "estimate = mean calibrated top-1 confidence):\n\n");
    printf("| stream | windows | true accuracy | estimated | mean abs error | max abs error |\n");
    printf("|---|---:|---:|---:|---:|---:|\n");
    for (int k = 0; k < DS_KINDS; k++) {
        const outcome *o = k == 0 ? fa : &drift[k];
        if (o->acc_windows == 0)
            continue;
        printf("| %s | %u | %.3f | %.3f | %.3f | %.3f |\n",
               k == 0 ? "no drift" : ds_kind_name((ds_kind)k), o->acc_windows, o->true_acc,
               o->est_acc, o->mean_err, o->max_err);
    }
    fflush(stdout);
}

int eval_digits(const char *csv, const eval_cfg *cfg)
{
    tr_dataset all, tr, rest, calib, test;
    tr_result r;
    char err[512];
    memset(&tr, 0, sizeof tr);
    memset(&rest, 0, sizeof rest);
    memset(&calib, 0, sizeof calib);
    memset(&test, 0, sizeof test);
    memset(&r, 0, sizeof r);
    if (tr_dataset_load(csv, &all, err, sizeof err) != 0) {
        fprintf(stderr, "digits: %s\n", err);
        return 1;
    }
    if (tr_dataset_split(&all, 0.4, 7, &tr, &rest, err, sizeof err) != 0 ||
        tr_dataset_split(&rest, 0.5, 8, &calib, &test, err, sizeof err) != 0) {
        fprintf(stderr, "digits: %s\n", err);
        tr_dataset_free(&all);
        tr_dataset_free(&tr);
        tr_dataset_free(&rest);
        return 1;
    }
    subject s;
    memset(&s, 0, sizeof s);
    ds_bank calib_bank;
    memset(&calib_bank, 0, sizeof calib_bank);
    int rc = train(&tr, &r);
    if (rc == 0) {
        snprintf(s.name, sizeof s.name, "digits mlp:64,32 int8 (trained here)");
        void *copy = aligned_alloc(16, (r.int8_len + 15) & ~(size_t)15);
        memcpy(copy, r.int8_model, r.int8_len);
        rc = host_model_open_bytes(&s.hm, copy, r.int8_len, err, sizeof err) == TMO_OK ? 0 : -1;
    }
    if (rc == 0) {
        s.sp.type = TMO_INT8;
        s.sp.elements = all.features;
        s.sp.scale = r.input_q.scale;
        s.sp.zero_point = r.input_q.zero_point;
        s.sp.lo = 0;
        s.sp.hi = 16; /* the images' grey levels */
        rc = bank_from(&s.bank, &test) | bank_from(&calib_bank, &calib);
    }
    if (rc == 0)
        rc = subject_prepare(&s, &calib_bank, cfg, 11);
    outcome fa, drift[DS_KINDS];
    memset(drift, 0, sizeof drift);
    if (rc == 0)
        rc = run_scenario(&s, cfg, DS_NONE, 12, &fa);
    for (int k = 1; rc == 0 && k < DS_KINDS; k++)
        if (k != DS_CLASSMIX || s.pool_n > 0)
            rc = run_scenario(&s, cfg, (ds_kind)k, 200 + (uint64_t)k, &drift[k]);
    if (rc == 0) {
        print_detection_row(s.name, &fa, drift, s.pool_n > 0, cfg->drifted);
        fprintf(stderr,
                "digits: %zu train / %zu calibration / %zu test samples; profile "
                "label accuracy %.3f, class-mix class %d (%zu test images)\n",
                tr.count, calib.count, test.count, s.p.label_accuracy, s.pool_class, s.pool_n);
        accuracy_table(&fa, drift);
    }
    free(calib_bank.x);
    free(calib_bank.label);
    subject_free(&s);
    tr_result_free(&r);
    tr_dataset_free(&all);
    tr_dataset_free(&tr);
    tr_dataset_free(&rest);
    tr_dataset_free(&calib);
    tr_dataset_free(&test);
    return rc == 0 ? 0 : 1;
}
