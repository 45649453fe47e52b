/*
 * `tinymlops bundle verify B.tmb --root ROOT.pub [--root ...] [--device-key
 *  DEV.key] [--min-counter C] [--at DATE]`: every check a device runs, in
 * the device's order and with the device library's code, plus the GCM tag
 * of the payload. Exit 0 only when everything verifies; otherwise exit 1
 * with one line naming the check that failed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_check.h"
#include "bundle_time.h"
#include "cli.h"
#include "host.h"

static const char *usage = "tinymlops bundle verify B.tmb --root ROOT.pub [--root ...] "
                           "[--device-key DEV.key] [--min-counter C] [--at DATE]";

#define MAX_ROOTS 16

static void print_ok(const host_verify_out *o)
{
    const tmo_bundle *b = o->bundle;
    const tmo_bundle_manifest *m = &b->manifest;
    char id[2 * TMO_KEY_ID_LEN + 1];
    for (int i = 0; i < TMO_KEY_ID_LEN; i++)
        snprintf(id + 2 * i, 3, "%02x", b->signer_id[i]);
    printf("OK: %.*s %u.%u.%u, security counter %llu\n", (int)m->name_len, m->name,
           m->version.major, m->version.minor, m->version.patch, (unsigned long long)m->counter);
    printf("  certificate:  signing key %s, issued by a pinned root, valid now, model prefix "
           "matches\n",
           id);
    printf("  signature:    ECDSA P-256 over header, manifest, certificate, wraps and extension "
           "sections\n");
    printf("  counter:      not lower than the minimum\n");
    printf("  payload:      SHA-256 of the stored bytes matches\n");
    if (o->decrypted)
        printf("  model:        %s, SHA-256 of the plaintext matches%s\n",
               m->encryption != TMO_ENC_NONE ? "decrypted" : "plain",
               o->gcm_tag_checked ? ", AES-256-GCM tag verifies" : "");
    else
        printf("  model:        encrypted; plaintext not checked (pass --device-key to decrypt)\n");
    if (o->model_parsed)
        printf("  .tflite:      parses\n");
    if (o->profile_checked)
        printf("  profile:      parses and matches the model\n");
    if (o->kat_passed)
        printf("  self-test:    %u known-answer vector(s) reproduced bit for bit\n", o->kat_passed);
    printf("  target:       not checked here (the device checks its own capabilities)\n");
}

int cmd_bundle_verify(int argc, char **argv)
{
    static const struct option opts[] = {{"root", required_argument, NULL, 'r'},
                                         {"device-key", required_argument, NULL, 'd'},
                                         {"min-counter", required_argument, NULL, 'c'},
                                         {"at", required_argument, NULL, 't'},
                                         {NULL, 0, NULL, 0}};
    const char *roots[MAX_ROOTS], *device = NULL;
    size_t n_roots = 0;
    host_verify_in in;
    memset(&in, 0, sizeof in);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'r':
            if (n_roots == MAX_ROOTS)
                return cli_usage(usage, "at most %d --root", MAX_ROOTS);
            roots[n_roots++] = optarg;
            break;
        case 'd':
            device = optarg;
            break;
        case 'c':
            errno = 0;
            in.min_counter = strtoull(optarg, &end, 10);
            if (errno != 0 || optarg[0] < '0' || optarg[0] > '9' || *end != '\0')
                return cli_usage(usage, "--min-counter must be an unsigned integer, not '%s'",
                                 optarg);
            break;
        case 't':
            if (host_parse_time(optarg, &in.now) != 0 || in.now == 0)
                return cli_usage(usage,
                                 "--at must be YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @UNIXSECONDS");
            break;
        default:
            return cli_usage(usage, "unknown option");
        }
    }
    if (optind != argc - 1)
        return cli_usage(usage, "expected one bundle file");
    if (n_roots == 0)
        return cli_usage(usage, "--root is required (the pinned root public key)");
    const char *path = argv[optind];
    char err[1024];
    uint8_t root_keys[MAX_ROOTS][TMO_P256_PUBLIC_KEY_LEN];
    for (size_t i = 0; i < n_roots; i++) {
        host_key k;
        if (host_key_read_public(&k, roots[i], err, sizeof err) != 0)
            return cli_fail("%s", err);
        memcpy(root_keys[i], k.pub, sizeof k.pub);
    }
    host_key dev;
    if (device != NULL && host_key_read_private(&dev, device, err, sizeof err) != 0)
        return cli_fail("%s", err);
    size_t len;
    uint8_t *bytes = host_read_file(path, &len, err, sizeof err);
    if (bytes == NULL) {
        host_key_wipe(&dev);
        return cli_fail("%s", err);
    }
    in.roots = (const uint8_t(*)[TMO_P256_PUBLIC_KEY_LEN])root_keys;
    in.root_count = n_roots;
    in.device = device != NULL ? &dev : NULL;
    host_verify_out out;
    tmo_err e = host_bundle_verify(bytes, len, &in, &out);
    int rc = CLI_OK;
    if (e == TMO_OK)
        print_ok(&out);
    else
        rc = cli_fail("%s: REJECTED: %s", path, out.message);
    host_verify_free(&out);
    host_key_wipe(&dev);
    free(bytes);
    return rc;
}
