/*
 * The fleet server (`tinymlops server`): configuration, `server init`, and
 * the blocking run loop. The CLI parses arguments into a server_config and
 * calls these; everything else in server/ is private to the server.
 */
#ifndef TMO_SERVER_H
#define TMO_SERVER_H

#include <stddef.h>
#include <stdint.h>

#define SERVER_MAX_ROOTS 16
#define SERVER_MAX_WAVES 10

typedef struct server_config {
    const char *db_url;                           /* "sqlite:PATH" */
    const char *listen;                           /* "HOST:PORT"; port 0 picks a free port */
    const char *root_key_paths[SERVER_MAX_ROOTS]; /* PEM public keys bundles must chain to */
    size_t root_key_count;
    unsigned threads;            /* HTTP worker threads */
    int waves[SERVER_MAX_WAVES]; /* default wave plan: cumulative percentages, last = 100 */
    size_t wave_count;
    int64_t soak_s;              /* default minimum soak between waves */
    int64_t checkin_interval_s;  /* told to devices (P-8, P-14) */
    size_t max_bundle_bytes;     /* largest accepted upload */
    int64_t tick_ms;             /* deployment controller period */
    const char *port_file;       /* write the bound port here once listening (tests) */
    int access_log;              /* one line per request on stderr */
    int64_t telemetry_raw_hours; /* keep every report window this long, then hourly roll-ups */
    int64_t telemetry_keep_days; /* drop telemetry older than this */
    /* Limits (docs/server.md "Limits") */
    unsigned max_client_conns; /* open connections per client address */
    double rate_limit;         /* requests/s per client address, 0 = none */
    int rate_limit_loopback;   /* also limit clients on 127.0.0.0/8 and ::1 */
    int64_t session_ttl_s; /* lifetime of a device session (P-32) */
    /* HTTPS: PEM files of the certificate (chain) and its private key; NULL = plain HTTP */
    const char *tls_cert_path, *tls_key_path;
} server_config;

/*
 * Fills the defaults: listen 127.0.0.1:8080, waves 1,10,50,100, soak 300 s,
 * check-in 60 s, 1024 connections and 50 requests/s per client address
 * (loopback clients not rate-limited).
 */
void server_config_defaults(server_config *c);

/* Parses "1,10,50,100" into c->waves (strictly increasing, 1..100, ending at 100). */
int server_parse_waves(const char *text, int *waves, size_t *count, char *err, size_t err_len);

/*
 * Opens the store, migrates it, loads the root keys, serves until SIGINT or
 * SIGTERM, then shuts down gracefully (stops accepting, lets requests in
 * flight finish). Returns a process exit code; messages go to stderr.
 */
int server_run(const server_config *c);

/*
 * `server init`: creates (or migrates) the database and a new admin token
 * named name. The token is written to token (at least 64 bytes) and is
 * stored only hashed. Returns 0, or -1 with a message in err.
 */
int server_init_db(const char *db_url, const char *name, char *token, size_t token_len, char *err,
                   size_t err_len);

#endif
