/*
 * Replays the committed inputs of one fuzz target (whichever fuzz_*.c this
 * executable is linked with) through its own LLVMFuzzerTestOneInput, with
 * the ordinary compiler, so the corpus and the regressions are tests in
 * every build and under ASan/UBSan (SQLite's fuzzcheck idea). The target
 * aborts on a broken contract; a seed named valid-* must also pass the
 * target's fuzz_seed_valid (it parses, the request succeeds, ...).
 *
 * Usage: fuzz_<kind>_corpus_test KIND DIR...
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus_replay.h"

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
    LLVMFuzzerTestOneInput(data, n);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (strncmp(base, "valid-", 6) == 0 && !fuzz_seed_valid(data, n)) {
        printf("FAIL %s: a valid seed is rejected\n", path);
        failed++;
    } else {
        passed++;
    }
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s KIND DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 2; i < argc; i++)
        nftw(argv[i], visit, 16, FTW_PHYS);
    printf("%s corpus: %u passed, %u failed\n", argv[1], passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
