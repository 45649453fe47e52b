/*
 * The update journal's record, pinned byte by byte (STYLE.md 12, MCUboot's
 * image.h): every field's offset, each asserted to follow the one before, so
 * a change to the layout cannot compile without a change here and in
 * docs/update-engine.md ("Journal record"). All integers little-endian.
 * Record length, magic and version are public (TMO_JOURNAL_* in update.h).
 */
#ifndef TMO_JOURNAL_FORMAT_H
#define TMO_JOURNAL_FORMAT_H

#include "tinymlops/update.h"

/* Record: header, two slots, reserved bytes, CRC-32 of everything before it. */
enum {
    JR_MAGIC = 0,        /* 4: "TMUJ" */
    JR_VERSION = 4,      /* 2: TMO_JOURNAL_VERSION */
    JR_LENGTH = 6,       /* 2: TMO_JOURNAL_RECORD_LEN */
    JR_SEQ = 8,          /* 4: sequence number, >= 1 */
    JR_ACTIVE = 12,      /* 1: active slot, or TMO_UPDATE_NO_SLOT */
    JR_TRIAL_BOOTS = 13, /* 1 */
    JR_RESERVED0 = 14,   /* 2: zero */
    JR_SLOTS = 16,       /* TMO_UPDATE_SLOTS x JS_LEN */
    JR_RESERVED1 = 288,  /* 12: zero */
    JR_CRC = 300,        /* 4: CRC-32 (IEEE, as zlib) of bytes [0, JR_CRC) */
    JR_RESERVED1_LEN = JR_CRC - JR_RESERVED1
};

/* Slot inside a record (at JR_SLOTS + i * JS_LEN). */
enum {
    JS_STATE = 0,       /* 1: tmo_slot_state */
    JS_FLAGS = 1,       /* 1: bit 0 digest known, others zero */
    JS_NAME_LEN = 2,    /* 1: 0..TMO_BUNDLE_MAX_NAME */
    JS_RESERVED0 = 3,   /* 1: zero */
    JS_SIZE = 4,        /* 4 */
    JS_WRITTEN = 8,     /* 4: <= size */
    JS_TAG = 12,        /* 8 */
    JS_COUNTER = 20,    /* 8 */
    JS_VERSION = 28,    /* 6: u16 major, minor, patch */
    JS_RESERVED1 = 34,  /* 2: zero */
    JS_DIGEST = 36,     /* 32: SHA-256 of the bundle */
    JS_NAME = 68,       /* 64: model name, zero padded */
    JS_RESERVED2 = 132, /* 4: zero */
    JS_LEN = 136,
    JS_FLAG_HAS_DIGEST = 0x01
};

_Static_assert(JR_VERSION == JR_MAGIC + 4 && JR_LENGTH == JR_VERSION + 2 && JR_SEQ == JR_LENGTH + 2,
               "journal header layout");
_Static_assert(JR_ACTIVE == JR_SEQ + 4 && JR_TRIAL_BOOTS == JR_ACTIVE + 1 &&
                   JR_RESERVED0 == JR_TRIAL_BOOTS + 1 && JR_SLOTS == JR_RESERVED0 + 2,
               "journal header layout");
_Static_assert(JR_RESERVED1 == JR_SLOTS + TMO_UPDATE_SLOTS * JS_LEN && JR_RESERVED1_LEN == 12 &&
                   TMO_JOURNAL_RECORD_LEN == JR_CRC + 4,
               "journal record layout");
_Static_assert(JS_FLAGS == JS_STATE + 1 && JS_NAME_LEN == JS_FLAGS + 1 &&
                   JS_RESERVED0 == JS_NAME_LEN + 1 && JS_SIZE == JS_RESERVED0 + 1 &&
                   JS_WRITTEN == JS_SIZE + 4 && JS_TAG == JS_WRITTEN + 4 &&
                   JS_COUNTER == JS_TAG + 8 && JS_VERSION == JS_COUNTER + 8 &&
                   JS_RESERVED1 == JS_VERSION + 6 && JS_DIGEST == JS_RESERVED1 + 2,
               "journal slot layout");
_Static_assert(JS_NAME == JS_DIGEST + TMO_SHA256_LEN &&
                   JS_RESERVED2 == JS_NAME + TMO_BUNDLE_MAX_NAME && JS_LEN == JS_RESERVED2 + 4,
               "journal slot layout");
_Static_assert(TMO_JOURNAL_RECORD_LEN % 8 == 0 && TMO_JOURNAL_RECORD_LEN % 16 == 0,
               "a record fills whole 8- and 16-byte flash words without padding");

#endif
