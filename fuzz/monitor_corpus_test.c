/*
 * Replays committed inputs of a monitoring fuzz target (fuzz_profile.c or
 * fuzz_report.c, whichever this executable is linked with) through its own
 * LLVMFuzzerTestOneInput, with the ordinary compiler, so the corpus is a
 * regression test in every build and under ASan/UBSan. The target aborts on
 * a broken contract; this driver checks that valid-* seeds are still
 * accepted (via fuzz_seed_valid, provided by the target's kind below).
 *
 * Usage: monitor_corpus_test KIND DIR...   (KIND: profile or report)
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "tinymlops/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *kind;
static unsigned passed, failed;

/* Whether a valid-* seed of this kind is (still) accepted by its parser. */
static int accepted(const uint8_t *data, size_t n)
{
    if (strcmp(kind, "profile") == 0) {
        tmo_profile p;
        uint32_t vectors;
        return tmo_profile_parse(&p, data, n, NULL) == TMO_OK ||
               tmo_kat_parse(data, n, &vectors, NULL) == TMO_OK;
    }
    host_report r;
    char err[256];
    int ok = host_report_decode(data, n, &r, err, sizeof err) == 0;
    host_report_free(&r);
    return ok;
}

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
    if (strncmp(base, "valid-", 6) == 0 && !accepted(data, n)) {
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
        fprintf(stderr, "usage: monitor_corpus_test profile|report DIR...\n");
        return 2;
    }
    kind = argv[1];
    for (int i = 2; i < argc; i++)
        nftw(argv[i], visit, 16, FTW_PHYS);
    printf("%s corpus: %u passed, %u failed\n", kind, passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
