/*
 * Deployment creation and rollback (see deploy_create.h).
 */
#include "deploy_create.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_pack.h"
#include "deploy_ctl.h"
#include "fit.h"
#include "json_util.h"
#include "waves.h"

#define MAX_VARIANTS 64

static void fail(deploy_outcome *out, int status, const char *fmt, const char *arg)
{
    out->status = status;
    snprintf(out->message, sizeof out->message, fmt, arg);
}

static void store_failed(deploy_outcome *out)
{
    out->status = 500;
    srv_store_error_message(out->message, sizeof out->message);
}

/* ---- variants ---- */

typedef struct variants {
    fit_variant v[MAX_VARIANTS];
    size_t n;
} variants;

static int variant_visit(void *ctx, const st_bundle *b)
{
    variants *vs = ctx;
    if (vs->n == MAX_VARIANTS)
        return 1;
    fit_variant *v = &vs->v[vs->n++];
    memset(v, 0, sizeof *v);
    v->bundle_id = b->id;
    v->rank = b->rank;
    v->arena_bytes = b->arena_bytes;
    v->flash_bytes = b->flash_bytes;
    host_parse_semver(b->min_runtime, &v->min_runtime);
    fit_ops_from_json(b->ops_json, &v->ops);
    json_t *a = json_from_text(b->arches_json, 1);
    for (size_t i = 0; i < json_array_size(a) && v->arch_count < FIT_MAX_ARCHES; i++)
        st_copy(v->arches[v->arch_count++], FIT_ARCH_LEN + 1,
                json_string_value(json_array_get(a, i)));
    json_decref(a);
    return 0;
}

/* ---- target devices ---- */

typedef struct dev_target {
    char id[ST_DEVICE_ID_LEN + 1];
    char active_digest[ST_DIGEST_LEN + 1];
    fit_device fit;
    int profile_ok;
    int variant;    /* index into variants, -1 skipped */
    uint64_t order; /* rollout order key */
} dev_target;

typedef struct targets {
    dev_target *t;
    size_t n, cap;
    int oom;
} targets;

static int target_visit(void *ctx, const st_device *d)
{
    targets *ts = ctx;
    if (ts->n == ts->cap) {
        size_t cap = ts->cap ? ts->cap * 2 : 256;
        dev_target *p = realloc(ts->t, cap * sizeof *p);
        if (p == NULL) {
            ts->oom = 1;
            return 1;
        }
        ts->t = p;
        ts->cap = cap;
    }
    dev_target *t = &ts->t[ts->n++];
    memset(t, 0, sizeof *t);
    memcpy(t->id, d->id, sizeof t->id);
    memcpy(t->active_digest, d->active_digest, sizeof t->active_digest);
    t->profile_ok = fit_device_from_json(d->profile_json, &t->fit) == 0;
    return 0;
}

static int by_order(const void *a, const void *b)
{
    const dev_target *x = *(const dev_target *const *)a, *y = *(const dev_target *const *)b;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* Bundle id of a digest, with a small cache: most devices of a fleet run the same few bundles. */
typedef struct digest_cache {
    char digest[16][ST_DIGEST_LEN + 1];
    int64_t id[16];
    size_t n, next;
} digest_cache;

static int64_t bundle_id_of(store *st, digest_cache *c, const char *digest)
{
    if (digest[0] == '\0')
        return 0;
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->digest[i], digest) == 0)
            return c->id[i];
    st_bundle b;
    int64_t id = 0;
    if (ST(st, bundle_by_digest, digest, &b) == ST_OK) {
        id = b.id;
        st_bundle_free(&b);
    }
    size_t slot = c->n < 16 ? c->n++ : (c->next++ % 16);
    st_copy(c->digest[slot], sizeof c->digest[slot], digest);
    c->id[slot] = id;
    return id;
}

static int insert_assignments(store *st, st_deployment *d, targets *ts, const variants *vs,
                              const int *pct, size_t k, int64_t now)
{
    dev_target **order = malloc((ts->n ? ts->n : 1) * sizeof *order);
    st_assignment *rows = calloc(ts->n ? ts->n : 1, sizeof *rows);
    if (order == NULL || rows == NULL) {
        free(order);
        free(rows);
        return store_fail("out of memory");
    }
    size_t fitting = 0, n = 0;
    for (size_t i = 0; i < ts->n; i++)
        if (ts->t[i].variant >= 0) {
            ts->t[i].order = waves_order_key(d->id, ts->t[i].id);
            order[fitting++] = &ts->t[i];
        }
    qsort(order, fitting, sizeof *order, by_order);
    digest_cache cache = {.n = 0};
    for (size_t i = 0; i < fitting; i++) {
        dev_target *t = order[i];
        st_assignment *a = &rows[n++];
        *a = (st_assignment){.deployment_id = d->id, .updated_at = now};
        st_copy(a->device_id, sizeof a->device_id, t->id);
        a->wave = waves_of_position(i, fitting, pct, k);
        a->bundle_id = vs->v[t->variant].bundle_id;
        a->prev_bundle_id = bundle_id_of(st, &cache, t->active_digest);
        st_copy(a->state, sizeof a->state, DS_PENDING);
    }
    free(order);
    for (size_t i = 0; i < ts->n; i++) {
        dev_target *t = &ts->t[i];
        if (t->variant >= 0)
            continue;
        st_assignment *a = &rows[n++];
        *a = (st_assignment){.deployment_id = d->id, .wave = -1, .updated_at = now};
        st_copy(a->device_id, sizeof a->device_id, t->id);
        a->prev_bundle_id = bundle_id_of(st, &cache, t->active_digest);
        st_copy(a->state, sizeof a->state, DS_SKIPPED);
        if (!t->profile_ok)
            st_copy(
                a->reason, sizeof a->reason,
                "capability profile incomplete (arch, runtime_version, ram_bytes, flash_bytes)");
        else
            fit_pick(&t->fit, vs->v, vs->n, a->reason, sizeof a->reason);
    }
    int rc = ST(st, assignments_insert, rows, n); /* one bulk write (COPY on PostgreSQL) */
    free(rows);
    return rc;
}

static void build(store *st, const deploy_request *rq, variants *vs, targets *ts,
                  deploy_outcome *out)
{
    int64_t now = srv_now_ms();
    if (ST(st, bundle_list, rq->model, rq->version, variant_visit, vs) != ST_OK)
        return;
    if (vs->n == 0) {
        out->status = 404;
        snprintf(out->message, sizeof out->message,
                 "no bundle of model %s version %s in the registry", rq->model, rq->version);
        return;
    }
    st_device_filter f = {rq->group, rq->tags_json, rq->exclude_json, 0, 0, 1}; /* not revoked */
    if (ST(st, device_list, &f, target_visit, ts) != ST_OK)
        return;
    if (ts->oom) {
        store_fail("out of memory");
        return;
    }
    if (ts->n == 0) {
        fail(out, 400, "%s", "the target matches no enrolled device");
        return;
    }
    st_deployment *d = &out->dep;
    memset(d, 0, sizeof *d);
    st_copy(d->kind, sizeof d->kind, "rollout");
    st_copy(d->model, sizeof d->model, rq->model);
    st_copy(d->version, sizeof d->version, rq->version);
    json_t *target = json_object();
    if (rq->group != NULL)
        json_object_set_new(target, "group", json_string(rq->group));
    if (rq->tags_json != NULL)
        json_object_set_new(target, "tags", json_from_text(rq->tags_json, 1));
    if (rq->exclude_json != NULL)
        json_object_set_new(target, "exclude_tags", json_from_text(rq->exclude_json, 1));
    char *text = json_to_text(target);
    json_decref(target);
    st_copy(d->target_json, sizeof d->target_json, text);
    free(text);
    json_t *w = json_array();
    for (size_t i = 0; i < rq->wave_count; i++)
        json_array_append_new(w, json_integer(rq->waves[i]));
    text = json_to_text(w);
    json_decref(w);
    st_copy(d->waves_json, sizeof d->waves_json, text);
    free(text);
    d->soak_ms = rq->soak_ms;
    d->max_failures = rq->max_failures;
    st_copy(d->state, sizeof d->state, DEP_ACTIVE);
    d->created_at = d->updated_at = now;
    st_copy(d->created_by, sizeof d->created_by, rq->created_by);
    if (ST(st, deployment_insert, d) != ST_OK ||
        (rq->gate_json != NULL && ST(st, gate_set, d->id, rq->gate_json) != ST_OK))
        return;
    char unused[8];
    for (size_t i = 0; i < ts->n; i++)
        ts->t[i].variant =
            ts->t[i].profile_ok ? fit_pick(&ts->t[i].fit, vs->v, vs->n, unused, sizeof unused) : -1;
    if (insert_assignments(st, d, ts, vs, rq->waves, rq->wave_count, now) != ST_OK ||
        deploy_advance(st, d->id, now) != ST_OK || ST(st, deployment_get, d->id, d) != ST_OK)
        return;
    out->message[0] = '\0';
    out->status = 201;
}

void deploy_create(store *st, const deploy_request *rq, deploy_outcome *out)
{
    memset(out, 0, sizeof *out);
    variants *vs = calloc(1, sizeof *vs);
    targets ts = {NULL, 0, 0, 0};
    if (vs == NULL) {
        fail(out, 500, "%s", "out of memory");
        return;
    }
    if (ST(st, begin, ST_TX_EXCLUSIVE) != ST_OK) {
        free(vs);
        store_failed(out);
        return;
    }
    build(st, rq, vs, &ts, out);
    if (out->status == 201 && ST0(st, commit) != ST_OK)
        out->status = 0;
    if (out->status != 201)
        ST0(st, rollback);
    if (out->status == 0)
        store_failed(out);
    free(ts.t);
    free(vs);
}
