/*
 * `tinymlops model ...`: the model command group.
 */
#include "cli.h"

static const cli_command commands[] = {
    {"inspect", cmd_model_inspect,
     "operators, tensors, quantization, MACs, arena and weight bytes"},
    {"run", cmd_model_run, "run one inference on raw input tensors"},
    {"bench", cmd_model_bench, "measure inference latency and arena use"},
    {"push", cmd_model_push, "upload bundles to a fleet server's registry"},
    {"list", cmd_model_list, "models, versions and variants in a fleet server's registry"},
    {"train", cmd_model_train, "train a classifier on CSV/raw data, write int8 (+float) .tflite"},
    {NULL, NULL, NULL},
};

int cmd_model(int argc, char **argv)
{
    return cli_dispatch("model", commands, argc, argv);
}
