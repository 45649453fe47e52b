/*
 * JSON on the wire (jansson): responses, the error envelope of P-3, and
 * typed field readers that turn a malformed request into a 400 naming the
 * field, so handlers read input in one line per field.
 */
#ifndef TMO_JSON_UTIL_H
#define TMO_JSON_UTIL_H

#include <jansson.h>
#include <stdint.h>

#include "http.h"

/* Sends body (reference stolen) as application/json with status. */
void resp_json(http_resp *r, int status, json_t *body);

/* Whether the NUL-terminated s is valid UTF-8 (no overlongs, surrogates or
 * > U+10FFFF): JSON strings must be, and answers quote request bytes. */
int utf8_valid(const char *s);

/* Sends {"error": {"code": code, "message": ...}}. */
void resp_error(http_resp *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Sends the 500 for a store failure, with the store's message. */
void resp_store_error(http_resp *r);

/* The request body as a JSON object; on failure sends 400 and returns NULL. Caller decrefs. */
json_t *req_object(const http_req *q, http_resp *r);

/*
 * Field readers: return 1 when the field is present and valid, 0 when it is
 * absent and optional (out unchanged), -1 after sending a 400 naming it.
 */
int jget_str(json_t *o, const char *key, int required, size_t max_len, const char **out,
             http_resp *r);
int jget_int(json_t *o, const char *key, int required, int64_t min, int64_t max, int64_t *out,
             http_resp *r);
/* An array of valid names (srv_name_valid), deduplicated and sorted, as compact JSON text. */
int jget_names(json_t *o, const char *key, size_t max_count, char *out, size_t out_len,
               http_resp *r);

/* Parses stored JSON text; never NULL (an empty object or array on bad input, by want_array). */
json_t *json_from_text(const char *text, int want_array);

/* Compact, key-sorted text of v (heap); NULL on failure. */
char *json_to_text(const json_t *v);

/* A query argument as an integer in [min, max], else def; -1 after a 400 for a malformed one. */
int query_int(const http_req *q, const char *name, int64_t min, int64_t max, int64_t def,
              int64_t *out, http_resp *r);

/* A path parameter as a positive id; -1 after a 404 when it is not one. */
int param_id(const http_req *q, int index, int64_t *out, http_resp *r);

#endif
