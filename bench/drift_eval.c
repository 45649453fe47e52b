/*
 * Drift evaluation of the device monitor (docs/monitoring.md): for each
 * reference model in ../shared/ref/models (those absent or not runnable are
 * skipped) and for a digits classifier the project trains itself, seeded
 * input streams run through tmo_monitor_invoke in report windows:
 *   - no drift for --fa windows: false alarms per 1000 windows;
 *   - for each drift type (drift_stream.h), --clean clean windows and then
 *     the drift: detection delay in windows (0 = the first drifted window
 *     raised an event) and the detector that fired;
 *   - on digits (labelled): |estimated - true accuracy| per window, clean
 *     and under each drift.
 * In-distribution inputs are the model's golden/dev inputs (random and
 * real samples) with a small Gaussian jitter (5% of the inputs' sd); the
 * profile is built from 400 such draws with another seed. Monitor settings
 * are the defaults of tmo_monitor_config_defaults except the window size.
 *
 * usage: drift_eval [--ref DIR] [--window N] [--clean N] [--drifted N] [--fa N]
 *                   [--psi-alarm X] [--cusum-h X] [--digits CSV | --no-digits] [--no-ref]
 *                   [MODEL...]
 * Prints Markdown tables (docs/PERFORMANCE.md records them).
 */
#define _POSIX_C_SOURCE 200809L
#include "drift_eval.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

const char *detector_name(uint32_t ev)
{
    if (ev & TMO_EV_INPUT_STUCK)
        return "stuck";
    if (ev & (TMO_EV_CONF_DOWN | TMO_EV_CONF_UP))
        return "cusum-conf";
    if (ev & (TMO_EV_INPUT_UP | TMO_EV_INPUT_DOWN))
        return "cusum-in";
    if (ev & TMO_EV_DRIFT_INPUT)
        return "psi-in";
    if (ev & TMO_EV_DRIFT_OUTPUT)
        return "psi-out";
    if (ev & TMO_EV_DRIFT_CONF)
        return "psi-conf";
    if (ev & TMO_EV_DRIFT_PEN)
        return "pen";
    if (ev & TMO_EV_ACC_DROP)
        return "acc";
    return "?";
}

void subject_free(subject *s)
{
    host_profile_result_free(&s->prof);
    host_model_close(&s->hm);
    free(s->bank.x);
    free(s->bank.label);
    free(s->pool);
    memset(s, 0, sizeof *s);
}

static size_t tensor_bytes(const ds_space *sp)
{
    return sp->elements * (sp->type == TMO_INT8 ? 1u : 4u);
}

/* Class-mix pool: the bases the model puts in its rarest predicted class (none if only one). */
static int make_pool(subject *s)
{
    tmo_io in, out;
    tmo_interp_input(&s->hm.interp, 0, &in);
    tmo_interp_output(&s->hm.interp, 0, &out);
    int32_t *cls = malloc(sizeof *cls * s->bank.n);
    uint32_t count[TMO_PROFILE_MAX_CLASSES] = {0};
    if (cls == NULL)
        return -1;
    for (size_t i = 0; i < s->bank.n; i++) {
        ds_to_tensor(&s->sp, s->bank.x + i * s->sp.elements, in.data);
        tmo_interp_invoke(&s->hm.interp);
        float conf;
        cls[i] = tmo_monitor_top1(&s->p, out.data, &conf);
        count[cls[i]]++;
    }
    uint32_t present = 0;
    int32_t rare = -1;
    for (uint32_t k = 0; k < s->p.classes; k++)
        if (count[k] > 0) {
            present++;
            if (rare < 0 || count[k] < count[rare])
                rare = (int32_t)k;
        }
    s->pool_class = present >= 2 ? rare : -1;
    s->pool = malloc(sizeof *s->pool * (s->bank.n + 1));
    for (size_t i = 0; s->pool != NULL && present >= 2 && i < s->bank.n; i++)
        if (cls[i] == rare)
            s->pool[s->pool_n++] = i;
    free(cls);
    return s->pool != NULL ? 0 : -1;
}

int subject_prepare(subject *s, const ds_bank *from, const eval_cfg *cfg, uint64_t seed)
{
    size_t tb = tensor_bytes(&s->sp), n = cfg->profile_n;
    uint8_t *data = malloc(n * tb);
    int32_t *labels = from->label != NULL ? malloc(sizeof *labels * n) : NULL;
    ds_stream st;
    char err[512];
    if (data == NULL || ds_stream_init(&st, &s->sp, from, seed, DS_NONE) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        ds_stream_next(&st, data + i * tb);
        if (labels != NULL)
            labels[i] = st.label;
    }
    ds_stream_free(&st);
    host_profile_opts o;
    host_profile_opts_defaults(&o);
    o.kat_count = 0;
    int rc = host_profile_build(s->hm.bytes, s->hm.len, data, n * tb, labels, &o, &s->prof, err,
                                sizeof err);
    free(data);
    free(labels);
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", s->name, err);
        return -1;
    }
    if (tmo_profile_parse(&s->p, s->prof.profile, s->prof.profile_len, NULL) != TMO_OK)
        return -1;
    return s->p.mode == TMO_OUT_VALUES ? 0 : make_pool(s);
}

static void window_accuracy(outcome *o, double truth, double est)
{
    double e = fabs(est - truth);
    o->true_acc += truth;
    o->est_acc += est;
    o->mean_err += e;
    o->max_err = e > o->max_err ? e : o->max_err;
    o->acc_windows++;
}

int run_scenario(subject *s, const eval_cfg *cfg, ds_kind kind, uint64_t seed, outcome *o)
{
    memset(o, 0, sizeof *o);
    o->delay = -1;
    tmo_monitor_config c;
    tmo_monitor_config_defaults(&c);
    c.window_inferences = cfg->window;
    c.psi_alarm = cfg->psi_alarm > 0 ? cfg->psi_alarm : c.psi_alarm;
    c.cusum_h = cfg->cusum_h > 0 ? cfg->cusum_h : c.cusum_h;
    size_t need;
    tmo_monitor m;
    if (tmo_monitor_mem_size(&c, &s->p, &s->hm.interp, &need, NULL) != TMO_OK)
        return -1;
    void *mem = malloc(need);
    uint8_t *buf = malloc(need);
    ds_stream st;
    if (mem == NULL || buf == NULL ||
        tmo_monitor_init(&m, &c, &s->p, &s->hm.interp, mem, need, NULL) != TMO_OK ||
        ds_stream_init(&st, &s->sp, &s->bank, seed, kind) != 0)
        return -1;
    st.pool = s->pool;
    st.pool_n = s->pool_n;
    tmo_io in, out;
    tmo_interp_input(&s->hm.interp, 0, &in);
    tmo_interp_output(&s->hm.interp, 0, &out);
    uint32_t windows = kind == DS_NONE ? cfg->fa_windows : cfg->clean + cfg->drifted;
    for (uint32_t w = 0; w < windows; w++) {
        st.drifting = kind != DS_NONE && w >= cfg->clean;
        uint32_t right = 0, known = 0;
        for (uint32_t i = 0; i < cfg->window; i++) {
            ds_stream_next(&st, in.data);
            tmo_monitor_invoke(&m, &s->hm.interp);
            if (st.label >= 0 && s->p.mode != TMO_OUT_VALUES) {
                float conf;
                right += tmo_monitor_top1(&s->p, out.data, &conf) == st.label;
                known++;
            }
        }
        size_t len;
        host_report r;
        char err[256];
        if (tmo_monitor_report_take(&m, buf, need, &len) != TMO_OK ||
            host_report_decode(buf, len, &r, err, sizeof err) != 0)
            return -1;
        uint32_t alarm = r.events & EVAL_ALARMS;
        if (!st.drifting) {
            o->clean_windows++;
            o->clean_alarms += alarm != 0;
            for (int b = 0; b < 16; b++)
                o->clean_by[b] += (alarm >> b) & 1u;
        } else if (alarm != 0 && o->delay < 0) {
            o->delay = (int)(w - cfg->clean);
            o->first_events = alarm;
        }
        if (known > 0 && r.drift.acc_est >= 0 && (kind == DS_NONE || st.drifting))
            window_accuracy(o, (double)right / known, r.drift.acc_est);
        host_report_free(&r);
    }
    if (o->acc_windows > 0) {
        o->true_acc /= o->acc_windows;
        o->est_acc /= o->acc_windows;
        o->mean_err /= o->acc_windows;
    }
    ds_stream_free(&st);
    free(mem);
    free(buf);
    return 0;
}

void print_detection_row(const char *name, const outcome *fa, const outcome *drift, int classmix,
                         uint32_t drifted)
{
    uint32_t alarms = fa->clean_alarms, windows = fa->clean_windows;
    for (int k = 1; k < DS_KINDS; k++) {
        alarms += drift[k].clean_alarms;
        windows += drift[k].clean_windows;
    }
    uint32_t by[16] = {0};
    for (int k = 0; k < DS_KINDS; k++)
        for (int b = 0; b < 16; b++)
            by[b] += k == 0 ? fa->clean_by[b] : drift[k].clean_by[b];
    fprintf(stderr, "%s: clean-window alarms by detector:", name);
    for (int b = 0; b < 16; b++)
        if (by[b] > 0)
            fprintf(stderr, " %s=%u", detector_name(1u << b), by[b]);
    fprintf(stderr, "\n");
    printf("| %s | %.1f (%u/%u) |", name, 1000.0 * alarms / (windows ? windows : 1), alarms,
           windows);
    for (int k = 1; k < DS_KINDS; k++) {
        if (k == DS_CLASSMIX && !classmix)
            printf(" n/a |");
        else if (drift[k].delay < 0)
            printf(" not in %u |", drifted);
        else
            printf(" %d (%s) |", drift[k].delay, detector_name(drift[k].first_events));
    }
    printf("\n");
    fflush(stdout);
}

/* Golden/dev inputs of a reference model as the bank; model from models/. */
static int ref_subject(subject *s, const char *ref, const char *name, const eval_cfg *cfg)
{
    char path[1200], err[512];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(path, sizeof path, "%s/models/%s.tflite", ref, name);
    if (host_model_open(&s->hm, path, err, sizeof err) != TMO_OK) {
        fprintf(stderr, "%s: %s\n", name, err);
        return -1;
    }
    tmo_io in;
    tmo_interp_input(&s->hm.interp, 0, &in);
    if (in.type != TMO_INT8 && in.type != TMO_FLOAT32)
        return -1;
    s->sp.type = in.type;
    s->sp.elements = in.bytes / (in.type == TMO_INT8 ? 1u : 4u);
    s->sp.scale = in.scale;
    s->sp.zero_point = in.zero_point;
    uint8_t *raw;
    size_t n;
    snprintf(path, sizeof path, "%s/golden/dev/%s", ref, name);
    if (host_profile_load_data(path, in.bytes, &raw, &n, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", name, err);
        return -1;
    }
    s->bank.n = n;
    s->bank.x = malloc(sizeof(double) * n * s->sp.elements);
    for (size_t i = 0; s->bank.x != NULL && i < n; i++)
        ds_from_tensor(&s->sp, raw + i * in.bytes, s->bank.x + i * s->sp.elements);
    free(raw);
    if (s->bank.x == NULL)
        return -1;
    if (in.type == TMO_INT8) {
        s->sp.lo = (-128.0 - in.zero_point) * (double)in.scale;
        s->sp.hi = (127.0 - in.zero_point) * (double)in.scale;
    } else {
        s->sp.lo = s->sp.hi = s->bank.x[0];
        for (size_t i = 0; i < n * s->sp.elements; i++) {
            s->sp.lo = s->bank.x[i] < s->sp.lo ? s->bank.x[i] : s->sp.lo;
            s->sp.hi = s->bank.x[i] > s->sp.hi ? s->bank.x[i] : s->sp.hi;
        }
    }
    ds_bank_moments(&s->bank, s->sp.elements);
    s->bank.jitter = 0.05 * s->bank.sigma;
    return subject_prepare(s, &s->bank, cfg, 1);
}

static void eval_ref(const char *ref, const char *name, const eval_cfg *cfg)
{
    subject s;
    if (ref_subject(&s, ref, name, cfg) != 0) {
        printf("| %s | not runnable |  |  |  |  |  |  |\n", name);
        subject_free(&s);
        return;
    }
    outcome fa, drift[DS_KINDS];
    memset(drift, 0, sizeof drift);
    int ok = run_scenario(&s, cfg, DS_NONE, 2, &fa) == 0;
    int classmix = s.pool_n > 0;
    for (int k = 1; ok && k < DS_KINDS; k++)
        if (k != DS_CLASSMIX || classmix)
            ok = run_scenario(&s, cfg, (ds_kind)k, 100 + (uint64_t)k, &drift[k]) == 0;
    if (ok)
        print_detection_row(name, &fa, drift, classmix, cfg->drifted);
    else
        printf("| %s | failed |  |  |  |  |  |  |\n", name);
    subject_free(&s);
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    const char *ref = getenv("TINYMLOPS_REF") ? getenv("TINYMLOPS_REF") : TMO_REF_DIR;
    const char *digits = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz";
    eval_cfg cfg = {50, 10, 20, 200, 400, 0, 0};
    int do_ref = 1, first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        const char *a = argv[first], *v = first + 1 < argc ? argv[first + 1] : "0";
        if (strcmp(a, "--no-ref") == 0) {
            do_ref = 0;
            continue;
        }
        if (strcmp(a, "--no-digits") == 0) {
            digits = NULL;
            continue;
        }
        first++;
        if (strcmp(a, "--ref") == 0)
            ref = v;
        else if (strcmp(a, "--digits") == 0)
            digits = v;
        else if (strcmp(a, "--window") == 0)
            cfg.window = (uint32_t)atoi(v);
        else if (strcmp(a, "--clean") == 0)
            cfg.clean = (uint32_t)atoi(v);
        else if (strcmp(a, "--drifted") == 0)
            cfg.drifted = (uint32_t)atoi(v);
        else if (strcmp(a, "--fa") == 0)
            cfg.fa_windows = (uint32_t)atoi(v);
        else if (strcmp(a, "--psi-alarm") == 0)
            cfg.psi_alarm = (float)atof(v);
        else if (strcmp(a, "--cusum-h") == 0)
            cfg.cusum_h = (float)atof(v);
        else {
            fprintf(stderr, "drift_eval: unknown option %s\n", a);
            return 2;
        }
    }
    if (cfg.window == 0 || cfg.drifted == 0) {
        fprintf(stderr, "drift_eval: --window and --drifted must be positive\n");
        return 2;
    }
    printf("Detection delay in windows of %u inferences after the drift starts (0 = first drifted "
           "window; detector in parentheses; \"not in N\" = not detected in %u windows); false "
           "alarms per 1000 clean windows (alarms/windows).\n\n",
           cfg.window, cfg.drifted);
    printf("| model | false alarms /1000 |");
    for (int k = 1; k < DS_KINDS; k++)
        printf(" %s |", ds_kind_name((ds_kind)k));
    printf("\n|---|---:|---|---|---|---|---|---|\n");
    fflush(stdout);
    if (do_ref) {
        char dir[1100], *names[64];
        int n = 0;
        snprintf(dir, sizeof dir, "%s/golden/dev", ref);
        if (first < argc) {
            for (int i = first; i < argc && n < 64; i++)
                names[n++] = strdup(argv[i]);
        } else {
            DIR *d = opendir(dir);
            for (struct dirent *e; d != NULL && n < 64 && (e = readdir(d)) != NULL;)
                if (e->d_name[0] != '.')
                    names[n++] = strdup(e->d_name);
            if (d != NULL)
                closedir(d);
            qsort(names, (size_t)n, sizeof *names, cmp);
        }
        for (int i = 0; i < n; i++) {
            eval_ref(ref, names[i], &cfg);
            free(names[i]);
        }
    }
    if (digits != NULL && eval_digits(digits, &cfg) != 0)
        fprintf(stderr, "drift_eval: digits skipped\n");
    return 0;
}
