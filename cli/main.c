/*
 * `tinymlops`: the one command line of the platform. Each group of commands
 * lives in its own file; this only routes argv to them.
 */
#include <string.h>

#include "cli.h"

static const cli_command groups[] = {
    {"model", cmd_model, "inspect, run and benchmark .tflite models"},
    {"key", cmd_key, "generate root, signing and device keys; certify signing keys"},
    {"bundle", cmd_bundle, "pack, inspect and verify signed (encrypted) model bundles"},
    {"server", cmd_server,
     "run the fleet server; `server init` creates its database and admin token"},
    {"device", cmd_device, "fleet inventory: list, show and tag devices; enrollment tokens"},
    {"enroll-token", cmd_enroll_token, "create device enrollment tokens"},
    {"deploy", cmd_deploy, "staged rollouts: create, status, pause, resume, abort, rollback"},
    {"telemetry", cmd_telemetry, "monitoring telemetry of devices, groups and deployments"},
    {"alerts", cmd_alerts, "alerts on drift, accuracy, latency, errors, silent devices"},
    {"sim", cmd_sim, "simulate a heterogeneous fleet of real agents, with drift and faults"},
    {"demo", cmd_demo, "the whole loop on this machine: server, simulated fleet, rollouts, alerts"},
    {NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0)) {
        printf("tinymlops %s\n", TMO_VERSION);
        return CLI_OK;
    }
    return cli_dispatch("", groups, argc, argv);
}
