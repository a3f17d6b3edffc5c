/* cli — command table, help and exit codes (see cli.h). */
#include "cli/cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/indicators/indicators.h"
#include "cli/cmd_data.h"
#include "cli/cmd_assistant.h"
#include "cli/cmd_trace.h"
#include "cli/cmd_indicators.h"
#include "cli/cmd_security.h"
#include "cli/cmd_serve.h"
#include "cli/cmd_units.h"
#include "core/log.h"
#include "warehouse/ingest.h"

#define GLOBAL_OPTS {"data", true, false}, {"help", false, false}, {"h", false, false}

typedef struct command {
    const char *name;
    const char *usage;
    const char *help;
    kho_optspec_t opts[32];
    int (*run)(kho_cmdctx_t *ctx, kho_err_t *err);
    bool no_settings; /* runs without reading kho.conf (help must work with a broken one) */
} command_t;

static int cmd_version(kho_cmdctx_t *ctx, kho_err_t *err);
static int cmd_help(kho_cmdctx_t *ctx, kho_err_t *err);

static const command_t COMMANDS[] = {
    {"init", "kho init [--demo] [--units DIR] [--reload-units]",
     "Create the data directory (kho.db, kho.conf), apply schema migrations, load Vietnam's administrative\n"
     "units (2025 and pre-2025 lists, conversion table) and, with --demo, the demo datasets. Safe to run\n"
     "again: what is already there is kept. --units reads the unit files from DIR instead of the shipped\n"
     "ones; --reload-units loads them even when unchanged.",
     {{"demo", false, false}, {"units", true, false}, {"reload-units", false, false}, GLOBAL_OPTS, {0}},
     kho_cmd_init, false},
    {"serve", "kho serve [--listen ADDR:PORT] [--threads N] [--workers N] [--tls-cert PEM --tls-key PEM]",
     "Serve the HTTP API (see docs/api.md) until SIGINT or SIGTERM, then finish requests in flight and close\n"
     "the database cleanly. Defaults come from kho.conf (listen = 127.0.0.1:8080). With --tls-cert and\n"
     "--tls-key (PEM files) it serves HTTPS only (TLS 1.2+; session cookies get Secure, responses HSTS).",
     {{"listen", true, false}, {"threads", true, false}, {"workers", true, false}, {"tls-cert", true, false},
      {"tls-key", true, false}, GLOBAL_OPTS, {0}},
     kho_cmd_serve, false},
    {"import",
     "kho import FILE --dataset ID [--title T] [--org ORG] [--format csv|json|ndjson] [--type COL=TYPE ...] "
     "[--strict]",
     "Load FILE (or - for standard input) as a new version of dataset ID, creating the dataset if needed.\n"
     "Metadata: --title --description --publisher --licence --org ORG [--org-name NAME] --tag T (repeat)\n"
     "  --sharing open|shared|private --importance core|important|other --synthetic\n"
     "  --temporal START[/END] (2020, 2020-07, 2020-07-01) --spatial CODES (unit codes: 33 or 12031,12034)\n"
     "Reading: --format csv|json|ndjson (default: detect) --delimiter ,|;|tab --decimal auto|comma|dot\n"
     "  --null-marks '-|..|N/A' --type COL=TYPE (TYPE: integer real boolean date datetime text\n"
     "  commune_code province_code) --strict (refuse the file if any row is rejected)\n"
     "  --reject-threshold 0.10 (refuse the file when a larger share of rows is rejected)\n"
     "Personal data: --column-tags COL=TAGS (repeat; TAGS: personal, sensitive, pii:id_number|phone|name|dob|\n"
     "  email|address, or none to turn detection off). Columns whose header or values look personal are\n"
     "  tagged by themselves; sensitive columns, and personal ones of core/important datasets, are encrypted.\n"
     "Rows with the wrong number of fields or a value that breaks a declared type are left out and listed\n"
     "in the quality report; damaged files (bad UTF-8, unterminated quotes, not CSV/JSON) are refused whole.",
     {{"dataset", true, false},     {"title", true, false},       {"description", true, false},
      {"publisher", true, false},   {"licence", true, false},     {"org", true, false},
      {"org-name", true, false},    {"tag", true, true},          {"sharing", true, false},
      {"importance", true, false},  {"synthetic", false, false},  {"format", true, false},
      {"temporal", true, false},    {"spatial", true, false},
      {"delimiter", true, false},   {"type", true, true},         {"strict", false, false},
      {"decimal", true, false},     {"null-marks", true, false},  {"reject-threshold", true, false},
      {"column-tags", true, true},  GLOBAL_OPTS,                  {0}},
     kho_cmd_import, false},
    {"datasets", "kho datasets [--q WORDS] [--org ORG] [--json]",
     "List the datasets (id, current version, rows, sharing scope, title). --q matches words in the title,\n"
     "description, tags and organisation, with or without diacritics.",
     {{"q", true, false}, {"org", true, false}, {"json", false, false}, GLOBAL_OPTS, {0}},
     kho_cmd_datasets, false},
    {"show", "kho show ID [--version N] [--json]",
     "Show a dataset: metadata, columns with types and tags, row count, versions and the quality report of\n"
     "the current version (or of version N).",
     {{"version", true, false}, {"json", false, false}, GLOBAL_OPTS, {0}},
     kho_cmd_show, false},
    {"export", "kho export ID [--version N] --format csv|json|ndjson [--output FILE] [--pii]",
     "Write every row of the current version (or version N) to standard output or FILE. Personal columns are\n"
     "masked unless --pii is given; exports of private, core, important or personal data are audited.",
     {{"version", true, false}, {"format", true, false}, {"output", true, false}, {"pii", false, false}, GLOBAL_OPTS,
      {0}},
     kho_cmd_export, false},
    {"user", "kho user add NAME --role ROLE [--org ORG] | list [--json] | passwd NAME | disable NAME | enable NAME",
     "Manage accounts. Roles: admin, steward (publishes for its --org), analyst, leader, partner (an outside\n"
     "organisation, reads what it is granted). The password is asked twice at a terminal, or read as one line\n"
     "from standard input; never from the command line. At least 10 characters. 'passwd' and 'disable' end the\n"
     "account's sessions at once; 'disable' also stops its API keys.",
     {{"role", true, false}, {"org", true, false}, {"json", false, false}, GLOBAL_OPTS, {0}},
     kho_cmd_user, false},
    {"key", "kho key create --user NAME --scopes S[,S] [--expires DATE|Nd] [--name LABEL] | list [--user NAME] | "
            "revoke ID",
     "Manage API keys. Scopes: datasets:read datasets:write pii:read audit:read users:admin (at most the\n"
     "account's role allows). A key expires after key_default_days (90) unless --expires says otherwise (at\n"
     "most key_max_days). The key is printed once on standard output; kho keeps only its SHA-256. Revoking\n"
     "takes effect with the next request.",
     {{"user", true, false}, {"scopes", true, false}, {"expires", true, false}, {"name", true, false},
      {"json", false, false}, GLOBAL_OPTS, {0}},
     kho_cmd_key, false},
    {"keys", "kho keys rotate [--data-key]",
     "Re-wrap every field-encryption data key under a new master key (DATA/keys/master.key), without\n"
     "stopping kho serve. --data-key also starts a new data key for values written from now on.",
     {{"data-key", false, false}, GLOBAL_OPTS, {0}}, kho_cmd_keys, false},
    {"grant", "kho grant add DATASET user:NAME|org:ORG [--pii] | remove DATASET GRANTEE | list [DATASET]",
     "Named grants: who may read a private dataset (or a shared one, for partners). --pii lets a grantee\n"
     "holding the pii:read scope see personal columns unmasked.",
     {{"pii", false, false}, {"json", false, false}, GLOBAL_OPTS, {0}}, kho_cmd_grant, false},
    {"classify", "kho classify ID [--sharing open|shared|private] [--importance core|important|other]",
     "Change a dataset's classification under the Data Law: sharing scope and importance.",
     {{"sharing", true, false}, {"importance", true, false}, GLOBAL_OPTS, {0}}, kho_cmd_classify, false},
    {"audit", "kho audit verify | show [--from N] [--limit N] | checkpoint | key",
     "The tamper-evident audit log (DATA/audit.db). 'verify' recomputes the Merkle tree from the entries and\n"
     "checks every signed checkpoint: it names each altered, removed, inserted or reordered entry and exits\n"
     "with 9 when it finds any. 'show' prints entries, 'checkpoint' signs and prints a checkpoint, 'key'\n"
     "prints the verifier key.",
     {{"from", true, false}, {"limit", true, false}, GLOBAL_OPTS, {0}}, kho_cmd_audit, false},
    {"backup", "kho backup DEST [--with-keys]",
     "Write a consistent copy of the database and the audit log (SQLite online backup: kho serve may keep\n"
     "running) with kho.conf and a MANIFEST.json of SHA-256 sums into the new directory DEST. The key files\n"
     "are copied only with --with-keys: keep them apart from the data they protect (docs/security.md).",
     {{"with-keys", false, false}, GLOBAL_OPTS, {0}}, kho_cmd_backup, false},
    {"restore", "kho restore SRC [--force]",
     "Restore a backup made by kho backup into the data directory, after checking every file against the\n"
     "manifest. A data directory that has a database needs --force (stop kho serve first); its files are\n"
     "moved to DATA/pre-restore-TIME/. Key files come from the backup when it has them; otherwise the ones\n"
     "in DATA/keys/ are kept.",
     {{"force", false, false}, GLOBAL_OPTS, {0}}, kho_cmd_restore, false},
    {"indicators", "kho indicators [catalogue FILE | source DATASET MAPPING | weights FILE | targets FILE | rebuild] [--json]",
     "Socio-economic indicators (docs/indicators.md). Without a subcommand: the catalogue with its coverage.\n"
     "  catalogue FILE   load indicators, sources and targets from a JSON file, then rebuild\n"
     "  source DATASET MAPPING   declare a dataset a source of reports; MAPPING is JSON:\n"
     "                   {\"form\":\"long\",\"indicator\":COL,\"unit\":COL,\"period\":COL,\"value\":COL} or\n"
     "                   {\"form\":\"wide\",\"unit\":COL,\"period\":COL,\"values\":{\"INDICATOR\":COL}}\n"
     "  weights FILE     shares of communes split in the 2025 reform (old_code,new_code,weight[,basis]), then rebuild\n"
     "  targets FILE     targets (indicator,unit_code,period,value[,direction][,note])\n"
     "  rebuild          recompute every value: conversion to today's communes, province and old-district\n"
     "                   totals, ratios and rates. Uploads to a source dataset rebuild by themselves.",
     {{"json", false, false}, GLOBAL_OPTS, {0}},
     kho_cmd_indicators, false},
    {"ask", "kho ask \"QUESTION\" [--json]",
     "Ask the virtual assistant a question in Vietnamese (docs/assistant.md), as the operator: every\n"
     "indicator is visible. Prints the answer (--json: the whole answer of GET /api/v1/ask).",
     {{"json", false, false}, GLOBAL_OPTS, {0}}, kho_cmd_ask, false},
    {"assistant", "kho assistant synonyms FILE",
     "The assistant's extra words: FILE is a CSV term,kind,code (kind indicator or unit) that replaces the\n"
     "words loaded before, e.g. \"dân cư,indicator,dan_so\" or \"Phố Hiến cổ,unit,11953\". One transaction:\n"
     "a file with a problem (named by line) loads nothing. Servers pick the words up at once.",
     {GLOBAL_OPTS, {0}}, kho_cmd_assistant, false},
    {"trace", "kho trace verify | capture FILE | import KIND FILE | qr --gtin G [--lot L] --out FILE | esg",
     "The traceability ledger (docs/trace.md). verify: check every stored event against the transparency\n"
     "log and its signed checkpoints (exit 7 when an event was altered or removed). capture FILE: an EPCIS\n"
     "2.0 JSON document, accepted whole or refused whole. import KIND FILE: master data, KIND farms,\n"
     "products, locations or partners (CSV, JSON list or NDJSON). qr: the GS1 Digital Link QR code of a\n"
     "lot or item on public_url (--format png|svg, --size N pixels per module, --out FILE). esg: recompute\n"
     "the traceability indicators per commune and year (traced volumes, VietGAP area) from the events.",
     {{"gtin", true, false}, {"lot", true, false}, {"serial", true, false}, {"format", true, false},
      {"size", true, false}, {"out", true, false}, GLOBAL_OPTS, {0}},
     kho_cmd_trace, false},
    {"units", "kho units [QUERY | show CODE | gaps] [--province 33] [--type xã] [--level L] [--era E] [--json]",
     "Search the administrative units by name (with or without diacritics) or code; 'show CODE' gives a\n"
     "unit with its province and its predecessors (a 2025 unit) or successors (a pre-2025 unit); 'gaps'\n"
     "lists what the official source lists are missing. --era current|old|all (default current),\n"
     "--level province|district|commune, --limit N (default 20).",
     {{"province", true, false},
      {"type", true, false},
      {"level", true, false},
      {"era", true, false},
      {"limit", true, false},
      {"json", false, false},
      GLOBAL_OPTS,
      {0}},
     kho_cmd_units, false},
    {"version", "kho version", "Print kho's version.", {GLOBAL_OPTS, {0}}, cmd_version, true},
    {"help", "kho help [COMMAND | config]",
     "Show the commands, one command's help, or the settings ('kho help config').", {GLOBAL_OPTS, {0}}, cmd_help,
     true},
};

#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static const command_t *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(COMMANDS[i].name, name) == 0)
            return &COMMANDS[i];
    return NULL;
}

static void print_overview(FILE *f)
{
    fprintf(f, "kho %s — provincial data platform (kho dữ liệu dùng chung)\n\nCommands:\n", KHO_VERSION);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %s\n", COMMANDS[i].usage);
    fprintf(f, "\nEvery command takes --data DIR (default $KHO_DATA or ./var). 'kho help COMMAND' for details,\n"
               "'kho help config' for settings. Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 invalid\n"
               "input, 5 refused by quality checks, 6 busy, 7 conflict, 8 not allowed, 9 tampered.\n");
}

static void print_command_help(const command_t *c, FILE *f)
{
    fprintf(f, "usage: %s [--data DIR]\n\n%s\n", c->usage, c->help);
}

static int cmd_version(kho_cmdctx_t *ctx, kho_err_t *err)
{
    (void)ctx;
    (void)err;
    printf("kho %s\n", KHO_VERSION);
    return 0;
}

static int cmd_help(kho_cmdctx_t *ctx, kho_err_t *err)
{
    if (ctx->args->npos == 0) {
        print_overview(stdout);
        return 0;
    }
    const char *topic = ctx->args->pos[0];
    if (strcmp(topic, "config") == 0) {
        kho_config_print_help(stdout);
        return 0;
    }
    const command_t *c = find_command(topic);
    if (!c)
        return kho_err_set(err, KHO_EUSAGE, "no command '%s' (see 'kho help')", topic);
    print_command_help(c, stdout);
    return 0;
}

int kho_cli_exit_code(int code)
{
    switch (code) {
    case KHO_OK: return 0;
    case KHO_EUSAGE: return 2;
    case KHO_ENOTFOUND: return 3;
    case KHO_EINVAL:
    case KHO_EMEDIA:
    case KHO_ETOOLARGE: return 4;
    case KHO_EREJECTED: return 5;
    case KHO_EBUSY: return 6;
    case KHO_ECONFLICT: return 7;
    case KHO_EFORBIDDEN:
    case KHO_EUNAUTH: return 8;
    case KHO_ETAMPER: return 9;
    default: return 1;
    }
}

int kho_cli_main(int argc, char **argv)
{
    kho_ingest_set_hook(kho_ind_ingest_hook); /* indicator sources are checked inside every import */
    if (argc < 2) {
        print_overview(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        name = "help";
    else if (strcmp(name, "--version") == 0)
        name = "version";
    const command_t *c = find_command(name);
    if (!c) {
        fprintf(stderr, "kho: unknown command '%s' (see 'kho help')\n", argv[1]);
        return 2;
    }
    kho_args_t args;
    kho_err_t err;
    kho_err_clear(&err);
    if (kho_args_parse(argc - 2, argv + 2, c->opts, &args, &err) != 0) {
        fprintf(stderr, "kho %s: %s\nusage: %s\n", c->name, err.msg, c->usage);
        return 2;
    }
    if (kho_args_flag(&args, "help") || kho_args_flag(&args, "h")) {
        print_command_help(c, stdout);
        return 0;
    }
    const char *datadir = kho_args_get(&args, "data");
    if (!datadir || !*datadir)
        datadir = getenv("KHO_DATA") && *getenv("KHO_DATA") ? getenv("KHO_DATA") : "var";
    kho_config_t *cfg = NULL;
    int rc = 0;
    if (c->no_settings)
        cfg = kho_config_defaults();
    else
        rc = kho_config_load(datadir, &cfg, &err);
    if (rc == 0) {
        int lvl = kho_log_parse_level(kho_config_str(cfg, "log_level"));
        if (lvl < 0)
            rc = kho_err_set(&err, KHO_EINVAL, "log_level must be debug, info, warn, error or off");
        else
            kho_log_set_level((kho_log_level_t)lvl);
    }
    if (rc == 0) {
        kho_cmdctx_t ctx = {.datadir = datadir, .cfg = cfg, .args = &args};
        rc = c->run(&ctx, &err);
    }
    kho_config_free(cfg);
    if (rc != 0) {
        fprintf(stderr, "kho %s: %s\n", c->name, err.msg);
        if (rc == KHO_EUSAGE)
            fprintf(stderr, "usage: %s\n", c->usage);
    }
    return kho_cli_exit_code(rc);
}
