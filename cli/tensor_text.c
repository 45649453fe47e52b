/*
 * Tensor rendering helpers (see tensor_text.h).
 */
#include "tensor_text.h"

#include <stdio.h>
#include <string.h>

void shape_text(const int32_t *dims, uint32_t ndim, char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "[");
    for (uint32_t i = 0; i < ndim && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%d", i ? "," : "", dims[i]);
    if (n < len)
        snprintf(buf + n, len - n, "]");
}

void quant_text(const tmo_tensor_info *t, char *buf, size_t len)
{
    if (t->scale_count == 0)
        snprintf(buf, len, "-");
    else if (t->scale_count == 1)
        snprintf(buf, len, "scale %.9g zp %d", (double)t->scale, t->zero_point);
    else
        snprintf(buf, len, "per-channel x%u (axis %d)", t->scale_count, t->quant_dim);
}

void name_text(const char *name, uint32_t name_len, char *buf, size_t len)
{
    size_t n = 0;
    if (len == 0)
        return;
    for (uint32_t i = 0; name != NULL && i < name_len && n + 1 < len; i++) {
        unsigned char c = (unsigned char)name[i];
        buf[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    buf[n] = '\0';
}

json_t *shape_json(const int32_t *dims, uint32_t ndim)
{
    json_t *a = json_array();
    for (uint32_t i = 0; i < ndim; i++)
        json_array_append_new(a, json_integer(dims[i]));
    return a;
}

json_t *tensor_json(uint32_t index, const tmo_tensor_info *t)
{
    char name[256];
    name_text(t->name, t->name_len, name, sizeof name);
    json_t *o = json_object();
    json_object_set_new(o, "index", json_integer(index));
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "type", json_string(tmo_type_name(t->type)));
    json_object_set_new(o, "shape", shape_json(t->dims, t->ndim));
    json_object_set_new(o, "bytes", json_integer((json_int_t)t->bytes));
    json_object_set_new(o, "constant", json_boolean(t->data != NULL));
    if (t->scale_count == 1) {
        json_object_set_new(o, "scale", json_real(t->scale));
        json_object_set_new(o, "zero_point", json_integer(t->zero_point));
    } else if (t->scale_count > 1) {
        json_t *scales = json_array(), *zps = json_array();
        for (uint32_t c = 0; c < t->scale_count; c++) {
            json_array_append_new(scales, json_real(tmo_tensor_scale(t, c)));
            json_array_append_new(zps, json_integer(tmo_tensor_zero_point(t, c)));
        }
        json_object_set_new(o, "scales", scales);
        json_object_set_new(o, "zero_points", zps);
        json_object_set_new(o, "quantized_dimension", json_integer(t->quant_dim));
    }
    return o;
}
