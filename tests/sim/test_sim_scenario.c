/*
 * Scenario files (docs/simulator.md "Scenario files"): a valid file parsed
 * into the documented events, times and selectors; every malformed line
 * refused with its file name, line number and the word at fault; and the
 * device selection (class, group, tag, ids, pct, count) on a fleet dealt
 * from --mix, --groups and --tags, checked against each device's own
 * description.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keys.h"
#include "scenario.h"
#include "sim_priv.h"

static const char *valid =
    "# a scenario\n"
    "\n"
    "0      note    text=\"baseline, all quiet\"\n"
    "1.5m   drift   class=m4,m7 group=field pct=20 shift=4 scale=1.5 noise=0.5 duration=60\n"
    "+30    outage  ids=0-9,15 duration=45    # the tower is down\n"
    "10     kill    tag=canary count=3 during=trial down=5 within=600\n"
    "1h     corrupt all times=2 bytes=4\n"
    "10     skew    class=gw by=-3600\n"
    "200s   drift   class=m0 stuck=0 frac=0.25\n"
    "200    drift   ids=3 saturate classes=3:5,7:1\n"
    "300    drift   all reset\n"
    "4000   end\n";

static void parses_valid_file(void **state)
{
    (void)state;
    sim_scenario sc;
    char err[300];
    assert_int_equal(sim_scenario_parse("s.txt", valid, &sc, err, sizeof err), 0);
    assert_int_equal(sc.count, 10);
    /* Sorted by time, file order kept at equal times (kill and skew at 10 s). */
    double times[] = {0, 10, 10, 90, 120, 200, 200, 300, 3600, 4000};
    sim_event_kind kinds[] = {SIM_EV_NOTE,  SIM_EV_KILL,  SIM_EV_SKEW,    SIM_EV_DRIFT,
                              SIM_EV_OUTAGE, SIM_EV_DRIFT, SIM_EV_DRIFT,  SIM_EV_DRIFT,
                              SIM_EV_CORRUPT, SIM_EV_END};
    for (size_t i = 0; i < sc.count; i++) {
        assert_true(sc.events[i].at_s == times[i]);
        assert_int_equal(sc.events[i].kind, kinds[i]);
    }
    const sim_event *note = &sc.events[0], *kill = &sc.events[1], *skew = &sc.events[2],
                    *drift = &sc.events[3], *out = &sc.events[4];
    assert_string_equal(note->text, "baseline, all quiet");
    assert_int_equal(note->line, 3);
    assert_int_equal(kill->phase, SIM_KILL_TRIAL);
    assert_true(kill->down_s == 5 && kill->within_s == 600 && kill->sel.count == 3);
    assert_string_equal(kill->sel.tags[0], "canary");
    assert_true(skew->skew_s == -3600);
    assert_int_equal(skew->sel.classes, 1u << sim_class_find("gw"));
    assert_int_equal(drift->sel.classes, (1u << sim_class_find("m4")) | (1u << sim_class_find("m7")));
    assert_int_equal(drift->sel.group_count, 1);
    assert_true(drift->sel.pct == 20);
    assert_true(drift->drift.shift == 4 && drift->drift.scale == 1.5f && drift->drift.noise == 0.5f);
    assert_true(drift->duration_s == 60);
    assert_int_equal(out->sel.range_count, 2);
    assert_int_equal(out->sel.ranges[0][0], 0);
    assert_int_equal(out->sel.ranges[0][1], 9);
    assert_int_equal(out->sel.ranges[1][0], 15);
    assert_int_equal(out->sel.ranges[1][1], 15);
    assert_true(out->duration_s == 45);
    const sim_event *stuck = &sc.events[5], *sat = &sc.events[6], *reset = &sc.events[7],
                    *corrupt = &sc.events[8];
    assert_true(stuck->drift.stuck && stuck->drift.stuck_value == 0 && stuck->drift.frac == 0.25f);
    assert_true(sat->drift.saturate && sat->drift.class_count == 8);
    assert_true(sat->drift.class_weight[3] == 5 && sat->drift.class_weight[7] == 1 &&
                sat->drift.class_weight[0] == 0);
    assert_true(reset->drift.reset);
    assert_int_equal(corrupt->corrupt_times, 2);
    assert_int_equal(corrupt->corrupt_bytes, 4);
    assert_true(corrupt->sel.pct == 100 && corrupt->sel.count == 0);
    sim_scenario_free(&sc);

    sim_event ev;
    assert_int_equal(sim_event_parse("kill class=m0 during=download", &ev, err, sizeof err), 0);
    assert_int_equal(ev.kind, SIM_EV_KILL);
    assert_int_equal(ev.phase, SIM_KILL_DOWNLOAD);
    assert_true(ev.down_s == 2); /* documented default */
    assert_int_equal(sim_scenario_parse("empty", "# nothing\n\n", &sc, err, sizeof err), 0);
    assert_int_equal(sc.count, 0);
}

static void refuses(const char *text, const char *expect)
{
    sim_scenario sc;
    char err[400] = "";
    if (sim_scenario_parse("bad.txt", text, &sc, err, sizeof err) == 0)
        fail_msg("accepted: %s", text);
    if (strstr(err, expect) == NULL)
        fail_msg("for %s\nexpected '%s' in '%s'", text, expect, err);
    assert_null(sc.events);
}

static void refuses_malformed_lines(void **state)
{
    (void)state;
    const char *ok = "0 note text=x\n# comment\n";
    char buf[600];
    static const char *const cases[][2] = {
        {"5 dirft shift=1", "bad.txt:3: unknown event 'dirft'"},
        {"-5 drift shift=1", "bad.txt:3: '-5' is not a time"},
        {"5m3 drift shift=1", "bad.txt:3: '5m3' is not a time"},
        {"12", "bad.txt:3: '12' needs an event"},
        {"1 drift shfit=2", "bad.txt:3: drift: unknown parameter 'shfit'"},
        {"1 drift shift=abc", "bad.txt:3: shift must be a number"},
        {"1 drift all", "bad.txt:3: drift: give what changes"},
        {"1 drift reset shift=1", "bad.txt:3: drift: reset takes no other parameter"},
        {"1 drift classes=3:0", "bad.txt:3: drift: classes needs a weight above 0"},
        {"1 drift classes=x:1", "bad.txt:3: classes: 'x' is not a class number"},
        {"1 drift frac=0 stuck=1", "bad.txt:3: frac must be above 0"},
        {"1 outage class=m4", "bad.txt:3: outage needs duration="},
        {"1 skew all", "bad.txt:3: skew needs by="},
        {"1 outage class=m9 duration=3", "bad.txt:3: class 'm9' is not one of"},
        {"1 outage ids=5-2 duration=3", "bad.txt:3: ids: '5-2' has a bad range"},
        {"1 outage ids=a duration=3", "bad.txt:3: ids: 'a' is not a list"},
        {"1 outage pct=0 duration=3", "bad.txt:3: pct must be above 0"},
        {"1 outage pct=150 duration=3", "bad.txt:3: pct must be a number in [0, 100]"},
        {"1 outage count=1.5 duration=3", "bad.txt:3: count must be a whole number"},
        {"1 outage group=a:1 duration=3", "bad.txt:3: group takes names only"},
        {"1 kill during=boot", "bad.txt:3: during must be now, update, download"},
        {"1 corrupt bytes=100", "bad.txt:3: bytes must be a number in [1, 64]"},
        {"1 note text=\"open", "bad.txt:3: a quote is not closed"},
        {"1 end all", "bad.txt:3: 'all' is not a key=value parameter of end"},
        {"1 end class=m4", "bad.txt:3: end takes no parameters ('class')"},
        {"1 skew by=", "bad.txt:3: by= needs a value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(buf, sizeof buf, "%s%s\n4 end\n", ok, cases[i][0]);
        refuses(buf, cases[i][1]);
    }
}

static char root_pub[64];

static sim *fleet(int n)
{
    sim_config c;
    sim_config_defaults(&c);
    const char *roots[1] = {root_pub};
    c.server_url = "http://127.0.0.1:9"; /* never contacted: the fleet is not started */
    c.enroll_token = "tmoe_unused";
    c.root_keys = roots;
    c.root_key_count = 1;
    c.devices = n;
    c.mix = "m0:10,m4:50,m7:30,gw:10";
    c.groups = "a:30,b:70";
    c.tags = "canary:10";
    c.data_path = NULL;
    char err[300];
    sim *s = sim_open(&c, err, sizeof err);
    if (s == NULL)
        fail_msg("%s", err);
    return s;
}

/* The expected selection, from each device's own JSON description. */
static int expect(sim *s, const char *cls, const char *group, const char *tag)
{
    int n = 0;
    for (int i = 0; i < s->n; i++) {
        char *text = sim_device_json(s, i);
        json_t *d = json_loads(text, 0, NULL);
        free(text);
        int tagged = 0;
        json_t *tags = json_object_get(d, "tags");
        for (size_t k = 0; k < json_array_size(tags); k++)
            tagged |= tag != NULL && strcmp(json_string_value(json_array_get(tags, k)), tag) == 0;
        const char *dc = json_string_value(json_object_get(d, "class"));
        n += (cls == NULL || strcmp(dc, cls) == 0) &&
             (group == NULL || strcmp(json_string_value(json_object_get(d, "group")), group) == 0) &&
             (tag == NULL || tagged || strcmp(dc, tag) == 0);
        json_decref(d);
    }
    return n;
}

static int select_text(sim *s, const char *text, uint64_t serial, int *ids)
{
    sim_event ev;
    char err[300];
    if (sim_event_parse(text, &ev, err, sizeof err) != 0)
        fail_msg("%s", err);
    return sim_events_select(s, &ev, serial, ids);
}

static void selects_devices(void **state)
{
    (void)state;
    sim *s = fleet(100);
    int ids[100], again[100];
    assert_int_equal(expect(s, "m4", NULL, NULL), 50); /* --mix percentages, exactly */
    assert_int_equal(expect(s, NULL, "a", NULL), 30);
    assert_int_equal(expect(s, NULL, NULL, "canary"), 10);
    assert_int_equal(select_text(s, "outage class=m4 duration=1", 1, ids), 50);
    assert_int_equal(select_text(s, "outage group=a duration=1", 1, ids), 30);
    assert_int_equal(select_text(s, "outage tag=canary duration=1", 1, ids), 10);
    assert_int_equal(select_text(s, "outage tag=m7 duration=1", 1, ids), 30); /* class as tag */
    assert_int_equal(select_text(s, "outage class=m4 group=a duration=1", 1, ids),
                     expect(s, "m4", "a", NULL));
    assert_int_equal(select_text(s, "outage ids=0-9,95 duration=1", 1, ids), 11);
    assert_int_equal(ids[10], 95);
    assert_int_equal(select_text(s, "outage all count=3 duration=1", 1, ids), 3);
    /* pct of the matching devices, rounded up, the same devices for the same event serial. */
    int n = select_text(s, "outage class=m4 pct=20 duration=1", 7, ids);
    assert_int_equal(n, 10);
    assert_int_equal(select_text(s, "outage class=m4 pct=20 duration=1", 7, again), 10);
    assert_memory_equal(ids, again, sizeof(int) * 10);
    for (int i = 0; i < n; i++) {
        char *text = sim_device_json(s, ids[i]);
        assert_non_null(strstr(text, "\"class\":\"m4\""));
        free(text);
    }
    assert_int_equal(select_text(s, "outage class=m0 pct=1 duration=1", 7, ids), 1);
    sim_close(s);
}

/* A refused file leaves the scenario empty, whatever it held before (found by fuzz_scenario). */
static void load_refusal_leaves_it_empty(void **state)
{
    (void)state;
    char path[80], err[300];
    snprintf(path, sizeof path, "/tmp/tmo-sim-nul-%d.txt", (int)getpid());
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite("0 note\0 text=x\n", 1, 16, f);
    fclose(f);
    sim_scenario sc;
    memset(&sc, 0xA5, sizeof sc);
    assert_int_equal(sim_scenario_load(path, &sc, err, sizeof err), -1);
    assert_non_null(strstr(err, "NUL byte"));
    assert_null(sc.events);
    assert_int_equal(sc.count, 0);
    unlink(path);
    memset(&sc, 0xA5, sizeof sc);
    assert_int_equal(sim_scenario_load(path, &sc, err, sizeof err), -1); /* no such file */
    assert_null(sc.events);
    sim_scenario_free(&sc);
}

int main(void)
{
    snprintf(root_pub, sizeof root_pub, "/tmp/tmo-sim-root-%d", (int)getpid());
    host_key k;
    char err[300];
    if (host_key_generate(&k, err, sizeof err) != 0 || host_key_write(&k, root_pub, err, sizeof err))
        return 1;
    strcat(root_pub, ".pub");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_valid_file),
        cmocka_unit_test(refuses_malformed_lines),
        cmocka_unit_test(selects_devices),
        cmocka_unit_test(load_refusal_leaves_it_empty),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char path[80];
    unlink(root_pub);
    snprintf(path, sizeof path, "%.*s.key", (int)(strlen(root_pub) - 4), root_pub);
    unlink(path);
    return rc;
}
