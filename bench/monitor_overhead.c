/*
 * Cost of the device monitor per inference, in instructions, measured the
 * way bench/invoke_bench.c and bench/runtime_perf.py measure invoke (and
 * ref/tflm_perf.tsv measured TFLite Micro): callgrind with collection
 * toggled around each call only, input golden/dev/<model>/000.in, one
 * warm-up call, then RUNS counted calls. "monitor" counts
 * tmo_monitor_invoke (input statistics, invoke, output/confidence,
 * penultimate statistics, CUSUM) with the default configuration (windows of
 * 100 inferences, stride 1, penultimate on, no samples); with RUNS = 100 one
 * window closes inside the count, so drift scoring and report encoding are
 * included, amortized. The profile comes from the model's golden/dev inputs.
 *
 * usage: monitor_overhead [--ref DIR] [--runs N] [MODEL...]   (runs valgrind itself)
 *        monitor_overhead --child plain|monitor MODEL.tflite INPUT DATA_DIR RUNS
 * Prints a Markdown table (docs/PERFORMANCE.md records it).
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#include "host.h"
#include "profile_build.h"
#include "tinymlops/monitor.h"

static int child(int monitor, const char *model_path, const char *input, const char *data_dir,
                 int runs)
{
    host_model hm;
    char err[512];
    if (host_model_open(&hm, model_path, err, sizeof err) != TMO_OK) {
        fprintf(stderr, "%s: %s\n", model_path, err);
        return 1;
    }
    tmo_io in;
    tmo_interp_input(&hm.interp, 0, &in);
    size_t len;
    uint8_t *x = host_read_file(input, &len, err, sizeof err);
    if (x == NULL || len != in.bytes) {
        fprintf(stderr, "%s: %s\n", input, x ? "wrong size" : err);
        return 1;
    }
    host_profile_result prof;
    tmo_profile p;
    tmo_monitor m;
    void *mem = NULL;
    size_t need = 0;
    memset(&prof, 0, sizeof prof);
    if (monitor) {
        tmo_monitor_config c;
        tmo_monitor_config_defaults(&c);
        if (host_profile_build_files(hm.bytes, hm.len, data_dir, NULL, NULL, &prof, err,
                                     sizeof err) != 0 ||
            tmo_profile_parse(&p, prof.profile, prof.profile_len, NULL) != TMO_OK ||
            tmo_monitor_mem_size(&c, &p, &hm.interp, &need, NULL) != TMO_OK ||
            (mem = malloc(need)) == NULL ||
            tmo_monitor_init(&m, &c, &p, &hm.interp, mem, need, NULL) != TMO_OK) {
            fprintf(stderr, "%s: monitor: %s\n", model_path, err);
            return 1;
        }
    }
    memcpy(in.data, x, len);
    monitor ? tmo_monitor_invoke(&m, &hm.interp) : tmo_interp_invoke(&hm.interp);
    for (int r = 0; r < runs; r++) {
        memcpy(in.data, x, len); /* the planner may reuse input memory: restore outside the count */
        CALLGRIND_TOGGLE_COLLECT;
        if (monitor)
            tmo_monitor_invoke(&m, &hm.interp);
        else
            tmo_interp_invoke(&hm.interp);
        CALLGRIND_TOGGLE_COLLECT;
    }
    printf("monitor_bytes %zu report_bytes %zu profile_bytes %zu pen %d\n", need,
           monitor ? tmo_monitor_report_size(&m) : 0, prof.profile_len,
           monitor ? (int)m.pen_on : 0);
    host_profile_result_free(&prof);
    free(mem);
    free(x);
    host_model_close(&hm);
    return 0;
}

typedef struct measured {
    unsigned long long ir;
    size_t monitor_bytes, report_bytes, profile_bytes;
    int pen;
} measured;

static int measure(const char *self, int monitor, const char *model, const char *input,
                   const char *data_dir, int runs, measured *out)
{
    char out_file[] = "/tmp/tmo_monitor_cg_XXXXXX";
    int fd = mkstemp(out_file);
    if (fd < 0)
        return -1;
    close(fd);
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=%s '%s' "
             "--child %s '%s' '%s' '%s' %d 2>/dev/null",
             out_file, self, monitor ? "monitor" : "plain", model, input, data_dir, runs);
    FILE *p = popen(cmd, "r");
    char line[512];
    int ok = 0;
    while (p != NULL && fgets(line, sizeof line, p) != NULL)
        ok |= sscanf(line, "monitor_bytes %zu report_bytes %zu profile_bytes %zu pen %d",
                     &out->monitor_bytes, &out->report_bytes, &out->profile_bytes, &out->pen) == 4;
    if (p == NULL || pclose(p) != 0)
        ok = 0;
    FILE *f = fopen(out_file, "r");
    out->ir = 0;
    while (ok && f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "summary: %llu", &out->ir) == 1 ||
            sscanf(line, "totals: %llu", &out->ir) == 1)
            break;
    if (f != NULL)
        fclose(f);
    unlink(out_file);
    if (!ok || out->ir == 0)
        return -1;
    out->ir /= (unsigned long long)runs;
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "--child") == 0)
        return child(strcmp(argv[2], "monitor") == 0, argv[3], argv[4], argv[5], atoi(argv[6]));
    const char *ref = getenv("TINYMLOPS_REF") ? getenv("TINYMLOPS_REF") : TMO_REF_DIR;
    int runs = 100, first = 1;
    for (; first < argc && argv[first][0] == '-'; first += 2) {
        if (first + 1 >= argc)
            break;
        if (strcmp(argv[first], "--ref") == 0)
            ref = argv[first + 1];
        else if (strcmp(argv[first], "--runs") == 0)
            runs = atoi(argv[first + 1]) > 0 ? atoi(argv[first + 1]) : 100;
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/golden/dev", ref);
    char *names[64];
    int n = 0;
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
    if (n == 0) {
        fprintf(stderr, "monitor_overhead: no models under %s\n", dir);
        return 1;
    }
    printf("| model | invoke (instr) | with monitor (instr) | monitor (instr) | overhead | "
           "monitor RAM (B) | report (B) | profile (B) | penultimate |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (int i = 0; i < n; i++) {
        char model[1200], input[1200], data[1200];
        snprintf(model, sizeof model, "%s/models/%s.tflite", ref, names[i]);
        snprintf(input, sizeof input, "%s/%s/000.in", dir, names[i]);
        snprintf(data, sizeof data, "%s/%s", dir, names[i]);
        measured a, b;
        if (measure(argv[0], 0, model, input, data, runs, &a) != 0 ||
            measure(argv[0], 1, model, input, data, runs, &b) != 0) {
            printf("| %s | not runnable | | | | | | | |\n", names[i]);
            continue;
        }
        long long extra = (long long)b.ir - (long long)a.ir;
        printf("| %s | %llu | %llu | %lld | %.3f%% | %zu | %zu | %zu | %s |\n", names[i], a.ir,
               b.ir, extra, 100.0 * (double)extra / (double)a.ir, b.monitor_bytes, b.report_bytes,
               b.profile_bytes, b.pen ? "yes" : "no");
        fflush(stdout);
        free(names[i]);
    }
    printf("\nInstructions per inference (callgrind, %d counted calls after one warm-up; "
           "one report window of 100 closes inside the count).\n",
           runs);
    return 0;
}
