/*
 * What authenticating one check-in costs the device, in instructions
 * (callgrind, as invoke_bench measures the runtime): a per-request ECDSA
 * P-256 signature (docs/protocol.md P-10, P-11) against a session MAC
 * (P-33), over the check-in body of bench/checkin_bench, through the same
 * host code the agent uses (mbedTLS 2.28). x86-64 figures: the Cortex-M4
 * firmware has no crypto provider in this repository (docs/porting.md).
 *
 *   valgrind --tool=callgrind --collect-atstart=no build/bench/auth_cost [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/callgrind.h>

#include "devauth.h"
#include "devsession.h"
#include "http_client.h"

static const char BODY[] =
    "{\"active_slot\":\"a\",\"slots\":[{\"slot\":\"a\",\"state\":\"active\",\"model\":\"acme/"
    "kws\",\"version\":\"1.2.0\",\"counter\":3},{\"slot\":\"b\",\"state\":\"inactive\"}],"
    "\"nv_counter\":3,\"runtime_version\":\"0.1.0\",\"health\":{\"inferences\":1200}}";
static const char PATH[] = "/api/v1/device/checkin";

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10;
    psa_key_id_t key;
    uint8_t pub[DEVAUTH_PUBKEY_LEN], session_key[DEVSESSION_KEY_LEN] = {1, 2, 3};
    char id[DEVAUTH_ID_LEN + 1];
    if (n < 1 || devauth_init() != 0 || devauth_generate(&key, pub) != 0)
        return 1;
    devauth_device_id(pub, id);
    hc_signed sig;
    uint8_t mac[DEVSESSION_MAC_LEN];
    int rc = 0;
    /* Warm-up of both, then each measured alone (callgrind --toggle-collect by hand). */
    rc |= hc_sign(key, id, "POST", PATH, BODY, strlen(BODY), 1, NULL, &sig);
    rc |= devsession_mac(session_key, "POST", PATH, id, 1, BODY, strlen(BODY), mac);
    const char *which = getenv("AUTH_COST");
    int sign = which == NULL || strcmp(which, "mac") != 0;
    CALLGRIND_TOGGLE_COLLECT;
    for (int i = 0; i < n; i++)
        rc |= sign ? hc_sign(key, id, "POST", PATH, BODY, strlen(BODY), 1 + (uint64_t)i, NULL, &sig)
                   : devsession_mac(session_key, "POST", PATH, id, 2 + (uint64_t)i, BODY,
                                    strlen(BODY), mac);
    CALLGRIND_TOGGLE_COLLECT;
    printf("%s x %d\n", sign ? "ECDSA signature (P-11)" : "session MAC (P-33)", n);
    return rc != 0;
}
