/*
 * Scenario file parser (scenario.h, docs/simulator.md "Scenario files").
 * Every refusal names the file, the line and the word at fault.
 */
#include "scenario.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

#define MAX_TOKENS 32
#define MAX_LINE 1024

static const char *const kind_names[] = {"note", "drift", "outage", "kill",
                                         "corrupt", "skew", "end"};
static const char *const phase_names[] = {"now", "update", "download", "verify", "trial"};

const char *sim_event_name(sim_event_kind k)
{
    return (unsigned)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "?";
}

const char *sim_kill_phase_name(sim_kill_phase p)
{
    return (unsigned)p < sizeof phase_names / sizeof phase_names[0] ? phase_names[p] : "?";
}

/* Parsing state of one line: where messages point. */
typedef struct ctx {
    char *err;
    size_t err_len;
    const char *where; /* "file:line" or "event" */
} ctx;

static int fail(ctx *c, const char *fmt, const char *a, const char *b)
{
    char msg[400];
    snprintf(msg, sizeof msg, fmt, a, b);
    snprintf(c->err, c->err_len, "%s: %s", c->where, msg);
    return -1;
}

/* Splits on blanks; a value may be double-quoted (key="a b"); '#' outside quotes ends the line. */
static int tokenize(ctx *c, char *line, char **tok, size_t *n)
{
    *n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (*p == '\0' || *p == '#')
            return 0;
        if (*n == MAX_TOKENS)
            return fail(c, "more than %s words%s", "32", "");
        tok[(*n)++] = p;
        char *out = p;
        int quoted = 0;
        while (*p != '\0' && (quoted || (*p != ' ' && *p != '\t' && *p != '\r'))) {
            if (*p == '"') {
                quoted = !quoted;
                p++;
                continue;
            }
            *out++ = *p++;
        }
        if (quoted)
            return fail(c, "a quote is not closed in '%s'%s", tok[*n - 1], "");
        int more = *p != '\0';
        if (more)
            p++;
        *out = '\0';
        if (!more)
            return 0;
    }
}

static int number(ctx *c, const char *key, const char *v, double lo, double hi, double *out)
{
    char *end;
    double d = strtod(v, &end);
    if (v[0] == '\0' || *end != '\0' || !isfinite(d) || d < lo || d > hi) {
        char range[120];
        snprintf(range, sizeof range, "%s must be a number in [%g, %g], not", key, lo, hi);
        return fail(c, "%s '%s'", range, v);
    }
    *out = d;
    return 0;
}

static int integer(ctx *c, const char *key, const char *v, double lo, double hi, uint32_t *out)
{
    double d;
    if (number(c, key, v, lo, hi, &d) != 0)
        return -1;
    if (d != floor(d))
        return fail(c, "%s must be a whole number, not '%s'", key, v);
    *out = (uint32_t)d;
    return 0;
}

/* "10", "10.5", "90s", "2m", "1h"; relative "+30" adds to prev. */
static int parse_time(ctx *c, const char *t, double prev, double *out)
{
    char buf[64];
    int rel = t[0] == '+';
    snprintf(buf, sizeof buf, "%s", t + rel);
    size_t n = strlen(buf);
    double unit = 1;
    if (n > 0 && strchr("smh", buf[n - 1]) != NULL) {
        unit = buf[n - 1] == 'm' ? 60 : buf[n - 1] == 'h' ? 3600 : 1;
        buf[n - 1] = '\0';
    }
    char *end;
    double d = strtod(buf, &end);
    if (buf[0] == '\0' || *end != '\0' || !isfinite(d) || d < 0 || d * unit > 1e9 ||
        buf[0] == '-' || buf[0] == '+')
        return fail(c, "'%s' is not a time (seconds from the start, e.g. 90, 1.5m, +30)%s", t, "");
    *out = d * unit + (rel ? prev : 0);
    return 0;
}

static int name_list(ctx *c, const char *key, const char *v, char (*names)[SIM_NAME_LEN],
                     size_t *count)
{
    sim_split s;
    char e[200];
    if (sim_split_parse(key, v, &s, e, sizeof e) != 0)
        return fail(c, "%s%s", e, "");
    if (s.count > SIM_SEL_MAX)
        return fail(c, "%s: at most 8 names%s", key, "");
    for (size_t i = 0; i < s.count; i++) {
        if (strchr(v, ':') != NULL)
            return fail(c, "%s takes names only, not '%s'", key, v);
        memcpy(names[i], s.name[i], SIM_NAME_LEN);
    }
    *count = s.count;
    return 0;
}

static int parse_classes_sel(ctx *c, const char *v, uint32_t *mask)
{
    char names[SIM_SEL_MAX][SIM_NAME_LEN];
    size_t n = 0;
    if (name_list(c, "class", v, names, &n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int k = sim_class_find(names[i]);
        if (k < 0)
            return fail(c, "class '%s' is not one of m0, m4, m7, gw%s", names[i], "");
        *mask |= 1u << k;
    }
    return 0;
}

/* "0-9,15,20-29" */
static int parse_ids(ctx *c, const char *v, sim_select *s)
{
    const char *p = v;
    while (*p != '\0') {
        if (s->range_count == SIM_SEL_RANGES)
            return fail(c, "ids: at most %s ranges%s", "16", "");
        char *end;
        unsigned long a = strtoul(p, &end, 10), b = a;
        if (end == p || !isdigit((unsigned char)*p))
            return fail(c, "ids: '%s' is not a list of device numbers like 0-9,15%s", v, "");
        p = end;
        if (*p == '-') {
            const char *q = p + 1;
            b = strtoul(q, &end, 10);
            if (end == q || !isdigit((unsigned char)*q) || b < a)
                return fail(c, "ids: '%s' has a bad range (write low-high)%s", v, "");
            p = end;
        }
        if (a > 0xFFFFFFu || b > 0xFFFFFFu)
            return fail(c, "ids: '%s' is out of range%s", v, "");
        s->ranges[s->range_count][0] = (uint32_t)a;
        s->ranges[s->range_count][1] = (uint32_t)b;
        s->range_count++;
        if (*p == ',')
            p++;
        else if (*p != '\0')
            return fail(c, "ids: '%s' is not a list of device numbers like 0-9,15%s", v, "");
    }
    return 0;
}

/* "3:5,7:1": class index and weight. */
static int parse_class_mix(ctx *c, const char *v, sim_drift *d)
{
    sim_split s;
    char e[200];
    if (sim_split_parse("classes", v, &s, e, sizeof e) != 0)
        return fail(c, "%s%s", e, "");
    for (size_t i = 0; i < s.count; i++) {
        char *end;
        long k = strtol(s.name[i], &end, 10);
        if (*end != '\0' || k < 0 || k >= SIM_DRIFT_CLASSES)
            return fail(c, "classes: '%s' is not a class number 0..31%s", s.name[i], "");
        if ((size_t)k >= d->class_count)
            d->class_count = (size_t)k + 1;
        d->class_weight[k] = (float)s.weight[i];
    }
    return 0;
}

static int selector_key(ctx *c, const char *k, const char *v, sim_select *s, int *done)
{
    *done = 1;
    double d;
    if (strcmp(k, "class") == 0)
        return parse_classes_sel(c, v, &s->classes);
    if (strcmp(k, "group") == 0)
        return name_list(c, "group", v, s->groups, &s->group_count);
    if (strcmp(k, "tag") == 0)
        return name_list(c, "tag", v, s->tags, &s->tag_count);
    if (strcmp(k, "ids") == 0)
        return parse_ids(c, v, s);
    if (strcmp(k, "pct") == 0) {
        if (number(c, "pct", v, 0, 100, &d) != 0)
            return -1;
        if (d <= 0)
            return fail(c, "pct must be above 0, not '%s'%s", v, "");
        s->pct = d;
        return 0;
    }
    if (strcmp(k, "count") == 0)
        return integer(c, "count", v, 1, 1e7, &s->count);
    *done = 0;
    return 0;
}

static int drift_key(ctx *c, const char *k, const char *v, sim_event *ev)
{
    sim_drift *d = &ev->drift;
    if (strcmp(k, "classes") == 0)
        return parse_class_mix(c, v, d);
    double x, lo = -1e6, hi = 1e6;
    if (strcmp(k, "noise") == 0)
        lo = 0;
    else if (strcmp(k, "frac") == 0)
        lo = 0, hi = 1;
    else if (strcmp(k, "duration") == 0)
        lo = 0, hi = 1e9;
    else if (strcmp(k, "shift") != 0 && strcmp(k, "scale") != 0 && strcmp(k, "stuck") != 0)
        return fail(c, "drift: unknown parameter '%s' (shift, scale, noise, stuck, saturate, frac, "
                       "classes, reset, duration)%s",
                    k, "");
    if (number(c, k, v, lo, hi, &x) != 0)
        return -1;
    if (strcmp(k, "shift") == 0)
        d->shift = (float)x;
    else if (strcmp(k, "scale") == 0)
        d->scale = (float)x;
    else if (strcmp(k, "noise") == 0)
        d->noise = (float)x;
    else if (strcmp(k, "stuck") == 0)
        d->stuck = 1, d->stuck_value = (float)x;
    else if (strcmp(k, "duration") == 0)
        ev->duration_s = x;
    else if (x <= 0)
        return fail(c, "frac must be above 0, not '%s'%s", v, "");
    else
        d->frac = (float)x;
    return 0;
}

static int kill_key(ctx *c, const char *k, const char *v, sim_event *ev)
{
    if (strcmp(k, "during") == 0) {
        for (size_t i = 0; i < sizeof phase_names / sizeof phase_names[0]; i++)
            if (strcmp(v, phase_names[i]) == 0) {
                ev->phase = (sim_kill_phase)i;
                return 0;
            }
        return fail(c, "during must be now, update, download, verify or trial, not '%s'%s", v, "");
    }
    if (strcmp(k, "down") == 0)
        return number(c, k, v, 0, 1e6, &ev->down_s);
    if (strcmp(k, "within") == 0)
        return number(c, k, v, 0, 1e9, &ev->within_s);
    return fail(c, "kill: unknown parameter '%s' (during, down, within)%s", k, "");
}

static int event_key(ctx *c, const char *k, const char *v, sim_event *ev)
{
    switch (ev->kind) {
    case SIM_EV_DRIFT:
        return drift_key(c, k, v, ev);
    case SIM_EV_OUTAGE:
        if (strcmp(k, "duration") == 0)
            return number(c, k, v, 0, 1e9, &ev->duration_s);
        return fail(c, "outage: unknown parameter '%s' (duration)%s", k, "");
    case SIM_EV_KILL:
        return kill_key(c, k, v, ev);
    case SIM_EV_CORRUPT:
        if (strcmp(k, "times") == 0)
            return integer(c, k, v, 1, 1e6, &ev->corrupt_times);
        if (strcmp(k, "bytes") == 0)
            return integer(c, k, v, 1, 64, &ev->corrupt_bytes);
        return fail(c, "corrupt: unknown parameter '%s' (times, bytes)%s", k, "");
    case SIM_EV_SKEW:
        if (strcmp(k, "by") == 0)
            return number(c, k, v, -3.2e8, 3.2e8, &ev->skew_s);
        return fail(c, "skew: unknown parameter '%s' (by)%s", k, "");
    case SIM_EV_NOTE:
        if (strcmp(k, "text") == 0) {
            snprintf(ev->text, sizeof ev->text, "%s", v);
            return 0;
        }
        return fail(c, "note: unknown parameter '%s' (text)%s", k, "");
    default:
        return fail(c, "%s takes no parameters ('%s')", sim_event_name(ev->kind), k);
    }
}

static int flag(ctx *c, const char *w, sim_event *ev)
{
    if (strcmp(w, "all") == 0 && ev->kind != SIM_EV_END && ev->kind != SIM_EV_NOTE)
        return 0;
    if (ev->kind == SIM_EV_DRIFT && strcmp(w, "reset") == 0)
        return ev->drift.reset = 1, 0;
    if (ev->kind == SIM_EV_DRIFT && strcmp(w, "saturate") == 0)
        return ev->drift.saturate = 1, 0;
    return fail(c, "'%s' is not a key=value parameter of %s", w, sim_event_name(ev->kind));
}

static int finish(ctx *c, sim_event *ev, int seen_duration, int seen_by)
{
    const sim_drift *d = &ev->drift;
    if (ev->kind == SIM_EV_DRIFT) {
        int changes = d->shift != 0 || d->scale != 1 || d->noise > 0 || d->stuck || d->saturate ||
                      d->class_count > 0;
        if (d->reset && (changes || ev->duration_s > 0))
            return fail(c, "drift: reset takes no other parameter%s%s", "", "");
        if (!d->reset && !changes)
            return fail(c, "drift: give what changes (shift, scale, noise, stuck, saturate, classes) "
                           "or reset%s%s",
                        "", "");
        float total = 0;
        for (size_t i = 0; i < d->class_count; i++)
            total += d->class_weight[i];
        if (d->class_count > 0 && !(total > 0))
            return fail(c, "drift: classes needs a weight above 0%s%s", "", "");
    }
    if (ev->kind == SIM_EV_OUTAGE && (!seen_duration || ev->duration_s <= 0))
        return fail(c, "outage needs duration=SECONDS (above 0)%s%s", "", "");
    if (ev->kind == SIM_EV_SKEW && !seen_by)
        return fail(c, "skew needs by=SECONDS (e.g. by=-3600)%s%s", "", "");
    return 0;
}

/* tok[0] is the event name. */
static int parse_event(ctx *c, char **tok, size_t n, sim_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->drift.scale = 1;
    ev->drift.frac = 1;
    ev->down_s = 2;
    ev->corrupt_times = 1;
    ev->corrupt_bytes = 1;
    ev->phase = SIM_KILL_UPDATE;
    ev->sel.pct = 100;
    size_t k;
    for (k = 0; k < sizeof kind_names / sizeof kind_names[0]; k++)
        if (strcmp(tok[0], kind_names[k]) == 0)
            break;
    if (k == sizeof kind_names / sizeof kind_names[0])
        return fail(c, "unknown event '%s' (drift, outage, kill, corrupt, skew, note, end)%s",
                    tok[0], "");
    ev->kind = (sim_event_kind)k;
    int seen_duration = 0, seen_by = 0;
    for (size_t i = 1; i < n; i++) {
        char *eq = strchr(tok[i], '=');
        if (eq == NULL) {
            if (flag(c, tok[i], ev) != 0)
                return -1;
            continue;
        }
        *eq = '\0';
        const char *key = tok[i], *val = eq + 1;
        if (val[0] == '\0')
            return fail(c, "%s= needs a value%s", key, "");
        int done = 0;
        if (ev->kind != SIM_EV_END && ev->kind != SIM_EV_NOTE &&
            selector_key(c, key, val, &ev->sel, &done) != 0)
            return -1;
        if (done)
            continue;
        if (event_key(c, key, val, ev) != 0)
            return -1;
        seen_duration |= strcmp(key, "duration") == 0;
        seen_by |= strcmp(key, "by") == 0;
    }
    return finish(c, ev, seen_duration, seen_by);
}

int sim_event_parse(const char *text, sim_event *ev, char *err, size_t err_len)
{
    char line[MAX_LINE], *tok[MAX_TOKENS];
    size_t n;
    ctx c = {err, err_len, "event"};
    if (strlen(text) >= sizeof line)
        return fail(&c, "longer than %s bytes%s", "1023", "");
    snprintf(line, sizeof line, "%s", text);
    if (tokenize(&c, line, tok, &n) != 0)
        return -1;
    if (n == 0)
        return fail(&c, "empty%s%s", "", "");
    return parse_event(&c, tok, n, ev);
}

static int by_time(const void *a, const void *b)
{
    const sim_event *x = a, *y = b;
    if (x->at_s != y->at_s)
        return x->at_s < y->at_s ? -1 : 1;
    return x->line - y->line; /* stable: file order at equal times */
}

int sim_scenario_parse(const char *name, const char *text, sim_scenario *out, char *err,
                       size_t err_len)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0, lineno = 0;
    double prev = 0;
    const char *p = text;
    while (*p != '\0') {
        size_t len = strcspn(p, "\n");
        char line[MAX_LINE], where[300], *tok[MAX_TOKENS];
        size_t n;
        lineno++;
        snprintf(where, sizeof where, "%s:%zu", name, lineno);
        ctx c = {err, err_len, where};
        if (len >= sizeof line) {
            fail(&c, "line longer than %s bytes%s", "1023", "");
            goto bad;
        }
        memcpy(line, p, len);
        line[len] = '\0';
        p += len + (p[len] == '\n');
        if (tokenize(&c, line, tok, &n) != 0)
            goto bad;
        if (n == 0)
            continue;
        if (n < 2) {
            fail(&c, "'%s' needs an event after the time (e.g. '%s drift shift=2')", tok[0], tok[0]);
            goto bad;
        }
        sim_event ev;
        double at = 0;
        if (parse_time(&c, tok[0], prev, &at) != 0 || parse_event(&c, tok + 1, n - 1, &ev) != 0)
            goto bad;
        ev.at_s = prev = at;
        ev.line = (int)lineno;
        if (out->count == cap) {
            cap = cap ? cap * 2 : 16;
            sim_event *grown = realloc(out->events, cap * sizeof *grown);
            if (grown == NULL) {
                snprintf(err, err_len, "%s: out of memory", name);
                goto bad;
            }
            out->events = grown;
        }
        out->events[out->count++] = ev;
    }
    if (out->count > 1)
        qsort(out->events, out->count, sizeof *out->events, by_time);
    return 0;
bad:
    sim_scenario_free(out);
    return -1;
}

int sim_scenario_load(const char *path, sim_scenario *out, char *err, size_t err_len)
{
    size_t len = 0;
    memset(out, 0, sizeof *out); /* empty on every failure, as sim_scenario_parse leaves it */
    char *text = host_read_file(path, &len, err, err_len);
    if (text == NULL)
        return -1;
    if (memchr(text, '\0', len) != NULL) {
        snprintf(err, err_len, "%s: not a text file (NUL byte)", path);
        free(text);
        return -1;
    }
    char *z = realloc(text, len + 1);
    if (z == NULL) {
        free(text);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    z[len] = '\0';
    int rc = sim_scenario_parse(path, z, out, err, err_len);
    free(z);
    return rc;
}

void sim_scenario_free(sim_scenario *s)
{
    free(s->events);
    s->events = NULL;
    s->count = 0;
}
