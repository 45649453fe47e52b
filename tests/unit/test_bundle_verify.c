/*
 * The device-side bundle API end to end (include/tinymlops/bundle.h): packs
 * bundles with the host packer and runs them through verify / load /
 * check_payload / accept with in-memory ports, checking the plaintext
 * against the original model bytes, the state machine, the anti-rollback
 * counter rules [B-7.4, B-8.4], target checks [B-7.5], port error
 * propagation and the slot guarantees of load [B-8.3]. Attacks (tampering,
 * wrong certificates and keys) are in tests/bundle/test_bundle_tamper.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bundle/bundle_fixture.h"

static fx F;

static int setup(void **state)
{
    (void)state;
    return fx_init(&F);
}

static int teardown(void **state)
{
    (void)state;
    fx_free(&F);
    return 0;
}

static void reset_ports(void)
{
    F.nv = 0;
    F.now = FX_NOW;
    F.counter_error = F.clock_error = TMO_OK;
    F.advance_calls = 0;
    F.advanced_to = 0;
}

/* Verify + load; returns the error and the decrypted model (caller frees) on success. */
static tmo_err run(const tmo_bundle_env *env, const uint8_t *b, size_t len, tmo_diag *d,
                   uint8_t **model)
{
    return fx_run(&F, env, b, len, d, model);
}

static void round_trip(int encrypt)
{
    reset_ports();
    host_pack_in in = fx_pack_in(&F, encrypt);
    size_t len;
    uint8_t *b = fx_pack(&in, &len);
    assert_non_null(b);
    tmo_bundle_env env = fx_env(&F);
    tmo_diag d;
    uint8_t *model = NULL;
    assert_int_equal(run(&env, b, len, &d, &model), TMO_OK);
    assert_memory_equal(model, F.model, F.model_len);
    /* The payload is 16-aligned in the file [B-2.7] and encrypted bytes differ from the model. */
    tmo_bundle_section s;
    assert_int_equal(hb_find_section(b, len, TMO_SECTION_PAYLOAD, &s), 0);
    assert_int_equal((s.offset + 8) % 16, 0);
    assert_int_equal(s.offset + 8 + F.model_len, len);
    if (encrypt)
        assert_memory_not_equal(b + s.offset + 8, F.model, F.model_len);
    else
        assert_memory_equal(b + s.offset + 8, F.model, F.model_len);
    free(model);
    free(b);
}

static void plain_round_trip(void **state)
{
    (void)state;
    round_trip(0);
}

static void encrypted_round_trip(void **state)
{
    (void)state;
    round_trip(1);
}

/* [B-6.2] many recipients: the device finds its own wrap wherever it is. */
static void many_recipients(void **state)
{
    (void)state;
    reset_ports();
    host_key extra[4];
    char err[128];
    uint8_t keys[5][TMO_P256_PUBLIC_KEY_LEN];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(host_key_generate(&extra[i], err, sizeof err), 0);
        memcpy(keys[i], extra[i].pub, TMO_P256_PUBLIC_KEY_LEN);
    }
    memcpy(keys[4], F.device.pub, TMO_P256_PUBLIC_KEY_LEN);
    host_pack_in in = fx_pack_in(&F, 1);
    in.recipients = (const uint8_t(*)[TMO_P256_PUBLIC_KEY_LEN])keys;
    in.recipient_count = 5;
    size_t len;
    uint8_t *b = fx_pack(&in, &len);
    tmo_bundle_env env = fx_env(&F);
    tmo_diag d;
    uint8_t *model = NULL;
    assert_int_equal(run(&env, b, len, &d, &model), TMO_OK);
    assert_memory_equal(model, F.model, F.model_len);
    free(model);
    /* Each other recipient opens it too (host path, independent unwrap) [B-6.6]. */
    for (int i = 0; i < 4; i++) {
        host_verify_in hin = {
            (const uint8_t(*)[TMO_P256_PUBLIC_KEY_LEN])F.roots, 1, 0, &extra[i], FX_NOW, 0, NULL, 0};
        host_verify_out out;
        assert_int_equal(host_bundle_verify(b, len, &hin, &out), TMO_OK);
        assert_true(out.gcm_tag_checked);
        host_verify_free(&out);
        host_key_wipe(&extra[i]);
    }
    free(b);
}

/* [B-8] encrypted bundle, no device key: metadata and stored digest verify, decryption cannot. */
static void encrypted_without_device_key(void **state)
{
    (void)state;
    reset_ports();
    host_pack_in in = fx_pack_in(&F, 1);
    size_t len;
    uint8_t *b = fx_pack(&in, &len);
    tmo_bundle_env env = fx_env(&F);
    env.device_key = 0;
    tmo_port_mem mem;
    tmo_port_reader r;
    tmo_bundle bundle;
    tmo_diag d;
    tmo_port_reader_mem(&r, &mem, b, len);
    assert_int_equal(tmo_bundle_verify(&bundle, &r, &env, &d), TMO_OK);
    assert_int_equal(tmo_bundle_check_payload(&bundle, &d), TMO_OK);
    assert_int_equal(bundle.state, TMO_BUNDLE_PAYLOAD_OK);
    static uint8_t slot[4096] __attribute__((aligned(16)));
    assert_int_equal(tmo_bundle_load(&bundle, slot, sizeof slot, &d), TMO_EKEY);
    assert_string_equal(d.field, "wrap.recipient");
    tmo_bundle_close(&bundle);
    free(b);
}

/* [B-8.4] accept only after a payload check; the counter only moves forward, only on accept. */
static void accept_and_counter(void **state)
{
    (void)state;
    reset_ports();
    F.nv = 3;
    host_pack_in in = fx_pack_in(&F, 0);
    size_t len;
    uint8_t *b = fx_pack(&in, &len);
    tmo_bundle_env env = fx_env(&F);
    tmo_port_mem mem;
    tmo_port_reader r;
    tmo_bundle bundle;
    tmo_diag d;
    tmo_port_reader_mem(&r, &mem, b, len);
    memset(&bundle, 0, sizeof bundle); /* zeroed (or closed) = TMO_BUNDLE_EMPTY */
    assert_int_equal(tmo_bundle_accept(&bundle, &d), TMO_ESTATE);
    assert_int_equal(tmo_bundle_verify(&bundle, &r, &env, &d), TMO_OK);
    assert_int_equal(F.nv, 3); /* verify alone never writes the counter */
    assert_int_equal(tmo_bundle_accept(&bundle, &d), TMO_ESTATE);
    assert_int_equal(F.advance_calls, 0);
    assert_int_equal(tmo_bundle_check_payload(&bundle, &d), TMO_OK);
    assert_int_equal(tmo_bundle_accept(&bundle, &d), TMO_OK);
    assert_int_equal(F.nv, 7);
    assert_int_equal(F.advanced_to, 7);
    assert_int_equal(bundle.state, TMO_BUNDLE_ACCEPTED);

    /* Equal counter: accepted (re-install) and no write. */
    F.advance_calls = 0;
    assert_int_equal(tmo_bundle_verify(&bundle, &r, &env, &d), TMO_OK);
    assert_int_equal(tmo_bundle_check_payload(&bundle, &d), TMO_OK);
    assert_int_equal(tmo_bundle_accept(&bundle, &d), TMO_OK);
    assert_int_equal(F.advance_calls, 0);

    /* Another bundle accepted between verify and accept: this one is now a rollback. */
    assert_int_equal(tmo_bundle_verify(&bundle, &r, &env, &d), TMO_OK);
    assert_int_equal(tmo_bundle_check_payload(&bundle, &d), TMO_OK);
    F.nv = 9;
    assert_int_equal(tmo_bundle_accept(&bundle, &d), TMO_EROLLBACK);
    assert_int_equal(F.nv, 9);
    /* And a fresh verify says so with both numbers [B-7.4]. */
    assert_int_equal(tmo_bundle_verify(&bundle, &r, &env, &d), TMO_EROLLBACK);
    assert_int_equal(d.value, 7);
    assert_int_equal(d.limit, 9);
    tmo_bundle_close(&bundle);
    free(b);
}

/* Port errors pass through unchanged, naming the port. */
static tmo_err failing_read(void *ctx, uint32_t off, void *buf, size_t n)
{
    const tmo_port_mem *m = ctx;
    if (off + n > 300 && off < 400)
        return TMO_PORT_EIO;
    memcpy(buf, m->bytes + off, n);
    return TMO_OK;
}

static void port_errors(void **state)
{
    (void)state;
    reset_ports();
    host_pack_in in = fx_pack_in(&F, 1);
    size_t len;
    uint8_t *b = fx_pack(&in, &len);
    tmo_bundle_env env = fx_env(&F);
    tmo_diag d;
    F.counter_error = TMO_PORT_ECORRUPT;
    assert_int_equal(run(&env, b, len, &d, NULL), TMO_PORT_ECORRUPT);
    assert_string_equal(d.field, "port.counter");
    reset_ports();
    F.clock_error = TMO_PORT_ETIME;
    assert_int_equal(run(&env, b, len, &d, NULL), TMO_PORT_ETIME);
    assert_string_equal(d.field, "port.clock");
    reset_ports();
    tmo_port_mem mem = {b, (uint32_t)len};
    tmo_port_reader r = {failing_read, &mem, (uint32_t)len};
    tmo_bundle bundle;
    assert_int_equal(tmo_bundle_verify(&bundle, &r, &env, &d), TMO_PORT_EIO);
    assert_string_equal(d.field, "port.reader");
    free(b);
}

/* [B-7.5] target requirements against the device's capabilities. */
static void target_requirements(void **state)
{
    (void)state;
    reset_ports();
    tmo_bundle_env env = fx_env(&F);
    tmo_diag d;
    size_t len;
    uint8_t *b;
    host_pack_in in = fx_pack_in(&F, 0);

    const char *arm[] = {"cortex-m4", "cortex-m7"}, *both[] = {"cortex-m4", "x86_64"};
    in.arches = arm;
    in.arch_count = 2;
    b = fx_pack(&in, &len);
    assert_int_equal(run(&env, b, len, &d, NULL), TMO_ETARGET);
    assert_string_equal(d.field, "target.arch");
    free(b);
    in.arches = both;
    b = fx_pack(&in, &len);
    assert_int_equal(run(&env, b, len, &d, NULL), TMO_OK);
    free(b);

    in = fx_pack_in(&F, 0);
    in.min_runtime = (tmo_semver){TMO_RUNTIME_VERSION_MAJOR, TMO_RUNTIME_VERSION_MINOR + 1, 0};
    b = fx_pack(&in, &len);
    assert_int_equal(run(&env, b, len, &d, NULL), TMO_ETARGET);
    assert_string_equal(d.field, "target.min_runtime");
    free(b);

    in = fx_pack_in(&F, 0);
    b = fx_pack(&in, &len);
    tmo_port_mem mem;
    tmo_port_reader r;
    tmo_bundle bundle;
    tmo_port_reader_mem(&r, &mem, b, len);
    assert_int_equal(tmo_bundle_verify(&bundle, &r, &env, &d), TMO_OK);
    /* The packer's arena is the runtime planner's exact figure: one byte less does not fit. */
    tmo_model m;
    size_t arena = 0;
    assert_int_equal(tmo_model_parse(&m, F.model, F.model_len, &d), TMO_OK);
    assert_int_equal(host_arena_size(&m, &arena, &d), TMO_OK);
    assert_int_equal(bundle.manifest.arena_bytes, arena);
    assert_int_equal(bundle.manifest.flash_bytes, F.model_len);
    assert_int_equal(bundle.manifest.op_count, 1);
    F.caps.max_arena_bytes = arena - 1;
    assert_int_equal(run(&env, b, len, &d, NULL), TMO_ETARGET);
    assert_string_equal(d.field, "target.arena_bytes");
    assert_int_equal(d.value, (int64_t)arena);
    F.caps.max_arena_bytes = arena;
    F.caps.max_flash_bytes = F.model_len - 1;
    assert_int_equal(run(&env, b, len, &d, NULL), TMO_ETARGET);
    assert_string_equal(d.field, "target.flash_bytes");
    /* Without caps (host tools), the target is not checked [B-7.6]. */
    env.caps = NULL;
    assert_int_equal(run(&env, b, len, &d, NULL), TMO_OK);
    F.caps.max_flash_bytes = F.caps.max_arena_bytes = 1u << 20;
    env.caps = &F.caps;

    /* A firmware that names its operators (caps.ops) refuses a model using any other. */
    tmo_op_info op;
    assert_int_equal(tmo_model_op(&m, 0, &op), TMO_OK);
    const tmo_op_reg *other[] = {TMO_OP(CONV_2D), TMO_OP(SOFTMAX)};
    const tmo_op_reg *with[] = {TMO_OP(SOFTMAX), tmo_op_find(&tmo_ops_all, op.builtin)};
    tmo_op_table other_table = TMO_OP_TABLE(other), with_table = TMO_OP_TABLE(with);
    assert_true(op.builtin != TMO_BUILTIN_CONV_2D && op.builtin != TMO_BUILTIN_SOFTMAX);
    F.caps.ops = &other_table;
    assert_int_equal(run(&env, b, len, &d, NULL), TMO_ETARGET);
    assert_string_equal(d.field, "target.ops");
    assert_null(d.op_name); /* the table has no name_of: the code tells which */
    assert_int_equal(d.value, op.builtin);
    other_table.name_of = tmo_builtin_name;
    assert_int_equal(run(&env, b, len, &d, NULL), TMO_ETARGET);
    assert_string_equal(d.op_name, tmo_builtin_name(op.builtin));
    F.caps.ops = &with_table;
    assert_int_equal(run(&env, b, len, &d, NULL), TMO_OK);
    F.caps.ops = NULL;
    free(b);

    /* An operator this runtime lacks (a custom op; the arena is given since the planner can't size it). */
    tw_model *tm = tw_new();
    int32_t dims[2] = {1, 4};
    int t0 = tw_tensor(tm, "in", TMO_FLOAT32, dims, 2, 0, NULL),
        t1 = tw_tensor(tm, "out", TMO_FLOAT32, dims, 2, 0, NULL);
    int32_t ins[1] = {t0}, outs[1] = {t1};
    tw_custom_operator(tm, "Mystery", ins, 1, outs, 1);
    tw_inputs(tm, ins, 1);
    tw_outputs(tm, outs, 1);
    uint8_t *custom;
    size_t custom_len;
    assert_int_equal(tw_finish(tm, &custom, &custom_len), 0);
    tw_free(tm);
    in = fx_pack_in(&F, 0);
    in.model = custom;
    in.model_len = custom_len;
    in.arena_bytes = 1024;
    b = fx_pack(&in, &len);
    assert_non_null(b);
    assert_int_equal(run(&env, b, len, &d, NULL), TMO_ETARGET);
    assert_string_equal(d.field, "target.ops");
    assert_string_equal(d.op_name, "CUSTOM");
    free(b);
    free(custom);
}

/* [B-8.3] load: slot size and alignment, nothing past the payload written, wiped on mismatch. */
static void load_slot_rules(void **state)
{
    (void)state;
    reset_ports();
    host_pack_in in = fx_pack_in(&F, 1);
    size_t len;
    uint8_t *b = fx_pack(&in, &len);
    tmo_bundle_env env = fx_env(&F);
    tmo_port_mem mem;
    tmo_port_reader r;
    tmo_bundle bundle;
    tmo_diag d;
    tmo_port_reader_mem(&r, &mem, b, len);
    static uint8_t slot[8192] __attribute__((aligned(16)));
    memset(&bundle, 0, sizeof bundle);
    assert_int_equal(tmo_bundle_load(&bundle, slot, sizeof slot, &d), TMO_ESTATE);
    assert_int_equal(tmo_bundle_verify(&bundle, &r, &env, &d), TMO_OK);
    assert_int_equal(tmo_bundle_load(&bundle, slot, F.model_len - 1, &d), TMO_ENOSPC);
    assert_int_equal(d.value, (int64_t)F.model_len);
    assert_int_equal(tmo_bundle_load(&bundle, slot + 2, F.model_len, &d), TMO_EINVAL);
    memset(slot, 0xAA, sizeof slot);
    assert_int_equal(tmo_bundle_load(&bundle, slot, sizeof slot, &d), TMO_OK);
    assert_memory_equal(slot, F.model, F.model_len);
    for (size_t i = F.model_len; i < sizeof slot; i++)
        assert_int_equal(slot[i], 0xAA);

    /* A payload byte changed after verify (flash corrupted, or a second read differs): the
     * slot holds no byte of it afterwards. */
    tmo_bundle_section s;
    hb_find_section(b, len, TMO_SECTION_PAYLOAD, &s);
    b[s.offset + 8 + F.model_len / 2] ^= 0x40;
    memset(slot, 0xAA, sizeof slot);
    assert_int_equal(tmo_bundle_load(&bundle, slot, sizeof slot, &d), TMO_EDIGEST);
    assert_string_equal(d.field, "payload.digest");
    for (size_t i = 0; i < F.model_len; i++)
        assert_int_equal(slot[i], 0);
    assert_int_equal(slot[F.model_len], 0xAA);
    assert_int_equal(tmo_bundle_check_payload(&bundle, &d), TMO_EDIGEST);
    tmo_bundle_close(&bundle);
    for (size_t i = 0; i < sizeof bundle; i++)
        assert_int_equal(((uint8_t *)&bundle)[i], 0);
    free(b);
}

/* Extension sections [B-3.7]: non-critical unknown ones are skipped; PROFILE/KAT are located. */
static void extension_sections(void **state)
{
    (void)state;
    reset_ports();
    const uint8_t profile[20] = {1, 2, 3}, kat[3] = {9, 9, 9}, future[5] = {5};
    hb_extra_section extra[3] = {{TMO_SECTION_PROFILE, 0, profile, sizeof profile},
                                 {0x0777, 0, future, sizeof future},
                                 {TMO_SECTION_KAT, 0, kat, sizeof kat}};
    host_pack_in in = fx_pack_in(&F, 1);
    in.extra = extra;
    in.extra_count = 3;
    size_t len;
    uint8_t *b = fx_pack(&in, &len);
    tmo_bundle_env env = fx_env(&F);
    tmo_port_mem mem;
    tmo_port_reader r;
    tmo_bundle bundle;
    tmo_diag d;
    tmo_port_reader_mem(&r, &mem, b, len);
    assert_int_equal(tmo_bundle_verify(&bundle, &r, &env, &d), TMO_OK);
    assert_int_equal(bundle.profile_length, sizeof profile);
    assert_memory_equal(b + bundle.profile_offset, profile, sizeof profile);
    assert_int_equal(bundle.kat_length, sizeof kat);
    assert_memory_equal(b + bundle.kat_offset, kat, sizeof kat);
    free(b);
    /* A critical KAT section needs a reader that runs known-answer tests: this one refuses it. */
    extra[2].flags = TMO_SECTION_CRITICAL;
    b = fx_pack(&in, &len);
    tmo_port_reader_mem(&r, &mem, b, len);
    assert_int_equal(tmo_bundle_verify(&bundle, &r, &env, &d), TMO_EUNSUPPORTED);
    assert_string_equal(d.field, "section.tag");
    assert_int_equal(d.index, 5); /* MANIFEST, CERT, WRAP, PROFILE, future, KAT */
    tmo_bundle_close(&bundle);
    free(b);
}

/* Runtime version in bundle.h follows the project version in CMakeLists.txt. */
static void runtime_version_matches_project(void **state)
{
    (void)state;
    char v[32];
    snprintf(v, sizeof v, "%d.%d.%d", TMO_RUNTIME_VERSION_MAJOR, TMO_RUNTIME_VERSION_MINOR,
             TMO_RUNTIME_VERSION_PATCH);
#ifdef TMO_PROJECT_VERSION
    assert_string_equal(v, TMO_PROJECT_VERSION);
#else
    skip();
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_round_trip),    cmocka_unit_test(encrypted_round_trip),
        cmocka_unit_test(many_recipients),     cmocka_unit_test(encrypted_without_device_key),
        cmocka_unit_test(accept_and_counter),  cmocka_unit_test(port_errors),
        cmocka_unit_test(target_requirements), cmocka_unit_test(load_slot_rules),
        cmocka_unit_test(extension_sections),  cmocka_unit_test(runtime_version_matches_project),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
