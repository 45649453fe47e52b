/*
 * Device encryption keys (see enc_key.c).
 */
#ifndef TMO_ENC_KEY_H
#define TMO_ENC_KEY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "srv.h"
#include "store.h"

/* Reads an "enc_public_key" value: 1 with pub filled, 0 when absent/null, -1 with err. */
int enc_key_parse(json_t *v, uint8_t pub[ST_PUBKEY_LEN], char *err, size_t err_len);

/* Adds "enc_public_key" (base64 or null) and "enc_key_id" (hex) of a device to out. */
void enc_key_json(store *st, const char *device, json_t *out);

#endif
