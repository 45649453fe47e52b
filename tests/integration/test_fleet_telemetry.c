/*
 * Monitoring without labels, end to end (issue 6 "Proof", docs/agent.md
 * "Telemetry"): the real server and real agents running real inference on a
 * digits classifier the project trains itself (`tinymlops model train` on
 * scikit-learn's digits, Debian python3-sklearn; skipped when absent),
 * packed with a monitoring profile (`bundle pack --profile-data --labels`).
 *   - reports survive kill -9 between buffering and upload, and a lost
 *     upload answer: the server's totals equal the inferences made, exactly;
 *   - a full buffer drops its oldest reports and the next report carries
 *     how many (and their inferences), so the totals still add up;
 *   - a drift alert fires on an injected covariate shift and not on the
 *     clean stream, and resolves by itself when the stream is clean again;
 *   - health gates: a wave whose devices run a slower model halts the
 *     deployment with the reason; with policy rollback it is rolled back;
 *   - a bundle encrypted for one device installs there and is refused
 *     (failed, with the reason) on another (issue 5).
 */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "host.h"
#include "itest.h"
#include "train/dataset.h"

#define DIGITS "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"
#define FEATURES 64
#define PROFILE_N 400

typedef struct world {
    it_env env;
    it_agent agents[16];
    size_t n_agents;
    int8_t *clean, *drifted; /* quantized held-out samples (clean and brightness-shifted) */
    size_t samples;
    char v1[256], v2[256];
} world;

static world W;

static int8_t quantize(float x, float scale, int32_t zp)
{
    double v = x / scale;
    long q = (long)(v >= 0 ? floor(v + 0.5) : ceil(v - 0.5)) + zp;
    return (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
}

/* Writes the profile data (first 400 samples, with labels) and keeps the rest as streams. */
static int prepare_data(const char *model_path)
{
    tr_dataset ds;
    char err[300];
    if (tr_dataset_load(DIGITS, &ds, err, sizeof err) != 0)
        return -1;
    host_model hm;
    if (host_model_open(&hm, model_path, err, sizeof err) != TMO_OK)
        return -1;
    tmo_io in;
    tmo_interp_input(&hm.interp, 0, &in);
    float scale = in.scale;
    int32_t zp = in.zero_point;
    host_model_close(&hm);
    char path[300];
    snprintf(path, sizeof path, "%s/prof.raw", W.env.dir);
    FILE *raw = fopen(path, "wb");
    snprintf(path, sizeof path, "%s/labels.txt", W.env.dir);
    FILE *labels = fopen(path, "w");
    W.samples = ds.count - PROFILE_N;
    W.clean = malloc(W.samples * FEATURES);
    W.drifted = malloc(W.samples * FEATURES);
    for (size_t i = 0; i < ds.count; i++) {
        int8_t q[FEATURES];
        for (size_t f = 0; f < FEATURES; f++)
            q[f] = quantize(ds.x[i * FEATURES + f], scale, zp);
        if (i < PROFILE_N) {
            fwrite(q, 1, FEATURES, raw);
            fprintf(labels, "%d\n", ds.y[i]);
            continue;
        }
        memcpy(W.clean + (i - PROFILE_N) * FEATURES, q, FEATURES);
        for (size_t f = 0; f < FEATURES; f++) { /* a brighter sensor: +6 of 16 on every pixel */
            float x = ds.x[i * FEATURES + f] + 6.0f;
            W.drifted[(i - PROFILE_N) * FEATURES + f] = quantize(x > 16 ? 16 : x, scale, zp);
        }
    }
    fclose(raw);
    fclose(labels);
    tr_dataset_free(&ds);
    return 0;
}

/* Trains a digits MLP with the CLI and packs it with a profile; 0 on success. */
static int make_bundle(const char *arch, int epochs, const char *version, const char *extra,
                       const char *out)
{
    char model[300];
    snprintf(model, sizeof model, "%s/%s.tflite", W.env.dir, version);
    if (it_sh(NULL, 0, "'%s' model train --data %s --arch %s --epochs %d --out %s >/dev/null 2>&1",
              TMO_CLI, DIGITS, arch, epochs, model) != 0)
        return -1;
    if (W.clean == NULL && prepare_data(model) != 0)
        return -1;
    return it_sh(NULL, 0,
                 "cd %s && '%s' bundle pack %s --name digits --version %s --counter 1 "
                 "--sign signing.key --cert signing.cert --profile-data prof.raw "
                 "--labels labels.txt %s --out %s >/dev/null 2>&1",
                 W.env.dir, TMO_CLI, model, version, extra, out);
}

static int group_setup(void **state)
{
    (void)state;
    if (!it_available() || access(DIGITS, R_OK) != 0)
        return 0; /* each test skips */
    if (it_start(&W.env) != 0)
        return -1;
    snprintf(W.v1, sizeof W.v1, "%s/digits-1.tmb", W.env.dir);
    snprintf(W.v2, sizeof W.v2, "%s/digits-2.tmb", W.env.dir);
    if (make_bundle("mlp:64,32", 10, "1.0.0", "", W.v1) != 0 ||
        make_bundle("mlp:384,384", 1, "2.0.0", "", W.v2) != 0 || it_push(&W.env, W.v1) != 0 ||
        it_push(&W.env, W.v2) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (W.env.dir[0] != '\0')
        it_stop(&W.env, W.agents, W.n_agents, getenv("TMO_IT_KEEP") != NULL);
    free(W.clean);
    free(W.drifted);
    return 0;
}

static void need_world(void)
{
    if (W.clean == NULL)
        skip();
}

/* ---- agents ---- */

static it_agent *agent(const char *name, const char *group, const char *const *extra)
{
    it_agent *a = &W.agents[W.n_agents++];
    char *tok = it_token(&W.env, group, 600, 1);
    const char *base[] = {"--telemetry-window", "50", "--telemetry-interval", "1", NULL};
    assert_int_equal(it_agent_start(&W.env, a, name, tok, NULL, extra != NULL ? extra : base), 0);
    free(tok);
    return a;
}

/* Runs n inferences through the agent's local API, samples from offset on; successes. */
static int infer(it_agent *a, const int8_t *data, size_t offset, int n)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(a->sock) >= sizeof addr.sun_path)
        return 0;
    memcpy(addr.sun_path, a->sock, strlen(a->sock));
    int fd = socket(AF_UNIX, SOCK_STREAM, 0), ok = 0;
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return 0;
    }
    for (int i = 0; i < n; i++) {
        uint8_t req[8 + FEATURES] = {'I', 0, 0, 0, FEATURES, 0, 0, 0}, resp[8], out[256];
        memcpy(req + 8, data + ((offset + (size_t)i) % W.samples) * FEATURES, FEATURES);
        if (send(fd, req, sizeof req, MSG_NOSIGNAL) != (ssize_t)sizeof req ||
            recv(fd, resp, 8, MSG_WAITALL) != 8)
            break;
        uint32_t len = resp[4] | (uint32_t)resp[5] << 8;
        if (len > sizeof out || (len > 0 && recv(fd, out, len, MSG_WAITALL) != (ssize_t)len))
            break;
        ok += resp[0] == 0;
    }
    close(fd);
    return ok;
}

static const char *running(it_agent *a, char *buf, size_t len)
{
    buf[0] = '\0';
    json_t *s = it_agent_status(a);
    const char *act = json_string_value(json_object_get(s, "active_slot"));
    size_t i;
    json_t *sl;
    json_array_foreach(json_object_get(s, "slots"), i, sl)
    {
        if (act != NULL && strcmp(json_string_value(json_object_get(sl, "slot")), act) == 0)
            snprintf(buf, len, "%s", json_string_value(json_object_get(sl, "version")));
    }
    json_decref(s);
    return buf;
}

static json_int_t buffered(it_agent *a)
{
    json_t *s = it_agent_status(a);
    json_int_t n = json_integer_value(json_object_get(json_object_get(s, "telemetry"), "buffered"));
    json_decref(s);
    return s != NULL ? n : -1;
}

static long deploy_and_wait(const char *group, const char *version, it_agent **agents, size_t n)
{
    char args[300];
    snprintf(args, sizeof args, "--model digits --version %s --group %s --waves 100 --soak 0",
             version, group);
    long dep = it_deploy(&W.env, args);
    assert_true(dep > 0);
    for (size_t i = 0; i < n; i++) {
        int ok;
        char v[32];
        IT_WAIT(ok, 20000, strcmp(running(agents[i], v, sizeof v), version) == 0);
        assert_true(ok);
    }
    return dep;
}

static json_t *device_reports(const char *device)
{
    return it_get(&W.env, "/api/v1/telemetry/reports?device=%s&limit=100", device);
}

static json_int_t total(json_t *reports, const char *field)
{
    return json_integer_value(json_object_get(json_object_get(reports, "totals"), field));
}

/* ---- tests ---- */

static void reports_survive_restarts(void **state)
{
    (void)state;
    need_world();
    const char *quiet[] = {"--telemetry-window", "50", "--telemetry-interval", "3600", NULL};
    it_agent *a = agent("keeper", "keep", quiet);
    deploy_and_wait("keep", "1.0.0", &a, 1);
    assert_int_equal(infer(a, W.clean, 0, 200), 200);
    int ok;
    IT_WAIT(ok, 5000, buffered(a) == 4); /* four windows on disk, none uploaded */
    assert_true(ok);
    assert_int_equal(it_agent_stop(a, SIGKILL), -1);
    char out[64];
    assert_int_equal(it_sh(out, sizeof out, "ls %s/telemetry | grep -c '^r-'", a->dir), 0);
    assert_string_equal(out, "4");
    /* Restart; the first upload's answer is lost, so the same batch goes out twice. */
    const char *again[] = {"--telemetry-window", "50", "--telemetry-interval", "1", "--test-fault",
                           "lose-telemetry-ack", NULL};
    assert_int_equal(it_agent_start(&W.env, a, "keeper", NULL, NULL, again), 0);
    json_t *r = NULL;
    IT_WAIT(ok, 15000,
            (json_decref(r), r = device_reports(a->id),
             total(r, "duplicates") >= 4 && buffered(a) == 0));
    assert_true(ok);
    assert_int_equal(total(r, "inferences"), 200);
    assert_int_equal(total(r, "reports"), 4);
    assert_int_equal(total(r, "duplicates"), 4);
    json_decref(r);
    /* 130 more: two full windows and 30 in the open one, which SIGTERM closes and keeps. */
    assert_int_equal(infer(a, W.clean, 200, 130), 130);
    assert_int_equal(it_agent_stop(a, SIGTERM), 0);
    assert_int_equal(it_agent_start(&W.env, a, "keeper", NULL, NULL, again), 0);
    r = NULL;
    IT_WAIT(ok, 15000,
            (json_decref(r), r = device_reports(a->id),
             total(r, "inferences") == 330 && buffered(a) == 0));
    assert_true(ok);
    assert_int_equal(total(r, "reports"), 7);
    int seen[8] = {0};
    size_t i;
    json_t *rep;
    json_array_foreach(json_object_get(r, "reports"), i, rep)
    {
        json_int_t seq = json_integer_value(json_object_get(rep, "seq_first"));
        assert_true(seq >= 1 && seq <= 7);
        assert_int_equal(seen[seq]++, 0); /* every sequence number once */
        assert_string_equal(json_string_value(json_object_get(rep, "version")), "1.0.0");
    }
    json_decref(r);
}

/* Bounded buffer: the oldest reports go, and the next report carries what went. */
static void full_buffer_drops_oldest_and_says_so(void **state)
{
    (void)state;
    need_world();
    const char *small[] = {"--telemetry-window",
                           "50",
                           "--telemetry-interval",
                           "3600",
                           "--telemetry-max-reports",
                           "3",
                           NULL};
    it_agent *a = agent("small", "small", small);
    deploy_and_wait("small", "1.0.0", &a, 1);
    assert_int_equal(infer(a, W.clean, 0, 500), 500); /* 10 windows, room for 3 */
    int ok;
    IT_WAIT(ok, 5000, buffered(a) == 3);
    assert_true(ok);
    assert_int_equal(it_agent_stop(a, SIGTERM), 0);
    const char *upload[] = {"--telemetry-window",
                            "50",
                            "--telemetry-interval",
                            "1",
                            "--telemetry-max-reports",
                            "3",
                            NULL};
    assert_int_equal(it_agent_start(&W.env, a, "small", NULL, NULL, upload), 0);
    json_t *r = NULL;
    IT_WAIT(
        ok, 15000,
        (json_decref(r), r = device_reports(a->id), total(r, "reports") == 3 && buffered(a) == 0));
    assert_true(ok);
    /* Reports 8, 9, 10 carry 1, 2, 2 drops (what a dropped report carried is carried on);
       the last 2 wait for the next report. */
    assert_int_equal(total(r, "dropped"), 5);
    assert_int_equal(total(r, "lost_inferences"), 250);
    assert_int_equal(infer(a, W.clean, 500, 50), 50); /* report 11 carries them */
    IT_WAIT(
        ok, 15000,
        (json_decref(r), r = device_reports(a->id), total(r, "reports") == 4 && buffered(a) == 0));
    assert_true(ok);
    /* Every inference is accounted for: received, or counted as lost with its report. */
    assert_int_equal(total(r, "inferences"), 200);
    assert_int_equal(total(r, "dropped"), 7);
    assert_int_equal(total(r, "lost_inferences"), 350);
    json_decref(r);
}

static int drift_alerts(const char *device, const char *state_name)
{
    json_t *l = it_get(&W.env, "/api/v1/alerts?device=%s&kind=drift&state=%s", device, state_name);
    int n = (int)json_array_size(json_object_get(l, "alerts"));
    json_decref(l);
    return n;
}

static void drift_alert_on_shift_only(void **state)
{
    (void)state;
    need_world();
    it_agent *clean = agent("clean", "drift", NULL), *shifted = agent("shifted", "drift", NULL);
    it_agent *both[] = {clean, shifted};
    deploy_and_wait("drift", "1.0.0", both, 2);
    assert_int_equal(infer(clean, W.clean, 0, 600), 600);
    assert_int_equal(infer(shifted, W.clean, 600, 200), 200);
    assert_int_equal(infer(shifted, W.drifted, 0, 300), 300);
    int ok;
    IT_WAIT(ok, 15000, drift_alerts(shifted->id, "open") == 1);
    assert_true(ok);
    json_t *l = it_get(&W.env, "/api/v1/alerts?device=%s&kind=drift", shifted->id);
    const char *msg = json_string_value(
        json_object_get(json_array_get(json_object_get(l, "alerts"), 0), "message"));
    assert_non_null(strstr(msg, "consecutive windows"));
    json_decref(l);
    json_t *r = NULL;
    IT_WAIT(ok, 10000,
            (json_decref(r), r = device_reports(clean->id), total(r, "inferences") == 600));
    json_decref(r);
    assert_true(ok);
    assert_int_equal(drift_alerts(clean->id, "active") + drift_alerts(clean->id, "resolved"), 0);
    l = it_get(&W.env, "/api/v1/alerts?device=%s&kind=accuracy", clean->id);
    assert_int_equal(json_array_size(json_object_get(l, "alerts")), 0);
    json_decref(l);
    /* The sensor is fixed: clean windows resolve the alert by themselves. */
    assert_int_equal(infer(shifted, W.clean, 100, 300), 300);
    IT_WAIT(ok, 15000, drift_alerts(shifted->id, "resolved") == 1);
    assert_true(ok);
}

typedef struct gate_run {
    it_agent *a[4];
    long dep;
} gate_run;

static const char *dep_state(long dep, char *reason, size_t len)
{
    static char state[32];
    json_t *d = it_get(&W.env, "/api/v1/deployments/%ld", dep);
    snprintf(state, sizeof state, "%s", json_string_value(json_object_get(d, "state")));
    snprintf(reason, len, "%s", json_string_value(json_object_get(d, "reason")));
    json_decref(d);
    return state;
}

static void health_gates_halt_and_roll_back(void **state)
{
    (void)state;
    need_world();
    gate_run runs[2];
    const char *groups[2] = {"gate-halt", "gate-rollback"}, *actions[2] = {"halt", "rollback"};
    for (int g = 0; g < 2; g++) {
        for (int i = 0; i < 4; i++) {
            char name[32];
            snprintf(name, sizeof name, "%s-%d", groups[g], i);
            runs[g].a[i] = agent(name, groups[g], NULL);
        }
        deploy_and_wait(groups[g], "1.0.0", runs[g].a, 4);
    }
    for (int g = 0; g < 2; g++) { /* v2: the same classifier, about 20x slower */
        char args[300];
        snprintf(args, sizeof args,
                 "--model digits --version 2.0.0 --group %s --waves 50,100 --soak 2 "
                 "--gate %s --gate-min-inferences 150",
                 groups[g], actions[g]);
        runs[g].dep = it_deploy(&W.env, args);
        assert_true(runs[g].dep > 0);
    }
    char reason[512], v[32];
    int done = 0;
    for (long end = it_ms() + 60000; !done && it_ms() < end;) {
        for (int g = 0; g < 2; g++)
            for (int i = 0; i < 4; i++)
                infer(runs[g].a[i], W.clean, (size_t)i * 50, 50);
        done = strcmp(dep_state(runs[0].dep, reason, sizeof reason), "active") != 0 &&
               strcmp(dep_state(runs[1].dep, reason, sizeof reason), "active") != 0;
        it_sleep_ms(200);
    }
    assert_string_equal(dep_state(runs[0].dep, reason, sizeof reason), "halted");
    assert_true(strncmp(reason, "wave 0 halted: latency p95 ", 27) == 0);
    assert_non_null(strstr(reason, "vs baseline"));
    assert_non_null(strstr(reason, "(limit x1.5)"));
    int on_v1 = 0;
    for (int i = 0; i < 4; i++)
        on_v1 += strcmp(running(runs[0].a[i], v, sizeof v), "1.0.0") == 0;
    assert_int_equal(on_v1, 2); /* the second wave never opened */
    assert_string_equal(dep_state(runs[1].dep, reason, sizeof reason), "rolled-back");
    assert_true(strncmp(reason, "wave 0 rolled back: latency p95 ", 32) == 0);
    for (int i = 0; i < 4; i++) { /* the rollback deployment brings wave 0 back to 1.0.0 */
        int ok;
        IT_WAIT(ok, 20000, strcmp(running(runs[1].a[i], v, sizeof v), "1.0.0") == 0);
        assert_true(ok);
    }
}

static void encrypted_bundle_for_one_device(void **state)
{
    (void)state;
    need_world();
    it_agent *mine = agent("enc-mine", "enc", NULL), *other = agent("enc-other", "enc", NULL);
    char model[300], out[300];
    snprintf(model, sizeof model, "%s/1.0.0.tflite", W.env.dir);
    assert_int_equal(it_sh(NULL, 0, "cd %s && '%s' device pubkey %s --out mine.pub 2>/dev/null",
                           W.env.dir, TMO_CLI, mine->id),
                     0);
    snprintf(out, sizeof out, "%s/enc.tmb", W.env.dir);
    assert_int_equal(it_sh(NULL, 0,
                           "cd %s && '%s' bundle pack %s --name digits --version 1.5.0 --counter 1 "
                           "--sign signing.key --cert signing.cert --encrypt-for mine.pub "
                           "--out %s >/dev/null 2>&1",
                           W.env.dir, TMO_CLI, model, out),
                     0);
    assert_int_equal(it_push(&W.env, out), 0);
    long dep = it_deploy(&W.env, "--model digits --version 1.5.0 --group enc --waves 100 --soak 0 "
                                 "--max-failures 1");
    assert_true(dep > 0);
    char st[32], reason[512], v[32];
    int ok;
    IT_WAIT(ok, 20000,
            strcmp(it_device_state(&W.env, dep, other->id, st, sizeof st, reason, sizeof reason),
                   "failed") == 0);
    assert_true(ok);
    assert_non_null(strstr(reason, "EKEY"));
    IT_WAIT(ok, 20000, strcmp(running(mine, v, sizeof v), "1.5.0") == 0);
    assert_true(ok);
    assert_int_equal(infer(mine, W.clean, 0, 10), 10); /* decrypted, and it runs */
    assert_string_equal(running(other, v, sizeof v), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reports_survive_restarts),
        cmocka_unit_test(full_buffer_drops_oldest_and_says_so),
        cmocka_unit_test(drift_alert_on_shift_only),
        cmocka_unit_test(health_gates_halt_and_roll_back),
        cmocka_unit_test(encrypted_bundle_for_one_device),
    };
    if (!it_available())
        return 77;
    if (access(DIGITS, R_OK) != 0) {
        fprintf(stderr, "skipped: %s (python3-sklearn) is not installed\n", DIGITS);
        return 77;
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
