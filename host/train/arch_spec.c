/*
 * Parser of architecture specs (grammar in arch.h). Numbers are plain
 * decimal with explicit bounds so that a typo gets a message, not a
 * gigantic allocation.
 */
#include <stdio.h>
#include <string.h>

#include "arch.h"

typedef struct cursor {
    const char *s;    /* next character */
    const char *item; /* start of the current comma-separated item */
    size_t item_len;
    char *err;
    size_t err_len;
} cursor;

static int fail(cursor *c, const char *problem)
{
    snprintf(c->err, c->err_len, "architecture: '%.*s': %s", (int)c->item_len, c->item, problem);
    return -1;
}

/* Reads a decimal number in [lo, hi]; -1 (and a message) when absent or out of range. */
static int number(cursor *c, int32_t lo, int32_t hi, const char *what, int32_t *out)
{
    if (*c->s < '0' || *c->s > '9') {
        char msg[96];
        snprintf(msg, sizeof msg, "expected a number (%s)", what);
        return fail(c, msg);
    }
    int64_t v = 0;
    while (*c->s >= '0' && *c->s <= '9') {
        v = v * 10 + (*c->s++ - '0');
        if (v > hi)
            break;
    }
    if (v < lo || v > hi) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s must be %d to %d", what, lo, hi);
        return fail(c, msg);
    }
    *out = (int32_t)v;
    return 0;
}

/* An optional "<letter><number>" suffix. */
static int option(cursor *c, char letter, int32_t lo, int32_t hi, const char *what, int32_t *out)
{
    if (*c->s != letter)
        return 0;
    c->s++;
    return number(c, lo, hi, what, out);
}

static int parse_layer(cursor *c, tr_layer_spec *l)
{
    memset(l, 0, sizeof *l);
    l->stride = 1;
    l->relu = 1;
    char kind = *c->s++;
    if (kind == 'c') {
        l->kind = TR_CONV;
        if (number(c, 1, TR_MAX_UNITS, "filters", &l->units) != 0)
            return -1;
        if (*c->s != 'k')
            return fail(c, "a convolution needs its kernel size, e.g. c8k3");
        if (option(c, 'k', 1, TR_MAX_KERNEL, "kernel size", &l->k) != 0 ||
            option(c, 's', 1, TR_MAX_KERNEL, "stride", &l->stride) != 0)
            return -1;
    } else if (kind == 'd' && *c->s == 'w') {
        c->s++;
        l->kind = TR_DWCONV;
        l->k = 3;
        if (option(c, 'k', 1, TR_MAX_KERNEL, "kernel size", &l->k) != 0 ||
            option(c, 's', 1, TR_MAX_KERNEL, "stride", &l->stride) != 0)
            return -1;
    } else if (kind == 'p' || kind == 'a') {
        l->kind = kind == 'p' ? TR_MAXPOOL : TR_AVGPOOL;
        l->relu = 0;
        if (number(c, 1, TR_MAX_KERNEL, "pool size", &l->k) != 0)
            return -1;
        l->stride = l->k;
    } else if (kind == 'd') {
        l->kind = TR_DENSE;
        if (number(c, 1, TR_MAX_UNITS, "units", &l->units) != 0)
            return -1;
    } else {
        return fail(c, "unknown layer (use cN kK [sS], dw [kK] [sS], pK, aK or dN)");
    }
    return 0;
}

static int parse_items(cursor *c, tr_arch *a)
{
    while (*c->s != '\0') {
        c->item = c->s;
        c->item_len = strcspn(c->s, ",");
        if (a->count == TR_MAX_LAYERS) {
            snprintf(c->err, c->err_len, "architecture: more than %d hidden layers", TR_MAX_LAYERS);
            return -1;
        }
        tr_layer_spec *l = &a->layers[a->count];
        if (a->spatial) {
            if (parse_layer(c, l) != 0)
                return -1;
        } else {
            memset(l, 0, sizeof *l);
            l->kind = TR_DENSE;
            l->stride = 1;
            l->relu = 1;
            if (number(c, 1, TR_MAX_UNITS, "units", &l->units) != 0)
                return -1;
        }
        if (c->s != c->item + c->item_len)
            return fail(c, "unexpected characters after the layer");
        if (a->count > 0 && a->layers[a->count - 1].kind == TR_DENSE && l->kind != TR_DENSE)
            return fail(c, "convolution and pooling layers must come before dense layers");
        a->count++;
        if (*c->s == ',') {
            c->s++;
            if (*c->s == '\0') {
                c->item = c->s;
                c->item_len = 0;
                return fail(c, "empty layer after the last comma");
            }
        }
    }
    return 0;
}

int tr_arch_parse(const char *spec, tr_arch *a, char *err, size_t err_len)
{
    memset(a, 0, sizeof *a);
    cursor c = {.err = err, .err_len = err_len};
    if (strncmp(spec, "mlp:", 4) == 0) {
        a->spatial = 0;
    } else if (strncmp(spec, "cnn:", 4) == 0) {
        a->spatial = 1;
        if (spec[4] == '\0') {
            snprintf(err, err_len, "architecture: 'cnn:' needs at least one layer");
            return -1;
        }
    } else {
        snprintf(err, err_len,
                 "architecture: '%s' must start with 'mlp:' (e.g. mlp:64,32) or 'cnn:' "
                 "(e.g. cnn:c8k3,dw,p2,d32)",
                 spec);
        return -1;
    }
    c.s = spec + 4;
    return parse_items(&c, a);
}

const char *tr_layer_kind_name(tr_layer_kind k)
{
    switch (k) {
    case TR_DENSE:
        return "dense";
    case TR_CONV:
        return "conv";
    case TR_DWCONV:
        return "depthwise";
    case TR_MAXPOOL:
        return "maxpool";
    case TR_AVGPOOL:
        return "avgpool";
    }
    return "?";
}
