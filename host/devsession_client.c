/*
 * The device's side of a session (see devsession_client.h).
 */
#include "devsession_client.h"

#include <stdio.h>
#include <string.h>

#define CHALLENGE_PATH "/api/v1/device/session/challenge"
#define SESSION_PATH "/api/v1/device/session"

/* The session-open request body: challenge, own ECDH key, signature. NULL on failure. */
static json_t *open_body(psa_key_id_t key, const char *device_id, const char *challenge_b64,
                         const uint8_t mine[DEVAUTH_PUBKEY_LEN])
{
    char mine_b64[128], sig_b64[128];
    uint8_t digest[32], sig[DEVAUTH_SIG_LEN];
    devauth_b64_encode(mine, DEVAUTH_PUBKEY_LEN, mine_b64, sizeof mine_b64);
    if (devsession_open_digest(device_id, challenge_b64, mine_b64, digest) != 0 ||
        devauth_sign(key, digest, sig) != 0)
        return NULL;
    devauth_b64_encode(sig, sizeof sig, sig_b64, sizeof sig_b64);
    return json_pack("{s:s,s:s,s:s,s:s}", "device_id", device_id, "challenge", challenge_b64,
                     "ecdh_public_key", mine_b64, "signature", sig_b64);
}

int devsession_open(devsession_post_fn post, void *ctx, psa_key_id_t key, const char *device_id,
                    devsession_state *s)
{
    long status = 0;
    memset(s, 0, sizeof *s);
    json_t *ch =
        post(ctx, CHALLENGE_PATH, json_pack("{s:s}", "device_id", device_id), 200, &status);
    if (status == 404)
        return 1;
    const char *ch_b64 = json_string_value(json_object_get(ch, "challenge"));
    uint8_t challenge[DEVSESSION_CHALLENGE_LEN + 4], mine[DEVAUTH_PUBKEY_LEN],
        theirs[DEVAUTH_PUBKEY_LEN + 4];
    psa_key_id_t eph = 0;
    json_t *body = NULL, *open = NULL;
    if (ch_b64 != NULL &&
        devauth_b64_decode(ch_b64, challenge, sizeof challenge) == DEVSESSION_CHALLENGE_LEN &&
        devsession_ecdh_generate(&eph, mine) == 0 &&
        (body = open_body(key, device_id, ch_b64, mine)) != NULL)
        open = post(ctx, SESSION_PATH, body, 201, &status);
    const char *sid = json_string_value(json_object_get(open, "session_id"));
    const char *their_b64 = json_string_value(json_object_get(open, "ecdh_public_key"));
    int ok = sid != NULL && strlen(sid) == DEVSESSION_ID_LEN && their_b64 != NULL &&
             devauth_b64_decode(their_b64, theirs, sizeof theirs) == DEVAUTH_PUBKEY_LEN &&
             devsession_derive(eph, theirs, challenge, device_id, sid, mine, theirs, s->key) == 0;
    if (ok)
        snprintf(s->id, sizeof s->id, "%s", sid);
    else
        memset(s, 0, sizeof *s);
    if (eph != 0)
        psa_destroy_key(eph);
    json_decref(ch);
    json_decref(open);
    return ok ? 0 : -1;
}

int devsession_headers(devsession_state *s, const char *device_id, const char *method,
                       const char *path, const void *body, size_t len, char hdr[4][160])
{
    uint8_t mac[DEVSESSION_MAC_LEN];
    char mac_b64[64];
    uint64_t counter = ++s->counter;
    if (devsession_mac(s->key, method, path, s->id, counter, body, len, mac) != 0)
        return -1;
    devauth_b64_encode(mac, sizeof mac, mac_b64, sizeof mac_b64);
    snprintf(hdr[0], 160, "X-TMO-Device: %s", device_id);
    snprintf(hdr[1], 160, "X-TMO-Session: %s", s->id);
    snprintf(hdr[2], 160, "X-TMO-Counter: %llu", (unsigned long long)counter);
    snprintf(hdr[3], 160, "X-TMO-MAC: %s", mac_b64);
    return 0;
}
