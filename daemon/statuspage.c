/*
 * php-fpm's status page and ping, answered by the worker that read the
 * request, before and instead of PHP: a request whose SCRIPT_NAME is the
 * pool's ping.path gets ping.response, one whose SCRIPT_NAME is its
 * pm.status_path gets the pool's figures in the format the query asks for
 * (text, json, xml, html or openmetrics, each with full).  The figures
 * come from status.c, the calls fpmctl status and fpm_get_status() make.
 *
 * A client should not tell it from php-fpm 8.2: the same field names,
 * order and spelling, the same headers (the way PHP's SAPI layer writes
 * them, default_charset and expose_php included), the format chosen from
 * the query the way PHP parses $_GET and php-fpm looks keys up in it.  On
 * purpose, every string is escaped for the format it goes into (php-fpm
 * escapes only the query, and so can send broken JSON, XML or HTML), the
 * OpenMetrics counters carry the _total suffix that format requires, and
 * with full the OpenMetrics page has the workers too.
 *
 * The answering worker counts as busy (Running) while it answers, and the
 * request counts in accepted conn, as under php-fpm.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fpmd.h"

#define SP_EXPIRES	"Expires: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
#define SP_NOCACHE	"Cache-Control: no-cache, no-store, " \
			"must-revalidate, max-age=0\r\n"
#define SP_ROW_SEP	"************************"

enum sp_format {
	SPF_TEXT = 0,
	SPF_HTML,
	SPF_XML,
	SPF_JSON,
	SPF_OPENMETRICS
};

/* What a status or ping request asks, and what the SAPI would add. */
/* (struct sp_ask is in fpmd.h) */

/* The response, built whole before it is written. */
struct sp_buf {
	char		*p;
	size_t		 len;
	size_t		 cap;
	bool		 oom;
};

static void
sp_grow(struct sp_buf *b, size_t more)
{
	size_t cap;
	char *np;

	if (b->oom || b->cap - b->len > more)
		return;
	cap = b->cap ? b->cap : 4096;
	while (cap - b->len <= more)
		cap *= 2;
	if ((np = realloc(b->p, cap)) == NULL) {
		b->oom = true;
		return;
	}
	b->p = np;
	b->cap = cap;
}

static void
sp_add(struct sp_buf *b, const char *s, size_t n)
{
	sp_grow(b, n);
	if (b->oom)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sp_puts(struct sp_buf *b, const char *s)
{
	sp_add(b, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
sp_printf(struct sp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	sp_grow(b, (size_t)n);
	if (b->oom)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* The length of the UTF-8 sequence at s and its code point; 0: invalid. */
static size_t
sp_utf8(const unsigned char *s, unsigned *cp)
{
	size_t n, i;
	unsigned c = s[0], min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) {
		n = 2, c &= 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3, c &= 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4, c &= 0x07, min = 0x10000;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/*
 * s as a JSON string's content, as PHP's json_encode() writes it: '/'
 * escaped, everything past ASCII as \u escapes; bytes that are not UTF-8
 * are dropped (php-fpm's PHP_JSON_INVALID_UTF8_IGNORE).
 */
static void
sp_json_str(struct sp_buf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned cp;
	size_t n;

	while (*s != '\0') {
		if ((n = sp_utf8(s, &cp)) == 0) {
			s++;
			continue;
		}
		s += n;
		switch (cp) {
		case '"':
			sp_puts(b, "\\\"");
			break;
		case '\\':
			sp_puts(b, "\\\\");
			break;
		case '/':
			sp_puts(b, "\\/");
			break;
		case '\b':
			sp_puts(b, "\\b");
			break;
		case '\f':
			sp_puts(b, "\\f");
			break;
		case '\n':
			sp_puts(b, "\\n");
			break;
		case '\r':
			sp_puts(b, "\\r");
			break;
		case '\t':
			sp_puts(b, "\\t");
			break;
		default:
			if (cp >= 0x20 && cp < 0x80) {
				sp_add(b, (const char *)s - 1, 1);
			} else if (cp < 0x10000) {
				sp_printf(b, "\\u%04x", cp);
			} else {
				cp -= 0x10000;
				sp_printf(b, "\\u%04x\\u%04x", 0xd800 +
				    (cp >> 10), 0xdc00 + (cp & 0x3ff));
			}
			break;
		}
	}
}

/*
 * s in HTML or XML text: &, <, > and " as entities (php-fpm's ENT_COMPAT);
 * bytes that are not UTF-8, and control characters XML forbids, dropped.
 */
static void
sp_xml_str(struct sp_buf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned cp;
	size_t n;

	while (*s != '\0') {
		if ((n = sp_utf8(s, &cp)) == 0) {
			s++;
			continue;
		}
		if (cp == '&')
			sp_puts(b, "&amp;");
		else if (cp == '<')
			sp_puts(b, "&lt;");
		else if (cp == '>')
			sp_puts(b, "&gt;");
		else if (cp == '"')
			sp_puts(b, "&quot;");
		else if (cp >= 0x20 || cp == '\t' || cp == '\n' || cp == '\r')
			sp_add(b, (const char *)s, n);
		s += n;
	}
}

/* A label value or HELP text in OpenMetrics: \, " and newline escaped. */
static void
sp_om_str(struct sp_buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			sp_puts(b, "\\\\");
		else if (*s == '"')
			sp_puts(b, "\\\"");
		else if (*s == '\n')
			sp_puts(b, "\\n");
		else
			sp_add(b, s, 1);
	}
}

/*
 * "%d/%b/%Y:%H:%M:%S %z" in local time, as php-fpm prints a start time,
 * with the English month names whatever the locale.
 */
static void
sp_time(char *buf, size_t len, time_t t)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	long off;

	if (localtime_r(&t, &tm) == NULL || tm.tm_mon < 0 || tm.tm_mon > 11) {
		snprintf(buf, len, "-");
		return;
	}
	off = tm.tm_gmtoff / 60;
	snprintf(buf, len, "%02d/%s/%d:%02d:%02d:%02d %c%02ld%02ld",
	    tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
	    (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
}

/*
 * One value of a row, and how each format writes it.  A time is a date in
 * text and html, a number in xml and json, as php-fpm has them.
 */
enum sp_kind {
	SPV_STR,
	SPV_NUM,
	SPV_TIME,
	SPV_CPU
};

struct sp_val {
	const char	*name;		/* as text, html and json name it */
	const char	*text_name;	/* NULL: name */
	enum sp_kind	 kind;
	const char	*s;
	uint64_t	 n;
	double		 d;
};

static void
sp_value(struct sp_buf *b, enum sp_format f, const struct sp_val *v)
{
	char t[64];

	switch (v->kind) {
	case SPV_STR:
		if (f == SPF_JSON) {
			sp_puts(b, "\"");
			sp_json_str(b, v->s);
			sp_puts(b, "\"");
		} else if (f == SPF_HTML || f == SPF_XML)
			sp_xml_str(b, v->s);
		else
			sp_puts(b, v->s);
		break;
	case SPV_TIME:
		if (f == SPF_TEXT || f == SPF_HTML) {
			sp_time(t, sizeof(t), (time_t)v->n);
			sp_puts(b, t);
			break;
		}
		/* FALLTHROUGH */
	case SPV_NUM:
		sp_printf(b, "%llu", (unsigned long long)v->n);
		break;
	case SPV_CPU:
		sp_printf(b, "%.2f", v->d);
		break;
	}
}

/* "request uri" in xml is "request-uri" */
static void
sp_xml_name(struct sp_buf *b, const char *name)
{
	for (; *name != '\0'; name++)
		sp_add(b, *name == ' ' ? "-" : name, 1);
}

/* A row of fields: the pool's, or one worker's. */
static void
sp_row(struct sp_buf *b, enum sp_format f, const struct sp_val *v, size_t n,
    bool proc)
{
	char label[64];
	size_t i;

	switch (f) {
	case SPF_TEXT:
		if (proc)
			sp_puts(b, "\n" SP_ROW_SEP "\n");
		for (i = 0; i < n; i++) {
			snprintf(label, sizeof(label), "%s:", v[i].text_name ?
			    v[i].text_name : v[i].name);
			sp_printf(b, "%-22s", label);
			sp_value(b, f, &v[i]);
			sp_puts(b, "\n");
		}
		break;
	case SPF_HTML:
		sp_puts(b, proc ? "<tr>" : "");
		for (i = 0; i < n; i++) {
			if (!proc)
				sp_printf(b, "<tr><th>%s</th>", v[i].name);
			sp_puts(b, "<td>");
			sp_value(b, f, &v[i]);
			sp_puts(b, proc ? "</td>" : "</td></tr>\n");
		}
		sp_puts(b, proc ? "</tr>\n" : "");
		break;
	case SPF_XML:
		sp_puts(b, proc ? "<process>" : "");
		for (i = 0; i < n; i++) {
			sp_puts(b, "<");
			sp_xml_name(b, v[i].name);
			sp_puts(b, ">");
			sp_value(b, f, &v[i]);
			sp_puts(b, "</");
			sp_xml_name(b, v[i].name);
			sp_puts(b, proc ? ">" : ">\n");
		}
		sp_puts(b, proc ? "</process>\n" : "");
		break;
	case SPF_JSON:
		sp_puts(b, proc ? "{" : "");
		for (i = 0; i < n; i++) {
			sp_printf(b, "%s\"%s\":", i > 0 ? "," : "", v[i].name);
			sp_value(b, f, &v[i]);
		}
		sp_puts(b, proc ? "}" : "");
		break;
	case SPF_OPENMETRICS:
		break;
	}
}

#define SP_POOL_FIELDS	14
#define SP_PROC_FIELDS	13

#define V(nm, k, str, num) \
	v[i++] = (struct sp_val){ nm, NULL, k, str, (uint64_t)(num), 0 }

static void
sp_pool_vals(struct sp_val *v, const struct pool_conf *pc,
    const struct pool_status *st, time_t now)
{
	size_t i = 0;

	V("pool", SPV_STR, pc->name, 0);
	V("process manager", SPV_STR, conf_pm_name(pc->pm), 0);
	V("start time", SPV_TIME, NULL, st->start);
	V("start since", SPV_NUM, NULL, st->start > 0 && st->start <= now ?
	    now - st->start : 0);
	V("accepted conn", SPV_NUM, NULL, st->accepted);
	V("listen queue", SPV_NUM, NULL, st->listen_queue);
	V("max listen queue", SPV_NUM, NULL, st->max_listen_queue);
	V("listen queue len", SPV_NUM, NULL, st->listen_queue_len);
	V("idle processes", SPV_NUM, NULL, st->idle);
	V("active processes", SPV_NUM, NULL, st->active);
	V("total processes", SPV_NUM, NULL, st->total);
	V("max active processes", SPV_NUM, NULL, st->max_active);
	V("max children reached", SPV_NUM, NULL, st->max_children_reached);
	V("slow requests", SPV_NUM, NULL, st->slow_requests);
}

/* uri: room for the path, '?', the query and the NUL */
static void
sp_proc_vals(struct sp_val *v, const struct proc_status *ps, char *uri,
    size_t urilen)
{
	size_t i = 0;

	snprintf(uri, urilen, "%s%s%s", ps->uri[0] ? ps->uri : "-",
	    ps->query[0] ? "?" : "", ps->query);
	V("pid", SPV_NUM, NULL, ps->pid);
	V("state", SPV_STR, status_state_name(ps->state), 0);
	V("start time", SPV_TIME, NULL, ps->start);
	V("start since", SPV_NUM, NULL, ps->start_since);
	V("requests", SPV_NUM, NULL, ps->requests);
	V("request duration", SPV_NUM, NULL, ps->duration_us);
	V("request method", SPV_STR, ps->method[0] ? ps->method : "-", 0);
	V("request uri", SPV_STR, uri, 0);
	v[i - 1].text_name = "request URI";
	V("content length", SPV_NUM, NULL, ps->content_length);
	V("user", SPV_STR, ps->user[0] ? ps->user : "-", 0);
	V("script", SPV_STR, ps->script[0] ? ps->script : "-", 0);
	v[i++] = (struct sp_val){ "last request cpu", NULL, SPV_CPU, NULL, 0,
	    ps->last_cpu };
	V("last request memory", SPV_NUM, NULL, ps->last_memory);
}
#undef V

/* php-fpm's metrics, in its order, with its names, types and help. */
static const struct {
	const char	*name;
	const char	*type;
	const char	*help;
	int		 field;		/* in sp_pool_vals() */
} sp_om_pool[] = {
	{ "phpfpm_start_since", "counter",
	    "The number of seconds since FPM has started.", 3 },
	{ "phpfpm_accepted_connections", "counter",
	    "The number of requests accepted by the pool.", 4 },
	{ "phpfpm_listen_queue", "gauge",
	    "The number of requests in the queue of pending connections.", 5 },
	{ "phpfpm_max_listen_queue", "counter",
	    "The maximum number of requests in the queue of pending "
	    "connections since FPM has started.", 6 },
	{ "phpfpm_listen_queue_length", "gauge",
	    "The size of the socket queue of pending connections.", 7 },
	{ "phpfpm_idle_processes", "gauge",
	    "The number of idle processes.", 8 },
	{ "phpfpm_active_processes", "gauge",
	    "The number of active processes.", 9 },
	{ "phpfpm_total_processes", "gauge",
	    "The number of idle + active processes.", 10 },
	{ "phpfpm_max_active_processes", "counter",
	    "The maximum number of active processes since FPM has started.",
	    11 },
	{ "phpfpm_max_children_reached", "counter",
	    "The number of times, the process limit has been reached, when pm "
	    "tries to start more children (works only for pm 'dynamic' and "
	    "'ondemand').", 12 },
	{ "phpfpm_slow_requests", "counter",
	    "The number of requests that exceeded your "
	    "'request_slowlog_timeout' value.", 13 },
};

/* fpmd's own, with full: one series per worker, by pool and pid. */
static const struct {
	const char	*name;
	const char	*type;
	const char	*help;
	int		 field;		/* in sp_proc_vals() */
} sp_om_proc[] = {
	{ "phpfpm_process_state", "gauge",
	    "The state of the process (1 for its current state).", 1 },
	{ "phpfpm_process_requests", "counter",
	    "The number of requests the process has served.", 4 },
	{ "phpfpm_process_request_duration", "gauge",
	    "The duration in microseconds of the request being served, or "
	    "of the last one.", 5 },
	{ "phpfpm_process_last_request_cpu", "gauge",
	    "The %cpu the last request consumed (0 while a request runs).",
	    11 },
	{ "phpfpm_process_last_request_memory", "gauge",
	    "The max amount of memory the last request consumed, in bytes (0 "
	    "while a request runs).", 12 },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * OpenMetrics: php-fpm's families, in its order (the TYPE line of
 * phpfpm_listen_queue_length before its HELP, as php-fpm has it); a
 * counter's sample is named NAME_total, as the format requires.
 */
static void
sp_openmetrics(struct sp_buf *b, const struct sp_ask *r,
    const struct sp_val *pv, bool full)
{
	const struct scoreboard *sb = r->sb;
	struct proc_status ps;
	struct sp_val v[SP_PROC_FIELDS];
	char uri[SB_URI + SB_QUERY + 2];
	size_t k;
	uint32_t i;
	bool counter;

	sp_puts(b, "# HELP phpfpm_up Could pool ");
	sp_om_str(b, pv[0].s);
	sp_puts(b, " using a ");
	sp_om_str(b, pv[1].s);
	sp_puts(b, " PM on PHP-FPM be reached?\n# TYPE phpfpm_up gauge\n"
	    "phpfpm_up 1\n");
	for (k = 0; k < NELEM(sp_om_pool); k++) {
		counter = strcmp(sp_om_pool[k].type, "counter") == 0;
		if (strcmp(sp_om_pool[k].name, "phpfpm_listen_queue_length") ==
		    0)
			sp_printf(b, "# TYPE %s %s\n# HELP %s %s\n",
			    sp_om_pool[k].name, sp_om_pool[k].type,
			    sp_om_pool[k].name, sp_om_pool[k].help);
		else
			sp_printf(b, "# HELP %s %s\n# TYPE %s %s\n",
			    sp_om_pool[k].name, sp_om_pool[k].help,
			    sp_om_pool[k].name, sp_om_pool[k].type);
		sp_printf(b, "%s%s %llu\n", sp_om_pool[k].name,
		    counter ? "_total" : "",
		    (unsigned long long)pv[sp_om_pool[k].field].n);
	}
	for (k = 0; full && k < NELEM(sp_om_proc); k++) {
		counter = strcmp(sp_om_proc[k].type, "counter") == 0;
		sp_printf(b, "# HELP %s %s\n# TYPE %s %s\n",
		    sp_om_proc[k].name, sp_om_proc[k].help,
		    sp_om_proc[k].name, sp_om_proc[k].type);
		for (i = 0; i < sb->nslots; i++) {
			/* one series per process: none yet without a pid */
			if (!status_proc(sb, r->pool_index, i, &ps) ||
			    ps.pid == 0)
				continue;
			sp_proc_vals(v, &ps, uri, sizeof(uri));
			sp_printf(b, "%s%s{pool=\"", sp_om_proc[k].name,
			    counter ? "_total" : "");
			sp_om_str(b, pv[0].s);
			sp_printf(b, "\",pid=\"%d\"", (int)ps.pid);
			if (sp_om_proc[k].field == 1) {
				sp_puts(b, ",state=\"");
				sp_om_str(b, v[1].s);
				sp_puts(b, "\"} 1\n");
			} else if (v[sp_om_proc[k].field].kind == SPV_CPU) {
				sp_printf(b, "} %.2f\n",
				    v[sp_om_proc[k].field].d);
			} else {
				sp_printf(b, "} %llu\n", (unsigned long long)
				    v[sp_om_proc[k].field].n);
			}
		}
	}
	sp_puts(b, "# EOF\n");
}

static void
sp_body(struct sp_buf *b, const struct sp_ask *r, enum sp_format f,
    bool full)
{
	static const char html_head[] =
	    "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" "
	    "\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\n"
	    "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" "
	    "lang=\"en\">\n"
	    "<head><title>PHP-FPM Status Page</title></head>\n"
	    "<body>\n<table>\n";
	const struct scoreboard *sb = r->sb;
	struct pool_status st;
	struct proc_status ps;
	struct sp_val pv[SP_POOL_FIELDS], v[SP_PROC_FIELDS];
	char uri[SB_URI + SB_QUERY + 2];
	bool first = true;
	uint32_t i;
	size_t k;

	status_pool(sb, r->pool_index, r->listen_fd, &st);
	sp_pool_vals(pv, r->pc, &st, time(NULL));
	if (f == SPF_OPENMETRICS) {
		sp_openmetrics(b, r, pv, full);
		return;
	}
	if (f == SPF_HTML)
		sp_puts(b, html_head);
	else if (f == SPF_XML)
		sp_puts(b, "<?xml version=\"1.0\" ?>\n<status>\n");
	else if (f == SPF_JSON)
		sp_puts(b, "{");
	sp_row(b, f, pv, SP_POOL_FIELDS, false);
	if (f == SPF_HTML)
		sp_puts(b, "</table>\n");
	if (!full) {
		if (f == SPF_HTML)
			sp_puts(b, "</body></html>");
		else if (f == SPF_XML)
			sp_puts(b, "</status>");
		else if (f == SPF_JSON)
			sp_puts(b, "}");
		return;
	}
	if (f == SPF_HTML) {
		sp_puts(b, "<table border=\"1\">\n<tr>");
		/* the names of a worker's row, from an empty one */
		memset(&ps, 0, sizeof(ps));
		sp_proc_vals(v, &ps, uri, sizeof(uri));
		for (k = 0; k < SP_PROC_FIELDS; k++)
			sp_printf(b, "<th>%s</th>", v[k].name);
		sp_puts(b, "</tr>\n");
	} else if (f == SPF_XML)
		sp_puts(b, "<processes>\n");
	else if (f == SPF_JSON)
		sp_puts(b, ", \"processes\":[");
	for (i = 0; i < sb->nslots; i++) {
		if (!status_proc(sb, r->pool_index, i, &ps))
			continue;
		if (f == SPF_JSON && !first)
			sp_puts(b, ",");
		first = false;
		sp_proc_vals(v, &ps, uri, sizeof(uri));
		sp_row(b, f, v, SP_PROC_FIELDS, true);
	}
	if (f == SPF_HTML)
		sp_puts(b, "</table></body></html>");
	else if (f == SPF_XML)
		sp_puts(b, "</processes>\n</status>");
	else if (f == SPF_JSON)
		sp_puts(b, "]}");
}

static int
sp_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Is the query key raw (len bytes, still url-encoded) a prefix of want, as
 * $_GET names it?  PHP decodes the key, cuts it at a NUL, skips leading
 * spaces, turns ' ' and '.' into '_' and ends it at a '[' that a ']'
 * closes (an unclosed one becomes '_'); php-fpm then takes a key that is
 * a prefix of the word it looks for ("?j" is json, "?f" full).  A key with
 * a '_' is no prefix of any word it looks for.
 */
static bool
sp_key_is(const char *raw, size_t len, const char *want)
{
	char *key, *k, *p;
	size_t i, n = 0;
	int hi, lo;
	bool match = false;

	if ((key = malloc(len + 1)) == NULL)
		return false;
	for (i = 0; i < len; i++) {
		if (raw[i] == '+') {
			key[n++] = ' ';
		} else if (raw[i] == '%' && len - i > 2 &&
		    (hi = sp_hex(raw[i + 1])) != -1 &&
		    (lo = sp_hex(raw[i + 2])) != -1) {
			key[n++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			key[n++] = raw[i];
	}
	key[n] = '\0';
	for (k = key; *k == ' '; k++)
		;
	for (p = k; *p != '\0'; p++) {
		if (*p == ' ' || *p == '.')
			goto done;
		if (*p == '[') {
			if (strchr(p + 1, ']') == NULL)
				goto done;
			break;
		}
	}
	n = (size_t)(p - k);
	match = n > 0 && n <= strlen(want) && memcmp(k, want, n) == 0;
done:
	free(key);
	return match;
}

/* Has the query string q a key for want?  seps: arg_separator.input */
static bool
sp_query_has(const char *q, const char *seps, const char *want)
{
	size_t len, klen;
	const char *eq;

	if (q == NULL)
		return false;
	if (seps == NULL || *seps == '\0')
		seps = "&";
	for (;;) {
		len = strcspn(q, seps);
		klen = (eq = memchr(q, '=', len)) != NULL ?
		    (size_t)(eq - q) : len;
		if (sp_key_is(q, klen, want))
			return true;
		if (q[len] == '\0')
			return false;
		q += len + 1;
	}
}

static enum sp_format
sp_format(const char *q, const char *seps)
{
	if (sp_query_has(q, seps, "html"))
		return SPF_HTML;
	if (sp_query_has(q, seps, "xml"))
		return SPF_XML;
	if (sp_query_has(q, seps, "json"))
		return SPF_JSON;
	if (sp_query_has(q, seps, "openmetrics"))
		return SPF_OPENMETRICS;
	return SPF_TEXT;
}

/*
 * "Content-Type: TYPE" as PHP's header() stores it: a text type gains the
 * default charset (and the header becomes "Content-type"), other types
 * are left as they are.
 */
static void
sp_content_type(struct sp_buf *b, const struct sp_ask *a, const char *type)
{
	const char *cs = a->charset;

	if (cs != NULL && *cs != '\0' && strncmp(type, "text/", 5) == 0)
		sp_printf(b, "Content-type: %s;charset=%s\r\n", type, cs);
	else
		sp_printf(b, "Content-Type: %s\r\n", type);
}

/* The type PHP sends when none was set: "text/html; charset=UTF-8". */
static void
sp_default_type(struct sp_buf *b, const struct sp_ask *a)
{
	const char *mt = a->mimetype;
	const char *cs = a->charset;

	if (mt == NULL || *mt == '\0')
		mt = "text/html";
	if (cs != NULL && *cs != '\0' && strncasecmp(mt, "text/", 5) == 0)
		sp_printf(b, "Content-type: %s; charset=%s\r\n", mt, cs);
	else
		sp_printf(b, "Content-type: %s\r\n", mt);
}

static void
sp_ping(struct sp_buf *b, const struct sp_ask *r, bool head)
{
	sp_content_type(b, r, "text/plain");
	sp_puts(b, SP_EXPIRES SP_NOCACHE "\r\n");
	if (!head)
		sp_puts(b, r->pc->ping_response);
}

static void
sp_status(struct sp_buf *b, const struct sp_ask *r, bool head)
{
	static const char *const types[] = {
		[SPF_TEXT] = "text/plain",
		[SPF_HTML] = "text/html",
		[SPF_XML] = "text/xml",
		[SPF_JSON] = "application/json",
		[SPF_OPENMETRICS] = "application/openmetrics-text; "
		    "version=1.0.0; charset=utf-8"
	};
	const char *q = r->query;
	const char *seps = r->argsep;
	enum sp_format f;
	bool full;

	sp_puts(b, SP_EXPIRES SP_NOCACHE);
	if (head) {
		/* php-fpm stops before it picks a format */
		sp_default_type(b, r);
		sp_puts(b, "\r\n");
		return;
	}
	full = sp_query_has(q, seps, "full");
	f = sp_format(q, seps);
	sp_content_type(b, r, types[f]);
	sp_puts(b, "\r\n");
	sp_body(b, r, f, full);
}

/*
 * The whole answer, CGI headers and body, in a malloc'd buffer (*len
 * bytes); NULL when out of memory.
 */
char *
statuspage_render(const struct sp_ask *a, bool ping, size_t *len)
{
	struct sp_buf b = { NULL, 0, 0, false };

	if (a->expose_php)
		sp_printf(&b, "X-Powered-By: PHP/%s\r\n", sapi_php_version());
	if (ping)
		sp_ping(&b, a, a->head);
	else
		sp_status(&b, a, a->head);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

/* Whether a request asks for the ping or the status page; which in *ping. */
bool
statuspage_match(const struct pool_conf *pc, const struct fcgi_params *fp,
    bool *ping)
{
	const char *sn;

	if (pc->status_path == NULL && pc->ping_path == NULL)
		return false;
	if ((sn = FCGI_PARAM(fp, "SCRIPT_NAME")) == NULL)
		return false;
	if (pc->ping_path != NULL && strcmp(sn, pc->ping_path) == 0)
		*ping = true;
	else if (pc->status_path != NULL && strcmp(sn, pc->status_path) == 0)
		*ping = false;
	else
		return false;
	/* php-fpm has no request URI to compare without a script path */
	return FCGI_PARAM(fp, "SCRIPT_FILENAME") != NULL ||
	    FCGI_PARAM(fp, "PATH_TRANSLATED") != NULL;
}

bool
statuspage_serve(struct fpmd_req *r)
{
	static const char oom[] = "Status: 500 Internal Server Error\r\n"
	    "Content-type: text/plain\r\n" SP_EXPIRES SP_NOCACHE "\r\n"
	    "Internal error. Please review log file for errors.";
	struct sp_ask a;
	const char *m;
	char skip[4096], *out;
	size_t len;
	bool ping;

	if (!statuspage_match(r->pc, &r->params, &ping))
		return false;
	/* busy while it answers, as php-fpm's worker is */
	conn_set_state(r, SLOT_RUNNING);
	/*
	 * A body is read and dropped, as PHP would read it, so that closing
	 * the connection does not reset it under the answer.
	 */
	if ((m = FCGI_PARAM(&r->params, "CONTENT_LENGTH")) != NULL &&
	    strtoull(m, NULL, 10) > 0)
		while (conn_read_body(r, skip, sizeof(skip)) > 0)
			;
	memset(&a, 0, sizeof(a));
	a.pc = r->pc;
	a.sb = r->sb;
	a.pool_index = r->pool_index;
	a.listen_fd = r->listen_fd;
	a.query = FCGI_PARAM(&r->params, "QUERY_STRING");
	m = FCGI_PARAM(&r->params, "REQUEST_METHOD");
	a.head = m != NULL && strcmp(m, "HEAD") == 0;
	/* the headers as PHP's SAPI layer would write them */
	a.charset = sapi_ini_string("default_charset");
	a.mimetype = sapi_ini_string("default_mimetype");
	a.argsep = sapi_ini_string("arg_separator.input");
	a.expose_php = sapi_expose_php();
	if ((out = statuspage_render(&a, ping, &len)) == NULL) {
		log_errorx("status page: out of memory");
		r->status = 500;
		conn_write(r, oom, sizeof(oom) - 1);
	} else {
		r->status = 200;
		conn_write(r, out, len);
	}
	free(out);
	return true;
}
