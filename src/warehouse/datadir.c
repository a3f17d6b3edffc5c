/* datadir — data directory layout and shipped data (see datadir.h). */
#include "warehouse/datadir.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/schema.h"

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int kho_datadir_create(const char *dir, kho_err_t *err)
{
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return kho_err_set(err, KHO_EIO, "cannot create the data directory %s: %s", dir, strerror(errno));
    if (!is_dir(dir))
        return kho_err_set(err, KHO_EIO, "%s exists and is not a directory", dir);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/kho.conf", dir);
    if (access(path, F_OK) != 0) {
        FILE *f = fopen(path, "w");
        if (!f)
            return kho_err_set(err, KHO_EIO, "cannot write %s: %s", path, strerror(errno));
        kho_config_write_template(f);
        fclose(f);
    }
    return 0;
}

int kho_datadir_open(const char *dir, const kho_config_t *cfg, bool readonly, kho_store_t **out, kho_err_t *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/kho.db", dir);
    if (access(path, F_OK) != 0)
        return kho_err_setk(err, KHO_ENOTFOUND, "not_initialised",
                            "%s is not an initialised data directory (no kho.db): run 'kho init --data %s'", dir,
                            dir);
    kho_store_opts_t so = {.busy_timeout_ms = (int)kho_config_int(cfg, "busy_timeout_ms"),
                           .cache_mb = (int)kho_config_int(cfg, "sqlite_cache_mb")};
    kho_store_t *s = NULL;
    int rc = kho_store_open(path, readonly ? KHO_STORE_READONLY : 0, &so, &s, err);
    if (rc != 0)
        return rc;
    int have = 0;
    if (readonly) {
        rc = kho_schema_current(s, &have, err);
        if (rc == 0 && have < kho_schema_latest()) { /* an older database: migrate it once, then read */
            kho_store_close(s);
            s = NULL;
            if ((rc = kho_datadir_open(dir, cfg, false, &s, err)) != 0)
                return rc;
            kho_store_close(s);
            s = NULL;
            if ((rc = kho_store_open(path, KHO_STORE_READONLY, &so, &s, err)) != 0)
                return rc;
            rc = kho_schema_current(s, &have, err);
        }
        if (rc == 0 && have != kho_schema_latest())
            rc = kho_err_set(err, KHO_ECONFLICT,
                             "the database has schema version %d but this kho knows only up to %d: use a newer kho",
                             have, kho_schema_latest());
    } else
        rc = kho_schema_migrate(s, err);
    if (rc != 0) {
        kho_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

int kho_datadir_shipped(const char *sub, char *out, size_t outsz, kho_err_t *err)
{
    const char *env = getenv("KHO_SHARE");
    if (env && *env) {
        snprintf(out, outsz, "%s/%s", env, sub);
        if (is_dir(out))
            return 0;
        return kho_err_set(err, KHO_ENOTFOUND, "KHO_SHARE is set but %s is not a directory", out);
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        const char *rel[] = {"../../data", "../share/kho"};
        for (size_t i = 0; i < 2; i++) {
            snprintf(out, outsz, "%s/%s/%s", exe, rel[i], sub);
            if (is_dir(out))
                return 0;
        }
    }
    snprintf(out, outsz, "data/%s", sub);
    if (is_dir(out))
        return 0;
    return kho_err_set(err, KHO_ENOTFOUND,
                       "cannot find kho's shipped data folder '%s' (looked beside the binary and in ./data; set "
                       "KHO_SHARE)",
                       sub);
}
