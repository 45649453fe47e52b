/*
 * libFuzzer target for the Range / If-Range / If-None-Match parsing of
 * bundle downloads (server/range.c, docs/protocol.md P-16). Input: 8 bytes
 * of representation size (little-endian; the top bits are masked so sizes
 * stay small often), then the header value up to a NUL, then an ETag.
 * Asserts what the downloader relies on: an accepted range lies inside
 * the representation, starts where "bytes=N-" said, and a suffix range is
 * as long as asked (or the whole).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "range.h"

#include "corpus_replay.h"

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static int run(const uint8_t *data, size_t size)
{
    if (size < 8)
        return RANGE_NONE;
    uint64_t rsize = le64(data);
    if (data[7] & 0x80) /* often a small size, sometimes any */
        rsize &= 0xffff;
    char *text = malloc(size - 8 + 1);
    if (text == NULL)
        return RANGE_NONE;
    memcpy(text, data + 8, size - 8);
    text[size - 8] = '\0';
    const char *etag = text + strlen(text) < text + (size - 8) ? text + strlen(text) + 1 : "";
    byte_range br = {0xdead, 0xbeef};
    int kind = range_parse(text, rsize, &br);
    if (kind == RANGE_OK) {
        if (rsize == 0 || br.first > br.last || br.last >= rsize)
            abort();
        const char *spec = text + 6;
        while (*spec == ' ')
            spec++;
        if (*spec == '-') {
            unsigned long long want = strtoull(spec + 1, NULL, 10);
            if (br.last != rsize - 1 || br.last - br.first + 1 != (want < rsize ? want : rsize))
                abort();
        } else if (br.first != strtoull(spec, NULL, 10)) {
            abort();
        }
    } else if (kind != RANGE_NONE && kind != RANGE_UNSATISFIABLE) {
        abort();
    } else if (br.first != 0xdead || br.last != 0xbeef) {
        abort(); /* *out is only written for RANGE_OK */
    }
    /* Etags: the quoted value and the bare one both match, "*" too. */
    int m = range_etag_matches(text, etag);
    if (strcmp(text, etag) == 0 && !m)
        abort();
    size_t el = strlen(etag);
    if (m && strcmp(text, "*") != 0 && strcmp(text, etag) != 0 &&
        !(el >= 2 && strlen(text) == el - 2 && strncmp(text, etag + 1, el - 2) == 0))
        abort();
    if (range_etag_matches(NULL, etag))
        abort();
    free(text);
    return kind;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size);
    return 0;
}

int fuzz_seed_valid(const uint8_t *data, size_t size)
{
    return run(data, size) == RANGE_OK;
}
