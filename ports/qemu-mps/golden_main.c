/*
 * Example firmware: runs every embedded golden sample through the device
 * library and reports, per model, the instructions of one Invoke, the arena
 * bytes and whether every output matched TFLite Micro's golden bytes.
 *
 * Protocol (ref/README.md "Cortex-M4 under QEMU"): the interpreter is
 * prepared once per model in exactly the arena size it asks for; sample 000
 * is copied in and invoked (warm-up), copied in again and invoked once more
 * between two SysTick readings; both outputs must equal the golden bytes.
 * Every other sample is copied, invoked and compared. Stateful models run
 * their samples in order without the extra invoke (it would advance the
 * state); their first invoke is the timed one. int8 outputs must match byte
 * for byte, float32 within 1e-5 relative (as tests/golden).
 *
 * Output lines (parsed by scripts/mcu-test):
 *   BOARD <board> kernels=<set> ns_per_tick_x100=<n>
 *   CALIB loop_instructions=<n> measured=<n>
 *   MODEL <name> kernels=<set> status=PASS|FAIL|SKIP arena=<bytes> samples=<ok>/<n>
 *         instructions=<n> ticks=<n>
 *   MISMATCH <model> sample=<name> element=<i> got=<v> want=<v>
 *   SUMMARY pass=<n> fail=<n> skip=<n>
 * Exit status: 0 when nothing failed, 1 otherwise (3 on a fault).
 */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "fmt.h"
#include "fw_models.h"
#include "tinymlops/interp.h"
#include "tinymlops/model.h"

#ifndef TMO_FW_ARENA_BYTES
#define TMO_FW_ARENA_BYTES (1024u * 1024u)
#endif
#ifndef TMO_FW_KERNELS
#define TMO_FW_KERNELS "opt"
#endif

__attribute__((section(".arena"), aligned(16))) static uint8_t arena[TMO_FW_ARENA_BYTES];

static void line(fmt_buf *b)
{
    fmt_str(b, "\n");
    board_puts(b->buf);
}

static int float_close(float got, float want)
{
    if (got == want)
        return 1;
    float diff = got > want ? got - want : want - got;
    float ag = got < 0 ? -got : got, aw = want < 0 ? -want : want;
    return diff <= 1e-5f * (ag > aw ? ag : aw);
}

static void report_mismatch(const fw_model *fm, const fw_sample *s, uint32_t i, int32_t got,
                            int32_t want)
{
    char buf[200];
    fmt_buf b;
    fmt_init(&b, buf, sizeof buf);
    fmt_str(&b, "MISMATCH ");
    fmt_str(&b, fm->name);
    fmt_str(&b, " sample=");
    fmt_str(&b, s->name);
    fmt_str(&b, " element=");
    fmt_u32(&b, i);
    fmt_str(&b, " got=");
    fmt_i32(&b, got);
    fmt_str(&b, " want=");
    fmt_i32(&b, want);
    line(&b);
}

/* Copies the sample's input bytes into the input tensors, in order. */
static int load_inputs(tmo_interp *it, const fw_sample *s)
{
    uint32_t at = 0;
    for (uint32_t i = 0; i < tmo_interp_input_count(it); i++) {
        tmo_io io;
        if (tmo_interp_input(it, i, &io) != TMO_OK || io.bytes > s->in_len - at)
            return 0;
        memcpy(io.data, s->in + at, io.bytes);
        at += (uint32_t)io.bytes;
    }
    return at == s->in_len;
}

/* Compares all outputs with the golden bytes; reports the first difference. */
static int outputs_match(const tmo_interp *it, const fw_model *fm, const fw_sample *s)
{
    uint32_t at = 0;
    for (uint32_t o = 0; o < tmo_interp_output_count(it); o++) {
        tmo_io io;
        if (tmo_interp_output(it, o, &io) != TMO_OK || io.bytes > s->out_len - at) {
            report_mismatch(fm, s, at, -1, -1);
            return 0;
        }
        const uint8_t *want = s->out + at;
        const uint8_t *got = io.data;
        if (io.type == TMO_FLOAT32) {
            for (uint32_t k = 0; k < io.bytes / 4u; k++) {
                float g, w;
                memcpy(&g, got + 4u * k, 4);
                memcpy(&w, want + 4u * k, 4);
                if (!float_close(g, w)) {
                    /* float values reported in millionths */
                    report_mismatch(fm, s, at / 4u + k, (int32_t)(g * 1e6f), (int32_t)(w * 1e6f));
                    return 0;
                }
            }
        } else {
            for (uint32_t i = 0; i < io.bytes; i++) {
                if (got[i] != want[i]) {
                    report_mismatch(fm, s, at + i, (int8_t)got[i], (int8_t)want[i]);
                    return 0;
                }
            }
        }
        at += (uint32_t)io.bytes;
    }
    if (at != s->out_len) {
        report_mismatch(fm, s, at, -1, -1);
        return 0;
    }
    return 1;
}

typedef enum { RUN_PASS, RUN_FAIL, RUN_SKIP } run_result;

static void report_error(const fw_model *fm, const char *what, const tmo_diag *d)
{
    char buf[320], msg[200];
    fmt_buf b;
    tmo_diag_format(d, msg, sizeof msg);
    fmt_init(&b, buf, sizeof buf);
    fmt_str(&b, "ERROR ");
    fmt_str(&b, fm->name);
    fmt_str(&b, " ");
    fmt_str(&b, what);
    fmt_str(&b, ": ");
    fmt_str(&b, msg);
    line(&b);
}

static run_result run_model(const fw_model *fm)
{
    tmo_model m;
    tmo_diag d;
    tmo_interp it;
    size_t need = 0;
    char buf[240];
    fmt_buf b;
    fmt_init(&b, buf, sizeof buf);
    fmt_str(&b, "MODEL ");
    fmt_str(&b, fm->name);
    fmt_str(&b, " kernels=" TMO_FW_KERNELS);

    if (tmo_model_parse(&m, fm->model, fm->model_len, &d) != TMO_OK) {
        report_error(fm, "parse", &d);
        fmt_str(&b, " status=FAIL");
        line(&b);
        return RUN_FAIL;
    }
    tmo_err e = tmo_interp_arena_size_ops(&m, fw_ops, arena, sizeof arena, &need, &d);
    if (e == TMO_ENOSPC) {
        report_error(fm, "arena", &d);
        fmt_str(&b, " status=SKIP reason=arena");
        line(&b);
        return RUN_SKIP;
    }
    /* Exactly the size asked for: proves tmo_interp_arena_size on this target. */
    if (e != TMO_OK || (e = tmo_interp_init_ops(&it, &m, fw_ops, arena, need, &d)) != TMO_OK) {
        report_error(fm, "init", &d);
        fmt_str(&b, " status=FAIL");
        line(&b);
        return RUN_FAIL;
    }

    uint32_t ok = 0;
    uint64_t ticks = 0;
    for (uint32_t i = 0; i < fm->sample_count; i++) {
        const fw_sample *s = &fm->samples[i];
        int good = load_inputs(&it, s);
        uint64_t t0 = board_ticks();
        good = good && tmo_interp_invoke(&it) == TMO_OK;
        uint64_t t1 = board_ticks();
        good = good && outputs_match(&it, fm, s);
        if (i == 0 && fm->stateful)
            ticks = t1 - t0;
        if (i == 0 && !fm->stateful) {
            /* The warm-up invoke may have reused the input's memory: copy it again. */
            good = good && load_inputs(&it, s);
            t0 = board_ticks();
            good = good && tmo_interp_invoke(&it) == TMO_OK;
            t1 = board_ticks();
            ticks = t1 - t0;
            good = good && outputs_match(&it, fm, s);
        }
        ok += good ? 1u : 0u;
    }
    int pass = ok == fm->sample_count && fm->sample_count > 0;
    fmt_str(&b, pass ? " status=PASS" : " status=FAIL");
    fmt_str(&b, " arena=");
    fmt_u64(&b, need);
    fmt_str(&b, " samples=");
    fmt_u32(&b, ok);
    fmt_str(&b, "/");
    fmt_u32(&b, fm->sample_count);
    fmt_str(&b, " instructions=");
    fmt_u64(&b, ticks * board_ns_per_tick_x100() / 100u);
    fmt_str(&b, " ticks=");
    fmt_u64(&b, ticks);
    line(&b);
    return pass ? RUN_PASS : RUN_FAIL;
}

int main(void)
{
    char buf[160];
    fmt_buf b;
    board_timer_start();

    fmt_init(&b, buf, sizeof buf);
    fmt_str(&b, "BOARD ");
    fmt_str(&b, board_name());
    fmt_str(&b, " kernels=" TMO_FW_KERNELS " ns_per_tick_x100=");
    fmt_u32(&b, board_ns_per_tick_x100());
    line(&b);

    /* 2,000,000 loop instructions (+ call overhead): the counter's self-check. */
    uint64_t t0 = board_ticks();
    board_spin(1000000u);
    uint64_t t1 = board_ticks();
    fmt_init(&b, buf, sizeof buf);
    fmt_str(&b, "CALIB loop_instructions=2000000 measured=");
    fmt_u64(&b, (t1 - t0) * board_ns_per_tick_x100() / 100u);
    line(&b);

    uint32_t pass = 0, fail = 0, skip = 0;
    for (uint32_t i = 0; i < fw_model_count; i++) {
        switch (run_model(&fw_models[i])) {
        case RUN_PASS:
            pass++;
            break;
        case RUN_FAIL:
            fail++;
            break;
        case RUN_SKIP:
            skip++;
            break;
        }
    }
    fmt_init(&b, buf, sizeof buf);
    fmt_str(&b, "SUMMARY pass=");
    fmt_u32(&b, pass);
    fmt_str(&b, " fail=");
    fmt_u32(&b, fail);
    fmt_str(&b, " skip=");
    fmt_u32(&b, skip);
    line(&b);
    return fail == 0 && pass > 0 ? 0 : 1;
}
