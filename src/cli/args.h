/*
 * args — command-line option parsing for kho's commands.
 *
 * Options may come in any order, before or after positional arguments, as
 * "--name value" or "--name=value"; "--" ends the options. Each command lists
 * the options it accepts; anything else is a usage error naming the option.
 * The parsed values point into argv (borrowed).
 */
#ifndef KHO_CLI_ARGS_H
#define KHO_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

typedef struct kho_optspec {
    const char *name; /* without the leading "--" */
    bool value;       /* takes a value */
    bool repeat;      /* may be given more than once */
} kho_optspec_t;

#define KHO_ARGS_MAX 64

typedef struct kho_args {
    const char *pos[KHO_ARGS_MAX];
    size_t npos;
    const char *name[KHO_ARGS_MAX];
    const char *value[KHO_ARGS_MAX]; /* "" for flags */
    size_t nopts;
} kho_args_t;

/* Parse argv[0..argc) against the specs (terminated by a {NULL} entry). */
int kho_args_parse(int argc, char **argv, const kho_optspec_t *specs, kho_args_t *out, kho_err_t *err) KHO_WUR;
/* Value of an option (the last one given), or NULL. */
const char *kho_args_get(const kho_args_t *a, const char *name);
bool kho_args_flag(const kho_args_t *a, const char *name);
/* All values of a repeatable option, in order; returns the count. */
size_t kho_args_all(const kho_args_t *a, const char *name, const char **vals, size_t max);

#endif
