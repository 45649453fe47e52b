/*
 * Writes the seed inputs of the monitoring fuzz targets: profiles and KATs
 * built by the real builder for fuzz_profile's two fixed models (so seeds
 * reach the monitor), and device reports of those monitors (plain, with
 * samples, merged). Regenerate the committed seeds with
 *   cmake --build <build> --target fuzz_monitor_seed_corpus
 * Usage: gen_monitor_corpus PROFILE_DIR REPORT_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "profile_build.h"
#include "report.h"
#include "tinymlops/monitor.h"

const uint8_t *fuzz_profile_model(int which, size_t *len);

static int put(const char *dir, const char *name, const uint8_t *b, size_t len)
{
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (host_write_file(path, b, len, err, sizeof err) != 0) {
        fprintf(stderr, "gen_monitor_corpus: %s\n", err);
        return -1;
    }
    return 0;
}

/* Profile + KAT of model `which` from 12 deterministic samples, then two reports. */
static int seeds(int which, const char *pdir, const char *rdir)
{
    size_t len;
    const uint8_t *model = fuzz_profile_model(which, &len);
    const size_t in_bytes = 16; /* [1,4] float32 and [1,8,2] int8 alike */
    uint8_t data[12 * 16];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 73 + 11);
    if (which == 0)
        for (size_t i = 0; i < sizeof data / 4; i++) {
            float v = (float)((int)(i * 5 % 13) - 6) * 0.5f;
            memcpy(data + 4 * i, &v, 4);
        }
    int32_t labels[12];
    for (int i = 0; i < 12; i++)
        labels[i] = i % 4;
    host_profile_result r;
    char err[512], name[64];
    if (host_profile_build(model, len, data, sizeof data, which == 0 ? labels : NULL, NULL, &r, err,
                           sizeof err) != 0) {
        fprintf(stderr, "gen_monitor_corpus: %s\n", err);
        return -1;
    }
    snprintf(name, sizeof name, "valid-profile-%d.bin", which);
    int rc = put(pdir, name, r.profile, r.profile_len);
    snprintf(name, sizeof name, "valid-kat-%d.bin", which);
    rc |= put(pdir, name, r.kat, r.kat_len);

    host_model hm;
    void *copy = malloc(len);
    memcpy(copy, model, len);
    tmo_profile p;
    if (host_model_open_bytes(&hm, copy, len, err, sizeof err) != TMO_OK ||
        tmo_profile_parse(&p, r.profile, r.profile_len, NULL) != TMO_OK)
        return -1;
    tmo_monitor_config c;
    tmo_monitor_config_defaults(&c);
    c.window_inferences = 6;
    c.samples = (uint16_t)(which == 0 ? 2 : 0);
    size_t need;
    tmo_monitor m;
    tmo_monitor_mem_size(&c, &p, &hm.interp, &need, NULL);
    void *mem = malloc(need);
    if (tmo_monitor_init(&m, &c, &p, &hm.interp, mem, need, NULL) != TMO_OK)
        return -1;
    tmo_io in;
    tmo_interp_input(&hm.interp, 0, &in);
    uint8_t *rep[2];
    size_t rlen[2];
    for (int w = 0; w < 2; w++) {
        for (int i = 0; i < 6; i++) {
            memcpy(in.data, data + (size_t)((i + w * 5) % 12) * in_bytes, in_bytes);
            tmo_monitor_invoke(&m, &hm.interp);
        }
        rep[w] = malloc(need);
        tmo_monitor_report_take(&m, rep[w], need, &rlen[w]);
        snprintf(name, sizeof name, "valid-report-%d-%d.bin", which, w);
        rc |= put(rdir, name, rep[w], rlen[w]);
    }
    host_report a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    if (host_report_decode(rep[0], rlen[0], &a, err, sizeof err) == 0 &&
        host_report_decode(rep[1], rlen[1], &b, err, sizeof err) == 0 &&
        host_report_merge(&a, &b, err, sizeof err) == 0) {
        uint8_t *merged;
        size_t mlen;
        if (host_report_encode(&a, &merged, &mlen, err, sizeof err) == 0) {
            snprintf(name, sizeof name, "valid-merged-%d.bin", which);
            rc |= put(rdir, name, merged, mlen);
            free(merged);
        }
    }
    host_report_free(&a);
    host_report_free(&b);
    free(rep[0]);
    free(rep[1]);
    free(mem);
    host_model_close(&hm);
    host_profile_result_free(&r);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen_monitor_corpus PROFILE_DIR REPORT_DIR\n");
        return 2;
    }
    return seeds(0, argv[1], argv[2]) == 0 && seeds(1, argv[1], argv[2]) == 0 ? 0 : 1;
}
