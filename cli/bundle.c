/*
 * `tinymlops bundle ...`: the bundle command group (docs/bundle-format.md).
 */
#include "cli.h"

static const cli_command commands[] = {
    {"pack", cmd_bundle_pack, "sign (and optionally encrypt) a model into a bundle"},
    {"inspect", cmd_bundle_inspect, "show a bundle's header, sections, manifest and certificate"},
    {"verify", cmd_bundle_verify, "run every check a device runs, and say which one fails"},
    {NULL, NULL, NULL},
};

int cmd_bundle(int argc, char **argv)
{
    return cli_dispatch("bundle", commands, argc, argv);
}
