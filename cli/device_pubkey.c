/*
 * `tinymlops device pubkey ID [--out DEV.pub]`: a device's encryption
 * public key (docs/protocol.md P-27) as a PEM file, ready for
 * `tinymlops bundle pack --encrypt-for DEV.pub`: a bundle encrypted for it
 * installs on that device only.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "devauth.h"
#include "host.h"
#include "keys.h"
#include "server_client.h"

static const char *usage =
    "tinymlops device pubkey DEVICE_ID [--out DEV.pub] [--server URL] [--token T] [--json]";

int cmd_device_pubkey(int argc, char **argv)
{
    api_ctx ctx;
    if (api_take_options(&ctx, &argc, argv, usage) != 0)
        return CLI_USAGE;
    const char *id = NULL, *out_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out_path = argv[++i];
        else if (id == NULL && argv[i][0] != '-')
            id = argv[i];
        else
            return cli_usage(usage, "unexpected argument '%s'", argv[i]);
    }
    if (id == NULL)
        return cli_usage(usage, "expected one device id");
    char path[256];
    snprintf(path, sizeof path, "/api/v1/devices/%.64s", id);
    json_t *d = NULL;
    int rc = api_once(&ctx, "GET", path, NULL, &d);
    if (rc != 0)
        return rc;
    const char *b64 = json_string_value(json_object_get(d, "enc_public_key"));
    host_key k;
    memset(&k, 0, sizeof k);
    char pem[512];
    if (b64 == NULL || devauth_b64_decode(b64, k.pub, sizeof k.pub) != (int)sizeof k.pub ||
        host_key_public_pem(&k, pem, sizeof pem) != 0) {
        json_decref(d);
        return cli_fail("device %s has not sent an encryption key (an agent older than this "
                        "server, or not checked in yet)",
                        id);
    }
    if (ctx.json) {
        json_t *o = json_pack("{s:s,s:O,s:O,s:s}", "device_id", id, "enc_public_key",
                              json_object_get(d, "enc_public_key"), "enc_key_id",
                              json_object_get(d, "enc_key_id"), "pem", pem);
        api_print_json(o);
        json_decref(o);
    }
    json_decref(d);
    if (out_path == NULL) {
        if (!ctx.json)
            fputs(pem, stdout);
        return CLI_OK;
    }
    char err[300];
    if (access(out_path, F_OK) == 0)
        return cli_fail("%s exists; not overwriting it", out_path);
    if (host_write_file(out_path, pem, strlen(pem), err, sizeof err) != 0)
        return cli_fail("%s", err);
    if (!ctx.json)
        fprintf(stderr, "tinymlops: wrote %s (device %s's encryption key)\n", out_path, id);
    return CLI_OK;
}
