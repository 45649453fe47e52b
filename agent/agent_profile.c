/*
 * What the device is: its capability profile (P-9), sent at enrollment and
 * check-in and turned into the tmo_bundle_caps every bundle is checked
 * against, and the root keys it pins. A --profile file lets one machine play
 * a smaller device (the simulator and the tests do); without it the agent
 * describes this host and this build of the runtime.
 */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "agent_priv.h"
#include "keys.h"
#include "tinymlops/model.h"

#define DEFAULT_RAM_BYTES (16u << 20)

static json_t *default_profile(agent *a)
{
    struct utsname u;
    const char *arch = uname(&u) == 0 ? u.machine : "unknown";
    char rt[32];
    snprintf(rt, sizeof rt, "%d.%d.%d", TMO_RUNTIME_VERSION_MAJOR, TMO_RUNTIME_VERSION_MINOR,
             TMO_RUNTIME_VERSION_PATCH);
    json_t *ops = json_array();
    for (int32_t code = 0; code < 256; code++)
        if (tmo_interp_supports(code) && strcmp(tmo_builtin_name(code), "UNKNOWN") != 0)
            json_array_append_new(ops, json_string(tmo_builtin_name(code)));
    return json_pack("{s:s,s:s,s:I,s:I,s:o,s:f}", "arch", arch, "runtime_version", rt, "ram_bytes",
                     (json_int_t)DEFAULT_RAM_BYTES, "flash_bytes", (json_int_t)a->cfg.slot_size,
                     "ops", ops, "speed_factor", 1.0);
}

int profile_load(agent *a, char *err, size_t err_len)
{
    if (a->cfg.profile_path != NULL) {
        json_error_t e;
        a->profile = json_load_file(a->cfg.profile_path, 0, &e);
        if (!json_is_object(a->profile)) {
            snprintf(err, err_len, "%s: not a JSON object (%s)", a->cfg.profile_path, e.text);
            return -1;
        }
    } else {
        a->profile = default_profile(a);
    }
    const char *arch = json_string_value(json_object_get(a->profile, "arch"));
    json_t *ram = json_object_get(a->profile, "ram_bytes"),
           *flash = json_object_get(a->profile, "flash_bytes");
    if (arch == NULL || strlen(arch) >= sizeof a->arch || !json_is_integer(ram) ||
        !json_is_integer(flash) || json_integer_value(ram) < 0 || json_integer_value(flash) < 0) {
        snprintf(err, err_len,
                 "profile: needs arch (string), ram_bytes and flash_bytes (integers), see P-9");
        return -1;
    }
    snprintf(a->arch, sizeof a->arch, "%s", arch);
    a->caps.arch = a->arch;
    a->caps.runtime = (tmo_semver){TMO_RUNTIME_VERSION_MAJOR, TMO_RUNTIME_VERSION_MINOR,
                                   TMO_RUNTIME_VERSION_PATCH};
    a->caps.max_arena_bytes = (uint64_t)json_integer_value(ram);
    a->caps.max_flash_bytes = (uint64_t)json_integer_value(flash);
    return 0;
}

int roots_load(agent *a, char *err, size_t err_len)
{
    if (a->cfg.root_key_count == 0 || a->cfg.root_key_count > AGENT_MAX_ROOTS) {
        snprintf(err, err_len,
                 "give 1..%d --root-key files: without a pinned root no bundle can be trusted",
                 AGENT_MAX_ROOTS);
        return -1;
    }
    for (size_t i = 0; i < a->cfg.root_key_count; i++) {
        host_key k;
        if (host_key_read_public(&k, a->cfg.root_keys[i], err, err_len) != 0)
            return -1;
        memcpy(a->roots[i], k.pub, sizeof a->roots[i]);
        host_key_wipe(&k);
    }
    a->root_count = a->cfg.root_key_count;
    return 0;
}
