/*
 * The agent's durable files in its state dir, each replaced atomically
 * (temporary file, fsync, rename, fsync of the directory) so a kill -9 at
 * any point leaves the old or the new version:
 *   device.key / device.pub  the device's P-256 key pair (0600, made once)
 *   agent.json               enrolled flag, refused deployments, report seq
 *   reports.json             deployment reports not yet acknowledged
 * The model slots and the update journal are the slot storage port's files
 * (slot-a.bin, slot-b.bin, journal.bin) and the NV counter is nv-counter.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_priv.h"
#include "devauth.h"
#include "host.h"
#include "keys.h"

static void path_of(const agent *a, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", a->state_dir, name);
}

int files_write_json(agent *a, const char *name, json_t *value)
{
    char path[1200], err[300];
    path_of(a, name, path, sizeof path);
    char *text = json_dumps(value, JSON_COMPACT);
    if (text == NULL)
        return -1;
    int rc = host_write_file(path, text, strlen(text), err, sizeof err);
    free(text);
    if (rc != 0) {
        agent_error(a, "cannot save %s: %s", name, err);
        return -1;
    }
    int fd = open(a->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) { /* the rename itself must survive a power cut */
        rc = fsync(fd);
        close(fd);
    }
    return rc == 0 ? 0 : -1;
}

json_t *files_read_json(agent *a, const char *name)
{
    char path[1200];
    path_of(a, name, path, sizeof path);
    json_error_t e;
    json_t *v = json_load_file(path, 0, &e);
    if (v == NULL && access(path, F_OK) == 0)
        agent_log(a, "ignoring unreadable %s: %s", name, e.text);
    return v;
}

int identity_load(agent *a, char *err, size_t err_len)
{
    char base[1200], key_path[1300], pub_path[1300];
    path_of(a, "device", base, sizeof base);
    snprintf(key_path, sizeof key_path, "%s.key", base);
    snprintf(pub_path, sizeof pub_path, "%s.pub", base);
    host_key k;
    memset(&k, 0, sizeof k);
    if (access(key_path, F_OK) != 0) {
        /* First start (or killed before the key was published): make one. */
        unlink(pub_path);
        if (host_key_generate(&k, err, err_len) != 0 ||
            host_key_write(&k, base, err, err_len) != 0) {
            host_key_wipe(&k);
            return -1;
        }
        agent_log(a, "generated a new device key in %s", key_path);
    } else if (host_key_read_private(&k, key_path, err, err_len) != 0) {
        return -1;
    }
    int rc = devauth_import_private(k.priv, &a->key, a->pub);
    if (rc == 0 && a->cfg.key_per_use) { /* free the PSA slot until a signature needs it */
        memcpy(a->key_priv, k.priv, sizeof a->key_priv);
        psa_destroy_key(a->key);
        a->key = 0;
    }
    host_key_wipe(&k);
    if (rc != 0) {
        snprintf(err, err_len, "%s: cannot import the device key", key_path);
        return -1;
    }
    devauth_device_id(a->pub, a->device_id);
    return 0;
}

int state_load(agent *a)
{
    json_t *st = files_read_json(a, "agent.json");
    const char *id = json_string_value(json_object_get(st, "device_id"));
    /* A state written for another key (the key file was replaced) is not ours. */
    a->enrolled = id != NULL && strcmp(id, a->device_id) == 0 &&
                  json_is_true(json_object_get(st, "enrolled"));
    json_t *refused = json_object_get(st, "refused");
    a->refused = json_is_array(refused) ? json_incref(refused) : json_array();
    a->report_seq = json_integer_value(json_object_get(st, "report_seq"));
    json_decref(st);
    json_t *rep = files_read_json(a, "reports.json");
    a->reports = json_is_array(rep) ? rep : json_array();
    if (!json_is_array(rep))
        json_decref(rep);
    return 0;
}

int state_save(agent *a)
{
    json_t *st = json_pack("{s:s,s:b,s:s,s:O,s:I}", "device_id", a->device_id, "enrolled",
                           a->enrolled, "server", a->cfg.server_url, "refused", a->refused,
                           "report_seq", (json_int_t)a->report_seq);
    int rc = st != NULL ? files_write_json(a, "agent.json", st) : -1;
    json_decref(st);
    return rc;
}

int reports_save(agent *a)
{
    return files_write_json(a, "reports.json", a->reports);
}
