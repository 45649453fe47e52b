/*
 * `tinymlops demo`: the whole loop on one machine (server on SQLite, a
 * simulated heterogeneous fleet, signed bundles of models the project trains
 * itself, waves, drift alert, a bad release stopped by the devices' own
 * known-answer tests). Shared state of the demo's files.
 */
#ifndef TMO_DEMO_H
#define TMO_DEMO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "http_client.h"
#include "sim.h"

#define DEMO_PATH 512
#define DEMO_DIR 256 /* leaves room for file names under it */

typedef struct demo_bundle {
    char path[DEMO_PATH];
    long id; /* bundle id on the server once pushed */
} demo_bundle;

typedef struct demo {
    /* options */
    char dir[DEMO_DIR];
    int port, devices, keep_running;
    /* artifacts (demo_artifacts.c) */
    char root_pub[DEMO_PATH], digits[DEMO_PATH], ref_dir[DEMO_PATH];
    demo_bundle v1, v2_mlp, v2_cnn, v3, kws;
    int have_kws;
    double acc_v1, acc_v2_mlp, acc_v2_cnn;
    /* server (demo_fleet.c) */
    pid_t server;
    char url[128], token[128];
    hc_client *api;
    /* fleet */
    sim *fleet;
} demo;

/* Prints one line of the story (stdout) or of progress (stderr). */
void demo_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void demo_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Whether Ctrl-C was pressed. */
int demo_interrupted(void);

/* Sleeps up to ms, returning early (non-zero) on Ctrl-C. */
int demo_sleep_ms(int ms);

/* Keys, certificate, trained models and signed bundles, in d->dir. 0 or -1 (message printed). */
int demo_make_artifacts(demo *d);

/* The server as a child process on d->port with a fresh SQLite database. 0 or -1. */
int demo_start_server(demo *d);
void demo_stop_server(demo *d);

/* Admin API calls; each returns 0 or -1 after printing what went wrong. */
int demo_push(demo *d, demo_bundle *b, int rank);
/* GET of an admin route: the parsed JSON (json_decref it), or NULL after printing why. */
struct json_t *demo_get(demo *d, const char *path);
long demo_deploy(demo *d, const char *json_body);
/* The deployment's state ("active", "completed", "halted", ...) and reason into buffers. */
int demo_deployment_state(demo *d, long id, char *state, size_t len, char *reason, size_t rlen);
/* Waits until the deployment leaves "active" (or timeout_s); prints wave progress. */
int demo_wait_deployment(demo *d, long id, int timeout_s, char *state, size_t len, char *reason,
                         size_t rlen);
/* Waits for an open alert of kind (e.g. "drift") in group; describes it into text. */
int demo_wait_alert(demo *d, const char *kind, const char *group, int timeout_s, char *text,
                    size_t len);

/* The story itself (demo_story.c). */
int demo_run_story(demo *d);

#endif
