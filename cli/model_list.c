/*
 * `tinymlops model list [--model NAME [--version V]]`: the fleet server's
 * registry: models and their versions, or the variants (bundles) of one
 * model with their target requirements and rank.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "server_client.h"

static const char *usage =
    "tinymlops model list [--model NAME [--version V]] [--server URL] [--token T] [--json]";

static void print_models(json_t *out)
{
    json_t *models = json_object_get(out, "models");
    printf("%-32s  %s\n", "MODEL", "VERSIONS (variants)");
    for (size_t i = 0; i < json_array_size(models); i++) {
        json_t *m = json_array_get(models, i), *versions = json_object_get(m, "versions");
        printf("%-32s  ", json_string_value(json_object_get(m, "name")));
        for (size_t k = 0; k < json_array_size(versions); k++) {
            json_t *v = json_array_get(versions, k);
            printf("%s%s (%lld)", k ? ", " : "", json_string_value(json_object_get(v, "version")),
                   (long long)json_integer_value(json_object_get(v, "variants")));
        }
        printf("\n");
    }
}

static void print_variants(json_t *out)
{
    json_t *bundles = json_object_get(out, "bundles");
    printf("%-6s  %-24s  %-9s  %-18s  %-9s  %-10s  %-10s  %s\n", "ID", "MODEL", "VERSION", "ARCH",
           "MIN RT", "ARENA", "FLASH", "RANK");
    for (size_t i = 0; i < json_array_size(bundles); i++) {
        json_t *b = json_array_get(bundles, i), *arches = json_object_get(b, "arches");
        char arch[64] = "";
        for (size_t k = 0; k < json_array_size(arches); k++) {
            size_t used = strlen(arch);
            snprintf(arch + used, sizeof arch - used, "%s%s", k ? "," : "",
                     json_string_value(json_array_get(arches, k)));
        }
        printf("%-6lld  %-24s  %-9s  %-18s  %-9s  %-10lld  %-10lld  %lld\n",
               (long long)json_integer_value(json_object_get(b, "id")),
               json_string_value(json_object_get(b, "model")),
               json_string_value(json_object_get(b, "version")), arch[0] ? arch : "any",
               json_string_value(json_object_get(b, "min_runtime")),
               (long long)json_integer_value(json_object_get(b, "arena_bytes")),
               (long long)json_integer_value(json_object_get(b, "flash_bytes")),
               (long long)json_integer_value(json_object_get(b, "rank")));
    }
}

int cmd_model_list(int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, NULL, 'm'},
                                         {"version", required_argument, NULL, 'v'},
                                         {NULL, 0, NULL, 0}};
    api_ctx ctx;
    if (api_take_options(&ctx, &argc, argv, usage) != 0)
        return CLI_USAGE;
    const char *model = NULL, *version = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'm')
            model = optarg;
        else if (c == 'v')
            version = optarg;
        else
            return cli_usage(usage, "unknown option");
    }
    if (optind != argc || (version != NULL && model == NULL))
        return cli_usage(usage, "--version needs --model");
    char path[512];
    snprintf(path, sizeof path, "%s", model != NULL ? "/api/v1/bundles" : "/api/v1/models");
    if (model != NULL)
        api_query_add(path, sizeof path, "model", model);
    if (version != NULL)
        api_query_add(path, sizeof path, "version", version);
    json_t *out = NULL;
    int rc = api_once(&ctx, "GET", path, NULL, &out);
    if (rc != 0)
        return rc;
    if (ctx.json)
        api_print_json(out);
    else if (model != NULL)
        print_variants(out);
    else
        print_models(out);
    json_decref(out);
    return CLI_OK;
}
