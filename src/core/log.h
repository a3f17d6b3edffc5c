/*
 * log — one-line log messages on stderr.
 *
 * Each message is written with a single write() so lines from several threads do
 * not interleave. Format: "2026-11-22T01:02:03.456Z LEVEL message". The level
 * threshold is process-wide (kho_log_set_level), set from the `log_level` key.
 */
#ifndef KHO_CORE_LOG_H
#define KHO_CORE_LOG_H

typedef enum { KHO_LOG_DEBUG, KHO_LOG_INFO, KHO_LOG_WARN, KHO_LOG_ERROR, KHO_LOG_OFF } kho_log_level_t;

void kho_log_set_level(kho_log_level_t level);
/* Parse "debug", "info", "warn", "error", "off"; returns -1 when unknown. */
int kho_log_parse_level(const char *s);
void kho_log(kho_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Write an already formatted line (a newline is added) regardless of level: the access log. */
void kho_log_line(const char *line, unsigned long len);

#define kho_debug(...) kho_log(KHO_LOG_DEBUG, __VA_ARGS__)
#define kho_info(...) kho_log(KHO_LOG_INFO, __VA_ARGS__)
#define kho_warn(...) kho_log(KHO_LOG_WARN, __VA_ARGS__)
#define kho_error(...) kho_log(KHO_LOG_ERROR, __VA_ARGS__)

/* Current UTC time as "YYYY-MM-DDTHH:MM:SS.mmmZ" (buf of at least 32 bytes). */
void kho_log_timestamp(char *buf, unsigned long size);

#endif
