/*
 * The demo's story, step by step, each told as it happens and checked: a
 * step that does not turn out as told fails the demo (so the demo is also a
 * test of the whole loop).
 *  1. releases: digits 1.0.0, 2.0.0 in two variants (an MLP every device
 *     can run, a CNN for devices with the ops and memory for it), 3.0.0
 *     (bad known answers) and, with the MLPerf models present, keyword
 *     spotting for the gateways;
 *  2. the fleet enrolls; 1.0.0 goes everywhere at once;
 *  3. 2.0.0 rolls out in waves behind a health gate; each device gets the
 *     best variant it can run;
 *  4. drift on the lab group's sensors raises alerts;
 *  5. 3.0.0 fails its known-answer tests on the canary wave: those devices
 *     revert by themselves and the deployment halts.
 */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "demo.h"

#define WAIT_ENROLL_S 90
#define WAIT_DEPLOY_S 240
#define WAIT_ALERT_S 180

static int wait_enrolled(demo *d)
{
    for (int i = 0; i < WAIT_ENROLL_S * 2; i++) {
        sim_counters c;
        sim_get_counters(d->fleet, &c);
        if (c.enrolled == c.devices) {
            demo_say("  %d devices enrolled (each with its own P-256 key, every request signed)",
                     c.enrolled);
            return 0;
        }
        if (demo_sleep_ms(500))
            return -1;
    }
    demo_say("  the fleet did not finish enrolling within %d s", WAIT_ENROLL_S);
    return -1;
}

/* Deploys and waits; fails unless the deployment ends in `expect`. */
static long deploy(demo *d, const char *body, const char *expect, char *reason, size_t len)
{
    char state[32];
    long id = demo_deploy(d, body);
    if (id < 0 || demo_wait_deployment(d, id, WAIT_DEPLOY_S, state, sizeof state, reason, len) != 0)
        return -1;
    if (strcmp(state, expect) != 0) {
        demo_say("  deployment %ld ended %s, not %s: %s", id, state, expect, reason);
        return -1;
    }
    return id;
}

/* How many devices got each variant, and why the others were skipped. */
static void tell_variants(demo *d, long id)
{
    char path[64];
    snprintf(path, sizeof path, "/api/v1/deployments/%ld/devices", id);
    json_t *v = demo_get(d, path);
    size_t i;
    json_t *a;
    int mlp = 0, cnn = 0, skipped = 0;
    const char *why = NULL;
    json_array_foreach(json_object_get(v, "devices"), i, a)
    {
        long b = (long)json_integer_value(json_object_get(a, "bundle_id"));
        mlp += b == d->v2_mlp.id;
        cnn += b == d->v2_cnn.id;
        if (b == 0) {
            skipped++;
            why = json_string_value(json_object_get(a, "reason"));
        }
    }
    demo_say("  variants chosen per device: %d CNN (%.1f%% on validation), %d MLP (%.1f%%) on "
             "devices without the CNN's operators or memory",
             cnn, 100 * d->acc_v2_cnn, mlp, 100 * d->acc_v2_mlp);
    if (skipped)
        demo_say("  %d device(s) skipped: %s", skipped, why ? why : "");
    json_decref(v);
}

static int step_releases(demo *d)
{
    demo_say(
        "\n1. Releases, trained here in C on scikit-learn's handwritten digits, signed, with a "
        "monitoring profile and known-answer tests:");
    if (demo_push(d, &d->v1, 0) || demo_push(d, &d->v2_mlp, 0) || demo_push(d, &d->v2_cnn, 1) ||
        demo_push(d, &d->v3, 0) || (d->have_kws && demo_push(d, &d->kws, 0)))
        return -1;
    demo_say("  digits 1.0.0  MLP 64-16-10        int8, %.1f%% on validation", 100 * d->acc_v1);
    demo_say("  digits 2.0.0  MLP 64-64-32-10     int8, %.1f%%  (variant for every device)",
             100 * d->acc_v2_mlp);
    demo_say("  digits 2.0.0  CNN conv/dw/pool    int8, %.1f%%  (preferred variant)",
             100 * d->acc_v2_cnn);
    demo_say("  digits 3.0.0  MLP, packed with a wrong known answer (a build whose numerics "
             "differ from the fleet's)");
    if (d->have_kws)
        demo_say("  kws 1.0.0     MLPerf Tiny keyword spotting (reference model found)");
    return 0;
}

static int step_v1(demo *d)
{
    char reason[512];
    demo_say("\n2. The fleet powers on: Cortex-M0+, M4, M7 and Linux gateway classes.");
    if (wait_enrolled(d) != 0)
        return -1;
    demo_say("  deploying digits 1.0.0 to every device at once...");
    if (deploy(d,
               "{\"model\":\"digits\",\"version\":\"1.0.0\",\"target\":{\"all\":true},"
               "\"waves\":[100],\"soak_s\":0}",
               "completed", reason, sizeof reason) < 0)
        return -1;
    demo_say("  every device downloaded, verified, self-tested and confirmed 1.0.0");
    return 0;
}

static int step_v2(demo *d)
{
    char reason[512];
    demo_say("\n3. digits 2.0.0 rolls out in waves (10%%, 50%%, 100%%), each wave soaking 5 s and "
             "judged by a health gate against devices still on 1.0.0...");
    long id = deploy(d,
                     "{\"model\":\"digits\",\"version\":\"2.0.0\",\"target\":{\"all\":true},"
                     "\"waves\":[10,50,100],\"soak_s\":5,\"health_gate\":{\"action\":\"halt\","
                     "\"min_inferences\":40,\"max_latency_ratio\":50,\"max_accuracy_drop\":0.05,"
                     "\"max_error_increase\":0.02,\"max_drift_increase\":0.5}}",
                     "completed", reason, sizeof reason);
    if (id < 0)
        return -1;
    demo_say("  completed: the gate passed every wave");
    tell_variants(d, id);
    if (d->have_kws) {
        demo_say("  keyword spotting to the gateways (tag gw)...");
        if (deploy(d,
                   "{\"model\":\"kws\",\"version\":\"1.0.0\",\"target\":{\"tags\":[\"gw\"]},"
                   "\"waves\":[100],\"soak_s\":0}",
                   "completed", reason, sizeof reason) < 0)
            return -1;
        demo_say("  the gateways run MLPerf keyword spotting now");
    }
    return 0;
}

static int step_drift(demo *d)
{
    char err[256], alert[768];
    demo_say("\n4. The lab group's sensors drift (every input +6 units): nothing labels the data, "
             "the devices' monitors compare it with the model's profile...");
    if (sim_apply_text(d->fleet, "drift group=lab shift=6", err, sizeof err) != 0) {
        demo_say("  %s", err);
        return -1;
    }
    if (demo_wait_alert(d, "drift", "lab", WAIT_ALERT_S, alert, sizeof alert) != 0)
        return -1;
    demo_say("  %s", alert);
    return 0;
}

static int step_bad_release(demo *d)
{
    char reason[512];
    demo_say("\n5. digits 3.0.0 starts with a canary wave (10%%)...");
    const char *body =
        d->have_kws ? "{\"model\":\"digits\",\"version\":\"3.0.0\",\"target\":{\"all\":true,"
                      "\"exclude_tags\":[\"gw\"]},\"waves\":[10,100],\"soak_s\":5}"
                    : "{\"model\":\"digits\",\"version\":\"3.0.0\",\"target\":{\"all\":true},"
                      "\"waves\":[10,100],\"soak_s\":5}";
    long id = deploy(d, body, "halted", reason, sizeof reason);
    if (id < 0)
        return -1;
    demo_say("  the canary devices ran 3.0.0's known-answer tests, got a different answer, "
             "reverted to 2.0.0 by themselves and reported it");
    demo_say("  deployment %ld halted: %s", id, reason);
    demo_say("  the other 90%% never received 3.0.0");
    return 0;
}

int demo_run_story(demo *d)
{
    if (step_releases(d) || step_v1(d) || step_v2(d) || step_drift(d) || step_bad_release(d))
        return -1;
    demo_say("\nWhat happened: models were trained, quantized and signed here; %d devices of four "
             "classes enrolled with their own keys; 1.0.0 went everywhere; 2.0.0 went out in "
             "gated waves with a variant per device class; the lab group's drift was caught "
             "without labels; a bad 3.0.0 was stopped by the canaries' self-tests and never "
             "reached the rest.",
             d->devices);
    return 0;
}
