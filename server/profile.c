/*
 * Capability profile validation (see profile.h).
 */
#include "profile.h"

#include <stdio.h>
#include <string.h>

#include "bundle_pack.h"

#define MAX_BYTES (1LL << 50)

static int bad(char *err, size_t len, const char *what)
{
    snprintf(err, len, "profile.%s", what);
    return 0;
}

static int op_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 48)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

static int check(json_t *p, char *err, size_t len)
{
    if (!json_is_object(p))
        return bad(err, len, "must be an object");
    json_t *arch = json_object_get(p, "arch"), *rt = json_object_get(p, "runtime_version");
    json_t *ram = json_object_get(p, "ram_bytes"), *flash = json_object_get(p, "flash_bytes");
    json_t *ops = json_object_get(p, "ops"), *speed = json_object_get(p, "speed_factor");
    tmo_semver v;
    if (!json_is_string(arch) || json_string_length(arch) < 1 || json_string_length(arch) > 32 ||
        strlen(json_string_value(arch)) != json_string_length(arch))
        return bad(err, len, "arch must be a string of 1..32 bytes");
    if (!json_is_string(rt) || host_parse_semver(json_string_value(rt), &v) != 0)
        return bad(err, len, "runtime_version must be \"X.Y.Z\"");
    if (!json_is_integer(ram) || json_integer_value(ram) < 0 || json_integer_value(ram) > MAX_BYTES)
        return bad(err, len, "ram_bytes must be a non-negative integer");
    if (!json_is_integer(flash) || json_integer_value(flash) < 0 ||
        json_integer_value(flash) > MAX_BYTES)
        return bad(err, len, "flash_bytes must be a non-negative integer");
    if (!json_is_array(ops) || json_array_size(ops) > PROFILE_MAX_OPS)
        return bad(err, len, "ops must be an array of at most 256 operator names");
    for (size_t i = 0; i < json_array_size(ops); i++) {
        json_t *o = json_array_get(ops, i);
        if (!json_is_string(o) || !op_name_ok(json_string_value(o)))
            return bad(err, len, "ops entries must be builtin operator names such as \"CONV_2D\"");
    }
    if (speed != NULL &&
        (!json_is_number(speed) || json_number_value(speed) <= 0 || json_number_value(speed) > 1e6))
        return bad(err, len, "speed_factor must be a positive number");
    return 1;
}

json_t *profile_normalize(json_t *p, char *err, size_t err_len)
{
    if (!check(p, err, err_len))
        return NULL;
    json_t *speed = json_object_get(p, "speed_factor");
    return json_pack("{s:O,s:O,s:O,s:O,s:O,s:f}", "arch", json_object_get(p, "arch"),
                     "runtime_version", json_object_get(p, "runtime_version"), "ram_bytes",
                     json_object_get(p, "ram_bytes"), "flash_bytes",
                     json_object_get(p, "flash_bytes"), "ops", json_object_get(p, "ops"),
                     "speed_factor", speed != NULL ? json_number_value(speed) : 1.0);
}
