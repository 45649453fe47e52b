/*
 * PROFILE format [P-1..P-7]: hand-made profiles survive encode -> parse with
 * every field intact; every truncation and targeted corruption is refused
 * with an error naming the field; a single-byte flip is either refused or
 * read without loss (re-encoding the parsed view gives the flipped bytes);
 * tmo_profile_check refuses a profile of another model.
 */
#include "monitor_fixture.h"

static float hist_ranges[3][2] = {{-128, 127}, {-5, 9}, {0, 0}};

/* A CLASSES profile for an int8 [1,2,3] -> 4-class model with a penultimate block. */
static void make_spec(host_profile_spec *s, host_pgroup *groups, uint32_t *cls, uint32_t *conf,
                      float *calib, float *pm, float *pv)
{
    memset(s, 0, sizeof *s);
    s->mode = TMO_OUT_PROBS;
    for (int i = 0; i < 32; i++)
        s->digest[i] = (uint8_t)(i * 7 + 1);
    s->samples = 10;
    s->labelled = 8;
    s->label_accuracy = 0.75f;
    s->in = (host_pstats){TMO_INT8, 5, 3, 3, 6, 0.5f, -7, -3.25f, 1.5f, groups};
    for (uint32_t g = 0; g < 3; g++) {
        memset(&groups[g], 0, sizeof groups[g]);
        groups[g].lo = hist_ranges[g][0];
        groups[g].hi = hist_ranges[g][1];
        groups[g].mean = g - 1.5;
        groups[g].m2 = 3.0 * g;
        for (uint32_t b = 0; b < 5; b++) {
            groups[g].hist[b] = g + b;
            groups[g].count += g + b;
        }
    }
    s->out_type = TMO_INT8;
    s->classes = 4;
    s->conf_bins = 3;
    s->out_scale = 1.0f / 256;
    s->out_zero_point = -128;
    s->conf_mean = 0.8f;
    s->conf_std = 0.1f;
    s->acc_ref = 0.7f;
    uint32_t c4[4] = {4, 3, 2, 1}, c3[3] = {1, 2, 7};
    float cal[3] = {0.2f, 0.5f, 0.9f};
    memcpy(cls, c4, sizeof c4);
    memcpy(conf, c3, sizeof c3);
    memcpy(calib, cal, sizeof cal);
    s->class_counts = cls;
    s->conf_counts = conf;
    s->calib = calib;
    s->pen_tensor = 2;
    s->pen_channels = 2;
    s->pen_count = 10;
    s->pen_type = TMO_FLOAT32;
    s->pen_mean = pm;
    s->pen_var = pv;
    pm[0] = -1;
    pm[1] = 2;
    pv[0] = 0.5f;
    pv[1] = 0;
}

/* The parsed view back into a spec (arrays malloc'ed; free with free_spec). */
static void spec_from(const tmo_profile *p, host_profile_spec *s)
{
    memset(s, 0, sizeof *s);
    s->mode = p->mode;
    memcpy(s->digest, p->model_digest, 32);
    s->samples = p->samples;
    s->labelled = p->labelled;
    s->label_accuracy = p->label_accuracy;
    const tmo_profile_stats *src[2] = {&p->in, &p->out};
    host_pstats *dst[2] = {&s->in, &s->out};
    for (int k = 0; k < (p->mode == TMO_OUT_VALUES ? 2 : 1); k++) {
        *dst[k] = (host_pstats){src[k]->type,       src[k]->bins,
                                src[k]->groups,     src[k]->channels,
                                src[k]->elements,   src[k]->scale,
                                src[k]->zero_point, src[k]->seq_mean,
                                src[k]->seq_std,    calloc(src[k]->groups, sizeof(host_pgroup))};
        for (uint32_t g = 0; g < src[k]->groups; g++) {
            tmo_profile_group pg;
            tmo_profile_group_get(src[k], g, &pg);
            dst[k]->g[g].lo = pg.lo;
            dst[k]->g[g].hi = pg.hi;
            dst[k]->g[g].count = pg.count;
            dst[k]->g[g].mean = pg.mean;
            dst[k]->g[g].m2 = pg.m2;
            for (uint32_t b = 0; b < src[k]->bins; b++)
                dst[k]->g[g].hist[b] = tmo_profile_hist(src[k], g, b);
        }
    }
    if (p->mode != TMO_OUT_VALUES) {
        s->out_type = p->out_type;
        s->classes = p->classes;
        s->conf_bins = p->conf_bins;
        s->out_scale = p->out_scale;
        s->out_zero_point = p->out_zero_point;
        s->conf_mean = p->conf_mean;
        s->conf_std = p->conf_std;
        s->acc_ref = p->acc_ref;
        s->class_counts = calloc(p->classes, 4);
        s->conf_counts = calloc(p->conf_bins, 4);
        s->calib = calloc(p->conf_bins, 4);
        for (uint32_t k = 0; k < p->classes; k++)
            s->class_counts[k] = tmo_profile_class_count(p, k);
        for (uint32_t b = 0; b < p->conf_bins; b++) {
            s->conf_counts[b] = tmo_profile_conf_count(p, b);
            s->calib[b] = tmo_profile_calib(p, b);
        }
    }
    if (p->pen_channels > 0) {
        s->pen_tensor = p->pen_tensor;
        s->pen_channels = p->pen_channels;
        s->pen_count = p->pen_count;
        s->pen_type = p->pen_type;
        s->pen_scale = p->pen_scale;
        s->pen_zero_point = p->pen_zero_point;
        s->pen_mean = calloc(p->pen_channels, 4);
        s->pen_var = calloc(p->pen_channels, 4);
        for (uint32_t c = 0; c < p->pen_channels; c++)
            tmo_profile_pen(p, c, &s->pen_mean[c], &s->pen_var[c]);
    }
}

static void free_spec(host_profile_spec *s)
{
    free(s->in.g);
    free(s->out.g);
    free(s->class_counts);
    free(s->conf_counts);
    free(s->calib);
    free(s->pen_mean);
    free(s->pen_var);
}

static uint8_t *good_profile(size_t *len)
{
    host_profile_spec s;
    host_pgroup g[3];
    uint32_t cls[4], conf[3];
    float calib[3], pm[2], pv[2];
    make_spec(&s, g, cls, conf, calib, pm, pv);
    uint8_t *b;
    assert_int_equal(host_profile_encode(&s, &b, len), 0);
    return b;
}

static void test_round_trip(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = good_profile(&len);
    tmo_profile p;
    fx_parse(&p, b, len);
    /* Sizes from docs/monitoring.md: 64 + (32 + 3 * (32 + 4*5)) + (32 + 4*(4+3+3)) + (24 + 8*2). */
    assert_int_equal(len, 64 + (32 + 3 * 52) + (32 + 40) + (24 + 16));
    assert_int_equal(p.mode, TMO_OUT_PROBS);
    assert_int_equal(p.flags, TMO_PROFILE_F_CALIBRATED | TMO_PROFILE_F_PEN);
    assert_int_equal(p.samples, 10);
    assert_int_equal(p.labelled, 8);
    assert_true(p.label_accuracy == 0.75f);
    assert_int_equal(p.in.type, TMO_INT8);
    assert_int_equal(p.in.groups, 3);
    assert_int_equal(p.in.bins, 5);
    assert_true(p.in.scale == 0.5f && p.in.zero_point == -7 && p.in.seq_mean == -3.25f);
    for (uint32_t g = 0; g < 3; g++) {
        tmo_profile_group pg;
        tmo_profile_group_get(&p.in, g, &pg);
        assert_true(pg.lo == hist_ranges[g][0] && pg.hi == hist_ranges[g][1]);
        assert_true(pg.mean == g - 1.5 && pg.m2 == 3.0 * g);
        assert_int_equal(tmo_profile_hist(&p.in, g, 4), g + 4);
        assert_int_equal(tmo_profile_group_first(&p.in, g), g);
    }
    assert_int_equal(tmo_profile_class_count(&p, 0), 4);
    assert_int_equal(tmo_profile_conf_count(&p, 2), 7);
    assert_true(tmo_profile_calib(&p, 1) == 0.5f);
    assert_true(p.acc_ref == 0.7f && p.conf_mean == 0.8f);
    float m, v;
    tmo_profile_pen(&p, 1, &m, &v);
    assert_true(m == 2 && v == 0);
    assert_int_equal(p.pen_tensor, 2);
    /* The parsed view re-encodes to the same bytes. */
    host_profile_spec s;
    spec_from(&p, &s);
    uint8_t *again;
    size_t alen;
    assert_int_equal(host_profile_encode(&s, &again, &alen), 0);
    assert_int_equal(alen, len);
    assert_memory_equal(again, b, len);
    free(again);
    free_spec(&s);
    free(b);
}

static void test_truncations_and_flips(void **state)
{
    (void)state;
    size_t len;
    uint8_t *good = good_profile(&len);
    uint8_t *b = malloc(len + 1);
    tmo_profile p;
    tmo_diag d;
    for (size_t n = 0; n < len; n++) {
        memcpy(b, good, n);
        assert_int_equal(tmo_profile_parse(&p, b, n, &d), TMO_EBADMODEL);
        assert_non_null(d.field);
        assert_memory_equal(d.field, "profile", 7);
    }
    memcpy(b, good, len);
    b[len] = 0;
    assert_int_equal(tmo_profile_parse(&p, b, len + 1, &d), TMO_EBADMODEL);
    unsigned refused = 0, lossless = 0;
    const uint8_t flips[3] = {0x01, 0x80, 0xff};
    for (size_t i = 0; i < len; i++)
        for (int k = 0; k < 3; k++) {
            memcpy(b, good, len);
            b[i] ^= flips[k];
            tmo_err e = tmo_profile_parse(&p, b, len, &d);
            if (e != TMO_OK) {
                assert_true(e == TMO_EBADMODEL || e == TMO_EUNSUPPORTED);
                assert_non_null(d.field);
                refused++;
                continue;
            }
            host_profile_spec s;
            spec_from(&p, &s);
            uint8_t *again;
            size_t alen;
            assert_int_equal(host_profile_encode(&s, &again, &alen), 0);
            assert_int_equal(alen, len);
            assert_memory_equal(again, b, len);
            free(again);
            free_spec(&s);
            lossless++;
        }
    printf("# profile flips: %u refused, %u read without loss\n", refused, lossless);
    assert_true(refused > 0);
    free(b);
    free(good);
}

static void corrupt(size_t at, const uint8_t *bytes, size_t n, tmo_err want, const char *field)
{
    size_t len;
    uint8_t *b = good_profile(&len);
    memcpy(b + at, bytes, n);
    tmo_profile p;
    tmo_diag d;
    char msg[300];
    tmo_err e = tmo_profile_parse(&p, b, len, &d);
    tmo_diag_format(&d, msg, sizeof msg);
    if (e != want)
        fail_msg("corruption at byte %zu: %s, expected %s (%s)", at, tmo_err_name(e),
                 tmo_err_name(want), msg);
    if (strstr(msg, field) == NULL)
        fail_msg("'%s' does not name %s", msg, field);
    free(b);
}

static void test_targeted_corruptions(void **state)
{
    (void)state;
    const size_t in = TMO_PROFILE_HEADER_SIZE, g0 = in + TMO_PROFILE_STATS_DESC_SIZE;
    const size_t cls = in + 32 + 3 * 52, pen = cls + 32 + 40;
    const uint8_t two[2] = {2, 0}, one = 1, half[4] = {0, 0, 0, 0x3f};
    const uint8_t nan64_high[4] = {0, 0, 0xf8, 0x7f};
    const uint8_t big[4] = {0, 0, 0x80, 0x3f + 1}, zero4[4] = {0, 0, 0, 0}, ff = 0xff;
    corrupt(0, (const uint8_t *)"TMOX", 4, TMO_EBADMODEL, "profile.magic");
    corrupt(TMO_PH_VERSION, two, 2, TMO_EUNSUPPORTED, "profile.version");
    corrupt(TMO_PH_FLAGS, &ff, 1, TMO_EBADMODEL, "profile.flags");
    corrupt(TMO_PH_LABELLED, zero4, 4, TMO_EBADMODEL, "profile.flags"); /* CALIBRATED, no labels */
    corrupt(TMO_PH_RESERVED, &one, 1, TMO_EBADMODEL, "profile.reserved");
    corrupt(in + 0, &one, 1, TMO_EBADMODEL, "profile.input");       /* type 1 */
    corrupt(in + 1, &one, 1, TMO_EBADMODEL, "profile.input");       /* 1 bin */
    corrupt(in + 4, &one, 1, TMO_EBADMODEL, "profile.input");       /* 1 channel < 3 groups */
    corrupt(g0 + 0, half, 4, TMO_EBADMODEL, "profile.group.range"); /* int8 lo = 0.5 */
    corrupt(g0 + 20, nan64_high, 4, TMO_EBADMODEL, "profile.group.moments"); /* mean NaN */
    corrupt(g0 + 32, &one, 1, TMO_EBADMODEL, "profile.group.hist");          /* sum != count */
    corrupt(cls + 32 + 4 * 7, big, 4, TMO_EBADMODEL, "profile.calibration");
    corrupt(cls + 32, &one, 1, TMO_EBADMODEL, "profile.classes"); /* class total != conf total */
    corrupt(pen + 6, zero4, 2, TMO_EBADMODEL, "profile.pen");
    tmo_profile p;
    tmo_diag d;
    assert_int_equal(tmo_profile_parse(&p, NULL, 0, &d), TMO_EINVAL);
}

static void test_check_against_model(void **state)
{
    (void)state;
    size_t mlen;
    uint8_t *model = fx_softmax_model(TMO_FLOAT32, 4, 0, 0, &mlen);
    float data[4 * 3] = {1, 2, 3, 4, 4, 3, 2, 1, 0, 0, 5, 0};
    host_profile_result r;
    fx_build(model, mlen, data, sizeof data, NULL, NULL, &r);
    tmo_profile p;
    fx_parse(&p, r.profile, r.profile_len);
    host_model hm;
    fx_open(&hm, model, mlen);
    tmo_diag d;
    assert_int_equal(tmo_profile_check(&p, &hm.interp, &d), TMO_OK);
    host_model_close(&hm);
    free(model);
    struct {
        uint8_t *model;
        const char *says;
    } others[3];
    size_t lens[3];
    others[0].model = fx_softmax_model(TMO_FLOAT32, 5, 0, 0, &lens[0]);
    others[0].says = "element count";
    others[1].model = fx_softmax_model(TMO_INT8, 4, 0.1f, 0, &lens[1]);
    others[1].says = "type";
    others[2].model = fx_relu_model(TMO_FLOAT32, 2, 2, 0, 0, &lens[2]);
    others[2].says = "last dimension";
    for (int i = 0; i < 3; i++) {
        fx_open(&hm, others[i].model, lens[i]);
        char msg[300];
        assert_int_equal(tmo_profile_check(&p, &hm.interp, &d), TMO_EINVAL);
        tmo_diag_format(&d, msg, sizeof msg);
        if (strstr(msg, others[i].says) == NULL)
            fail_msg("'%s' does not say '%s'", msg, others[i].says);
        host_model_close(&hm);
        free(others[i].model);
    }
    host_profile_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_truncations_and_flips),
        cmocka_unit_test(test_targeted_corruptions),
        cmocka_unit_test(test_check_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
