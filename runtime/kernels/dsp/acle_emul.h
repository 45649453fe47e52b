/*
 * Portable C versions of the ACLE DSP intrinsics the dsp/ kernels use, so
 * that those kernels also build and run, bit for bit, in the host test
 * suite (golden vectors, unit tests, sanitizers). Semantics are the Arm
 * architecture's (ARMv7E-M SXTB16, SMLAD, ...) with wrapping 32-bit sums;
 * the Q (overflow) flag is not modelled, as the kernels never read it.
 *
 * Host builds only: firmware gets the real instructions from <arm_acle.h>
 * (see dsp.h). TMO_ACLE_EMULATION must be defined by the host build, and a
 * target with the DSP extension must never see this file.
 */
#ifndef TMO_ACLE_EMUL_H
#define TMO_ACLE_EMUL_H

#if !defined(TMO_ACLE_EMULATION) || defined(__ARM_FEATURE_DSP)
#error "acle_emul.h is for host builds of the dsp kernels (TMO_ACLE_EMULATION) only"
#endif

#include <stdint.h>

/* Signed halves of a 32-bit register. */
static inline int32_t acle_lo16(uint32_t x)
{
    return (int32_t)(int16_t)(uint16_t)(x & 0xffffu);
}

static inline int32_t acle_hi16(uint32_t x)
{
    return (int32_t)(int16_t)(uint16_t)(x >> 16);
}

static inline uint32_t acle_pack16(int32_t lo, int32_t hi)
{
    return ((uint32_t)lo & 0xffffu) | ((uint32_t)hi << 16);
}

/* SXTB16: bytes 0 and 2, sign-extended into the two halfwords. */
static inline uint32_t __sxtb16(uint32_t x)
{
    return acle_pack16((int8_t)(uint8_t)(x & 0xffu), (int8_t)(uint8_t)((x >> 16) & 0xffu));
}

/* SXTAB16: a's halfwords plus bytes 0 and 2 of x, sign-extended, each modulo 2^16. */
static inline uint32_t __sxtab16(uint32_t a, uint32_t x)
{
    return acle_pack16(acle_lo16(a) + (int8_t)(uint8_t)(x & 0xffu),
                       acle_hi16(a) + (int8_t)(uint8_t)((x >> 16) & 0xffu));
}

/* SMLAD: c + a.lo * b.lo + a.hi * b.hi, wrapping. */
static inline int32_t __smlad(uint32_t a, uint32_t b, int32_t c)
{
    uint32_t p0 = (uint32_t)(acle_lo16(a) * acle_lo16(b));
    uint32_t p1 = (uint32_t)(acle_hi16(a) * acle_hi16(b));
    return (int32_t)((uint32_t)c + p0 + p1);
}

/* SMUAD: a.lo * b.lo + a.hi * b.hi, wrapping. */
static inline int32_t __smuad(uint32_t a, uint32_t b)
{
    return __smlad(a, b, 0);
}

/* SMLAxy: c + (x half of a) * (y half of b), wrapping (b = bottom, t = top). */
static inline int32_t __smlabb(int32_t a, int32_t b, int32_t c)
{
    return (int32_t)((uint32_t)c + (uint32_t)(acle_lo16((uint32_t)a) * acle_lo16((uint32_t)b)));
}

static inline int32_t __smlabt(int32_t a, int32_t b, int32_t c)
{
    return (int32_t)((uint32_t)c + (uint32_t)(acle_lo16((uint32_t)a) * acle_hi16((uint32_t)b)));
}

static inline int32_t __smlatb(int32_t a, int32_t b, int32_t c)
{
    return (int32_t)((uint32_t)c + (uint32_t)(acle_hi16((uint32_t)a) * acle_lo16((uint32_t)b)));
}

static inline int32_t __smlatt(int32_t a, int32_t b, int32_t c)
{
    return (int32_t)((uint32_t)c + (uint32_t)(acle_hi16((uint32_t)a) * acle_hi16((uint32_t)b)));
}

/* SSAT: x saturated to the signed range of n bits (1 <= n <= 32). */
static inline int32_t __ssat(int32_t x, uint32_t n)
{
    int64_t hi = ((int64_t)1 << (n - 1)) - 1, lo = -((int64_t)1 << (n - 1));
    return (int32_t)(x > hi ? hi : x < lo ? lo : x);
}

/* USAT: x saturated to [0, 2^n - 1] (0 <= n <= 31). */
static inline int32_t __usat(int32_t x, uint32_t n)
{
    int64_t hi = ((int64_t)1 << n) - 1;
    return (int32_t)(x > hi ? hi : x < 0 ? 0 : x);
}

#endif
