/*
 * Logging shared by fpmd and fpmctl.  Lines look like php-fpm's so that
 * existing log parsers keep working:
 *   [26-Nov-2026 22:10:00] NOTICE: message
 * fpmd logs to stderr unless error_log names a file; the master is the only
 * process that writes the error log (children send it their lines).
 */
#ifndef FPMD_LOG_H
#define FPMD_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level {
	LOG_LVL_DEBUG = 0,
	LOG_LVL_NOTICE,
	LOG_LVL_WARNING,
	LOG_LVL_ERROR,
	LOG_LVL_ALERT
};

void	 log_init(enum log_level level, int fd);
void	 log_report_failures(void);
void	 log_set_level(enum log_level level);
enum log_level log_get_level(void);
int	 log_get_fd(void);
void	 log_set_fd(int fd);
int	 log_reopen(const char *path);
const char *log_get_path(void);
void	 log_set_drop_counter(volatile uint64_t *counter);
/* log_format = json: one JSON object per message. */
void	 log_set_json(bool json);
void	 log_set_origin(const char *pool, int pid);
/* A JSON record for pool and pid (0: this process), whatever the form. */
void	 log_emit(enum log_level level, const char *pool, int pid,
	    const char *msg, size_t len);
/* Text put after "LEVEL: " on every line (children name their pool). */
void	 log_set_prefix(const char *prefix);
int	 log_level_parse(const char *name, enum log_level *level);
const char *log_level_name(enum log_level level);

void	 log_msg(enum log_level level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 log_vmsg(enum log_level level, int errnum, const char *fmt, va_list ap)
	    __attribute__((format(printf, 3, 0)));
/* log_msg without the prefix set by log_set_prefix(). */
void	 log_bare(enum log_level level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Writes an already formatted message (any length, any bytes but NUL). */
void	 log_raw(enum log_level level, const char *msg, size_t len);

/* log_limit, syslog and worker output (see log.c). */
void	 log_set_limit(size_t limit);
void	 log_set_sink(void (*sink)(enum log_level, const char *, size_t),
	    const char *name);
void	 log_set_launched(void);
void	 log_wrap(enum log_level level, const char *head, const char *msg,
	    size_t len, const char *tail);
void	 log_plain(const char *msg, size_t len);
void	 log_relay(const char *buf, size_t len);

void	 log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn and log_error append ": strerror(errno) (errno)". */
void	 log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 log_errorx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif /* FPMD_LOG_H */
