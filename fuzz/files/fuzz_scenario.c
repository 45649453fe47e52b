/*
 * libFuzzer target for simulator scenario files (sim/scenario.c,
 * docs/simulator.md "Scenario files"), through sim_scenario_load as
 * `tinymlops sim --scenario` reads them. Any bytes give a timeline whose
 * events keep the documented ranges and order, or a refusal that names the
 * file and a line of the input ("file:LINE: ..."), or the whole file (a NUL
 * byte). The first line also goes through sim_event_parse (events applied at
 * once), which must agree with the file parser about it.
 *
 * Seeds: fuzz/corpus/scenario (gen_files_corpus writes the documented examples).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_files.h"
#include "scenario.h"

static size_t count_lines(const uint8_t *data, size_t size)
{
    size_t n = size > 0 && data[size - 1] != '\n';
    for (size_t i = 0; i < size; i++)
        n += data[i] == '\n';
    return n;
}

int fuzz_seed_valid(const uint8_t *data, size_t size)
{
    const char *path = fuzz_tmp_write("scenario.txt", data, size);
    sim_scenario s;
    char err[512];
    int ok = sim_scenario_load(path, &s, err, sizeof err) == 0;
    sim_scenario_free(&s);
    return ok;
}

static void check_select(const sim_select *s)
{
    if (s->classes >> SIM_CLASSES != 0 || s->group_count > SIM_SEL_MAX ||
        s->tag_count > SIM_SEL_MAX || s->range_count > SIM_SEL_RANGES || !(s->pct > 0) ||
        s->pct > 100 || s->count > 10000000)
        fuzz_fail("scenario", "a selector out of range");
    for (size_t i = 0; i < s->group_count; i++)
        if (memchr(s->groups[i], '\0', SIM_NAME_LEN) == NULL || s->groups[i][0] == '\0')
            fuzz_fail("scenario", "a group name is empty or not terminated");
    for (size_t i = 0; i < s->tag_count; i++)
        if (memchr(s->tags[i], '\0', SIM_NAME_LEN) == NULL || s->tags[i][0] == '\0')
            fuzz_fail("scenario", "a tag name is empty or not terminated");
    for (size_t i = 0; i < s->range_count; i++)
        if (s->ranges[i][0] > s->ranges[i][1] || s->ranges[i][1] > 0xFFFFFFu)
            fuzz_fail("scenario", "an id range is reversed or too large");
}

static void check_event(const sim_event *ev)
{
    if ((unsigned)ev->kind > SIM_EV_END || (unsigned)ev->phase > SIM_KILL_TRIAL)
        fuzz_fail("scenario", "an event kind or kill phase out of range");
    if (!isfinite(ev->at_s) || ev->at_s < 0 || !isfinite(ev->duration_s) || ev->duration_s < 0 ||
        !isfinite(ev->down_s) || ev->down_s < 0 || !isfinite(ev->within_s) || ev->within_s < 0 ||
        !isfinite(ev->skew_s))
        fuzz_fail("scenario", "a time is negative or not finite");
    if (ev->kind == SIM_EV_OUTAGE && !(ev->duration_s > 0))
        fuzz_fail("scenario", "an outage without a duration");
    if (ev->corrupt_times < 1 || ev->corrupt_bytes < 1 || ev->corrupt_bytes > 64)
        fuzz_fail("scenario", "corrupt times/bytes out of range");
    const sim_drift *d = &ev->drift;
    if (d->class_count > SIM_DRIFT_CLASSES || !(d->frac > 0) || d->frac > 1 || d->noise < 0)
        fuzz_fail("scenario", "drift parameters out of range");
    if (memchr(ev->text, '\0', sizeof ev->text) == NULL)
        fuzz_fail("scenario", "note text not terminated");
    check_select(&ev->sel);
}

static void check_refusal(const char *err, const char *path, const uint8_t *data, size_t size)
{
    size_t n = strlen(path);
    if (strncmp(err, path, n) != 0 || err[n] != ':')
        fuzz_fail("a refusal does not name the file", err);
    const char *p = err + n + 1;
    if (*p >= '0' && *p <= '9') {
        char *end;
        unsigned long line = strtoul(p, &end, 10);
        if (*end != ':' || line == 0 || line > count_lines(data, size))
            fuzz_fail("a refusal names a line that is not in the input", err);
    } else if (strncmp(p, " not a text file", 16) != 0 && strstr(p, "out of memory") == NULL) {
        fuzz_fail("a refusal names no line", err);
    }
}

/* sim_event_parse on the first line, when it holds "TIME EVENT ...": same verdict as the file. */
static void check_event_parse(const uint8_t *data, size_t size, int file_rc, const sim_scenario *s)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t len = nl != NULL ? (size_t)(nl - data) : size;
    if (len >= 1000 || memchr(data, '\0', len) != NULL)
        return;
    char line[1000];
    memcpy(line, data, len);
    line[len] = '\0';
    /* Skip the time word: what follows is an event on its own. Blanks are the
     * tokenizer's: space, tab and carriage return (CRLF files). */
    char *p = line;
    while (*p == ' ' || *p == '\t' || *p == '\r')
        p++;
    if (*p == '\0' || *p == '#' || *p == '"')
        return;
    while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '"' && *p != '#')
        p++;
    if (*p != ' ' && *p != '\t' && *p != '\r')
        return;
    sim_event ev;
    char err[512] = "";
    int rc = sim_event_parse(p, &ev, err, sizeof err);
    if (rc == 0)
        check_event(&ev);
    else if (strncmp(err, "event: ", 7) != 0)
        fuzz_fail("an event refusal does not say 'event'", err);
    /* A file the parser accepted has this line as an event: it parses alone too. */
    if (file_rc == 0 && s->count > 0 && rc != 0) {
        for (size_t i = 0; i < s->count; i++)
            if (s->events[i].line == 1)
                fuzz_fail("a line of an accepted file is refused as an event", err);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_tmp_write("scenario.txt", data, size);
    sim_scenario s;
    char err[512] = "";
    int rc = sim_scenario_load(path, &s, err, sizeof err);
    if (rc == 0) {
        size_t lines = count_lines(data, size);
        for (size_t i = 0; i < s.count; i++) {
            const sim_event *ev = &s.events[i];
            check_event(ev);
            if (ev->line < 1 || (size_t)ev->line > lines)
                fuzz_fail("an event names a line that is not in the input", NULL);
            if (i > 0 &&
                (ev->at_s < ev[-1].at_s || (ev->at_s == ev[-1].at_s && ev->line <= ev[-1].line)))
                fuzz_fail("events are not in time order (file order at equal times)", NULL);
        }
    } else {
        check_refusal(err, path, data, size);
        if (s.events != NULL || s.count != 0)
            fuzz_fail("a refused scenario is not empty", err);
    }
    check_event_parse(data, size, rc, &s);
    sim_scenario_free(&s);
    return 0;
}
