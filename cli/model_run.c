/*
 * `tinymlops model run MODEL.tflite --input IN.raw [--input IN2.raw ...]
 *  --output OUT.raw [--output OUT2.raw ...]`: one inference on raw tensor
 * bytes (the tensor's own type, little-endian, C order), with exact size
 * checks so a wrong file is refused rather than misread.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host.h"
#include "tensor_text.h"

static const char *usage = "tinymlops model run MODEL.tflite --input IN.raw [--input IN2.raw ...] "
                           "--output OUT.raw [--output ...]";

#define MAX_IO 16

static int load_input(host_model *hm, uint32_t i, const char *path)
{
    char err[1024], shape[128];
    tmo_io io;
    size_t len;
    tmo_interp_input(&hm->interp, i, &io);
    void *data = host_read_file(path, &len, err, sizeof err);
    if (data == NULL)
        return cli_fail("%s", err);
    if (len != io.bytes) {
        shape_text(io.dims, io.ndim, shape, sizeof shape);
        free(data);
        return cli_fail("input %u expects %zu bytes (%s %s), %s has %zu", i, io.bytes,
                        tmo_type_name(io.type), shape, path, len);
    }
    memcpy(io.data, data, len);
    free(data);
    return CLI_OK;
}

int cmd_model_run(int argc, char **argv)
{
    static const struct option opts[] = {{"input", required_argument, NULL, 'i'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    const char *inputs[MAX_IO], *outputs[MAX_IO];
    uint32_t n_in = 0, n_out = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'i' && n_in < MAX_IO)
            inputs[n_in++] = optarg;
        else if (c == 'o' && n_out < MAX_IO)
            outputs[n_out++] = optarg;
        else
            return cli_usage(usage, "unknown option or too many files");
    }
    if (optind != argc - 1)
        return cli_usage(usage, "expected one model file");
    if (n_out == 0)
        return cli_usage(usage, "--output is required");
    host_model hm;
    char err[1024];
    if (host_model_open(&hm, argv[optind], err, sizeof err) != TMO_OK)
        return cli_fail("%s: %s", argv[optind], err);
    int rc = CLI_OK;
    if (n_in != tmo_interp_input_count(&hm.interp))
        rc = cli_fail("the model has %u input(s), %u --input given",
                      tmo_interp_input_count(&hm.interp), n_in);
    else if (n_out > tmo_interp_output_count(&hm.interp))
        rc = cli_fail("the model has %u output(s), %u --output given",
                      tmo_interp_output_count(&hm.interp), n_out);
    for (uint32_t i = 0; rc == CLI_OK && i < n_in; i++)
        rc = load_input(&hm, i, inputs[i]);
    if (rc == CLI_OK && tmo_interp_invoke(&hm.interp) != TMO_OK)
        rc = cli_fail("inference failed");
    for (uint32_t i = 0; rc == CLI_OK && i < n_out; i++) {
        tmo_io io;
        tmo_interp_output(&hm.interp, i, &io);
        if (host_write_file(outputs[i], io.data, io.bytes, err, sizeof err) != 0)
            rc = cli_fail("%s", err);
    }
    host_model_close(&hm);
    return rc;
}
