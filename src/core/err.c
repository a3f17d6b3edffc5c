/* err — error values (see err.h). */
#include "core/err.h"
#include "core/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 4, 0))) static int vset(kho_err_t *err, int code, const char *kind, const char *fmt,
                                                     va_list ap)
{
    if (!err)
        return code;
    err->code = code;
    snprintf(err->kind, sizeof err->kind, "%s", kind ? kind : "");
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    /* messages quote client input and are cut at a byte count: keep them valid
     * UTF-8, they end up in JSON */
    kho_utf8_repair(err->msg, strlen(err->msg));
    return code;
}

int kho_err_set(kho_err_t *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, code, NULL, fmt, ap);
    va_end(ap);
    return code;
}

int kho_err_setk(kho_err_t *err, int code, const char *kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, code, kind, fmt, ap);
    va_end(ap);
    return code;
}

void kho_err_prefix(kho_err_t *err, const char *fmt, ...)
{
    if (!err)
        return;
    char head[512], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    int n = snprintf(err->msg, sizeof err->msg, "%s: ", head);
    size_t used = n < 0 ? 0 : (size_t)n < sizeof err->msg ? (size_t)n : sizeof err->msg - 1;
    size_t room = sizeof err->msg - 1 - used, len = strnlen(old, sizeof old);
    memcpy(err->msg + used, old, len < room ? len : room);
    err->msg[used + (len < room ? len : room)] = '\0';
    kho_utf8_repair(err->msg, strlen(err->msg));
}

void kho_err_clear(kho_err_t *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

const char *kho_err_code_name(int code)
{
    switch (code) {
    case KHO_OK: return "ok";
    case KHO_EINVAL: return "invalid";
    case KHO_ENOTFOUND: return "not_found";
    case KHO_ECONFLICT: return "conflict";
    case KHO_EFORBIDDEN: return "forbidden";
    case KHO_ETOOLARGE: return "too_large";
    case KHO_EMEDIA: return "unsupported_media_type";
    case KHO_EBUSY: return "busy";
    case KHO_EREJECTED: return "rejected";
    case KHO_EIO: return "io_error";
    case KHO_EUSAGE: return "usage";
    case KHO_EUNAUTH: return "unauthenticated";
    case KHO_ELIMIT: return "rate_limited";
    case KHO_ETAMPER: return "tampered";
    case KHO_ETIMEOUT: return "timeout";
    default: return "internal";
    }
}

const char *kho_err_kind(const kho_err_t *err)
{
    return err->kind[0] ? err->kind : kho_err_code_name(err->code);
}
