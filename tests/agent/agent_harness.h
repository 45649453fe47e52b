/*
 * Harness of the agent state machine tests: one agent (the library, in
 * process) against the mock server, in a temporary state dir, on a virtual
 * scheduling clock that jumps to whatever agent_step() says is next — so
 * backoffs, intervals and health windows take no real time.
 */
#ifndef TMO_TEST_AGENT_HARNESS_H
#define TMO_TEST_AGENT_HARNESS_H

#include <jansson.h>

#include "agent.h"
#include "mock_server.h"
#include "update_fixture.h"

typedef struct harness {
    mock_server m;
    char dir[64];
    char root[128], root_pub[140];
    const char *roots[1];
    agent_config cfg;
    agent *a;
} harness;

/* Mock server, state dir, root key file, a config (token "good"). 0 on success. */
int h_setup(harness *h);
void h_teardown(harness *h);

/* (Re)opens the agent on the state dir with h->cfg. */
agent *h_open(harness *h);
void h_close(harness *h);

/* One agent_step; advances the virtual clock by the returned wait. Returns the wait. */
int64_t h_step(harness *h);

/* Steps until cond holds (at most max steps); evaluates to cond's last value. */
#define H_RUN_UNTIL(h, max, cond)                                                                  \
    do {                                                                                           \
        for (int h_i_ = 0; h_i_ < (max) && !(cond); h_i_++)                                        \
            h_step(h);                                                                             \
    } while (0)

/* The agent's status object (caller decrefs). */
json_t *h_status(harness *h);

/* A field of the status, e.g. "job.phase" or "nv_counter", as text / integer. */
const char *h_str(harness *h, const char *path, char *buf, size_t len);
long h_int(harness *h, const char *path);

/* The version string of the agent's active slot ("" when none). */
const char *h_running(harness *h, char *buf, size_t len);

/* Virtual time now (ms). */
uint64_t h_now(void);

#endif
