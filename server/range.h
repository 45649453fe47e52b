/*
 * HTTP Range requests for bundle downloads (RFC 9110 section 14; docs/
 * protocol.md P-16): one byte range per request, so an interrupted device
 * download resumes where it stopped.
 */
#ifndef TMO_RANGE_H
#define TMO_RANGE_H

#include <stdint.h>

typedef struct byte_range {
    uint64_t first, last; /* inclusive */
} byte_range;

enum { RANGE_NONE = 0, RANGE_OK = 1, RANGE_UNSATISFIABLE = -1 };

/*
 * Interprets a Range header against a representation of size bytes:
 * RANGE_OK with *out for "bytes=N-", "bytes=N-M" (M clipped to the end) and
 * "bytes=-S" (the last S bytes); RANGE_UNSATISFIABLE when the range starts
 * at or past the end (or S = 0); RANGE_NONE when header is NULL, malformed
 * or asks for several ranges (the whole representation is sent, as RFC 9110
 * allows).
 */
int range_parse(const char *header, uint64_t size, byte_range *out);

/* Whether an If-Range / If-None-Match value names etag (quoted or not, or "*" for If-None-Match). */
int range_etag_matches(const char *header, const char *etag_quoted);

#endif
