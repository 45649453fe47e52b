/*
 * Bundles with a monitoring PROFILE and known-answer tests (KAT): packing
 * them from representative data, and the host verification running the KAT
 * through this build's runtime. A KAT whose expected output differs in one
 * byte (signed as such by a careless packer) must be refused with EKAT and a
 * message naming the vector and the byte; a profile built for another model
 * must be refused too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bundle/bundle_fixture.h"
#include "bundle_check.h"
#include "profile_build.h"

#define SAMPLES 12

/* Deterministic float inputs for the fixture's [1,4] model. */
static void make_data(float data[SAMPLES][4])
{
    for (int s = 0; s < SAMPLES; s++)
        for (int i = 0; i < 4; i++)
            data[s][i] = (float)((s * 7 + i * 3) % 11) - 5.0f;
}

static int build_sections(const uint8_t *model, size_t model_len, uint32_t kat,
                          host_profile_result *prof)
{
    float data[SAMPLES][4];
    char err[256];
    make_data(data);
    host_profile_opts po;
    host_profile_opts_defaults(&po);
    po.kat_count = kat;
    return host_profile_build(model, model_len, (const uint8_t *)data, sizeof data, NULL, &po, prof,
                              err, sizeof err);
}

static tmo_err verify(fx *f, const hb_extra_section *extra, size_t n, host_verify_out *out)
{
    host_pack_in in = fx_pack_in(f, 0);
    in.extra = extra;
    in.extra_count = n;
    size_t len;
    uint8_t *bytes = fx_pack(&in, &len);
    assert_non_null(bytes);
    host_verify_in vin;
    memset(&vin, 0, sizeof vin);
    vin.roots = (const uint8_t(*)[TMO_P256_PUBLIC_KEY_LEN])f->roots;
    vin.root_count = 2;
    vin.now = FX_NOW;
    tmo_err e = host_bundle_verify(bytes, len, &vin, out);
    free(bytes);
    return e;
}

static void kat_reproduced(void **state)
{
    fx *f = *state;
    host_profile_result prof;
    assert_int_equal(build_sections(f->model, f->model_len, 4, &prof), 0);
    hb_extra_section extra[2] = {{TMO_SECTION_PROFILE, 0, prof.profile, prof.profile_len},
                                 {TMO_SECTION_KAT, 0, prof.kat, prof.kat_len}};
    host_verify_out out;
    assert_int_equal(verify(f, extra, 2, &out), TMO_OK);
    assert_true(out.profile_checked);
    assert_int_equal(out.kat_passed, 4);
    host_verify_free(&out);
    host_profile_result_free(&prof);
}

static void wrong_kat_refused(void **state)
{
    fx *f = *state;
    host_profile_result prof;
    assert_int_equal(build_sections(f->model, f->model_len, 2, &prof), 0);
    /* The last byte of the KAT is the last expected output byte of the last vector. */
    prof.kat[prof.kat_len - 1] ^= 0x40;
    hb_extra_section extra[1] = {{TMO_SECTION_KAT, 0, prof.kat, prof.kat_len}};
    host_verify_out out;
    assert_int_equal(verify(f, extra, 1, &out), TMO_EKAT);
    assert_non_null(strstr(out.message, "known-answer test failed"));
    assert_non_null(strstr(out.message, "vector 1"));
    assert_int_equal(out.kat_passed, 0);
    host_verify_free(&out);
    host_profile_result_free(&prof);
}

static void foreign_profile_refused(void **state)
{
    fx *f = *state;
    size_t other_len;
    uint8_t *other = fx_make_model(&other_len, 5); /* 5 outputs instead of 3 */
    host_profile_result prof;
    assert_int_equal(build_sections(other, other_len, 0, &prof), 0);
    hb_extra_section extra[1] = {{TMO_SECTION_PROFILE, 0, prof.profile, prof.profile_len}};
    host_verify_out out;
    assert_int_not_equal(verify(f, extra, 1, &out), TMO_OK);
    assert_false(out.profile_checked);
    assert_non_null(strstr(out.message, "profile"));
    host_verify_free(&out);
    host_profile_result_free(&prof);
    free(other);
}

static int setup(void **state)
{
    static fx f;
    if (psa_crypto_init() != PSA_SUCCESS || fx_init(&f) != 0)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fx_free(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kat_reproduced),
        cmocka_unit_test(wrong_kat_refused),
        cmocka_unit_test(foreign_profile_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
