/*
 * The update journal's record codec: the whole engine state as one
 * fixed-size record with a sequence number and a CRC-32, and the field
 * checks a record must pass beyond its CRC. Byte layout in journal_format.h
 * and docs/update-engine.md ("Journal record"); where records live in the
 * journal area is journal_log.c's job.
 */
#include <string.h>

#include "journal_format.h"
#include "update_priv.h"
#include "../diag.h"

uint32_t journal_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void encode_slot(const tmo_update_slot *s, uint8_t *p)
{
    p[JS_STATE] = s->state;
    p[JS_FLAGS] = s->has_digest ? JS_FLAG_HAS_DIGEST : 0;
    p[JS_NAME_LEN] = s->name_len;
    put32(p + JS_SIZE, s->size);
    put32(p + JS_WRITTEN, s->written);
    put64(p + JS_TAG, s->tag);
    put64(p + JS_COUNTER, s->counter);
    put16(p + JS_VERSION, s->version.major);
    put16(p + JS_VERSION + 2, s->version.minor);
    put16(p + JS_VERSION + 4, s->version.patch);
    memcpy(p + JS_DIGEST, s->digest, TMO_SHA256_LEN);
    memcpy(p + JS_NAME, s->name, s->name_len);
}

void journal_encode(const tmo_update_state *st, uint8_t rec[TMO_JOURNAL_RECORD_LEN])
{
    memset(rec, 0, TMO_JOURNAL_RECORD_LEN);
    memcpy(rec + JR_MAGIC, TMO_JOURNAL_MAGIC, 4);
    put16(rec + JR_VERSION, TMO_JOURNAL_VERSION);
    put16(rec + JR_LENGTH, TMO_JOURNAL_RECORD_LEN);
    put32(rec + JR_SEQ, st->seq);
    rec[JR_ACTIVE] = st->active;
    rec[JR_TRIAL_BOOTS] = st->trial_boots;
    for (int i = 0; i < TMO_UPDATE_SLOTS; i++)
        encode_slot(&st->slot[i], rec + JR_SLOTS + i * JS_LEN);
    put32(rec + JR_CRC, journal_crc32(rec, JR_CRC));
}

static int zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* Field checks beyond the CRC: a record this code wrote always passes them. */
static int decode_slot(const uint8_t *p, tmo_update_slot *s)
{
    memset(s, 0, sizeof *s);
    s->state = p[JS_STATE];
    s->has_digest = (p[JS_FLAGS] & JS_FLAG_HAS_DIGEST) != 0;
    s->name_len = p[JS_NAME_LEN];
    s->size = get32(p + JS_SIZE);
    s->written = get32(p + JS_WRITTEN);
    s->tag = get64(p + JS_TAG);
    s->counter = get64(p + JS_COUNTER);
    s->version.major = get16(p + JS_VERSION);
    s->version.minor = get16(p + JS_VERSION + 2);
    s->version.patch = get16(p + JS_VERSION + 4);
    memcpy(s->digest, p + JS_DIGEST, TMO_SHA256_LEN);
    if (s->state > TMO_SLOT_GOOD || (p[JS_FLAGS] & ~JS_FLAG_HAS_DIGEST) != 0 ||
        p[JS_RESERVED0] != 0 || s->name_len > TMO_BUNDLE_MAX_NAME || s->written > s->size ||
        get16(p + JS_RESERVED1) != 0 ||
        !zero(p + JS_NAME + s->name_len, TMO_BUNDLE_MAX_NAME - s->name_len) ||
        !zero(p + JS_RESERVED2, 4))
        return 0;
    memcpy(s->name, p + JS_NAME, s->name_len);
    s->name[s->name_len] = '\0';
    return 1;
}

tmo_err journal_decode(const uint8_t rec[TMO_JOURNAL_RECORD_LEN], tmo_update_state *st)
{
    if (!tmo_bytes_equal(rec + JR_MAGIC, TMO_JOURNAL_MAGIC, 4) ||
        get16(rec + JR_VERSION) != TMO_JOURNAL_VERSION ||
        get16(rec + JR_LENGTH) != TMO_JOURNAL_RECORD_LEN ||
        get32(rec + JR_CRC) != journal_crc32(rec, JR_CRC))
        return TMO_PORT_ECORRUPT;
    memset(st, 0, sizeof *st);
    st->seq = get32(rec + JR_SEQ);
    st->active = rec[JR_ACTIVE];
    st->trial_boots = rec[JR_TRIAL_BOOTS];
    if (st->seq == 0 || (st->active >= TMO_UPDATE_SLOTS && st->active != TMO_UPDATE_NO_SLOT) ||
        get16(rec + JR_RESERVED0) != 0 || !zero(rec + JR_RESERVED1, JR_RESERVED1_LEN))
        return TMO_PORT_ECORRUPT;
    for (int i = 0; i < TMO_UPDATE_SLOTS; i++)
        if (!decode_slot(rec + JR_SLOTS + i * JS_LEN, &st->slot[i]))
            return TMO_PORT_ECORRUPT;
    return TMO_OK;
}
