/*
 * Wall clock port over CLOCK_REALTIME. A clock before 2020 is treated as
 * "not set" (a board that booted without NTP), not as a time to trust.
 */
#include <time.h>

#include "port_posix.h"

enum { YEAR_2020 = 1577836800 };

static tmo_err clock_now(void *ctx, uint64_t *unix_seconds)
{
    (void)ctx;
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < YEAR_2020)
        return TMO_PORT_ETIME;
    *unix_seconds = (uint64_t)ts.tv_sec;
    return TMO_OK;
}

void tmo_posix_clock_init(tmo_port_clock *clock)
{
    clock->now = clock_now;
    clock->ctx = NULL;
}
