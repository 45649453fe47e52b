/*
 * The device side of the update_state fuzz target: a RAM slot storage port
 * with NOR-flash rules (an access outside an area, a misaligned erase or a
 * write to a byte not erased since its last write counts as a violation)
 * and an NV counter, laid out as the agent's: slots A and B, a journal of
 * two records. gen_files_corpus drives the same rig to write seeds.
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
    uint8_t journal[2 * 4096];
    uint32_t journal_size;
    uint64_t counter;
    long violations;
    tmo_port_storage port;
    tmo_port_counter counter_port;
    tmo_bundle_caps caps;
    tmo_update_config cfg;
} rig;

/*
 * Sets up r: erase unit, areas erased (0xFF), NV counter 0, trust in root,
 * no clock (time is judged by finish only when a clock exists; bundles are
 * fixed). max_trial_boots as given.
 */
void rig_init(rig *r, const uint8_t root[TMO_P256_PUBLIC_KEY_LEN], uint32_t erase_unit,
              uint8_t max_trial_boots);

/* Places b at offset 0 of slot i (the rest erased), or fills the slot with fill when b is NULL. */
void rig_fill_slot(rig *r, int i, const rig_bundle *b, uint8_t fill);

/* begin .. finish of b in 512-byte writes: TMO_OK or the first error. */
tmo_err rig_download(tmo_update *u, const rig_bundle *b, uint64_t tag, tmo_diag *d);

#endif
