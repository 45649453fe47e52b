/*
 * The durable, bounded buffer of monitoring reports (docs/agent.md
 * "Telemetry"): one file per report in <state>/telemetry/ (r-<seq>.json:
 * the model identity, server-time stamp and the report in base64), written
 * atomically before the report counts as produced, deleted only when the
 * server acknowledged it. telemetry.json keeps what must survive a restart:
 * the next sequence number (so a report is never numbered twice - the server
 * deduplicates by it) and the count of reports dropped to stay within the
 * bounds, which the next report carries (its header's `dropped`, and
 * `lost_inferences` beside it).
 *
 * Crash safety: a report file names its own sequence number, so the next one
 * is max(saved, newest file + 1) after a restart; a drop saves the counters
 * and the seq it is removing before unlinking (finished at the next open);
 * a report that carries the pending counts records the drop id it consumed,
 * so counts are carried exactly once.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_tel.h"
#include "devauth.h"
#include "host.h"

static void entry_path(const agent_tel *t, uint64_t seq, char *out, size_t len)
{
    snprintf(out, len, "%s/r-%020llu.json", t->dir, (unsigned long long)seq);
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int write_text(agent *a, const agent_tel *t, const char *path, const char *text)
{
    char err[300];
    if (host_write_file(path, text, strlen(text), err, sizeof err) != 0) {
        agent_error(a, "telemetry: cannot write %s", path);
        return -1;
    }
    return sync_dir(t->dir);
}

static int write_json(agent *a, const agent_tel *t, const char *path, json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    int rc = text != NULL ? write_text(a, t, path, text) : -1;
    free(text);
    return rc;
}

int tbuf_save(agent *a, agent_tel *t)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/telemetry.json", t->dir);
    json_t *v = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "next_seq", (json_int_t)t->next_seq,
                          "pend_reports", (json_int_t)t->pend_reports, "pend_inferences",
                          (json_int_t)t->pend_inferences, "pend_id", (json_int_t)t->pend_id,
                          "drop_seq", (json_int_t)t->drop_through, "dropped_total",
                          (json_int_t)t->dropped_total, "lost_total", (json_int_t)t->lost_total);
    int rc = v != NULL ? write_json(a, t, path, v) : -1;
    json_decref(v);
    return rc;
}

json_t *tbuf_read(const agent_tel *t, uint64_t seq)
{
    char path[1200];
    entry_path(t, seq, path, sizeof path);
    return json_load_file(path, 0, NULL);
}

static int push(agent_tel *t, uint64_t seq, uint32_t bytes)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        tel_entry *p = realloc(t->e, cap * sizeof *p);
        if (p == NULL)
            return -1;
        t->e = p;
        t->cap = cap;
    }
    t->e[t->n++] = (tel_entry){seq, bytes, 0};
    t->bytes += bytes;
    return 0;
}

static void remove_at(agent_tel *t, size_t i)
{
    t->bytes -= t->e[i].bytes;
    memmove(&t->e[i], &t->e[i + 1], (t->n - i - 1) * sizeof t->e[0]);
    t->n--;
}

static int by_seq(const void *x, const void *y)
{
    uint64_t a = ((const tel_entry *)x)->seq, b = ((const tel_entry *)y)->seq;
    return a < b ? -1 : a > b;
}

static uint64_t jget(json_t *o, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(o, key));
    return v > 0 ? (uint64_t)v : 0;
}

static int scan(agent_tel *t)
{
    DIR *d = opendir(t->dir);
    if (d == NULL)
        return -1;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        unsigned long long seq;
        char tail[8];
        if (sscanf(de->d_name, "r-%20llu.%7s", &seq, tail) != 2 || strcmp(tail, "json") != 0)
            continue;
        /* Not a name this agent writes (sequences start at 1 and the server keeps them as
         * int64): taking it would move next_seq past it and wrap, reusing sequence numbers. */
        if (seq == 0 || seq >= (unsigned long long)INT64_MAX)
            continue;
        char path[1200];
        struct stat sb;
        entry_path(t, seq, path, sizeof path);
        if (stat(path, &sb) != 0 || push(t, seq, (uint32_t)sb.st_size) != 0)
            continue;
    }
    closedir(d);
    if (t->n > 1)
        qsort(t->e, t->n, sizeof t->e[0], by_seq);
    return 0;
}

/* After a restart: were the pending drop counts already carried by a report on disk? */
static int pending_consumed(const agent_tel *t)
{
    for (size_t i = t->n; i-- > 0;) {
        json_t *v = tbuf_read(t, t->e[i].seq);
        json_t *id = json_object_get(v, "drop_id");
        int hit = json_is_integer(id) && (uint64_t)json_integer_value(id) == t->pend_id;
        json_decref(v);
        if (hit)
            return 1;
    }
    return 0;
}

int tbuf_open(agent *a, agent_tel *t, char *err, size_t err_len)
{
    snprintf(t->dir, sizeof t->dir, "%s/telemetry", a->state_dir);
    if (mkdir(t->dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "%s: cannot create the telemetry directory", t->dir);
        return -1;
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/telemetry.json", t->dir);
    json_t *st = json_load_file(path, 0, NULL);
    t->next_seq = jget(st, "next_seq");
    t->pend_reports = jget(st, "pend_reports");
    t->pend_inferences = jget(st, "pend_inferences");
    t->pend_id = jget(st, "pend_id");
    t->drop_through = jget(st, "drop_seq");
    t->dropped_total = jget(st, "dropped_total");
    t->lost_total = jget(st, "lost_total");
    json_decref(st);
    if (scan(t) != 0) {
        snprintf(err, err_len, "%s: cannot list the telemetry directory", t->dir);
        return -1;
    }
    int dirty = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->e[i].seq == t->drop_through && t->drop_through != 0) { /* a drop was cut short */
            char p[1200];
            entry_path(t, t->e[i].seq, p, sizeof p);
            unlink(p);
            remove_at(t, i);
            sync_dir(t->dir);
            break;
        }
    if (t->n > 0 && t->e[t->n - 1].seq >= t->next_seq) {
        t->next_seq = t->e[t->n - 1].seq + 1;
        dirty = 1;
    }
    if (t->pend_reports > 0 && pending_consumed(t)) {
        t->pend_reports = t->pend_inferences = 0;
        t->pend_id++;
        dirty = 1;
    }
    if (t->next_seq == 0) { /* sequence numbers start at 1 */
        t->next_seq = 1;
        dirty = 1;
    }
    return dirty ? tbuf_save(a, t) : 0;
}

void tbuf_close(agent_tel *t)
{
    free(t->e);
    t->e = NULL;
    t->n = t->cap = 0;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void wr64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Drops the oldest entry that is not in flight (never the newest). 0, or -1 when none can go. */
static int drop_oldest(agent *a, agent_tel *t)
{
    size_t i = 0;
    while (i + 1 < t->n && t->e[i].in_flight)
        i++;
    if (i + 1 >= t->n)
        return -1;
    uint64_t seq = t->e[i].seq;
    json_t *v = tbuf_read(t, seq);
    /* What the dropped report itself carried is carried on, so nothing is forgotten. */
    uint64_t inf = jget(v, "inferences"), carried_lost = jget(v, "lost_inferences"),
             carried_dropped = jget(v, "dropped");
    json_decref(v);
    t->pend_reports += 1 + carried_dropped;
    t->pend_inferences += inf + carried_lost;
    t->dropped_total++;
    t->lost_total += inf;
    t->drop_through = seq;
    if (tbuf_save(a, t) != 0)
        return -1;
    char path[1200];
    entry_path(t, seq, path, sizeof path);
    unlink(path);
    sync_dir(t->dir);
    remove_at(t, i);
    agent_log(a, "telemetry buffer full: dropped report %llu (%llu inferences)",
              (unsigned long long)seq, (unsigned long long)inf);
    return 0;
}

int tbuf_add(agent *a, agent_tel *t, const uint8_t *report, size_t len, int64_t at)
{
    if (len < TMO_REPORT_HEADER_SIZE)
        return -1;
    uint8_t *buf = malloc(len);
    size_t b64_cap = len / 3 * 4 + 8;
    char *b64 = malloc(b64_cap);
    if (buf == NULL || b64 == NULL) {
        free(buf);
        free(b64);
        return -1;
    }
    memcpy(buf, report, len);
    uint64_t seq = t->next_seq++;
    wr64(buf + TMO_RH_SEQ_FIRST, seq);
    wr64(buf + TMO_RH_SEQ_LAST, seq);
    uint32_t own_dropped = rd32(buf + TMO_RH_DROPPED);
    uint64_t dropped = own_dropped + t->pend_reports;
    wr32(buf + TMO_RH_DROPPED, dropped > UINT32_MAX ? UINT32_MAX : (uint32_t)dropped);
    uint32_t inferences = rd32(buf + TMO_RH_INFERENCES);
    devauth_b64_encode(buf, len, b64, b64_cap);
    json_t *v =
        json_pack("{s:I,s:I,s:s,s:s,s:s,s:I,s:I,s:I,s:s}", "seq", (json_int_t)seq, "at",
                  (json_int_t)at, "bundle_digest", t->bundle_digest, "model", t->model, "version",
                  t->version, "inferences", (json_int_t)inferences, "dropped", (json_int_t)dropped,
                  "lost_inferences", (json_int_t)t->pend_inferences, "data", b64);
    if (v != NULL && t->pend_reports > 0)
        json_object_set_new(v, "drop_id", json_integer((json_int_t)t->pend_id));
    char path[1200];
    entry_path(t, seq, path, sizeof path);
    char *text = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;
    int rc = text != NULL ? write_text(a, t, path, text) : -1;
    size_t bytes = text != NULL ? strlen(text) : 0;
    free(text);
    json_decref(v);
    free(buf);
    free(b64);
    if (rc != 0 || push(t, seq, (uint32_t)bytes) != 0) {
        unlink(path);
        t->pend_reports++;
        t->pend_inferences += inferences;
        t->dropped_total++;
        t->lost_total += inferences;
        tbuf_save(a, t);
        return -1;
    }
    if (t->pend_reports > 0) { /* this report carries them now */
        t->pend_reports = t->pend_inferences = 0;
        t->pend_id++;
        tbuf_save(a, t);
    }
    while ((t->n > t->max_reports || t->bytes > t->max_bytes) && drop_oldest(a, t) == 0) {
    }
    return 0;
}

size_t tbuf_take(agent_tel *t, size_t max, uint64_t max_bytes, uint64_t *seqs)
{
    size_t k = 0;
    uint64_t bytes = 0;
    for (size_t i = 0; i < t->n && k < max; i++) {
        if (k > 0 && bytes + t->e[i].bytes > max_bytes)
            break;
        t->e[i].in_flight = 1;
        bytes += t->e[i].bytes;
        seqs[k++] = t->e[i].seq;
    }
    return k;
}

void tbuf_release(agent_tel *t)
{
    for (size_t i = 0; i < t->n; i++)
        t->e[i].in_flight = 0;
}

void tbuf_ack(agent *a, agent_tel *t, const uint64_t *seqs, size_t n)
{
    if (n == 0)
        return;
    /* next_seq must outlive the files that imply it. */
    if (tbuf_save(a, t) != 0)
        return;
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < t->n; i++)
            if (t->e[i].seq == seqs[k]) {
                char path[1200];
                entry_path(t, seqs[k], path, sizeof path);
                unlink(path);
                remove_at(t, i);
                break;
            }
    sync_dir(t->dir);
}
