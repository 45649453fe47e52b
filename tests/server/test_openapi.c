/*
 * docs/openapi.yaml matches the router (server/router.c): every route is
 * documented with its method and who may call it (x-tmo-auth), and every
 * documented operation exists. The YAML is read line by line in the
 * layout the file uses (paths at 2 spaces, methods at 4, fields at 6).
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "router.h"

#define MAX_OPS 128

typedef struct doc_op {
    char path[128];
    char method[8];
    char auth[16];
    int matched;
} doc_op;

static doc_op ops[MAX_OPS];
static size_t n_ops;

static void load(void)
{
    FILE *f = fopen(TMO_OPENAPI, "r");
    if (f == NULL)
        fail_msg("cannot open %s", TMO_OPENAPI);
    char line[512], path[128] = "";
    int in_paths = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] != ' ' && line[0] != '\0' && line[0] != '#')
            in_paths = strncmp(line, "paths:", 6) == 0;
        if (!in_paths)
            continue;
        char word[128];
        if (strncmp(line, "  /", 3) == 0 && sscanf(line + 2, "%127[^:]:", word) == 1) {
            snprintf(path, sizeof path, "%s", word);
        } else if (strncmp(line, "    ", 4) == 0 && line[4] != ' ' &&
                   sscanf(line + 4, "%7[a-z]:", word) == 1 && line[4 + strlen(word)] == ':' &&
                   line[5 + strlen(word)] == '\0') {
            if (strcmp(word, "parameters") == 0)
                continue;
            assert_true(n_ops < MAX_OPS);
            doc_op *o = &ops[n_ops++];
            snprintf(o->path, sizeof o->path, "%s", path);
            for (size_t i = 0; word[i] && i < sizeof o->method - 1; i++)
                o->method[i] = (char)toupper((unsigned char)word[i]);
        } else if (n_ops > 0 && sscanf(line, "      x-tmo-auth: %15s", word) == 1) {
            snprintf(ops[n_ops - 1].auth, sizeof ops[0].auth, "%s", word);
        }
    }
    fclose(f);
}

static const char *auth_name(route_auth a)
{
    switch (a) {
    case ROUTE_PUBLIC:
        return "public";
    case ROUTE_VIEWER:
        return "viewer";
    case ROUTE_OPERATOR:
        return "operator";
    case ROUTE_ADMIN:
        return "admin";
    case ROUTE_DEVICE:
    case ROUTE_DEVICE_TX: /* the same credentials; only where the guard is recorded differs */
        return "device";
    }
    return "?";
}

static void every_route_is_documented(void **state)
{
    (void)state;
    int missing = 0;
    for (size_t i = 0; i < router_route_count; i++) {
        const route *r = &router_routes[i];
        doc_op *found = NULL;
        for (size_t k = 0; k < n_ops; k++)
            if (strcmp(ops[k].path, r->pattern) == 0 && strcmp(ops[k].method, r->method) == 0)
                found = &ops[k];
        if (found == NULL) {
            fprintf(stderr, "not documented: %s %s\n", r->method, r->pattern);
            missing++;
            continue;
        }
        found->matched = 1;
        if (strcmp(found->auth, auth_name(r->auth)) != 0) {
            fprintf(stderr, "%s %s: x-tmo-auth is '%s', the router says '%s'\n", r->method,
                    r->pattern, found->auth, auth_name(r->auth));
            missing++;
        }
    }
    assert_int_equal(missing, 0);
}

static void every_documented_operation_exists(void **state)
{
    (void)state;
    int extra = 0;
    for (size_t k = 0; k < n_ops; k++)
        if (!ops[k].matched) {
            fprintf(stderr, "documented but not routed: %s %s\n", ops[k].method, ops[k].path);
            extra++;
        }
    assert_int_equal(extra, 0);
    assert_int_equal(n_ops, router_route_count);
}

int main(void)
{
    load();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_route_is_documented),
        cmocka_unit_test(every_documented_operation_exists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
