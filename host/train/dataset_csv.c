/*
 * CSV data sets: one sample per line, comma-separated numbers, the label
 * (an integer class 0..TR_MAX_CLASSES-1) last. Blank lines and lines that
 * start with '#' are skipped; a first line in which no field is a number is
 * a header and skipped too (scikit-learn's digits.csv has none). Every
 * problem is reported as "file:line: ..." so a user can go straight to it.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"

enum { FIELD_MAX = 64 };

typedef struct csv_parser {
    const char *name;
    size_t line;       /* 1-based number of the line being parsed */
    size_t first_line; /* line of the first data row (sets the column count) */
    size_t columns;    /* 0 until the first data row */
    size_t count, cap; /* samples stored, samples allocated */
    float *x;
    int32_t *y;
    float *row; /* values of the current line */
    int32_t max_label;
    char *err;
    size_t err_len;
} csv_parser;

static int fail(csv_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(csv_parser *p, const char *fmt, ...)
{
    int n = snprintf(p->err, p->err_len, "%s:%zu: ", p->name, p->line);
    if (n >= 0 && (size_t)n < p->err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->err_len - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Field text [s, e) trimmed, as a printable NUL-terminated copy (shortened if long). */
static void field_text(const char *s, const char *e, char *out)
{
    size_t n = (size_t)(e - s) < FIELD_MAX - 4 ? (size_t)(e - s) : FIELD_MAX - 4;
    for (size_t i = 0; i < n; i++)
        out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    strcpy(out + n, (size_t)(e - s) > n ? "..." : "");
}

/* Parses [s, e) as a number; 1 = finite number, 0 = not a number, -1 = not finite. */
static int parse_number(const char *s, const char *e, double *v)
{
    char buf[FIELD_MAX];
    size_t n = (size_t)(e - s);
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    *v = strtod(buf, &end);
    if (end != buf + n)
        return 0;
    return isfinite(*v) && fabs(*v) <= 3.0e38 ? 1 : -1;
}

/* Splits the line [s, e) at commas into trimmed fields; returns the count (at most max). */
static size_t split(const char *s, const char *e, const char **fs, const char **fe, size_t max)
{
    size_t n = 0;
    for (;;) {
        const char *c = s;
        while (c < e && *c != ',')
            c++;
        if (n < max) {
            const char *a = s, *b = c;
            while (a < b && is_space(*a))
                a++;
            while (b > a && is_space(b[-1]))
                b--;
            fs[n] = a;
            fe[n] = b;
        }
        n++;
        if (c == e)
            return n;
        s = c + 1;
    }
}

static int is_header(const char **fs, const char **fe, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double v;
        if (parse_number(fs[i], fe[i], &v) != 0)
            return 0;
    }
    return 1;
}

static int store_row(csv_parser *p, int32_t label)
{
    size_t features = p->columns - 1;
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        float *x = realloc(p->x, sizeof *x * cap * features);
        if (x == NULL)
            return fail(p, "out of memory");
        p->x = x;
        int32_t *y = realloc(p->y, sizeof *y * cap);
        if (y == NULL)
            return fail(p, "out of memory");
        p->y = y;
        p->cap = cap;
    }
    memcpy(p->x + p->count * features, p->row, sizeof *p->row * features);
    p->y[p->count++] = label;
    if (label > p->max_label)
        p->max_label = label;
    return 0;
}

static int parse_label(csv_parser *p, const char *s, const char *e, int32_t *label)
{
    char text[FIELD_MAX];
    double v;
    int r = parse_number(s, e, &v);
    field_text(s, e, text);
    if (r == 0)
        return fail(p, "label '%s' (column %zu) is not a number", text, p->columns);
    if (r < 0 || v != floor(v))
        return fail(p, "label '%s' (column %zu) is not an integer", text, p->columns);
    if (v < 0 || v >= TR_MAX_CLASSES)
        return fail(p, "label %s (column %zu) is out of range [0, %d]", text, p->columns,
                    TR_MAX_CLASSES - 1);
    *label = (int32_t)v;
    return 0;
}

/* The column count and the row buffer are fixed by the first data row. */
static int start_rows(csv_parser *p, size_t n)
{
    if (n < 2)
        return fail(p, "a row needs at least one feature and a label, found %zu column", n);
    if (n - 1 > TR_MAX_FEATURES)
        return fail(p, "%zu features per row, at most %u are supported", n - 1, TR_MAX_FEATURES);
    p->columns = n;
    p->first_line = p->line;
    p->row = malloc(sizeof *p->row * n);
    return p->row == NULL ? fail(p, "out of memory") : 0;
}

static int parse_line(csv_parser *p, const char *s, const char *e, const char **fs, const char **fe,
                      size_t max_fields)
{
    size_t n = split(s, e, fs, fe, max_fields);
    if (p->columns == 0 && p->count == 0 && p->first_line == 0 && is_header(fs, fe, n)) {
        p->first_line = p->line; /* header: remembered so a second one is data */
        return 0;
    }
    if (p->columns == 0 && start_rows(p, n) != 0)
        return -1;
    if (n != p->columns)
        return fail(p, "expected %zu columns (%zu features and a label, as on line %zu), found %zu",
                    p->columns, p->columns - 1, p->first_line, n);
    for (size_t i = 0; i + 1 < n; i++) {
        double v;
        char text[FIELD_MAX];
        int r = parse_number(fs[i], fe[i], &v);
        if (r <= 0) {
            field_text(fs[i], fe[i], text);
            return fail(p, "column %zu: '%s' is not a %snumber", i + 1, text,
                        r < 0 ? "finite float32 " : "");
        }
        p->row[i] = (float)v;
    }
    int32_t label = 0;
    if (parse_label(p, fs[n - 1], fe[n - 1], &label) != 0)
        return -1;
    return store_row(p, label);
}

/* Number of commas on the longest line bounds the fields of any line. */
static size_t max_fields(const char *text, size_t len)
{
    size_t best = 0, cur = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n')
            cur = 0;
        else if (text[i] == ',' && ++cur > best)
            best = cur;
    }
    return best + 1;
}

static int parse_all(csv_parser *p, const char *text, size_t len)
{
    size_t cap = max_fields(text, len);
    const char **fs = malloc(sizeof(char *) * cap), **fe = malloc(sizeof(char *) * cap);
    int rc = fs && fe ? 0 : fail(p, "out of memory");
    const char *s = text, *end = text + len;
    while (rc == 0 && s < end) {
        const char *e = memchr(s, '\n', (size_t)(end - s));
        if (e == NULL)
            e = end;
        p->line++;
        const char *a = s, *b = e;
        while (a < b && is_space(*a))
            a++;
        while (b > a && is_space(b[-1]))
            b--;
        if (a < b && *a != '#')
            rc = parse_line(p, a, b, fs, fe, cap);
        s = e + 1;
    }
    free(fs);
    free(fe);
    return rc;
}

int tr_dataset_parse_csv(const char *name, const char *text, size_t len, tr_dataset *ds, char *err,
                         size_t err_len)
{
    csv_parser p = {.name = name, .err = err, .err_len = err_len, .max_label = -1};
    memset(ds, 0, sizeof *ds);
    int rc = parse_all(&p, text, len);
    if (rc == 0 && p.count == 0) {
        snprintf(err, err_len, "%s: no data rows (%s)", name,
                 p.first_line ? "only a header line" : "empty file");
        rc = -1;
    }
    free(p.row);
    if (rc != 0) {
        free(p.x);
        free(p.y);
        return -1;
    }
    ds->count = p.count;
    ds->features = p.columns - 1;
    ds->classes = p.max_label + 1;
    ds->x = p.x;
    ds->y = p.y;
    return 0;
}
