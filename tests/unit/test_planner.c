/*
 * Memory planner properties on random lifetimes: buffers alive at the same
 * time never overlap, the region is no larger than placing everything side
 * by side, and no smaller than the largest set of buffers alive at once
 * (the lower bound any planner must respect).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "planner.h"

#define N 200

static uint64_t rng = 42;

static uint32_t next_u32(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng >> 32);
}

static void check_plan(plan_item *items, uint32_t n, size_t total)
{
    uint64_t sum = 0;
    int32_t max_op = 0;
    for (uint32_t i = 0; i < n; i++) {
        sum += items[i].size;
        if (items[i].last > max_op)
            max_op = items[i].last;
        if (items[i].size == 0)
            continue;
        assert_true((uint64_t)items[i].offset + items[i].size <= total);
        for (uint32_t j = i + 1; j < n; j++) {
            if (items[j].size == 0)
                continue;
            int time = items[i].first <= items[j].last && items[j].first <= items[i].last;
            int space = items[i].offset < items[j].offset + items[j].size &&
                        items[j].offset < items[i].offset + items[i].size;
            assert_false(time && space);
        }
    }
    assert_true(total <= sum);
    for (int32_t op = 0; op <= max_op; op++) {
        uint64_t live = 0;
        for (uint32_t i = 0; i < n; i++)
            if (items[i].size && items[i].first <= op && op <= items[i].last)
                live += items[i].size;
        assert_true(live <= total);
    }
}

static void random_lifetimes(void **state)
{
    (void)state;
    static plan_item items[N];
    static uint16_t order[N];
    for (int round = 0; round < 200; round++) {
        uint32_t n = 1 + next_u32() % N;
        for (uint32_t i = 0; i < n; i++) {
            items[i].size = (next_u32() % 4 == 0) ? 0 : 4 * (1 + next_u32() % 1000);
            items[i].first = (int16_t)(next_u32() % 50);
            items[i].last = (int16_t)(items[i].first + next_u32() % 10);
        }
        size_t total = plan_offsets(items, order, n);
        check_plan(items, n, total);
    }
}

/* A chain a -> b -> c -> d: each op needs only its input and output alive. */
static void chain_reuses_memory(void **state)
{
    (void)state;
    plan_item items[4] = {
        {100, 0, 0, 0, 0}, {200, 0, 0, 1, 0}, {100, 0, 1, 2, 0}, {200, 0, 2, 2, 0}};
    uint16_t order[4];
    size_t total = plan_offsets(items, order, 4);
    check_plan(items, 4, total);
    assert_int_equal(total, 300);
}

static void empty_plan(void **state)
{
    (void)state;
    plan_item items[1] = {{0, 0, -1, -1, 0}};
    uint16_t order[1];
    assert_int_equal(plan_offsets(items, order, 1), 0);
    assert_int_equal(plan_offsets(items, order, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_lifetimes),
        cmocka_unit_test(chain_reuses_memory),
        cmocka_unit_test(empty_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
