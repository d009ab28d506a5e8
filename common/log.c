/*
 * Log lines for fpmd and fpmctl.  Each line is built whole in a buffer and
 * written with one write(), so lines from several processes sharing the fd
 * do not interleave (up to PIPE_BUF on pipes; whole lines on files opened
 * with O_APPEND).
 *
 * Two forms: php-fpm's text lines, or (log_format = json) one JSON object
 * per message for log shippers: {"time", "level", "pool", "pid",
 * "message"}, a message of several lines staying one object.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum log_level	 log_level = LOG_LVL_NOTICE;
static int		 log_fd = 2;
static char		 log_prefix_text[160];
static volatile uint64_t *log_drops;
static char		*log_path;	/* NULL: standard error */
static bool		 log_json;
static char		 log_pool[64];	/* JSON: the pool a child serves */
static int		 log_pid;	/* JSON: a worker's own pid */

static const char *const level_names[] = {
	"DEBUG", "NOTICE", "WARNING", "ERROR", "ALERT"
};

void
log_init(enum log_level level, int fd)
{
	log_level = level;
	log_fd = fd;
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

int
log_get_fd(void)
{
	return log_fd;
}

void
log_set_fd(int fd)
{
	log_fd = fd;
}

/*
 * Children write to a non-blocking socket: a line that finds it full is
 * dropped rather than stalling a request, and counted here.
 */
void
log_set_drop_counter(volatile uint64_t *counter)
{
	log_drops = counter;
}

void
log_set_prefix(const char *prefix)
{
	snprintf(log_prefix_text, sizeof(log_prefix_text), "%s",
	    prefix ? prefix : "");
}

const char *
log_level_name(enum log_level level)
{
	if ((unsigned)level > LOG_LVL_ALERT)
		return "?";
	return level_names[level];
}

int
log_level_parse(const char *name, enum log_level *level)
{
	static const struct {
		const char	*name;
		enum log_level	 level;
	} names[] = {
		{ "debug", LOG_LVL_DEBUG },
		{ "notice", LOG_LVL_NOTICE },
		{ "warning", LOG_LVL_WARNING },
		{ "warn", LOG_LVL_WARNING },
		{ "error", LOG_LVL_ERROR },
		{ "alert", LOG_LVL_ALERT },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(name, names[i].name) == 0) {
			*level = names[i].level;
			return 0;
		}
	}
	return -1;
}

static size_t
log_prefix(char *buf, size_t cap, enum log_level level, const char *text)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, cap, "[%d-%b-%Y %H:%M:%S", &tm);
	if (log_level == LOG_LVL_DEBUG)
		n += snprintf(buf + n, cap - n, ".%06ld", ts.tv_nsec / 1000);
	n += snprintf(buf + n, cap - n, "] %s: %s", log_level_name(level),
	    text);
	if (n >= cap)
		n = cap - 1;
	return n;
}

static void
log_write_all(const char *buf, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = write(log_fd, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN && log_drops != NULL)
				__atomic_add_fetch(log_drops, 1,
				    __ATOMIC_RELAXED);
			return;
		}
		buf += w;
		len -= (size_t)w;
	}
}

void
log_set_json(bool json)
{
	log_json = json;
}

/* Who speaks, for JSON records: a pool's prototype (pid 0) or worker. */
void
log_set_origin(const char *pool, int pid)
{
	snprintf(log_pool, sizeof(log_pool), "%s", pool != NULL ? pool : "");
	log_pid = pid;
}

/* s as the inside of a JSON string; returns the bytes written. */
static size_t
log_json_str(char *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t n = 0, i;

	for (i = 0; i < len; i++) {
		switch (u[i]) {
		case '"':
		case '\\':
			out[n++] = '\\';
			out[n++] = (char)u[i];
			break;
		case '\n':
			out[n++] = '\\';
			out[n++] = 'n';
			break;
		case '\t':
			out[n++] = '\\';
			out[n++] = 't';
			break;
		default:
			if (u[i] < 0x20 || u[i] == 0x7f || u[i] >= 0x80) {
				/* bytes, not text: \u00XX keeps it valid JSON */
				memcpy(out + n, "\\u00", 4);
				out[n + 4] = hex[u[i] >> 4];
				out[n + 5] = hex[u[i] & 15];
				n += 6;
			} else
				out[n++] = (char)u[i];
		}
	}
	return n;
}

/* One JSON record: {"time":…,"level":…,"pool":…,"pid":…,"message":…}. */
void
log_emit(enum log_level level, const char *pool, int pid, const char *msg,
    size_t len)
{
	char stackbuf[4096], *buf = stackbuf, when[40];
	struct timespec ts;
	struct tm tm;
	size_t need, n;
	int saved = errno;

	if (level < log_level)
		return;
	while (len > 0 && msg[len - 1] == '\n')
		len--;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + n, sizeof(when) - n, ".%06ld", ts.tv_nsec / 1000);
	n = strlen(when);
	strftime(when + n, sizeof(when) - n, "%z", &tm);
	need = 128 + sizeof(when) + 6 * (sizeof(log_pool) + len);
	if (need > sizeof(stackbuf) && (buf = malloc(need)) == NULL) {
		buf = stackbuf;
		len = (sizeof(stackbuf) - 128 - sizeof(when)) / 6 -
		    sizeof(log_pool);
	}
	n = (size_t)snprintf(buf, 128 + sizeof(when),
	    "{\"time\":\"%s\",\"level\":\"%s\"", when,
	    log_level_name(level));
	if (pool != NULL && *pool != '\0') {
		memcpy(buf + n, ",\"pool\":\"", 9);
		n += 9;
		n += log_json_str(buf + n, pool, strlen(pool));
		buf[n++] = '"';
	}
	n += (size_t)snprintf(buf + n, 32, ",\"pid\":%d,\"message\":\"",
	    pid > 0 ? pid : (int)getpid());
	n += log_json_str(buf + n, msg, len);
	memcpy(buf + n, "\"}\n", 3);
	n += 3;
	log_write_all(buf, n);
	if (buf != stackbuf)
		free(buf);
	errno = saved;
}

/*
 * Every line of a message gets the prefix, so that a stack trace or a list
 * of errors reads as lines of the log, not as loose text; the whole
 * message still goes out in one write.
 */
static void
log_out(enum log_level level, const char *text, const char *msg, size_t len)
{
	char stackbuf[4096], pfx[256], *buf = stackbuf;
	const char *p, *end = msg + len, *nl;
	size_t n = 0, plen, lines = 1, need;
	int saved = errno;

	if (level < log_level)
		return;
	if (log_json) {
		log_emit(level, log_pool, log_pid, msg, len);
		return;
	}
	while (len > 0 && msg[len - 1] == '\n')
		end = msg + --len;
	for (p = msg; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		lines++;
	plen = log_prefix(pfx, sizeof(pfx), level, text);
	need = lines * (plen + 1) + len;
	if (need > sizeof(stackbuf) && (buf = malloc(need)) == NULL) {
		/* out of memory: as much as fits, still whole lines */
		buf = stackbuf;
		need = sizeof(stackbuf);
	}
	for (p = msg; p <= end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (n + plen + (size_t)(nl - p) + 1 > need) {
			if (n > 0)
				break;
			nl = p + (need - plen - 1);	/* cut: no room */
		}
		memcpy(buf + n, pfx, plen);
		n += plen;
		memcpy(buf + n, p, (size_t)(nl - p));
		n += (size_t)(nl - p);
		buf[n++] = '\n';
		if (nl == end)
			break;
	}
	log_write_all(buf, n);
	if (buf != stackbuf)
		free(buf);
	errno = saved;
}

void
log_raw(enum log_level level, const char *msg, size_t len)
{
	log_out(level, log_prefix_text, msg, len);
}

/*
 * The log goes to path (NULL or "stderr": standard error), opened for
 * appending; the file it had is closed once the new one is open.  On
 * failure the log stays where it was.
 */
int
log_reopen(const char *path)
{
	int fd = 2;

	if (path != NULL && strcmp(path, "stderr") != 0 &&
	    (fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640)) == -1) {
		log_error("cannot open error_log '%s'", path);
		return -1;
	}
	if (log_fd != 2 && log_fd != fd)
		close(log_fd);
	log_fd = fd;
	free(log_path);
	log_path = fd != 2 ? strdup(path) : NULL;
	return 0;
}

/* The file the log goes to now, NULL for standard error. */
const char *
log_get_path(void)
{
	return log_path;
}

static void
log_format(enum log_level level, const char *text, int errnum,
    const char *fmt, va_list ap)
{
	char buf[8192];
	int n;

	if (level < log_level)
		return;
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	if (errnum != 0)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s (%d)",
		    strerror(errnum), errnum);
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	log_out(level, text, buf, (size_t)n);
}

void
log_vmsg(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	log_format(level, log_prefix_text, errnum, fmt, ap);
}

/*
 * Without the prefix: for a line about a child that names the child
 * itself, as php-fpm's master writes it ("[pool www] child 12, ...").
 */
void
log_bare(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	log_format(level, "", 0, fmt, ap);
	va_end(ap);
	errno = e;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, 0, fmt, ap);
	va_end(ap);
}

#define LOG_FN(name, level, witherr)				\
void								\
name(const char *fmt, ...)					\
{								\
	va_list ap;						\
	int e = errno;						\
								\
	va_start(ap, fmt);					\
	log_vmsg(level, (witherr) ? e : 0, fmt, ap);		\
	va_end(ap);						\
	errno = e;						\
}

LOG_FN(log_debug, LOG_LVL_DEBUG, 0)
LOG_FN(log_notice, LOG_LVL_NOTICE, 0)
LOG_FN(log_warnx, LOG_LVL_WARNING, 0)
LOG_FN(log_warn, LOG_LVL_WARNING, 1)
LOG_FN(log_errorx, LOG_LVL_ERROR, 0)
LOG_FN(log_error, LOG_LVL_ERROR, 1)

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ALERT, 0, fmt, ap);
	va_end(ap);
	exit(70);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ALERT, e, fmt, ap);
	va_end(ap);
	exit(70);
}
