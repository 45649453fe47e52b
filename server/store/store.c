/*
 * Backend selection by URL scheme and the helpers every backend shares
 * (per-thread error messages, freeing records).
 */
#include "store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const store_ops sqlite_store_ops;
#ifdef TMO_HAVE_POSTGRES /* built when libpq is found (server/CMakeLists.txt, TMO_POSTGRES) */
extern const store_ops postgres_store_ops, postgresql_store_ops;
#endif

static const store_ops *const backends[] = {
    &sqlite_store_ops,
#ifdef TMO_HAVE_POSTGRES
    &postgres_store_ops,
    &postgresql_store_ops,
#endif
};

static _Thread_local char last_error[512];

const char *store_error(void)
{
    return last_error;
}

int store_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return ST_ERROR;
}

store *store_open(const char *url, char *err, size_t err_len)
{
    const char *colon = strchr(url, ':');
    if (colon == NULL) {
        snprintf(err, err_len, "database URL '%s' has no scheme (expected sqlite:PATH)", url);
        return NULL;
    }
    size_t scheme_len = (size_t)(colon - url);
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        const store_ops *ops = backends[i];
        if (strlen(ops->scheme) != scheme_len || strncmp(ops->scheme, url, scheme_len) != 0)
            continue;
        store *s = calloc(1, sizeof *s);
        if (s == NULL) {
            snprintf(err, err_len, "out of memory");
            return NULL;
        }
        s->ops = ops;
        if (ops->open(s, colon + 1) != ST_OK) {
            snprintf(err, err_len, "%s", store_error());
            free(s);
            return NULL;
        }
        return s;
    }
    char names[128] = "";
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s", i > 0 ? ", " : "", backends[i]->scheme);
    }
    snprintf(err, err_len, "unsupported database scheme '%.*s' (supported: %s)", (int)scheme_len,
             url, names);
    return NULL;
}

void store_close(store *s)
{
    if (s == NULL)
        return;
    s->ops->close(s);
    free(s);
}

void st_device_free(st_device *d)
{
    free(d->profile_json);
    free(d->status_json);
    d->profile_json = d->status_json = NULL;
}

void st_bundle_free(st_bundle *b)
{
    free(b->ops_json);
    b->ops_json = NULL;
}

void st_copy(char *dst, size_t cap, const char *src)
{
    if (cap == 0)
        return;
    size_t n = src != NULL ? strlen(src) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n > 0)
        memcpy(dst, src, n);
    dst[n] = '\0';
}
