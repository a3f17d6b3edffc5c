/*
 * h_ckan — a read-only subset of CKAN's Action API (v3), so that CKAN clients
 * and harvesters (ckanapi, ckanext-harvest's CKAN harvester, ckanext-dcat, the
 * national portal's harvester) read kho unchanged. docs/ckan.md is the
 * reference: what is covered, what differs, examples.
 *
 *   GET|POST /api/3/action/{name}    (and /api/action/{name}, ckanapi's path)
 *
 * Parameters come from the query string (a repeated name makes a list; JSON
 * text is accepted where CKAN takes a list or an object) or, for POST, from a
 * JSON object body (also when sent as a form, as `curl -d '{...}'` does) or
 * form fields. Unknown parameters are ignored, as CKAN does.
 *
 * Every answer is CKAN's envelope: {"help": "<base>/api/3/action/help_show?
 * name=<action>", "success": true, "result": ...}; errors are {"help", "success":
 * false, "error": {"__type", "message", ...}} with CKAN's statuses: 404 "Not
 * Found Error", 409 "Validation Error" (with the parameter at fault as a key
 * holding a list of messages), 403 "Authorization Error", 400 "Bad Request" /
 * "Search Query Error". (The guard's own refusals before an action runs — a
 * bad API key, a rate limit, CSRF — keep kho's error shape.)
 *
 * Actions: package_list, package_show, package_search, resource_show,
 * organization_list, organization_show, tag_list, group_list, status_show,
 * help_show, datastore_search, datastore_search_sql. CKAN's write actions
 * answer 403: kho publishes through POST /api/v1/datasets/{id}/versions.
 *
 * Mapping: a dataset's CKAN `id` and `name` are its kho id (slug); it has one
 * resource, whose `id` is also the dataset id (stable across versions: it
 * always reads the current version), `url` the CSV export, `datastore_active`
 * true. datastore_search's records carry `_id` = kho's row number (`_row`).
 * Column types: integer -> int, real -> numeric, boolean -> bool, date ->
 * date, datetime -> timestamp, text -> text (and text for a personal column
 * the caller sees masked).
 *
 * Access: exactly the REST API's. Lists, searches and counts see only the
 * datasets the caller may read (kho_guard_visible); one dataset is
 * kho_guard_dataset (hidden = Not Found); rows are masked per the access
 * decision and restricted reads are audited as the rows endpoint does
 * (action "read", details.via "ckan"); datastore_search_sql goes through the
 * SQL sandbox (warehouse/sandbox.h) with its own access rules, audited as
 * "sql". datastore_search with filters, text, distinct or a sort, package_search,
 * organization_show and datastore_search_sql run on worker threads.
 */
#ifndef KHO_API_H_CKAN_H
#define KHO_API_H_CKAN_H

#include "api/http.h"

/* rc->var[0] is the action name. */
void kho_h_ckan_action(kho_reqctx_t *rc);

#endif
