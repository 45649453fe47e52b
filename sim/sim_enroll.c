/*
 * Enrollment tokens for a simulated fleet made through the admin API
 * (P-7): one token per distinct (class, group, tags) of the devices, with
 * as many uses as devices share it, so the server records each device's
 * group and its tags (its class name and its --tags names) at enrollment.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "sim_priv.h"

#define TOKEN_TTL_S (7 * 86400)

static int same_kind(const sim_device *a, const sim_device *b)
{
    return a->cls == b->cls && a->group == b->group && a->tags == b->tags;
}

static char *make_token(struct sim *s, hc_client *hc, const sim_device *d, int uses, char *err,
                        size_t err_len)
{
    json_t *tags = json_array();
    json_array_append_new(tags, json_string(sim_class_get(d->cls)->name));
    for (size_t t = 0; t < s->tags.count; t++)
        if (d->tags & (1u << t))
            json_array_append_new(tags, json_string(s->tags.name[t]));
    json_t *body = json_pack("{s:i,s:i,s:s,s:o}", "ttl_s", TOKEN_TTL_S, "uses", uses, "group",
                             s->groups.name[d->group], "tags", tags);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    hc_response r;
    char *token = NULL;
    if (hc_request(hc, "POST", "/api/v1/enrollment-tokens", "application/json", text, strlen(text),
                   NULL, &r, err, err_len) != 0) {
        free(text);
        return NULL;
    }
    free(text);
    json_t *v = json_loadb((const char *)r.body, r.body_len, 0, NULL);
    const char *t = json_string_value(json_object_get(v, "token"));
    if ((r.status == 200 || r.status == 201) && t != NULL)
        token = strdup(t);
    else
        snprintf(err, err_len, "cannot create an enrollment token: HTTP %ld %.200s", r.status,
                 r.body_len > 0 ? (const char *)r.body : "");
    json_decref(v);
    hc_response_free(&r);
    return token;
}

int sim_enroll_tokens(struct sim *s, char *err, size_t err_len)
{
    if (hc_global_init() != 0) {
        snprintf(err, err_len, "cannot initialize curl");
        return -1;
    }
    hc_client *hc = hc_open(s->cfg.server_url);
    if (hc == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    hc_set_bearer(hc, s->cfg.admin_token);
    int rc = 0;
    for (int i = 0; rc == 0 && i < s->n; i++) {
        sim_device *d = &s->dev[i];
        if (d->token != NULL)
            continue;
        int uses = 0;
        for (int j = i; j < s->n; j++)
            uses += same_kind(d, &s->dev[j]);
        char **grown = realloc(s->tokens, (s->token_count + 1) * sizeof *grown);
        char *tok = grown != NULL ? make_token(s, hc, d, uses, err, err_len) : NULL;
        if (grown != NULL)
            s->tokens = grown;
        if (tok == NULL) {
            rc = -1;
            break;
        }
        s->tokens[s->token_count++] = tok;
        for (int j = i; j < s->n; j++)
            if (same_kind(d, &s->dev[j]))
                s->dev[j].token = tok;
    }
    hc_close(hc);
    return rc;
}
