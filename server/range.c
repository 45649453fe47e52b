/*
 * Range header parsing (see range.h).
 */
#include "range.h"

#include <string.h>

/* Parses decimal digits at *p; advances it. 0 when there are none or it overflows. */
static int number(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9')
        return 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *p = s;
    *out = v;
    return 1;
}

int range_parse(const char *header, uint64_t size, byte_range *out)
{
    if (header == NULL || strncmp(header, "bytes=", 6) != 0 || strchr(header, ',') != NULL)
        return RANGE_NONE;
    const char *p = header + 6;
    while (*p == ' ')
        p++;
    uint64_t first = 0, last = 0;
    if (*p == '-') { /* suffix: the last N bytes */
        p++;
        if (!number(&p, &last) || *p != '\0')
            return RANGE_NONE;
        if (last == 0 || size == 0)
            return RANGE_UNSATISFIABLE;
        out->first = last >= size ? 0 : size - last;
        out->last = size - 1;
        return RANGE_OK;
    }
    if (!number(&p, &first) || *p != '-')
        return RANGE_NONE;
    p++;
    int has_last = number(&p, &last);
    if (*p != '\0' || (has_last && last < first))
        return RANGE_NONE;
    if (first >= size)
        return RANGE_UNSATISFIABLE;
    out->first = first;
    out->last = !has_last || last >= size ? size - 1 : last;
    return RANGE_OK;
}

int range_etag_matches(const char *header, const char *etag_quoted)
{
    if (header == NULL)
        return 0;
    if (strcmp(header, "*") == 0 || strcmp(header, etag_quoted) == 0)
        return 1;
    size_t n = strlen(etag_quoted); /* also accept the bare value */
    return n >= 2 && strlen(header) == n - 2 && strncmp(header, etag_quoted + 1, n - 2) == 0;
}
