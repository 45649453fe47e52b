/*
 * Variant fitting (see fit.h).
 */
#include "fit.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_pack.h"
#include "tinymlops/model.h"

/* Operator names sorted for binary search, built once from the runtime's table. */
typedef struct op_name {
    const char *name;
    int code;
} op_name;

static op_name op_index[256];
static size_t op_index_len;
static pthread_once_t op_once = PTHREAD_ONCE_INIT;

static int cmp_op(const void *a, const void *b)
{
    return strcmp(((const op_name *)a)->name, ((const op_name *)b)->name);
}

static void build_index(void)
{
    for (int code = 0; code < 256; code++) {
        const char *n = tmo_builtin_name(code);
        if (strcmp(n, "UNKNOWN") != 0)
            op_index[op_index_len++] = (op_name){n, code};
    }
    qsort(op_index, op_index_len, sizeof op_index[0], cmp_op);
}

int fit_op_code(const char *name)
{
    pthread_once(&op_once, build_index);
    op_name key = {name, 0};
    const op_name *hit = bsearch(&key, op_index, op_index_len, sizeof op_index[0], cmp_op);
    return hit != NULL ? hit->code : -1;
}

static void ops_from_array(json_t *a, fit_ops *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; json_is_array(a) && i < json_array_size(a); i++) {
        const char *name = json_string_value(json_array_get(a, i));
        int code = name != NULL ? fit_op_code(name) : -1;
        if (code >= 0)
            out->bits[code / 64] |= 1ull << (code % 64);
    }
}

void fit_ops_from_json(const char *json_text, fit_ops *out)
{
    json_t *a = json_text != NULL ? json_loads(json_text, 0, NULL) : NULL;
    ops_from_array(a, out);
    json_decref(a);
}

int fit_device_from_json(const char *profile_json, fit_device *out)
{
    memset(out, 0, sizeof *out);
    json_t *p = profile_json != NULL ? json_loads(profile_json, 0, NULL) : NULL;
    const char *arch = json_string_value(json_object_get(p, "arch"));
    const char *rt = json_string_value(json_object_get(p, "runtime_version"));
    json_t *ram = json_object_get(p, "ram_bytes"), *flash = json_object_get(p, "flash_bytes");
    int ok = arch != NULL && strlen(arch) <= FIT_ARCH_LEN && rt != NULL &&
             host_parse_semver(rt, &out->runtime) == 0 && json_is_integer(ram) &&
             json_is_integer(flash);
    if (ok) {
        memcpy(out->arch, arch, strlen(arch) + 1);
        out->ram_bytes = json_integer_value(ram);
        out->flash_bytes = json_integer_value(flash);
        ops_from_array(json_object_get(p, "ops"), &out->ops);
    }
    json_decref(p);
    return ok ? 0 : -1;
}

int fit_semver_cmp(tmo_semver a, tmo_semver b)
{
    if (a.major != b.major)
        return a.major < b.major ? -1 : 1;
    if (a.minor != b.minor)
        return a.minor < b.minor ? -1 : 1;
    if (a.patch != b.patch)
        return a.patch < b.patch ? -1 : 1;
    return 0;
}

static int arch_listed(const fit_device *d, const fit_variant *v)
{
    for (size_t i = 0; i < v->arch_count; i++)
        if (strcmp(v->arches[i], d->arch) == 0)
            return 1;
    return 0;
}

int fit_check(const fit_device *d, const fit_variant *v, char *why, size_t why_len)
{
    why[0] = '\0';
    if (v->arch_count > 0 && !arch_listed(d, v)) {
        int k = snprintf(why, why_len, "arch %s not in [", d->arch);
        for (size_t i = 0; i < v->arch_count && k > 0 && (size_t)k < why_len; i++)
            k += snprintf(why + k, why_len - (size_t)k, "%s%s", i ? ", " : "", v->arches[i]);
        if (k > 0 && (size_t)k < why_len)
            snprintf(why + k, why_len - (size_t)k, "]");
        return 0;
    }
    if (fit_semver_cmp(d->runtime, v->min_runtime) < 0) {
        snprintf(why, why_len, "runtime %u.%u.%u < required %u.%u.%u", d->runtime.major,
                 d->runtime.minor, d->runtime.patch, v->min_runtime.major, v->min_runtime.minor,
                 v->min_runtime.patch);
        return 0;
    }
    if (v->arena_bytes > d->ram_bytes) {
        snprintf(why, why_len, "arena %lld > ram %lld", (long long)v->arena_bytes,
                 (long long)d->ram_bytes);
        return 0;
    }
    if (v->flash_bytes > d->flash_bytes) {
        snprintf(why, why_len, "model %lld > flash %lld", (long long)v->flash_bytes,
                 (long long)d->flash_bytes);
        return 0;
    }
    for (int w = 0; w < 4; w++) {
        uint64_t missing = v->ops.bits[w] & ~d->ops.bits[w];
        if (missing != 0) {
            int code = w * 64 + __builtin_ctzll(missing);
            snprintf(why, why_len, "operator %s not supported", tmo_builtin_name(code));
            return 0;
        }
    }
    return 1;
}

/* 1 when a is a better choice than b (both fit). */
static int better(const fit_device *d, const fit_variant *a, const fit_variant *b)
{
    if (a->rank != b->rank)
        return a->rank > b->rank;
    int a_specific = arch_listed(d, a), b_specific = arch_listed(d, b);
    if (a_specific != b_specific)
        return a_specific;
    if (a->arena_bytes != b->arena_bytes)
        return a->arena_bytes > b->arena_bytes;
    return a->bundle_id < b->bundle_id;
}

int fit_pick(const fit_device *d, const fit_variant *v, size_t n, char *reason, size_t reason_len)
{
    int best = -1;
    size_t used = 0;
    reason[0] = '\0';
    if (n == 0)
        snprintf(reason, reason_len, "no variant");
    for (size_t i = 0; i < n; i++) {
        char why[160];
        if (fit_check(d, &v[i], why, sizeof why)) {
            if (best < 0 || better(d, &v[i], &v[best]))
                best = (int)i;
        } else if (used < reason_len) {
            int k = snprintf(reason + used, reason_len - used, "%sbundle %lld: %s",
                             used ? "; " : "no variant fits: ", (long long)v[i].bundle_id, why);
            used += k > 0 ? (size_t)k : 0;
        }
    }
    if (best >= 0)
        reason[0] = '\0';
    return best;
}
