/*
 * The agent's device session (docs/protocol.md P-30..P-35): opened with one
 * ECDSA signature by the device key after enrollment, then every request
 * carries an HMAC with a strictly increasing counter instead of a
 * signature. A server without sessions (404 on the challenge) or
 * cfg.signed_requests keeps the agent on per-request signatures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_priv.h"

void session_drop(agent *a)
{
    memset(&a->session, 0, sizeof a->session);
}

/* devsession_post_fn through the agent's client and its network hooks. */
static json_t *post(void *ctx, const char *path, json_t *body, long want, long *status)
{
    agent *a = ctx;
    char *text = json_dumps(body, JSON_COMPACT), err[300];
    json_decref(body);
    hc_response r;
    *status = 0;
    if (text == NULL || net_hook_blocks(a, "POST", path)) {
        free(text);
        return NULL;
    }
    int rc = hc_request(a->hc, "POST", path, "application/json", text, strlen(text), NULL, &r, err,
                        sizeof err);
    free(text);
    net_hook_after(a, "POST", path, rc == 0 ? &r : NULL);
    if (rc != 0) {
        agent_error(a, "session: server unreachable: %s", err);
        return NULL;
    }
    *status = r.status;
    json_t *v = r.status == want ? json_loadb((const char *)r.body, r.body_len, 0, NULL) : NULL;
    if (r.status != want && r.status != 404) {
        char code[64];
        agent_error(a, "session refused: HTTP %ld %s", r.status,
                    net_error_code(&r, code, sizeof code));
    }
    hc_response_free(&r);
    return v;
}

int session_ready(agent *a)
{
    if (a->cfg.signed_requests || a->session_unsupported || !a->enrolled)
        return 1;
    if (a->session.id[0] != '\0')
        return 0;
    psa_key_id_t key = key_acquire(a);
    int rc = key != 0 ? devsession_open(post, a, key, a->device_id, &a->session) : -1;
    key_release(a, key);
    if (rc == 1) {
        agent_log(a, "the server has no device sessions: signing every request");
        a->session_unsupported = 1;
    } else if (rc == 0) {
        agent_log(a, "opened session %.8s", a->session.id);
    }
    return rc;
}
