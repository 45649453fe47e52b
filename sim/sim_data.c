/*
 * Loading the simulator's shared data sets (sim_data.h): a labelled file
 * through the model factory's loader, and the MLPerf Tiny reference inputs
 * (the .in files of golden/dev/MODEL/ listed in its MANIFEST.tsv) as raw tensor sets.
 */
#include "sim_data.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "train/dataset.h"

#define MAX_REF_SAMPLES 64

static sim_dataset *add_set(sim_data *d)
{
    sim_dataset *grown = realloc(d->sets, (d->count + 1) * sizeof *grown);
    if (grown == NULL)
        return NULL;
    d->sets = grown;
    sim_dataset *s = &d->sets[d->count++];
    memset(s, 0, sizeof *s);
    return s;
}

/* Row indices grouped by label, for class-mix drift. */
static int index_classes(sim_dataset *s)
{
    s->by_class = malloc(s->count * sizeof *s->by_class);
    s->class_start = calloc((size_t)s->classes + 1, sizeof *s->class_start);
    if (s->by_class == NULL || s->class_start == NULL)
        return -1;
    for (size_t i = 0; i < s->count; i++)
        s->class_start[s->y[i] + 1]++;
    for (int32_t k = 0; k < s->classes; k++)
        s->class_start[k + 1] += s->class_start[k];
    size_t *fill = calloc((size_t)s->classes, sizeof *fill);
    if (fill == NULL)
        return -1;
    for (size_t i = 0; i < s->count; i++) {
        int32_t k = s->y[i];
        s->by_class[s->class_start[k] + fill[k]++] = i;
    }
    free(fill);
    return 0;
}

static int load_labelled(sim_data *d, const char *path, char *err, size_t err_len)
{
    tr_dataset ds;
    if (tr_dataset_load(path, &ds, err, err_len) != 0)
        return -1;
    sim_dataset *s = add_set(d);
    if (s == NULL) {
        tr_dataset_free(&ds);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    const char *base = strrchr(path, '/');
    snprintf(s->name, sizeof s->name, "%s", base != NULL ? base + 1 : path);
    s->count = ds.count;
    s->features = ds.features;
    s->type = TMO_FLOAT32;
    s->x = ds.x; /* taken over */
    s->y = ds.y;
    s->classes = ds.classes;
    s->lo = s->hi = s->x[0];
    for (size_t i = 0; i < ds.count * ds.features; i++) {
        if (s->x[i] < s->lo)
            s->lo = s->x[i];
        if (s->x[i] > s->hi)
            s->hi = s->x[i];
    }
    if (index_classes(s) != 0) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    return 0;
}

static int32_t dtype(const char *name)
{
    if (strcmp(name, "INT8") == 0)
        return TMO_INT8;
    if (strcmp(name, "UINT8") == 0)
        return TMO_UINT8;
    if (strcmp(name, "FLOAT32") == 0)
        return TMO_FLOAT32;
    return -1;
}

/* One golden/dev/<model>/ directory: every listed input of the first listed type and size. */
static void load_ref_model(sim_data *d, const char *dir, const char *model)
{
    char path[1400], err[200];
    snprintf(path, sizeof path, "%s/%s/MANIFEST.tsv", dir, model);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char line[1024], file[256], in_type[32];
    uint8_t *raw = NULL;
    size_t n = 0, bytes = 0;
    int32_t type = -1;
    while (fgets(line, sizeof line, f) != NULL && n < MAX_REF_SAMPLES) {
        if (sscanf(line, "%255s %31s", file, in_type) != 2 || strcmp(file, "file") == 0)
            continue;
        int32_t t = dtype(in_type);
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s/%s.in", dir, model, file);
        uint8_t *b = t >= 0 ? host_read_file(path, &len, err, sizeof err) : NULL;
        if (b == NULL || len == 0 || (n > 0 && (len != bytes || t != type))) {
            free(b);
            continue;
        }
        uint8_t *grown = realloc(raw, (n + 1) * len);
        if (grown == NULL) {
            free(b);
            break;
        }
        raw = grown;
        memcpy(raw + n * len, b, len);
        free(b);
        bytes = len;
        type = t;
        n++;
    }
    fclose(f);
    sim_dataset *s = n > 0 ? add_set(d) : NULL;
    if (s == NULL) {
        free(raw);
        return;
    }
    snprintf(s->name, sizeof s->name, "%s", model);
    s->count = n;
    s->type = type;
    s->raw = raw;
    s->raw_bytes = bytes;
    s->features = type == TMO_FLOAT32 ? bytes / 4 : bytes;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void load_ref(sim_data *d, const char *ref_dir)
{
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/golden/dev", ref_dir);
    DIR *dp = opendir(dir);
    if (dp == NULL)
        return;
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL && n < 256)
        if (e->d_name[0] != '.')
            names[n++] = strdup(e->d_name);
    closedir(dp);
    qsort(names, n, sizeof names[0], by_name); /* int8 sets before fp32 ones of a model */
    for (size_t i = 0; i < n; i++) {
        if (names[i] != NULL)
            load_ref_model(d, dir, names[i]);
        free(names[i]);
    }
}

int sim_data_load(sim_data *d, const char *labelled_path, const char *ref_dir, char *err,
                  size_t err_len)
{
    memset(d, 0, sizeof *d);
    if (labelled_path != NULL && load_labelled(d, labelled_path, err, err_len) != 0) {
        sim_data_free(d);
        return -1;
    }
    if (ref_dir != NULL)
        load_ref(d, ref_dir);
    return 0;
}

void sim_data_free(sim_data *d)
{
    for (size_t i = 0; i < d->count; i++) {
        sim_dataset *s = &d->sets[i];
        free(s->x);
        free(s->raw);
        free(s->y);
        free(s->by_class);
        free(s->class_start);
    }
    free(d->sets);
    memset(d, 0, sizeof *d);
}

const sim_dataset *sim_data_match(const sim_data *d, const tmo_io *in)
{
    size_t elems = 1;
    for (uint32_t i = 0; i < in->ndim; i++)
        elems *= (size_t)(in->dims[i] > 0 ? in->dims[i] : 1);
    int numeric = in->type == TMO_INT8 || in->type == TMO_UINT8 || in->type == TMO_FLOAT32;
    for (size_t i = 0; numeric && i < d->count; i++) {
        const sim_dataset *s = &d->sets[i];
        if (s->x != NULL && s->features == elems)
            return s;
        if (s->raw != NULL && s->type == in->type && s->raw_bytes == in->bytes)
            return s;
    }
    return NULL;
}
