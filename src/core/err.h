/*
 * err — error values.
 *
 * Functions that can fail return int: 0 on success, a negative KHO_E* code on
 * failure, and fill a caller-provided kho_err_t with a message that says what was
 * wrong and where. The few codes exist for callers that act on them; the HTTP
 * layer turns them into statuses in exactly one place (api/http.c), the CLI into
 * exit codes in one place (cli/cli.c).
 *
 * A kho_err_t is plain data (no allocation), so it can live on the stack and be
 * copied. Its message is always valid UTF-8 (bytes of a character cut by the
 * size limit, or raw bytes quoted from input, become '?'). `kind` is an optional machine-readable reason ("invalid_utf8",
 * "unknown_dataset", ...) sent to API clients as the error code; when empty, the
 * generic name of the code is used.
 */
#ifndef KHO_CORE_ERR_H
#define KHO_CORE_ERR_H

#define KHO_WUR __attribute__((warn_unused_result))

enum {
    KHO_OK = 0,
    KHO_EINVAL = -1,     /* the input is invalid: bad value, bad request, bad file */
    KHO_ENOTFOUND = -2,  /* no such dataset, version, unit ... */
    KHO_ECONFLICT = -3,  /* the request conflicts with the current state */
    KHO_EFORBIDDEN = -4, /* the caller may not do this */
    KHO_ETOOLARGE = -5,  /* a size limit was exceeded */
    KHO_EMEDIA = -6,     /* unsupported content type or format */
    KHO_EBUSY = -7,      /* temporarily unavailable (database locked, shutting down) */
    KHO_EREJECTED = -8,  /* a whole upload was refused by its quality checks */
    KHO_EIO = -9,        /* an operating-system or storage failure */
    KHO_EINTERNAL = -10, /* a bug or an unexpected state */
    KHO_EUSAGE = -11,    /* wrong command-line usage */
    KHO_EUNAUTH = -12,   /* authentication required or failed */
    KHO_ELIMIT = -13,    /* too many requests: slow down and retry later */
    KHO_ETAMPER = -14,   /* stored data failed an integrity check (audit log, encrypted value) */
    KHO_ETIMEOUT = -15,  /* a query ran past its time limit */
};

typedef struct kho_err {
    int code;
    char kind[40];
    char msg[1024];
} kho_err_t;

/* Record an error and return its code, so that `return kho_err_set(...)` reads well.
 * `err` may be NULL (the message is then dropped). */
int kho_err_set(kho_err_t *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Same with a machine-readable kind such as "invalid_utf8". */
int kho_err_setk(kho_err_t *err, int code, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Put context before an existing message: "import data.csv: <old message>". */
void kho_err_prefix(kho_err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kho_err_clear(kho_err_t *err);
/* The kind if set, else the generic name of the code ("invalid", "not_found" ...). */
const char *kho_err_kind(const kho_err_t *err);
/* Generic name of a code. */
const char *kho_err_code_name(int code);

#endif
