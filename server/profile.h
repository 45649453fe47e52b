/*
 * The device capability profile (docs/protocol.md P-9) as the device sends
 * it: validated and reduced to the known fields before it is stored, so
 * what the deployment controller reads back is always well-formed.
 */
#ifndef TMO_PROFILE_H
#define TMO_PROFILE_H

#include <jansson.h>
#include <stddef.h>

#define PROFILE_MAX_OPS 256

/*
 * Checks profile (a JSON object) and returns a new normalized object with
 * arch, runtime_version, ram_bytes, flash_bytes, ops and speed_factor;
 * NULL with the problem in err.
 */
json_t *profile_normalize(json_t *profile, char *err, size_t err_len);

#endif
