/*
 * `tinymlops deploy create|status|pause|resume|abort|rollback`: staged
 * rollouts on a fleet server (docs/server.md). This file holds the group
 * and the actions on an existing deployment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "server_client.h"

static const cli_command commands[] = {
    {"create", cmd_deploy_create, "roll a model version out to a group or tags, in waves"},
    {"status", cmd_deploy_status, "list deployments, or one deployment's waves and devices"},
    {"pause", cmd_deploy_pause, "stop opening waves and starting devices"},
    {"resume", cmd_deploy_resume, "continue a paused or halted deployment"},
    {"abort", cmd_deploy_abort, "stop for good; devices not started are cancelled"},
    {"rollback", cmd_deploy_rollback, "send devices back to the bundle they ran before"},
    {NULL, NULL, NULL},
};

int cmd_deploy(int argc, char **argv)
{
    return cli_dispatch("deploy", commands, argc, argv);
}

static int action(int argc, char **argv, const char *name)
{
    char usage[200];
    snprintf(usage, sizeof usage, "tinymlops deploy %s ID%s [--server URL] [--token T] [--json]",
             name,
             strcmp(name, "resume") == 0     ? " [--max-failures N] [--override-gate]"
             : strcmp(name, "rollback") == 0 ? " [--max-failures N]"
                                             : "");
    api_ctx ctx;
    if (api_take_options(&ctx, &argc, argv, usage) != 0)
        return CLI_USAGE;
    json_t *body = NULL;
    long id = 0, max_failures = -1;
    int override_gate = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--override-gate") == 0 && strstr(usage, "--override-gate") != NULL) {
            override_gate = 1; /* let the current wave pass its health gate once */
            continue;
        }
        if (strcmp(argv[i], "--max-failures") == 0 && i + 1 < argc &&
            strstr(usage, "--max-failures") != NULL) {
            char *end;
            max_failures = strtol(argv[++i], &end, 10);
            if (*end != '\0' || max_failures < 0)
                return cli_usage(usage, "--max-failures must be a non-negative integer");
        } else if (id == 0 && cli_parse_count("ID", argv[i], 1L << 50, &id)) {
            continue;
        } else {
            return cli_usage(usage, "unexpected argument '%s'", argv[i]);
        }
    }
    if (id == 0)
        return cli_usage(usage, "expected a deployment id");
    if (max_failures >= 0 || override_gate)
        body = json_object();
    if (max_failures >= 0)
        json_object_set_new(body, "max_failures", json_integer(max_failures));
    if (override_gate)
        json_object_set_new(body, "override_gate", json_true());
    char path[128];
    snprintf(path, sizeof path, "/api/v1/deployments/%ld/%s", id, name);
    json_t *out = NULL;
    int rc = api_once(&ctx, "POST", path, body, &out);
    json_decref(body);
    if (rc != 0)
        return rc;
    if (ctx.json)
        api_print_json(out);
    else if (strcmp(name, "rollback") == 0)
        printf("deployment %ld rolled back by deployment %lld (%s)\n", id,
               (long long)json_integer_value(json_object_get(out, "id")),
               json_string_value(json_object_get(out, "state")));
    else
        printf("deployment %ld: %s\n", id, json_string_value(json_object_get(out, "state")));
    json_decref(out);
    return CLI_OK;
}

int cmd_deploy_pause(int argc, char **argv)
{
    return action(argc, argv, "pause");
}

int cmd_deploy_resume(int argc, char **argv)
{
    return action(argc, argv, "resume");
}

int cmd_deploy_abort(int argc, char **argv)
{
    return action(argc, argv, "abort");
}

int cmd_deploy_rollback(int argc, char **argv)
{
    return action(argc, argv, "rollback");
}
