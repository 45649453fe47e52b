/*
 * Checks of an authenticated manifest against this device [B-7.3 - B-7.6]:
 * expiry against the clock, the security counter against the NV counter
 * (anti-rollback), and the target requirements against the device's
 * capabilities. They run only after the signature holds, so each failure
 * says something true about a genuine bundle: "too old", "not for you".
 */
#include <string.h>

#include "bundle_priv.h"
#include "../diag.h"
#include "tinymlops/interp.h"
#include "tinymlops/model.h"
#include "tinymlops/ops.h"

static int64_t clamp64(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

static tmo_err fail_limit(tmo_diag *diag, tmo_err e, const char *field, const char *problem,
                          uint64_t value, uint64_t limit)
{
    diag_set(diag, e, TMO_AT_NONE, -1, field, problem);
    diag_limit(diag, clamp64(value), clamp64(limit));
    return e;
}

static int semver_less(const tmo_semver *a, const tmo_semver *b)
{
    if (a->major != b->major)
        return a->major < b->major;
    if (a->minor != b->minor)
        return a->minor < b->minor;
    return a->patch < b->patch;
}

static tmo_err check_arch(const tmo_bundle_manifest *m, const char *arch, tmo_diag *diag)
{
    if (m->arch_count == 0)
        return TMO_OK;
    size_t n = 0;
    while (arch != NULL && arch[n] != '\0' && n <= TMO_BUNDLE_MAX_ARCH)
        n++;
    for (uint32_t i = 0; arch != NULL && i < m->arch_count; i++) {
        uint32_t len;
        const char *a = tmo_bundle_manifest_arch(m, i, &len);
        if (len == n && tmo_bytes_equal(a, arch, n))
            return TMO_OK;
    }
    return diag_set(diag, TMO_ETARGET, TMO_AT_NONE, -1, "target.arch",
                    "the bundle is built for other architectures than this device's");
}

static tmo_err check_target(const tmo_bundle_manifest *m, const tmo_bundle_caps *caps,
                            tmo_diag *diag)
{
    tmo_err e = check_arch(m, caps->arch, diag);
    if (e != TMO_OK)
        return e;
    if (semver_less(&caps->runtime, &m->min_runtime)) {
        diag_set(
            diag, TMO_ETARGET, TMO_AT_NONE, -1, "target.min_runtime",
            "needs a newer runtime than this device has (value: needed major*1e6+minor*1e3+patch)");
        diag_limit(diag,
                   (int64_t)m->min_runtime.major * 1000000 + m->min_runtime.minor * 1000 +
                       m->min_runtime.patch,
                   (int64_t)caps->runtime.major * 1000000 + caps->runtime.minor * 1000 +
                       caps->runtime.patch);
        return TMO_ETARGET;
    }
    if (m->arena_bytes > caps->max_arena_bytes)
        return fail_limit(diag, TMO_ETARGET, "target.arena_bytes",
                          "model needs a larger arena than the device has", m->arena_bytes,
                          caps->max_arena_bytes);
    if (m->flash_bytes > caps->max_flash_bytes)
        return fail_limit(diag, TMO_ETARGET, "target.flash_bytes",
                          "model does not fit the device's model slot", m->flash_bytes,
                          caps->max_flash_bytes);
    for (uint32_t i = 0; i < m->op_count; i++) {
        int32_t code = le16(m->ops_le + 2 * i);
        int runs =
            caps->ops != NULL ? tmo_op_find(caps->ops, code) != NULL : tmo_interp_supports(code);
        if (!runs) {
            diag_set(diag, TMO_ETARGET, TMO_AT_OPERATOR, -1, "target.ops",
                     "operator not supported by this runtime");
            diag_value(diag, code);
            if (diag != NULL)
                diag->op_name = caps->ops == NULL            ? tmo_builtin_name(code)
                                : caps->ops->name_of != NULL ? caps->ops->name_of(code)
                                                             : NULL;
            return TMO_ETARGET;
        }
    }
    return TMO_OK;
}

tmo_err bundle_policy_check(const tmo_bundle *b, const tmo_bundle_env *env, uint64_t now,
                            int has_now, tmo_diag *diag)
{
    const tmo_bundle_manifest *m = &b->manifest;
    if (has_now && m->has_expires && now >= m->expires)
        return fail_limit(diag, TMO_EEXPIRED, "manifest.expires",
                          "bundle expired (value: now, limit: expiry)", now, m->expires);
    uint64_t nv = 0;
    tmo_err e = env->counter->read(env->counter->ctx, &nv);
    if (e != TMO_OK)
        return diag_set(diag, e, TMO_AT_NONE, -1, "port.counter",
                        "reading the NV security counter failed");
    /* [B-7.4] equal is allowed (re-installing the same release), lower is a rollback. */
    if (m->counter < nv)
        return fail_limit(diag, TMO_EROLLBACK, "manifest.security_counter",
                          "lower than the device's security counter (rollback)", m->counter, nv);
    if (env->caps != NULL)
        return check_target(m, env->caps, diag);
    return TMO_OK;
}
