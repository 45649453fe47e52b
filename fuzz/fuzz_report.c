/*
 * libFuzzer target for the server's report decoder (host/report.c): reports
 * arrive from devices over the network. A report that decodes must
 * re-encode to exactly the same bytes (nothing lost, nothing invented),
 * merge with itself into a report that still decodes, and render as JSON.
 * Aborts when one of those contracts breaks.
 *
 * Seeds: fuzz/corpus/report (written by gen_monitor_corpus). Replayed in
 * every build by corpus_replay.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "corpus_replay.h"
#include "report.h"

/* Whether doubling some counter of r could saturate at 2^32 - 1. */
static int may_saturate(const host_report *r)
{
    const uint32_t big = 0x80000000u;
    int s = r->inferences >= big || r->windows >= big || r->dropped >= big || r->nonfinite >= big;
    for (int i = 0; i < TMO_REPORT_LATENCY_BINS; i++)
        s |= r->latency[i] >= big;
    for (uint32_t g = 0; g < r->in_groups; g++)
        for (uint32_t b = 0; b < r->in_bins; b++)
            s |= r->in[g].hist[b] >= big;
    for (uint32_t g = 0; r->out != NULL && g < r->out_groups; g++)
        for (uint32_t b = 0; b < r->out_bins; b++)
            s |= r->out[g].hist[b] >= big;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    host_report r, twice, back;
    char err[256];
    if (host_report_decode(data, size, &r, err, sizeof err) != 0) {
        if (err[0] == '\0')
            abort(); /* every refusal says why */
        return 0;
    }
    uint8_t *enc;
    size_t len;
    if (host_report_encode(&r, &enc, &len, err, sizeof err) != 0 || len != size ||
        memcmp(enc, data, size) != 0)
        abort();
    free(enc);
    if (host_report_copy(&twice, &r) != 0)
        abort();
    if (host_report_merge(&twice, &r, err, sizeof err) != 0)
        abort(); /* a report always fits itself */
    if (host_report_encode(&twice, &enc, &len, err, sizeof err) == 0) {
        if (host_report_decode(enc, len, &back, err, sizeof err) != 0)
            abort();
        host_report_free(&back);
        free(enc);
    } else if (!may_saturate(&r)) {
        abort(); /* doubling counters below 2^31 keeps every sum a decoder checks */
    }
    char *json = host_report_json(&r);
    if (json == NULL || json[0] != '{')
        abort();
    free(json);
    host_report_free(&twice);
    host_report_free(&r);
    return 0;
}

/* A valid seed is a report the server's decoder accepts. */
int fuzz_seed_valid(const uint8_t *data, size_t size)
{
    host_report r;
    char err[256];
    int ok = host_report_decode(data, size, &r, err, sizeof err) == 0;
    host_report_free(&r);
    return ok;
}
