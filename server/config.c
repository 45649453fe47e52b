/*
 * Server configuration defaults and parsing of the values given on the
 * command line (wave plans, listen addresses).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

void server_config_defaults(server_config *c)
{
    memset(c, 0, sizeof *c);
    c->db_url = NULL;
    c->listen = "127.0.0.1:8080";
    c->threads = 4;
    static const int waves[] = {1, 10, 50, 100};
    memcpy(c->waves, waves, sizeof waves);
    c->wave_count = 4;
    c->soak_s = 300;
    c->checkin_interval_s = 60;
    c->max_bundle_bytes = 64u << 20;
    c->tick_ms = 1000;
    c->telemetry_raw_hours = 24;
    c->telemetry_keep_days = 30;
    c->max_client_conns = 1024;
    c->rate_limit = 50;
    c->session_ttl_s = 86400;
}

int server_parse_waves(const char *text, int *waves, size_t *count, char *err, size_t err_len)
{
    size_t n = 0;
    const char *p = text;
    while (*p != '\0') {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 100 || (n > 0 && v <= waves[n - 1]) || n == SERVER_MAX_WAVES ||
            (*end != ',' && *end != '\0')) {
            snprintf(err, err_len,
                     "waves must be up to %d increasing percentages 1..100 ending at 100, e.g. "
                     "1,10,50,100",
                     SERVER_MAX_WAVES);
            return -1;
        }
        waves[n++] = (int)v;
        p = *end == ',' ? end + 1 : end;
    }
    if (n == 0 || waves[n - 1] != 100) {
        snprintf(err, err_len, "the last wave must be 100 (every device)");
        return -1;
    }
    *count = n;
    return 0;
}
