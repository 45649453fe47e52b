/*
 * The device side of the update_state fuzz target: a RAM slot storage port
 * with flash rules of a chosen geometry (an access outside an area, an erase
 * off the erase unit, a write off the write unit, or a write to a byte not
 * erased since its last write counts as a violation) and an NV counter,
 * laid out as the agent's: slots A and B and a journal of two halves.
 * gen_files_corpus drives the same rig to write seeds.
 */
#ifndef TMO_FUZZ_UPDATE_RIG_H
#define TMO_FUZZ_UPDATE_RIG_H

#include <stddef.h>
#include <stdint.h>

#include "tinymlops/update.h"

#define RIG_SLOT_SIZE 8192u

/* One signed bundle the rig can place in a slot or install. */
typedef struct rig_bundle {
    const uint8_t *bytes;
    size_t len;
    const uint8_t *digest; /* SHA-256 of bytes */
    uint64_t counter;      /* its manifest's security counter */
} rig_bundle;

typedef struct rig {
    uint8_t slot[2][RIG_SLOT_SIZE];
    uint8_t journal[2 * 4096]; /* 2 x 1024 bytes used with 512-byte erase units */
    uint32_t journal_size;
    uint64_t counter;
    long violations;
    tmo_port_storage port;
    tmo_port_counter counter_port;
    tmo_bundle_caps caps;
    tmo_update_config cfg;
} rig;

/*
 * Sets up r: flash geometry (erase unit 512 or 4096, write unit up to 32,
 * erased value), areas erased, NV counter 0, trust in root, no clock (time
 * is judged by finish only when a clock exists; bundles are fixed).
 * max_trial_boots as given.
 */
void rig_init(rig *r, const uint8_t root[TMO_P256_PUBLIC_KEY_LEN], uint32_t erase_unit,
              uint32_t write_unit, uint8_t erased_value, uint8_t max_trial_boots);

/* Places b at offset 0 of slot i (the rest erased), or fills the slot with fill when b is NULL
 * (pass r->port.erased_value for an erased slot). */
void rig_fill_slot(rig *r, int i, const rig_bundle *b, uint8_t fill);

/* begin .. finish of b in 512-byte writes: TMO_OK or the first error. */
tmo_err rig_download(tmo_update *u, const rig_bundle *b, uint64_t tag, tmo_diag *d);

#endif
