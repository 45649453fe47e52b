/*
 * Hooks that let one process run a whole simulated fleet of agents
 * (sim/, docs/simulator.md) without changing what a single agent does:
 * the device key imported into PSA only around each signature (mbedTLS
 * 2.28 has 32 key slots), network faults injected at the request boundary
 * (outages, bytes corrupted in transit), a clock skew that can change while
 * the agent runs, and inference through the caller's function so the
 * simulator feeds its own data stream and runs a monitor on the real model.
 */
#include <stdio.h>
#include <string.h>

#include "agent_priv.h"
#include "devauth.h"
#include "host.h"

psa_key_id_t key_acquire(agent *a)
{
    if (!a->cfg.key_per_use)
        return a->key;
    /* Only the scalar: exporting the public key again would cost a point multiplication. */
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&attr, 256);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_HASH);
    psa_set_key_algorithm(&attr, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    psa_key_id_t key = 0;
    if (psa_import_key(&attr, a->key_priv, sizeof a->key_priv, &key) != PSA_SUCCESS)
        return 0;
    return key;
}

void key_release(agent *a, psa_key_id_t key)
{
    if (a->cfg.key_per_use && key != 0)
        psa_destroy_key(key);
}

int net_hook_blocks(agent *a, const char *method, const char *path)
{
    return a->cfg.net_hook != NULL &&
           a->cfg.net_hook(a->cfg.net_ctx, AGENT_NET_BEFORE, method, path, NULL, 0) != 0;
}

void net_hook_after(agent *a, const char *method, const char *path, hc_response *r)
{
    if (a->cfg.net_hook == NULL)
        return;
    if (r != NULL)
        a->cfg.net_hook(a->cfg.net_ctx, AGENT_NET_AFTER, method, path, r->body, r->body_len);
    else
        a->cfg.net_hook(a->cfg.net_ctx, AGENT_NET_FAILED, method, path, NULL, 0);
}

void agent_set_clock_skew(agent *a, int64_t skew_ms)
{
    a->cfg.clock_skew_ms = skew_ms;
}

int agent_infer_with(agent *a, agent_run_fn fn, void *ctx, char *err, size_t err_len)
{
    pthread_mutex_lock(&a->run.lock);
    if (a->run.hm == NULL) {
        pthread_mutex_unlock(&a->run.lock);
        snprintf(err, err_len, "no model installed yet");
        return AGENT_RUN_CALLER_ERROR;
    }
    /* Everything here is the model lock's: the update state belongs to the step thread. */
    agent_model_view view = {a->run.generation, a->run.name, a->run.version, a->run.profile,
                             a->run.profile_len};
    int rc = fn(ctx, &a->run.hm->interp, &view);
    if (rc == AGENT_RUN_OK)
        a->run.inferences++;
    else if (rc == AGENT_RUN_MODEL_ERROR)
        a->run.errors++;
    pthread_mutex_unlock(&a->run.lock);
    if (rc != AGENT_RUN_OK)
        snprintf(err, err_len, rc == AGENT_RUN_MODEL_ERROR ? "invoke failed" : "not run");
    return rc;
}
