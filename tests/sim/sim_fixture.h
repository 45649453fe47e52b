/*
 * Fixture of the simulator tests: the REAL `tinymlops server` on loopback
 * (tests/integration/itest.h), digits classifiers trained by `tinymlops
 * model train`, bundles packed with a monitoring profile and known answers
 * made from quantized digits rows, and a simulated fleet (sim.h) in this
 * process whose event log is captured for assertions.
 */
#ifndef TMO_TEST_SIM_FIXTURE_H
#define TMO_TEST_SIM_FIXTURE_H

#include <jansson.h>
#include <pthread.h>

#include "itest.h"
#include "sim.h"

typedef struct sf_env {
    it_env it;
    char mlp[200], cnn[200]; /* int8 digits models */
    sim *s;
    pthread_mutex_t log_lock;
    char *log;
    size_t log_len, log_cap;
} sf_env;

/* Server, keys, trained models. 0 on success (else the test should skip or fail). */
int sf_start(sf_env *e);

/* Packs model as digits VERSION with a PROFILE and 2 KAT vectors from digits rows. 0 on success. */
int sf_pack(sf_env *e, const char *model, const char *version, int counter, const char *arch,
            const char *out);

/* A started fleet of n devices (the admin token makes enrollment tokens). NULL on failure. */
sim *sf_sim(sf_env *e, int n, const char *mix, const char *groups, double infer_hz);

/* How many captured log lines contain text. */
int sf_log_count(sf_env *e, const char *text);

/* Device index's status (sim_device_json), parsed; NULL for a bad index. */
json_t *sf_device(sf_env *e, int index);

/* Number field of a device ("inferences", "input.mean" for nested objects). */
double sf_num(sf_env *e, int index, const char *path);

/* Closes the fleet, stops the server; keeps the files when keep (or TMO_IT_KEEP). */
void sf_stop(sf_env *e, int keep);

#endif
