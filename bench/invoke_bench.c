/*
 * Instruction-count runner for callgrind, measured the way ref/tflm_perf.tsv
 * measured TFLite Micro: load and prepare (not counted), one warm-up invoke,
 * then collection toggled on around N invokes (default 10). Run under
 *   valgrind --tool=callgrind --collect-atstart=no invoke_bench MODEL [IN.raw] [N]
 * and divide the collected Ir by N. Outside valgrind the toggles are no-ops.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/callgrind.h>

#include "host.h"

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: invoke_bench MODEL.tflite [INPUT.raw] [RUNS]\n");
        return 2;
    }
    host_model hm;
    char err[1024];
    if (host_model_open(&hm, argv[1], err, sizeof err) != TMO_OK) {
        fprintf(stderr, "invoke_bench: %s: %s\n", argv[1], err);
        return 1;
    }
    tmo_io in;
    tmo_interp_input(&hm.interp, 0, &in);
    void *data = NULL;
    size_t len = in.bytes;
    if (argc >= 3 && strcmp(argv[2], "-") != 0) {
        data = host_read_file(argv[2], &len, err, sizeof err);
        if (data == NULL || len != in.bytes) {
            fprintf(stderr, "invoke_bench: %s: %s\n", argv[2], data ? "wrong input size" : err);
            return 1;
        }
    } else {
        data = calloc(1, in.bytes ? in.bytes : 1);
    }
    int runs = argc == 4 ? atoi(argv[3]) : 10;
    if (runs < 1)
        runs = 1;
    memcpy(in.data, data, len);
    tmo_interp_invoke(&hm.interp);
    for (int r = 0; r < runs; r++) {
        /* The planner may reuse input memory during invoke: restore it outside the count. */
        memcpy(in.data, data, len);
        CALLGRIND_TOGGLE_COLLECT;
        tmo_interp_invoke(&hm.interp);
        CALLGRIND_TOGGLE_COLLECT;
    }
    printf("arena_bytes %zu\n", hm.arena_len);
    free(data);
    host_model_close(&hm);
    return 0;
}
