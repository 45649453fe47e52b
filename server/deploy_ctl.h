/*
 * The deployment controller: the per-device state machine (P-15) driven by
 * device reports, what each device should run (`desired`, P-14), and the
 * rollout of waves (advance when every device of the open waves is in a
 * terminal state and the soak time has passed; halt when failures exceed
 * the deployment's max_failures). Functions taking a store run inside the
 * caller's write transaction unless they say otherwise, so a check-in, its
 * reports and the wave decision they trigger commit together.
 */
#ifndef TMO_DEPLOY_CTL_H
#define TMO_DEPLOY_CTL_H

#include <jansson.h>
#include <stdint.h>

#include "srv.h"
#include "store.h"

/* Device states (P-15). */
#define DS_PENDING "pending"
#define DS_DOWNLOADING "downloading"
#define DS_TRIAL "installed-trial"
#define DS_CONFIRMED "confirmed"
#define DS_FAILED "failed"
#define DS_ROLLED_BACK "rolled-back"
#define DS_SKIPPED "skipped"
#define DS_CANCELLED "cancelled"

/* Deployment states. */
#define DEP_ACTIVE "active"
#define DEP_PAUSED "paused"
#define DEP_HALTED "halted"
#define DEP_COMPLETED "completed"
#define DEP_ABORTED "aborted"
#define DEP_ROLLED_BACK "rolled-back"

/* Whether a device state is final (confirmed, failed, rolled-back, skipped, cancelled). */
int dstate_terminal(const char *state);

/* Whether a device may report this state (downloading .. rolled-back). */
int dstate_reportable(const char *state);

/* Whether a device's assignment is what it should run now (see deploy_desired). */
int deploy_assignment_live(const st_assignment *a);

/*
 * Applies one report: moves the device's assignment forward (never back,
 * never out of a terminal state; repeats are no-ops). Returns 1 when the
 * state changed, 0 when the report did not apply, ST_ERROR on store error.
 */
int deploy_apply_report(store *st, const char *device, int64_t deployment, const char *state,
                        const char *reason, int64_t now);

/*
 * The device's desired assignment: its newest assignment that is either in
 * progress or done on the device (downloading, installed-trial, confirmed),
 * or pending in an open wave of an active deployment. ST_OK with *out,
 * ST_NOT_FOUND when none, ST_ERROR.
 */
int deploy_desired(store *st, const char *device, st_assignment *out);

/* Re-evaluates one deployment: halt, advance waves, complete. ST_OK or ST_ERROR. */
int deploy_advance(store *st, int64_t deployment, int64_t now);

/*
 * One controller period (own transactions): advances every active
 * deployment and prunes expired nonces. Safe to run on several replicas.
 */
void deploy_tick(srv *s);

/* Progress of a deployment as JSON: state, waves with per-state counts, totals. */
json_t *deploy_status_json(store *st, const st_deployment *d);

#endif
