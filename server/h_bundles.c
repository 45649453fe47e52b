/*
 * The model registry: upload a bundle (verified against the configured
 * root keys with the same checks a device runs, minus its own target and
 * counter), list models, versions and variants, show one bundle, and set
 * a variant's rank.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_check.h"
#include "bundle_crypto.h"
#include "devauth.h"
#include "fit.h"
#include "handlers.h"
#include "json_util.h"
#include "tinymlops/model.h"

json_t *bundle_json(const st_bundle *b);

json_t *bundle_json(const st_bundle *b)
{
    return json_pack(
        "{s:I,s:s,s:s,s:s,s:I,s:o,s:s,s:I,s:I,s:o,s:I,s:b,s:s,s:I,s:I,s:I,s:I}", "id",
        (json_int_t)b->id, "digest", b->digest, "model", b->model, "version", b->version, "counter",
        (json_int_t)b->counter, "arches", json_from_text(b->arches_json, 1), "min_runtime",
        b->min_runtime, "arena_bytes", (json_int_t)b->arena_bytes, "flash_bytes",
        (json_int_t)b->flash_bytes, "ops", json_from_text(b->ops_json, 1), "size",
        (json_int_t)b->size, "encrypted", b->encrypted, "signer_id", b->signer_id, "created_at",
        (json_int_t)b->created_at, "expires_at", (json_int_t)b->expires_at, "uploaded_at",
        (json_int_t)b->uploaded_at, "rank", (json_int_t)b->rank);
}

/* Registry metadata from a verified manifest. */
static void from_manifest(const tmo_bundle *vb, st_bundle *b)
{
    const tmo_bundle_manifest *m = &vb->manifest;
    st_copy(b->model, sizeof b->model, "");
    memcpy(b->model, m->name, m->name_len < ST_NAME_LEN ? m->name_len : ST_NAME_LEN);
    snprintf(b->version, sizeof b->version, "%u.%u.%u", m->version.major, m->version.minor,
             m->version.patch);
    snprintf(b->min_runtime, sizeof b->min_runtime, "%u.%u.%u", m->min_runtime.major,
             m->min_runtime.minor, m->min_runtime.patch);
    b->counter = (int64_t)m->counter;
    b->arena_bytes = (int64_t)m->arena_bytes;
    b->flash_bytes = (int64_t)m->flash_bytes;
    b->encrypted = m->encryption != TMO_ENC_NONE;
    b->created_at = (int64_t)m->created * 1000;
    b->expires_at = m->has_expires ? (int64_t)m->expires * 1000 : 0;
    devauth_hex(vb->signer_id, TMO_KEY_ID_LEN, b->signer_id);
    json_t *arches = json_array(), *ops = json_array();
    for (uint32_t i = 0; i < m->arch_count; i++) {
        uint32_t len = 0;
        const char *a = tmo_bundle_manifest_arch(m, i, &len);
        if (a != NULL)
            json_array_append_new(arches, json_stringn(a, len));
    }
    for (uint32_t i = 0; i < m->op_count; i++)
        json_array_append_new(
            ops, json_string(tmo_builtin_name(m->ops_le[2 * i] | m->ops_le[2 * i + 1] << 8)));
    char *text = json_to_text(arches);
    st_copy(b->arches_json, sizeof b->arches_json, text);
    free(text);
    b->ops_json = json_to_text(ops);
    json_decref(arches);
    json_decref(ops);
}

HANDLER(h_bundle_upload)
{
    if (q->body_len == 0) {
        resp_error(r, 400, "bad_request",
                   "the body must be the bundle file (application/octet-stream)");
        return;
    }
    if (s->root_count == 0) {
        resp_error(r, 422, "bundle_rejected",
                   "the server has no root keys to verify bundles (start it with --root-key)");
        return;
    }
    /* Authenticity and integrity only: the known-answer tests are judged by the devices that
       run the model (P-17, P-18); `tinymlops bundle verify` runs them on a host before a push. */
    host_verify_in in = {.roots = (const uint8_t(*)[TMO_P256_PUBLIC_KEY_LEN])s->roots,
                         .root_count = s->root_count,
                         .skip_self_test = 1};
    host_verify_out out;
    srv_crypto_lock();
    tmo_err e = host_bundle_verify(q->body, q->body_len, &in, &out);
    srv_crypto_unlock();
    if (e != TMO_OK) {
        resp_error(r, 422, "bundle_rejected", "%s", out.message);
        host_verify_free(&out);
        return;
    }
    st_bundle b;
    memset(&b, 0, sizeof b);
    from_manifest(out.bundle, &b);
    host_verify_free(&out);
    uint8_t h[32];
    char hex[65];
    hb_sha256(q->body, q->body_len, h);
    devauth_hex(h, sizeof h, hex);
    snprintf(b.digest, sizeof b.digest, "sha256:%s", hex);
    b.uploaded_at = srv_now_ms();
    int rc = ST(s->st, bundle_insert, &b, q->body, q->body_len);
    st_bundle_free(&b);
    if (rc != ST_OK && rc != ST_CONFLICT) {
        resp_store_error(r);
        return;
    }
    st_bundle stored;
    if (ST(s->st, bundle_get, b.id, &stored) != ST_OK) {
        resp_store_error(r);
        return;
    }
    json_t *body = bundle_json(&stored);
    json_object_set_new(body, "existing", json_boolean(rc == ST_CONFLICT));
    st_bundle_free(&stored);
    resp_json(r, rc == ST_OK ? 201 : 200, body);
}

static int list_visit(void *ctx, const st_bundle *b)
{
    json_array_append_new(ctx, bundle_json(b));
    return 0;
}

HANDLER(h_bundles_list)
{
    json_t *items = json_array();
    if (ST(s->st, bundle_list, http_query(q, "model"), http_query(q, "version"), list_visit,
           items) != ST_OK) {
        json_decref(items);
        resp_store_error(r);
        return;
    }
    resp_json(r, 200, json_pack("{s:o}", "bundles", items));
}

HANDLER(h_bundle_show)
{
    int64_t id;
    st_bundle b;
    if (param_id(q, 0, &id, r) != 0)
        return;
    int rc = ST(s->st, bundle_get, id, &b);
    if (rc == ST_NOT_FOUND)
        resp_error(r, 404, "not_found", "no bundle %lld", (long long)id);
    else if (rc != ST_OK)
        resp_store_error(r);
    else {
        resp_json(r, 200, bundle_json(&b));
        st_bundle_free(&b);
    }
}

HANDLER(h_bundle_patch)
{
    int64_t id, rank;
    if (param_id(q, 0, &id, r) != 0)
        return;
    json_t *in = req_object(q, r);
    if (in == NULL)
        return;
    int got = jget_int(in, "rank", 1, -1000000, 1000000, &rank, r);
    json_decref(in);
    if (got < 0)
        return;
    int rc = ST(s->st, bundle_set_rank, id, rank);
    if (rc == ST_NOT_FOUND)
        resp_error(r, 404, "not_found", "no bundle %lld", (long long)id);
    else if (rc != ST_OK)
        resp_store_error(r);
    else
        h_bundle_show(s, q, r);
}

/* ---- models: bundles grouped by name and version ---- */

static int model_visit(void *ctx, const st_bundle *b)
{
    json_t *models = ctx;
    json_t *m = json_object_get(models, b->model);
    if (m == NULL) {
        m = json_pack("{s:s,s:{}}", "name", b->model, "versions");
        json_object_set_new(models, b->model, m);
    }
    json_t *versions = json_object_get(m, "versions"), *v = json_object_get(versions, b->version);
    if (v == NULL) {
        v = json_pack("{s:s,s:I,s:[]}", "version", b->version, "counter", (json_int_t)b->counter,
                      "bundle_ids");
        json_object_set_new(versions, b->version, v);
    }
    json_array_append_new(json_object_get(v, "bundle_ids"), json_integer(b->id));
    return 0;
}

static int by_semver(const void *a, const void *b)
{
    tmo_semver x = {0, 0, 0}, y = {0, 0, 0};
    sscanf(json_string_value(json_object_get(*(json_t *const *)a, "version")), "%hu.%hu.%hu",
           &x.major, &x.minor, &x.patch);
    sscanf(json_string_value(json_object_get(*(json_t *const *)b, "version")), "%hu.%hu.%hu",
           &y.major, &y.minor, &y.patch);
    return fit_semver_cmp(x, y);
}

HANDLER(h_models_list)
{
    json_t *models = json_object();
    if (ST(s->st, bundle_list, http_query(q, "model"), NULL, model_visit, models) != ST_OK) {
        json_decref(models);
        resp_store_error(r);
        return;
    }
    json_t *out = json_array();
    const char *name;
    json_t *m;
    json_object_foreach(models, name, m)
    {
        json_t *versions = json_object_get(m, "versions"), *list[256];
        size_t n = 0;
        const char *vname;
        json_t *v;
        json_object_foreach(versions, vname, v) if (n < 256) list[n++] = v;
        qsort(list, n, sizeof list[0], by_semver);
        json_t *sorted = json_array();
        for (size_t i = 0; i < n; i++) {
            json_object_set_new(
                list[i], "variants",
                json_integer((json_int_t)json_array_size(json_object_get(list[i], "bundle_ids"))));
            json_array_append(sorted, list[i]);
        }
        json_array_append_new(out, json_pack("{s:s,s:o}", "name", name, "versions", sorted));
    }
    json_decref(models);
    resp_json(r, 200, json_pack("{s:o}", "models", out));
}
