/*
 * The device's encryption key (docs/agent.md "Keys", docs/protocol.md
 * P-27): a P-256 key pair separate from the signing key, because bundle key
 * wraps need an ECDH key (docs/bundle-format.md B-6.4) and a key should have
 * one use. Made on first start as enc.key (0600) / enc.pub in the state dir,
 * imported into PSA with the policy tmo_bundle_load() needs, handed to the
 * update engine as env.device_key, and its public half sent at enrollment
 * and with check-ins so operators can encrypt bundles for this device
 * (`tinymlops device pubkey ID --out DEV.pub`).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent_priv.h"
#include "devauth.h"
#include "keys.h"

int enc_key_load(agent *a, char *err, size_t err_len)
{
    char base[1100], key_path[1200], pub_path[1200];
    snprintf(base, sizeof base, "%s/enc", a->state_dir);
    snprintf(key_path, sizeof key_path, "%s.key", base);
    snprintf(pub_path, sizeof pub_path, "%s.pub", base);
    host_key k;
    memset(&k, 0, sizeof k);
    if (access(key_path, F_OK) != 0) {
        unlink(pub_path); /* a kill after the .pub but before the .key was published */
        if (host_key_generate(&k, err, err_len) != 0 ||
            host_key_write(&k, base, err, err_len) != 0) {
            host_key_wipe(&k);
            return -1;
        }
        agent_log(a, "generated a new device encryption key in %s", key_path);
    } else if (host_key_read_private(&k, key_path, err, err_len) != 0) {
        return -1;
    }
    uint32_t id = 0;
    /* A simulator's agents share one process and PSA's 32 key slots (cfg.key_per_use): they
       keep no decryption key, so encrypted bundles are refused there (EKEY). */
    int rc = a->cfg.key_per_use ? 0 : host_key_import_device(&k, &id);
    memcpy(a->enc_pub, k.pub, sizeof a->enc_pub);
    host_key_wipe(&k);
    if (rc != 0) {
        snprintf(err, err_len, "%s: cannot import the encryption key", key_path);
        return -1;
    }
    a->enc_key = (psa_key_id_t)id;
    return 0;
}

void enc_key_close(agent *a)
{
    if (a->enc_key != 0)
        psa_destroy_key(a->enc_key);
    a->enc_key = 0;
}

json_t *enc_key_b64(const agent *a)
{
    char b64[128];
    if (devauth_b64_encode(a->enc_pub, sizeof a->enc_pub, b64, sizeof b64) <= 0)
        return json_null();
    return json_string(b64);
}
