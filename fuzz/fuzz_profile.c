/*
 * libFuzzer target for the monitoring payloads a device reads from a bundle:
 * PROFILE (tmo_profile_parse and every accessor) and KAT (tmo_kat_parse,
 * tmo_kat_run). A profile that parses and fits one of two fixed models (a
 * float32 classifier, an int8 value model) is attached to a monitor that
 * then runs a few inferences and closes a window, so hostile but
 * well-formed statistics (ranges, counts, calibration) go through the drift
 * arithmetic and the report writer too. Aborts when a documented contract
 * breaks; memory errors are left to the sanitizers.
 *
 * Seeds: fuzz/corpus/profile (written by gen_monitor_corpus). The same
 * entry point is replayed in every build by corpus_replay.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "tflite_writer.h"
#include "tinymlops/monitor.h"
#include "tinymlops/profile.h"

#include "corpus_replay.h"

const uint8_t *fuzz_profile_model(int which, size_t *len);

/* in [1,4] f32 -> SOFTMAX (which 0), or in [1,8,2] int8 -> RELU (which 1). */
const uint8_t *fuzz_profile_model(int which, size_t *len)
{
    static uint8_t *bytes[2];
    static size_t lens[2];
    if (bytes[which] == NULL) {
        tw_model *w = tw_new();
        float scale = 0.5f;
        int64_t zp = -3;
        tw_quant q = {1, &scale, &zp, 0};
        int32_t d0[2] = {1, 4}, d1[3] = {1, 8, 2};
        int type = which == 0 ? 0 : 9;
        int in = tw_tensor(w, "in", type, which == 0 ? d0 : d1, which == 0 ? 2 : 3, 0,
                           which == 0 ? NULL : &q);
        int out = tw_tensor(w, "out", type, which == 0 ? d0 : d1, which == 0 ? 2 : 3, 0,
                            which == 0 ? NULL : &q);
        tw_options o = {9, 1, {tw_f32(0, 1.0f)}}; /* SoftmaxOptions.beta */
        tw_operator(w, which == 0 ? 25 : 19, &in, 1, &out, 1, which == 0 ? &o : NULL);
        tw_inputs(w, &in, 1);
        tw_outputs(w, &out, 1);
        if (tw_finish(w, &bytes[which], &lens[which]) != 0)
            abort();
        tw_free(w);
    }
    *len = lens[which];
    return bytes[which];
}

static host_model *model(int which)
{
    static host_model hm[2];
    static int ready[2];
    if (!ready[which]) {
        size_t len;
        const uint8_t *b = fuzz_profile_model(which, &len);
        void *copy = malloc(len);
        char err[256];
        memcpy(copy, b, len);
        if (host_model_open_bytes(&hm[which], copy, len, err, sizeof err) != TMO_OK)
            abort();
        ready[which] = 1;
    }
    return &hm[which];
}

static void touch_all(const tmo_profile *p)
{
    const tmo_profile_stats *blocks[2] = {&p->in, &p->out};
    uint32_t ref[TMO_PROFILE_MAX_BINS];
    for (int k = 0; k < (p->mode == TMO_OUT_VALUES ? 2 : 1); k++)
        for (uint32_t g = 0; g < blocks[k]->groups; g++) {
            tmo_profile_group pg;
            tmo_profile_group_get(blocks[k], g, &pg);
            uint64_t sum = 0;
            for (uint32_t b = 0; b < blocks[k]->bins; b++)
                sum += ref[b] = tmo_profile_hist(blocks[k], g, b);
            if (sum != pg.count || tmo_profile_group_first(blocks[k], g) >= blocks[k]->channels)
                abort(); /* the parser promised both */
            tmo_divergence d = tmo_divergence_u32(ref, ref, blocks[k]->bins);
            if (!(d.psi == 0 && d.js == 0))
                abort();
        }
    for (uint32_t i = 0; p->mode != TMO_OUT_VALUES && i < p->classes; i++)
        (void)tmo_profile_class_count(p, i);
    for (uint32_t b = 0; p->mode != TMO_OUT_VALUES && b < p->conf_bins; b++) {
        float c = tmo_profile_calib(p, b);
        if (!(c >= 0 && c <= 1))
            abort();
        (void)tmo_profile_conf_count(p, b);
    }
    for (uint32_t c = 0; c < p->pen_channels; c++) {
        float m, v;
        tmo_profile_pen(p, c, &m, &v);
    }
}

static void run_monitor(const tmo_profile *p, host_model *hm)
{
    tmo_monitor_config c;
    tmo_monitor_config_defaults(&c);
    c.window_inferences = 3;
    c.samples = 1;
    size_t need;
    if (tmo_monitor_mem_size(&c, p, &hm->interp, &need, NULL) != TMO_OK)
        return;
    void *mem = malloc(need);
    tmo_monitor m;
    if (tmo_monitor_init(&m, &c, p, &hm->interp, mem, need, NULL) == TMO_OK) {
        tmo_io in;
        tmo_interp_input(&hm->interp, 0, &in);
        for (int i = 0; i < 4; i++) {
            for (size_t k = 0; k < in.bytes; k++)
                ((uint8_t *)in.data)[k] = (uint8_t)(k * 37 + (size_t)i * 101);
            if (in.type == 0)
                for (size_t k = 0; k < in.bytes / 4; k++)
                    ((float *)in.data)[k] = (float)((int)(k * 7 + (size_t)i) % 11) - 5.0f;
            if (tmo_monitor_invoke(&m, &hm->interp) != TMO_OK)
                abort();
        }
        uint8_t *buf = malloc(tmo_monitor_report_size(&m));
        size_t len;
        if (tmo_monitor_report_take(&m, buf, tmo_monitor_report_size(&m), &len) != TMO_OK ||
            len > tmo_monitor_report_size(&m))
            abort();
        free(buf);
    }
    free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tmo_profile p;
    tmo_diag d;
    char msg[256];
    if (tmo_profile_parse(&p, data, size, &d) == TMO_OK) {
        touch_all(&p);
        for (int which = 0; which < 2; which++)
            if (tmo_profile_check(&p, &model(which)->interp, NULL) == TMO_OK)
                run_monitor(&p, model(which));
    } else if (tmo_diag_format(&d, msg, sizeof msg) == 0 || d.field == NULL) {
        abort(); /* every refusal names a field */
    }
    uint32_t vectors;
    if (tmo_kat_parse(data, size, &vectors, NULL) == TMO_OK) {
        tmo_kat_result r;
        (void)tmo_kat_run(&model(0)->interp, data, size, &r, NULL);
        (void)tmo_kat_run(&model(1)->interp, data, size, &r, NULL);
    }
    return 0;
}

/* A valid seed is a PROFILE section or a KAT section the device parsers accept. */
int fuzz_seed_valid(const uint8_t *data, size_t size)
{
    tmo_profile p;
    uint32_t vectors;
    return tmo_profile_parse(&p, data, size, NULL) == TMO_OK ||
           tmo_kat_parse(data, size, &vectors, NULL) == TMO_OK;
}
