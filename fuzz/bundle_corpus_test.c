/*
 * Replays every committed bundle fuzz input (fuzz/corpus/bundle,
 * fuzz/regressions/bundle) through the fuzz target's body with the ordinary
 * compiler, so it runs in every build and under ASan/UBSan. Seeds named
 * valid-*.bin were made from the published test vectors and must pass every
 * check; all other inputs must only be handled without a crash.
 * Usage: bundle_corpus_test DIR...
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_bundle_body.h"

static unsigned passed, failed;

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)ftw;
    if (type != FTW_F || strstr(path, "/.") != NULL || strstr(path, ".md") != NULL)
        return 0;
    FILE *f = fopen(path, "rb");
    uint8_t *data = malloc((size_t)st->st_size + 1);
    size_t n = f != NULL && data != NULL ? fread(data, 1, (size_t)st->st_size, f) : 0;
    if (f != NULL)
        fclose(f);
    if (data == NULL || n != (size_t)st->st_size) {
        printf("FAIL %s: cannot read\n", path);
        failed++;
        free(data);
        return 0;
    }
    tmo_err e = fuzz_bundle_run(data, n);
    free(data);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (strncmp(base, "valid-", 6) == 0 && e != TMO_OK) {
        printf("FAIL %s: a valid seed was rejected with %s\n", path, tmo_err_name(e));
        failed++;
    } else {
        passed++;
    }
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        nftw(argv[i], visit, 16, FTW_PHYS);
    printf("bundle corpus: %u passed, %u failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
