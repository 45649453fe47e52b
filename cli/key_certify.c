/*
 * `tinymlops key certify --root ROOT.key --key SIGNING.pub [--valid-days N]
 * [--models PREFIX] --out SIGNING.cert`: the offline root key vouches for a
 * signing key, for a limited time and optionally only for model names under
 * a prefix. Devices pin the root; signing keys rotate freely.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bundle_crypto.h"
#include "bundle_time.h"
#include "cli.h"
#include "host.h"
#include "keys.h"

static const char *usage = "tinymlops key certify --root ROOT.key --key SIGNING.pub [--valid-days "
                           "N] [--models PREFIX] --out SIGNING.cert";

int cmd_key_certify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"root", required_argument, NULL, 'r'},       {"key", required_argument, NULL, 'k'},
        {"valid-days", required_argument, NULL, 'd'}, {"models", required_argument, NULL, 'm'},
        {"out", required_argument, NULL, 'o'},        {NULL, 0, NULL, 0}};
    const char *root_path = NULL, *key_path = NULL, *prefix = "", *out = NULL;
    long days = 365;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            root_path = optarg;
            break;
        case 'k':
            key_path = optarg;
            break;
        case 'm':
            prefix = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'd':
            if (!cli_parse_count("--valid-days", optarg, 36500, &days))
                return CLI_USAGE;
            break;
        default:
            return cli_usage(usage, "unknown option");
        }
    }
    if (optind != argc)
        return cli_usage(usage, "unexpected argument '%s'", argv[optind]);
    if (root_path == NULL || key_path == NULL || out == NULL)
        return cli_usage(usage, "--root, --key and --out are required");
    if (strlen(prefix) > TMO_CERT_MAX_PREFIX ||
        (prefix[0] != '\0' && !tmo_bundle_name_valid(prefix, strlen(prefix))))
        return cli_usage(usage, "--models must be at most 64 characters of [A-Za-z0-9._/-]");
    host_key root, subject;
    char err[1024];
    if (host_key_read_private(&root, root_path, err, sizeof err) != 0)
        return cli_fail("%s", err);
    if (host_key_read_public(&subject, key_path, err, sizeof err) != 0) {
        host_key_wipe(&root);
        return cli_fail("%s", err);
    }
    uint64_t now = (uint64_t)time(NULL), until = now + (uint64_t)days * 86400u;
    uint8_t cert[TMO_CERT_MAX_LEN];
    size_t len = 0;
    int rc = hb_cert_make(&root, subject.pub, now, until, prefix, cert, &len);
    char root_id[2 * TMO_KEY_ID_LEN + 1], subject_id[2 * TMO_KEY_ID_LEN + 1], from[32], to[32];
    host_key_id_hex(root.pub, root_id);
    host_key_id_hex(subject.pub, subject_id);
    host_key_wipe(&root);
    if (rc != 0)
        return cli_fail("cannot sign the certificate with %s", root_path);
    if (host_write_file(out, cert, len, err, sizeof err) != 0)
        return cli_fail("%s", err);
    host_format_time(now, from, sizeof from);
    host_format_time(until, to, sizeof to);
    printf("wrote %s (%zu bytes)\n", out, len);
    printf("subject: %s\nissuer:  %s (root)\nvalid:   %s .. %s\nmodels:  %s\n", subject_id, root_id,
           from, to, prefix[0] ? prefix : "(any)");
    return CLI_OK;
}
