/*
 * The model factory's network (host/train/arch_spec.c, net.c, layers_*.c,
 * loss.c): the architecture grammar, layer shapes, backpropagation checked
 * against central finite differences of the loss for every layer kind,
 * and folding the input scale into the first weights.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "train/arch.h"
#include "train/layers.h"
#include "train/loss.h"
#include "train/net.h"
#include "train_fixture.h"

static void expect_spec_error(const char *spec, const char *frag)
{
    tr_arch a;
    char err[256] = "";
    assert_int_equal(tr_arch_parse(spec, &a, err, sizeof err), -1);
    if (strstr(err, frag) == NULL)
        fail_msg("'%s': message '%s' lacks '%s'", spec, err, frag);
}

static void test_spec_grammar(void **state)
{
    (void)state;
    tr_arch a;
    char err[256];
    assert_int_equal(tr_arch_parse("mlp:64,32", &a, err, sizeof err), 0);
    assert_int_equal(a.spatial, 0);
    assert_int_equal(a.count, 2);
    assert_int_equal(a.layers[0].kind, TR_DENSE);
    assert_int_equal(a.layers[0].units, 64);
    assert_int_equal(a.layers[1].units, 32);
    assert_true(a.layers[1].relu);
    assert_int_equal(tr_arch_parse("mlp:", &a, err, sizeof err), 0);
    assert_int_equal(a.count, 0);

    assert_int_equal(tr_arch_parse("cnn:c8k3,dw,p2,d32", &a, err, sizeof err), 0);
    assert_int_equal(a.spatial, 1);
    assert_int_equal(a.count, 4);
    assert_int_equal(a.layers[0].kind, TR_CONV);
    assert_int_equal(a.layers[0].units, 8);
    assert_int_equal(a.layers[0].k, 3);
    assert_int_equal(a.layers[0].stride, 1);
    assert_int_equal(a.layers[1].kind, TR_DWCONV);
    assert_int_equal(a.layers[1].k, 3);
    assert_int_equal(a.layers[2].kind, TR_MAXPOOL);
    assert_int_equal(a.layers[2].k, 2);
    assert_int_equal(a.layers[2].stride, 2);
    assert_false(a.layers[2].relu);
    assert_int_equal(a.layers[3].kind, TR_DENSE);
    assert_int_equal(a.layers[3].units, 32);

    assert_int_equal(tr_arch_parse("cnn:c4k5s2,dwk5s2,a3", &a, err, sizeof err), 0);
    assert_int_equal(a.layers[0].k, 5);
    assert_int_equal(a.layers[0].stride, 2);
    assert_int_equal(a.layers[1].k, 5);
    assert_int_equal(a.layers[1].stride, 2);
    assert_int_equal(a.layers[2].kind, TR_AVGPOOL);

    expect_spec_error("rnn:3", "must start with 'mlp:'");
    expect_spec_error("mlp:64,,32", "'': expected a number (units)");
    expect_spec_error("mlp:64,", "empty layer");
    expect_spec_error("mlp:0", "units must be 1 to 4096");
    expect_spec_error("mlp:99999999999", "units must be 1 to 4096");
    expect_spec_error("mlp:64x", "'64x': unexpected characters");
    expect_spec_error("cnn:", "at least one layer");
    expect_spec_error("cnn:c8", "'c8': a convolution needs its kernel size");
    expect_spec_error("cnn:c8k0", "kernel size must be 1 to 15");
    expect_spec_error("cnn:x3", "'x3': unknown layer");
    expect_spec_error("cnn:d8,c4k3", "'c4k3': convolution and pooling layers must come before");
    expect_spec_error("mlp:1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1", "more than 16");
}

static void test_shapes(void **state)
{
    (void)state;
    tr_arch a;
    tr_net n;
    char err[256];
    assert_int_equal(tr_arch_parse("cnn:c6k3s2,dw,p2,d7", &a, err, sizeof err), 0);
    assert_int_equal(tr_net_build(&n, &a, 9, 8, 2, 4, 1.0f, 1, err, sizeof err), 0);
    assert_int_equal(n.count, 5);
    /* SAME, stride 2: ceil(9/2) x ceil(8/2); padding total (5-1)*2+3-9 = 2 -> 1 before. */
    assert_int_equal(n.layers[0].out_h, 5);
    assert_int_equal(n.layers[0].out_w, 4);
    assert_int_equal(n.layers[0].out_c, 6);
    assert_int_equal(n.layers[0].pad_h, 1);
    assert_int_equal(n.layers[0].pad_w, 0); /* (4-1)*2+3-8 = 1 -> 0 before, 1 after */
    assert_int_equal(n.layers[0].n_w, 6 * 3 * 3 * 2);
    assert_int_equal(n.layers[1].out_c, 6);
    assert_int_equal(n.layers[1].n_w, 3 * 3 * 6);
    /* VALID pool 2/2 of 5x4: 2x2. */
    assert_int_equal(n.layers[2].out_h, 2);
    assert_int_equal(n.layers[2].out_w, 2);
    assert_int_equal(n.layers[3].n_w, 7 * 2 * 2 * 6);
    assert_int_equal(n.layers[4].out_c, 4);
    assert_false(n.layers[4].spec.relu);
    assert_int_equal(tr_net_params(&n), 6 * 18 + 6 + 54 + 6 + 7 * 24 + 7 + 4 * 7 + 4);
    tr_net_free(&n);

    assert_int_equal(tr_arch_parse("cnn:p4", &a, err, sizeof err), 0);
    assert_int_equal(tr_net_build(&n, &a, 3, 3, 1, 2, 1.0f, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "4x4 pool needs an input of at least that size, has 3x3"));
}

static double loss_of(tr_net *n, const float *x, int32_t label)
{
    float d[8];
    const float *logits = tr_net_forward(n, x);
    return tr_softmax_xent(logits, n->classes, label, d);
}

/*
 * Every parameter gradient against (L(p + h) - L(p - h)) / 2h. Inputs are
 * random, so ReLU kinks and max-pool ties are measure-zero events; h is
 * small against the typical distance to a kink.
 */
static void check_gradients(const char *spec, int32_t h, int32_t w, int32_t c, uint64_t seed)
{
    tr_arch a;
    tr_net n;
    char err[256];
    assert_int_equal(tr_arch_parse(spec, &a, err, sizeof err), 0);
    assert_int_equal(tr_net_build(&n, &a, h, w, c, 3, 0.5f, seed, err, sizeof err), 0);
    uint64_t s = seed;
    float x[256];
    for (int32_t i = 0; i < h * w * c; i++)
        x[i] = (float)(4.0 * fx_unit(&s) - 1.0);
    /* Non-zero biases so that the bias gradients of ReLU layers are exercised too. */
    for (uint32_t i = 0; i < n.count; i++)
        for (size_t j = 0; j < n.layers[i].n_b; j++)
            n.layers[i].b[j] = (float)(0.2 * fx_unit(&s) - 0.05);
    const int32_t label = 1;
    float d[8];
    tr_net_zero_grad(&n);
    tr_softmax_xent(tr_net_forward(&n, x), n.classes, label, d);
    tr_net_backward(&n, d);
    size_t checked = 0;
    for (uint32_t i = 0; i < n.count; i++) {
        tr_layer *l = &n.layers[i];
        for (size_t j = 0; j < l->n_w + l->n_b; j++) {
            float *p = j < l->n_w ? &l->w[j] : &l->b[j - l->n_w];
            float g = j < l->n_w ? l->gw[j] : l->gb[j - l->n_w];
            const float step = 1e-3f;
            float keep = *p;
            *p = keep + step;
            double up = loss_of(&n, x, label);
            *p = keep - step;
            double down = loss_of(&n, x, label);
            *p = keep;
            double numeric = (up - down) / (2.0 * (double)step);
            if (fabs(numeric - (double)g) > 2e-3 + 2e-2 * fabs(numeric))
                fail_msg("%s layer %u param %zu: backprop %g, finite difference %g", spec, i, j,
                         (double)g, numeric);
            checked++;
        }
    }
    assert_int_equal(checked, tr_net_params(&n));
    tr_net_free(&n);
}

static void test_gradients_dense(void **state)
{
    (void)state;
    check_gradients("mlp:7,5", 1, 1, 6, 11);
}

static void test_gradients_conv(void **state)
{
    (void)state;
    check_gradients("cnn:c3k3,dw,p2,d5", 5, 6, 2, 12);
    check_gradients("cnn:c2k3s2,dwk3s2,d4", 7, 6, 3, 13);
    check_gradients("cnn:c3k2,a2,d4", 5, 4, 2, 14);
    check_gradients("cnn:dwk5,c2k1", 4, 4, 2, 15);
}

/* Folding a power-of-two input scale into the first weights changes no output bit. */
static void test_fold_input_scale(void **state)
{
    (void)state;
    const char *specs[] = {"mlp:8", "cnn:p2,c3k3,d4"};
    for (int k = 0; k < 2; k++) {
        tr_arch a;
        tr_net n;
        char err[256];
        assert_int_equal(tr_arch_parse(specs[k], &a, err, sizeof err), 0);
        int32_t hw = k == 0 ? 1 : 4, c = k == 0 ? 12 : 1;
        assert_int_equal(
            tr_net_build(&n, &a, hw, hw, c == 12 ? 12 : 1, 3, 0.0625f, 3, err, sizeof err), 0);
        uint64_t s = 5;
        float x[16], before[3];
        for (int i = 0; i < 16; i++)
            x[i] = (float)(32.0 * fx_unit(&s) - 8.0);
        memcpy(before, tr_net_forward(&n, x), sizeof before);
        tr_net_fold_input_scale(&n);
        assert_true(n.input_scale == 1.0f);
        assert_memory_equal(before, tr_net_forward(&n, x), sizeof before);
        tr_net_free(&n);
    }
}

/* The loss and its gradient against the definition, in double. */
static void test_softmax_xent(void **state)
{
    (void)state;
    const float logits[4] = {1.0f, -2.0f, 0.5f, 3.0f};
    float d[4];
    double loss = tr_softmax_xent(logits, 4, 2, d);
    double z = exp(1.0) + exp(-2.0) + exp(0.5) + exp(3.0);
    assert_true(fabs(loss - (log(z) - 0.5)) < 1e-12);
    assert_true(fabs((double)d[2] - (exp(0.5) / z - 1.0)) < 1e-7);
    assert_true(fabs((double)d[3] - exp(3.0) / z) < 1e-7);
    /* Huge logits neither overflow nor lose the gradient. */
    const float big[2] = {1000.0f, 990.0f};
    loss = tr_softmax_xent(big, 2, 1, d);
    assert_true(fabs(loss - (10.0 + log1p(exp(-10.0)))) < 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_grammar),     cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_gradients_dense),  cmocka_unit_test(test_gradients_conv),
        cmocka_unit_test(test_fold_input_scale), cmocka_unit_test(test_softmax_xent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
