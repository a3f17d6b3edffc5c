/* catalog — datasets, versions, columns (see catalog.h). */
#include "warehouse/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/text.h"

void kho_catalog_now(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool one_of(const char *v, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(v, *set) == 0)
            return true;
    return false;
}

/* "2020", "2020-07" or "2020-07-01" */
static bool iso_partial_date(const char *s)
{
    size_t n = strlen(s);
    if (n != 4 && n != 7 && n != 10)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool dash = i == 4 || i == 7;
        if (dash ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
            return false;
    }
    int mo = n >= 7 ? (s[5] - '0') * 10 + (s[6] - '0') : 1, d = n == 10 ? (s[8] - '0') * 10 + (s[9] - '0') : 1;
    return mo >= 1 && mo <= 12 && d >= 1 && d <= 31;
}

int kho_catalog_check_meta(const kho_dataset_meta_t *m, kho_err_t *err)
{
    static const char *const SHARING[] = {"open", "shared", "private", NULL};
    static const char *const IMPORTANCE[] = {"core", "important", "other", NULL};
    if (m->sharing && !one_of(m->sharing, SHARING))
        return kho_err_setk(err, KHO_EINVAL, "bad_metadata",
                            "sharing must be open, shared or private (Data Law 2024), not '%s'", m->sharing);
    if (m->importance && !one_of(m->importance, IMPORTANCE))
        return kho_err_setk(err, KHO_EINVAL, "bad_metadata", "importance must be core, important or other, not '%s'",
                            m->importance);
    if (m->org && !kho_text_is_slug(m->org))
        return kho_err_setk(err, KHO_EINVAL, "bad_metadata",
                            "organisation id '%s' must be 2-100 characters of a-z, 0-9, '-' and '_'", m->org);
    const char *texts[] = {m->title, m->description, m->publisher, m->licence, m->org_name, m->spatial,
                           m->temporal_start, m->temporal_end};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (texts[i] && !kho_utf8_valid(texts[i], strlen(texts[i]), NULL))
            return kho_err_setk(err, KHO_EINVAL, "bad_metadata", "metadata must be valid UTF-8 text");
    const char *dates[] = {m->temporal_start, m->temporal_end};
    for (int i = 0; i < 2; i++)
        if (dates[i] && !iso_partial_date(dates[i]))
            return kho_err_setk(err, KHO_EINVAL, "bad_metadata",
                                "temporal coverage must be a year, year-month or date (2020, 2020-07, 2020-07-01), "
                                "not '%.40s'",
                                dates[i]);
    if (m->title && strlen(m->title) > 500)
        return kho_err_setk(err, KHO_EINVAL, "bad_metadata", "the title is longer than 500 bytes");
    for (size_t i = 0; i < m->ntags; i++)
        if (!m->tags[i][0] || strlen(m->tags[i]) > 100 || !kho_utf8_valid(m->tags[i], strlen(m->tags[i]), NULL))
            return kho_err_setk(err, KHO_EINVAL, "bad_metadata", "tags must be 1-100 bytes of UTF-8 text");
    return 0;
}

static int step_done(kho_stmt_t *st, kho_err_t *err)
{
    int rc = kho_stmt_step(st, err);
    kho_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* The id of the row a one-parameter query finds: 1 when found (*id set), 0 when
 * not, negative on error. */
static int id_of(kho_store_t *s, const char *sql, const char *slug, int64_t *id, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(s, sql, &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, slug);
    rc = kho_stmt_step(st, err);
    if (rc == KHO_STEP_ROW)
        *id = kho_stmt_col_int(st, 0);
    kho_stmt_reset(st);
    return rc;
}

int kho_catalog_ensure_org(kho_store_t *w, const char *slug, const char *name, int64_t *id, kho_err_t *err)
{
    int rc = id_of(w, "SELECT id FROM organisations WHERE slug = ?", slug, id, err);
    if (rc != KHO_STEP_DONE)
        return rc < 0 ? rc : 0;
    kho_stmt_t *st = NULL;
    char now[32];
    kho_catalog_now(now);
    char *nname = kho_text_nfc_dup(name ? name : slug);
    rc = kho_store_cached(w, "INSERT INTO organisations(slug, name, created_at) VALUES (?, ?, ?)", &st, err);
    if (rc == 0) {
        kho_stmt_bind_str(st, 1, slug);
        kho_stmt_bind_str(st, 2, nname);
        kho_stmt_bind_str(st, 3, now);
        rc = step_done(st, err);
        *id = kho_store_last_id(w);
    }
    free(nname);
    return rc;
}

/* Normalise spatial coverage ("33, 12031" -> "33 12031"), checking that every
 * code names an administrative unit (2025 or earlier). */
static int normalise_spatial(kho_store_t *w, const char *in, kho_buf_t *out, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(w, "SELECT 1 FROM units WHERE code = ? LIMIT 1", &st, err);
    const char *p = in;
    while (rc == 0 && *p) {
        size_t n = strcspn(p, " ,;");
        if (n) {
            char code[16];
            bool digits = n <= 5;
            for (size_t i = 0; i < n && digits; i++)
                digits = p[i] >= '0' && p[i] <= '9';
            if (!digits || (n != 2 && n != 3 && n != 5))
                return kho_err_setk(err, KHO_EINVAL, "bad_metadata",
                                    "spatial coverage lists unit codes (33, 12031 ...), not '%.*s'", (int)(n > 40 ? 40 : n), p);
            snprintf(code, sizeof code, "%.*s", (int)n, p);
            kho_stmt_bind_str(st, 1, code);
            int found = kho_stmt_step(st, err);
            kho_stmt_reset(st);
            if (found < 0)
                return found;
            if (found != KHO_STEP_ROW)
                return kho_err_setk(err, KHO_EINVAL, "bad_metadata",
                                    "spatial coverage names %s, which is not an administrative unit code", code);
            kho_buf_printf(out, "%s%s", out->len ? " " : "", code);
        }
        p += n;
        while (*p == ' ' || *p == ',' || *p == ';')
            p++;
    }
    return rc;
}

/* Set one text column of a dataset (NFC-normalised). */
static int set_field(kho_store_t *w, int64_t id, const char *column, const char *value, kho_err_t *err)
{
    if (!value)
        return 0;
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE datasets SET %s = ? WHERE id = ?", column);
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(w, sql, &st, err);
    if (rc != 0)
        return rc;
    char *v = kho_text_nfc_dup(value);
    kho_stmt_bind_str(st, 1, v);
    kho_stmt_bind_int(st, 2, id);
    rc = step_done(st, err);
    free(v);
    return rc;
}

static int set_tags(kho_store_t *w, int64_t id, const kho_dataset_meta_t *m, kho_err_t *err)
{
    if (!m->tags_set && m->ntags == 0)
        return 0;
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(w, "DELETE FROM dataset_tags WHERE dataset_id = ?", &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_int(st, 1, id);
    if ((rc = step_done(st, err)) != 0)
        return rc;
    rc = kho_store_cached(w, "INSERT OR IGNORE INTO dataset_tags(dataset_id, tag) VALUES (?, ?)", &st, err);
    for (size_t i = 0; rc == 0 && i < m->ntags; i++) {
        char *t = kho_text_nfc_dup(m->tags[i]);
        kho_stmt_bind_int(st, 1, id);
        kho_stmt_bind_str(st, 2, t);
        rc = step_done(st, err);
        free(t);
    }
    return rc;
}

/* Recompute the folded search text from title, description, tags and organisation. */
static int refresh_search(kho_store_t *w, int64_t id, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(w,
                              "SELECT d.slug || ' ' || d.title || ' ' || d.description || ' ' || d.publisher || ' ' ||"
                              " coalesce(o.slug || ' ' || o.name, '') || ' ' ||"
                              " coalesce((SELECT group_concat(tag, ' ') FROM dataset_tags WHERE dataset_id = d.id), '')"
                              " FROM datasets d LEFT JOIN organisations o ON o.id = d.org_id WHERE d.id = ?",
                              &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_int(st, 1, id);
    kho_buf_t f = KHO_BUF_INIT;
    rc = kho_stmt_step(st, err);
    if (rc == KHO_STEP_ROW) {
        const char *t = kho_stmt_col_text(st, 0);
        kho_text_fold(t, strlen(t), &f);
    }
    kho_stmt_reset(st);
    if (rc < 0) {
        kho_buf_free(&f);
        return rc;
    }
    rc = kho_store_cached(w, "UPDATE datasets SET search = ? WHERE id = ?", &st, err);
    if (rc == 0) {
        kho_stmt_bind_str(st, 1, kho_buf_cstr(&f));
        kho_stmt_bind_int(st, 2, id);
        rc = step_done(st, err);
    }
    kho_buf_free(&f);
    return rc;
}

int kho_catalog_find(kho_store_t *s, const char *slug, int64_t *id, kho_err_t *err)
{
    int rc = id_of(s, "SELECT id FROM datasets WHERE slug = ?", slug, id, err);
    if (rc == KHO_STEP_DONE)
        return kho_err_setk(err, KHO_ENOTFOUND, "unknown_dataset", "no dataset has the id '%s'", slug);
    return rc < 0 ? rc : 0;
}

int kho_catalog_put_dataset(kho_store_t *w, const char *slug, const kho_dataset_meta_t *m, int64_t *id, bool *created,
                            kho_err_t *err)
{
    if (!kho_text_is_slug(slug))
        return kho_err_setk(err, KHO_EINVAL, "bad_dataset_id",
                            "dataset id '%s' must be 2-100 characters of a-z, 0-9, '-' and '_' (like CKAN names)",
                            slug);
    int rc = kho_catalog_check_meta(m, err);
    if (rc != 0)
        return rc;
    kho_err_t probe;
    rc = kho_catalog_find(w, slug, id, &probe);
    bool is_new = rc == KHO_ENOTFOUND;
    if (rc != 0 && !is_new) {
        *err = probe;
        return rc;
    }
    char now[32];
    kho_catalog_now(now);
    if (is_new) {
        kho_stmt_t *st = NULL;
        rc = kho_store_cached(w, "INSERT INTO datasets(slug, title, created_at, updated_at) VALUES (?, ?, ?, ?)", &st,
                              err);
        if (rc != 0)
            return rc;
        kho_stmt_bind_str(st, 1, slug);
        kho_stmt_bind_str(st, 2, slug);
        kho_stmt_bind_str(st, 3, now);
        kho_stmt_bind_str(st, 4, now);
        if ((rc = step_done(st, err)) != 0)
            return rc;
        *id = kho_store_last_id(w);
    }
    if (created)
        *created = is_new;
    if (m->org) {
        int64_t org_id = 0;
        kho_stmt_t *st = NULL;
        if ((rc = kho_catalog_ensure_org(w, m->org, m->org_name, &org_id, err)) != 0)
            return rc;
        if ((rc = kho_store_cached(w, "UPDATE datasets SET org_id = ? WHERE id = ?", &st, err)) != 0)
            return rc;
        kho_stmt_bind_int(st, 1, org_id);
        kho_stmt_bind_int(st, 2, *id);
        if ((rc = step_done(st, err)) != 0)
            return rc;
    }
    kho_buf_t spatial = KHO_BUF_INIT;
    if (m->spatial && (rc = normalise_spatial(w, m->spatial, &spatial, err)) != 0) {
        kho_buf_free(&spatial);
        return rc;
    }
    if (m->spatial && !spatial.data)
        kho_buf_puts(&spatial, "");
    struct {
        const char *col, *val;
    } fields[] = {{"title", m->title},
                  {"description", m->description},
                  {"publisher", m->publisher},
                  {"licence", m->licence},
                  {"sharing", m->sharing},
                  {"importance", m->importance},
                  {"temporal_start", m->temporal_start},
                  {"temporal_end", m->temporal_end},
                  {"spatial", spatial.data ? spatial.data : m->spatial},
                  {"synthetic", m->synthetic < 0 ? NULL : m->synthetic ? "1" : "0"},
                  {"updated_at", now}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0] && rc == 0; i++)
        rc = set_field(w, *id, fields[i].col, fields[i].val, err);
    kho_buf_free(&spatial);
    if (rc == 0)
        rc = set_tags(w, *id, m, err);
    if (rc == 0)
        rc = refresh_search(w, *id, err);
    return rc;
}

int kho_catalog_next_version(kho_store_t *w, int64_t dataset_id, int64_t *number, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(w, "SELECT coalesce(max(number), 0) + 1 FROM versions WHERE dataset_id = ?", &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_int(st, 1, dataset_id);
    rc = kho_stmt_step(st, err);
    if (rc == KHO_STEP_ROW)
        *number = kho_stmt_col_int(st, 0);
    kho_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

int kho_catalog_add_version(kho_store_t *w, const kho_version_new_t *v, kho_err_t *err)
{
    char now[32];
    kho_catalog_now(now);
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(w,
                              "INSERT INTO versions(dataset_id, number, created_at, row_count, sha256, bytes, format,"
                              " source, table_name, quality) VALUES (?,?,?,?,?,?,?,?,?,?)",
                              &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_int(st, 1, v->dataset_id);
    kho_stmt_bind_int(st, 2, v->number);
    kho_stmt_bind_str(st, 3, now);
    kho_stmt_bind_int(st, 4, (int64_t)v->rows);
    kho_stmt_bind_str(st, 5, v->sha256);
    kho_stmt_bind_int(st, 6, (int64_t)v->bytes);
    kho_stmt_bind_str(st, 7, v->format);
    kho_stmt_bind_str(st, 8, v->source ? v->source : "");
    kho_stmt_bind_str(st, 9, v->table);
    kho_stmt_bind_str(st, 10, v->quality_json);
    if ((rc = step_done(st, err)) != 0)
        return rc;
    int64_t vid = kho_store_last_id(w);
    rc = kho_store_cached(w, "INSERT INTO columns(version_id, position, name, label, type, tags) VALUES (?,?,?,?,?,?)",
                          &st, err);
    for (size_t i = 0; rc == 0 && i < v->ncols; i++) {
        kho_stmt_bind_int(st, 1, vid);
        kho_stmt_bind_int(st, 2, (int64_t)i + 1);
        kho_stmt_bind_str(st, 3, v->cols[i].name);
        kho_stmt_bind_str(st, 4, v->cols[i].label ? v->cols[i].label : "");
        kho_stmt_bind_str(st, 5, kho_type_name(v->cols[i].type));
        kho_stmt_bind_str(st, 6, v->cols[i].tags);
        rc = step_done(st, err);
    }
    if (rc != 0)
        return rc;
    rc = kho_store_cached(w, "UPDATE datasets SET current_version = ?, row_count = ?, updated_at = ? WHERE id = ?",
                          &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_int(st, 1, v->number);
    kho_stmt_bind_int(st, 2, (int64_t)v->rows);
    kho_stmt_bind_str(st, 3, now);
    kho_stmt_bind_int(st, 4, v->dataset_id);
    return step_done(st, err);
}

/* ---- reading --------------------------------------------------------------------- */

static int load_columns(kho_store_t *s, int64_t version_id, kho_version_info_t *out, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(s, "SELECT name, label, type, tags FROM columns WHERE version_id = ? ORDER BY position",
                              &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_int(st, 1, version_id);
    size_t cap = 0;
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        out->cols = kho_xgrow(out->cols, &cap, out->ncols + 1, sizeof *out->cols);
        kho_column_t *c = &out->cols[out->ncols++];
        memset(c, 0, sizeof *c);
        snprintf(c->name, sizeof c->name, "%s", kho_stmt_col_text(st, 0));
        c->label = kho_xstrdup(kho_stmt_col_text(st, 1));
        int t = kho_type_parse(kho_stmt_col_text(st, 2));
        c->type = t < 0 ? KHO_TYPE_TEXT : (kho_type_t)t;
        snprintf(c->tags, sizeof c->tags, "%s", kho_stmt_col_text(st, 3));
    }
    kho_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

int kho_catalog_version(kho_store_t *s, const char *slug, int64_t number, kho_version_info_t *out, kho_err_t *err)
{
    memset(out, 0, sizeof *out);
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(s,
                              "SELECT d.id, d.current_version, v.id, v.number, v.row_count, v.table_name"
                              " FROM datasets d LEFT JOIN versions v ON v.dataset_id = d.id"
                              "  AND v.number = CASE WHEN ?2 > 0 THEN ?2 ELSE d.current_version END"
                              " WHERE d.slug = ?1",
                              &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, slug);
    kho_stmt_bind_int(st, 2, number);
    rc = kho_stmt_step(st, err);
    int64_t vid = 0;
    if (rc == KHO_STEP_ROW) {
        out->dataset_id = kho_stmt_col_int(st, 0);
        if (kho_stmt_col_type(st, 2) == KHO_VAL_NULL)
            rc = number > 0 ? kho_err_setk(err, KHO_ENOTFOUND, "unknown_version",
                                           "dataset '%s' has no version %lld (its current version is %lld)", slug,
                                           (long long)number, (long long)kho_stmt_col_int(st, 1))
                            : kho_err_setk(err, KHO_ENOTFOUND, "no_version", "dataset '%s' has no data yet", slug);
        else {
            vid = kho_stmt_col_int(st, 2);
            out->number = kho_stmt_col_int(st, 3);
            out->rows = kho_stmt_col_int(st, 4);
            snprintf(out->table, sizeof out->table, "%s", kho_stmt_col_text(st, 5));
            rc = 0;
        }
    } else if (rc == KHO_STEP_DONE)
        rc = kho_err_setk(err, KHO_ENOTFOUND, "unknown_dataset", "no dataset has the id '%s'", slug);
    kho_stmt_reset(st);
    if (rc == 0)
        rc = load_columns(s, vid, out, err);
    if (rc != 0)
        kho_version_info_free(out);
    return rc;
}

void kho_version_info_free(kho_version_info_t *v)
{
    for (size_t i = 0; i < v->ncols; i++)
        free(v->cols[i].label);
    free(v->cols);
    v->cols = NULL;
    v->ncols = 0;
}

/* ---- JSON views ---------------------------------------------------------------- */

static json_t *str_or_null(kho_stmt_t *st, int i)
{
    const char *s = kho_stmt_col_text(st, i);
    return s && *s ? json_string(s) : json_null();
}

static json_t *tags_array(const char *space_separated)
{
    json_t *a = json_array();
    const char *p = space_separated;
    while (p && *p) {
        const char *sp = strchr(p, ' ');
        size_t n = sp ? (size_t)(sp - p) : strlen(p);
        if (n)
            json_array_append_new(a, json_stringn(p, n));
        p = sp ? sp + 1 : NULL;
    }
    return a;
}

#define SUMMARY_COLS                                                                                                  \
    "d.id, d.slug, d.title, d.description, o.slug, o.name, d.sharing, d.importance, d.current_version,"               \
    " d.row_count, d.updated_at, d.synthetic,"                                                                        \
    " (SELECT group_concat(tag, char(31)) FROM (SELECT tag FROM dataset_tags WHERE dataset_id = d.id ORDER BY tag)),"  \
    " d.publisher, d.licence, d.temporal_start, d.temporal_end, d.spatial, d.created_at, d.org_id"

static json_t *split_unit_sep(const char *s)
{
    json_t *a = json_array();
    while (s && *s) {
        const char *sep = strchr(s, 31);
        size_t n = sep ? (size_t)(sep - s) : strlen(s);
        json_array_append_new(a, json_stringn(s, n));
        s = sep ? sep + 1 : NULL;
    }
    return a;
}

static json_t *summary_json(kho_stmt_t *st)
{
    json_t *d = json_object();
    json_object_set_new(d, "id", json_string(kho_stmt_col_text(st, 1)));
    json_object_set_new(d, "title", json_string(kho_stmt_col_text(st, 2)));
    json_object_set_new(d, "description", json_string(kho_stmt_col_text(st, 3)));
    json_object_set_new(d, "organisation",
                        kho_stmt_col_type(st, 4) == KHO_VAL_NULL
                            ? json_null()
                            : json_pack("{s:s,s:s}", "id", kho_stmt_col_text(st, 4), "name", kho_stmt_col_text(st, 5)));
    json_object_set_new(d, "sharing", json_string(kho_stmt_col_text(st, 6)));
    json_object_set_new(d, "importance", json_string(kho_stmt_col_text(st, 7)));
    json_object_set_new(d, "current_version", kho_stmt_col_type(st, 8) == KHO_VAL_NULL
                                                  ? json_null()
                                                  : json_integer(kho_stmt_col_int(st, 8)));
    json_object_set_new(d, "row_count", json_integer(kho_stmt_col_int(st, 9)));
    json_object_set_new(d, "updated_at", json_string(kho_stmt_col_text(st, 10)));
    json_object_set_new(d, "synthetic", json_boolean(kho_stmt_col_int(st, 11)));
    json_object_set_new(d, "tags", split_unit_sep(kho_stmt_col_text(st, 12)));
    return d;
}

int kho_catalog_list(kho_store_t *s, const kho_catalog_query_t *q, json_t **out, kho_err_t *err)
{
    if (q->q && strlen(q->q) > 500)
        return kho_err_setk(err, KHO_EINVAL, "bad_parameter", "q is longer than 500 bytes");
    kho_buf_t sql = KHO_BUF_INIT, like = KHO_BUF_INIT, where = KHO_BUF_INIT;
    kho_buf_puts(&where, " WHERE 1");
    /* every word of q must appear in the folded search text */
    const char *words[16];
    size_t nwords = 0;
    kho_buf_t qf = KHO_BUF_INIT;
    if (q->q && *q->q) {
        kho_text_fold(q->q, strlen(q->q), &qf);
        char *p = qf.data;
        while (p && *p) {
            if (nwords == 16) {
                kho_buf_free(&qf);
                kho_buf_free(&sql);
                kho_buf_free(&like);
                kho_buf_free(&where);
                return kho_err_setk(err, KHO_EINVAL, "bad_parameter", "q has more than 16 words");
            }
            char *sp = strchr(p, ' ');
            if (sp)
                *sp = '\0';
            if (*p)
                words[nwords++] = p;
            p = sp ? sp + 1 : NULL;
        }
    }
    for (size_t i = 0; i < nwords; i++)
        kho_buf_printf(&where, " AND instr(d.search, ?%zu) > 0", i + 3);
    if (q->org && *q->org)
        kho_buf_puts(&where, " AND o.slug = ?1");
    if (q->tag && *q->tag)
        kho_buf_puts(&where, " AND EXISTS (SELECT 1 FROM dataset_tags t WHERE t.dataset_id = d.id AND t.tag = ?2)");
    long limit = q->limit > 0 ? q->limit : 100, offset = q->offset > 0 ? q->offset : 0;
    int64_t total = 0;
    json_t *arr = json_array();
    kho_stmt_t *st = NULL;
    int rc = 0;
    if (q->visible) { /* one pass: the access check decides which rows count */
        kho_buf_printf(&sql,
                       "SELECT " SUMMARY_COLS " FROM datasets d LEFT JOIN organisations o ON o.id = d.org_id %s"
                       " ORDER BY d.title",
                       where.data);
        rc = kho_store_prepare(s, sql.data, &st, err);
        if (rc == 0) {
            if (q->org && *q->org)
                kho_stmt_bind_str(st, 1, q->org);
            if (q->tag && *q->tag)
                kho_stmt_bind_str(st, 2, q->tag);
            for (size_t i = 0; i < nwords; i++)
                kho_stmt_bind_str(st, (int)i + 3, words[i]);
            while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
                kho_dsref_t ref = {kho_stmt_col_int(st, 0), kho_stmt_col_int(st, 19), kho_stmt_col_text(st, 6),
                                   kho_stmt_col_text(st, 7)};
                if (!q->visible(q->visible_ctx, &ref))
                    continue;
                if (total >= offset && total < offset + limit)
                    json_array_append_new(arr, summary_json(st));
                total++;
            }
            rc = rc < 0 ? rc : 0;
        }
    }
    for (int pass = 0; pass < 2 && rc == 0 && !q->visible; pass++) { /* the total, then the page */
        kho_buf_reset(&sql);
        if (pass == 0)
            kho_buf_printf(&sql, "SELECT count(*) FROM datasets d LEFT JOIN organisations o ON o.id = d.org_id %s",
                           where.data);
        else
            kho_buf_printf(&sql,
                           "SELECT " SUMMARY_COLS " FROM datasets d LEFT JOIN organisations o ON o.id = d.org_id %s"
                           " ORDER BY d.title LIMIT ?19 OFFSET ?20",
                           where.data);
        kho_stmt_free(st);
        st = NULL;
        if ((rc = kho_store_prepare(s, sql.data, &st, err)) != 0)
            break;
        if (q->org && *q->org)
            kho_stmt_bind_str(st, 1, q->org);
        if (q->tag && *q->tag)
            kho_stmt_bind_str(st, 2, q->tag);
        for (size_t i = 0; i < nwords; i++)
            kho_stmt_bind_str(st, (int)i + 3, words[i]);
        if (pass == 1) {
            kho_stmt_bind_int(st, 19, limit);
            kho_stmt_bind_int(st, 20, offset);
        }
        while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
            if (pass == 0)
                total = kho_stmt_col_int(st, 0);
            else
                json_array_append_new(arr, summary_json(st));
        }
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0)
        *out = json_pack("{s:I,s:I,s:I,s:o}", "total", (json_int_t)total, "limit", (json_int_t)limit, "offset",
                         (json_int_t)offset, "datasets", arr);
    else
        json_decref(arr);
    kho_stmt_free(st);
    kho_buf_free(&sql);
    kho_buf_free(&like);
    kho_buf_free(&where);
    kho_buf_free(&qf);
    return rc;
}

static json_t *columns_json(const kho_version_info_t *v)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < v->ncols; i++)
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:o}", "name", v->cols[i].name, "label", v->cols[i].label,
                                             "type", kho_type_name(v->cols[i].type), "tags",
                                             tags_array(v->cols[i].tags)));
    return arr;
}

static json_t *parse_quality(const char *text)
{
    json_t *q = text ? json_loads(text, 0, NULL) : NULL;
    return q ? q : json_null();
}

#define VERSION_COLS "v.number, v.created_at, v.row_count, v.sha256, v.bytes, v.format, v.source"

static json_t *version_row_json(kho_stmt_t *st)
{
    return json_pack("{s:I,s:s,s:I,s:s,s:I,s:s,s:s}", "number", (json_int_t)kho_stmt_col_int(st, 0), "created_at",
                     kho_stmt_col_text(st, 1), "row_count", (json_int_t)kho_stmt_col_int(st, 2), "sha256",
                     kho_stmt_col_text(st, 3), "bytes", (json_int_t)kho_stmt_col_int(st, 4), "format",
                     kho_stmt_col_text(st, 5), "source", kho_stmt_col_text(st, 6));
}

static int dataset_json(kho_store_t *s, const char *slug, json_t **out, kho_err_t *err);

/* The dataset's parts are read in one read transaction, so that a version
 * committed meanwhile cannot mix into the view. */
int kho_catalog_dataset(kho_store_t *s, const char *slug, json_t **out, kho_err_t *err)
{
    bool own = !kho_store_in_transaction(s);
    int rc = own ? kho_store_begin(s, false, err) : 0;
    if (rc == 0)
        rc = dataset_json(s, slug, out, err);
    if (own)
        kho_store_rollback(s); /* read only: ending it is all that is needed */
    return rc;
}

static int dataset_json(kho_store_t *s, const char *slug, json_t **out, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(s,
                              "SELECT " SUMMARY_COLS " FROM datasets d LEFT JOIN organisations o ON o.id = d.org_id"
                              " WHERE d.slug = ?",
                              &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, slug);
    rc = kho_stmt_step(st, err);
    if (rc != KHO_STEP_ROW) {
        kho_stmt_reset(st);
        return rc < 0 ? rc : kho_err_setk(err, KHO_ENOTFOUND, "unknown_dataset", "no dataset has the id '%s'", slug);
    }
    json_t *d = summary_json(st);
    int64_t id = kho_stmt_col_int(st, 0);
    json_object_set_new(d, "publisher", json_string(kho_stmt_col_text(st, 13)));
    json_object_set_new(d, "licence", json_string(kho_stmt_col_text(st, 14)));
    json_object_set_new(d, "temporal",
                        json_pack("{s:o,s:o}", "start", str_or_null(st, 15), "end", str_or_null(st, 16)));
    json_object_set_new(d, "spatial", str_or_null(st, 17));
    json_object_set_new(d, "created_at", json_string(kho_stmt_col_text(st, 18)));
    kho_stmt_reset(st);

    json_t *versions = json_array();
    json_object_set_new(d, "versions", versions);
    rc = kho_store_cached(s, "SELECT " VERSION_COLS ", v.quality FROM versions v WHERE v.dataset_id = ?"
                             " ORDER BY v.number DESC", &st, err);
    json_t *quality = json_null();
    if (rc == 0) {
        kho_stmt_bind_int(st, 1, id);
        while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
            if (json_array_size(versions) == 0) {
                json_decref(quality);
                quality = parse_quality(kho_stmt_col_text(st, 7));
            }
            json_array_append_new(versions, version_row_json(st));
        }
        kho_stmt_reset(st);
    }
    json_object_set_new(d, "quality", quality);
    if (rc >= 0 && json_array_size(versions) > 0) {
        kho_version_info_t v;
        rc = kho_catalog_version(s, slug, 0, &v, err);
        if (rc == 0) {
            json_object_set_new(d, "columns", columns_json(&v));
            kho_version_info_free(&v);
        }
    } else if (rc >= 0)
        json_object_set_new(d, "columns", json_array());
    if (rc < 0) {
        json_decref(d);
        return rc;
    }
    *out = d;
    return 0;
}

int kho_catalog_version_json(kho_store_t *s, const char *slug, int64_t number, json_t **out, kho_err_t *err)
{
    kho_version_info_t v;
    int rc = kho_catalog_version(s, slug, number, &v, err);
    if (rc != 0)
        return rc;
    kho_stmt_t *st = NULL;
    rc = kho_store_cached(s, "SELECT " VERSION_COLS ", v.quality FROM versions v WHERE v.dataset_id = ? AND v.number = ?",
                          &st, err);
    if (rc == 0) {
        kho_stmt_bind_int(st, 1, v.dataset_id);
        kho_stmt_bind_int(st, 2, v.number);
        rc = kho_stmt_step(st, err);
        if (rc == KHO_STEP_ROW) {
            json_t *j = version_row_json(st);
            json_object_set_new(j, "dataset", json_string(slug));
            json_object_set_new(j, "columns", columns_json(&v));
            json_object_set_new(j, "quality", parse_quality(kho_stmt_col_text(st, 7)));
            *out = j;
            rc = 0;
        } else if (rc == KHO_STEP_DONE)
            rc = kho_err_set(err, KHO_EINTERNAL, "version %lld of '%s' vanished", (long long)v.number, slug);
        kho_stmt_reset(st);
    }
    kho_version_info_free(&v);
    return rc;
}

int kho_catalog_orgs(kho_store_t *s, kho_visible_fn visible, void *ctx, json_t **out, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(s,
                              "SELECT o.slug, o.name, o.description,"
                              " (SELECT count(*) FROM datasets d WHERE d.org_id = o.id), o.id"
                              " FROM organisations o ORDER BY o.name",
                              &st, err);
    if (rc != 0)
        return rc;
    json_t *arr = json_array();
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:I}", "id", kho_stmt_col_text(st, 0), "name",
                                             kho_stmt_col_text(st, 1), "description", kho_stmt_col_text(st, 2),
                                             "datasets", (json_int_t)(visible ? 0 : kho_stmt_col_int(st, 3))));
        ids = kho_xgrow(ids, &cap, n + 1, sizeof *ids);
        ids[n++] = kho_stmt_col_int(st, 4);
    }
    kho_stmt_reset(st);
    if (rc >= 0 && visible) { /* count only what the caller may see */
        kho_stmt_t *ds = NULL;
        rc = kho_store_cached(s, "SELECT id, org_id, sharing, importance FROM datasets WHERE org_id IS NOT NULL",
                              &ds, err);
        while (rc >= 0 && ds && (rc = kho_stmt_step(ds, err)) == KHO_STEP_ROW) {
            kho_dsref_t ref = {kho_stmt_col_int(ds, 0), kho_stmt_col_int(ds, 1), kho_stmt_col_text(ds, 2),
                               kho_stmt_col_text(ds, 3)};
            if (!visible(ctx, &ref))
                continue;
            for (size_t i = 0; i < n; i++)
                if (ids[i] == ref.org_id) {
                    json_t *o = json_array_get(arr, i);
                    json_object_set_new(o, "datasets",
                                        json_integer(json_integer_value(json_object_get(o, "datasets")) + 1));
                    break;
                }
        }
        if (ds)
            kho_stmt_reset(ds);
    }
    free(ids);
    if (rc < 0) {
        json_decref(arr);
        return rc;
    }
    *out = json_pack("{s:o}", "organisations", arr);
    return 0;
}
