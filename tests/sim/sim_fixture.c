/*
 * Simulator test fixture (sim_fixture.h).
 */
#include "sim_fixture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle_pack.h"
#include "host.h"
#include "keys.h"
#include "profile_build.h"

#define DIGITS "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"
#define PROFILE_ROWS 300

static void on_log(void *ctx, const char *line)
{
    sf_env *e = ctx;
    if (getenv("TMO_SIM_TEST_LOG") != NULL)
        fprintf(stderr, "%s\n", line);
    size_t n = strlen(line);
    pthread_mutex_lock(&e->log_lock);
    if (e->log_len + n + 2 > e->log_cap) {
        size_t cap = (e->log_cap + n + 2) * 2;
        char *grown = realloc(e->log, cap);
        if (grown != NULL) {
            e->log = grown;
            e->log_cap = cap;
        }
    }
    if (e->log_len + n + 2 <= e->log_cap) {
        memcpy(e->log + e->log_len, line, n);
        e->log_len += n;
        e->log[e->log_len++] = '\n';
        e->log[e->log_len] = '\0';
    }
    pthread_mutex_unlock(&e->log_lock);
}

int sf_start(sf_env *e)
{
    memset(e, 0, sizeof *e);
    pthread_mutex_init(&e->log_lock, NULL);
    if (access(DIGITS, R_OK) != 0 || it_start(&e->it) != 0)
        return -1;
    snprintf(e->mlp, sizeof e->mlp, "%s/mlp.tflite", e->it.dir);
    snprintf(e->cnn, sizeof e->cnn, "%s/cnn.tflite", e->it.dir);
    return it_sh(NULL, 0,
                 "'%s' model train --data %s --arch mlp:32 --epochs 8 --out '%s' >/dev/null 2>&1 && "
                 "'%s' model train --data %s --arch cnn:c4k3,p2,d16 --epochs 4 --out '%s' "
                 ">/dev/null 2>&1",
                 TMO_CLI, DIGITS, e->mlp, TMO_CLI, DIGITS, e->cnn) == 0
               ? 0
               : -1;
}

int sf_pack(sf_env *e, const char *model, const char *version, int counter, const char *arch,
            const char *out)
{
    char err[300];
    size_t len = 0, cert_len = 0, data_len = 0, bundle_len = 0;
    uint8_t *bytes = host_read_file(model, &len, err, sizeof err), *data = NULL, *bundle = NULL;
    uint8_t *cert = host_read_file(e->it.signing_cert, &cert_len, err, sizeof err);
    int32_t *labels = NULL;
    host_key signer;
    host_profile_result pr;
    memset(&pr, 0, sizeof pr);
    int rc = -1;
    host_profile_opts o;
    host_profile_opts_defaults(&o);
    o.kat_count = 2;
    if (e->s != NULL)
        sim_crypto_lock(e->s, 1); /* PSA is not thread-safe: the fleet's agents use it too */
    if (bytes != NULL && cert != NULL &&
        sim_profile_rows(bytes, len, NULL, PROFILE_ROWS, &data, &data_len, &labels, err,
                         sizeof err) == 0 &&
        host_profile_build(bytes, len, data, data_len, labels, &o, &pr, err, sizeof err) == 0 &&
        host_key_read_private(&signer, e->it.signing_key, err, sizeof err) == 0) {
        host_pack_in in;
        memset(&in, 0, sizeof in);
        in.model = bytes;
        in.model_len = len;
        in.name = "digits";
        host_parse_semver(version, &in.version);
        in.counter = (uint64_t)counter;
        const char *arches[1] = {arch};
        in.arches = arches;
        in.arch_count = arch != NULL;
        in.signer = &signer;
        in.cert = cert;
        in.cert_len = cert_len;
        hb_extra_section sec[2] = {{TMO_SECTION_PROFILE, 0, pr.profile, pr.profile_len},
                                   {TMO_SECTION_KAT, 0, pr.kat, pr.kat_len}};
        in.extra = sec;
        in.extra_count = 2;
        if (host_bundle_pack(&in, &bundle, &bundle_len, err, sizeof err) == 0)
            rc = host_write_file(out, bundle, bundle_len, err, sizeof err);
        host_key_wipe(&signer);
    }
    if (e->s != NULL)
        sim_crypto_lock(e->s, 0);
    if (rc != 0)
        fprintf(stderr, "sf_pack: %s\n", err);
    host_profile_result_free(&pr);
    free(bytes), free(cert), free(data), free(labels), free(bundle);
    return rc;
}

sim *sf_sim(sf_env *e, int n, const char *mix, const char *groups, double infer_hz)
{
    sim_config c;
    sim_config_defaults(&c);
    const char *roots[1] = {e->it.root_pub};
    char dir[300], err[600];
    snprintf(dir, sizeof dir, "%s/sim", e->it.dir);
    c.server_url = e->it.base;
    c.admin_token = e->it.admin;
    c.root_keys = roots;
    c.root_key_count = 1;
    c.devices = n;
    c.mix = mix;
    c.groups = groups;
    c.state_dir = dir;
    c.infer_hz = infer_hz;
    c.ramp_s = 0.5;
    c.max_backoff_s = 2;
    c.health_inferences = 2;
    c.monitor_window = 20;
    c.log = on_log;
    c.log_ctx = e;
    e->s = sim_open(&c, err, sizeof err);
    if (e->s == NULL || sim_start(e->s, err, sizeof err) != 0) {
        fprintf(stderr, "sf_sim: %s\n", err);
        return NULL;
    }
    return e->s;
}

int sf_log_count(sf_env *e, const char *text)
{
    int n = 0;
    size_t len = strlen(text);
    pthread_mutex_lock(&e->log_lock);
    for (const char *p = e->log; p != NULL && (p = strstr(p, text)) != NULL; p += len)
        n++;
    pthread_mutex_unlock(&e->log_lock);
    return n;
}

json_t *sf_device(sf_env *e, int index)
{
    char *text = sim_device_json(e->s, index);
    json_t *v = text != NULL ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return v;
}

double sf_num(sf_env *e, int index, const char *path)
{
    json_t *v = sf_device(e, index), *at = v;
    char buf[100];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *part = strtok(buf, "."); part != NULL && at != NULL; part = strtok(NULL, "."))
        at = json_object_get(at, part);
    double x = json_is_number(at) ? json_number_value(at) : NAN;
    json_decref(v);
    return x;
}

void sf_stop(sf_env *e, int keep)
{
    if (e->s != NULL)
        sim_close(e->s);
    e->s = NULL;
    it_stop(&e->it, NULL, 0, keep);
    free(e->log);
    pthread_mutex_destroy(&e->log_lock);
}
