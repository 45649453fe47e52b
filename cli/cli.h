/*
 * Shared pieces of the `tinymlops` command: the subcommand table type and
 * error/usage reporting so every command fails the same way (message on
 * stderr, non-zero exit).
 */
#ifndef TMO_CLI_H
#define TMO_CLI_H

#include <stdio.h>

/* Exit codes: 0 success, 1 the operation failed, 2 bad usage. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *summary;
} cli_command;

/* Runs the subcommand named by argv[1] from table; prints the table on help or error. */
int cli_dispatch(const char *group, const cli_command *table, int argc, char **argv);

/* Prints "tinymlops: <message>" to stderr; returns CLI_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "tinymlops: <message>" and the usage line to stderr; returns CLI_USAGE. */
int cli_usage(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses a positive integer option value; returns 0 and reports on failure. */
int cli_parse_count(const char *opt, const char *text, long max, long *out);

/* Parses "[--json] FILE", the shape of the inspect commands. Returns CLI_OK
 * with *path and *json set, or CLI_USAGE after printing the problem. */
int cli_parse_file_json(int argc, char **argv, const char *usage, const char *what,
                        const char **path, int *json);

int cmd_model(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_model_inspect(int argc, char **argv);
int cmd_model_run(int argc, char **argv);
int cmd_model_bench(int argc, char **argv);
int cmd_model_train(int argc, char **argv);

int cmd_key(int argc, char **argv);
int cmd_key_gen(int argc, char **argv);
int cmd_key_certify(int argc, char **argv);

int cmd_bundle(int argc, char **argv);
int cmd_bundle_pack(int argc, char **argv);
int cmd_bundle_inspect(int argc, char **argv);
int cmd_bundle_verify(int argc, char **argv);

/* The fleet server and its admin API (docs/server.md). */
int cmd_server(int argc, char **argv);
int cmd_model_push(int argc, char **argv);
int cmd_model_list(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_device_list(int argc, char **argv);
int cmd_device_show(int argc, char **argv);
int cmd_device_tag(int argc, char **argv);
int cmd_enroll_token(int argc, char **argv);
int cmd_enroll_token_create(int argc, char **argv);
int cmd_enroll_token_list(int argc, char **argv);
int cmd_enroll_token_revoke(int argc, char **argv);
int cmd_device_revoke(int argc, char **argv);
int cmd_deploy(int argc, char **argv);
int cmd_deploy_create(int argc, char **argv);
int cmd_deploy_status(int argc, char **argv);
int cmd_deploy_pause(int argc, char **argv);
int cmd_deploy_resume(int argc, char **argv);
int cmd_deploy_abort(int argc, char **argv);
int cmd_deploy_rollback(int argc, char **argv);
int cmd_device_pubkey(int argc, char **argv);

/* Telemetry and alerts (docs/server.md "Telemetry and alerts"). */
int cmd_telemetry(int argc, char **argv);
int cmd_telemetry_show(int argc, char **argv);
int cmd_alerts(int argc, char **argv);
int cmd_alerts_list(int argc, char **argv);
int cmd_alerts_ack(int argc, char **argv);
int cmd_alerts_resolve(int argc, char **argv);

/* The fleet simulator (sim/, docs/simulator.md). */
int cmd_sim(int argc, char **argv);

#endif
