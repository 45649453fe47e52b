/*
 * How many simulated devices one machine sustains (docs/simulator.md,
 * numbers in docs/PERFORMANCE.md): for each fleet size N, a fresh real
 * `tinymlops server` on SQLite and N simulated devices (sim.h, default
 * class mix) in this process. Measured: time to enroll them all, time for
 * a rollout of the digits MLP (with monitoring profile and known answers)
 * to reach them all, then over a steady window of at least one check-in
 * interval: how many devices checked in during it, check-ins per second
 * against the schedule (N / interval), agent steps that started more than
 * 1 s late, inferences per second against N x rate, and the CPU of this
 * process and of the server.
 *
 *   sim_capacity [--devices 250,500,1000,2000] [--seconds 60] [--interval 60]
 *                [--infer-hz 1] [--speed 1] [--threads 1] [--cli PATH]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "sim.h"

#define DIGITS "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

typedef struct bench_opts {
    char devices[200];
    double seconds, interval, hz, speed;
    int threads;
    const char *cli;
} bench_opts;

static double now_s(void)
{
    return (double)host_now_ns() / 1e9;
}

static int sh(const char *fmt, const char *a, const char *b, const char *c, const char *d)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, fmt, a, b, c, d);
    return system(cmd) == 0 ? 0 : -1;
}

static double cpu_self(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double cpu_of(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
                            &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double rss_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = 0;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmRSS: %lf", &kb) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kb / 1024;
}

/* Keys, the digits MLP and its bundle with a profile from the simulator's own rows. */
static int prepare(const bench_opts *o, const char *dir)
{
    char model[300], data[300], labels[300], err[300];
    snprintf(model, sizeof model, "%s/mlp.tflite", dir);
    if (sh("cd '%s' && '%s' key gen --role root --out root >/dev/null 2>&1 && "
           "'%s' key gen --role signing --out signing >/dev/null 2>&1 && "
           "'%s' key certify --root root.key --key signing.pub --out signing.cert >/dev/null 2>&1",
           dir, o->cli, o->cli, o->cli) != 0 ||
        sh("'%s' model train --data %s --arch mlp:32 --epochs 8 --out '%s' >/dev/null 2>&1%s",
           o->cli, DIGITS, model, "") != 0)
        return -1;
    size_t len = 0, data_len = 0;
    uint8_t *bytes = host_read_file(model, &len, err, sizeof err), *rows = NULL;
    int32_t *lab = NULL;
    if (bytes == NULL ||
        sim_profile_rows(bytes, len, NULL, 300, &rows, &data_len, &lab, err, sizeof err) != 0) {
        fprintf(stderr, "sim_capacity: %s\n", err);
        free(bytes);
        return -1;
    }
    snprintf(data, sizeof data, "%s/profile.bin", dir);
    snprintf(labels, sizeof labels, "%s/labels.txt", dir);
    FILE *f = fopen(labels, "w");
    for (size_t i = 0; f != NULL && i < data_len / 64; i++)
        fprintf(f, "%d\n", lab[i]);
    int rc = f != NULL && fclose(f) == 0 && host_write_file(data, rows, data_len, err, sizeof err) == 0
                 ? 0
                 : -1;
    free(bytes), free(rows), free(lab);
    char cmd_dir[400];
    snprintf(cmd_dir, sizeof cmd_dir, "%s", dir);
    return rc == 0 ? sh("cd '%s' && '%s' bundle pack mlp.tflite --name digits --version 1.0.0 "
                        "--counter 1 --sign signing.key --cert signing.cert --profile-data "
                        "profile.bin --labels labels.txt --kat 2 --out digits.tmb >/dev/null%s%s",
                        cmd_dir, o->cli, "", "")
                   : -1;
}

static pid_t start_server(const bench_opts *o, const char *dir, char *url, char *admin)
{
    char cmd[1200], out[1024] = "", db[400], port_file[400], root[400], iv[32];
    snprintf(cmd, sizeof cmd, "'%s' server init --db sqlite:%s/fleet.db 2>/dev/null", o->cli, dir);
    FILE *p = popen(cmd, "r");
    size_t n = p != NULL ? fread(out, 1, sizeof out - 1, p) : 0;
    out[n] = '\0';
    if (p != NULL)
        pclose(p);
    char *tok = strstr(out, "tmoa_");
    if (tok == NULL)
        return -1;
    snprintf(admin, 128, "%.*s", (int)strcspn(tok, " \n"), tok);
    snprintf(db, sizeof db, "sqlite:%s/fleet.db", dir);
    snprintf(port_file, sizeof port_file, "%s/port", dir);
    snprintf(root, sizeof root, "%s/root.pub", dir);
    snprintf(iv, sizeof iv, "%d", (int)o->interval);
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        execl(o->cli, o->cli, "server", "--db", db, "--listen", "127.0.0.1:0", "--port-file",
              port_file, "--root-key", root, "--checkin-interval", iv, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        FILE *f = fopen(port_file, "r");
        int port = 0;
        if (f != NULL) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        if (port > 0) {
            snprintf(url, 64, "http://127.0.0.1:%d", port);
            return pid;
        }
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    return -1;
}

static int wait_for(sim *s, int n, int what, double timeout_s)
{
    double end = now_s() + timeout_s;
    while (now_s() < end) {
        sim_counters c;
        sim_get_counters(s, &c);
        if (what == 0 ? c.enrolled >= n : c.with_model >= n && c.updating == 0)
            return 0; /* a rollout is over when every device runs it and none is mid-update */
        struct timespec ts = {0, 200000000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* Each device's successful check-ins so far. */
static void checkins_of(sim *s, int n, long long *out)
{
    for (int i = 0; i < n; i++) {
        char *text = sim_device_json(s, i);
        const char *p = text != NULL ? strstr(text, "\"checkins_ok\":") : NULL;
        out[i] = p != NULL ? atoll(p + 14) : 0;
        free(text);
    }
}

static void quiet(void *ctx, const char *line)
{
    (void)ctx, (void)line;
}

static int run_one(const bench_opts *o, int n)
{
    char dir[] = "/tmp/tmo-simcap-XXXXXX", url[64], admin[128], root[300], env[300];
    if (mkdtemp(dir) == NULL || prepare(o, dir) != 0)
        return -1;
    pid_t server = start_server(o, dir, url, admin);
    if (server < 0)
        return -1;
    snprintf(root, sizeof root, "%s/root.pub", dir);
    const char *roots[1] = {root};
    sim_config c;
    sim_config_defaults(&c);
    c.server_url = url;
    c.admin_token = admin;
    c.root_keys = roots;
    c.root_key_count = 1;
    c.devices = n;
    c.ramp_s = 0;
    c.speed = o->speed;
    c.infer_hz = o->hz;
    c.infer_threads = o->threads;
    c.log = quiet;
    char err[600];
    double t0 = now_s();
    sim *s = sim_open(&c, err, sizeof err);
    int rc = -1;
    if (s == NULL || sim_start(s, err, sizeof err) != 0) {
        fprintf(stderr, "sim_capacity: %s\n", err);
        goto out;
    }
    if (wait_for(s, n, 0, 1200) != 0)
        goto out;
    double enroll_s = now_s() - t0;
    snprintf(env, sizeof env, "TINYMLOPS_SERVER=%s TINYMLOPS_TOKEN=%s", url, admin);
    double t1 = now_s();
    if (sh("cd '%s' && %s '%s' model push digits.tmb >/dev/null && %s", dir, env, o->cli, "true") !=
            0 ||
        sh("%s '%s' deploy create --model digits --version 1.0.0 --all --waves 100 --soak 0 "
           ">/dev/null%s%s",
           env, o->cli, "", "") != 0 ||
        wait_for(s, n, 1, 10 * o->interval / o->speed + 600) != 0)
        goto out;
    double rollout_s = now_s() - t1;
    sim_counters a, b;
    long long *ck0 = calloc((size_t)n, sizeof *ck0), *ck1 = calloc((size_t)n, sizeof *ck1);
    if (ck0 == NULL || ck1 == NULL) {
        free(ck0), free(ck1);
        goto out;
    }
    /* The window covers at least one whole check-in interval (+10 % jitter) of every device. */
    double window = o->seconds > 1.1 * o->interval / o->speed + 2 ? o->seconds
                                                                   : 1.1 * o->interval / o->speed + 2;
    checkins_of(s, n, ck0);
    sim_get_counters(s, &a);
    double cpu0 = cpu_self(), srv0 = cpu_of(server), w0 = now_s();
    struct timespec ts = {(time_t)window, (long)((window - (double)(time_t)window) * 1e9)};
    nanosleep(&ts, NULL);
    sim_get_counters(s, &b);
    checkins_of(s, n, ck1);
    int on_time = 0;
    for (int i = 0; i < n; i++)
        on_time += ck1[i] > ck0[i];
    free(ck0), free(ck1);
    double wall = now_s() - w0, cpu = cpu_self() - cpu0, srv = cpu_of(server) - srv0;
    double sim_s = (double)(b.sim_ms - a.sim_ms) / 1000.0;
    double ck = (double)(b.checkins_ok - a.checkins_ok) / wall;
    double ck_expected = n * (sim_s / wall) / o->interval;
    printf("| %d | %.1f | %.1f | %d/%d | %.1f (%.1f) | %llu | %llu | %.0f (%.0f) | %llu | %.0f%% | "
           "%.0f%% | %.0f |\n",
           n, enroll_s, rollout_s, on_time, n, ck, ck_expected,
           (unsigned long long)(b.checkins_failed - a.checkins_failed),
           (unsigned long long)(b.steps_late - a.steps_late),
           (double)(b.inferences - a.inferences) / wall, n * o->hz * (sim_s / wall),
           (unsigned long long)(b.infer_late - a.infer_late), 100 * cpu / wall, 100 * srv / wall,
           rss_mb());
    fflush(stdout);
    rc = 0;
out:
    sim_close(s);
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
    sh("rm -rf '%s'%s%s%s", dir, "", "", "");
    return rc;
}

int main(int argc, char **argv)
{
    bench_opts o = {"250,500,1000,2000", 60, 60, 1, 1, 1, TMO_CLI};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--devices") == 0)
            snprintf(o.devices, sizeof o.devices, "%s", argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            o.seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--interval") == 0)
            o.interval = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--infer-hz") == 0)
            o.hz = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--speed") == 0)
            o.speed = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--threads") == 0)
            o.threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--cli") == 0)
            o.cli = argv[i + 1];
        else {
            fprintf(stderr, "usage: sim_capacity [--devices 250,500,1000,2000] [--seconds 60] "
                            "[--interval 60] [--infer-hz 1] [--speed 1] [--threads 1] [--cli PATH]\n");
            return 2;
        }
    }
    if (access(DIGITS, R_OK) != 0 || access(o.cli, X_OK) != 0) {
        fprintf(stderr, "sim_capacity: needs %s and %s\n", DIGITS, o.cli);
        return 77;
    }
    signal(SIGPIPE, SIG_IGN);
    printf("check-in interval %g s, %g inferences/s per device, speed x%g, %d inference thread(s), "
           "window %g s, %ld cores\n\n",
           o.interval, o.hz, o.speed, o.threads, o.seconds, sysconf(_SC_NPROCESSORS_ONLN));
    printf("| devices | enroll all (s) | rollout to all (s) | checked in within 1.1 intervals | "
           "check-ins/s (scheduled) | failed "
           "check-ins | steps > 1 s late | inferences/s (scheduled) | late inferences | sim CPU | "
           "server CPU | sim RSS (MB) |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    fflush(stdout);
    for (char *p = strtok(o.devices, ","); p != NULL; p = strtok(NULL, ","))
        if (run_one(&o, atoi(p)) != 0)
            fprintf(stderr, "sim_capacity: the run with %s devices failed\n", p);
    return 0;
}
