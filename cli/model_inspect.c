/*
 * `tinymlops model inspect MODEL.tflite [--json]`: everything a developer or
 * the fleet server asks of a model before deploying it.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host.h"
#include "model_stats.h"
#include "tensor_text.h"

static const char *usage = "tinymlops model inspect MODEL.tflite [--json]";

static json_t *io_json(const tmo_model *m, int inputs)
{
    json_t *a = json_array();
    uint32_t n = inputs ? m->input_count : m->output_count;
    for (uint32_t i = 0; i < n; i++) {
        int32_t t = inputs ? tmo_model_input(m, i) : tmo_model_output(m, i);
        tmo_tensor_info ti;
        tmo_model_tensor(m, (uint32_t)t, &ti);
        json_array_append_new(a, tensor_json((uint32_t)t, &ti));
    }
    return a;
}

static int print_json(const char *path, size_t len, const tmo_model *m, const model_stats *st,
                      const char *prepare_error)
{
    json_t *o = json_object();
    json_object_set_new(o, "file", json_string(path));
    json_object_set_new(o, "bytes", json_integer((json_int_t)len));
    json_object_set_new(o, "schema_version", json_integer(m->version));
    json_t *ops = json_object();
    for (uint32_t i = 0; i < st->op_kinds; i++)
        json_object_set_new(ops, tmo_builtin_name(st->op_code[i]), json_integer(st->op_count[i]));
    json_object_set_new(o, "operator_count", json_integer(m->op_count));
    json_object_set_new(o, "operators", ops);
    json_object_set_new(o, "inputs", io_json(m, 1));
    json_object_set_new(o, "outputs", io_json(m, 0));
    json_t *tensors = json_array();
    for (uint32_t t = 0; t < m->tensor_count; t++) {
        tmo_tensor_info ti;
        tmo_model_tensor(m, t, &ti);
        json_array_append_new(tensors, tensor_json(t, &ti));
    }
    json_object_set_new(o, "tensors", tensors);
    json_object_set_new(o, "macs", json_integer((json_int_t)st->macs));
    json_object_set_new(o, "weight_bytes", json_integer((json_int_t)st->weight_bytes));
    if (prepare_error == NULL) {
        json_object_set_new(o, "arena_bytes", json_integer((json_int_t)st->arena_bytes));
        json_object_set_new(o, "arena_persistent_bytes",
                            json_integer((json_int_t)st->persistent_bytes));
        json_object_set_new(o, "arena_activation_bytes",
                            json_integer((json_int_t)st->activation_bytes));
        json_object_set_new(o, "runnable", json_true());
    } else {
        json_object_set_new(o, "runnable", json_false());
        json_object_set_new(o, "error", json_string(prepare_error));
    }
    int rc = json_dumpf(o, stdout, JSON_INDENT(2)) == 0 ? CLI_OK : CLI_FAIL;
    putchar('\n');
    json_decref(o);
    return rc;
}

static void print_io(const tmo_model *m, int inputs)
{
    uint32_t n = inputs ? m->input_count : m->output_count;
    printf("%s:\n", inputs ? "inputs" : "outputs");
    for (uint32_t i = 0; i < n; i++) {
        int32_t t = inputs ? tmo_model_input(m, i) : tmo_model_output(m, i);
        tmo_tensor_info ti;
        char shape[128], quant[128], name[256];
        tmo_model_tensor(m, (uint32_t)t, &ti);
        shape_text(ti.dims, ti.ndim, shape, sizeof shape);
        quant_text(&ti, quant, sizeof quant);
        name_text(ti.name, ti.name_len, name, sizeof name);
        printf("  #%u  tensor %d '%s' %s %s (%zu bytes) %s\n", i, t, name, tmo_type_name(ti.type),
               shape, ti.bytes, quant);
    }
}

static void print_text(const char *path, size_t len, const tmo_model *m, const model_stats *st,
                       const char *prepare_error)
{
    printf("model:      %s (%zu bytes, schema v%u)\n", path, len, m->version);
    printf("operators:  %u\n", m->op_count);
    for (uint32_t i = 0; i < st->op_kinds; i++)
        printf("  %-22s %u\n", tmo_builtin_name(st->op_code[i]), st->op_count[i]);
    print_io(m, 1);
    print_io(m, 0);
    printf("tensors:    %u\n", m->tensor_count);
    printf("  %4s  %-6s %-8s %-18s %9s  %s\n", "idx", "kind", "type", "shape", "bytes",
           "quantization / name");
    for (uint32_t t = 0; t < m->tensor_count; t++) {
        tmo_tensor_info ti;
        char shape[128], quant[128], name[256];
        tmo_model_tensor(m, t, &ti);
        shape_text(ti.dims, ti.ndim, shape, sizeof shape);
        quant_text(&ti, quant, sizeof quant);
        name_text(ti.name, ti.name_len, name, sizeof name);
        printf("  %4u  %-6s %-8s %-18s %9zu  %s  %s\n", t, ti.data ? "const" : "act",
               tmo_type_name(ti.type), shape, ti.bytes, quant, name);
    }
    printf("MACs:       %llu\n", (unsigned long long)st->macs);
    printf("weights:    %llu bytes\n", (unsigned long long)st->weight_bytes);
    if (prepare_error == NULL)
        printf("arena:      %zu bytes (%zu bookkeeping and parameters, %zu activations)\n",
               st->arena_bytes, st->persistent_bytes, st->activation_bytes);
    else
        printf("arena:      not runnable: %s\n", prepare_error);
}

int cmd_model_inspect(int argc, char **argv)
{
    const char *path;
    int json;
    int bad = cli_parse_file_json(argc, argv, usage, "model file", &path, &json);
    if (bad != CLI_OK)
        return bad;
    char err[1024];
    size_t len;
    void *bytes = host_read_file(path, &len, err, sizeof err);
    if (bytes == NULL)
        return cli_fail("%s", err);
    tmo_model m;
    tmo_diag d;
    if (tmo_model_parse(&m, bytes, len, &d) != TMO_OK) {
        host_format_diag(err, sizeof err, path, &d);
        free(bytes);
        return cli_fail("invalid model: %s", err);
    }
    model_stats st;
    char prep[1024];
    const char *prepare_error = NULL;
    if (model_stats_compute(&m, &st, &d) != TMO_OK) {
        tmo_diag_format(&d, prep, sizeof prep);
        prepare_error = prep;
    }
    int rc = CLI_OK;
    if (json)
        rc = print_json(path, len, &m, &st, prepare_error);
    else
        print_text(path, len, &m, &st, prepare_error);
    free(bytes);
    return rc;
}
