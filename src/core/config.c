/* config — defaults, kho.conf and environment (see config.h). */
#include "core/config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/mem.h"

typedef struct {
    const char *key;
    const char *def;
    const char *kind; /* "int", "num", "str" */
    const char *doc;
} key_doc_t;

/* The documented keys. Keep docs/operations.md in step with this table. */
static const key_doc_t KEYS[] = {
    {"listen", "127.0.0.1:8080", "str", "address and port `kho serve` listens on"},
    {"threads", "0", "int", "event-loop threads of the HTTP server (0 = one per CPU core)"},
    {"tls_cert", "", "str", "PEM certificate chain: serve HTTPS (with tls_key); empty: plain HTTP (behind a proxy)"},
    {"tls_key", "", "str", "PEM private key of tls_cert"},
    {"workers", "0", "int", "worker threads for long jobs such as uploads (0 = one per CPU core)"},
    {"max_body_mb", "256", "int", "largest accepted request body in MiB (larger bodies get 413)"},
    {"max_field_kb", "16384", "int", "largest accepted single CSV/JSON field in KiB"},
    {"reject_threshold", "0.10", "num",
     "an upload whose share of rejected rows is above this fraction is refused whole"},
    {"null_marks", "-|..|...|N/A|n/a|NA|#N/A|null|NULL", "str",
     "values read as NULL besides the empty cell, separated by |"},
    {"decimal", "auto", "str",
     "how to read numbers such as 1.234: auto (decide per column), comma (Vietnamese 1.234,5) or dot (1,234.5)"},
    {"busy_timeout_ms", "60000", "int", "how long a writer waits for another writer before giving up"},
    {"sqlite_cache_mb", "64", "int", "SQLite page cache per connection in MiB"},
    {"rows_default_limit", "100", "int", "rows per page when a request gives no _limit"},
    {"rows_max_limit", "10000", "int", "largest _limit accepted on row pages"},
    {"query_time_limit_ms", "2000", "int", "time limit of a filtered row query, count, facet or aggregate"},
    {"sql_time_limit_ms", "1000", "int", "SQL sandbox: SQLite's time on one query before it is stopped (400 timeout)"},
    {"sql_max_rows", "10000", "int", "SQL sandbox: rows of a JSON answer before it stops (\"truncated\": true)"},
    {"sql_max_rows_export", "1000000", "int", "SQL sandbox: rows of a CSV or NDJSON answer before it stops"},
    {"sql_max_output_mb", "256", "int", "SQL sandbox: largest answer in MiB (spooled to DATA/tmp while it is sent)"},
    {"response_cache_mb", "64", "int", "memory of each event loop's cache of answers over immutable versions (0: off)"},
    {"shutdown_timeout_s", "30", "int",
     "how long a graceful shutdown waits for clients once the work in flight (uploads) has finished"},
    {"log_level", "info", "str", "debug, info, warn, error or off"},
    {"audit_origin", "kho/audit", "str", "name of the audit log, in its checkpoints and verifier key"},
    {"public_url", "http://127.0.0.1:8080", "str",
     "the address the public reaches kho at: the base of GS1 Digital Link URLs in QR codes and links"},
    {"trace_origin", "kho/trace", "str",
     "name of the traceability transparency log, in its checkpoints and verifier key (such as <host>/trace)"},
    {"trace_public_proofs", "on", "str",
     "on: anyone may fetch an event's inclusion proof and a lot's proof bundle (whole events), as the journey "
     "page's verify link does; any other value: they need the scope trace:read and the page links to none"},
    {"trace_esg_delay_s", "10", "int",
     "the traceability ESG indicators are recomputed this long after the last capture of harvests or change of "
     "farms (and at most 60 s after the first)"},
    {"audit_checkpoint_entries", "1000", "int", "sign an audit checkpoint at least every this many entries"},
    {"audit_checkpoint_seconds", "60", "int", "... and at least this often (seconds) while entries arrive"},
    {"session_idle_minutes", "30", "int", "a browser session ends after this long without a request"},
    {"session_max_hours", "12", "int", "a browser session ends this long after sign-in, whatever happens"},
    {"key_default_days", "90", "int", "lifetime of an API key created without an expiry date"},
    {"key_max_days", "365", "int", "the longest lifetime an API key may be given"},
    {"login_max_failures", "5", "int", "failed sign-ins in a row before an account is locked for a while"},
    {"rate_public", "30/60", "str",
     "anonymous requests allowed per client address: R/B = R a second in bursts of B, or off"},
    {"rate_analyst", "100/200", "str", "requests per API key or signed-in account of an analyst (R/B or off)"},
    {"rate_leader", "100/200", "str", "... of a leader"},
    {"rate_partner", "50/100", "str", "... of a partner organisation's account"},
    {"rate_steward", "300/600", "str", "... of a steward"},
    {"rate_admin", "300/600", "str", "... of an admin"},
    {"rate_login", "1/10", "str", "sign-in attempts per client address (on top of the account lockout)"},
    {"trust_proxy", "off", "str",
     "on: take the client address from the last X-Forwarded-For entry (only behind a reverse proxy)"},
    {"min_group_size", "10", "int", "aggregates over personal columns need groups of at least this many rows"},
    {"access_log", "on", "str", "one line per HTTP request on stderr: on or off"},
    {"assistant_llm_url", "", "str",
     "OpenAI-compatible base URL of the assistant's optional language model (http://127.0.0.1:11434/v1); empty: off"},
    {"assistant_llm_model", "", "str", "model name sent to that server (its API key: KHO_ASSISTANT_LLM_KEY)"},
    {"assistant_llm_timeout_ms", "5000", "int", "time limit of one call to the language model"},
};
#define NKEYS (sizeof KEYS / sizeof KEYS[0])

struct kho_config {
    char *value[NKEYS];
    char origin[NKEYS][48];
};

static int key_index(const char *key)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(KEYS[i].key, key) == 0)
            return (int)i;
    return -1;
}

static void set_value(kho_config_t *cfg, size_t i, const char *value, const char *origin)
{
    free(cfg->value[i]);
    cfg->value[i] = kho_xstrdup(value);
    snprintf(cfg->origin[i], sizeof cfg->origin[i], "%s", origin);
}

static int check_value(size_t i, const char *v, kho_err_t *err)
{
    char *end;
    if (strcmp(KEYS[i].kind, "int") == 0) {
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (errno || end == v || *end || x < 0)
            return kho_err_set(err, KHO_EINVAL, "%s must be a whole number >= 0, not '%s'", KEYS[i].key, v);
    } else if (strcmp(KEYS[i].kind, "num") == 0) {
        errno = 0;
        double x = strtod(v, &end);
        if (errno || end == v || *end || !isfinite(x) || x < 0)
            return kho_err_set(err, KHO_EINVAL, "%s must be a number >= 0, not '%s'", KEYS[i].key, v);
    }
    return 0;
}

kho_config_t *kho_config_defaults(void)
{
    kho_config_t *cfg = kho_xcalloc(1, sizeof *cfg);
    for (size_t i = 0; i < NKEYS; i++)
        set_value(cfg, i, KEYS[i].def, "default");
    return cfg;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Cut a comment: '#' at the start of the line or after white space (so values
 * such as "#N/A" inside null_marks survive). */
static void cut_comment(char *line)
{
    for (char *p = line; *p; p++)
        if (*p == '#' && (p == line || isspace((unsigned char)p[-1]))) {
            *p = '\0';
            return;
        }
}

static int load_file(kho_config_t *cfg, const char *path, kho_err_t *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : kho_err_set(err, KHO_EIO, "cannot read %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return kho_err_set(err, KHO_EIO, "%s is not a regular file", path);
    }
    char line[4096];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            rc = kho_err_set(err, KHO_EINVAL, "%s line %d: longer than %zu bytes", path, lineno, sizeof line - 2);
            break;
        }
        cut_comment(line);
        char *s = trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = kho_err_set(err, KHO_EINVAL, "%s line %d: expected 'key = value'", path, lineno);
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        int i = key_index(key);
        if (i < 0) {
            rc = kho_err_set(err, KHO_EINVAL, "%s line %d: unknown key '%s' (see 'kho help config')", path, lineno,
                             key);
            break;
        }
        if ((rc = check_value((size_t)i, val, err)) != 0) {
            kho_err_prefix(err, "%s line %d", path, lineno);
            break;
        }
        char origin[48];
        snprintf(origin, sizeof origin, "kho.conf:%d", lineno);
        set_value(cfg, (size_t)i, val, origin);
    }
    if (rc == 0 && ferror(f))
        rc = kho_err_set(err, KHO_EIO, "cannot read %s", path);
    fclose(f);
    return rc;
}

/* The environment variable of key i: "KHO_" and the key in upper case. */
static void env_name(size_t i, char name[64])
{
    size_t k = (size_t)snprintf(name, 64, "KHO_");
    for (const char *p = KEYS[i].key; *p && k < 63; p++)
        name[k++] = (char)toupper((unsigned char)*p);
    name[k] = '\0';
}

static int load_env(kho_config_t *cfg, kho_err_t *err)
{
    for (size_t i = 0; i < NKEYS; i++) {
        char name[64];
        env_name(i, name);
        const char *v = getenv(name);
        if (!v)
            continue;
        if (check_value(i, v, err) != 0) {
            kho_err_prefix(err, "environment variable %s", name);
            return err ? err->code : KHO_EINVAL;
        }
        set_value(cfg, i, v, "environment");
    }
    return 0;
}

int kho_config_load(const char *datadir, kho_config_t **out, kho_err_t *err)
{
    kho_config_t *cfg = kho_config_defaults();
    char path[4096];
    snprintf(path, sizeof path, "%s/kho.conf", datadir);
    int rc = load_file(cfg, path, err);
    if (rc == 0)
        rc = load_env(cfg, err);
    if (rc != 0) {
        kho_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return 0;
}

void kho_config_free(kho_config_t *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < NKEYS; i++)
        free(cfg->value[i]);
    free(cfg);
}

const char *kho_config_str(const kho_config_t *cfg, const char *key)
{
    int i = key_index(key);
    assert(i >= 0 && "undocumented configuration key");
    return cfg->value[i];
}

long long kho_config_int(const kho_config_t *cfg, const char *key)
{
    return strtoll(kho_config_str(cfg, key), NULL, 10);
}

double kho_config_num(const kho_config_t *cfg, const char *key)
{
    return strtod(kho_config_str(cfg, key), NULL);
}

const char *kho_config_origin(const kho_config_t *cfg, const char *key)
{
    int i = key_index(key);
    assert(i >= 0);
    return cfg->origin[i];
}

int kho_config_set(kho_config_t *cfg, const char *key, const char *value, kho_err_t *err)
{
    int i = key_index(key);
    assert(i >= 0);
    int rc = check_value((size_t)i, value, err);
    if (rc == 0)
        set_value(cfg, (size_t)i, value, "command line");
    return rc;
}

void kho_config_write_template(FILE *f)
{
    fprintf(f, "# kho settings for this data directory. Uncomment a line to change it.\n"
               "# Environment variables (KHO_<KEY>) override this file. See 'kho help config'.\n\n");
    for (size_t i = 0; i < NKEYS; i++)
        fprintf(f, "# %s\n# %s = %s\n\n", KEYS[i].doc, KEYS[i].key, KEYS[i].def);
}

void kho_config_print_help(FILE *f)
{
    fprintf(f, "Settings (DATA/kho.conf as 'key = value'; the environment variable overrides the file):\n\n");
    for (size_t i = 0; i < NKEYS; i++) {
        char env[64];
        env_name(i, env);
        fprintf(f, "  %-20s default %-14s %s\n  %20s %s\n\n", KEYS[i].key, KEYS[i].def, env, "", KEYS[i].doc);
    }
}
