/*
 * Representative data and labels for the profile builder, from files: one
 * file of samples laid end to end, or a directory with one sample per file
 * (the layout of ../shared/ref/golden: NNN.in next to NNN.out).
 */
#define _POSIX_C_SOURCE 200809L
#include "profile_build.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host.h"

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int skipped(const char *name)
{
    return name[0] == '.' || ends_with(name, ".out") || ends_with(name, ".txt") ||
           ends_with(name, ".tsv") || ends_with(name, ".md");
}

static int load_dir(const char *path, size_t sample_bytes, uint8_t **data, size_t *count, char *err,
                    size_t err_len)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (struct dirent *e; rc == 0 && (e = readdir(d)) != NULL;) {
        if (skipped(e->d_name))
            continue;
        char full[4096];
        struct stat st;
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        if (stat(full, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **bigger = realloc(names, cap * sizeof *names);
            if (bigger == NULL) {
                rc = -1;
                break;
            }
            names = bigger;
        }
        if ((names[n] = strdup(full)) == NULL)
            rc = -1;
        else
            n++;
    }
    closedir(d);
    if (rc == 0 && n == 0) {
        snprintf(err, err_len, "%s: no sample files", path);
        rc = -1;
    } else if (rc != 0) {
        snprintf(err, err_len, "%s: out of memory", path);
    }
    if (rc == 0)
        qsort(names, n, sizeof *names, cmp_names);
    uint8_t *buf = rc == 0 ? malloc(n * sample_bytes) : NULL;
    if (rc == 0 && buf == NULL) {
        snprintf(err, err_len, "%s: out of memory", path);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        size_t len;
        void *f = host_read_file(names[i], &len, err, err_len);
        if (f == NULL) {
            rc = -1;
        } else if (len != sample_bytes) {
            snprintf(err, err_len, "%s: %zu bytes, the model's input takes %zu", names[i], len,
                     sample_bytes);
            rc = -1;
        } else {
            memcpy(buf + i * sample_bytes, f, len);
        }
        free(f);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (rc != 0) {
        free(buf);
        return -1;
    }
    *data = buf;
    *count = n;
    return 0;
}

int host_profile_load_data(const char *path, size_t sample_bytes, uint8_t **data, size_t *count,
                           char *err, size_t err_len)
{
    struct stat st;
    *data = NULL;
    *count = 0;
    if (sample_bytes == 0) {
        snprintf(err, err_len, "%s: the model's input has no bytes", path);
        return -1;
    }
    if (stat(path, &st) != 0) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode))
        return load_dir(path, sample_bytes, data, count, err, err_len);
    size_t len;
    uint8_t *f = host_read_file(path, &len, err, err_len);
    if (f == NULL)
        return -1;
    if (len == 0 || len % sample_bytes != 0) {
        snprintf(err, err_len, "%s: %zu bytes is not a whole number of %zu-byte input tensors",
                 path, len, sample_bytes);
        free(f);
        return -1;
    }
    *data = f;
    *count = len / sample_bytes;
    return 0;
}

int host_profile_load_labels(const char *path, int32_t **labels, size_t *count, char *err,
                             size_t err_len)
{
    size_t len;
    *labels = NULL;
    *count = 0;
    char *text = host_read_file(path, &len, err, err_len);
    if (text == NULL)
        return -1;
    size_t cap = 64, n = 0, line = 1;
    int32_t *v = malloc(cap * sizeof *v);
    int rc = v != NULL ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < len;) {
        char c = text[i];
        if (c == '\n')
            line++;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',') {
            i++;
            continue;
        }
        long x = 0;
        int neg = c == '-', digits = 0;
        i += (size_t)neg;
        for (; i < len && text[i] >= '0' && text[i] <= '9' && x < 100000000; i++, digits++)
            x = x * 10 + (text[i] - '0');
        int sep = i == len || strchr(" \t\r\n,", text[i]) != NULL;
        if (digits == 0 || !sep || x > 1000000) {
            snprintf(err, err_len, "%s:%zu: labels must be integers (-1 = unknown)", path, line);
            rc = -1;
            break;
        }
        if (n == cap) {
            int32_t *bigger = realloc(v, (cap *= 2) * sizeof *v);
            if (bigger == NULL) {
                rc = -1;
                break;
            }
            v = bigger;
        }
        v[n++] = (int32_t)(neg ? -x : x);
    }
    free(text);
    if (rc != 0 || n == 0) {
        if (rc == 0)
            snprintf(err, err_len, "%s: no labels", path);
        else if (v == NULL)
            snprintf(err, err_len, "%s: out of memory", path);
        free(v);
        return -1;
    }
    *labels = v;
    *count = n;
    return 0;
}

int host_profile_build_files(const uint8_t *model, size_t model_len, const char *data_path,
                             const char *labels_path, const host_profile_opts *o,
                             host_profile_result *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    void *copy = aligned_alloc(16, (model_len + 15) & ~(size_t)15);
    if (copy == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    memcpy(copy, model, model_len);
    host_model hm;
    char msg[400];
    if (host_model_open_bytes(&hm, copy, model_len, msg, sizeof msg) != TMO_OK) {
        host_model_close(&hm);
        snprintf(err, err_len, "profile: %s", msg);
        return -1;
    }
    tmo_io in;
    size_t in_bytes = tmo_interp_input(&hm.interp, 0, &in) == TMO_OK ? in.bytes : 0;
    host_model_close(&hm);
    uint8_t *data = NULL;
    int32_t *labels = NULL;
    size_t count = 0, nlabels = 0;
    int rc = host_profile_load_data(data_path, in_bytes, &data, &count, err, err_len);
    if (rc == 0 && labels_path != NULL) {
        rc = host_profile_load_labels(labels_path, &labels, &nlabels, err, err_len);
        if (rc == 0 && nlabels != count) {
            snprintf(err, err_len, "%s: %zu labels for %zu samples", labels_path, nlabels, count);
            rc = -1;
        }
    }
    if (rc == 0)
        rc = host_profile_build(model, model_len, data, count * in_bytes, labels, o, out, err,
                                err_len);
    free(data);
    free(labels);
    return rc;
}
