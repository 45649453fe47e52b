/*
 * The built-in device classes and the name:weight splits (sim_class.h).
 *
 * Speed factors are rough, from the instruction counts of TFLite Micro on
 * Cortex-M in ../shared/ref/mcu_perf.tsv and typical clocks (an M0+ at
 * 48 MHz without DSP instructions, an M4 at 80 MHz with CMSIS-NN, an M7 at
 * 480 MHz, a Cortex-A53 gateway) against this runtime on an x86-64 core.
 */
#include "sim_class.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tinymlops/interp.h"
#include "tinymlops/model.h"
#include "tinymlops/update.h"

static const char *const m0_ops[] = {"FULLY_CONNECTED", "SOFTMAX", "RESHAPE", "RELU", "LOGISTIC",
                                     "QUANTIZE", "DEQUANTIZE", "ADD", "MUL", NULL};
static const char *const m4_ops[] = {
    "ADD",  "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED",
    "LOGISTIC", "MAX_POOL_2D", "MUL",     "RELU",    "RELU6",   "RESHAPE",
    "SOFTMAX",  "PAD",             "QUANTIZE",      "DEQUANTIZE", "SQUEEZE", "MEAN", NULL};

static const sim_class classes[SIM_CLASSES] = {
    {"m0", "cortex-m0plus", 32u << 10, 128u << 10, m0_ops, 600.0, 2048, 250},
    {"m4", "cortex-m4", 256u << 10, 1u << 20, m4_ops, 80.0, 4096, 100},
    {"m7", "cortex-m7", 1u << 20, 2u << 20, NULL, 10.0, 16384, 40},
    {"gw", "aarch64", 256u << 20, 16u << 20, NULL, 3.0, 65536, 0},
};

const sim_class *sim_class_get(int index)
{
    return index >= 0 && index < SIM_CLASSES ? &classes[index] : NULL;
}

int sim_class_find(const char *name)
{
    for (int i = 0; i < SIM_CLASSES; i++)
        if (strcmp(classes[i].name, name) == 0)
            return i;
    return -1;
}

char *sim_class_profile_json(const sim_class *c)
{
    json_t *ops = json_array();
    if (c->ops != NULL) {
        for (const char *const *o = c->ops; *o != NULL; o++)
            json_array_append_new(ops, json_string(*o));
    } else {
        for (int32_t code = 0; code < 256; code++)
            if (tmo_interp_supports(code) && strcmp(tmo_builtin_name(code), "UNKNOWN") != 0)
                json_array_append_new(ops, json_string(tmo_builtin_name(code)));
    }
    char rt[32];
    snprintf(rt, sizeof rt, "%d.%d.%d", TMO_RUNTIME_VERSION_MAJOR, TMO_RUNTIME_VERSION_MINOR,
             TMO_RUNTIME_VERSION_PATCH);
    json_t *p = json_pack("{s:s,s:s,s:I,s:I,s:o,s:f}", "arch", c->arch, "runtime_version", rt,
                          "ram_bytes", (json_int_t)c->ram_bytes, "flash_bytes",
                          (json_int_t)c->flash_bytes, "ops", ops, "speed_factor", c->speed_factor);
    char *text = p != NULL ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    return text;
}

static int name_ok(const char *s, size_t n)
{
    if (n == 0 || n >= SIM_NAME_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.'))
            return 0;
    }
    return 1;
}

int sim_split_parse(const char *what, const char *text, sim_split *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    const char *p = text;
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        const char *colon = memchr(p, ':', len);
        size_t name_len = colon != NULL ? (size_t)(colon - p) : len;
        if (out->count == SIM_MAX_SPLIT) {
            snprintf(err, err_len, "%s: at most %d names", what, SIM_MAX_SPLIT);
            return -1;
        }
        if (!name_ok(p, name_len)) {
            snprintf(err, err_len, "%s: '%.*s' is not a name (1..31 of A-Z a-z 0-9 _ - .)", what,
                     (int)name_len, p);
            return -1;
        }
        for (size_t i = 0; i < out->count; i++)
            if (strlen(out->name[i]) == name_len && memcmp(out->name[i], p, name_len) == 0) {
                snprintf(err, err_len, "%s: '%.*s' is listed twice", what, (int)name_len, p);
                return -1;
            }
        memcpy(out->name[out->count], p, name_len);
        double w = 1;
        if (colon != NULL) {
            char num[64], *end;
            size_t nl = len - name_len - 1;
            if (nl == 0 || nl >= sizeof num) {
                snprintf(err, err_len, "%s: '%.*s' needs a number after ':'", what, (int)len, p);
                return -1;
            }
            memcpy(num, colon + 1, nl);
            num[nl] = '\0';
            w = strtod(num, &end);
            if (*end != '\0' || !(w >= 0) || w > 1e9) {
                snprintf(err, err_len, "%s: '%s' is not a non-negative number", what, num);
                return -1;
            }
        }
        out->weight[out->count++] = w;
        p += len;
        if (*p == ',') {
            p++;
            if (*p == '\0') {
                snprintf(err, err_len, "%s: a name is missing after the last ','", what);
                return -1;
            }
        }
    }
    if (out->count == 0) {
        snprintf(err, err_len, "%s: empty list", what);
        return -1;
    }
    return 0;
}

uint64_t sim_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double sim_rand01(uint64_t *state)
{
    return (double)(sim_rand(state) >> 11) * (1.0 / 9007199254740992.0);
}

int sim_split_deal(const sim_split *s, size_t n, uint64_t seed, int *out)
{
    double total = 0;
    for (size_t i = 0; i < s->count; i++)
        total += s->weight[i];
    if (!(total > 0))
        return -1;
    size_t counts[SIM_MAX_SPLIT], given = 0;
    double rem[SIM_MAX_SPLIT];
    for (size_t i = 0; i < s->count; i++) {
        double exact = (double)n * s->weight[i] / total;
        counts[i] = (size_t)exact;
        rem[i] = exact - (double)counts[i];
        given += counts[i];
    }
    while (given < n) { /* largest remainder first; earlier name on ties */
        size_t best = 0;
        for (size_t i = 1; i < s->count; i++)
            if (rem[i] > rem[best])
                best = i;
        counts[best]++;
        rem[best] = -1;
        given++;
    }
    size_t k = 0;
    for (size_t i = 0; i < s->count; i++)
        for (size_t j = 0; j < counts[i]; j++)
            out[k++] = (int)i;
    uint64_t st = seed;
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
        size_t j = (size_t)(sim_rand(&st) % i);
        int t = out[i - 1];
        out[i - 1] = out[j];
        out[j] = t;
    }
    return 0;
}
