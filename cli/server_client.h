/*
 * What every fleet command of the CLI (device, model push/list, deploy,
 * enroll-token) shares: the --server/--token/--json options (or the
 * TINYMLOPS_SERVER / TINYMLOPS_TOKEN environment), one call to the admin
 * API with its error printed on stderr, and JSON output.
 */
#ifndef TMO_CLI_SERVER_CLIENT_H
#define TMO_CLI_SERVER_CLIENT_H

#include <jansson.h>
#include <stddef.h>

#include "http_client.h"

typedef struct api_ctx {
    const char *server;
    const char *token;
    int json; /* --json: print the server's JSON instead of text */
    hc_client *hc;
} api_ctx;

/*
 * Removes --server URL, --token T and --json (and their "=" forms) from
 * argv, compacting it and updating *argc, and fills ctx from them or the
 * environment. Returns 0, or CLI_USAGE after printing the problem.
 */
int api_take_options(api_ctx *ctx, int *argc, char **argv, const char *usage);

/* Opens the HTTP client; CLI_FAIL after printing when it cannot. */
int api_open(api_ctx *ctx);
void api_close(api_ctx *ctx);

/*
 * One request to the admin API: JSON body (may be NULL) or raw bytes
 * (raw != NULL). On a 2xx response returns 0 with the parsed JSON in *out
 * (caller decrefs; an empty object for an empty body). Otherwise prints
 * "tinymlops: <METHOD> <path>: <status> <code>: <message>" and returns
 * CLI_FAIL.
 */
int api_call(api_ctx *ctx, const char *method, const char *path, json_t *body, const void *raw,
             size_t raw_len, json_t **out);

/* api_open, one api_call with a JSON body (may be NULL) and api_close: the usual command. */
int api_once(api_ctx *ctx, const char *method, const char *path, json_t *body, json_t **out);

/* Prints v indented on stdout. */
void api_print_json(json_t *v);

/* Appends "name=value" (URL-escaped) to a query string being built in buf. */
void api_query_add(char *buf, size_t len, const char *name, const char *value);

/*
 * The shape of every "list" command: --server/--token/--json, then each
 * "--NAME VALUE" option whose NAME is in `params` (NULL-terminated) becomes
 * the query parameter NAME of a GET on `path`. On success returns 0 with
 * the answer in *out (caller decrefs) and ctx->json set from --json;
 * otherwise CLI_USAGE or CLI_FAIL after printing the problem.
 */
int api_get_listing(api_ctx *ctx, int argc, char **argv, const char *usage, const char *path,
                    const char *const *params, json_t **out);

#endif
