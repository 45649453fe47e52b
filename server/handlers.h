/*
 * Every HTTP handler of /api/v1, one file per resource (h_*.c). The router
 * has authenticated the request before a handler runs. docs/openapi.yaml
 * documents each of them.
 */
#ifndef TMO_HANDLERS_H
#define TMO_HANDLERS_H

#include "http.h"
#include "srv.h"

#define HANDLER(name) void name(srv *s, http_req *q, http_resp *r)

HANDLER(h_health);
/* h_tokens.c */
HANDLER(h_admin_token_create);
HANDLER(h_admin_token_list);
HANDLER(h_admin_token_revoke);
HANDLER(h_enroll_token_create);
HANDLER(h_enroll_token_list);
HANDLER(h_enroll_token_revoke);
/* h_enroll.c */
HANDLER(h_device_enroll);
/* h_session.c */
HANDLER(h_session_challenge);
HANDLER(h_session_open);
HANDLER(h_session_end);
/* h_checkin.c */
HANDLER(h_device_checkin);
/* h_devices.c */
HANDLER(h_devices_list);
HANDLER(h_device_show);
HANDLER(h_device_patch);
HANDLER(h_device_revoke);
/* h_bundles.c, h_download.c */
HANDLER(h_bundle_upload);
HANDLER(h_bundles_list);
HANDLER(h_bundle_show);
HANDLER(h_bundle_patch);
HANDLER(h_bundle_download);
HANDLER(h_device_bundle_download);
HANDLER(h_models_list);
/* h_deployments.c, h_deploy_actions.c */
HANDLER(h_deploy_create);
HANDLER(h_deploy_list);
HANDLER(h_deploy_show);
HANDLER(h_deploy_devices);
HANDLER(h_deploy_pause);
HANDLER(h_deploy_resume);
HANDLER(h_deploy_abort);
HANDLER(h_deploy_rollback);
/* h_telemetry.c */
HANDLER(h_device_telemetry);
HANDLER(h_telemetry_query);
HANDLER(h_telemetry_reports);
/* h_alerts.c */
HANDLER(h_alerts_list);
HANDLER(h_alert_show);
HANDLER(h_alert_ack);
HANDLER(h_alert_resolve);
HANDLER(h_alert_rules_get);
HANDLER(h_alert_rules_put);
/* h_static.c: the dashboard and who its token is */
HANDLER(h_static);
HANDLER(h_session);

#endif
