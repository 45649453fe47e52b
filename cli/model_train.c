/*
 * `tinymlops model train --data FILE --arch SPEC --out MODEL.tflite ...`:
 * the model factory from the command line (docs/model-factory.md). Trains
 * a classifier on CSV or raw tensor data, writes the int8 model (and the
 * float32 one on request), prints progress per epoch on stderr and the
 * result as text or, with --json, as one JSON object on stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host.h"
#include "train/arch.h"
#include "train/factory.h"

static const char *usage =
    "tinymlops model train --data FILE --arch SPEC --out MODEL.tflite [--epochs N] [--seed S]\n"
    "       [--val-split F] [--batch N] [--lr X] [--input-shape H,W,C] [--float-out FLOAT.tflite]\n"
    "       [--json]";

typedef struct train_args {
    const char *data, *out, *float_out;
    int json;
    tr_job job;
} train_args;

static void progress(const tr_epoch_stats *s, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "epoch %3u/%u  loss %.4f  train acc %6.2f%%", s->epoch, s->epochs, s->loss,
            100.0 * s->train_acc);
    if (!isnan(s->val_acc))
        fprintf(stderr, "  val acc %6.2f%%", 100.0 * s->val_acc);
    fputc('\n', stderr);
}

static int parse_fraction(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || *text == '\0' || *end != '\0' || !(v >= 0.0 && v < 1.0))
        return cli_usage(usage, "--val-split expects a fraction in [0, 1), got '%s'", text);
    *out = v;
    return CLI_OK;
}

static int parse_lr(const char *text, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || *text == '\0' || *end != '\0' || !(v > 0.0 && v < 1.0))
        return cli_usage(usage, "--lr expects a learning rate in (0, 1), got '%s'", text);
    *out = (float)v;
    return CLI_OK;
}

static int parse_seed(const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *text < '0' || *text > '9' || *end != '\0')
        return cli_usage(usage, "--seed expects a non-negative integer, got '%s'", text);
    *out = (uint64_t)v;
    return CLI_OK;
}

static int parse_shape(const char *text, tr_job *job)
{
    long v[3];
    const char *p = text;
    for (int i = 0; i < 3; i++) {
        char *end;
        errno = 0;
        v[i] = strtol(p, &end, 10);
        if (errno != 0 || end == p || v[i] < 1 || v[i] > 65536 || *end != (i < 2 ? ',' : '\0'))
            return cli_usage(usage, "--input-shape expects H,W,C (positive integers), got '%s'",
                             text);
        p = end + 1;
    }
    job->in_h = (int32_t)v[0];
    job->in_w = (int32_t)v[1];
    job->in_c = (int32_t)v[2];
    return CLI_OK;
}

static int parse_args(int argc, char **argv, train_args *a)
{
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"arch", required_argument, NULL, 'a'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"epochs", required_argument, NULL, 'e'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"val-split", required_argument, NULL, 'v'},
                                         {"batch", required_argument, NULL, 'b'},
                                         {"lr", required_argument, NULL, 'l'},
                                         {"input-shape", required_argument, NULL, 'i'},
                                         {"float-out", required_argument, NULL, 'f'},
                                         {"json", no_argument, NULL, 'j'},
                                         {NULL, 0, NULL, 0}};
    memset(a, 0, sizeof *a);
    tr_job_defaults(&a->job);
    long n;
    int c, rc = CLI_OK;
    optind = 1;
    while (rc == CLI_OK && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            a->data = optarg;
            break;
        case 'a':
            a->job.arch = optarg;
            break;
        case 'o':
            a->out = optarg;
            break;
        case 'f':
            a->float_out = optarg;
            break;
        case 'j':
            a->json = 1;
            break;
        case 's':
            rc = parse_seed(optarg, &a->job.seed);
            break;
        case 'v':
            rc = parse_fraction(optarg, &a->job.val_split);
            break;
        case 'l':
            rc = parse_lr(optarg, &a->job.lr);
            break;
        case 'i':
            rc = parse_shape(optarg, &a->job);
            break;
        case 'e':
            rc = cli_parse_count("--epochs", optarg, 100000, &n) ? CLI_OK : CLI_USAGE;
            a->job.epochs = (uint32_t)n;
            break;
        case 'b':
            rc = cli_parse_count("--batch", optarg, 65536, &n) ? CLI_OK : CLI_USAGE;
            a->job.batch = (uint32_t)n;
            break;
        default:
            rc = cli_usage(usage, "unknown option");
            break;
        }
    }
    if (rc != CLI_OK)
        return rc;
    if (optind != argc)
        return cli_usage(usage, "unexpected argument '%s'", argv[optind]);
    if (a->data == NULL || a->job.arch == NULL || a->out == NULL)
        return cli_usage(usage, "--data, --arch and --out are required");
    /* A typo in the spec is reported before the data is read. */
    char err[256];
    tr_arch arch;
    if (tr_arch_parse(a->job.arch, &arch, err, sizeof err) != 0)
        return cli_usage(usage, "%s", err);
    a->job.want_float = a->float_out != NULL;
    a->job.progress = progress;
    return CLI_OK;
}

/* A number, or null for NaN (no validation split). */
static json_t *real_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

static json_t *model_json(const char *path, size_t bytes, size_t arena)
{
    return json_pack("{s:s, s:I, s:I}", "path", path, "bytes", (json_int_t)bytes, "arena_bytes",
                     (json_int_t)arena);
}

static void print_json(const train_args *a, const tr_result *r)
{
    json_t *int8 = model_json(a->out, r->int8_len, r->int8_arena);
    json_object_set_new(int8, "input_scale", json_real(r->input_q.scale));
    json_object_set_new(int8, "input_zero_point", json_integer(r->input_q.zero_point));
    json_t *o = json_pack(
        "{s:s, s:s, s:{s:I, s:I}, s:I, s:I, s:[i,i,i], s:I, s:I, s:I, s:f, s:f, s:o, s:o, s:o, "
        "s:o, "
        "s:o}",
        "data", a->data, "arch", a->job.arch, "samples", "train", (json_int_t)r->n_train,
        "validation", (json_int_t)r->n_val, "features", (json_int_t)r->features, "classes",
        (json_int_t)r->classes, "input_shape", r->in_h, r->in_w, r->in_c, "parameters",
        (json_int_t)r->params, "epochs", (json_int_t)a->job.epochs, "seed", (json_int_t)a->job.seed,
        "train_seconds", r->train_seconds, "final_loss", r->last.loss, "train_accuracy",
        real_or_null(r->last.train_acc), "float_val_accuracy", real_or_null(r->float_val_acc),
        "int8_val_accuracy", real_or_null(r->int8_val_acc), "int8_model", int8, "float_model",
        r->float_model ? model_json(a->float_out, r->float_len, r->float_arena) : json_null());
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    if (text != NULL)
        printf("%s\n", text);
    free(text);
    json_decref(o);
}

static void print_text(const train_args *a, const tr_result *r)
{
    printf("trained %s on %zu samples (%zu held out), %zu features, %d classes, %zu parameters, "
           "%.2f s\n",
           a->job.arch, r->n_train, r->n_val, r->features, r->classes, r->params, r->train_seconds);
    if (!isnan(r->float_val_acc))
        printf("validation accuracy: float32 %.2f%%, int8 %.2f%%\n", 100.0 * r->float_val_acc,
               100.0 * r->int8_val_acc);
    printf("wrote %s: %zu bytes, arena %zu bytes; int8 input q = round(x / %.9g) + (%d)\n", a->out,
           r->int8_len, r->int8_arena, (double)r->input_q.scale, r->input_q.zero_point);
    if (r->float_model != NULL)
        printf("wrote %s: %zu bytes, arena %zu bytes\n", a->float_out, r->float_len,
               r->float_arena);
}

int cmd_model_train(int argc, char **argv)
{
    train_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_OK)
        return rc;
    char err[1024];
    tr_dataset all;
    if (tr_dataset_load(a.data, &all, err, sizeof err) != 0)
        return cli_fail("%s", err);
    tr_result r;
    rc = tr_factory_run(&a.job, &all, &r, err, sizeof err);
    tr_dataset_free(&all);
    if (rc != 0)
        return cli_fail("%s", err);
    if (host_write_file(a.out, r.int8_model, r.int8_len, err, sizeof err) != 0 ||
        (r.float_model != NULL &&
         host_write_file(a.float_out, r.float_model, r.float_len, err, sizeof err) != 0)) {
        tr_result_free(&r);
        return cli_fail("%s", err);
    }
    if (a.json)
        print_json(&a, &r);
    else
        print_text(&a, &r);
    tr_result_free(&r);
    return CLI_OK;
}
