/*
 * The scratch directory of fuzz_files.h: one per process, a handful of
 * reused file names, everything removed at exit, so a fuzz run never
 * writes outside it nor leaves files behind.
 */
#define _XOPEN_SOURCE 700
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_files.h"

enum { MAX_NAMES = 8 };

static char dir[512];
static char paths[MAX_NAMES][600];
static size_t npaths;

void fuzz_fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz contract broken: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    abort();
}

static void cleanup(void)
{
    for (size_t i = 0; i < npaths; i++)
        unlink(paths[i]);
    if (dir[0] != '\0')
        rmdir(dir);
}

const char *fuzz_tmp_path(const char *name)
{
    if (dir[0] == '\0') {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/tmo-fuzz-XXXXXX", t != NULL && t[0] != '\0' ? t : "/tmp");
        if (mkdtemp(dir) == NULL)
            fuzz_fail("cannot create a temporary directory", dir);
        atexit(cleanup);
    }
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    for (size_t i = 0; i < npaths; i++)
        if (strcmp(paths[i], p) == 0)
            return paths[i];
    if (npaths == MAX_NAMES)
        fuzz_fail("too many scratch file names", name);
    memcpy(paths[npaths], p, sizeof p);
    return paths[npaths++];
}

const char *fuzz_tmp_write(const char *name, const void *data, size_t size)
{
    const char *path = fuzz_tmp_path(name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        fuzz_fail("cannot write the scratch file", path);
    return path;
}
