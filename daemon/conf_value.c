/*
 * The options and their values: what each option is (the tables), how its
 * text becomes a number, a duration, a mode, a listen address or a list,
 * and where it is stored; and the messages of a load, the errors and the
 * notices, every one "FILE:LINE: reason" with the file's bytes quoted so
 * that it stays one line.  No user, group or file is looked at here; a
 * listen address may be a host name, resolved as php-fpm does.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "conf_int.h"
#include "conffile.h"
#include "conflex.h"

#define GO(i, n, t, f, lo) \
	[i] = { n, t, offsetof(struct fpmd_conf, f), lo }
const struct conf_opt conf_global_opts[GO_COUNT] = {
	GO(GO_LOG_LEVEL, "log_level", CT_LEVEL, log_level, 0),
	GO(GO_LOG_FORMAT, "log_format", CT_LOGFMT, log_json, 0),
	GO(GO_ERROR_LOG, "error_log", CT_PATH, error_log, 0),
	GO(GO_PHP_INI, "php_ini", CT_PATH, php_ini, 0),
	GO(GO_SCAN_DIR, "php_ini_scan_dir", CT_PATH, php_ini_scan_dir, 0),
	GO(GO_PCT, "process_control_timeout", CT_TIME,
	    process_control_timeout, 0),
	GO(GO_RELOAD_TIMEOUT, "reload_timeout", CT_TIME, reload_timeout, 1),
	GO(GO_PROCESS_MAX, "process.max", CT_INT, process_max, 0),
	GO(GO_RLIMIT_FILES, "rlimit_files", CT_INT, rlimit_files, 0),
	GO(GO_RLIMIT_CORE, "rlimit_core", CT_RLIMIT, rlimit_core, 0),
	GO(GO_CONTROL_SOCKET, "control.socket", CT_PATH, control_socket, 0),
	GO(GO_CONTROL_MODE, "control.mode", CT_MODE, control_mode, 0),
	GO(GO_CONTROL_OWNER, "control.owner", CT_STR, control_owner, 0),
	GO(GO_CONTROL_GROUP, "control.group", CT_STR, control_group, 0),
	GO(GO_INCLUDE, "include", CT_INCLUDE, file, 0),
	GO(GO_LOG_LIMIT, "log_limit", CT_INT, log_limit, CONF_LOG_LIMIT_MIN),
	GO(GO_LOG_BUFFERING, "log_buffering", CT_BOOL, log_buffering, 0),
	GO(GO_SYSLOG_IDENT, "syslog.ident", CT_STR, syslog_ident, 0),
	GO(GO_SYSLOG_FACILITY, "syslog.facility", CT_FACILITY,
	    syslog_facility, 0),
	GO(GO_STATUS_SOCKET, "control.status_socket", CT_PATH, status_socket,
	    0),
	GO(GO_STATUS_MODE, "control.status_mode", CT_MODE, status_mode, 0),
	GO(GO_STATUS_OWNER, "control.status_owner", CT_STR, status_owner, 0),
	GO(GO_STATUS_GROUP, "control.status_group", CT_STR, status_group, 0),
	GO(GO_EMERGENCY_THRESHOLD, "emergency_restart_threshold", CT_INT,
	    emergency_threshold, 0),
	GO(GO_EMERGENCY_INTERVAL, "emergency_restart_interval", CT_TIME,
	    emergency_interval, 0),
	GO(GO_PRIORITY, "process.priority", CT_PRIORITY, process_priority, 0),
};

#define PO(i, n, t, f, lo) \
	[i] = { n, t, offsetof(struct pool_conf, f), lo }
const struct conf_opt conf_pool_opts[PO_COUNT] = {
	PO(PO_LISTEN, "listen", CT_LISTEN, listen, 0),
	PO(PO_BACKLOG, "listen.backlog", CT_INT, listen_backlog, -1),
	PO(PO_LOWNER, "listen.owner", CT_STR, listen_owner, 0),
	PO(PO_LGROUP, "listen.group", CT_STR, listen_group, 0),
	PO(PO_LMODE, "listen.mode", CT_MODE, listen_mode, 0),
	PO(PO_LCLIENTS, "listen.allowed_clients", CT_CLIENTS,
	    listen_allowed_clients, 0),
	PO(PO_PM, "pm", CT_PM, pm, 0),
	PO(PO_MAX_CHILDREN, "pm.max_children", CT_INT, max_children, 1),
	PO(PO_START, "pm.start_servers", CT_INT, start_servers, 0),
	PO(PO_MIN_SPARE, "pm.min_spare_servers", CT_INT, min_spare_servers, 0),
	PO(PO_MAX_SPARE, "pm.max_spare_servers", CT_INT, max_spare_servers, 0),
	PO(PO_SPAWN_RATE, "pm.max_spawn_rate", CT_INT, max_spawn_rate, 1),
	PO(PO_IDLE, "pm.process_idle_timeout", CT_TIME,
	    process_idle_timeout, 0),
	PO(PO_MAX_REQUESTS, "pm.max_requests", CT_INT, max_requests, 0),
	PO(PO_USER, "user", CT_STR, user, 0),
	PO(PO_GROUP, "group", CT_STR, group, 0),
	PO(PO_CHDIR, "chdir", CT_PATH, chdir, 0),
	PO(PO_CHROOT, "chroot", CT_PATH, chroot, 0),
	PO(PO_CLEAR_ENV, "clear_env", CT_BOOL, clear_env, 0),
	PO(PO_PHP_INI, "php_ini", CT_PATH, php_ini, 0),
	PO(PO_SCAN_DIR, "php_ini_scan_dir", CT_PATH, php_ini_scan_dir, 0),
	PO(PO_VALUE_PARAMS, "php_value_params", CT_BOOL,
	    allow_php_value_param, 0),
	PO(PO_EXTS, "security.limit_extensions", CT_EXTS, limit_extensions, 0),
	PO(PO_CATCH, "catch_workers_output", CT_BOOL, catch_workers_output, 0),
	PO(PO_DECORATE, "decorate_workers_output", CT_BOOL,
	    decorate_workers_output, 0),
	PO(PO_DUMPABLE, "process.dumpable", CT_BOOL, process_dumpable, 0),
	PO(PO_RLIMIT_FILES, "rlimit_files", CT_INT, rlimit_files, 0),
	PO(PO_RLIMIT_CORE, "rlimit_core", CT_RLIMIT, rlimit_core, 0),
	PO(PO_TERMINATE, "request_terminate_timeout", CT_TIME,
	    request_terminate_timeout, 0),
	PO(PO_READ_TIMEOUT, "request_read_timeout", CT_TIME,
	    request_read_timeout, 0),
	PO(PO_STATUS_PATH, "pm.status_path", CT_STR, status_path, 0),
	PO(PO_PING_PATH, "ping.path", CT_STR, ping_path, 0),
	PO(PO_PING_RESPONSE, "ping.response", CT_STR, ping_response, 0),
	PO(PO_ACCESS_LOG, "access.log", CT_PATH, access_log, 0),
	PO(PO_ACCESS_FORMAT, "access.format", CT_STR, access_format, 0),
	PO(PO_ACCESS_SUPPRESS, "access.suppress_path", CT_URIS,
	    access_suppress, 0),
	PO(PO_SLOWLOG, "slowlog", CT_PATH, slowlog, 0),
	PO(PO_SLOWLOG_TIMEOUT, "request_slowlog_timeout", CT_TIME,
	    request_slowlog_timeout, 0),
	PO(PO_SLOWLOG_DEPTH, "request_slowlog_trace_depth", CT_INT,
	    request_slowlog_trace_depth, 1),
	PO(PO_STATUS_LISTEN, "pm.status_listen", CT_LISTEN, status_listen, 0),
	PO(PO_ACL_USERS, "listen.acl_users", CT_STR, listen_acl_users, 0),
	PO(PO_ACL_GROUPS, "listen.acl_groups", CT_STR, listen_acl_groups, 0),
	PO(PO_PRIORITY, "process.priority", CT_PRIORITY, process_priority, 0),
	PO(PO_MAX_MEMORY, "pm.max_memory", CT_SIZE, max_memory, 0),
	PO(PO_TRACK_FINISHED, "request_terminate_timeout_track_finished",
	    CT_BOOL, terminate_track_finished, 0),
	PO(PO_APPARMOR_HAT, "apparmor_hat", CT_STR, apparmor_hat, 0),
};

/* A problem: FILE:LINE: [pool NAME: ]reason, one line, in the list. */
void
conf_err(struct conf_load *cl, const char *file, int line, const char *pool,
    const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (conflex_errline(&cl->errs, &cl->errlen, file, line, pool, msg) ==
	    -1)
		cl->oom = true;
}

/* A notice or warning, logged only if the whole load succeeds. */
void
conf_note(struct conf_load *cl, enum log_level level, const char *fmt, ...)
{
	struct conf_note *n;
	char		 msg[1024], text[4 * sizeof(msg)];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conflex_vis(text, msg);
	n = reallocarray(cl->notes, cl->nnotes + 1, sizeof(*cl->notes));
	if (n == NULL) {
		cl->oom = true;
		return;
	}
	cl->notes = n;
	n = &cl->notes[cl->nnotes];
	n->level = level;
	if ((n->msg = strdup(text)) == NULL) {
		cl->oom = true;
		return;
	}
	cl->nnotes++;
}

static char *
conf_strdup(struct conf_load *cl, const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		cl->oom = true;
	return p;
}

/* Replaces every "$pool" with the pool's name, as php-fpm does. */
char *
conf_expand(const char *value, const char *pool)
{
	const char	*p, *q;
	size_t		 n = 0, plen = strlen(pool), len;
	char		*out, *o;

	for (p = value; (q = strstr(p, "$pool")) != NULL; p = q + 5)
		n++;
	len = strlen(value) + n * plen + 1;
	if ((out = malloc(len)) == NULL)
		return NULL;
	o = out;
	for (p = value; (q = strstr(p, "$pool")) != NULL; p = q + 5) {
		memcpy(o, p, q - p);
		o += q - p;
		memcpy(o, pool, plen);
		o += plen;
	}
	strcpy(o, p);
	return out;
}

bool
conf_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int
conf_int(const char *s, long *n)
{
	char	*end;

	if (*s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	*n = strtol(s, &end, 10);
	if (*end != '\0' || errno == ERANGE || *n > INT_MAX || *n < INT_MIN)
		return -1;
	return 0;
}

static int
conf_time(const char *s, long *n)
{
	char	*end;
	long	 mul = 1;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*n = strtol(s, &end, 10);
	if (errno == ERANGE)
		return -1;
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		mul = 60;
		break;
	case 'h':
		mul = 3600;
		break;
	case 'd':
		mul = 86400;
		break;
	default:
		return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (*n > INT_MAX / mul)
		return -1;
	*n *= mul;
	return 0;
}

/* A size in bytes: digits, optionally k, M or G (either case), as php.ini. */
static int
conf_size(const char *s, uint64_t *n)
{
	unsigned long long v;
	char	*end;
	int	 shift = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (v > (UINT64_MAX >> 1) >> shift)
		return -1;
	*n = (uint64_t)v << shift;
	return 0;
}

int
conf_bool(const char *s, bool *b)
{
	static const char *const yes[] = { "1", "yes", "on", "true" };
	static const char *const no[] = { "0", "no", "off", "false" };
	size_t	 i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*b = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*b = false;
			return 0;
		}
	}
	return -1;
}

static int
conf_mode(const char *s, long *n)
{
	const char *p;

	if (*s == '\0')
		return -1;
	for (p = s; *p != '\0'; p++)
		if (*p < '0' || *p > '7')
			return -1;
	errno = 0;
	*n = strtol(s, NULL, 8);
	if (errno == ERANGE || *n > 0777)
		return -1;
	return 0;
}

/* syslog.facility: php-fpm's names, in any case. */
static int
conf_facility(const char *s, int *facility)
{
	static const struct {
		const char	*name;
		int		 value;
	} names[] = {
		{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV },
		{ "cron", LOG_CRON }, { "daemon", LOG_DAEMON },
		{ "ftp", LOG_FTP }, { "kern", LOG_KERN }, { "lpr", LOG_LPR },
		{ "mail", LOG_MAIL }, { "news", LOG_NEWS },
		{ "syslog", LOG_SYSLOG }, { "user", LOG_USER },
		{ "uucp", LOG_UUCP }, { "local0", LOG_LOCAL0 },
		{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
		{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
		{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
		{ "local7", LOG_LOCAL7 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i].name) == 0) {
			*facility = names[i].value;
			return 0;
		}
	return -1;
}

const char *
conf_pm_name(enum pm_style pm)
{
	switch (pm) {
	case PM_STATIC:
		return "static";
	case PM_DYNAMIC:
		return "dynamic";
	case PM_ONDEMAND:
		return "ondemand";
	}
	return "?";
}

static int
conf_port(const char *s, in_port_t *port)
{
	long	 n;

	if (!conf_digits(s) || conf_int(s, &n) == -1 || n < 1 || n > 65535)
		return -1;
	*port = htons((uint16_t)n);
	return 0;
}

/*
 * A bare port means any address, IPv6 or IPv4: family is AF_UNSPEC and ss
 * holds [::]:port as a sockaddr_in6 (sin6_port sits where sin_port does), for
 * a dual-stack bind with a fall-back to 0.0.0.0 where IPv6 is missing.
 */
int
conf_listen_parse(const char *text, struct listen_addr *addr, char *err,
    size_t errlen)
{
	struct sockaddr_un	*su = (struct sockaddr_un *)&addr->ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&addr->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&addr->ss;
	struct addrinfo		 hints, *res;
	char			 host[FPMD_ADDR_MAX], ntop[INET6_ADDRSTRLEN];
	const char		*port, *p;
	char			*path;
	in_port_t		 nport;
	int			 rc;

	memset(addr, 0, sizeof(*addr));
	if (text[0] == '/') {
		if ((path = conffile_path_clean(text)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (strlen(path) >= sizeof(su->sun_path)) {
			snprintf(err, errlen, "unix socket path '%s' is longer "
			    "than %zu bytes", path, sizeof(su->sun_path) - 1);
			free(path);
			return -1;
		}
		addr->family = AF_UNIX;
		su->sun_family = AF_UNIX;
		strcpy(su->sun_path, path);
		addr->sslen = offsetof(struct sockaddr_un, sun_path) +
		    strlen(path) + 1;
		strcpy(addr->text, path);
		free(path);
		return 0;
	}

	if (conf_digits(text)) {
		host[0] = '*';
		host[1] = '\0';
		port = text;
	} else if (text[0] == '[') {
		if ((p = strchr(text, ']')) == NULL || p[1] != ':' ||
		    (size_t)(p - text) >= sizeof(host)) {
			snprintf(err, errlen, "'%s' is not [IPv6 address]:port",
			    text);
			return -1;
		}
		memcpy(host, text + 1, p - text - 1);
		host[p - text - 1] = '\0';
		port = p + 2;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
			snprintf(err, errlen, "'%s' is not an IPv6 address",
			    host);
			return -1;
		}
	} else if ((p = strrchr(text, ':')) != NULL) {
		if (memchr(text, ':', p - text) != NULL) {
			snprintf(err, errlen, "write an IPv6 address in "
			    "brackets: [address]:port");
			return -1;
		}
		if (p == text || (size_t)(p - text) >= sizeof(host)) {
			snprintf(err, errlen, "'%s' has no address before the "
			    "port (use a bare port for any address)", text);
			return -1;
		}
		memcpy(host, text, p - text);
		host[p - text] = '\0';
		port = p + 1;
	} else {
		snprintf(err, errlen, "'%s' is not an absolute unix socket "
		    "path, address:port, [IPv6 address]:port or port", text);
		return -1;
	}
	if (conf_port(port, &nport) == -1) {
		snprintf(err, errlen, "'%s' is not a port (1 to 65535)", port);
		return -1;
	}

	if (text[0] == '[') {
		addr->family = AF_INET6;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = nport;
		addr->sslen = sizeof(*sin6);
		inet_ntop(AF_INET6, &sin6->sin6_addr, ntop, sizeof(ntop));
		snprintf(addr->text, sizeof(addr->text), "[%s]:%u", ntop,
		    ntohs(nport));
		return 0;
	}
	if (strcmp(host, "*") == 0) {
		addr->family = AF_UNSPEC;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = nport;
		addr->sslen = sizeof(*sin6);
		snprintf(addr->text, sizeof(addr->text), "*:%u", ntohs(nport));
		return 0;
	}
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		addr->family = AF_INET;
		sin->sin_family = AF_INET;
		sin->sin_port = nport;
		addr->sslen = sizeof(*sin);
		inet_ntop(AF_INET, &sin->sin_addr, ntop, sizeof(ntop));
		snprintf(addr->text, sizeof(addr->text), "%s:%u", ntop,
		    ntohs(nport));
		return 0;
	}

	if (strspn(host, "0123456789.") == strlen(host)) {
		snprintf(err, errlen, "'%s' is not an IPv4 address", host);
		return -1;
	}

	/* A host name, as php-fpm allows: the first address it has. */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve '%s': %s", host,
		    gai_strerror(rc));
		return -1;
	}
	addr->family = res->ai_family;
	memcpy(&addr->ss, res->ai_addr, res->ai_addrlen);
	addr->sslen = res->ai_addrlen;
	freeaddrinfo(res);
	if (addr->family == AF_INET6) {
		sin6->sin6_port = nport;
		inet_ntop(AF_INET6, &sin6->sin6_addr, ntop, sizeof(ntop));
		snprintf(addr->text, sizeof(addr->text), "[%s]:%u", ntop,
		    ntohs(nport));
	} else {
		sin->sin_port = nport;
		inet_ntop(AF_INET, &sin->sin_addr, ntop, sizeof(ntop));
		snprintf(addr->text, sizeof(addr->text), "%s:%u", ntop,
		    ntohs(nport));
	}
	return 0;
}

/* php-fpm's rule: a ':' or nothing but digits makes a TCP address. */
static bool
conf_listen_is_path(const char *v)
{
	return v[0] == '/' ||
	    (v[0] != '[' && strchr(v, ':') == NULL && !conf_digits(v));
}

/* Words separated by spaces, tabs or commas, in place of *lp. */
static int
conf_words(const char *v, char ***lp, size_t *np)
{
	char	**list = NULL, **tmp;
	size_t	  n = 0, len, i;
	const char *p = v;

	for (;;) {
		p += strspn(p, " \t,");
		if (*p == '\0')
			break;
		len = strcspn(p, " \t,");
		if ((tmp = reallocarray(list, n + 1, sizeof(*list))) == NULL)
			goto fail;
		list = tmp;
		if ((list[n] = strndup(p, len)) == NULL)
			goto fail;
		n++;
		p += len;
	}
	for (i = 0; i < *np; i++)
		free((*lp)[i]);
	free(*lp);
	*lp = list;
	*np = n;
	return 0;
fail:
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return -1;
}

int
conf_exts(struct pool_conf *pc, const char *v)
{
	return conf_words(v, &pc->limit_extensions, &pc->nlimit_extensions);
}

/* listen.allowed_clients: addresses separated by commas; empty = anyone */
static int
conf_clients(const char *v, char *bad, size_t badlen)
{
	unsigned char	 buf[sizeof(struct in6_addr)];
	const char	*p = v;
	size_t		 len;

	for (;;) {
		p += strspn(p, " \t,");
		if (*p == '\0')
			return 0;
		len = strcspn(p, " \t,");
		snprintf(bad, badlen, "%.*s", (int)len, p);
		if (inet_pton(AF_INET, bad, buf) != 1 &&
		    inet_pton(AF_INET6, bad, buf) != 1)
			return -1;
		p += len;
	}
}

/* Converts one option's value and stores it; v is owned by the caller. */
void
conf_store(struct conf_load *cl, struct conf_pool *cp,
    const struct conf_opt *o, char *v, const char *file, int line)
{
	char		*base = cp != NULL ? (char *)&cp->pc : (char *)cl->conf;
	char		**sp = (char **)(base + o->off);
	int		*ip = (int *)(base + o->off);
	const char	*pool = cp != NULL ? cp->pc.name : NULL;
	char		 buf[256], *s;
	long		 n;
	size_t		 i;
	bool		 b, st;

	switch (o->type) {
	case CT_STR:
	case CT_CLIENTS:
		if (o->type == CT_CLIENTS && conf_clients(v, buf,
		    sizeof(buf)) == -1) {
			conf_err(cl, file, line, pool, "%s: '%s' is not an IP "
			    "address", o->name, buf);
			return;
		}
		free(*sp);
		*sp = NULL;
		if (*v != '\0')
			*sp = conf_strdup(cl, v);
		return;
	case CT_PATH:
		free(*sp);
		*sp = NULL;
		/* syslog is a word too, as in php-fpm: errlog.c sends there */
		if (o == &conf_global_opts[GO_ERROR_LOG]) {
			cl->conf->log_syslog = strcmp(v, "syslog") == 0;
			if (cl->conf->log_syslog) {
				if ((*sp = strdup(v)) == NULL)
					cl->oom = true;
				return;
			}
		}
		/* NULL is stderr, and "stderr" is no file name */
		if (o == &conf_global_opts[GO_ERROR_LOG] &&
		    strcmp(v, "stderr") == 0)
			return;
		/* for these NULL is off: stderr stays a word (fpmd's own) */
		if ((o == &conf_pool_opts[PO_ACCESS_LOG] ||
		    o == &conf_pool_opts[PO_SLOWLOG]) &&
		    strcmp(v, "stderr") == 0) {
			if ((*sp = strdup(v)) == NULL)
				cl->oom = true;
			return;
		}
		if (*v != '\0' && (*sp = conffile_path_abs(
		    cl->files.cs_cur->cf_dir, v)) == NULL)
			cl->oom = true;
		/* PHP would silently run on its defaults without it. */
		if (*sp != NULL && (o == &conf_global_opts[GO_PHP_INI] ||
		    o == &conf_pool_opts[PO_PHP_INI]) &&
		    access(*sp, R_OK) == -1)
			conf_err(cl, file, line, pool, "php_ini: cannot read "
			    "'%s': %s", *sp, strerror(errno));
		return;
	case CT_LISTEN:
		/* listen, or pm.status_listen: the same kind of address */
		st = o == &conf_pool_opts[PO_STATUS_LISTEN];
		free(*sp);
		*sp = NULL;
		*(st ? &cp->status_addr_ok : &cp->addr_ok) = false;
		if (*v == '\0') {
			conf_err(cl, file, line, pool, "%s: empty address",
			    o->name);
			return;
		}
		if (conf_listen_is_path(v))
			s = conffile_path_abs(cl->files.cs_cur->cf_dir, v);
		else
			s = strdup(v);
		if (s == NULL) {
			cl->oom = true;
			return;
		}
		if (conf_listen_parse(s, st ? &cp->pc.status_addr :
		    &cp->pc.addr, buf, sizeof(buf)) == -1) {
			conf_err(cl, file, line, pool, "%s: %s", o->name, buf);
			free(s);
			return;
		}
		*sp = s;
		*(st ? &cp->status_addr_ok : &cp->addr_ok) = true;
		return;
	case CT_EXTS:
		if (conf_exts(&cp->pc, v) == -1)
			cl->oom = true;
		return;
	case CT_URIS:
		/* access.suppress_path: compared with the request URI */
		if (conf_words(v, &cp->pc.access_suppress,
		    &cp->pc.naccess_suppress) == -1) {
			cl->oom = true;
			return;
		}
		for (i = 0; i < cp->pc.naccess_suppress; i++)
			if (cp->pc.access_suppress[i][0] != '/')
				conf_err(cl, file, line, pool, "%s: '%s' must "
				    "begin with '/' (a path as the request URI "
				    "has it, e.g. /ping)", o->name,
				    cp->pc.access_suppress[i]);
		return;
	case CT_INCLUDE:
		cl->cl_include(cl, v, file, line);
		return;
	case CT_INT:
		if (conf_int(v, &n) == -1) {
			conf_err(cl, file, line, pool, "%s: '%s' is not a "
			    "whole number", o->name, v);
			return;
		}
		if (n < o->min) {
			conf_err(cl, file, line, pool, "%s must be at least %d "
			    "(got %ld)", o->name, o->min, n);
			return;
		}
		*ip = (int)n;
		return;
	case CT_TIME:
		if (conf_time(v, &n) == -1) {
			conf_err(cl, file, line, pool, "%s: '%s' is not a "
			    "duration (seconds, or a number with s, m, h or d)",
			    o->name, v);
			return;
		}
		*ip = (int)n;
		return;
	case CT_PRIORITY:
		/* php-fpm's range and words */
		if (conf_int(v, &n) == -1) {
			conf_err(cl, file, line, pool, "%s: '%s' is not a "
			    "whole number", o->name, v);
			return;
		}
		if (n < -19 || n > 20) {
			conf_err(cl, file, line, pool, "process.priority must "
			    "be included into [-19,20] (got %ld)", n);
			return;
		}
		*ip = (int)n;
		return;
	case CT_SIZE:
		if (conf_size(v, (uint64_t *)(base + o->off)) == -1)
			conf_err(cl, file, line, pool, "%s: '%s' is not a size "
			    "(bytes, or a number with k, M or G: 256M)",
			    o->name, v);
		return;
	case CT_BOOL:
		if (conf_bool(v, &b) == -1) {
			conf_err(cl, file, line, pool, "%s: '%s' is not yes or "
			    "no", o->name, v);
			return;
		}
		*(bool *)(base + o->off) = b;
		return;
	case CT_MODE:
		if (conf_mode(v, &n) == -1) {
			conf_err(cl, file, line, pool, "%s: '%s' is not an "
			    "octal mode from 0 to 0777", o->name, v);
			return;
		}
		*ip = (int)n;
		return;
	case CT_RLIMIT:
		if (strcmp(v, "unlimited") == 0) {
			*ip = -2;
			return;
		}
		if (conf_int(v, &n) == -1 || n < 0) {
			conf_err(cl, file, line, pool, "%s: '%s' is neither a "
			    "number (0 or more) nor 'unlimited'", o->name, v);
			return;
		}
		*ip = (int)n;
		return;
	case CT_LEVEL:
		if (log_level_parse(v, &cl->conf->log_level) == -1)
			conf_err(cl, file, line, pool, "%s: '%s' is not one of "
			    "debug, notice, warning, error, alert", o->name, v);
		return;
	case CT_LOGFMT:
		if (strcmp(v, "text") == 0)
			cl->conf->log_json = false;
		else if (strcmp(v, "json") == 0)
			cl->conf->log_json = true;
		else
			conf_err(cl, file, line, pool, "%s: '%s' is not text or "
			    "json", o->name, v);
		return;
	case CT_FACILITY:
		if (conf_facility(v, ip) == -1)
			conf_err(cl, file, line, pool, "%s: '%s' is not one of "
			    "auth, authpriv, cron, daemon, ftp, kern, lpr, "
			    "mail, news, syslog, user, uucp, local0 to local7",
			    o->name, v);
		return;
	case CT_PM:
		if (strcmp(v, "static") == 0)
			cp->pc.pm = PM_STATIC;
		else if (strcmp(v, "dynamic") == 0)
			cp->pc.pm = PM_DYNAMIC;
		else if (strcmp(v, "ondemand") == 0)
			cp->pc.pm = PM_ONDEMAND;
		else
			conf_err(cl, file, line, pool, "pm: '%s' is not one of "
			    "static, dynamic, ondemand", v);
		return;
	}
}
