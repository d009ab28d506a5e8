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
static size_t		 log_limit;	/* bytes of a line, '\n' included;
					   0: no limit */
static void		(*log_sink)(enum log_level, const char *, size_t);
static const char	*log_sink_name;
static bool		 log_launched;	/* with a sink: stderr no more */
/* lines the log's file or stderr did not take (a full disk), not yet told */
static uint64_t		 log_failed;
static int		 log_failed_errno;
static bool		 log_partial;	/* a line was cut: start a new one */

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

/* log_limit: longer lines are split into several, each with the prefix. */
void
log_set_limit(size_t limit)
{
	log_limit = limit;
}

/*
 * Text lines go to sink (syslog) instead of the descriptor, one call per
 * line, "[LEVEL] text" without date; NULL: back to the descriptor.  name
 * is what log_get_path() says then.
 */
void
log_set_sink(void (*sink)(enum log_level, const char *, size_t),
    const char *name)
{
	log_sink = sink;
	log_sink_name = name;
}

/* Start-up is over: a sink no longer copies its lines to stderr. */
void
log_set_launched(void)
{
	log_launched = true;
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
	bool some = false;

	/* the end of a line cut by a failed write must not join this one */
	if (log_partial && write(log_fd, "\n", 1) == 1)
		log_partial = false;
	while (len > 0) {
		w = write(log_fd, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (log_drops != NULL) {
				if (errno == EAGAIN)
					__atomic_add_fetch(log_drops, 1,
					    __ATOMIC_RELAXED);
			} else {
				log_failed++;
				log_failed_errno = errno;
				log_partial = some;
			}
			return;
		}
		some = true;
		buf += w;
		len -= (size_t)w;
	}
}

/*
 * The master, once a second: lines its log lost since it last said so (a
 * full disk) are said once a line gets through again.  The saying itself,
 * if lost, is not counted: it is tried again next time.
 */
void
log_report_failures(void)
{
	uint64_t n = log_failed, before;
	int err = log_failed_errno;

	if (n == 0)
		return;
	before = log_failed;
	log_msg(LOG_LVL_WARNING, "%llu log line%s could not be written (%s)",
	    (unsigned long long)n, n == 1 ? "" : "s", strerror(err));
	if (log_failed == before)
		log_failed = 0;
	else
		log_failed = before;
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
 * The next piece of a line: at most room bytes, and not ending inside a
 * UTF-8 character when it can help it.
 */
static size_t
log_piece(const char *p, size_t left, size_t room)
{
	size_t n = left < room ? left : room, k;

	if (n == left)
		return n;
	for (k = n; k > n - 4 && k > 1 &&
	    ((unsigned char)p[k] & 0xc0) == 0x80; k--)
		;
	return ((unsigned char)p[k] & 0xc0) == 0x80 ? n : k;
}

static size_t
log_room(size_t fixed)
{
	/* log_limit >= 512 in the configuration; a prefix is far shorter */
	if (log_limit == 0 || fixed + 1 + 64 > log_limit)
		return log_limit == 0 ? SIZE_MAX : 64;
	return log_limit - fixed - 1;
}

static size_t
log_lines_size(const char *msg, size_t len, size_t fixed)
{
	const char *p = msg, *end = msg + len, *nl;
	size_t need = 0, room = log_room(fixed), n;

	for (;;) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		do {
			n = log_piece(p, (size_t)(nl - p), room);
			need += fixed + n + 1;
			p += n;
		} while (p < nl);
		if (nl == end)
			return need;
		p = nl + 1;
	}
}

/*
 * The lines of one message, each split into pieces of at most log_limit
 * bytes (newline included) that all get the prefix: a long line is
 * wrapped, never cut.  head and tail go around every piece (a worker's
 * quoted output).  Returns the bytes written to buf (cap from
 * log_lines_size()), each piece ending in '\n'.
 */
static size_t
log_lines(char *buf, size_t cap, const char *pfx, size_t plen,
    const char *head, const char *msg, size_t len, const char *tail)
{
	const char *p = msg, *end = msg + len, *nl;
	size_t hl = strlen(head), tl = strlen(tail), fixed = plen + hl + tl;
	size_t room = log_room(fixed), n, out = 0;

	for (;;) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		do {
			n = log_piece(p, (size_t)(nl - p), room);
			if (out + fixed + n + 1 > cap)
				return out;	/* no memory: whole lines */
			memcpy(buf + out, pfx, plen);
			memcpy(buf + out + plen, head, hl);
			memcpy(buf + out + plen + hl, p, n);
			memcpy(buf + out + plen + hl + n, tail, tl);
			out += fixed + n;
			buf[out++] = '\n';
			p += n;
		} while (p < nl);
		if (nl == end)
			return out;
		p = nl + 1;
	}
}

/* Each line of buf (as log_lines made it) to the sink, without '\n'. */
static void
log_to_sink(enum log_level level, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		log_sink(level, p, (size_t)(nl - p));
		p = nl + 1;
	}
}

/*
 * Every line of a message gets the prefix, so that a stack trace or a list
 * of errors reads as lines of the log, not as loose text; the whole
 * message still goes out in one write.  With a sink (syslog) each line is
 * a message of its own, "[LEVEL] text" as php-fpm sends it; until fpmd
 * is up, the lines worth a notice go to stderr as well, so that a start
 * that fails says why where the supervisor looks.
 */
static void
log_out_form(enum log_level level, bool sink, const char *text,
    const char *head, const char *msg, size_t len, const char *tail)
{
	char stackbuf[4096], pfx[256], *buf = stackbuf;
	size_t n, plen, need;

	if (sink)
		plen = (size_t)snprintf(pfx, sizeof(pfx), "[%s] %s",
		    log_level_name(level), text);
	else
		plen = log_prefix(pfx, sizeof(pfx), level, text);
	if (plen >= sizeof(pfx))
		plen = sizeof(pfx) - 1;
	need = log_lines_size(msg, len, plen + strlen(head) + strlen(tail));
	if (need > sizeof(stackbuf) && (buf = malloc(need)) == NULL) {
		/* out of memory: as much as fits, still whole lines */
		buf = stackbuf;
		need = sizeof(stackbuf);
	}
	n = log_lines(buf, need, pfx, plen, head, msg, len, tail);
	if (sink)
		log_to_sink(level, buf, n);
	else
		log_write_all(buf, n);
	if (buf != stackbuf)
		free(buf);
}

static void
log_out2(enum log_level level, const char *text, const char *head,
    const char *msg, size_t len, const char *tail)
{
	int saved = errno, fd;

	if (level < log_level)
		return;
	if (log_json) {
		log_emit(level, log_pool, log_pid, msg, len);
		return;
	}
	while (len > 0 && msg[len - 1] == '\n')
		len--;
	if (log_sink == NULL) {
		log_out_form(level, false, text, head, msg, len, tail);
		errno = saved;
		return;
	}
	log_out_form(level, true, text, head, msg, len, tail);
	if (!log_launched && level >= LOG_LVL_NOTICE) {
		fd = log_fd;
		log_fd = 2;
		log_out_form(level, false, text, head, msg, len, tail);
		log_fd = fd;
	}
	errno = saved;
}

static void
log_out(enum log_level level, const char *text, const char *msg, size_t len)
{
	log_out2(level, text, "", msg, len, "");
}

/*
 * A line of a worker's output: head and tail around each piece when it
 * is longer than log_limit, as php-fpm wraps it.
 */
void
log_wrap(enum log_level level, const char *head, const char *msg, size_t len,
    const char *tail)
{
	log_out2(level, log_prefix_text, head, msg, len, tail);
}

/*
 * Undecorated: the text alone, split at log_limit all the same.  No
 * sink: it is the worker's own text (decorate_workers_output = no).
 */
void
log_plain(const char *msg, size_t len)
{
	char stackbuf[4096], *buf = stackbuf;
	size_t need, n;

	need = log_lines_size(msg, len, 0);
	if (need > sizeof(stackbuf) && (buf = malloc(need)) == NULL) {
		buf = stackbuf;
		need = sizeof(stackbuf);
	}
	n = log_lines(buf, need, "", 0, "", msg, len, "");
	if (log_sink != NULL)
		log_to_sink(LOG_LVL_NOTICE, buf, n);
	else
		log_write_all(buf, n);
	if (buf != stackbuf)
		free(buf);
}

/*
 * Lines a child formatted (children log through the master): written as
 * they are, or, with a sink, each given to it with the level its prefix
 * names and without the date, since syslog has its own.  A line that is
 * not one of ours (raw text on a prototype's stderr) goes as a notice.
 */
void
log_relay(const char *buf, size_t len)
{
	static const char sep[] = "] ";
	const char *p = buf, *end = buf + len, *nl, *s, *c;
	char stackbuf[4096], *line;
	enum log_level level;
	size_t n, k;
	int m, fd;

	if (log_sink == NULL || log_json) {
		log_write_all(buf, len);
		return;
	}
	if (!log_launched) {
		fd = log_fd;
		log_fd = 2;
		log_write_all(buf, len);
		log_fd = fd;
	}
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		level = LOG_LVL_NOTICE;
		s = p;
		if (n > 0 && *p == '[' && (c = memmem(p, n, sep, 2)) != NULL) {
			s = c + 2;
			for (k = LOG_LVL_DEBUG; k <= LOG_LVL_ALERT; k++) {
				m = (int)strlen(level_names[k]);
				if ((size_t)(nl - s) > (size_t)m + 1 &&
				    memcmp(s, level_names[k], (size_t)m) == 0 &&
				    s[m] == ':' && s[m + 1] == ' ') {
					level = (enum log_level)k;
					s += m + 2;
					break;
				}
			}
			if (k > LOG_LVL_ALERT)
				s = p;	/* not our prefix after all */
		}
		k = (size_t)(nl - s);
		line = stackbuf;
		if (k + 16 > sizeof(stackbuf) && (line = malloc(k + 16)) ==
		    NULL) {
			line = stackbuf;
			k = sizeof(stackbuf) - 16;
		}
		m = snprintf(line, 16, "[%s] ", log_level_name(level));
		memcpy(line + m, s, k);
		log_sink(level, line, (size_t)m + k);
		if (line != stackbuf)
			free(line);
	}
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
	if (log_sink != NULL)
		return log_sink_name;
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
