/*
 * Writes the seeds of the network fuzz targets: valid requests for every
 * route of the API (corpus/server_req, in net_server.h's format), signed
 * and malformed device headers (corpus/devauth), Range headers
 * (corpus/range) and server answers for the agent (corpus/agent_resp).
 * Bundles are signed under the fixed root key the targets trust, so seeds
 * stay valid across runs.
 *
 * Usage: fuzz_gen_net_corpus CORPUS_DIR REPORT_SEED
 *   (REPORT_SEED: a valid monitoring report, e.g. corpus/report/valid-report-0-0.bin)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "devauth.h"
#include "net_server.h"
#include "range.h"

static const char *corpus;

static void put(const char *kind, const char *name, const void *data, size_t len)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", corpus, kind);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", corpus, kind, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

static void puts_seed(const char *kind, const char *name, const char *text)
{
    put(kind, name, text, strlen(text));
}

/* ---- server_req ---- */

#define V1 "/api/v1"
#define PROFILE                                                                                    \
    "{\"arch\":\"cortex-m4\",\"runtime_version\":\"0.1.0\",\"ram_bytes\":262144,"                  \
    "\"flash_bytes\":1048576,\"ops\":[\"FULLY_CONNECTED\",\"SOFTMAX\"]}"

static void server_seeds(const char *report_path)
{
    char pub_a[128], pub_b[128], id_a[DEVAUTH_ID_LEN + 1], text[8192];
    host_key a;
    ns_pub_b64('a', pub_a);
    ns_pub_b64('b', pub_b);
    ns_key('a', &a);
    devauth_device_id(a.pub, id_a);
    const char *k = "server_req";
    struct {
        const char *name, *text;
    } fixed[] = {
        {"valid-health", "GET " V1 "/health\n\n"},
        {"valid-admin-token-create",
         "POST " V1 "/admin-tokens\nAuthorization: Bearer " NS_TOKEN_ADMIN
         "\n\n{\"role\":\"viewer\",\"name\":\"dash\"}"},
        {"valid-admin-token-list",
         "GET " V1 "/admin-tokens\nAuthorization: Bearer " NS_TOKEN_ADMIN "\n\n"},
        {"valid-admin-token-revoke",
         "DELETE " V1 "/admin-tokens/3\nAuthorization: Bearer " NS_TOKEN_ADMIN "\n\n"},
        {"forbidden-viewer-token-create",
         "POST " V1 "/admin-tokens\nAuthorization: Bearer " NS_TOKEN_VIEWER
         "\n\n{\"role\":\"admin\"}"},
        {"revoked-token", "GET " V1 "/devices\nAuthorization: Bearer " NS_TOKEN_REVOKED "\n\n"},
        {"valid-enroll-token-create",
         "POST " V1 "/enrollment-tokens\nAuthorization: Bearer " NS_TOKEN_OPERATOR
         "\n\n{\"group\":\"lab\",\"tags\":[\"x\",\"y\"],\"ttl_s\":3600,\"uses\":2}"},
        {"valid-devices-list",
         "GET " V1
         "/devices?group=fuzz&tag=lab&limit=10&offset=0\nAuthorization: Bearer " NS_TOKEN_VIEWER
         "\n\n"},
        {"valid-bundles-list", "GET " V1 "/bundles?model=" NS_MODEL
                               "&version=1.0.0\nAuthorization: Bearer " NS_TOKEN_VIEWER "\n\n"},
        {"valid-bundle-show",
         "GET " V1 "/bundles/1\nAuthorization: Bearer " NS_TOKEN_VIEWER "\n\n"},
        {"valid-bundle-patch",
         "PATCH " V1 "/bundles/1\nAuthorization: Bearer " NS_TOKEN_OPERATOR "\n\n{\"rank\":5}"},
        {"valid-bundle-data-range",
         "GET " V1 "/bundles/1/data\nAuthorization: Bearer " NS_TOKEN_OPERATOR
         "\nRange: bytes=-100\n\n"},
        {"bundle-data-viewer-forbidden",
         "GET " V1 "/bundles/1/data\nAuthorization: Bearer " NS_TOKEN_VIEWER "\n\n"},
        {"valid-models-list", "GET " V1 "/models\nAuthorization: Bearer " NS_TOKEN_VIEWER "\n\n"},
        {"valid-deploy-create",
         "POST " V1 "/deployments\nAuthorization: Bearer " NS_TOKEN_OPERATOR
         "\n\n{\"model\":\"" NS_MODEL "\",\"version\":\"1.0.0\",\"target\":{\"tags\":[\"lab\"],"
         "\"exclude_tags\":[\"x\"]},\"waves\":[10,50,100],\"soak_s\":60,\"max_failures\":2}"},
        {"valid-deploy-list",
         "GET " V1 "/deployments?state=active\nAuthorization: Bearer " NS_TOKEN_VIEWER "\n\n"},
        {"valid-deploy-show",
         "GET " V1 "/deployments/1\nAuthorization: Bearer " NS_TOKEN_VIEWER "\n\n"},
        {"valid-deploy-devices", "GET " V1 "/deployments/1/devices?state=pending&limit=5&offset=0\n"
                                 "Authorization: Bearer " NS_TOKEN_VIEWER "\n\n"},
        {"valid-deploy-pause-resume",
         "POST " V1 "/deployments/1/pause\nAuthorization: Bearer " NS_TOKEN_OPERATOR
         "\n\n{}\n-----\n"
         "POST " V1 "/deployments/1/resume\nAuthorization: Bearer " NS_TOKEN_OPERATOR
         "\n\n{\"max_failures\":3,\"override_gate\":true}"},
        {"valid-deploy-abort",
         "POST " V1 "/deployments/1/abort\nAuthorization: Bearer " NS_TOKEN_OPERATOR "\n\n{}"},
        {"deploy-rollback",
         "POST " V1 "/deployments/1/rollback\nAuthorization: Bearer " NS_TOKEN_OPERATOR
         "\n\n{\"max_failures\":1}"},
        {"valid-telemetry-query",
         "GET " V1 "/telemetry?group=fuzz&model=" NS_MODEL "&since=7d&step=1h&group_by=device\n"
         "Authorization: Bearer " NS_TOKEN_VIEWER "\n\n"},
        {"valid-alerts-list", "GET " V1 "/alerts?state=open&group=fuzz&kind=drift\n"
                              "Authorization: Bearer " NS_TOKEN_VIEWER "\n\n"},
        {"alert-show-ack-resolve",
         "GET " V1 "/alerts/1\nAuthorization: Bearer " NS_TOKEN_VIEWER "\n\n\n-----\n"
         "POST " V1 "/alerts/1/ack\nAuthorization: Bearer " NS_TOKEN_OPERATOR "\n\n{}\n-----\n"
         "POST " V1 "/alerts/1/resolve\nAuthorization: Bearer " NS_TOKEN_OPERATOR "\n\n{}"},
        {"valid-alert-rules-get",
         "GET " V1 "/alert-rules\nAuthorization: Bearer " NS_TOKEN_VIEWER "\n\n"},
        {"valid-alert-rules-put",
         "PUT " V1 "/alert-rules\nAuthorization: Bearer " NS_TOKEN_OPERATOR
         "\n\n{\"windows\":4,\"silent_s\":900,\"drift_psi\":0.3,\"latency_factor\":1.5,"
         "\"hysteresis\":0.7}"},
        {"valid-session", "GET " V1 "/session\nAuthorization: Bearer " NS_TOKEN_VIEWER "\n\n"},
        {"valid-static-index", "GET /\n\n"},
        {"static-asset-etag",
         "GET /index.html\nIf-None-Match: \"0123456789abcdef0123456789abcdef\"\n\n"},
        {"not-found", "GET /api/v2/nothing%20here?x=1\n\n"},
        {"method-not-allowed", "PUT " V1 "/health\n\n"},
        {"checkin-unsigned", "POST " V1 "/device/checkin\nX-TMO-Device: 0123\nX-TMO-Timestamp: 1\n"
                             "X-TMO-Nonce: 00\nX-TMO-Signature: AAAA\n\n{}"},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        puts_seed(k, fixed[i].name, fixed[i].text);

    snprintf(text, sizeof text,
             "GET " V1 "/telemetry/reports?device=%s&since=1d&limit=5\n"
             "Authorization: Bearer " NS_TOKEN_VIEWER "\n\n",
             id_a);
    puts_seed(k, "valid-telemetry-reports", text);
    snprintf(text, sizeof text,
             "GET " V1 "/devices/%s\nAuthorization: Bearer " NS_TOKEN_VIEWER "\n\n", id_a);
    puts_seed(k, "valid-device-show", text);
    snprintf(text, sizeof text,
             "PATCH " V1 "/devices/%s\nAuthorization: Bearer " NS_TOKEN_OPERATOR
             "\n\n{\"group\":\"g2\",\"add_tags\":[\"t1\",\"t2\"],\"remove_tags\":[\"lab\"]}",
             id_a);
    puts_seed(k, "valid-device-patch", text);
    snprintf(text, sizeof text,
             "POST " V1 "/device/enroll\nX-Fuzz-Sign: b\n\n{\"token\":\"" NS_ENROLL
             "\",\"public_key\":\"%s\",\"profile\":" PROFILE ",\"enc_public_key\":\"%s\"}"
             "\n-----\nPOST " V1
             "/device/checkin\nX-Fuzz-Sign: b\n\n{\"runtime_version\":\"0.1.0\"}",
             pub_b, pub_b);
    puts_seed(k, "valid-enroll-then-checkin", text);
    puts_seed(k, "valid-session-checkins",
              "POST " V1 "/device/checkin\nX-Fuzz-Session: a\n\n{\"nv_counter\":0}\n-----\n"
              "POST " V1 "/device/telemetry\nX-Fuzz-Session: a\n\n{\"reports\":[]}\n-----\n"
              "GET " V1 "/device/bundles/1\nX-Fuzz-Session: a\nRange: bytes=0-9\n\n");
    puts_seed(k, "session-challenge-and-open",
              "POST " V1 "/device/session/challenge\n\n{\"device_id\":\"00\"}\n-----\n"
              "POST " V1 "/device/session\n\n{\"device_id\":\"0123456789abcdef0123456789abcdef\","
              "\"challenge\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYX\",\"ecdh_public_key\":\"BAAA\","
              "\"signature\":\"AAAA\"}");
    snprintf(text, sizeof text,
             "POST " V1 "/device/enroll\nX-Fuzz-Sign: b\n\n{\"token\":\"" NS_ENROLL_EXPIRED
             "\",\"public_key\":\"%s\",\"profile\":" PROFILE "}",
             pub_b);
    puts_seed(k, "enroll-expired", text);
    snprintf(text, sizeof text,
             "POST " V1 "/device/enroll\nX-Fuzz-Sign: a\n\n{\"token\":\"" NS_ENROLL
             "\",\"public_key\":\"%s\",\"profile\":" PROFILE "}",
             pub_a);
    puts_seed(k, "valid-enroll-again", text);
    puts_seed(k, "valid-checkin",
              "POST " V1 "/device/checkin\nX-Fuzz-Sign: a\n\n{\"active_slot\":\"a\","
              "\"runtime_version\":\"0.1.0\",\"nv_counter\":1,\"health\":{\"inferences\":10,"
              "\"errors\":0,\"uptime_s\":5},\"slots\":[{\"slot\":\"a\",\"state\":\"trial\","
              "\"model\":\"" NS_MODEL "\",\"version\":\"1.0.0\",\"bundle_digest\":\"@DIGEST@\","
              "\"counter\":1},{\"slot\":\"b\",\"state\":\"empty\"}],\"reports\":["
              "{\"deployment_id\":1,\"state\":\"downloading\",\"reason\":\"\"},"
              "{\"deployment_id\":1,\"state\":\"installed-trial\"}],\"profile\":" PROFILE "}");
    puts_seed(k, "valid-checkin-failed-report",
              "POST " V1 "/device/checkin\nX-Fuzz-Sign: a\n\n{\"reports\":[{\"deployment_id\":1,"
              "\"state\":\"failed\",\"reason\":\"verify: bad signature\"}]}\n-----\n"
              "GET " V1 "/deployments/1\nAuthorization: Bearer " NS_TOKEN_VIEWER "\n\n");
    puts_seed(k, "valid-device-download",
              "GET " V1
              "/device/bundles/1\nX-Fuzz-Sign: a\nRange: bytes=100-\nIf-Range: @ETAG@\n\n");
    puts_seed(k, "valid-device-download-whole",
              "GET " V1 "/device/bundles/1\nX-Fuzz-Sign: a\nIf-None-Match: sha256:x\n\n");
    puts_seed(k, "download-not-modified",
              "GET " V1 "/device/bundles/1\nX-Fuzz-Sign: a\nIf-None-Match: @ETAG@\n\n");

    /* a second bundle version, then a deployment of it */
    size_t len = 0;
    uint8_t *b = ns_bundle("1.1.0", 2, &len);
    const char *head = "POST " V1 "/bundles\nAuthorization: Bearer " NS_TOKEN_OPERATOR
                       "\nContent-Type: application/octet-stream\n\n";
    const char *tail = "\n-----\nPOST " V1 "/deployments\nAuthorization: Bearer " NS_TOKEN_OPERATOR
                       "\n\n{\"model\":\"" NS_MODEL "\",\"version\":\"1.1.0\",\"target\":"
                       "{\"all\":true}}";
    if (b == NULL || strlen(head) + len + strlen(tail) > sizeof text) {
        fprintf(stderr, "cannot make the bundle seed\n");
        exit(1);
    }
    size_t n = strlen(head);
    memcpy(text, head, n);
    memcpy(text + n, b, len);
    memcpy(text + n + len, tail, strlen(tail));
    put(k, "valid-bundle-upload-deploy", text, n + len + strlen(tail));
    free(b);

    /* telemetry: one report from the monitoring corpus */
    FILE *f = fopen(report_path, "rb");
    uint8_t rep[2048];
    size_t rn = f != NULL ? fread(rep, 1, sizeof rep, f) : 0;
    if (f != NULL)
        fclose(f);
    char b64[3000];
    if (rn == 0 || devauth_b64_encode(rep, rn, b64, sizeof b64) < 0) {
        fprintf(stderr, "cannot read %s\n", report_path);
        exit(1);
    }
    snprintf(text, sizeof text,
             "POST " V1 "/device/telemetry\nX-Fuzz-Sign: a\n\n{\"reports\":[{\"seq\":1,\"at\":"
             "1700000000000,\"bundle_digest\":\"@DIGEST@\",\"lost_inferences\":0,\"data\":\"%s\"}]}"
             "\n-----\nGET " V1
             "/telemetry/reports?device=%s\nAuthorization: Bearer " NS_TOKEN_VIEWER "\n\n",
             b64, id_a);
    puts_seed(k, "valid-telemetry-upload", text);
}

/* ---- devauth ---- */

static void devauth_seed(const char *name, const char *method, const char *path, const char *body,
                         int corrupt)
{
    host_key a;
    psa_key_id_t id;
    char device[DEVAUTH_ID_LEN + 1], sig_b64[128], text[2048];
    uint8_t digest[32], sig[DEVAUTH_SIG_LEN];
    const char *nonce = "0123456789abcdef0123456789abcdef";
    uint64_t ts = 1700000000123ULL;
    if (ns_key('a', &a) != 0 || devauth_import_private(a.priv, &id, a.pub) != 0 ||
        devauth_request_digest(method, path, ts, nonce, body, strlen(body), digest) != 0 ||
        devauth_sign(id, digest, sig) != 0)
        exit(1);
    psa_destroy_key(id);
    if (corrupt == 1)
        sig[7] ^= 1;
    devauth_b64_encode(sig, sizeof sig, sig_b64, sizeof sig_b64);
    devauth_device_id(a.pub, device);
    char pub[128] = "";
    if (corrupt != 2)
        ns_pub_b64('a', pub);
    snprintf(text, sizeof text, "%s\n%llu\n%s\n%s\n%s\n%s\n%s\n%s", device, (unsigned long long)ts,
             nonce, sig_b64, method, path, pub, body);
    puts_seed("devauth", name, text);
}

static void devauth_seeds(void)
{
    devauth_seed("valid-checkin", "POST", V1 "/device/checkin", "{\"slots\":[]}", 0);
    devauth_seed("valid-download", "GET", V1 "/device/bundles/7?x=1", "", 0);
    devauth_seed("valid-telemetry", "POST", V1 "/device/telemetry", "{\"reports\":[]}", 0);
    devauth_seed("bad-signature", "POST", V1 "/device/checkin", "{}", 1);
    devauth_seed("valid-default-key", "POST", V1 "/device/checkin", "{}", 2);
    puts_seed("devauth", "garbage-base64",
              "zz\n99999999999999999999999\nnonce\n====AAAA\nGET\n/\n%%%%\n");
    puts_seed("devauth", "whitespace-base64", "id\n0\nn\nAAAA AAAA\r\nAAAA\nPOST\n/p\nBBBB\nbody");
}

/* ---- range ---- */

static void range_seed(const char *name, uint64_t size, const char *header, const char *etag)
{
    uint8_t buf[256];
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)(size >> (8 * i));
    size_t h = strlen(header), e = strlen(etag);
    memcpy(buf + 8, header, h);
    buf[8 + h] = '\0';
    memcpy(buf + 9 + h, etag, e);
    put("range", name, buf, 9 + h + e);
}

static void range_seeds(void)
{
    const char *etag = "\"sha256:00ff\"";
    range_seed("valid-from", 1000, "bytes=100-", etag);
    range_seed("valid-from-to", 1000, "bytes=0-499", etag);
    range_seed("valid-clipped", 1000, "bytes=900-5000", etag);
    range_seed("valid-suffix", 1000, "bytes=-200", etag);
    range_seed("valid-suffix-all", 10, "bytes=-200", etag);
    range_seed("unsatisfiable", 1000, "bytes=1000-", etag);
    range_seed("suffix-zero", 1000, "bytes=-0", etag);
    range_seed("several", 1000, "bytes=0-1,5-9", etag);
    range_seed("reversed", 1000, "bytes=9-5", etag);
    range_seed("huge", 0xffffffffffffffffULL & 0x7fffffffffffffffULL, "bytes=18446744073709551615-",
               etag);
    range_seed("etag-bare", 5, "sha256:00ff", etag);
    range_seed("etag-star", 5, "*", etag);
}

/* ---- agent_resp ---- */

static void agent_seeds(void)
{
    host_key a;
    char id[DEVAUTH_ID_LEN + 1], text[16000], digest_hex[65];
    ns_key('a', &a);
    devauth_device_id(a.pub, id);
    const char *k = "agent_resp";
    snprintf(
        text, sizeof text,
        "fresh\nenroll 201\nX-TMO-Server-Time: 1700000000000\nContent-Type: application/json\n\n"
        "{\"device_id\":\"%s\",\"checkin_interval_s\":30}\n-----\n"
        "checkin 200\n\n{\"server_time\":1700000000000,\"checkin_interval_s\":30,\"desired\":null}",
        id);
    puts_seed(k, "valid-enroll-checkin", text);
    puts_seed(k, "enroll-refused",
              "fresh\nenroll "
              "401\n\n{\"error\":{\"code\":\"enrollment_token_invalid\",\"message\":\"x\"}}");
    puts_seed(k, "enroll-other-id",
              "fresh\nenroll 200\n\n{\"device_id\":\"00\"}\n-----\nenroll -\n\n");
    puts_seed(
        k, "checkin-stale",
        "checkin 401\nX-TMO-Server-Time: 1800000000000\n\n{\"error\":{\"code\":\"stale_request\","
        "\"message\":\"m\"}}\n-----\ncheckin 200\n\n{\"desired\":null}");
    puts_seed(k, "checkin-unknown-device",
              "checkin 401\n\n{\"error\":{\"code\":\"unknown_device\",\"message\":\"m\"}}");
    puts_seed(k, "checkin-unreachable", "checkin -\n\n-----\ncheckin 503\n\nnot json");
    /* A session (P-30..P-32): any valid P-256 point as the server's ECDH key will do here. */
    host_key b_key;
    char point[128];
    ns_key('b', &b_key);
    devauth_b64_encode(b_key.pub, sizeof b_key.pub, point, sizeof point);
    snprintf(text, sizeof text,
             "session 200\n\n{\"challenge\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYX\","
             "\"expires_at\":1700000060000}\n-----\n"
             "session 201\n\n{\"session_id\":\"0123456789abcdef0123456789abcdef\","
             "\"ecdh_public_key\":\"%s\",\"expires_at\":1700086400000}\n-----\n"
             "checkin 401\n\n{\"error\":{\"code\":\"session_expired\",\"message\":\"m\"}}"
             "\n-----\nsession 200\n\n{\"challenge\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYX\"}"
             "\n-----\nsession 201\n\n{\"session_id\":\"fedcba9876543210fedcba9876543210\","
             "\"ecdh_public_key\":\"%s\"}\n-----\ncheckin 200\n\n{\"desired\":null}",
             point, point);
    puts_seed(k, "valid-session-expired-reopened", text);
    puts_seed(k, "session-bad-point",
              "session 200\n\n{\"challenge\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYX\"}\n-----\n"
              "session 201\n\n{\"session_id\":\"0123456789abcdef0123456789abcdef\","
              "\"ecdh_public_key\":\"BAAA\"}\n-----\ncheckin 200\n\n{\"desired\":null}");
    size_t len = 0;
    uint8_t *b = ns_bundle("1.0.0", 1, &len);
    uint8_t digest[32];
    size_t dn = 0;
    if (b == NULL || len > 4000 ||
        psa_hash_compute(PSA_ALG_SHA_256, b, len, digest, sizeof digest, &dn) != PSA_SUCCESS) {
        fprintf(stderr, "cannot make the agent bundle\n");
        exit(1);
    }
    devauth_hex(digest, 32, digest_hex);
    char desired[600];
    snprintf(desired, sizeof desired,
             "checkin 200\nContent-Type: application/json\n\n{\"server_time\":1700000000000,"
             "\"checkin_interval_s\":60,\"desired\":{\"deployment_id\":1,\"bundle_id\":1,"
             "\"model\":\"" NS_MODEL "\",\"version\":\"1.0.0\",\"digest\":\"sha256:%s\","
             "\"size\":%zu,\"url\":\"/api/v1/device/bundles/1\"}}",
             digest_hex, len);
    /* the whole update: chunks of 1024 bytes, then the reports */
    size_t n = (size_t)snprintf(text, sizeof text, "%s", desired);
    for (size_t off = 0; off < len; off += 1024) {
        size_t last = off + 1024 < len ? off + 1023 : len - 1;
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "\n-----\ndownload 206\nETag: \"sha256:%s\"\nContent-Range: bytes "
                              "%zu-%zu/%zu\n\n",
                              digest_hex, off, last, len);
        memcpy(text + n, b + off, last - off + 1);
        n += last - off + 1;
    }
    for (int i = 0; i < 8; i++) /* desired stays until the trial starts */
        n += (size_t)snprintf(text + n, sizeof text - n, "\n-----\n%s", desired);
    put(k, "valid-update", text, n);
    /* the whole bundle in one 200 instead of a range */
    n = (size_t)snprintf(text, sizeof text, "%s\n-----\ndownload 200\nETag: \"sha256:%s\"\n\n",
                         desired, digest_hex);
    memcpy(text + n, b, len);
    n += len;
    for (int i = 0; i < 8; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "\n-----\n%s", desired);
    put(k, "valid-download-whole", text, n);
    /* a changed bundle: 200 with another ETag, then 416 */
    snprintf(text, sizeof text, "%s\n-----\ndownload 200\nETag: \"sha256:00\"\n\nxx\n-----\n%s",
             desired, desired);
    puts_seed(k, "valid-download-changed", text);
    snprintf(text, sizeof text,
             "%s\n-----\ndownload 206\nContent-Range: bytes 0-3/%zu\n\nabcd\n-----\n%s\n-----\n"
             "download 416\nContent-Range: bytes */%zu\n\n"
             "{\"error\":{\"code\":\"range_not_satisfiable\"}}\n-----\n%s",
             desired, len, desired, len, desired);
    puts_seed(k, "valid-download-short-chunk", text);
    puts_seed(k, "desired-malformed",
              "checkin 200\n\n{\"desired\":{\"deployment_id\":1,\"size\":-1,\"url\":\"x\","
              "\"digest\":\"sha256:zz\"}}");
    free(b);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fuzz_gen_net_corpus CORPUS_DIR REPORT_SEED\n");
        return 2;
    }
    corpus = argv[1];
    if (devauth_init() != 0)
        return 1;
    server_seeds(argv[2]);
    devauth_seeds();
    range_seeds();
    agent_seeds();
    return 0;
}
