/* units — administrative units: loading, gaps, search, lookup (see units.h). */
#include "warehouse/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/buf.h"
#include "core/hash.h"
#include "core/mem.h"
#include "core/text.h"
#include "warehouse/reader.h"

static const char *FILES[] = {"provinces.csv", "communes.csv", "communes-before-2025-07.csv",
                              "conversion-2025-07.csv"};

/* ---- names ---------------------------------------------------------------------- */

/* Type words that may start an official name, longest first where they overlap. */
static const char *TYPE_WORDS[] = {"thành phố", "thị trấn", "thị xã", "đặc khu", "tỉnh", "quận", "huyện", "phường",
                                   "xã"};

/* Split "Thị xã Mỹ Hào" into type "thị xã" and short name "Mỹ Hào". When no
 * type word leads, *type is "" and the short name is the whole name. */
static void split_name(const char *name, char *type, size_t tsz, const char **short_name)
{
    kho_buf_t low = KHO_BUF_INIT;
    kho_text_lower(name, strlen(name), &low);
    type[0] = '\0';
    *short_name = name;
    for (size_t i = 0; i < sizeof TYPE_WORDS / sizeof TYPE_WORDS[0]; i++) {
        size_t n = strlen(TYPE_WORDS[i]);
        if (strncmp(low.data, TYPE_WORDS[i], n) == 0 && low.data[n] == ' ') {
            snprintf(type, tsz, "%s", TYPE_WORDS[i]);
            /* the lower-cased prefix has the same byte length as the original */
            *short_name = name + n + 1;
            break;
        }
    }
    kho_buf_free(&low);
}

/* "thành phố" -> "Thành phố" */
static void capitalise(const char *s, kho_buf_t *out)
{
    uint32_t cp;
    size_t k = kho_utf8_decode(s, strlen(s), &cp);
    utf8proc_uint8_t tmp[4];
    utf8proc_ssize_t m = utf8proc_encode_char(utf8proc_toupper((utf8proc_int32_t)cp), tmp);
    kho_buf_append(out, tmp, (size_t)m);
    kho_buf_puts(out, s + k);
}

/* ---- loading --------------------------------------------------------------------- */

typedef struct loader {
    kho_store_t *w;
    kho_stmt_t *unit, *conv;
    kho_strmap_t *seen; /* "era/level/code" already inserted */
    kho_err_t *err;
    size_t no_code_rows;
} loader_t;

static int insert_unit(loader_t *L, const char *era, const char *level, const char *code, const char *name,
                       const char *type, const char *province, const char *district)
{
    char key[64];
    int k = snprintf(key, sizeof key, "%s/%s/%s", era, level, code);
    if (kho_strmap_get(L->seen, key, (size_t)k, NULL))
        return 0;
    kho_strmap_put(L->seen, key, (size_t)k, 1);
    char tword[32];
    const char *short_name;
    split_name(name, tword, sizeof tword, &short_name);
    kho_buf_t f = KHO_BUF_INIT, l = KHO_BUF_INIT, sf = KHO_BUF_INIT, sl = KHO_BUF_INIT, t = KHO_BUF_INIT;
    kho_text_fold(name, strlen(name), &f);
    kho_text_lower(name, strlen(name), &l);
    kho_text_fold(short_name, strlen(short_name), &sf);
    kho_text_lower(short_name, strlen(short_name), &sl);
    kho_text_lower(type && *type ? type : tword, strlen(type && *type ? type : tword), &t);
    kho_stmt_t *st = L->unit;
    kho_stmt_bind_str(st, 1, era);
    kho_stmt_bind_str(st, 2, level);
    kho_stmt_bind_str(st, 3, code);
    kho_stmt_bind_str(st, 4, name);
    kho_stmt_bind_str(st, 5, short_name);
    kho_stmt_bind_str(st, 6, kho_buf_cstr(&t));
    kho_stmt_bind_str(st, 7, province);
    kho_stmt_bind_str(st, 8, district);
    kho_stmt_bind_str(st, 9, kho_buf_cstr(&f));
    kho_stmt_bind_str(st, 10, kho_buf_cstr(&l));
    kho_stmt_bind_str(st, 11, kho_buf_cstr(&sf));
    kho_stmt_bind_str(st, 12, kho_buf_cstr(&sl));
    int rc = kho_stmt_step(st, L->err);
    kho_stmt_reset(st);
    kho_buf_free(&f);
    kho_buf_free(&l);
    kho_buf_free(&sf);
    kho_buf_free(&sl);
    kho_buf_free(&t);
    return rc < 0 ? rc : 0;
}

typedef int (*row_fn)(loader_t *L, const char **f, uint64_t line);

/* Read a CSV file whose header has (at least) the named columns, calling fn with
 * the fields in the order of `cols`. */
static int each_row(loader_t *L, const char *dir, const char *file, const char *const *cols, size_t ncols, row_fn fn)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    kho_source_t src = {.path = path, .name = file};
    kho_reader_opts_t ro = {.format = KHO_FMT_CSV, .validate_utf8 = true, .nfc = true};
    kho_reader_t *r = NULL;
    int rc = kho_reader_open(&src, &ro, &r, L->err);
    if (rc != 0)
        return rc;
    size_t idx[16];
    for (size_t c = 0; c < ncols; c++) {
        idx[c] = SIZE_MAX;
        for (size_t i = 0; i < kho_reader_ncols(r); i++)
            if (strcmp(kho_reader_label(r, i), cols[c]) == 0)
                idx[c] = i;
        if (idx[c] == SIZE_MAX) {
            rc = kho_err_set(L->err, KHO_EINVAL, "%s: no column '%s' in the header", file, cols[c]);
            goto done;
        }
    }
    kho_record_t *rec;
    while ((rc = kho_reader_next(r, &rec, L->err)) == 1) {
        const char *f[16];
        for (size_t c = 0; c < ncols; c++)
            f[c] = idx[c] < rec->n ? rec->cells[idx[c]].s : "";
        if ((rc = fn(L, f, rec->line)) != 0) {
            kho_err_prefix(L->err, "%s line %llu", file, (unsigned long long)rec->line);
            goto done;
        }
    }
done:
    kho_reader_free(r);
    return rc < 0 ? rc : 0;
}

static int on_province(loader_t *L, const char **f, uint64_t line)
{
    (void)line;
    kho_buf_t full = KHO_BUF_INIT;
    capitalise(f[2], &full);
    kho_buf_printf(&full, " %s", f[1]);
    int rc = insert_unit(L, "current", "province", f[0], full.data, f[2], NULL, NULL);
    kho_buf_free(&full);
    return rc;
}

static int on_commune(loader_t *L, const char **f, uint64_t line)
{
    (void)line;
    return insert_unit(L, "current", "commune", f[0], f[1], f[2], f[3], NULL);
}

static int on_old(loader_t *L, const char **f, uint64_t line)
{
    /* code,name,type,district_code,district_name,province_code,province_name */
    int rc = insert_unit(L, "old", "province", f[5], f[6], NULL, NULL, NULL);
    if (rc == 0 && f[3][0])
        rc = insert_unit(L, "old", "district", f[3], f[4], NULL, f[5], NULL);
    if (rc != 0)
        return rc;
    if (!f[0][0]) {
        char detail[512];
        snprintf(detail, sizeof detail,
                 "line %llu of the pre-2025 list names district %s (%s, %s) with no commune code: the district "
                 "had no communes; it is kept as a district",
                 (unsigned long long)line, f[4], f[3], f[6]);
        kho_stmt_t *st = NULL;
        rc = kho_store_cached(L->w, "INSERT INTO unit_gaps(kind, code, detail) VALUES ('old_row_without_code', ?, ?)",
                              &st, L->err);
        if (rc != 0)
            return rc;
        kho_stmt_bind_str(st, 1, f[3]);
        kho_stmt_bind_str(st, 2, detail);
        rc = kho_stmt_step(st, L->err);
        kho_stmt_reset(st);
        L->no_code_rows++;
        return rc < 0 ? rc : 0;
    }
    return insert_unit(L, "old", "commune", f[0], f[1], f[2], f[5], f[3]);
}

static int on_conversion(loader_t *L, const char **f, uint64_t line)
{
    (void)line;
    if (strcmp(f[8], "whole") != 0 && strcmp(f[8], "partial") != 0)
        return kho_err_set(L->err, KHO_EINVAL, "relation must be 'whole' or 'partial', not '%s'", f[8]);
    kho_stmt_t *st = L->conv;
    for (int i = 0; i < 10; i++)
        kho_stmt_bind_str(st, i + 1, f[i]);
    int rc = kho_stmt_step(st, L->err);
    kho_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

static const char *GAP_SQL =
    "INSERT INTO unit_gaps(kind, code, detail)"
    " SELECT DISTINCT 'conversion_new_code_missing', new_code,"
    "  'the conversion table maps old communes to ' || new_name || ' (' || new_code || ', province ' ||"
    "  new_province_code || '), a code the 2025 commune list does not contain'"
    " FROM unit_conversion c WHERE NOT EXISTS (SELECT 1 FROM units u"
    "  WHERE u.era = 'current' AND u.level = 'commune' AND u.code = c.new_code);"
    "INSERT INTO unit_gaps(kind, code, detail)"
    " SELECT 'commune_without_conversion', code, name || ' (province ' || province_code ||"
    "  ') is in the 2025 list but has no row in the conversion table'"
    " FROM units u WHERE era = 'current' AND level = 'commune'"
    "  AND NOT EXISTS (SELECT 1 FROM unit_conversion c WHERE c.new_code = u.code);"
    "INSERT INTO unit_gaps(kind, code, detail)"
    " SELECT DISTINCT 'conversion_old_code_missing', old_code,"
    "  old_name || ' (' || old_district_name || ') appears in the conversion table with code ' || old_code ||"
    "  ', which the pre-2025 commune list does not contain'"
    " FROM unit_conversion c WHERE NOT EXISTS (SELECT 1 FROM units u"
    "  WHERE u.era = 'old' AND u.level = 'commune' AND u.code = c.old_code);"
    "INSERT INTO unit_gaps(kind, code, detail)"
    " SELECT 'old_commune_without_conversion', u.code, u.name || ' (' || d.name ||"
    "  ') is in the pre-2025 list but has no row in the conversion table'"
    " FROM units u LEFT JOIN units d ON d.era = 'old' AND d.level = 'district' AND d.code = u.district_code"
    " WHERE u.era = 'old' AND u.level = 'commune'"
    "  AND NOT EXISTS (SELECT 1 FROM unit_conversion c WHERE c.old_code = u.code);";

/* SHA-256 over the four files, to skip reloading unchanged data. */
static int files_digest(const char *dir, char hex[65], kho_err_t *err)
{
    kho_sha256_t h;
    kho_sha256_init(&h);
    char buf[65536];
    for (size_t i = 0; i < sizeof FILES / sizeof FILES[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, FILES[i]);
        FILE *f = fopen(path, "rb");
        if (!f) {
            kho_sha256_abort(&h);
            return kho_err_set(err, KHO_ENOTFOUND, "cannot read the administrative units file %s", path);
        }
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            kho_sha256_update(&h, buf, n);
        fclose(f);
    }
    kho_sha256_final(&h, hex);
    return 0;
}

static int count_units(kho_store_t *s, kho_units_summary_t *sum, kho_err_t *err)
{
    static const char *sql =
        "SELECT (SELECT count(*) FROM units WHERE era='current' AND level='province'),"
        " (SELECT count(*) FROM units WHERE era='current' AND level='commune'),"
        " (SELECT count(*) FROM units WHERE era='old' AND level='province'),"
        " (SELECT count(*) FROM units WHERE era='old' AND level='district'),"
        " (SELECT count(*) FROM units WHERE era='old' AND level='commune'),"
        " (SELECT count(*) FROM unit_conversion), (SELECT count(*) FROM unit_gaps)";
    kho_stmt_t *st = NULL;
    int rc = kho_store_prepare(s, sql, &st, err);
    if (rc != 0)
        return rc;
    rc = kho_stmt_step(st, err);
    if (rc == KHO_STEP_ROW) {
        sum->provinces = (size_t)kho_stmt_col_int(st, 0);
        sum->communes = (size_t)kho_stmt_col_int(st, 1);
        sum->old_provinces = (size_t)kho_stmt_col_int(st, 2);
        sum->old_districts = (size_t)kho_stmt_col_int(st, 3);
        sum->old_communes = (size_t)kho_stmt_col_int(st, 4);
        sum->conversions = (size_t)kho_stmt_col_int(st, 5);
        sum->gaps = (size_t)kho_stmt_col_int(st, 6);
    }
    kho_stmt_free(st);
    return rc < 0 ? rc : 0;
}

int kho_units_load(kho_store_t *w, const char *dir, bool force, kho_units_summary_t *sum, kho_err_t *err)
{
    static const char *const PROV[] = {"code", "name", "type"};
    static const char *const COMM[] = {"code", "name", "type", "province_code"};
    static const char *const OLD[] = {"code",          "name",          "type",         "district_code",
                                      "district_name", "province_code", "province_name"};
    static const char *const CONV[] = {"new_code",          "new_name",         "new_province_code", "old_code",
                                       "old_name",          "old_district_code", "old_district_name",
                                       "old_province_code", "relation",          "note"};
    memset(sum, 0, sizeof *sum);
    char digest[65], have[65];
    int rc = files_digest(dir, digest, err);
    if (rc == 0)
        rc = kho_store_meta_get(w, "units_sha256", have, sizeof have, err);
    if (rc != 0)
        return rc;
    if (!force && strcmp(digest, have) == 0) {
        sum->unchanged = true;
        return count_units(w, sum, err);
    }
    loader_t L = {.w = w, .err = err, .seen = kho_strmap_new()};
    rc = kho_store_begin(w, true, err);
    if (rc != 0)
        goto done;
    rc = kho_store_exec(w, "DELETE FROM units; DELETE FROM unit_conversion; DELETE FROM unit_gaps;", err);
    if (rc == 0)
        rc = kho_store_prepare(w, "INSERT INTO units VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", &L.unit, err);
    if (rc == 0)
        rc = kho_store_prepare(w, "INSERT INTO unit_conversion VALUES (?,?,?,?,?,?,?,?,?,?)", &L.conv, err);
    if (rc == 0)
        rc = each_row(&L, dir, FILES[0], PROV, 3, on_province);
    if (rc == 0)
        rc = each_row(&L, dir, FILES[1], COMM, 4, on_commune);
    if (rc == 0)
        rc = each_row(&L, dir, FILES[2], OLD, 7, on_old);
    if (rc == 0)
        rc = each_row(&L, dir, FILES[3], CONV, 10, on_conversion);
    if (rc == 0)
        rc = kho_store_exec(w, GAP_SQL, err);
    if (rc == 0)
        rc = kho_store_meta_put(w, "units_sha256", digest, err);
    if (rc == 0)
        rc = count_units(w, sum, err);
    if (rc == 0)
        rc = kho_store_commit(w, err);
done:
    if (rc != 0)
        kho_store_rollback(w);
    kho_stmt_free(L.unit);
    kho_stmt_free(L.conv);
    kho_strmap_free(L.seen);
    return rc;
}

int kho_units_gaps(kho_store_t *s, json_t **out, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_prepare(s, "SELECT kind, code, detail FROM unit_gaps ORDER BY kind, code", &st, err);
    if (rc != 0)
        return rc;
    json_t *arr = json_array();
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW)
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "kind", kho_stmt_col_text(st, 0), "code",
                                             kho_stmt_col_text(st, 1), "detail", kho_stmt_col_text(st, 2)));
    kho_stmt_free(st);
    if (rc < 0) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}

int kho_units_codeset(kho_store_t *s, kho_strmap_t **out, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_prepare(s,
                               "SELECT code, era, level FROM units WHERE level IN ('commune','province')", &st, err);
    if (rc != 0)
        return rc;
    kho_strmap_t *m = kho_strmap_new();
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        const char *code = kho_stmt_col_text(st, 0);
        bool current = strcmp(kho_stmt_col_text(st, 1), "current") == 0;
        bool commune = strcmp(kho_stmt_col_text(st, 2), "commune") == 0;
        size_t flags = 0, n = strlen(code);
        kho_strmap_get(m, code, n, &flags);
        flags |= commune ? (current ? KHO_UNIT_COMMUNE : KHO_UNIT_OLD_COMMUNE)
                         : (current ? KHO_UNIT_PROVINCE : KHO_UNIT_OLD_PROVINCE);
        kho_strmap_put(m, code, n, flags);
    }
    kho_stmt_free(st);
    if (rc < 0) {
        kho_strmap_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

/* ---- search ---------------------------------------------------------------------- */

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* Escape LIKE wildcards with '\'. */
static void like_escape(const char *s, kho_buf_t *out)
{
    for (; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '\\')
            kho_buf_putc(out, '\\');
        kho_buf_putc(out, *s);
    }
}

static json_t *unit_row_json(kho_stmt_t *st)
{
    /* columns: era, level, code, name, short_name, type, province_code, district_code, province_name */
    json_t *u = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "code", kho_stmt_col_text(st, 2), "name",
                          kho_stmt_col_text(st, 3), "short_name", kho_stmt_col_text(st, 4), "type",
                          kho_stmt_col_text(st, 5), "level", kho_stmt_col_text(st, 1), "era",
                          kho_stmt_col_text(st, 0));
    const char *pc = kho_stmt_col_text(st, 6);
    if (pc) {
        json_object_set_new(u, "province_code", json_string(pc));
        const char *pn = kho_stmt_col_text(st, 8);
        if (pn)
            json_object_set_new(u, "province_name", json_string(pn));
    }
    const char *dc = kho_stmt_col_text(st, 7);
    if (dc)
        json_object_set_new(u, "district_code", json_string(dc));
    return u;
}

#define UNIT_COLS                                                                                                     \
    "u.era, u.level, u.code, u.name, u.short_name, u.type, u.province_code, u.district_code,"                         \
    " (SELECT p.short_name FROM units p WHERE p.era = u.era AND p.level = 'province' AND p.code = u.province_code)"

/* Map a type word given by a client ("xa", "Phường", "thi tran") to the stored one. */
static const char *canonical_type(const char *t)
{
    kho_buf_t f = KHO_BUF_INIT;
    kho_text_fold(t, strlen(t), &f);
    const char *found = NULL;
    for (size_t i = 0; i < sizeof TYPE_WORDS / sizeof TYPE_WORDS[0] && !found; i++) {
        kho_buf_t g = KHO_BUF_INIT;
        kho_text_fold(TYPE_WORDS[i], strlen(TYPE_WORDS[i]), &g);
        if (strcmp(g.data, f.data) == 0)
            found = TYPE_WORDS[i];
        kho_buf_free(&g);
    }
    kho_buf_free(&f);
    return found;
}

static const char *LEVEL_ORDER = "CASE u.level WHEN 'province' THEN 0 WHEN 'district' THEN 1 ELSE 2 END";

int kho_units_search(kho_store_t *s, const kho_units_query_t *q, json_t **out, kho_err_t *err)
{
    const char *era = q->era && *q->era ? q->era : "current";
    const char *level = q->level && *q->level ? q->level : NULL;
    const char *prov = q->province && *q->province ? q->province : NULL;
    const char *text = q->q && *q->q ? q->q : NULL;
    const char *type = NULL;
    if (strcmp(era, "current") && strcmp(era, "old") && strcmp(era, "all"))
        return kho_err_setk(err, KHO_EINVAL, "bad_parameter", "era must be current, old or all, not '%s'", era);
    if (level && strcmp(level, "province") && strcmp(level, "district") && strcmp(level, "commune"))
        return kho_err_setk(err, KHO_EINVAL, "bad_parameter",
                            "level must be province, district or commune, not '%s'", level);
    if (prov && (!all_digits(prov) || strlen(prov) != 2))
        return kho_err_setk(err, KHO_EINVAL, "bad_parameter", "province must be a 2-digit code such as 33, not '%s'",
                            prov);
    if (q->type && *q->type && !(type = canonical_type(q->type)))
        return kho_err_setk(err, KHO_EINVAL, "bad_parameter",
                            "unknown type '%s': use tỉnh, thành phố, xã, phường, đặc khu, quận, huyện, thị xã or "
                            "thị trấn",
                            q->type);
    if (text && strlen(text) > 200)
        return kho_err_setk(err, KHO_EINVAL, "bad_parameter", "q is longer than 200 bytes");
    bool code_query = text && all_digits(text);
    kho_buf_t where = KHO_BUF_INIT, sql = KHO_BUF_INIT, qf = KHO_BUF_INIT, ql = KHO_BUF_INIT, like = KHO_BUF_INIT;
    kho_buf_puts(&where, " WHERE 1");
    if (strcmp(era, "all"))
        kho_buf_puts(&where, " AND u.era = ?1");
    if (level)
        kho_buf_puts(&where, " AND u.level = ?2");
    if (prov)
        kho_buf_puts(&where, " AND (u.province_code = ?3 OR (u.level = 'province' AND u.code = ?3))");
    if (type)
        kho_buf_puts(&where, " AND u.type = ?5");
    if (code_query) {
        kho_buf_printf(&like, "%s%%", text);
        kho_buf_puts(&ql, text);
        kho_buf_puts(&where, " AND u.code LIKE ?4");
    } else if (text) {
        kho_text_fold(text, strlen(text), &qf);
        kho_text_lower(text, strlen(text), &ql);
        kho_buf_putc(&like, '%');
        like_escape(kho_buf_cstr(&qf), &like);
        kho_buf_putc(&like, '%');
        kho_buf_puts(&where, " AND u.name_fold LIKE ?4 ESCAPE '\\'");
    }
    const char *rank = code_query ? "CASE WHEN u.code = ?6 THEN 0 ELSE 1 END"
                       : text     ? "CASE WHEN u.name_lower = ?6 OR u.short_lower = ?6 THEN 0"
                                    " WHEN u.name_fold = ?7 OR u.short_fold = ?7 THEN 1"
                                    " WHEN instr(u.name_lower, ?6) > 0 THEN 2"
                                    " WHEN instr(u.short_fold, ?7) = 1 THEN 3 ELSE 4 END"
                                  : "0";
    kho_buf_printf(&sql,
                   "SELECT " UNIT_COLS ", (SELECT count(*) FROM units u %s), %s AS rank FROM units u %s"
                   " ORDER BY rank, u.era = 'current' DESC, %s, u.province_code, u.name LIMIT ?8 OFFSET ?9",
                   where.data, rank, where.data, LEVEL_ORDER);
    kho_stmt_t *st = NULL;
    int rc = kho_store_prepare(s, sql.data, &st, err);
    if (rc != 0)
        goto done;
    kho_stmt_bind_str(st, 1, era);
    kho_stmt_bind_str(st, 2, level);
    kho_stmt_bind_str(st, 3, prov);
    kho_stmt_bind_str(st, 4, kho_buf_cstr(&like));
    kho_stmt_bind_str(st, 5, type);
    kho_stmt_bind_str(st, 6, kho_buf_cstr(&ql));
    kho_stmt_bind_str(st, 7, kho_buf_cstr(&qf));
    kho_stmt_bind_int(st, 8, q->limit > 0 ? q->limit : 20);
    kho_stmt_bind_int(st, 9, q->offset > 0 ? q->offset : 0);
    json_t *units = json_array();
    int64_t total = 0;
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        total = kho_stmt_col_int(st, 9);
        json_t *u = unit_row_json(st);
        if (text && !code_query)
            json_object_set_new(u, "match",
                                json_string(kho_stmt_col_int(st, 10) == 0 ? "exact"
                                            : kho_stmt_col_int(st, 10) == 2 ? "accented"
                                                                             : "folded"));
        json_array_append_new(units, u);
    }
    if (rc < 0) {
        json_decref(units);
        goto done;
    }
    if (json_array_size(units) == 0 && q->offset > 0) { /* count without rows */
        kho_buf_reset(&sql);
        kho_buf_printf(&sql, "SELECT count(*) FROM units u %s", where.data);
        kho_stmt_free(st);
        rc = kho_store_prepare(s, sql.data, &st, err);
        if (rc == 0) {
            kho_stmt_bind_str(st, 1, era);
            kho_stmt_bind_str(st, 2, level);
            kho_stmt_bind_str(st, 3, prov);
            kho_stmt_bind_str(st, 4, kho_buf_cstr(&like));
            kho_stmt_bind_str(st, 5, type);
            rc = kho_stmt_step(st, err);
            if (rc == KHO_STEP_ROW)
                total = kho_stmt_col_int(st, 0);
        }
        if (rc < 0) {
            json_decref(units);
            goto done;
        }
    }
    rc = 0;
    *out = json_pack("{s:I,s:I,s:I,s:o}", "total", (json_int_t)total, "limit", (json_int_t)(q->limit > 0 ? q->limit : 20),
                     "offset", (json_int_t)(q->offset > 0 ? q->offset : 0), "units", units);
done:
    kho_stmt_free(st);
    kho_buf_free(&where);
    kho_buf_free(&sql);
    kho_buf_free(&qf);
    kho_buf_free(&ql);
    kho_buf_free(&like);
    return rc;
}

/* ---- lookup ---------------------------------------------------------------------- */

/* Find the unit with this code in an era ("current"/"old"); *found false when none. */
static int find_unit(kho_store_t *s, const char *code, const char *era, json_t **unit, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(s,
                              "SELECT " UNIT_COLS " FROM units u WHERE u.code = ?1 AND u.era = ?2"
                              " ORDER BY CASE u.level WHEN 'commune' THEN 0 WHEN 'province' THEN 1 ELSE 2 END LIMIT 1",
                              &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, code);
    kho_stmt_bind_str(st, 2, era);
    *unit = NULL;
    rc = kho_stmt_step(st, err);
    if (rc == KHO_STEP_ROW)
        *unit = unit_row_json(st);
    kho_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* Run a query with one text parameter and append each row as an object built by fn. */
static int each_json(kho_store_t *s, const char *sql, const char *param, json_t *arr,
                     json_t *(*fn)(kho_stmt_t *st), kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(s, sql, &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, param);
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW)
        json_array_append_new(arr, fn(st));
    kho_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

static json_t *code_name(const char *code, const char *name)
{
    return json_pack("{s:s,s:s}", "code", code ? code : "", "name", name ? name : "");
}

static json_t *predecessor_json(kho_stmt_t *st)
{
    /* old_code, old_name, relation, note, old_district_code, old_district_name, old_province_code, province name */
    json_t *p = json_pack("{s:s,s:s,s:s,s:s}", "code", kho_stmt_col_text(st, 0), "name", kho_stmt_col_text(st, 1),
                          "relation", kho_stmt_col_text(st, 2), "note", kho_stmt_col_text(st, 3));
    json_object_set_new(p, "district", code_name(kho_stmt_col_text(st, 4), kho_stmt_col_text(st, 5)));
    json_object_set_new(p, "province", code_name(kho_stmt_col_text(st, 6), kho_stmt_col_text(st, 7)));
    return p;
}

static json_t *successor_json(kho_stmt_t *st)
{
    /* new_code, new_name, relation, note, new_province_code, province name */
    json_t *p = json_pack("{s:s,s:s,s:s,s:s}", "code", kho_stmt_col_text(st, 0), "name", kho_stmt_col_text(st, 1),
                          "relation", kho_stmt_col_text(st, 2), "note", kho_stmt_col_text(st, 3));
    json_object_set_new(p, "province", code_name(kho_stmt_col_text(st, 4), kho_stmt_col_text(st, 5)));
    return p;
}

static json_t *pair_json(kho_stmt_t *st)
{
    return code_name(kho_stmt_col_text(st, 0), kho_stmt_col_text(st, 1));
}

static int current_history(kho_store_t *s, const char *code, const char *level, json_t *u, kho_err_t *err)
{
    json_t *arr = json_array();
    json_object_set_new(u, "predecessors", arr);
    if (strcmp(level, "commune") == 0)
        return each_json(s,
                         "SELECT c.old_code, c.old_name, c.relation, c.note, c.old_district_code, c.old_district_name,"
                         " c.old_province_code, (SELECT p.name FROM units p WHERE p.era = 'old'"
                         "  AND p.level = 'province' AND p.code = c.old_province_code)"
                         " FROM unit_conversion c WHERE c.new_code = ?1 ORDER BY c.old_code",
                         code, arr, predecessor_json, err);
    return each_json(s,
                     "SELECT DISTINCT c.old_province_code, p.name FROM unit_conversion c"
                     " LEFT JOIN units p ON p.era = 'old' AND p.level = 'province' AND p.code = c.old_province_code"
                     " WHERE c.new_province_code = ?1 ORDER BY 1",
                     code, arr, pair_json, err);
}

static int old_history(kho_store_t *s, const char *code, const char *level, json_t *u, kho_err_t *err)
{
    json_t *arr = json_array();
    json_object_set_new(u, "successors", arr);
    if (strcmp(level, "commune") == 0)
        return each_json(s,
                         "SELECT c.new_code, c.new_name, c.relation, c.note, c.new_province_code,"
                         " (SELECT p.name FROM units p WHERE p.era = 'current' AND p.level = 'province'"
                         "  AND p.code = c.new_province_code)"
                         " FROM unit_conversion c WHERE c.old_code = ?1 ORDER BY c.new_code",
                         code, arr, successor_json, err);
    if (strcmp(level, "district") == 0)
        return each_json(s,
                         "SELECT DISTINCT c.new_code, c.new_name FROM unit_conversion c"
                         " WHERE c.old_district_code = ?1 ORDER BY 1",
                         code, arr, pair_json, err);
    return each_json(s,
                     "SELECT DISTINCT c.new_province_code, p.name FROM unit_conversion c"
                     " LEFT JOIN units p ON p.era = 'current' AND p.level = 'province' AND p.code = c.new_province_code"
                     " WHERE c.old_province_code = ?1 ORDER BY 1",
                     code, arr, pair_json, err);
}

int kho_units_get(kho_store_t *s, const char *code, const char *era, json_t **out, kho_err_t *err)
{
    size_t n = strlen(code);
    if (!all_digits(code) || (n != 2 && n != 3 && n != 5))
        return kho_err_setk(err, KHO_EINVAL, "bad_code",
                            "'%s' is not a unit code: provinces have 2 digits, communes 5, pre-2025 districts 3",
                            code);
    if (era && strcmp(era, "current") && strcmp(era, "old"))
        return kho_err_setk(err, KHO_EINVAL, "bad_parameter", "era must be current or old, not '%s'", era);
    json_t *cur = NULL, *old = NULL;
    int rc = 0;
    if (!era || strcmp(era, "current") == 0)
        rc = find_unit(s, code, "current", &cur, err);
    if (rc == 0 && (!era || strcmp(era, "old") == 0))
        rc = find_unit(s, code, "old", &old, err);
    json_t *u = cur ? cur : old;
    if (rc == 0 && !u)
        rc = kho_err_setk(err, KHO_ENOTFOUND, "unknown_unit", "no administrative unit has the code %s%s%s", code,
                          era ? " in era " : "", era ? era : "");
    if (rc == 0) {
        const char *level = json_string_value(json_object_get(u, "level"));
        rc = u == cur ? current_history(s, code, level, u, err) : old_history(s, code, level, u, err);
        if (rc == 0 && u == cur && old) { /* the same code also named a pre-2025 unit */
            json_t *o = json_deep_copy(old);
            const char *olevel = json_string_value(json_object_get(o, "level"));
            rc = old_history(s, code, olevel, o, err);
            json_object_set_new(u, "old_unit", o);
        }
    }
    if (rc != 0) {
        json_decref(cur);
        json_decref(old);
        return rc;
    }
    if (u == cur)
        json_decref(old);
    *out = u;
    return 0;
}
