/*
 * Body of the model fuzz target (see fuzz_model_body.h).
 *
 * Besides what ASan/UBSan catch, it checks the runtime's promises that a
 * fuzzer can observe, and aborts when one is broken:
 *   - accessors of a parsed model never fail for valid indices (model.h);
 *   - tmo_interp_arena_size() is exact: init succeeds in that many bytes and
 *     fails with ENOSPC in one byte less;
 *   - inputs and outputs lie inside the part of the arena in use;
 *   - tmo_diag_format() behaves like snprintf.
 * Under ASan the arena beyond the size the interpreter asked for is
 * poisoned, so a kernel writing past its planned memory is reported at once.
 */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_model_body.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tinymlops/interp.h"
#include "tinymlops/model.h"

#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_HAVE_ASAN 1
#endif
#endif

#ifdef FUZZ_HAVE_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

static _Alignas(16) uint8_t arena[FUZZ_ARENA_BYTES];

static void broken(const char *promise)
{
    fprintf(stderr, "fuzz_model: runtime broke its contract: %s\n", promise);
    abort();
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* Renders d into a roomy and a tiny buffer; both must agree with snprintf semantics. */
static void check_diag_format(const tmo_diag *d)
{
    char big[1024], tiny[8];
    size_t full = tmo_diag_format(d, big, sizeof big);
    if (full < sizeof big && strlen(big) != full)
        broken("tmo_diag_format length differs from the text written");
    size_t again = tmo_diag_format(d, tiny, sizeof tiny);
    if (again != full)
        broken("tmo_diag_format length depends on the buffer size");
    if (strlen(tiny) != (full < sizeof tiny ? full : sizeof tiny - 1))
        broken("tmo_diag_format truncation is not snprintf-like");
    if (tmo_err_name(d->err) == NULL)
        broken("tmo_err_name returned NULL");
}

/* A parsed model promises that its accessors work for every valid index. */
static void check_accessors(const tmo_model *m)
{
    for (uint32_t t = 0; t < m->tensor_count; t++) {
        tmo_tensor_info ti;
        if (tmo_model_tensor(m, t, &ti) != TMO_OK)
            broken("tmo_model_tensor failed on a parsed model");
        for (uint32_t c = 0; c < ti.scale_count; c++) {
            (void)tmo_tensor_scale(&ti, c);
            (void)tmo_tensor_zero_point(&ti, c);
        }
    }
    for (uint32_t i = 0; i < m->op_count; i++) {
        tmo_op_info op;
        if (tmo_model_op(m, i, &op) != TMO_OK)
            broken("tmo_model_op failed on a parsed model");
        (void)tmo_builtin_name(op.builtin);
    }
    for (uint32_t i = 0; i < m->input_count; i++)
        if (tmo_model_input(m, i) < 0 || (uint32_t)tmo_model_input(m, i) >= m->tensor_count)
            broken("tmo_model_input out of range on a parsed model");
    for (uint32_t i = 0; i < m->output_count; i++)
        if (tmo_model_output(m, i) < 0 || (uint32_t)tmo_model_output(m, i) >= m->tensor_count)
            broken("tmo_model_output out of range on a parsed model");
}

static int all_ops_supported(const tmo_model *m)
{
    for (uint32_t i = 0; i < m->op_count; i++) {
        tmo_op_info op;
        if (tmo_model_op(m, i, &op) != TMO_OK || op.builtin == 32 ||
            !tmo_interp_supports(op.builtin))
            return 0;
    }
    return 1;
}

static int in_arena(const void *p, size_t bytes, size_t used)
{
    const uint8_t *b = p;
    return b >= arena && b <= arena + used && bytes <= (size_t)(arena + used - b);
}

/* Fills every input living in the arena with bytes derived from the model bytes. */
static void fill_inputs(const tmo_interp *it, uint64_t seed, size_t used)
{
    for (uint32_t i = 0; i < tmo_interp_input_count(it); i++) {
        tmo_io io;
        if (tmo_interp_input(it, i, &io) != TMO_OK)
            broken("tmo_interp_input failed for a valid index");
        if (!in_arena(io.data, io.bytes, used))
            continue; /* a constant graph input lives in the model: nothing to write */
        uint8_t *dst = io.data;
        uint64_t word = 0;
        for (size_t k = 0; k < io.bytes; k++) {
            if (k % 8 == 0)
                word = splitmix64(&seed);
            dst[k] = (uint8_t)(word >> (8 * (k % 8)));
        }
    }
}

/* Reads every output byte so a misplaced output is seen by ASan. */
static void read_outputs(const tmo_interp *it, const uint8_t *model, size_t model_len, size_t used)
{
    volatile uint8_t sink = 0;
    for (uint32_t i = 0; i < tmo_interp_output_count(it); i++) {
        tmo_io io;
        if (tmo_interp_output(it, i, &io) != TMO_OK)
            broken("tmo_interp_output failed for a valid index");
        const uint8_t *p = io.data;
        int in_model =
            p >= model && p <= model + model_len && io.bytes <= (size_t)(model + model_len - p);
        if (!in_arena(io.data, io.bytes, used) && !in_model)
            broken("an output lies outside both the used arena and the model");
        for (size_t k = 0; k < io.bytes; k++)
            sink ^= p[k];
    }
    (void)sink;
}

fuzz_model_result fuzz_model_run(const uint8_t *data, size_t size)
{
    fuzz_model_result r = {TMO_ESTATE, TMO_ESTATE, 0, 0};
    /* An exact-size, 16-byte aligned copy: reading one byte past the model is an ASan error. */
    void *copy = NULL;
    if (posix_memalign(&copy, 16, size > 0 ? size : 1) != 0)
        abort();
    if (size > 0)
        memcpy(copy, data, size);

    UNPOISON(arena, sizeof arena);
    memset(arena, 0xA5, sizeof arena); /* same start state for every run: reproducible crashes */

    tmo_model m;
    tmo_diag d;
    r.parse = tmo_model_parse(&m, copy, size, &d);
    if (r.parse != TMO_OK) {
        check_diag_format(&d);
        goto out;
    }
    check_accessors(&m);
    r.supported = all_ops_supported(&m);

    size_t needed = 0;
    r.init = tmo_interp_arena_size(&m, arena, sizeof arena, &needed, &d);
    if (r.init == TMO_OK) {
        if (needed == 0 || needed > sizeof arena)
            broken("tmo_interp_arena_size reported a size outside the work buffer");
        /* Exact means exact: one byte less must be refused, cleanly. */
        tmo_interp small;
        POISON(arena + needed - 1, sizeof arena - (needed - 1));
        if (tmo_interp_init(&small, &m, arena, needed - 1, &d) != TMO_ENOSPC)
            broken("tmo_interp_init accepted an arena smaller than tmo_interp_arena_size");
        check_diag_format(&d);
        UNPOISON(arena, sizeof arena);

        memset(arena, 0xA5, sizeof arena);
        POISON(arena + needed, sizeof arena - needed);
        tmo_interp it;
        r.init = tmo_interp_init(&it, &m, arena, needed, &d);
        if (r.init != TMO_OK) {
            check_diag_format(&d);
            broken("tmo_interp_init failed in the arena size tmo_interp_arena_size asked for");
        }
        if (it.arena_used > needed)
            broken("interpreter uses more arena than tmo_interp_arena_size reported");
        fill_inputs(&it, fnv1a(data, size), needed);
        if (tmo_interp_invoke(&it) != TMO_OK)
            broken("tmo_interp_invoke failed on an initialized interpreter");
        r.invoked = 1;
        read_outputs(&it, copy, size, needed);
    } else {
        check_diag_format(&d);
    }
out:
    UNPOISON(arena, sizeof arena);
    free(copy);
    return r;
}
