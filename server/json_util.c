/*
 * JSON helpers of the HTTP handlers (see json_util.h).
 */
#include "json_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv.h"
#include "store.h"

void resp_json(http_resp *r, int status, json_t *body)
{
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
    r->status = status;
    r->content_type = "application/json";
    if (body == NULL) {
        r->status = 500;
        return;
    }
    r->body = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (r->body == NULL)
        r->status = 500;
    else
        r->body_len = strlen(r->body);
}

/* Length of the valid UTF-8 sequence at s (1..4), 0 when there is none. */
static size_t utf8_len(const unsigned char *s)
{
    size_t n = s[0] < 0x80                    ? 1
               : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
               : s[0] >= 0xe0 && s[0] <= 0xef ? 3
               : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
                                              : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f))) ||
        (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))))
        return 0; /* overlong, surrogate or beyond U+10FFFF */
    return n;
}

int utf8_valid(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0';) {
        size_t n = utf8_len(p);
        if (n == 0)
            return 0;
        p += n;
    }
    return 1;
}

void resp_error(http_resp *r, int status, const char *code, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Messages quote request bytes (paths, names) and may be cut mid-character: JSON needs UTF-8. */
    for (unsigned char *p = (unsigned char *)msg; *p != '\0';) {
        size_t n = utf8_len(p);
        if (n == 0)
            *p++ = '?';
        else
            p += n;
    }
    resp_json(r, status, json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
}

void resp_store_error(http_resp *r)
{
    char msg[120];
    srv_store_error_message(msg, sizeof msg);
    resp_error(r, 500, "internal", "%s", msg);
}

json_t *req_object(const http_req *q, http_resp *r)
{
    json_error_t e;
    json_t *o = json_loadb((const char *)q->body, q->body_len, JSON_REJECT_DUPLICATES, &e);
    if (o == NULL) {
        resp_error(r, 400, "bad_request", "body is not valid JSON: %s (at byte %d)", e.text,
                   e.position);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        resp_error(r, 400, "bad_request", "body must be a JSON object");
        return NULL;
    }
    return o;
}

int jget_str(json_t *o, const char *key, int required, size_t max_len, const char **out,
             http_resp *r)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL || json_is_null(v)) {
        if (!required)
            return 0;
        resp_error(r, 400, "bad_request", "field '%s' is required", key);
        return -1;
    }
    if (!json_is_string(v) || json_string_length(v) > max_len ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        resp_error(r, 400, "bad_request", "field '%s' must be a string of at most %zu bytes", key,
                   max_len);
        return -1;
    }
    *out = json_string_value(v);
    return 1;
}

int jget_int(json_t *o, const char *key, int required, int64_t min, int64_t max, int64_t *out,
             http_resp *r)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL || json_is_null(v)) {
        if (!required)
            return 0;
        resp_error(r, 400, "bad_request", "field '%s' is required", key);
        return -1;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        resp_error(r, 400, "bad_request", "field '%s' must be an integer from %lld to %lld", key,
                   (long long)min, (long long)max);
        return -1;
    }
    *out = json_integer_value(v);
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int jget_names(json_t *o, const char *key, size_t max_count, char *out, size_t out_len,
               http_resp *r)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_array(v) || json_array_size(v) > max_count) {
        resp_error(r, 400, "bad_request", "field '%s' must be an array of at most %zu names", key,
                   max_count);
        return -1;
    }
    const char *names[64];
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(v) && i < 64; i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_string(e) || !srv_name_valid(json_string_value(e))) {
            resp_error(r, 400, "bad_request",
                       "field '%s': entries must be names of 1..64 characters [A-Za-z0-9._:/-]",
                       key);
            return -1;
        }
        names[n++] = json_string_value(e);
    }
    qsort(names, n, sizeof names[0], cmp_str);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(names[i], names[i - 1]) != 0)
            json_array_append_new(a, json_string(names[i]));
    char *text = json_to_text(a);
    json_decref(a);
    if (text == NULL || strlen(text) >= out_len) {
        free(text);
        resp_error(r, 400, "bad_request", "field '%s' is too long", key);
        return -1;
    }
    memcpy(out, text, strlen(text) + 1);
    free(text);
    return 1;
}

json_t *json_from_text(const char *text, int want_array)
{
    json_t *v = text != NULL ? json_loads(text, 0, NULL) : NULL;
    if (v == NULL || (want_array ? !json_is_array(v) : !json_is_object(v))) {
        json_decref(v);
        v = want_array ? json_array() : json_object();
    }
    return v;
}

char *json_to_text(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
}

int query_int(const http_req *q, const char *name, int64_t min, int64_t max, int64_t def,
              int64_t *out, http_resp *r)
{
    const char *t = http_query(q, name);
    *out = def;
    if (t == NULL || *t == '\0')
        return 0;
    char *end;
    errno = 0;
    long long v = strtoll(t, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) {
        resp_error(r, 400, "bad_request",
                   "query argument '%s' must be an integer from %lld to %lld", name, (long long)min,
                   (long long)max);
        return -1;
    }
    *out = v;
    return 1;
}

int param_id(const http_req *q, int index, int64_t *out, http_resp *r)
{
    const char *t = index < q->param_count ? q->params[index] : NULL;
    char *end;
    errno = 0;
    long long v = t != NULL ? strtoll(t, &end, 10) : 0;
    if (t == NULL || errno != 0 || *end != '\0' || v < 1 || t[0] == '+' || t[0] == ' ') {
        resp_error(r, 404, "not_found", "no such id '%s'", t != NULL ? t : "");
        return -1;
    }
    *out = v;
    return 0;
}
