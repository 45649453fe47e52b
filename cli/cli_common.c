/*
 * Dispatch and error reporting shared by all subcommands.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void print_table(FILE *f, const char *group, const cli_command *table)
{
    fprintf(f, "usage: tinymlops %s <command> [options]\n\ncommands:\n", group);
    for (const cli_command *c = table; c->name != NULL; c++)
        fprintf(f, "  %-10s %s\n", c->name, c->summary);
}

int cli_dispatch(const char *group, const cli_command *table, int argc, char **argv)
{
    if (argc < 2) {
        print_table(stderr, group, table);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        print_table(stdout, group, table);
        return CLI_OK;
    }
    for (const cli_command *c = table; c->name != NULL; c++)
        if (strcmp(argv[1], c->name) == 0)
            return c->run(argc - 1, argv + 1);
    fprintf(stderr, "tinymlops: unknown command '%s %s'\n", group, argv[1]);
    print_table(stderr, group, table);
    return CLI_USAGE;
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tinymlops: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CLI_FAIL;
}

int cli_usage(const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tinymlops: ", stderr);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nusage: %s\n", usage);
    va_end(ap);
    return CLI_USAGE;
}

int cli_parse_count(const char *opt, const char *text, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || *text == '\0' || *end != '\0' || v < 1 || v > max) {
        fprintf(stderr, "tinymlops: %s expects an integer from 1 to %ld, got '%s'\n", opt, max,
                text);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse_file_json(int argc, char **argv, const char *usage, const char *what,
                        const char **path, int *json)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
    int c;
    *json = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 'j')
            return cli_usage(usage, "unknown option");
        *json = 1;
    }
    if (optind != argc - 1)
        return cli_usage(usage, "expected one %s", what);
    *path = argv[optind];
    return CLI_OK;
}
