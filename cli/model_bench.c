/*
 * `tinymlops model bench MODEL.tflite [--runs N] [--input IN.raw] [--json]`:
 * latency distribution of repeated inferences and the arena they need.
 * Inputs are deterministic pseudo-random bytes unless --input is given, so
 * runs are comparable. Wall-clock figures are indicative; the project's
 * performance claims use instruction counts (bench/).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host.h"

static const char *usage =
    "tinymlops model bench MODEL.tflite [--runs N] [--input IN.raw] [--json]";

static void fill_random(void *data, size_t len, uint64_t *state)
{
    uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        p[i] = (uint8_t)((z ^ (z >> 31)) >> 56);
    }
}

/* Float inputs get small finite values rather than random bit patterns (NaN, inf). */
static void fill_input(const tmo_io *io, uint64_t *state)
{
    fill_random(io->data, io->bytes, state);
    if (io->type == TMO_FLOAT32) {
        float *f = io->data;
        const int8_t *raw = io->data;
        for (size_t i = io->bytes / 4; i-- > 0;)
            f[i] = (float)raw[i] / 64.0f;
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int prepare_inputs(host_model *hm, const char *input)
{
    uint64_t state = 1;
    for (uint32_t i = 0; i < tmo_interp_input_count(&hm->interp); i++) {
        tmo_io io;
        tmo_interp_input(&hm->interp, i, &io);
        fill_input(&io, &state);
    }
    if (input == NULL)
        return CLI_OK;
    char err[1024];
    size_t len;
    tmo_io io;
    tmo_interp_input(&hm->interp, 0, &io);
    void *data = host_read_file(input, &len, err, sizeof err);
    if (data == NULL)
        return cli_fail("%s", err);
    if (len != io.bytes) {
        free(data);
        return cli_fail("input 0 expects %zu bytes, %s has %zu", io.bytes, input, len);
    }
    memcpy(io.data, data, len);
    free(data);
    return CLI_OK;
}

int cmd_model_bench(int argc, char **argv)
{
    static const struct option opts[] = {{"runs", required_argument, NULL, 'r'},
                                         {"input", required_argument, NULL, 'i'},
                                         {"json", no_argument, NULL, 'j'},
                                         {NULL, 0, NULL, 0}};
    long runs = 100;
    int json = 0, c;
    const char *input = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'r') {
            if (!cli_parse_count("--runs", optarg, 10000000, &runs))
                return CLI_USAGE;
        } else if (c == 'i') {
            input = optarg;
        } else if (c == 'j') {
            json = 1;
        } else {
            return cli_usage(usage, "unknown option");
        }
    }
    if (optind != argc - 1)
        return cli_usage(usage, "expected one model file");
    host_model hm;
    char err[1024];
    if (host_model_open(&hm, argv[optind], err, sizeof err) != TMO_OK)
        return cli_fail("%s: %s", argv[optind], err);
    uint64_t *ns = malloc((size_t)runs * sizeof *ns);
    int rc = ns == NULL ? cli_fail("out of memory") : prepare_inputs(&hm, input);
    /* Inputs may be overwritten by invoke (their memory is reused), so keep a copy to restore. */
    tmo_io in0;
    tmo_interp_input(&hm.interp, 0, &in0);
    void *saved = rc == CLI_OK ? malloc(in0.bytes ? in0.bytes : 1) : NULL;
    if (rc == CLI_OK && saved == NULL)
        rc = cli_fail("out of memory");
    if (rc == CLI_OK) {
        memcpy(saved, in0.data, in0.bytes);
        tmo_interp_invoke(&hm.interp); /* warm-up */
        uint64_t started = host_now_ns(), last_report = started;
        for (long r = 0; r < runs; r++) {
            memcpy(in0.data, saved, in0.bytes);
            uint64_t t0 = host_now_ns();
            tmo_interp_invoke(&hm.interp);
            ns[r] = host_now_ns() - t0;
            if (!json && ns[r] + t0 - last_report > 1000000000ull) {
                last_report = t0 + ns[r];
                fprintf(stderr, "\r%ld/%ld runs", r + 1, runs);
            }
        }
        if (last_report != started)
            fputc('\n', stderr);
        qsort(ns, (size_t)runs, sizeof *ns, cmp_u64);
        double min = (double)ns[0] / 1e3, med = (double)ns[runs / 2] / 1e3;
        double p99 = (double)ns[(size_t)((double)(runs - 1) * 0.99)] / 1e3;
        if (json) {
            json_t *o = json_pack("{s:s, s:I, s:f, s:f, s:f, s:I}", "model", argv[optind], "runs",
                                  (json_int_t)runs, "latency_min_us", min, "latency_median_us", med,
                                  "latency_p99_us", p99, "arena_bytes", (json_int_t)hm.arena_len);
            json_dumpf(o, stdout, JSON_INDENT(2));
            putchar('\n');
            json_decref(o);
        } else {
            printf("model:    %s\n", argv[optind]);
            printf("runs:     %ld\n", runs);
            printf("latency:  min %.1f us, median %.1f us, p99 %.1f us\n", min, med, p99);
            printf("arena:    %zu bytes\n", hm.arena_len);
        }
    }
    free(saved);
    free(ns);
    host_model_close(&hm);
    return rc;
}
