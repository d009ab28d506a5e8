/*
 * The access log, as a worker writes it: one line per request, made with
 * access.format once the answer is out (after END_REQUEST, so the web
 * server never waits for it) and sent as one datagram to the master, which
 * writes it whole (relay.c, logwriter.c).  No worker holds the file, so a
 * reopen or a reload never needs a worker restarted.
 *
 * The values are php-fpm 8.2's: the request URI and script path as PHP
 * made them (cgi.fix_pathinfo), the params as PHP saw them, the time the
 * request was accepted, its duration and CPU from there (the worker's and
 * its reaped children's), PHP's peak memory, the status.  Where fpmd does
 * otherwise it is on purpose (docs/compatibility.md): %o reads the headers
 * the response carried, whatever wrote them and whatever the case of their
 * name; a value's control bytes are written as \xHH, so a request is one
 * line; a line may be ACCLOG_LINE_MAX bytes long, not 1024.
 *
 * Sending never holds a worker for long.  The socket is non-blocking and
 * its buffer takes a few thousand lines; the master reads it in its event
 * loop and queues what it read for its writer thread, so a slow disk
 * costs a worker nothing (the master's queue fills, and what does not fit
 * there is counted against the file).  Only when the master itself falls
 * behind does the buffer fill: the worker then waits up to ACCLOG_WAIT_MS
 * for room, drops the line and counts it (access_log_lines_dropped in
 * fpmctl status), and waits no more for ACCLOG_QUIET_MS, so a master
 * stuck for long costs each worker 50 ms a second at most.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "fpmd.h"

#define ACCLOG_LINE_MAX	16384	/* bytes of a line, its newline included */
#define ACCLOG_WAIT_MS	50	/* the longest wait for room for a line */
#define ACCLOG_QUIET_MS	1000	/* after a drop: no wait for this long */
#define ACCLOG_TIME	"%d/%b/%Y:%H:%M:%S %z"	/* %t and %T */

static struct {
	int			 fd;		/* -1: no access log */
	struct acc_fmt		 fmt;
	const struct pool_conf	*pc;
	pid_t			 pid;
	pid_t			 master;
	volatile uint64_t	*dropped;
	/* a param as PHP saw it (%e): sapi.c's, handed over by worker.c */
	const char		*(*env)(const struct fpmd_req *, const char *,
				    size_t);
	int64_t			 quiet_until;	/* monotonic ms */
	bool			 cut_told;
	char			 line[ACCLOG_LINE_MAX];
} al = { .fd = -1 };

/* The line being made: never more than cap bytes. */
struct acc_buf {
	char		*p;
	size_t		 len;
	size_t		 cap;
	bool		 cut;
};

/* What a line says of a request, gathered once. */
struct acc_req {
	const char	*method;	/* "" if none */
	const char	*uri;
	const char	*query;
	const char	*script;	/* NULL: none */
	const char	*remote;	/* NULL: a unix socket */
	const char	*user;		/* NULL: none */
	long long	 length;
	int		 status;
	uint64_t	 duration_us;
	double		 cpu_user;	/* percent of the duration */
	double		 cpu_sys;
	uint64_t	 memory;
	struct timespec	 start;		/* accepted, REALTIME */
	struct timespec	 now;
	char		 remote_buf[INET6_ADDRSTRLEN];
	char		 user_buf[256];
};

static int64_t
acc_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
accesslog_init(const struct proto_args *pa, struct fpmd_req *r,
    const char *(*env)(const struct fpmd_req *, const char *, size_t))
{
	const struct pool_conf *pc = pa->pc;
	char err[512];

	if (pc->access_log == NULL || pa->access_fd == -1)
		return;
	if (accfmt_parse(pc->access_format != NULL ? pc->access_format :
	    "%R - %u %t \"%m %r\" %s", &al.fmt, err, sizeof(err)) == -1) {
		/* the configuration check let it through: say so once */
		log_errorx("%s; no access log", err);
		return;
	}
	if (al.fmt.headers && (r->hdr = malloc(REQ_HDR_CAP)) == NULL) {
		log_errorx("%s: malloc; no access log", __func__);
		accfmt_free(&al.fmt);
		return;
	}
	r->log_cpu = al.fmt.cpu;
	al.fd = pa->access_fd;
	al.pc = pc;
	al.pid = getpid();
	al.master = pa->master;
	al.dropped = &pa->sb->pools[pa->pool_index].access_dropped;
	al.env = env;
}

/* Appends n bytes as they are. */
static void
ab_raw(struct acc_buf *b, const char *s, size_t n)
{
	if (n > b->cap - b->len) {
		n = b->cap - b->len;
		b->cut = true;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void
ab_str(struct acc_buf *b, const char *s)
{
	ab_raw(b, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
ab_printf(struct acc_buf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		ab_raw(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n :
		    sizeof(tmp) - 1);
}

/*
 * A value: its control bytes (a newline in a decoded SCRIPT_NAME, say) as
 * \xHH, so that one request stays one line.
 */
static void
ab_val(struct acc_buf *b, const char *s, size_t n)
{
	size_t i, run;
	char esc[5];

	for (i = 0; i < n; i += run) {
		for (run = 0; i + run < n; run++)
			if ((unsigned char)s[i + run] < 0x20 ||
			    s[i + run] == 0x7f)
				break;
		if (run > 0) {
			ab_raw(b, s + i, run);
			continue;
		}
		snprintf(esc, sizeof(esc), "\\x%02x", (unsigned char)s[i]);
		ab_raw(b, esc, 4);
		run = 1;
	}
}

/* The length of the valid UTF-8 sequence at s (n bytes left); 0: none. */
static size_t
acc_utf8(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	cp = s[0] & (0x7f >> len);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/*
 * A JSON string, quotes included, of at most max bytes (what does not fit
 * is left out, never half a character or escape).  Bytes that are not
 * UTF-8 become U+FFFD: JSON cannot carry them.
 */
static void
ab_json(struct acc_buf *b, const char *str, size_t n, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i, len, used = 2;
	char esc[8];
	const char *out;

	ab_raw(b, "\"", 1);
	for (i = 0; i < n; i += len) {
		out = esc;
		if ((len = acc_utf8(s + i, n - i)) == 0) {
			len = 1;
			out = "\\ufffd";
		} else if (s[i] == '"' || s[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)s[i];
			esc[2] = '\0';
		} else if (s[i] < 0x20 || s[i] == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", s[i]);
		} else {
			if (used + len > max)
				break;
			ab_raw(b, str + i, len);
			used += len;
			continue;
		}
		if (used + strlen(out) > max)
			break;
		ab_str(b, out);
		used += strlen(out);
	}
	ab_raw(b, "\"", 1);
}

static void
ab_jstr(struct acc_buf *b, const char *s, size_t max)
{
	if (s == NULL)
		ab_str(b, "null");
	else
		ab_json(b, s, strlen(s), max);
}

/* "Name: value" headers as sent: the first non-empty value of name. */
static const char *
acc_header(const struct fpmd_req *r, const char *name, size_t nlen,
    size_t *vlen)
{
	const char *p = r->hdr, *end = r->hdr + r->hdr_len, *eol, *v;

	if (p == NULL)
		return NULL;
	for (; p < end; p = eol + 2) {
		if ((eol = memmem(p, (size_t)(end - p), "\r\n", 2)) == NULL)
			return NULL;	/* a line cut at the cap */
		if ((size_t)(eol - p) <= nlen || p[nlen] != ':' ||
		    strncasecmp(p, name, nlen) != 0)
			continue;
		for (v = p + nlen + 1; v < eol && (*v == ' ' || *v == '\t');
		    v++)
			;
		if (v == eol)
			continue;
		*vlen = (size_t)(eol - v);
		return v;
	}
	return NULL;
}

static int
acc_b64(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * %u: the user of "Authorization: Basic", decoded as PHP does for
 * PHP_AUTH_USER (base64 read leniently, the user up to the first ':'),
 * into buf; NULL when there is none.
 */
static const char *
acc_basic_user(const char *auth, char *buf, size_t len)
{
	unsigned cur = 0, i = 0;
	size_t o = 0;
	char *colon;
	int v;

	if (auth == NULL || strncasecmp(auth, "Basic ", 6) != 0)
		return NULL;
	for (auth += 6; *auth != '\0' && o + 1 < len; auth++) {
		if ((v = acc_b64((unsigned char)*auth)) == -1)
			continue;	/* '=' and anything else: skipped */
		switch (i++ % 4) {
		case 0:
			cur = (unsigned)v << 2;
			break;
		case 1:
			buf[o++] = (char)(cur | (unsigned)v >> 4);
			cur = ((unsigned)v & 0x0f) << 4;
			break;
		case 2:
			buf[o++] = (char)(cur | (unsigned)v >> 2);
			cur = ((unsigned)v & 0x03) << 6;
			break;
		case 3:
			buf[o++] = (char)(cur | (unsigned)v);
			break;
		}
	}
	buf[o] = '\0';
	if ((colon = strchr(buf, ':')) == NULL)
		return NULL;
	*colon = '\0';
	return buf;
}

static const char *
acc_param(const struct fpmd_req *r, const char *name)
{
	return fcgi_params_get(&r->params, name, strlen(name));
}

static double
acc_pct(uint64_t used, uint64_t over)
{
	return over > 0 ? (double)used * 100.0 / (double)over : 0.0;
}

static void
acc_gather(const struct fpmd_req *r, struct acc_req *q)
{
	const struct sockaddr_storage *ss = &r->peer;
	uint64_t u, s;
	const char *v;
	bool script;

	memset(q, 0, sizeof(*q));
	/* PHP reads these only for a request that names a script */
	script = acc_param(r, "SCRIPT_FILENAME") != NULL ||
	    acc_param(r, "PATH_TRANSLATED") != NULL;
	q->method = (v = acc_param(r, "REQUEST_METHOD")) != NULL ? v : "";
	if (r->sapi_ran)
		q->uri = r->req_uri;
	else
		q->uri = acc_param(r, "SCRIPT_NAME");
	if (q->uri == NULL)
		q->uri = "";
	q->query = script && (v = acc_param(r, "QUERY_STRING")) != NULL ? v :
	    "";
	q->script = r->sapi_ran ? r->req_path : NULL;
	if (script && (v = acc_param(r, "CONTENT_LENGTH")) != NULL)
		q->length = strtoll(v, NULL, 10);
	if (script)
		q->user = acc_basic_user(acc_param(r, "HTTP_AUTHORIZATION"),
		    q->user_buf, sizeof(q->user_buf));
	q->status = r->status;
	q->memory = r->peak_memory;
	q->duration_us = r->slot->req_duration_us;
	q->start = r->wait_ts;
	clock_gettime(CLOCK_REALTIME, &q->now);
	if (r->log_cpu) {
		u = r->cpu_user1;
		s = r->cpu_sys1;
		q->cpu_user = acc_pct(u > r->cpu_user0 ? u - r->cpu_user0 : 0,
		    q->duration_us);
		q->cpu_sys = acc_pct(s > r->cpu_sys0 ? s - r->cpu_sys0 : 0,
		    q->duration_us);
	}
	if (ss->ss_family == AF_INET) {
		q->remote = inet_ntop(AF_INET,
		    &((const struct sockaddr_in *)(const void *)ss)->sin_addr,
		    q->remote_buf, sizeof(q->remote_buf));
	} else if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr;

		q->remote = IN6_IS_ADDR_V4MAPPED(a) ? inet_ntop(AF_INET,
		    &a->s6_addr[12], q->remote_buf, sizeof(q->remote_buf)) :
		    inet_ntop(AF_INET6, a, q->remote_buf,
		    sizeof(q->remote_buf));
	}
}

/*
 * access.suppress_path, as php-fpm 8.2 applies it: a GET or HEAD without
 * query string or body that succeeded (2xx), to one of the paths.
 */
static bool
acc_suppressed(const struct acc_req *q)
{
	size_t i;

	if (al.pc->naccess_suppress == 0 || q->query[0] != '\0' ||
	    (strcmp(q->method, "GET") != 0 && strcmp(q->method, "HEAD") != 0) ||
	    q->length != 0 || q->status < 200 || q->status > 299)
		return false;
	for (i = 0; i < al.pc->naccess_suppress; i++)
		if (strcmp(q->uri, al.pc->access_suppress[i]) == 0)
			return true;
	return false;
}

/* %t and %T; an output longer than 255 bytes is left out. */
static void
acc_time(struct acc_buf *b, const struct timespec *ts, const char *fmt)
{
	char tmp[256];
	struct tm tm;
	size_t n;

	localtime_r(&ts->tv_sec, &tm);
	/* the format is access.format's {...}: strftime takes any text */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	n = strftime(tmp, sizeof(tmp), fmt != NULL ? fmt : ACCLOG_TIME, &tm);
#pragma GCC diagnostic pop
	ab_val(b, tmp, n);
}

/* ISO 8601 with microseconds and the offset: 2026-11-30T21:44:58.558123+01:00 */
static void
acc_iso_time(struct acc_buf *b, const struct timespec *ts)
{
	char tmp[64], off[8] = "+0000";
	struct tm tm;

	localtime_r(&ts->tv_sec, &tm);
	strftime(tmp, sizeof(tmp), "\"%Y-%m-%dT%H:%M:%S", &tm);
	if (strftime(off, sizeof(off), "%z", &tm) != 5)
		strcpy(off, "+0000");
	ab_str(b, tmp);
	ab_printf(b, ".%06ld%.3s:%.2s\"", ts->tv_nsec / 1000, off, off + 3);
}

static void
acc_plain(const struct fpmd_req *r, const struct acc_req *q,
    struct acc_buf *b)
{
	const struct acc_item *it;
	const char *v;
	size_t i, vlen;
	double cpu;

	for (i = 0; i < al.fmt.n && !b->cut; i++) {
		it = &al.fmt.items[i];
		switch (it->code) {
		case 0:
			ab_raw(b, it->arg, it->len);
			break;
		case '%':
			ab_raw(b, "%", 1);
			break;
		case 'C':
			cpu = it->mod == ACC_CPU_USER ? q->cpu_user :
			    it->mod == ACC_CPU_SYSTEM ? q->cpu_sys :
			    q->cpu_user + q->cpu_sys;
			ab_printf(b, "%.2f", cpu);
			break;
		case 'd':
			if (it->mod == ACC_USEC)
				ab_printf(b, "%llu",
				    (unsigned long long)q->duration_us);
			else
				ab_printf(b, "%.3f", (double)q->duration_us /
				    (it->mod == ACC_MSEC ? 1e3 : 1e6));
			break;
		case 'e':
			v = al.env(r, it->arg, it->len);
			ab_val(b, v ? v : "-", v ? strlen(v) : 1);
			break;
		case 'f':
			v = q->script ? q->script : "-";
			ab_val(b, v, strlen(v));
			break;
		case 'l':
			/* printed as php-fpm prints it, a negative one too */
			ab_printf(b, "%zu", (size_t)q->length);
			break;
		case 'm':
			v = q->method[0] ? q->method : "-";
			ab_val(b, v, strlen(v));
			break;
		case 'M':
			ab_printf(b, "%llu", (unsigned long long)(q->memory /
			    (it->mod == ACC_KB ? 1024 : it->mod == ACC_MB ?
			    1024 * 1024 : 1)));
			break;
		case 'n':
			ab_str(b, al.pc->name);
			break;
		case 'o':
			if ((v = acc_header(r, it->arg, it->len, &vlen)) ==
			    NULL)
				ab_raw(b, "-", 1);
			else
				ab_val(b, v, vlen);
			break;
		case 'p':
			ab_printf(b, "%ld", (long)al.pid);
			break;
		case 'P':
			ab_printf(b, "%ld", (long)al.master);
			break;
		case 'q':
			ab_val(b, q->query, strlen(q->query));
			break;
		case 'Q':
			ab_str(b, q->query[0] ? "?" : "");
			break;
		case 'r':
			ab_val(b, q->uri, strlen(q->uri));
			break;
		case 'R':
			ab_str(b, q->remote ? q->remote : "-");
			break;
		case 's':
			ab_printf(b, "%d", q->status);
			break;
		case 't':
			acc_time(b, &q->start, it->arg);
			break;
		case 'T':
			acc_time(b, &q->now, it->arg);
			break;
		case 'u':
			if (q->user != NULL)
				ab_val(b, q->user, strlen(q->user));
			break;
		}
	}
}

/*
 * One object, keys in a fixed order (docs/config.md lists them).  Every
 * string from the request is at most max bytes: the caller makes the line
 * again with a smaller max when it does not fit.
 */
static void
acc_json(const struct fpmd_req *r, const struct acc_req *q,
    struct acc_buf *b, size_t max)
{
	const struct acc_item *it;
	const char *v;
	size_t i, vlen;
	int pass;

	ab_str(b, "{\"time\":");
	acc_iso_time(b, &q->start);
	ab_str(b, ",\"pool\":");
	ab_jstr(b, al.pc->name, max);
	ab_printf(b, ",\"pid\":%ld,\"master_pid\":%ld,\"remote_addr\":",
	    (long)al.pid, (long)al.master);
	ab_jstr(b, q->remote, max);
	ab_str(b, ",\"user\":");
	ab_jstr(b, q->user, max);
	ab_str(b, ",\"method\":");
	ab_jstr(b, q->method[0] ? q->method : NULL, max);
	ab_str(b, ",\"uri\":");
	ab_jstr(b, q->uri, max);
	ab_str(b, ",\"query\":");
	ab_jstr(b, q->query, max);
	ab_str(b, ",\"script\":");
	ab_jstr(b, q->script, max);
	ab_printf(b, ",\"status\":%d", q->status);
	ab_printf(b, ",\"content_length\":%lld", q->length);
	ab_printf(b, ",\"duration_us\":%llu",
	    (unsigned long long)q->duration_us);
	ab_printf(b, ",\"cpu_user\":%.2f", q->cpu_user);
	ab_printf(b, ",\"cpu_system\":%.2f", q->cpu_sys);
	ab_printf(b, ",\"cpu_total\":%.2f", q->cpu_user + q->cpu_sys);
	ab_printf(b, ",\"memory\":%llu", (unsigned long long)q->memory);
	ab_str(b, ",\"time_logged\":");
	acc_iso_time(b, &q->now);
	for (pass = 0; pass < 2; pass++) {
		bool first = true;

		for (i = 0; i < al.fmt.n; i++) {
			it = &al.fmt.items[i];
			if (it->code != (pass == 0 ? 'e' : 'o'))
				continue;
			ab_str(b, first ? (pass == 0 ? ",\"env\":{" :
			    ",\"headers\":{") : ",");
			first = false;
			ab_json(b, it->arg, it->len, max);
			ab_raw(b, ":", 1);
			if (pass == 0) {
				v = al.env(r, it->arg, it->len);
				ab_jstr(b, v, max);
			} else if ((v = acc_header(r, it->arg, it->len,
			    &vlen)) != NULL)
				ab_json(b, v, vlen, max);
			else
				ab_str(b, "null");
		}
		if (!first)
			ab_raw(b, "}", 1);
	}
	ab_raw(b, "}", 1);
}

/* Sends the line; on a full socket waits a little, then drops it. */
static void
acc_send(const char *line, size_t len)
{
	struct pollfd pfd = { al.fd, POLLOUT, 0 };
	int64_t now, deadline = 0;

	for (;;) {
		if (send(al.fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL) ==
		    (ssize_t)len)
			return;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != ENOBUFS)
			break;	/* the master is gone: so are we, soon */
		now = acc_mono_ms();
		if (deadline == 0) {
			if (now < al.quiet_until)
				break;
			deadline = now + ACCLOG_WAIT_MS;
		}
		if (now >= deadline)
			break;
		if (poll(&pfd, 1, (int)(deadline - now)) == -1 &&
		    errno != EINTR)
			break;
	}
	al.quiet_until = acc_mono_ms() + ACCLOG_QUIET_MS;
	__atomic_add_fetch(al.dropped, 1, __ATOMIC_RELAXED);
}

/* After the request's END_REQUEST: its line, unless suppressed. */
void
accesslog_write(struct fpmd_req *r)
{
	struct acc_buf b = { al.line, 0, sizeof(al.line) - 1, false };
	struct acc_req q;
	size_t nstr;
	bool cut;

	if (al.fd == -1)
		return;
	acc_gather(r, &q);
	if (acc_suppressed(&q))
		return;
	if (al.fmt.json) {
		acc_json(r, &q, &b, b.cap);
		if ((cut = b.cut)) {
			/*
			 * Each string gets its share of the line, less the
			 * rest of the object (keys, numbers and times: under
			 * 600 bytes, and 4 more per extra field).
			 */
			nstr = 8 + 2 * al.fmt.n;
			b.len = 0;
			b.cut = false;
			acc_json(r, &q, &b, (b.cap - 1024 - 4 * al.fmt.n) /
			    nstr);
		}
	} else {
		acc_plain(r, &q, &b);
		cut = b.cut;
	}
	if (cut && !al.cut_told) {
		al.cut_told = true;
		log_notice("an access log line was longer than %d bytes and "
		    "was cut (said once per worker)", ACCLOG_LINE_MAX);
	}
	if (b.cut && al.fmt.json)
		return;		/* cannot happen: never a broken object */
	if (b.len == 0)
		return;		/* php-fpm writes no empty line either */
	b.p[b.len++] = '\n';
	acc_send(b.p, b.len);
}
