/*
 * `tinymlops bundle pack MODEL.tflite --name N --version X.Y.Z --counter C
 *  --sign SIGNING.key --cert SIGNING.cert [--encrypt-for DEV.pub ...]
 *  [--expires DATE] [--arch A ...] [--profile-data DATA [--labels L] [--kat N]] --out B.tmb`
 *
 * With --profile-data the model is run over representative data and the
 * bundle gets a PROFILE section (reference statistics for label-free
 * monitoring) and a KAT section (known-answer tests the device runs before
 * it confirms an update); docs/monitoring.md describes both.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_pack.h"
#include "bundle_time.h"
#include "cli.h"
#include "host.h"
#include "profile_build.h"

static const char *usage =
    "tinymlops bundle pack MODEL.tflite --name N --version X.Y.Z --counter C --sign SIGNING.key "
    "--cert SIGNING.cert [--encrypt-for DEV.pub ...] [--expires DATE] [--arch A ...] "
    "[--profile-data DATA [--labels LABELS] [--kat N]] --out B.tmb";

#define MAX_RECIPIENTS 1024

typedef struct {
    const char *model, *name, *version, *counter, *sign, *cert, *expires, *out;
    const char *profile_data, *labels;
    long kat; /* known-answer vectors; -1 = default */
    const char *arches[TMO_BUNDLE_MAX_ARCHES + 1];
    size_t arch_count;
    const char **recipients;
    size_t recipient_count;
} pack_args;

static int parse_args(int argc, char **argv, pack_args *a)
{
    static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
                                         {"version", required_argument, NULL, 'v'},
                                         {"counter", required_argument, NULL, 'c'},
                                         {"sign", required_argument, NULL, 's'},
                                         {"cert", required_argument, NULL, 'C'},
                                         {"encrypt-for", required_argument, NULL, 'e'},
                                         {"expires", required_argument, NULL, 'x'},
                                         {"arch", required_argument, NULL, 'a'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"profile-data", required_argument, NULL, 'p'},
                                         {"labels", required_argument, NULL, 'l'},
                                         {"kat", required_argument, NULL, 'k'},
                                         {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            a->name = optarg;
            break;
        case 'v':
            a->version = optarg;
            break;
        case 'c':
            a->counter = optarg;
            break;
        case 's':
            a->sign = optarg;
            break;
        case 'C':
            a->cert = optarg;
            break;
        case 'x':
            a->expires = optarg;
            break;
        case 'o':
            a->out = optarg;
            break;
        case 'p':
            a->profile_data = optarg;
            break;
        case 'l':
            a->labels = optarg;
            break;
        case 'k': {
            char *end;
            errno = 0;
            a->kat = strtol(optarg, &end, 10);
            if (errno != 0 || *optarg == '\0' || *end != '\0' || a->kat < 0 || a->kat > 1000)
                return cli_usage(usage, "--kat expects a count from 0 to 1000, got '%s'", optarg);
            break;
        }
        case 'a':
            if (a->arch_count == TMO_BUNDLE_MAX_ARCHES)
                return cli_usage(usage, "at most %d --arch", TMO_BUNDLE_MAX_ARCHES);
            a->arches[a->arch_count++] = optarg;
            break;
        case 'e':
            if (a->recipient_count == MAX_RECIPIENTS)
                return cli_usage(usage, "at most %d --encrypt-for (use a group key)",
                                 MAX_RECIPIENTS);
            a->recipients[a->recipient_count++] = optarg;
            break;
        default:
            return cli_usage(usage, "unknown option");
        }
    }
    if (optind != argc - 1)
        return cli_usage(usage, "expected one model file");
    a->model = argv[optind];
    if (!a->name || !a->version || !a->counter || !a->sign || !a->cert || !a->out)
        return cli_usage(usage,
                         "--name, --version, --counter, --sign, --cert and --out are required");
    if (a->profile_data == NULL && (a->labels != NULL || a->kat >= 0))
        return cli_usage(usage, "--labels and --kat need --profile-data");
    return CLI_OK;
}

static int parse_counter(const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || text[0] < '0' || text[0] > '9' || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

/* With --profile-data: builds the PROFILE and KAT sections into extra[] and points in at them. */
static int add_profile(const pack_args *a, const uint8_t *model, size_t model_len,
                       host_profile_result *prof, hb_extra_section extra[2], host_pack_in *in,
                       char *err, size_t err_len)
{
    if (a->profile_data == NULL)
        return 0;
    host_profile_opts po;
    host_profile_opts_defaults(&po);
    if (a->kat >= 0)
        po.kat_count = (uint32_t)a->kat;
    if (host_profile_build_files(model, model_len, a->profile_data, a->labels, &po, prof, err,
                                 err_len) != 0)
        return -1;
    extra[0] = (hb_extra_section){TMO_SECTION_PROFILE, 0, prof->profile, prof->profile_len};
    extra[1] = (hb_extra_section){TMO_SECTION_KAT, 0, prof->kat, prof->kat_len};
    in->extra = extra;
    in->extra_count = prof->kat != NULL ? 2 : 1;
    return 0;
}

/* Reads keys, certificate and model, then packs and writes. */
static int pack(const pack_args *a, host_pack_in *in,
                uint8_t (*recipients)[TMO_P256_PUBLIC_KEY_LEN])
{
    char err[1024];
    host_key signer;
    size_t cert_len = 0, model_len = 0;
    if (host_key_read_private(&signer, a->sign, err, sizeof err) != 0)
        return cli_fail("%s", err);
    for (size_t i = 0; i < a->recipient_count; i++) {
        host_key r;
        if (host_key_read_public(&r, a->recipients[i], err, sizeof err) != 0) {
            host_key_wipe(&signer);
            return cli_fail("%s", err);
        }
        memcpy(recipients[i], r.pub, sizeof r.pub);
    }
    uint8_t *cert = host_read_file(a->cert, &cert_len, err, sizeof err);
    uint8_t *model = cert ? host_read_file(a->model, &model_len, err, sizeof err) : NULL;
    uint8_t *bundle = NULL;
    size_t len = 0;
    int rc = CLI_FAIL;
    host_profile_result prof;
    hb_extra_section extra[2];
    memset(&prof, 0, sizeof prof);
    if (model != NULL && add_profile(a, model, model_len, &prof, extra, in, err, sizeof err) == 0) {
        in->signer = &signer;
        in->cert = cert;
        in->cert_len = cert_len;
        in->model = model;
        in->model_len = model_len;
        if (host_bundle_pack(in, &bundle, &len, err, sizeof err) == 0 &&
            host_write_file(a->out, bundle, len, err, sizeof err) == 0)
            rc = CLI_OK;
    }
    host_key_wipe(&signer);
    free(cert);
    free(model);
    free(bundle);
    if (rc != CLI_OK) {
        host_profile_result_free(&prof);
        return cli_fail("%s", err);
    }
    printf("wrote %s (%zu bytes): %s %s, security counter %s, payload %zu bytes %s\n", a->out, len,
           a->name, a->version, a->counter, model_len,
           a->recipient_count ? "encrypted (AES-256-GCM)" : "not encrypted");
    if (a->recipient_count)
        printf("content key wrapped for %zu recipient key(s)\n", a->recipient_count);
    if (a->profile_data != NULL)
        printf(
            "profile: %u samples (%u labelled), %zu bytes; %u known-answer vector(s), %zu bytes\n",
            prof.samples, prof.labelled, prof.profile_len, prof.kat_vectors, prof.kat_len);
    host_profile_result_free(&prof);
    return CLI_OK;
}

int cmd_bundle_pack(int argc, char **argv)
{
    pack_args a;
    memset(&a, 0, sizeof a);
    a.kat = -1;
    a.recipients = calloc(MAX_RECIPIENTS, sizeof *a.recipients);
    uint8_t(*recipients)[TMO_P256_PUBLIC_KEY_LEN] = calloc(MAX_RECIPIENTS, TMO_P256_PUBLIC_KEY_LEN);
    if (a.recipients == NULL || recipients == NULL) {
        free(a.recipients);
        free(recipients);
        return cli_fail("out of memory");
    }
    host_pack_in in;
    memset(&in, 0, sizeof in);
    int rc = parse_args(argc, argv, &a);
    if (rc == CLI_OK && host_parse_semver(a.version, &in.version) != 0)
        rc = cli_usage(usage, "--version must be X.Y.Z with each part 0..65535, not '%s'",
                       a.version);
    if (rc == CLI_OK && parse_counter(a.counter, &in.counter) != 0)
        rc = cli_usage(usage, "--counter must be an unsigned 64-bit integer, not '%s'", a.counter);
    if (rc == CLI_OK && a.expires != NULL && host_parse_time(a.expires, &in.expires) != 0)
        rc = cli_usage(
            usage, "--expires must be YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @UNIXSECONDS, not '%s'",
            a.expires);
    if (rc == CLI_OK) {
        in.name = a.name;
        in.arches = a.arches;
        in.arch_count = a.arch_count;
        in.recipients = (const uint8_t(*)[TMO_P256_PUBLIC_KEY_LEN])recipients;
        in.recipient_count = a.recipient_count;
        rc = pack(&a, &in, recipients);
    }
    free(a.recipients);
    free(recipients);
    return rc;
}
