/*
 * `tinymlops server ...`: run the fleet server, or `server init` to create
 * its database and the first admin token (docs/server.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "server.h"

static const char *usage =
    "tinymlops server --db sqlite:PATH|postgres://USER@HOST/DB [--listen HOST:PORT]\n"
    "       [--root-key ROOT.pub ...] [--threads N]\n"
    "       [--waves 1,10,50,100] [--soak S] [--checkin-interval S] [--max-bundle-bytes N]\n"
    "       [--tick-ms MS] [--port-file FILE] [--access-log]\n"
    "       [--telemetry-raw-hours H] [--telemetry-keep-days D]\n"
    "       [--tls-cert CERT.pem --tls-key KEY.pem] [--max-client-connections N]\n"
    "       [--rate-limit REQ_PER_S] [--rate-limit-loopback] [--session-ttl S]\n"
    "   or: tinymlops server init --db sqlite:PATH|postgres://USER@HOST/DB [--name NAME]";

/*
 * The database as it may be shown: a password in a postgres URL
 * (scheme://user:PASSWORD@host) or conninfo (password=PASSWORD) becomes ***.
 */
static void shown_db(const char *db, char *out, size_t len)
{
    snprintf(out, len, "%s", db);
    char *scheme = strstr(out, "://");
    if (scheme != NULL) {
        char *at = strchr(scheme + 3, '@'), *colon = strchr(scheme + 3, ':');
        if (at != NULL && colon != NULL && colon < at) {
            size_t used = (size_t)(colon + 1 - out);
            char rest[1024];
            snprintf(rest, sizeof rest, "%s", at);
            snprintf(colon + 1, len - used, "***%s", rest);
        }
    }
    char *pw = strstr(out, "password=");
    if (pw != NULL) {
        char *end = pw + strlen("password=");
        size_t value = strcspn(end, " &");
        char rest[1024];
        snprintf(rest, sizeof rest, "%s", end + value);
        snprintf(end, len - (size_t)(end - out), "***%s", rest);
    }
}

static int server_init(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                         {"name", required_argument, NULL, 'n'},
                                         {NULL, 0, NULL, 0}};
    const char *db = NULL, *name = "admin";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd')
            db = optarg;
        else if (c == 'n')
            name = optarg;
        else
            return cli_usage(usage, "unknown option");
    }
    if (db == NULL || optind != argc)
        return cli_usage(usage, "server init needs --db (sqlite:PATH or a postgres URL)");
    char token[128], err[600];
    if (server_init_db(db, name, token, sizeof token, err, sizeof err) != 0)
        return cli_fail("server init: %s", err);
    printf("%s\n", token);
    char shown[1024];
    shown_db(db, shown, sizeof shown);
    fprintf(stderr,
            "tinymlops: database %s is ready; the line above is admin token '%s'.\n"
            "tinymlops: it is shown only once (the server keeps only its hash); store it safely.\n",
            shown, name);
    memset(token, 0, sizeof token);
    return CLI_OK;
}

static int number(const char *opt, const char *text, long max, long *out)
{
    return cli_parse_count(opt, text, max, out) ? 0 : -1;
}

int cmd_server(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "init") == 0)
        return server_init(argc - 1, argv + 1);
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                         {"listen", required_argument, NULL, 'l'},
                                         {"root-key", required_argument, NULL, 'r'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"waves", required_argument, NULL, 'w'},
                                         {"soak", required_argument, NULL, 's'},
                                         {"checkin-interval", required_argument, NULL, 'i'},
                                         {"max-bundle-bytes", required_argument, NULL, 'm'},
                                         {"tick-ms", required_argument, NULL, 'k'},
                                         {"port-file", required_argument, NULL, 'p'},
                                         {"access-log", no_argument, NULL, 'a'},
                                         {"telemetry-raw-hours", required_argument, NULL, 'R'},
                                         {"telemetry-keep-days", required_argument, NULL, 'K'},
                                         {"tls-cert", required_argument, NULL, 'C'},
                                         {"tls-key", required_argument, NULL, 'Y'},
                                         {"max-client-connections", required_argument, NULL, 'M'},
                                         {"rate-limit", required_argument, NULL, 'L'},
                                         {"rate-limit-loopback", no_argument, NULL, 'B'},
                                         {"session-ttl", required_argument, NULL, 'T'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    server_config cfg;
    server_config_defaults(&cfg);
    char err[300];
    long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            cfg.db_url = optarg;
            break;
        case 'l':
            cfg.listen = optarg;
            break;
        case 'r':
            if (cfg.root_key_count == SERVER_MAX_ROOTS)
                return cli_usage(usage, "at most %d --root-key", SERVER_MAX_ROOTS);
            cfg.root_key_paths[cfg.root_key_count++] = optarg;
            break;
        case 't':
            if (number("--threads", optarg, 256, &v) != 0)
                return CLI_USAGE;
            cfg.threads = (unsigned)v;
            break;
        case 'w':
            if (server_parse_waves(optarg, cfg.waves, &cfg.wave_count, err, sizeof err) != 0)
                return cli_usage(usage, "--waves: %s", err);
            break;
        case 's':
            if (strcmp(optarg, "0") == 0)
                cfg.soak_s = 0;
            else if (number("--soak", optarg, 30L * 86400, &v) != 0)
                return CLI_USAGE;
            else
                cfg.soak_s = v;
            break;
        case 'i':
            if (number("--checkin-interval", optarg, 86400, &v) != 0)
                return CLI_USAGE;
            cfg.checkin_interval_s = v;
            break;
        case 'm':
            if (number("--max-bundle-bytes", optarg, 1L << 30, &v) != 0)
                return CLI_USAGE;
            cfg.max_bundle_bytes = (size_t)v;
            break;
        case 'k':
            if (number("--tick-ms", optarg, 600000, &v) != 0)
                return CLI_USAGE;
            cfg.tick_ms = v;
            break;
        case 'p':
            cfg.port_file = optarg;
            break;
        case 'a':
            cfg.access_log = 1;
            break;
        case 'R':
        case 'K': /* 0 turns roll-up (R) or pruning (K) off */
            if (strcmp(optarg, "0") == 0)
                v = 0;
            else if (number(c == 'R' ? "--telemetry-raw-hours" : "--telemetry-keep-days", optarg,
                            c == 'R' ? 24L * 365 : 3650, &v) != 0)
                return CLI_USAGE;
            if (c == 'R')
                cfg.telemetry_raw_hours = v;
            else
                cfg.telemetry_keep_days = v;
            break;
        case 'C':
            cfg.tls_cert_path = optarg;
            break;
        case 'Y':
            cfg.tls_key_path = optarg;
            break;
        case 'M':
            if (number("--max-client-connections", optarg, 100000, &v) != 0)
                return CLI_USAGE;
            cfg.max_client_conns = (unsigned)v;
            break;
        case 'L': /* 0 turns the rate limit off */
            if (strcmp(optarg, "0") == 0)
                v = 0;
            else if (number("--rate-limit", optarg, 1000000, &v) != 0)
                return CLI_USAGE;
            cfg.rate_limit = (double)v;
            break;
        case 'B':
            cfg.rate_limit_loopback = 1;
            break;
        case 'T':
            if (number("--session-ttl", optarg, 30L * 86400, &v) != 0)
                return CLI_USAGE;
            cfg.session_ttl_s = v;
            break;
        case 'h':
            printf("usage: %s\n", usage);
            return CLI_OK;
        default:
            return cli_usage(usage, "unknown option");
        }
    }
    if (optind != argc)
        return cli_usage(usage, "unexpected argument '%s'", argv[optind]);
    if (cfg.db_url == NULL)
        return cli_usage(usage, "--db is required (sqlite:PATH or a postgres URL)");
    if ((cfg.tls_cert_path == NULL) != (cfg.tls_key_path == NULL))
        return cli_usage(usage, "--tls-cert and --tls-key go together");
    return server_run(&cfg) == 0 ? CLI_OK : CLI_FAIL;
}
