/*
 * `tinymlops key ...`: the key command group (bundle trust: root, signing
 * and device keys, and signing-key certificates).
 */
#include "cli.h"

static const cli_command commands[] = {
    {"gen", cmd_key_gen, "generate a P-256 key pair: NAME.key (private, 0600) and NAME.pub"},
    {"certify", cmd_key_certify, "certify a signing key with the offline root key"},
    {NULL, NULL, NULL},
};

int cmd_key(int argc, char **argv)
{
    return cli_dispatch("key", commands, argc, argv);
}
