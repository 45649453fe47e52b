/*
 * The portable twins of the DSP instructions (runtime/kernels/dsp/acle_emul.h
 * and the helpers of dsp.h) against the Arm architecture's definitions
 * written out here independently (Arm ARM pseudocode: SignExtend, the 16x16
 * products, rounding high-word multiplies, SSUB8/SEL), and the dsp/ kernels'
 * 32-bit output stage against gemmlowp's arithmetic re-implemented from its
 * source (SaturatingRoundingDoublingHighMul with its nudge and truncating
 * division; RoundingDivideByPOT with mask and threshold), over the ranges
 * prepare proves. Built only against the dsp kernel set (test_dsp_acle_dsp).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kernels/dsp/dsp.h"
#include "kernels/dsp/requant.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint32_t rnd32(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* ---- the architecture, written out ---- */

static int64_t sext(uint32_t v, int bits)
{
    uint64_t m = (uint64_t)1 << (bits - 1);
    uint64_t x = v & (((uint64_t)1 << bits) - 1);
    return (int64_t)((x ^ m) - m);
}

static uint32_t byte_of(uint32_t x, int i)
{
    return (x >> (8 * i)) & 0xffu;
}

static uint32_t half_of(uint32_t x, int i)
{
    return (x >> (16 * i)) & 0xffffu;
}

static uint32_t arch_sxtb16(uint32_t x, int rot)
{
    uint32_t r = rot ? (x >> rot) | (x << (32 - rot)) : x;
    return ((uint32_t)sext(byte_of(r, 0), 8) & 0xffffu) |
           (((uint32_t)sext(byte_of(r, 2), 8) & 0xffffu) << 16);
}

static uint32_t arch_sxtab16(uint32_t a, uint32_t x, int rot)
{
    uint32_t e = arch_sxtb16(x, rot);
    return ((half_of(a, 0) + half_of(e, 0)) & 0xffffu) |
           (((half_of(a, 1) + half_of(e, 1)) & 0xffffu) << 16);
}

static int32_t arch_smla(uint32_t a, int ha, uint32_t b, int hb, int32_t c)
{
    int64_t p = sext(half_of(a, ha), 16) * sext(half_of(b, hb), 16);
    return (int32_t)(uint32_t)((uint64_t)(int64_t)c + (uint64_t)p);
}

static int32_t arch_smlad(uint32_t a, uint32_t b, int32_t c)
{
    int64_t p = sext(half_of(a, 0), 16) * sext(half_of(b, 0), 16) +
                sext(half_of(a, 1), 16) * sext(half_of(b, 1), 16);
    return (int32_t)(uint32_t)((uint64_t)(int64_t)c + (uint64_t)p);
}

static int32_t arch_smmlar(int32_t a, int32_t b, int32_t c)
{
    /* (c << 32) + a * b + 0x80000000 in 64 bits (wrapping), bits 63..32 */
    uint64_t acc = ((uint64_t)(uint32_t)c << 32) + (uint64_t)((int64_t)a * b) + 0x80000000u;
    return (int32_t)(uint32_t)(acc >> 32);
}

static uint32_t arch_sel_max(uint32_t a, uint32_t b)
{
    uint32_t r = 0;
    for (int i = 0; i < 4; i++) {
        int64_t d = sext(byte_of(a, i), 8) - sext(byte_of(b, i), 8); /* SSUB8: GE if d >= 0 */
        r |= (d >= 0 ? byte_of(a, i) : byte_of(b, i)) << (8 * i);
    }
    return r;
}

/* Inputs that reach the corners: all bytes/halves at the extremes, then random. */
static uint32_t interesting(int i)
{
    static const uint32_t fixed[] = {0x00000000u, 0xffffffffu, 0x80808080u, 0x7f7f7f7fu,
                                     0x80007fffu, 0x7fff8000u, 0x00ff00ffu, 0xff00ff00u,
                                     0x80000000u, 0x7fffffffu, 0x01800180u, 0x807f807fu};
    if (i < (int)(sizeof fixed / sizeof fixed[0]))
        return fixed[i];
    return rnd32();
}

static void extends_and_products(void **state)
{
    (void)state;
    for (int i = 0; i < 20000; i++) {
        uint32_t a = interesting(i % 64 < 12 ? i % 64 : 99),
                 b = interesting(i % 7 < 3 ? i % 12 : 99);
        int32_t c = (int32_t)interesting(i % 5 == 0 ? i % 12 : 99);
        assert_int_equal(__sxtb16(a), arch_sxtb16(a, 0));
        assert_int_equal(dsp_sxtb16_ror8(a), arch_sxtb16(a, 8));
        assert_int_equal(__sxtab16(b, a), arch_sxtab16(b, a, 0));
        assert_int_equal(dsp_sxtab16_ror8(b, a), arch_sxtab16(b, a, 8));
        assert_int_equal(__smlad(a, b, c), arch_smlad(a, b, c));
        assert_int_equal(__smlabb((int32_t)a, (int32_t)b, c), arch_smla(a, 0, b, 0, c));
        assert_int_equal(__smlabt((int32_t)a, (int32_t)b, c), arch_smla(a, 0, b, 1, c));
        assert_int_equal(__smlatb((int32_t)a, (int32_t)b, c), arch_smla(a, 1, b, 0, c));
        assert_int_equal(__smlatt((int32_t)a, (int32_t)b, c), arch_smla(a, 1, b, 1, c));
        assert_int_equal(dsp_smmlar((int32_t)a, (int32_t)b, c),
                         arch_smmlar((int32_t)a, (int32_t)b, c));
        assert_int_equal(dsp_smmulr((int32_t)a, (int32_t)b),
                         arch_smmlar((int32_t)a, (int32_t)b, 0));
        assert_int_equal(dsp_max_s8x4(a, b), arch_sel_max(a, b));
    }
    /* SMLAD's one overflow case wraps (the Q flag is not modelled): 2 * (-2^15)^2 = 2^31. */
    assert_int_equal(__smlad(0x80008000u, 0x80008000u, 0), INT32_MIN);
    /* SXTAB16 wraps each halfword on its own: 0x7fff + 1, -0x8000 + -1. */
    assert_int_equal(__sxtab16(0x80007fffu, 0x00ff0001u), 0x7fff8000u);
}

static void min_max_bytes(void **state)
{
    (void)state;
    for (int i = 0; i < 20000; i++) {
        uint32_t a = interesting(i % 24 < 12 ? i % 12 : 99), b = rnd32();
        uint32_t mx = dsp_max_s8x4(a, b), mn = dsp_min_s8x4(a, b);
        for (int k = 0; k < 4; k++) {
            int64_t x = sext(byte_of(a, k), 8), y = sext(byte_of(b, k), 8);
            assert_int_equal(sext(byte_of(mx, k), 8), x > y ? x : y);
            assert_int_equal(sext(byte_of(mn, k), 8), x < y ? x : y);
        }
    }
}

static void saturation(void **state)
{
    (void)state;
    static const int32_t v[] = {0,   1,     -1,     127,       128,       -128,    -129,      255,
                                256, 32767, -32768, INT32_MAX, INT32_MIN, 1 << 20, -(1 << 20)};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        for (uint32_t n = 1; n <= 32; n++) {
            int64_t hi = ((int64_t)1 << (n - 1)) - 1, lo = -((int64_t)1 << (n - 1));
            int64_t want = v[i] > hi ? hi : v[i] < lo ? lo : v[i];
            assert_int_equal(__ssat(v[i], n), want);
        }
        for (uint32_t n = 0; n <= 31; n++) {
            int64_t hi = ((int64_t)1 << n) - 1;
            int64_t want = v[i] > hi ? hi : v[i] < 0 ? 0 : v[i];
            assert_int_equal(__usat(v[i], n), want);
        }
    }
}

/* ---- gemmlowp, from its source ---- */

static int32_t gl_srdhm(int32_t a, int32_t b)
{
    int overflow = a == b && a == INT32_MIN;
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    int32_t high = (int32_t)((ab + nudge) / ((int64_t)1 << 31));
    return overflow ? INT32_MAX : high;
}

static int32_t gl_rdbpot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)((1ll << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* TFLite MultiplyByQuantizedMultiplier + zero point + clamp to int8. */
static int32_t tflm_out(int32_t acc, int32_t m, int shift, int32_t zp, int32_t lo, int32_t hi)
{
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    int32_t v = gl_rdbpot(gl_srdhm((int32_t)((uint32_t)acc << left), m), right) + zp;
    return v < lo ? lo : v > hi ? hi : v;
}

/* The fast form, over everything prepare lets it see: |acc| < 2^30, 1 <= e <= 22, m > 2^30. */
static void fast_output_stage_is_tflite(void **state)
{
    (void)state;
    for (int i = 0; i < 400000; i++) {
        int32_t m = (int32_t)((1u << 30) + 1u + rnd32() % ((1u << 30) - 1u));
        int e = 1 + (int)(rnd32() % DSP_RQ_MAX_RIGHT);
        int32_t zp = (int32_t)(rnd32() % 256u) - 128;
        int32_t acc;
        switch (i % 4) {
        case 0: /* around the rounding ties of the final shift */
            acc = (int32_t)((rnd32() % 4096u) << (e > 10 ? 10 : e)) - (1 << 20);
            break;
        case 1: /* the largest accumulators the proof allows */
            acc = (int32_t)((1u << 30) - 1u - rnd32() % 64u);
            if (rnd32() % 2u)
                acc = -acc;
            break;
        default:
            acc = (int32_t)(rnd32() & 0x7fffffffu) - (1 << 30);
            break;
        }
        if (acc <= -(1 << 30) || acc >= (1 << 30))
            continue;
        int8_t s8 = (int8_t)-e;
        dsp_chan c;
        dsp_chan_fill(&c, 1, &m, &s8, 0, zp, 1);
        assert_true(dsp_rq_scale_ok(&m, &s8, 0, 1));
        int32_t lo = -128 + (int32_t)(rnd32() % 64u), hi = 127 - (int32_t)(rnd32() % 64u);
        if (tflm_out(acc, m, -e, zp, -128, 127) !=
            (int32_t)dsp_out(acc, &c, DSP_OUT_FULL, 1, -128, 127))
            fail_msg("fast form: acc %d m %d e %d zp %d", acc, m, e, zp);
        assert_int_equal(tflm_out(acc, m, -e, zp, lo, hi),
                         dsp_out(acc, &c, DSP_OUT_ANY, 1, lo, hi));
    }
}

/* The slow form takes what the fast one may not: any accumulator, left shifts, m = 2^30. */
static void slow_output_stage_is_tflite(void **state)
{
    (void)state;
    for (int i = 0; i < 200000; i++) {
        int32_t m = i % 3 == 0 ? (1 << 30) : (int32_t)((1u << 30) + rnd32() % (1u << 30));
        int shift = (int)(rnd32() % 40u) - 31;
        int32_t zp = (int32_t)(rnd32() % 256u) - 128;
        int32_t acc = (int32_t)rnd32();
        int8_t s8 = (int8_t)shift;
        dsp_chan c;
        dsp_chan_fill(&c, 1, &m, &s8, 0, zp, 0);
        if (tflm_out(acc, m, shift, zp, -128, 127) !=
            (int32_t)dsp_out(acc, &c, DSP_OUT_ANY, 0, -128, 127))
            fail_msg("slow form: acc %d m %d shift %d zp %d", acc, m, shift, zp);
    }
}

/* Four outputs packed into a word (depthwise stores) equal four single outputs. */
static void packed_outputs(void **state)
{
    (void)state;
    for (int i = 0; i < 50000; i++) {
        dsp_chan c[4];
        int32_t a[4];
        int fast = i % 4 != 0;
        for (int k = 0; k < 4; k++) {
            int32_t m = (int32_t)((1u << 30) + 1u + rnd32() % ((1u << 30) - 1u));
            int8_t s8 = (int8_t)(fast ? -(1 + (int)(rnd32() % DSP_RQ_MAX_RIGHT))
                                      : (int)(rnd32() % 40u) - 31);
            c[k] = dsp_chan_of(m, s8, (int32_t)(rnd32() % 256u) - 128, fast);
            a[k] = fast ? (int32_t)(rnd32() % (1u << 31)) - (1 << 30) + 1 : (int32_t)rnd32();
        }
        int32_t lo = -128 + (int32_t)(rnd32() % 100u),
                hi = lo + (int32_t)(rnd32() % (unsigned)(128 - lo));
        uint32_t w =
            dsp_out4(a[0], a[1], a[2], a[3], c, DSP_OUT_ANY, fast, dsp_splat8(lo), dsp_splat8(hi));
        for (int k = 0; k < 4; k++)
            assert_int_equal((int8_t)(uint8_t)(w >> (8 * k)),
                             dsp_out(a[k], &c[k], DSP_OUT_ANY, fast, lo, hi));
        if (fast) {
            w = dsp_out4(a[0], a[1], a[2], a[3], c, DSP_OUT_FULL, 1, 0, 0);
            for (int k = 0; k < 4; k++)
                assert_int_equal((int8_t)(uint8_t)(w >> (8 * k)),
                                 dsp_out(a[k], &c[k], DSP_OUT_FULL, 1, -128, 127));
        }
    }
}

/* prepare's conditions: what it must refuse. */
static void fast_form_conditions(void **state)
{
    (void)state;
    int32_t m_ok = (1 << 30) + 5, m_pow2 = 1 << 30;
    int8_t e1 = -1, e22 = -22, e0 = 0, e23 = -23, left = 3;
    assert_true(dsp_rq_scale_ok(&m_ok, &e1, 0, 1));
    assert_true(dsp_rq_scale_ok(&m_ok, &e22, 0, 1));
    assert_false(dsp_rq_scale_ok(&m_ok, &e0, 0, 1));
    assert_false(dsp_rq_scale_ok(&m_ok, &e23, 0, 1));
    assert_false(dsp_rq_scale_ok(&m_ok, &left, 0, 1));
    assert_false(dsp_rq_scale_ok(&m_pow2, &e1, 0, 1)); /* h < 0 no longer follows a < 0 */
    /* the bound: |bias| + sum|w| * max|x + offset| */
    const int8_t w[4] = {-128, 127, 0, -1};
    assert_int_equal(dsp_acc_bound(w, 4, 1, -7, 0), 7 + 256 * 128);
    assert_int_equal(dsp_acc_bound(w, 4, 1, 0, 128), 256 * 255);
    assert_int_equal(dsp_acc_bound(w, 2, 2, 0, -127), 128 * 255);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(extends_and_products),
        cmocka_unit_test(min_max_bytes),
        cmocka_unit_test(saturation),
        cmocka_unit_test(fast_output_stage_is_tflite),
        cmocka_unit_test(slow_output_stage_is_tflite),
        cmocka_unit_test(packed_outputs),
        cmocka_unit_test(fast_form_conditions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
