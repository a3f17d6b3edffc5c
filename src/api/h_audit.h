/*
 * h_audit — the audit log over HTTP.
 *
 *   GET /api/v1/audit/key                      verifier key (signed-note format), text/plain
 *   GET /api/v1/audit/checkpoint               newest signed checkpoint, text/plain
 *   GET /api/v1/audit/proof/inclusion?index=I&size=S
 *   GET /api/v1/audit/proof/consistency?from=A&to=B
 *                                              RFC 6962 proofs, base64 hashes
 *   GET /api/v1/audit/entries?from=&limit=&actor=&action=&target=   entries (audit:read)
 *   GET /audit/checkpoint                      C2SP tlog-tiles: the checkpoint
 *   GET /audit/tile/<L>/<N>[.p/<W>]            hash tiles (public: hashes only)
 *   GET /audit/tile/entries/<N>[.p/<W>]        entry bundles (audit:read: they
 *                                              name people and addresses)
 */
#ifndef KHO_API_H_AUDIT_H
#define KHO_API_H_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "api/http.h"

void kho_h_audit_key(kho_reqctx_t *rc);
void kho_h_audit_checkpoint(kho_reqctx_t *rc);
void kho_h_audit_inclusion(kho_reqctx_t *rc);
void kho_h_audit_consistency(kho_reqctx_t *rc);
void kho_h_audit_entries(kho_reqctx_t *rc);
void kho_h_audit_tile(kho_reqctx_t *rc);

/* Parse a tlog-tiles path after "tile/": "<L>/<N>[.p/<W>]" or
 * "entries/<N>[.p/<W>]" given as segments. level -1 for entries; width 256 for
 * a full tile. False when the path is not canonical. */
bool kho_tile_path_parse(const char *const *seg, size_t nseg, int *level, uint64_t *index, unsigned *width);

#endif
