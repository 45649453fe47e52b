/*
 * `tinymlops key gen --role root|signing|device --out NAME`: a new P-256 key
 * pair. All roles are the same kind of key; the role decides what it is for,
 * and the command says what to do next with it. The private key is written
 * once with mode 0600 and never printed.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "keys.h"

static const char *usage = "tinymlops key gen --role root|signing|device --out NAME";

static void print_next_step(const char *role, const char *out)
{
    if (strcmp(role, "root") == 0)
        printf("keep %s.key offline; pin %s.pub on devices (bundle verify --root)\n", out, out);
    else if (strcmp(role, "signing") == 0)
        printf("certify %s.pub with `tinymlops key certify --root ROOT.key --key %s.pub ...`\n",
               out, out);
    else
        printf("keep %s.key on the device; encrypt bundles for it with --encrypt-for %s.pub\n", out,
               out);
}

int cmd_key_gen(int argc, char **argv)
{
    static const struct option opts[] = {{"role", required_argument, NULL, 'r'},
                                         {"out", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    const char *role = NULL, *out = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'r')
            role = optarg;
        else if (c == 'o')
            out = optarg;
        else
            return cli_usage(usage, "unknown option");
    }
    if (optind != argc)
        return cli_usage(usage, "unexpected argument '%s'", argv[optind]);
    if (role == NULL || out == NULL)
        return cli_usage(usage, "--role and --out are required");
    if (strcmp(role, "root") != 0 && strcmp(role, "signing") != 0 && strcmp(role, "device") != 0)
        return cli_usage(usage, "--role must be root, signing or device, not '%s'", role);
    host_key k;
    char err[1024], id[2 * TMO_KEY_ID_LEN + 1];
    if (host_key_generate(&k, err, sizeof err) != 0 ||
        host_key_write(&k, out, err, sizeof err) != 0) {
        host_key_wipe(&k);
        return cli_fail("%s", err);
    }
    host_key_id_hex(k.pub, id);
    host_key_wipe(&k);
    printf("wrote %s.key (private, mode 0600) and %s.pub\n", out, out);
    printf("role:   %s (P-256)\nkey id: %s\nnext:   ", role, id);
    print_next_step(role, out);
    return CLI_OK;
}
