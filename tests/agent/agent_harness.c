/*
 * Agent test harness (see agent_harness.h).
 */
#include "agent_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t vnow = 1000000;

uint64_t h_now(void)
{
    return vnow;
}

static uint64_t vclock(void *ctx)
{
    (void)ctx;
    return vnow;
}

static void quiet(void *ctx, const char *line)
{
    (void)ctx;
    if (getenv("TMO_AGENT_TEST_LOG") != NULL)
        fprintf(stderr, "%s\n", line);
}

int h_setup(harness *h)
{
    memset(h, 0, sizeof *h);
    snprintf(h->dir, sizeof h->dir, "/tmp/tmo-agent-XXXXXX");
    if (mkdtemp(h->dir) == NULL || ufx_setup() != 0 || mock_start(&h->m) != 0)
        return -1;
    snprintf(h->root, sizeof h->root, "%s/root", h->dir);
    snprintf(h->root_pub, sizeof h->root_pub, "%s.pub", h->root);
    if (ufx_write_root(h->root) != 0)
        return -1;
    h->roots[0] = h->root_pub;
    agent_config *c = &h->cfg;
    c->server_url = h->m.base;
    c->state_dir = h->dir;
    c->enroll_token = "good";
    c->root_keys = h->roots;
    c->root_key_count = 1;
    c->checkin_interval_s = 1;
    c->max_backoff_s = 8;
    c->slot_size = 256 * 1024;
    c->health_inferences = 2;
    c->name = "test";
    c->log = quiet;
    c->now_ms = vclock;
    return 0;
}

void h_teardown(harness *h)
{
    h_close(h);
    mock_stop(&h->m);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", h->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", h->dir);
}

agent *h_open(harness *h)
{
    char err[300];
    h_close(h);
    h->a = agent_open(&h->cfg, err, sizeof err);
    if (h->a == NULL)
        fprintf(stderr, "agent_open: %s\n", err);
    return h->a;
}

void h_close(harness *h)
{
    agent_close(h->a);
    h->a = NULL;
}

int64_t h_step(harness *h)
{
    int64_t w = agent_step(h->a);
    if (w > 0)
        vnow += (uint64_t)w;
    return w;
}

json_t *h_status(harness *h)
{
    char *s = agent_status(h->a);
    json_t *v = json_loads(s, 0, NULL);
    free(s);
    return v;
}

static json_t *field(json_t *v, const char *path)
{
    char key[64];
    const char *dot = strchr(path, '.');
    if (dot == NULL)
        return json_object_get(v, path);
    snprintf(key, sizeof key, "%.*s", (int)(dot - path), path);
    return field(json_object_get(v, key), dot + 1);
}

const char *h_str(harness *h, const char *path, char *buf, size_t len)
{
    json_t *v = h_status(h);
    const char *s = json_string_value(field(v, path));
    snprintf(buf, len, "%s", s != NULL ? s : "");
    json_decref(v);
    return buf;
}

long h_int(harness *h, const char *path)
{
    json_t *v = h_status(h);
    long n = (long)json_integer_value(field(v, path));
    json_decref(v);
    return n;
}

const char *h_running(harness *h, char *buf, size_t len)
{
    json_t *v = h_status(h);
    const char *act = json_string_value(json_object_get(v, "active_slot"));
    buf[0] = '\0';
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(v, "slots"), i,
                       s) if (act != NULL &&
                              strcmp(json_string_value(json_object_get(s, "slot")), act) == 0)
        snprintf(buf, len, "%s", json_string_value(json_object_get(s, "version")));
    json_decref(v);
    return buf;
}
