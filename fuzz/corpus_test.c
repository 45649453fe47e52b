/*
 * Replays every committed fuzz input through the fuzz targets' own code
 * (SQLite's fuzzcheck idea): fuzz/corpus/model/ and fuzz/regressions/model/.
 * Built with the ordinary compiler and no libFuzzer, so it runs in every
 * build; the sanitizer build turns any memory error into a failure.
 *
 * Beyond "does not crash", seed models written by gen_corpus (*.tflite under
 * corpus/) are valid by construction, so each must parse, and when this
 * build has all of its operators it must also initialize and run.
 *
 * Each input is replayed by the checker of its kind, the folder it sits in
 * (corpus/model/ -> the model target). Bundles have their own replay test
 * (fuzz_bundle_corpus, through corpus_replay.c) as they need the crypto library.
 *
 * Usage: fuzz_corpus_test [-v] DIR...
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_model_body.h"
#include "tinymlops/err.h"

static int verbose;
static unsigned passed, failed;

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Whether path is a generated seed model, which must be valid. */
static int is_seed_model(const char *path)
{
    return strstr(path, "/corpus/") != NULL && ends_with(path, ".tflite");
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        uint8_t *bigger = realloc(buf, cap * 2);
        if (bigger == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    if (buf != NULL && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* ---- one checker per fuzz target kind (the folder under corpus/ or regressions/) ---- */

/* Replays a model input; returns what is wrong with it, or NULL. */
static const char *check_model(const char *path, const uint8_t *data, size_t len, char *note,
                               size_t note_len)
{
    fuzz_model_result r = fuzz_model_run(data, len);
    snprintf(note, note_len, "parse %s, init %s%s", tmo_err_name(r.parse), tmo_err_name(r.init),
             r.invoked ? ", invoked" : "");
    if (!is_seed_model(path))
        return NULL;
    if (r.parse != TMO_OK)
        return "seed model does not parse";
    if (r.supported && r.init != TMO_OK)
        return "seed model with supported operators does not initialize";
    if (r.supported && !r.invoked)
        return "seed model with supported operators did not run";
    return NULL;
}

typedef const char *(*checker)(const char *path, const uint8_t *data, size_t len, char *note,
                               size_t note_len);

static const struct {
    const char *kind;
    checker check;
} kinds[] = {
    {"model", check_model},
};

/* The checker for path's kind: the folder right below one of the roots given. */
static checker checker_for(const char *path, const char **kind_out)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char folder[64];
        snprintf(folder, sizeof folder, "/%s/", kinds[i].kind);
        if (strstr(path, folder) != NULL) {
            *kind_out = kinds[i].kind;
            return kinds[i].check;
        }
    }
    return NULL;
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type != FTW_F || strstr(path, "/.") != NULL || ends_with(path, ".md"))
        return 0;
    const char *kind = NULL;
    checker check = checker_for(path, &kind);
    if (check == NULL) {
        printf("FAIL %s: not in a folder named after a fuzz target kind (model, ...)\n", path);
        failed++;
        return 0;
    }
    size_t len = 0;
    uint8_t *data = read_all(path, &len);
    if (data == NULL) {
        printf("FAIL %s: cannot read\n", path);
        failed++;
        return 0;
    }
    char note[160] = "";
    const char *problem = check(path, data, len, note, sizeof note);
    free(data);
    if (problem != NULL) {
        printf("FAIL %s: %s (%s)\n", path, problem, note);
        failed++;
    } else {
        if (verbose)
            printf("ok   %s [%s]: %s\n", path, kind, note);
        passed++;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        verbose = 1;
        first = 2;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: %s [-v] DIR...\n", argv[0]);
        return 2;
    }
    for (int i = first; i < argc; i++) {
        if (nftw(argv[i], visit, 16, FTW_PHYS) != 0) {
            printf("FAIL %s: cannot walk the directory\n", argv[i]);
            failed++;
        }
    }
    printf("corpus: %u passed, %u failed\n", passed, failed);
    if (passed + failed == 0) {
        printf("corpus: no inputs found\n");
        return 1;
    }
    return failed == 0 ? 0 : 1;
}
