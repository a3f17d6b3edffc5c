/* args — command-line option parsing (see args.h). */
#include "cli/args.h"

#include <string.h>

static const kho_optspec_t *find_spec(const kho_optspec_t *specs, const char *name, size_t n)
{
    for (; specs->name; specs++)
        if (strlen(specs->name) == n && strncmp(specs->name, name, n) == 0)
            return specs;
    return NULL;
}

int kho_args_parse(int argc, char **argv, const kho_optspec_t *specs, kho_args_t *out, kho_err_t *err)
{
    memset(out, 0, sizeof *out);
    bool options = true;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (options && strcmp(a, "--") == 0) {
            options = false;
            continue;
        }
        if (!options || a[0] != '-' || a[1] == '\0') { /* "-" alone is a positional (stdin) */
            if (out->npos == KHO_ARGS_MAX)
                return kho_err_set(err, KHO_EUSAGE, "too many arguments");
            out->pos[out->npos++] = a;
            continue;
        }
        if (a[1] != '-' && strcmp(a, "-h") != 0) /* only long options, and -h */
            return kho_err_set(err, KHO_EUSAGE, "unknown option '%s' (options are written --name)", a);
        const char *name = a + (a[1] == '-' ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        const kho_optspec_t *sp = find_spec(specs, name, n);
        if (!sp)
            return kho_err_set(err, KHO_EUSAGE, "unknown option '%.*s'", (int)(n + (size_t)(name - a)), a);
        const char *val = "";
        if (sp->value) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else
                return kho_err_set(err, KHO_EUSAGE, "option '--%s' needs a value", sp->name);
        } else if (eq)
            return kho_err_set(err, KHO_EUSAGE, "option '--%s' takes no value", sp->name);
        if (!sp->repeat && kho_args_get(out, sp->name))
            return kho_err_set(err, KHO_EUSAGE, "option '--%s' given twice", sp->name);
        if (out->nopts == KHO_ARGS_MAX)
            return kho_err_set(err, KHO_EUSAGE, "too many options");
        out->name[out->nopts] = sp->name;
        out->value[out->nopts++] = val;
    }
    return 0;
}

const char *kho_args_get(const kho_args_t *a, const char *name)
{
    const char *v = NULL;
    for (size_t i = 0; i < a->nopts; i++)
        if (strcmp(a->name[i], name) == 0)
            v = a->value[i];
    return v;
}

bool kho_args_flag(const kho_args_t *a, const char *name)
{
    return kho_args_get(a, name) != NULL;
}

size_t kho_args_all(const kho_args_t *a, const char *name, const char **vals, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < a->nopts && k < max; i++)
        if (strcmp(a->name[i], name) == 0)
            vals[k++] = a->value[i];
    return k;
}
