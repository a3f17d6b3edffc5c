/*
 * config — kho's settings: built-in defaults, the data directory's kho.conf, and
 * environment variables, each overriding the one before.
 *
 * kho.conf holds "key = value" lines; '#' at the start of a line or after white
 * space starts a comment (so "#N/A" in a value survives); blank lines are ignored. Every key is documented in the table in config.c (printed by
 * `kho help config` and written, commented out, into a new kho.conf by
 * `kho init`). An unknown key in the file is an error, so typos do not pass
 * silently. The environment variable of key `max_body_mb` is KHO_MAX_BODY_MB.
 *
 * A kho_config_t is immutable after loading and may be shared between threads.
 */
#ifndef KHO_CORE_CONFIG_H
#define KHO_CORE_CONFIG_H

#include <stdio.h>

#include "core/err.h"

typedef struct kho_config kho_config_t;

/* Load settings for the data directory `datadir` (its kho.conf may be absent).
 * On success *out is a new config the caller frees with kho_config_free(). */
int kho_config_load(const char *datadir, kho_config_t **out, kho_err_t *err) KHO_WUR;
/* The built-in defaults only (no file, no environment). */
kho_config_t *kho_config_defaults(void);
void kho_config_free(kho_config_t *cfg);

/* Value of a key (borrowed, never NULL for a documented key). Asking for an
 * undocumented key is a programming error (assert). */
const char *kho_config_str(const kho_config_t *cfg, const char *key);
long long kho_config_int(const kho_config_t *cfg, const char *key);
double kho_config_num(const kho_config_t *cfg, const char *key);
/* Where the value came from: "default", "kho.conf:LINE" or "environment". */
const char *kho_config_origin(const kho_config_t *cfg, const char *key);
/* Override a value in memory (used by command-line options such as --listen);
 * KHO_EINVAL when the value does not suit the key. */
int kho_config_set(kho_config_t *cfg, const char *key, const char *value, kho_err_t *err) KHO_WUR;

/* Write the documented keys with their defaults, as comments, to f. */
void kho_config_write_template(FILE *f);
/* Print the documentation table (key, default, environment variable, meaning). */
void kho_config_print_help(FILE *f);

#endif
