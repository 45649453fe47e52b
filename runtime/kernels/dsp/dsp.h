/*
 * The instructions of the Cortex-M DSP extension the dsp/ kernels are
 * written with: the ACLE intrinsics of <arm_acle.h> on a target that has
 * the extension (__ARM_FEATURE_DSP), their portable C twins (acle_emul.h)
 * in host test builds, plus the few forms ACLE lacks (a rotated operand,
 * SMMULR) as one-instruction inline assembly or plain C.
 *
 * Word loads: the kernels only load a uint32 from addresses prepare proved
 * 4-byte aligned (dsp_load32 compiles to one LDR); firmware runs with the
 * unaligned-access trap on, so nothing else may be loaded as a word.
 */
#ifndef TMO_DSP_H
#define TMO_DSP_H

#include <stdint.h>
#include <string.h>

#include "tinymlops/config.h"

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#define DSP_NATIVE 1
#elif defined(TMO_ACLE_EMULATION)
#include "acle_emul.h"
#define DSP_NATIVE 0
#else
#error "dsp/ kernels need a target with the DSP extension, or TMO_ACLE_EMULATION on a host"
#endif

/*
 * DSP_ASM: the hot loops' hand-scheduled inline assembly. Only on the target
 * and only when optimizing: at -O0 the compiler keeps every variable in
 * memory and can not find the registers those blocks ask for, so the C
 * twins (the same arithmetic on ACLE intrinsics) run instead. Each block
 * asks for at most 11 registers, which gcc and clang find at -O1..-O3/-Os.
 */
#if DSP_NATIVE && defined(__OPTIMIZE__)
#define DSP_ASM 1
#else
#define DSP_ASM 0
#endif

/* A helper the compiler must inline (each call site passes constants that select the code). */
#define DSP_INLINE static inline __attribute__((always_inline))

/*
 * A hot loop the compiler must keep out of line: inlined into its (single)
 * caller it shares that function's registers and spills.
 */
#define DSP_HOT static __attribute__((noinline))

/* Bytes 1 and 3 of x, sign-extended into the halfwords: SXTB16 with ROR #8. */
static inline uint32_t dsp_sxtb16_ror8(uint32_t x)
{
#if DSP_NATIVE
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
#else
    return __sxtb16((x >> 8) | (x << 24));
#endif
}

/* a's halfwords plus bytes 1 and 3 of x: SXTAB16 with ROR #8. */
static inline uint32_t dsp_sxtab16_ror8(uint32_t a, uint32_t x)
{
#if DSP_NATIVE
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
#else
    return __sxtab16(a, (x >> 8) | (x << 24));
#endif
}

/*
 * SMMULR: the high word of a * b, rounded: (a * b + 2^31) >> 32.
 * With a = 2x it is TFLite's SaturatingRoundingDoublingHighMul(x, b)
 * whenever 2x does not overflow (see requant.h).
 */
static inline int32_t dsp_smmulr(int32_t a, int32_t b)
{
#if DSP_NATIVE
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return (int32_t)(((int64_t)a * b + ((int64_t)1 << 31)) >> 32);
#endif
}

/* SMMLAR: c + SMMULR(a, b), exactly: (c * 2^32 + a * b + 2^31) >> 32. */
static inline int32_t dsp_smmlar(int32_t a, int32_t b, int32_t c)
{
#if DSP_NATIVE
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(c));
    return r;
#else
    return (int32_t)((uint32_t)c + (uint32_t)(((int64_t)a * b + ((int64_t)1 << 31)) >> 32));
#endif
}

/*
 * Bytewise signed maximum of two words: SSUB8 sets a GE flag per byte where
 * a >= b, SEL takes those bytes from a and the others from b. (Written as
 * one helper because the GE flags are state the C twin cannot carry.)
 */
static inline uint32_t dsp_max_s8x4(uint32_t a, uint32_t b)
{
#if DSP_NATIVE
    uint32_t r;
    __asm__("ssub8 %0, %1, %2\n\t"
            "sel   %0, %1, %2"
            : "=&r"(r)
            : "r"(a), "r"(b)
            : "cc");
    return r;
#else
    uint32_t r = 0;
    for (int i = 0; i < 32; i += 8) {
        int8_t x = (int8_t)(uint8_t)(a >> i), y = (int8_t)(uint8_t)(b >> i);
        r |= (uint32_t)(uint8_t)(x >= y ? x : y) << i;
    }
    return r;
#endif
}

/* Bytewise signed minimum (SSUB8 b - a, SEL). */
static inline uint32_t dsp_min_s8x4(uint32_t a, uint32_t b)
{
#if DSP_NATIVE
    uint32_t r;
    __asm__("ssub8 %0, %2, %1\n\t"
            "sel   %0, %1, %2"
            : "=&r"(r)
            : "r"(a), "r"(b)
            : "cc");
    return r;
#else
    uint32_t r = 0;
    for (int i = 0; i < 32; i += 8) {
        int8_t x = (int8_t)(uint8_t)(a >> i), y = (int8_t)(uint8_t)(b >> i);
        r |= (uint32_t)(uint8_t)(x <= y ? x : y) << i;
    }
    return r;
#endif
}

/*
 * Activations and scratch start where the planner puts them: on multiples of
 * TMO_TENSOR_ALIGN from an 8-byte aligned arena. The kernels load words from
 * activations (and LDRD from scratch), so that must be a multiple of 4.
 */
_Static_assert(TMO_TENSOR_ALIGN % 4 == 0,
               "dsp/ kernels need TMO_TENSOR_ALIGN to be a multiple of 4");

/* One aligned word (the caller guarantees the alignment). */
static inline uint32_t dsp_load32(const void *p)
{
    uint32_t v;
    memcpy(&v, __builtin_assume_aligned(p, 4), 4);
    return v;
}

/* Two aligned words (LDRD): lo from p, hi from p + 4. */
static inline void dsp_load2x32(const void *p, uint32_t *lo, uint32_t *hi)
{
    uint64_t v;
    memcpy(&v, __builtin_assume_aligned(p, 4), 8);
    *lo = (uint32_t)v;
    *hi = (uint32_t)(v >> 32);
}

static inline void dsp_store32(void *p, uint32_t v)
{
    memcpy(__builtin_assume_aligned(p, 4), &v, 4);
}

/*
 * Compiler barrier: memory written before it is written before any later
 * volatile assembly block runs (the hot loops' asm reads memory without a
 * "memory" clobber, so that values stay in registers across it).
 */
static inline void dsp_barrier(void)
{
    __asm__ volatile("" ::: "memory");
}

/* Four copies of a byte / two of a halfword. */
static inline uint32_t dsp_splat16(int32_t v)
{
    return ((uint32_t)v & 0xffffu) * 0x00010001u;
}

#endif
