/*
 * Admin API access for the fleet commands (see server_client.h).
 */
#include "server_client.h"

#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *option_value(const char *arg, const char *name, char **argv, int *i, int argc)
{
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0)
        return NULL;
    if (arg[n] == '=')
        return arg + n + 1;
    if (arg[n] == '\0' && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

int api_take_options(api_ctx *ctx, int *argc, char **argv, const char *usage)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->server = getenv("TINYMLOPS_SERVER");
    ctx->token = getenv("TINYMLOPS_TOKEN");
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i], *v;
        if (strcmp(a, "--json") == 0) {
            ctx->json = 1;
        } else if ((v = option_value(a, "--server", argv, &i, *argc)) != NULL) {
            ctx->server = v;
        } else if ((v = option_value(a, "--token", argv, &i, *argc)) != NULL) {
            ctx->token = v;
        } else if (strcmp(a, "--server") == 0 || strcmp(a, "--token") == 0) {
            return cli_usage(usage, "%s needs a value", a);
        } else {
            argv[out++] = argv[i];
        }
    }
    *argc = out;
    argv[out] = NULL;
    if (ctx->server == NULL || ctx->server[0] == '\0')
        ctx->server = "http://127.0.0.1:8080";
    return 0;
}

int api_open(api_ctx *ctx)
{
    if (ctx->token == NULL || ctx->token[0] == '\0')
        return cli_fail(
            "no admin token: pass --token T or set TINYMLOPS_TOKEN (see `tinymlops server init`)");
    if (hc_global_init() != 0 || (ctx->hc = hc_open(ctx->server)) == NULL)
        return cli_fail("cannot initialize the HTTP client");
    hc_set_bearer(ctx->hc, ctx->token);
    return 0;
}

int api_once(api_ctx *ctx, const char *method, const char *path, json_t *body, json_t **out)
{
    int rc = api_open(ctx);
    if (rc == 0)
        rc = api_call(ctx, method, path, body, NULL, 0, out);
    api_close(ctx);
    return rc;
}

void api_close(api_ctx *ctx)
{
    hc_close(ctx->hc);
    ctx->hc = NULL;
}

int api_call(api_ctx *ctx, const char *method, const char *path, json_t *body, const void *raw,
             size_t raw_len, json_t **out)
{
    char err[600];
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    const void *data = raw != NULL ? raw : text;
    size_t len = raw != NULL ? raw_len : text != NULL ? strlen(text) : 0;
    const char *type = raw != NULL    ? "application/octet-stream"
                       : text != NULL ? "application/json"
                                      : NULL;
    hc_response r;
    int rc = hc_request(ctx->hc, method, path, type, data, len, NULL, &r, err, sizeof err);
    free(text);
    if (rc != 0)
        return cli_fail("cannot reach the server: %s", err);
    json_t *j =
        r.body_len > 0 ? json_loadb((const char *)r.body, r.body_len, 0, NULL) : json_object();
    if (r.status < 200 || r.status > 299) {
        json_t *e = json_object_get(j, "error");
        const char *code = json_string_value(json_object_get(e, "code"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        cli_fail("%s %s: %ld %s: %s", method, path, r.status, code != NULL ? code : "error",
                 msg != NULL ? msg : (const char *)r.body);
        json_decref(j);
        hc_response_free(&r);
        return CLI_FAIL;
    }
    hc_response_free(&r);
    if (j == NULL)
        return cli_fail("%s %s: the server's response is not JSON", method, path);
    *out = j;
    return 0;
}

void api_print_json(json_t *v)
{
    char *text = json_dumps(v, JSON_INDENT(2));
    if (text != NULL) {
        puts(text);
        free(text);
    }
}

void api_query_add(char *buf, size_t len, const char *name, const char *value)
{
    char *esc = curl_easy_escape(NULL, value, 0);
    size_t used = strlen(buf);
    if (esc != NULL && used < len)
        snprintf(buf + used, len - used, "%s%s=%s", strchr(buf, '?') != NULL ? "&" : "?", name,
                 esc);
    curl_free(esc);
}

int api_get_listing(api_ctx *ctx, int argc, char **argv, const char *usage, const char *path,
                    const char *const *params, json_t **out)
{
    enum { max_params = 16 };
    struct option opts[max_params + 1];
    size_t n = 0;
    for (; params[n] != NULL && n < max_params; n++)
        opts[n] = (struct option){params[n], required_argument, NULL, (int)n + 1};
    opts[n] = (struct option){NULL, 0, NULL, 0};
    if (api_take_options(ctx, &argc, argv, usage) != 0)
        return CLI_USAGE;
    char query[1024];
    snprintf(query, sizeof query, "%s", path);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c < 1 || (size_t)c > n)
            return cli_usage(usage, "unknown option");
        api_query_add(query, sizeof query, params[c - 1], optarg);
    }
    if (optind != argc)
        return cli_usage(usage, "unexpected argument '%s'", argv[optind]);
    *out = NULL;
    int rc = api_open(ctx);
    if (rc == 0)
        rc = api_call(ctx, "GET", query, NULL, NULL, 0, out);
    api_close(ctx);
    return rc;
}
