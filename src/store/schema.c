/* schema — numbered migrations (see schema.h and docs/data-model.md). */
#include "store/schema.h"

#include <stdio.h>

#include "core/log.h"

/* Migration N is MIGRATIONS[N-1]. Append only. */
static const char *const MIGRATIONS[] = {
    /* 1: catalog, versions, columns, administrative units */
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL);"

    "CREATE TABLE organisations ("
    "  id INTEGER PRIMARY KEY,"
    "  slug TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL,"
    "  description TEXT NOT NULL DEFAULT '',"
    "  created_at TEXT NOT NULL);"

    "CREATE TABLE datasets ("
    "  id INTEGER PRIMARY KEY,"
    "  slug TEXT NOT NULL UNIQUE,"
    "  org_id INTEGER REFERENCES organisations(id),"
    "  title TEXT NOT NULL,"
    "  description TEXT NOT NULL DEFAULT '',"
    "  publisher TEXT NOT NULL DEFAULT '',"
    "  licence TEXT NOT NULL DEFAULT '',"
    "  temporal_start TEXT,"
    "  temporal_end TEXT,"
    "  spatial TEXT NOT NULL DEFAULT '',"
    "  sharing TEXT NOT NULL DEFAULT 'open' CHECK (sharing IN ('open','shared','private')),"
    "  importance TEXT NOT NULL DEFAULT 'other' CHECK (importance IN ('core','important','other')),"
    "  synthetic INTEGER NOT NULL DEFAULT 0,"
    "  current_version INTEGER,"
    "  row_count INTEGER NOT NULL DEFAULT 0,"
    "  search TEXT NOT NULL DEFAULT '',"
    "  created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL);"

    "CREATE TABLE dataset_tags ("
    "  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,"
    "  tag TEXT NOT NULL,"
    "  PRIMARY KEY (dataset_id, tag)) WITHOUT ROWID;"

    "CREATE TABLE versions ("
    "  id INTEGER PRIMARY KEY,"
    "  dataset_id INTEGER NOT NULL REFERENCES datasets(id),"
    "  number INTEGER NOT NULL,"
    "  created_at TEXT NOT NULL,"
    "  row_count INTEGER NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  bytes INTEGER NOT NULL,"
    "  format TEXT NOT NULL,"
    "  source TEXT NOT NULL DEFAULT '',"
    "  table_name TEXT NOT NULL UNIQUE,"
    "  quality TEXT NOT NULL,"
    "  UNIQUE (dataset_id, number));"

    "CREATE TABLE columns ("
    "  version_id INTEGER NOT NULL REFERENCES versions(id),"
    "  position INTEGER NOT NULL,"
    "  name TEXT NOT NULL,"
    "  label TEXT NOT NULL,"
    "  type TEXT NOT NULL CHECK (type IN ('integer','real','boolean','date','datetime','text')),"
    "  tags TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (version_id, position)) WITHOUT ROWID;"

    "CREATE TABLE units ("
    "  era TEXT NOT NULL CHECK (era IN ('current','old')),"
    "  level TEXT NOT NULL CHECK (level IN ('province','district','commune')),"
    "  code TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  short_name TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  province_code TEXT,"
    "  district_code TEXT,"
    "  name_fold TEXT NOT NULL,"
    "  name_lower TEXT NOT NULL,"
    "  short_fold TEXT NOT NULL,"
    "  short_lower TEXT NOT NULL,"
    "  PRIMARY KEY (era, level, code)) WITHOUT ROWID;"
    "CREATE INDEX units_by_code ON units(code);"
    "CREATE INDEX units_by_province ON units(province_code);"

    "CREATE TABLE unit_conversion ("
    "  new_code TEXT NOT NULL,"
    "  new_name TEXT NOT NULL,"
    "  new_province_code TEXT NOT NULL,"
    "  old_code TEXT NOT NULL,"
    "  old_name TEXT NOT NULL,"
    "  old_district_code TEXT NOT NULL,"
    "  old_district_name TEXT NOT NULL,"
    "  old_province_code TEXT NOT NULL,"
    "  relation TEXT NOT NULL CHECK (relation IN ('whole','partial')),"
    "  note TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX unit_conversion_new ON unit_conversion(new_code);"
    "CREATE INDEX unit_conversion_old ON unit_conversion(old_code);"

    "CREATE TABLE unit_gaps ("
    "  kind TEXT NOT NULL,"
    "  code TEXT NOT NULL,"
    "  detail TEXT NOT NULL);",

    /* 2: accounts, API keys, grants, field-encryption data keys */
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  role TEXT NOT NULL CHECK (role IN ('admin','steward','analyst','leader','partner')),"
    "  org_id INTEGER REFERENCES organisations(id),"
    "  password_hash TEXT NOT NULL,"
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  failed_logins INTEGER NOT NULL DEFAULT 0,"
    "  locked_until INTEGER NOT NULL DEFAULT 0,"
    "  generation INTEGER NOT NULL DEFAULT 1,"
    "  created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL);"

    "CREATE TABLE api_keys ("
    "  id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id),"
    "  name TEXT NOT NULL DEFAULT '',"
    "  prefix TEXT NOT NULL,"
    "  hash TEXT NOT NULL UNIQUE,"
    "  scopes TEXT NOT NULL,"
    "  created_at TEXT NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  revoked_at TEXT,"
    "  last_used_at TEXT);"
    "CREATE INDEX api_keys_by_user ON api_keys(user_id);"

    "CREATE TABLE grants ("
    "  id INTEGER PRIMARY KEY,"
    "  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,"
    "  org_id INTEGER REFERENCES organisations(id),"
    "  user_id INTEGER REFERENCES users(id),"
    "  pii INTEGER NOT NULL DEFAULT 0,"
    "  created_at TEXT NOT NULL,"
    "  CHECK ((org_id IS NULL) != (user_id IS NULL)));"
    "CREATE INDEX grants_by_dataset ON grants(dataset_id);"

    "CREATE TABLE data_keys ("
    "  id INTEGER PRIMARY KEY,"
    "  wrapped BLOB NOT NULL,"
    "  master_id TEXT NOT NULL,"
    "  active INTEGER NOT NULL DEFAULT 0,"
    "  created_at TEXT NOT NULL);",

    /* 3: socio-economic indicators (apps/indicators/indicators.h) */
    "CREATE TABLE ind_catalogue ("
    "  code TEXT PRIMARY KEY,"
    "  position INTEGER NOT NULL,"
    "  name TEXT NOT NULL,"
    "  name_en TEXT NOT NULL DEFAULT '',"
    "  unit_of_measure TEXT NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('additive','ratio','rate','index')),"
    "  level TEXT NOT NULL CHECK (level IN ('commune','province')),"
    "  frequency TEXT NOT NULL DEFAULT 'year' CHECK (frequency IN ('year','quarter','month')),"
    "  numerator TEXT,"
    "  denominator TEXT,"
    "  scale REAL NOT NULL DEFAULT 1,"
    "  decimals INTEGER NOT NULL DEFAULT 2,"
    "  higher_is_better INTEGER NOT NULL DEFAULT 1,"
    "  synonyms TEXT NOT NULL DEFAULT '',"
    "  description TEXT NOT NULL DEFAULT '',"
    "  sources TEXT NOT NULL DEFAULT '');"

    "CREATE TABLE ind_sources ("
    "  dataset TEXT PRIMARY KEY,"
    "  mapping TEXT NOT NULL);"

    "CREATE TABLE ind_weights ("
    "  old_code TEXT NOT NULL,"
    "  new_code TEXT NOT NULL,"
    "  weight REAL NOT NULL CHECK (weight >= 0 AND weight <= 1),"
    "  basis TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (old_code, new_code)) WITHOUT ROWID;"

    "CREATE TABLE ind_targets ("
    "  indicator TEXT NOT NULL,"
    "  unit_code TEXT NOT NULL,"
    "  period TEXT NOT NULL,"
    "  value REAL NOT NULL,"
    "  direction TEXT NOT NULL CHECK (direction IN ('increase','decrease')),"
    "  note TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (indicator, unit_code, period)) WITHOUT ROWID;"

    "CREATE TABLE ind_values ("
    "  indicator TEXT NOT NULL,"
    "  level TEXT NOT NULL CHECK (level IN ('commune','province','district_old')),"
    "  unit_code TEXT NOT NULL,"
    "  period TEXT NOT NULL,"
    "  value REAL NOT NULL,"
    "  converted INTEGER NOT NULL DEFAULT 0,"
    "  method TEXT NOT NULL DEFAULT '',"
    "  source_dataset TEXT NOT NULL DEFAULT '',"
    "  source_version INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (indicator, level, unit_code, period)) WITHOUT ROWID;"
    "CREATE INDEX ind_values_by_period ON ind_values(indicator, level, period, value);",

    /* 4: the assistant's extra words (apps/assistant/lexicon.h) */
    "CREATE TABLE ask_synonyms ("
    "  term TEXT NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('indicator','unit')),"
    "  code TEXT NOT NULL,"
    "  PRIMARY KEY (term, kind));",

    /* 5: traceability: master data and EPCIS events (apps/trace/trace.h) */
    "CREATE TABLE trace_farms ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('farm','coop')),"
    "  commune_code TEXT NOT NULL,"
    "  area_ha REAL,"
    "  gln TEXT,"
    "  org TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE trace_certs ("
    "  farm_id TEXT NOT NULL REFERENCES trace_farms(id) ON DELETE CASCADE,"
    "  scheme TEXT NOT NULL CHECK (scheme IN ('VietGAP','GlobalGAP','organic')),"
    "  number TEXT NOT NULL,"
    "  valid_from TEXT NOT NULL,"
    "  valid_to TEXT NOT NULL,"
    "  PRIMARY KEY (farm_id, scheme, number)) WITHOUT ROWID;"
    "CREATE TABLE trace_products ("
    "  gtin TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  name_en TEXT NOT NULL DEFAULT '',"
    "  category TEXT NOT NULL,"
    "  net_kg REAL,"
    "  org TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE trace_partners ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  org TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE trace_locations ("
    "  key TEXT PRIMARY KEY,"
    "  id TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  commune_code TEXT NOT NULL DEFAULT '',"
    "  address TEXT NOT NULL DEFAULT '',"
    "  farm_id TEXT,"
    "  partner_id TEXT,"
    "  org TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE trace_events ("
    "  seq INTEGER PRIMARY KEY,"
    "  event_id TEXT NOT NULL UNIQUE,"
    "  type TEXT NOT NULL,"
    "  event_time TEXT NOT NULL,"
    "  record_time TEXT NOT NULL,"
    "  action TEXT,"
    "  biz_step TEXT,"
    "  disposition TEXT,"
    "  read_point TEXT,"
    "  biz_location TEXT,"
    "  leaf INTEGER NOT NULL UNIQUE,"
    "  org TEXT NOT NULL DEFAULT '',"
    "  body TEXT NOT NULL);"
    "CREATE INDEX trace_events_time ON trace_events(event_time);"
    "CREATE TABLE trace_epcs ("
    "  key TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  role TEXT NOT NULL,"
    "  PRIMARY KEY (key, seq, role)) WITHOUT ROWID;"
    "CREATE INDEX trace_epcs_seq ON trace_epcs(seq);",
    /* 6: the traceability ledger's events are looked up by id_hash, the first 63 bits of
     * the SHA-256 of their event ID (kho_hash63), not by an index on the IDs: hash IDs are
     * random and 89 bytes long, and an index on them cost more than the rest of a capture's
     * writing. Unique IDs are kept by the capture, under the writer lock. */
    "CREATE TABLE trace_events_new ("
    "  seq INTEGER PRIMARY KEY,"
    "  event_id TEXT NOT NULL,"
    "  id_hash INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  event_time TEXT NOT NULL,"
    "  record_time TEXT NOT NULL,"
    "  action TEXT,"
    "  biz_step TEXT,"
    "  disposition TEXT,"
    "  read_point TEXT,"
    "  biz_location TEXT,"
    "  leaf INTEGER NOT NULL UNIQUE,"
    "  org TEXT NOT NULL DEFAULT '',"
    "  body TEXT NOT NULL);"
    "INSERT INTO trace_events_new(seq, event_id, id_hash, type, event_time, record_time, action, biz_step,"
    "  disposition, read_point, biz_location, leaf, org, body)"
    "  SELECT seq, event_id, kho_hash63(event_id), type, event_time, record_time, action, biz_step,"
    "  disposition, read_point, biz_location, leaf, org, body FROM trace_events ORDER BY seq;"
    "DROP TABLE trace_events;"
    "ALTER TABLE trace_events_new RENAME TO trace_events;"
    "CREATE INDEX trace_events_time ON trace_events(event_time);"
    "CREATE INDEX trace_events_id ON trace_events(id_hash);",
    /* 7: harvest events (their ilmd names a farm) are found without reading every event's body:
     * the ESG figures are computed from them alone. farm_id is the farm's id ('' when the
     * ilmd's kho:farmId is not a string), NULL for every other event. */
    "ALTER TABLE trace_events ADD COLUMN farm_id TEXT;"
    "UPDATE trace_events SET farm_id = CASE json_type(body, '$.ilmd.\"kho:farmId\"')"
    "  WHEN 'text' THEN json_extract(body, '$.ilmd.\"kho:farmId\"') ELSE '' END"
    "  WHERE instr(body, '\"kho:farmId\"') > 0 AND json_type(body, '$.ilmd.\"kho:farmId\"') IS NOT NULL;"
    "CREATE INDEX trace_events_farm ON trace_events(seq) WHERE farm_id IS NOT NULL;",
};

#define NMIGRATIONS ((int)(sizeof MIGRATIONS / sizeof MIGRATIONS[0]))

int kho_schema_latest(void)
{
    return NMIGRATIONS;
}

int kho_schema_current(kho_store_t *s, int *version, kho_err_t *err)
{
    int64_t v;
    int rc = kho_store_query_int(s, "PRAGMA user_version", &v, err);
    if (rc == 0)
        *version = (int)v;
    return rc;
}

int kho_schema_migrate(kho_store_t *s, kho_err_t *err)
{
    int have;
    int rc = kho_schema_current(s, &have, err);
    if (rc != 0)
        return rc;
    if (have > NMIGRATIONS)
        return kho_err_set(err, KHO_ECONFLICT,
                           "the database has schema version %d but this kho knows only up to %d: use a newer kho",
                           have, NMIGRATIONS);
    for (int v = have + 1; v <= NMIGRATIONS; v++) {
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version=%d", v);
        if ((rc = kho_store_begin(s, true, err)) != 0)
            return rc;
        rc = kho_store_exec(s, MIGRATIONS[v - 1], err);
        if (rc == 0)
            rc = kho_store_exec(s, bump, err);
        if (rc == 0)
            rc = kho_store_commit(s, err);
        if (rc != 0) {
            kho_store_rollback(s);
            kho_err_prefix(err, "schema migration %d", v);
            return rc;
        }
        kho_info("database schema migrated to version %d", v);
    }
    return 0;
}
