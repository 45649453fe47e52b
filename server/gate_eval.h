/*
 * The health gate inside the deployment controller (see gate_eval.c).
 * Every function runs inside the caller's write transaction.
 */
#ifndef TMO_GATE_EVAL_H
#define TMO_GATE_EVAL_H

#include <jansson.h>
#include <stdint.h>

#include "store.h"

/*
 * Judges deployment d before wave + 1 opens (waves 0..wave done and
 * soaked). Returns GATE_PASS (open it), GATE_WAIT (not yet: too little
 * telemetry), GATE_FAIL (d was halted or rolled back and stored; *d is
 * updated) or -1 on a store error. A deployment without a gate passes.
 */
int gate_check(store *st, st_deployment *d, int64_t wave, int64_t now);

/* Lets wave pass the gate once (resume with override_gate). ST_OK or ST_ERROR. */
int gate_override(store *st, int64_t id, int64_t wave, const char *by, int64_t now);

/* {"policy": ..., "last": ...} or JSON null when the deployment has no gate. */
json_t *gate_status_json(store *st, int64_t id);

#endif
