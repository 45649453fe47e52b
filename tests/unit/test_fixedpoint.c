/*
 * The requantization primitives against a direct transcription of gemmlowp's
 * definitions (SaturatingRoundingDoublingHighMul with its sign-dependent
 * nudge and truncating division; RoundingDivideByPOT), which is what TFLite
 * Micro's reference kernels compute. fixedpoint.h uses cheaper but, as these
 * tests show, identical formulas.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kernels/fixedpoint.h"
#include "kernels/quant.h"

static int32_t gemmlowp_high_mul(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN)
        return INT32_MAX;
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / (1ll << 31));
}

/* Rounds half away from zero, computed with exact rational arithmetic. */
static int32_t exact_divide_pot(int32_t x, int exponent)
{
    int64_t d = (int64_t)1 << exponent;
    int64_t q = (int64_t)x / d, r = (int64_t)x % d;
    if (2 * (r < 0 ? -r : r) >= d)
        q += x < 0 ? -1 : 1;
    return (int32_t)q;
}

static uint64_t rng = 0x1234567;

static uint32_t next_u32(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng >> 32);
}

static void high_mul_matches_gemmlowp(void **state)
{
    (void)state;
    static const int32_t edge[] = {0, 1, -1, 2, -2, INT32_MIN, INT32_MAX, INT32_MIN + 1, 1 << 30,
                                   -(1 << 30), (1 << 30) + 1, -(1 << 30) - 1, 46341, -46341};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        for (size_t j = 0; j < sizeof edge / sizeof edge[0]; j++)
            assert_int_equal(fp_mul_high(edge[i], edge[j]), gemmlowp_high_mul(edge[i], edge[j]));
    for (int i = 0; i < 2000000; i++) {
        int32_t a = (int32_t)next_u32(), b = (int32_t)next_u32();
        a >>= next_u32() % 32; /* cover small magnitudes too */
        assert_int_equal(fp_mul_high(a, b), gemmlowp_high_mul(a, b));
    }
}

static void rounding_shift_is_round_half_away(void **state)
{
    (void)state;
    for (int e = 0; e <= 31; e++) {
        for (int i = 0; i < 20000; i++) {
            int32_t x = (int32_t)next_u32();
            if (i < 64)
                x = i - 32;
            assert_int_equal(fp_rshift_round(x, e), exact_divide_pot(x, e));
        }
        assert_int_equal(fp_rshift_round(INT32_MIN, e), exact_divide_pot(INT32_MIN, e));
        assert_int_equal(fp_rshift_round(INT32_MAX, e), exact_divide_pot(INT32_MAX, e));
    }
}

/* TFLM's MultiplyByQuantizedMultiplier, transcribed from its definition. */
static int32_t tflm_requant(int32_t x, int32_t m, int shift)
{
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    int32_t shifted = (int32_t)((uint32_t)x << left);
    int32_t high = gemmlowp_high_mul(shifted, m);
    int32_t mask = (int32_t)((1ll << right) - 1);
    int32_t remainder = high & mask;
    int32_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
    return (high >> right) + (remainder > threshold ? 1 : 0);
}

static void requant_matches_tflm(void **state)
{
    (void)state;
    for (int i = 0; i < 3000000; i++) {
        int32_t x = (int32_t)next_u32();
        x >>= next_u32() % 32;
        int32_t m = (int32_t)(next_u32() >> 1);
        if (i % 5 == 0)
            m = (int32_t)((1u << 30) | (next_u32() >> 2)); /* the normalized range */
        int shift = (int)(next_u32() % 62) - 31;
        assert_int_equal(fp_requant(x, m, shift), tflm_requant(x, m, shift));
    }
    static const int32_t xs[] = {0, 1, -1, INT32_MAX, INT32_MIN, 1 << 30, -(1 << 30)};
    static const int32_t ms[] = {0, 1, 1 << 30, INT32_MAX};
    for (size_t i = 0; i < 7; i++)
        for (size_t j = 0; j < 4; j++)
            for (int shift = -31; shift <= 30; shift++)
                assert_int_equal(fp_requant(xs[i], ms[j], shift), tflm_requant(xs[i], ms[j], shift));
}

/* quant_multiplier() + fp_requant() approximate x * real within one unit. */
static void requant_tracks_real_multiplier(void **state)
{
    (void)state;
    for (int i = 0; i < 200000; i++) {
        double real = (double)(next_u32() % 1000000 + 1) / 1e6 * (i % 2 ? 1.0 : 1e-3);
        int32_t m;
        int shift;
        assert_int_equal(quant_multiplier(real, &m, &shift), TMO_OK);
        int32_t x = (int32_t)(next_u32() % 2000001) - 1000000;
        double want = (double)x * real;
        int32_t got = fp_requant(x, m, shift);
        assert_true(got - want <= 1.0 && want - got <= 1.0);
    }
}

static void quant_multiplier_edges(void **state)
{
    (void)state;
    int32_t m;
    int shift;
    assert_int_equal(quant_multiplier(0.0, &m, &shift), TMO_OK);
    assert_int_equal(m, 0);
    assert_int_equal(quant_multiplier(0.5, &m, &shift), TMO_OK);
    assert_int_equal(m, 1 << 30);
    assert_int_equal(shift, 0);
    assert_int_equal(quant_multiplier(1.0, &m, &shift), TMO_OK);
    assert_int_equal(m, 1 << 30);
    assert_int_equal(shift, 1);
    /* A significand that rounds up to 2^31 is renormalized. */
    assert_int_equal(quant_multiplier(0.99999999999, &m, &shift), TMO_OK);
    assert_int_equal(m, 1 << 30);
    assert_int_equal(shift, 1);
    /* Below 2^-31 * 0.5 the multiplier flushes to zero, as TFLite does. */
    assert_int_equal(quant_multiplier(1e-12, &m, &shift), TMO_OK);
    assert_int_equal(m, 0);
    assert_int_equal(shift, 0);
    assert_int_equal(quant_multiplier(-1.0, &m, &shift), TMO_ERANGE);
    assert_int_equal(quant_multiplier(1e30, &m, &shift), TMO_ERANGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(high_mul_matches_gemmlowp),
        cmocka_unit_test(rounding_shift_is_round_half_away),
        cmocka_unit_test(requant_matches_tflm),
        cmocka_unit_test(requant_tracks_real_multiplier),
        cmocka_unit_test(quant_multiplier_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
