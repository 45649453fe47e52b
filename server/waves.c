/*
 * Rollout waves (see waves.h).
 */
#include "waves.h"

#include <jansson.h>
#include <stdio.h>

uint64_t waves_order_key(int64_t deployment_id, const char *device_id)
{
    char text[96];
    int n = snprintf(text, sizeof text, "%lld/%s", (long long)deployment_id, device_id);
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < n && i < (int)sizeof text - 1; i++) {
        h ^= (uint8_t)text[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

size_t waves_cumulative(size_t n, const int *pct, size_t i)
{
    return (size_t)(((uint64_t)pct[i] * n + 99) / 100);
}

int waves_of_position(size_t pos, size_t n, const int *pct, size_t k)
{
    for (size_t i = 0; i < k; i++)
        if (pos < waves_cumulative(n, pct, i))
            return (int)i;
    return (int)k - 1;
}

size_t waves_from_json(const char *json_text, int *pct, size_t max)
{
    json_t *a = json_loads(json_text, 0, NULL);
    size_t n = 0;
    if (json_is_array(a) && json_array_size(a) <= max)
        for (; n < json_array_size(a); n++) {
            json_t *v = json_array_get(a, n);
            if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 100 ||
                (n > 0 && json_integer_value(v) <= pct[n - 1])) {
                n = 0;
                break;
            }
            pct[n] = (int)json_integer_value(v);
        }
    json_decref(a);
    return n > 0 && pct[n - 1] == 100 ? n : 0;
}
