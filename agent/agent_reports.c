/*
 * Deployment reports, delivered at least once (P-13): a report is written to
 * reports.json before the agent acts on what it says, sent with every
 * check-in until one succeeds, and only then dropped. The server applies
 * repeats idempotently. Also the list of deployments this device refused
 * (failed or rolled back), so a bundle that failed is not fetched again
 * while the server has not yet heard about it.
 */
#include <string.h>

#include "agent_priv.h"
#include "http_client.h"

int reports_add(agent *a, int64_t deployment_id, const char *state, const char *reason)
{
    if (deployment_id <= 0)
        return 0; /* an update without a deployment (e.g. installed by hand): nothing to tell */
    char text[AGENT_MAX_REASON + 1];
    snprintf(text, sizeof text, "%s", reason != NULL ? reason : "");
    for (char *p = text; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7F)
            *p = '?'; /* ASCII only: the cut above must not split a UTF-8 sequence */
    json_t *r = json_pack("{s:I,s:I,s:s,s:s,s:I}", "seq", (json_int_t)++a->report_seq,
                          "deployment_id", (json_int_t)deployment_id, "state", state, "reason",
                          text, "at", (json_int_t)(hc_now_ms() + (uint64_t)a->clock_offset_ms));
    json_array_append_new(a->reports, r);
    /* Bounded: the oldest reports go first if a device stays offline through many updates. */
    while (json_array_size(a->reports) > 4 * AGENT_MAX_REPORTS)
        json_array_remove(a->reports, 0);
    agent_log(a, "report: deployment %lld %s%s%s", (long long)deployment_id, state,
              reason != NULL && reason[0] ? ": " : "", reason != NULL ? reason : "");
    a->flush = 1;
    return reports_save(a) == 0 && state_save(a) == 0 ? 0 : -1;
}

json_t *reports_pending(agent *a, int64_t *max_seq)
{
    json_t *out = json_array();
    *max_seq = 0;
    size_t i;
    json_t *r;
    json_array_foreach(a->reports, i, r)
    {
        if (i >= AGENT_MAX_REPORTS)
            break;
        json_t *copy = json_deep_copy(r);
        json_object_del(copy, "seq");
        json_array_append_new(out, copy);
        int64_t seq = json_integer_value(json_object_get(r, "seq"));
        if (seq > *max_seq)
            *max_seq = seq;
    }
    return out;
}

void reports_ack(agent *a, int64_t max_seq)
{
    size_t before = json_array_size(a->reports);
    for (size_t i = 0; i < json_array_size(a->reports);) {
        if (json_integer_value(json_object_get(json_array_get(a->reports, i), "seq")) <= max_seq)
            json_array_remove(a->reports, i);
        else
            i++;
    }
    if (json_array_size(a->reports) != before)
        reports_save(a);
}

int refused_has(agent *a, int64_t deployment_id, const char *digest_hex)
{
    size_t i;
    json_t *r;
    json_array_foreach(a->refused, i, r)
    {
        const char *d = json_string_value(json_object_get(r, "digest"));
        if (json_integer_value(json_object_get(r, "deployment_id")) == deployment_id && d != NULL &&
            strcmp(d, digest_hex) == 0)
            return 1;
    }
    return 0;
}

void refused_add(agent *a, int64_t deployment_id, const char *digest_hex)
{
    if (refused_has(a, deployment_id, digest_hex))
        return;
    json_array_append_new(a->refused, json_pack("{s:I,s:s}", "deployment_id",
                                                (json_int_t)deployment_id, "digest", digest_hex));
    while (json_array_size(a->refused) > AGENT_MAX_REFUSED)
        json_array_remove(a->refused, 0);
    state_save(a);
}
