/*
 * Rollout waves: which devices of a deployment go first. Membership is
 * deterministic (ordered by a hash of deployment id and device id, so the
 * canary set differs between deployments but never between replicas or
 * restarts) and sized by cumulative percentages, e.g. 1%, 10%, 50%, 100%.
 */
#ifndef TMO_WAVES_H
#define TMO_WAVES_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a 64 of "<deployment_id>/<device_id>": the device's place in the rollout order. */
uint64_t waves_order_key(int64_t deployment_id, const char *device_id);

/*
 * Wave of the device at position pos (0-based, in rollout order) among n
 * devices with cumulative percentages pct[0..k): the first i whose
 * ceil(pct[i] * n / 100) > pos. pct must end at 100.
 */
int waves_of_position(size_t pos, size_t n, const int *pct, size_t k);

/* Number of devices in waves 0..i: ceil(pct[i] * n / 100). */
size_t waves_cumulative(size_t n, const int *pct, size_t i);

/* Parses a JSON array text of wave percentages; returns the count (0 when invalid). */
size_t waves_from_json(const char *json_text, int *pct, size_t max);

#endif
