/*
 * Preparing a simulated fleet (sim_open): checking the configuration,
 * dealing classes, groups and tags to devices deterministically from the
 * seed, the state dir (a subdirectory per device, a P-9 profile file per
 * class), the shared data sets, and the enrollment tokens.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"
#include "sim_priv.h"

#define DIGITS_CSV "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"
#define DEFAULT_MIX "m0:10,m4:50,m7:30,gw:10"

void sim_config_defaults(sim_config *c)
{
    memset(c, 0, sizeof *c);
    c->speed = 1;
    c->infer_hz = 1;
    c->ramp_s = 5;
    c->infer_threads = 1;
    c->step_workers = 4;
    c->seed = 1;
    c->health_inferences = -1;
    c->max_backoff_s = 60;
    c->monitor_window = 100;
}

static int mkdirs(const char *path)
{
    char buf[1100];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0700) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(buf, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

static int check(const sim_config *c, char *err, size_t err_len)
{
    const char *bad = NULL;
    if (c->server_url == NULL || c->server_url[0] == '\0')
        bad = "a server URL is required";
    else if (c->devices < 1 || c->devices > 100000)
        bad = "devices must be in 1..100000";
    else if (c->root_key_count < 1 || c->root_key_count > 8)
        bad = "give 1..8 pinned root public keys: devices trust no bundle without one";
    else if (!(c->speed > 0 && c->speed <= 1000))
        bad = "speed must be in (0, 1000]";
    else if (!(c->infer_hz >= 0 && c->infer_hz <= 1000))
        bad = "inference rate must be in [0, 1000] per device and simulated second";
    else if (c->infer_threads < 1 || c->infer_threads > SIM_MAX_INFER_THREADS)
        bad = "inference threads must be in 1..8";
    else if (c->step_workers < 1 || c->step_workers > SIM_MAX_WORKERS)
        bad = "step workers must be in 1..16";
    else if (!(c->ramp_s >= 0 && c->ramp_s <= 86400))
        bad = "ramp must be in [0, 86400] seconds";
    else if (c->monitor_window < 1 || c->monitor_window > 1000000)
        bad = "monitor window must be in 1..1000000 inferences";
    else if (c->checkin_interval_s < 0 || c->max_backoff_s < 0)
        bad = "intervals must not be negative";
    if (bad != NULL)
        snprintf(err, err_len, "%s", bad);
    return bad != NULL ? -1 : 0;
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static int write_profiles(struct sim *s, char *err, size_t err_len)
{
    char dir[1060];
    snprintf(dir, sizeof dir, "%s/profiles", s->state_dir);
    if (mkdirs(dir) != 0) {
        snprintf(err, err_len, "%s: cannot create: %s", dir, strerror(errno));
        return -1;
    }
    for (int k = 0; k < SIM_CLASSES; k++) {
        const sim_class *c = sim_class_get(k);
        char *json = sim_class_profile_json(c);
        snprintf(s->profile_path[k], sizeof s->profile_path[k], "%s/%s.json", dir, c->name);
        int rc = json != NULL ? host_write_file(s->profile_path[k], json, strlen(json), err, err_len)
                              : -1;
        free(json);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Each tag on its percentage of devices, picked by a seeded shuffle of its own. */
static void deal_tags(struct sim *s)
{
    int *order = malloc((size_t)s->n * sizeof *order);
    if (order == NULL)
        return;
    for (size_t t = 0; t < s->tags.count; t++) {
        for (int i = 0; i < s->n; i++)
            order[i] = i;
        uint64_t st = s->cfg.seed * 31 + t + 7;
        for (int i = s->n; i > 1; i--) {
            int j = (int)(sim_rand(&st) % (uint64_t)i), x = order[i - 1];
            order[i - 1] = order[j];
            order[j] = x;
        }
        double w = s->tags.weight[t] > 100 ? 100 : s->tags.weight[t];
        int take = (int)(w * s->n / 100.0 + 0.5);
        for (int i = 0; i < take; i++)
            s->dev[order[i]].tags |= 1u << t;
    }
    free(order);
}

static int deal(struct sim *s, const sim_config *c, char *err, size_t err_len)
{
    sim_split mix;
    if (sim_split_parse("--mix", c->mix != NULL ? c->mix : DEFAULT_MIX, &mix, err, err_len) != 0 ||
        sim_split_parse("--groups", c->groups != NULL ? c->groups : "sim", &s->groups, err,
                        err_len) != 0)
        return -1;
    if (c->tags != NULL && sim_split_parse("--tags", c->tags, &s->tags, err, err_len) != 0)
        return -1;
    if (s->tags.count > 15) { /* the class name is a tag too; a token takes 16 */
        snprintf(err, err_len, "--tags: at most 15 tags");
        return -1;
    }
    int cls_of[SIM_MAX_SPLIT];
    for (size_t i = 0; i < mix.count; i++)
        if ((cls_of[i] = sim_class_find(mix.name[i])) < 0) {
            snprintf(err, err_len, "--mix: '%s' is not a device class (m0, m4, m7, gw)",
                     mix.name[i]);
            return -1;
        }
    int *k = malloc((size_t)s->n * sizeof *k), *g = malloc((size_t)s->n * sizeof *g);
    int rc = k != NULL && g != NULL && sim_split_deal(&mix, (size_t)s->n, c->seed, k) == 0 &&
                     sim_split_deal(&s->groups, (size_t)s->n, c->seed + 1, g) == 0
                 ? 0
                 : -1;
    if (rc != 0)
        snprintf(err, err_len, "--mix and --groups need a weight above 0");
    for (int i = 0; rc == 0 && i < s->n; i++) {
        sim_device *d = &s->dev[i];
        d->cls = cls_of[k[i]];
        d->group = g[i];
    }
    free(k);
    free(g);
    if (rc == 0)
        deal_tags(s);
    return rc;
}

static int make_devices(struct sim *s, char *err, size_t err_len)
{
    s->dev = calloc((size_t)s->n, sizeof *s->dev);
    if (s->dev == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    int width = s->n > 10000 ? 5 : 4;
    for (int i = 0; i < s->n; i++) {
        sim_device *d = &s->dev[i];
        d->sim = s;
        d->index = i;
        snprintf(d->name, sizeof d->name, "dev-%0*d", width, i);
        pthread_mutex_init(&d->lock, NULL);
        d->drift.scale = 1;
        d->drift.frac = 1;
        d->rng = s->cfg.seed * 0x2545F4914F6CDD1Dull + (uint64_t)i;
        d->salt = sim_rand(&d->rng);
        char dir[1100];
        snprintf(dir, sizeof dir, "%s/%s", s->state_dir, d->name);
        if (mkdirs(dir) != 0) {
            snprintf(err, err_len, "%s: cannot create: %s", dir, strerror(errno));
            return -1;
        }
    }
    return 0;
}

static int state_dir(struct sim *s, const sim_config *c, char *err, size_t err_len)
{
    if (c->state_dir != NULL) {
        snprintf(s->state_dir, sizeof s->state_dir, "%s", c->state_dir);
        if (mkdirs(s->state_dir) != 0) {
            snprintf(err, err_len, "%s: cannot create: %s", s->state_dir, strerror(errno));
            return -1;
        }
        return 0;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(s->state_dir, sizeof s->state_dir, "%s/tmo-sim-XXXXXX",
             tmp != NULL && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(s->state_dir) == NULL) {
        snprintf(err, err_len, "cannot make a temporary state dir: %s", strerror(errno));
        return -1;
    }
    s->temp_dir = 1;
    return 0;
}

static void data_paths(struct sim *s, const sim_config *c)
{
    if (c->data_path != NULL)
        snprintf(s->data_path, sizeof s->data_path, "%s", c->data_path);
    else if (access(DIGITS_CSV, R_OK) == 0)
        snprintf(s->data_path, sizeof s->data_path, "%s", DIGITS_CSV);
    const char *env = getenv("TINYMLOPS_REF");
    if (c->ref_dir != NULL)
        snprintf(s->ref_dir, sizeof s->ref_dir, "%s", c->ref_dir);
    else if (env != NULL && env[0] != '\0')
        snprintf(s->ref_dir, sizeof s->ref_dir, "%s", env);
#ifdef TMO_REF_DIR
    else if (access(TMO_REF_DIR, R_OK) == 0)
        snprintf(s->ref_dir, sizeof s->ref_dir, "%s", TMO_REF_DIR);
#endif
}

int sim_setup(struct sim *s, const sim_config *c, char *err, size_t err_len)
{
    if (check(c, err, err_len) != 0)
        return -1;
    s->cfg = *c;
    s->server_url = dup_or_null(c->server_url);
    s->enroll_token = dup_or_null(c->enroll_token);
    s->admin_token = dup_or_null(c->admin_token);
    s->cfg.server_url = s->server_url;
    s->cfg.enroll_token = s->enroll_token;
    s->cfg.admin_token = s->admin_token;
    for (size_t i = 0; i < c->root_key_count; i++) {
        char *real = realpath(c->root_keys[i], NULL); /* agents run with other working dirs */
        s->root_keys[i] = real != NULL ? real : strdup(c->root_keys[i]);
        if (real == NULL) {
            snprintf(err, err_len, "%s: cannot read the root key: %s", c->root_keys[i],
                     strerror(errno));
            return -1;
        }
    }
    s->cfg.root_keys = (const char *const *)s->root_keys;
    s->cfg.mix = s->cfg.groups = s->cfg.tags = NULL; /* parsed below, not kept */
    s->cfg.state_dir = s->cfg.data_path = s->cfg.ref_dir = NULL;
    s->n = c->devices;
    if (state_dir(s, c, err, err_len) != 0 || make_devices(s, err, err_len) != 0 ||
        deal(s, c, err, err_len) != 0 || write_profiles(s, err, err_len) != 0)
        return -1;
    data_paths(s, c);
    if (sim_data_load(&s->data, s->data_path[0] ? s->data_path : NULL,
                      s->ref_dir[0] ? s->ref_dir : NULL, err, err_len) != 0)
        return -1;
    if (sim_heap_init(&s->ctl, (size_t)s->n) != 0) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    if (s->admin_token != NULL && s->enroll_token == NULL)
        return sim_enroll_tokens(s, err, err_len);
    for (int i = 0; i < s->n; i++)
        s->dev[i].token = s->enroll_token;
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

void sim_teardown(struct sim *s)
{
    for (int i = 0; s->dev != NULL && i < s->n; i++) {
        sim_device_unbind(&s->dev[i]);
        pthread_mutex_destroy(&s->dev[i].lock);
    }
    free(s->dev);
    s->dev = NULL;
    sim_data_free(&s->data);
    sim_heap_free(&s->ctl);
    for (size_t i = 0; i < s->token_count; i++)
        free(s->tokens[i]);
    free(s->tokens);
    for (size_t i = 0; i < 8; i++)
        free(s->root_keys[i]);
    free(s->server_url);
    free(s->enroll_token);
    free(s->admin_token);
    if (s->temp_dir)
        nftw(s->state_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
