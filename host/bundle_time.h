/*
 * Times in bundles and certificates are Unix seconds (UTC); people type and
 * read ISO 8601. Conversions here, without the C library's time zone state.
 */
#ifndef TMO_HOST_BUNDLE_TIME_H
#define TMO_HOST_BUNDLE_TIME_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parses "YYYY-MM-DD" (midnight UTC), "YYYY-MM-DDTHH:MM:SSZ", or "@SECONDS".
 * Years 1970..9999. 0 on success.
 */
int host_parse_time(const char *text, uint64_t *unix_seconds);

/* Formats as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). */
void host_format_time(uint64_t unix_seconds, char *buf, size_t len);

#endif
