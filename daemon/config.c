/*
 * The configuration reader.  It turns fpmd.conf and the files it includes
 * into one immutable struct fpmd_conf, or into a list of "FILE:LINE: reason"
 * lines that names every problem it could find, so that a reload with a typo
 * is refused with all of them at once.
 *
 * libconfuse does the tokenising and the nesting; fpmd does everything else.
 * Every option is declared as a string and converted by our own validate
 * callback, which runs right after the value is read: that is the only
 * moment libconfuse 3.3 knows the option's line, and a callback that never
 * fails lets the parse go on past a bad value.  Root and pool sections are
 * CFGF_KEYSTRVAL so that an unknown option is reported (through the error
 * function) and skipped instead of ending the parse.  libconfuse 3.3 also
 * miscounts lines after comments, so comments are blanked out before it
 * sees the text.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <libintl.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <confuse.h>

#include "fpmd.h"

#define CONF_INCLUDE_DEPTH	5	/* php-fpm's limit */
#define CONF_FILES_MAX		1000	/* read by one load, includes and all */
#define CONF_POOL_NAME_MAX	31	/* php-fpm's scoreboard keeps 32 bytes */
#define CONF_BACKLOG		511
#define CONF_MODE		0660
#define CONF_SPAWN_RATE		32
#define CONF_IDLE_TIMEOUT	10
#define CONF_READ_TIMEOUT	10	/* request_read_timeout */
#define CONF_RELOAD_TIMEOUT	60	/* reload_timeout */
#define CONF_EXTENSIONS		".php .phar"
/*
 * A sub-section of every pool that nobody writes: libconfuse creates it when
 * the pool's '{' is read and copies the line and file into it, which is the
 * only record of where the pool starts (the pool's own line field moves on
 * with the parse).
 */
#define CONF_OPEN_SEC		" open"

enum conf_type {
	CT_STR,		/* string; empty means unset */
	CT_PATH,	/* string, relative to the file's directory */
	CT_INT,
	CT_TIME,	/* seconds, optional suffix s, m, h or d */
	CT_BOOL,
	CT_MODE,	/* octal permission bits */
	CT_RLIMIT,	/* number or "unlimited" */
	CT_LEVEL,
	CT_PM,
	CT_LISTEN,
	CT_CLIENTS,
	CT_EXTS,
	CT_INCLUDE
};

struct conf_opt {
	const char	*name;
	enum conf_type	 type;
	size_t		 off;		/* into struct fpmd_conf or pool_conf */
	int		 min;		/* CT_INT and CT_TIME */
};

enum {
	GO_LOG_LEVEL, GO_ERROR_LOG, GO_PHP_INI, GO_SCAN_DIR, GO_PCT,
	GO_RELOAD_TIMEOUT,
	GO_PROCESS_MAX, GO_RLIMIT_FILES, GO_RLIMIT_CORE, GO_CONTROL_SOCKET,
	GO_CONTROL_MODE, GO_CONTROL_OWNER, GO_CONTROL_GROUP, GO_INCLUDE,
	GO_COUNT
};

#define GO(i, n, t, f, lo) \
	[i] = { n, t, offsetof(struct fpmd_conf, f), lo }
static const struct conf_opt global_opts[GO_COUNT] = {
	GO(GO_LOG_LEVEL, "log_level", CT_LEVEL, log_level, 0),
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
};

enum {
	PO_LISTEN, PO_BACKLOG, PO_LOWNER, PO_LGROUP, PO_LMODE, PO_LCLIENTS,
	PO_PM, PO_MAX_CHILDREN, PO_START, PO_MIN_SPARE, PO_MAX_SPARE,
	PO_SPAWN_RATE, PO_IDLE, PO_MAX_REQUESTS, PO_USER, PO_GROUP, PO_CHDIR,
	PO_CHROOT, PO_CLEAR_ENV, PO_PHP_INI, PO_SCAN_DIR, PO_VALUE_PARAMS,
	PO_EXTS, PO_CATCH, PO_DECORATE, PO_DUMPABLE, PO_RLIMIT_FILES,
	PO_RLIMIT_CORE, PO_TERMINATE, PO_READ_TIMEOUT,
	PO_COUNT
};

#define PO(i, n, t, f, lo) \
	[i] = { n, t, offsetof(struct pool_conf, f), lo }
static const struct conf_opt pool_opts[PO_COUNT] = {
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
};

/* The free-form pool sections, in the order their settings are applied. */
static const struct {
	const char	*name;
	bool		 admin;
	bool		 flag;
} php_secs[] = {
	{ "php_value", false, false },
	{ "php_flag", false, true },
	{ "php_admin_value", true, false },
	{ "php_admin_flag", true, true },
};

/*
 * php-fpm directives fpmd has no equivalent for, so that a migrated file
 * gets a reason rather than a bare "unknown option".
 */
static const struct {
	const char	*name;
	const char	*why;		/* NULL: nothing to add */
} fpm_only[] = {
	{ "pid", "fpmd writes no pid file" },
	{ "daemonize", "fpmd always runs in the foreground" },
	{ "syslog.ident", "fpmd logs to stderr or error_log" },
	{ "syslog.facility", "fpmd logs to stderr or error_log" },
	{ "log_buffering", "fpmd always writes whole lines" },
	{ "log_limit", NULL },
	{ "emergency_restart_threshold", "fpmd restarts a crashing worker "
	    "with a back-off" },
	{ "emergency_restart_interval", "fpmd restarts a crashing worker "
	    "with a back-off" },
	{ "events.mechanism", "fpmd always uses epoll" },
	{ "systemd_interval", NULL },
	{ "process.priority", NULL },
	{ "prefix", "relative paths start at the config file's directory" },
	{ "listen.acl_users", "use listen.owner, listen.group and listen.mode" },
	{ "listen.acl_groups", "use listen.owner, listen.group and "
	    "listen.mode" },
	{ "listen.setfib", NULL },
	{ "apparmor_hat", NULL },
	{ "pm.status_path", "use fpmctl status" },
	{ "pm.status_listen", "use fpmctl status" },
	{ "ping.path", "use fpmctl ping" },
	{ "ping.response", "use fpmctl ping" },
	{ "access.log", NULL },
	{ "access.format", NULL },
	{ "access.suppress_path", NULL },
	{ "slowlog", NULL },
	{ "request_slowlog_timeout", NULL },
	{ "request_slowlog_trace_depth", NULL },
	{ "request_terminate_timeout_track_finished", NULL },
};

struct conf_file {
	char		*name;		/* as in messages */
	char		*dir;		/* absolute; relative paths start here */
	int		 depth;		/* 0: the main file */
	dev_t		 dev;
	ino_t		 ino;
	struct conf_file *parent;	/* the file that includes it */
};

struct conf_key {			/* where a free-form key was read */
	cfg_t		*sec;
	char		*key;
	int		 line;
};

struct conf_note {
	enum log_level	 level;
	char		*msg;
};

struct conf_pool {
	struct pool_conf pc;
	int		 line[PO_COUNT];	/* where set; 0: not set */
	bool		 addr_ok;
};

struct conf_load {
	struct fpmd_conf *conf;
	int		  flags;
	char		 *cwd;
	cfg_opt_t	 *root_opts;
	cfg_opt_t	 *pool_opts;

	struct conf_file **files;
	size_t		  nfiles;
	struct conf_file *cur;		/* the file being read */
	/* freed only at the end: cfg_free() of a root resets the lexer */
	cfg_t		**cfgs;
	size_t		  ncfgs;

	struct conf_pool *pools;
	size_t		  npools;
	cfg_t		 *open_sec;	/* pools[npools - 1] while being read */
	struct conf_key	 *keys;
	size_t		  nkeys;

	const char	 *gfile[GO_COUNT];
	int		  gline[GO_COUNT];

	struct conf_file *unknown_file;	/* last unknown option, to drop */
	int		  unknown_line;	/* libconfuse's follow-up error */

	char		 *errs;
	size_t		  errlen;
	struct conf_note *notes;	/* logged only if the load succeeds */
	size_t		  nnotes;
	bool		  broken;	/* a file was not read to its end */
	bool		  lexer_stuck;	/* see conf_cb_error() */
	bool		  too_many;	/* CONF_FILES_MAX reached */
	bool		  oom;
};

/*
 * libconfuse's callbacks carry no user pointer; conf_load() is not
 * reentrant anyway, since the lexer underneath keeps global state.
 */
static struct conf_load *conf_cur;

static void	conf_parse_file(struct conf_load *, const char *, int,
		    const char *, int);

/* Length of the valid UTF-8 sequence at s (as jansson checks it), or 0. */
static size_t
conf_utf8_len(const unsigned char *s)
{
	unsigned int	 v;
	size_t		 n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		v = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		v = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		v = s[0] & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) ||
	    v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	return n;
}

/*
 * Messages quote what the file says, and a quoted value may hold newlines,
 * control characters or bytes that are not UTF-8.  Every message must stay
 * one line of text (the control socket sends one JSON string per line):
 * those bytes are written as \n, \t or \xHH.  dst has 4 * strlen(src) + 1
 * bytes.
 */
static void
conf_vis(char *dst, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t		 n;

	while (*s != '\0') {
		if (*s == '\n' || *s == '\t') {
			*dst++ = '\\';
			*dst++ = *s++ == '\n' ? 'n' : 't';
		} else if (*s < 0x20 || *s == 0x7f ||
		    (n = conf_utf8_len(s)) == 0) {
			snprintf(dst, 5, "\\x%02x", *s++);
			dst += 4;
		} else {
			memcpy(dst, s, n);
			dst += n;
			s += n;
		}
	}
	*dst = '\0';
}

static void __attribute__((format(printf, 5, 6)))
conf_err(struct conf_load *cl, const char *file, int line, const char *pool,
    const char *fmt, ...)
{
	char	 msg[1024], head[512], text[4 * (sizeof(msg) + sizeof(head))];
	va_list	 ap;
	size_t	 hl, len;
	char	*p;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(head, sizeof(head), "%s:%d: ", file, line);
	else
		snprintf(head, sizeof(head), "%s: ", file);
	if (pool != NULL) {
		hl = strlen(head);
		snprintf(head + hl, sizeof(head) - hl, "pool %s: ", pool);
	}
	conf_vis(text, head);
	hl = strlen(text);
	conf_vis(text + hl, msg);
	len = strlen(text);
	if ((p = realloc(cl->errs, cl->errlen + len + 2)) == NULL) {
		cl->oom = true;
		return;
	}
	cl->errs = p;
	memcpy(p + cl->errlen, text, len);
	cl->errlen += len;
	p[cl->errlen++] = '\n';
	p[cl->errlen] = '\0';
}

static void __attribute__((format(printf, 3, 4)))
conf_note(struct conf_load *cl, enum log_level level, const char *fmt, ...)
{
	struct conf_note *n;
	char		 msg[1024], text[4 * sizeof(msg)];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conf_vis(text, msg);
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

/* Makes an absolute path clean without asking the file system. */
static char *
conf_path_clean(const char *path)
{
	char	*out;
	size_t	 len = 0, keep;
	const char *p = path, *e;

	if ((out = malloc(strlen(path) + 2)) == NULL)
		return NULL;
	while (*p != '\0') {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		e = p + strcspn(p, "/");
		if (e - p == 1 && p[0] == '.') {
			/* nothing */
		} else if (e - p == 2 && p[0] == '.' && p[1] == '.') {
			keep = len;
			while (keep > 0 && out[keep - 1] != '/')
				keep--;
			len = keep > 0 ? keep - 1 : 0;
		} else {
			out[len++] = '/';
			memcpy(out + len, p, e - p);
			len += e - p;
		}
		p = e;
	}
	if (len == 0)
		out[len++] = '/';
	out[len] = '\0';
	return out;
}

/* The first dirlen bytes of dir, a slash and name, in a new string. */
static char *
conf_join(const char *dir, size_t dirlen, const char *name)
{
	size_t	 len = dirlen + 1 + strlen(name) + 1;
	char	*out;

	if ((out = malloc(len)) != NULL)
		snprintf(out, len, "%.*s/%s", (int)dirlen, dir, name);
	return out;
}

/* dir is absolute; path is taken relative to it unless it is absolute. */
static char *
conf_path_abs(const char *dir, const char *path)
{
	char	*tmp, *out;

	if (path[0] == '/')
		return conf_path_clean(path);
	if ((tmp = conf_join(dir, strlen(dir), path)) == NULL)
		return NULL;
	out = conf_path_clean(tmp);
	free(tmp);
	return out;
}

/* Replaces every "$pool" with the pool's name, as php-fpm does. */
static char *
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

static bool
conf_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int
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

static int
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
		if ((path = conf_path_clean(text)) == NULL) {
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

static uint16_t
conf_addr_port(const struct listen_addr *a)
{
	if (a->ss.ss_family == AF_INET6)
		return ((const struct sockaddr_in6 *)&a->ss)->sin6_port;
	return ((const struct sockaddr_in *)&a->ss)->sin_port;
}

static bool
conf_addr_any(const struct listen_addr *a, int family)
{
	const struct sockaddr_in	*sin = (const void *)&a->ss;
	const struct sockaddr_in6	*sin6 = (const void *)&a->ss;

	if (a->family == AF_UNSPEC)
		return true;
	if (a->family == AF_INET6)	/* dual stack: covers IPv4 too */
		return IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
	return family == AF_INET && sin->sin_addr.s_addr == INADDR_ANY;
}

/* Would binding both fail?  A wildcard takes the port for its family. */
static bool
conf_addr_conflict(const struct listen_addr *a, const struct listen_addr *b)
{
	if (a->family == AF_UNIX || b->family == AF_UNIX)
		return a->family == b->family && strcmp(a->text, b->text) == 0;
	if (conf_addr_port(a) != conf_addr_port(b))
		return false;
	if (conf_addr_any(a, b->family) || conf_addr_any(b, a->family))
		return true;
	return a->family == b->family && strcmp(a->text, b->text) == 0;
}

static int
conf_user(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;
	long		 n;

	if (conf_digits(name)) {
		if (conf_int(name, &n) == -1)
			return -1;
		*uid = (uid_t)n;
		pw = getpwuid(*uid);
		*gid = pw != NULL ? pw->pw_gid : (gid_t)-1;
		return 0;
	}
	if ((pw = getpwnam(name)) == NULL)
		return -1;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

static int
conf_group(const char *name, gid_t *gid)
{
	struct group	*gr;
	long		 n;

	if (conf_digits(name)) {
		if (conf_int(name, &n) == -1)
			return -1;
		*gid = (gid_t)n;
		return 0;
	}
	if ((gr = getgrnam(name)) == NULL)
		return -1;
	*gid = gr->gr_gid;
	return 0;
}

static void
conf_pool_clear(struct pool_conf *pc)
{
	size_t	 i;

	free(pc->name);
	free(pc->file);
	free(pc->listen);
	free(pc->listen_owner);
	free(pc->listen_group);
	free(pc->listen_allowed_clients);
	free(pc->user);
	free(pc->group);
	free(pc->chdir);
	free(pc->chroot);
	for (i = 0; i < pc->nenv; i++) {
		free(pc->env[i].key);
		free(pc->env[i].value);
	}
	free(pc->env);
	free(pc->php_ini);
	free(pc->php_ini_scan_dir);
	for (i = 0; i < pc->nphp; i++) {
		free(pc->php[i].name);
		free(pc->php[i].value);
	}
	free(pc->php);
	for (i = 0; i < pc->nlimit_extensions; i++)
		free(pc->limit_extensions[i]);
	free(pc->limit_extensions);
}

void
conf_free(struct fpmd_conf *conf)
{
	size_t	 i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->npools; i++)
		conf_pool_clear(&conf->pools[i]);
	free(conf->pools);
	free(conf->file);
	free(conf->error_log);
	free(conf->php_ini);
	free(conf->php_ini_scan_dir);
	free(conf->control_socket);
	free(conf->control_owner);
	free(conf->control_group);
	free(conf);
}

static int
conf_exts(struct pool_conf *pc, const char *v)
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
	for (i = 0; i < pc->nlimit_extensions; i++)
		free(pc->limit_extensions[i]);
	free(pc->limit_extensions);
	pc->limit_extensions = list;
	pc->nlimit_extensions = n;
	return 0;
fail:
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return -1;
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

static void
conf_include(struct conf_load *cl, const char *value, const char *file,
    int line)
{
	struct conf_file *cf = cl->cur;
	struct stat	 st;
	glob_t		 g;
	const char	*slash;
	char		*pattern;
	size_t		 i;
	int		 rc;

	if (*value == '\0') {
		conf_err(cl, file, line, NULL, "include: empty file name");
		return;
	}
	/*
	 * Relative to the including file, and spelled from its name as the
	 * user gave it, so that messages name files the way the user does.
	 */
	slash = strrchr(cf->name, '/');
	if (value[0] == '/' || slash == NULL)
		pattern = strdup(value);
	else
		pattern = conf_join(cf->name, slash - cf->name, value);
	if (pattern == NULL) {
		cl->oom = true;
		return;
	}
	if (strpbrk(value, "*?[") == NULL) {
		conf_parse_file(cl, pattern, cf->depth + 1, file, line);
		free(pattern);
		return;
	}
	rc = glob(pattern, 0, NULL, &g);
	if (rc == GLOB_NOMATCH) {
		conf_note(cl, LOG_LVL_WARNING, "%s:%d: include '%s' matches "
		    "no file", file, line, value);
	} else if (rc != 0) {
		conf_err(cl, file, line, NULL, "include '%s': %s", value,
		    rc == GLOB_NOSPACE ? "out of memory" : "cannot read");
	} else {
		for (i = 0; i < g.gl_pathc; i++) {
			if (stat(g.gl_pathv[i], &st) == 0 &&
			    S_ISDIR(st.st_mode))
				continue;
			conf_parse_file(cl, g.gl_pathv[i], cf->depth + 1,
			    file, line);
		}
	}
	if (rc != GLOB_NOMATCH)
		globfree(&g);
	free(pattern);
}

/* Converts one option's value and stores it; v is owned by the caller. */
static void
conf_store(struct conf_load *cl, struct conf_pool *cp,
    const struct conf_opt *o, char *v, const char *file, int line)
{
	char		*base = cp != NULL ? (char *)&cp->pc : (char *)cl->conf;
	char		**sp = (char **)(base + o->off);
	int		*ip = (int *)(base + o->off);
	const char	*pool = cp != NULL ? cp->pc.name : NULL;
	char		 buf[256], *s;
	long		 n;
	bool		 b;

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
		if (o == &global_opts[GO_ERROR_LOG] && strcmp(v, "syslog") ==
		    0) {
			conf_err(cl, file, line, pool, "error_log: syslog is "
			    "not supported: log to stderr (the supervisor "
			    "keeps it) or to a file");
			return;
		}
		free(*sp);
		*sp = NULL;
		/* NULL is stderr, and "stderr" is no file name */
		if (o == &global_opts[GO_ERROR_LOG] && strcmp(v, "stderr") ==
		    0)
			return;
		if (*v != '\0' && (*sp = conf_path_abs(cl->cur->dir, v)) ==
		    NULL)
			cl->oom = true;
		/* PHP would silently run on its defaults without it. */
		if (*sp != NULL && (o == &global_opts[GO_PHP_INI] ||
		    o == &pool_opts[PO_PHP_INI]) && access(*sp, R_OK) == -1)
			conf_err(cl, file, line, pool, "php_ini: cannot read "
			    "'%s': %s", *sp, strerror(errno));
		return;
	case CT_LISTEN:
		free(*sp);
		*sp = NULL;
		cp->addr_ok = false;
		if (*v == '\0') {
			conf_err(cl, file, line, pool, "listen: empty address");
			return;
		}
		if (conf_listen_is_path(v))
			s = conf_path_abs(cl->cur->dir, v);
		else
			s = strdup(v);
		if (s == NULL) {
			cl->oom = true;
			return;
		}
		if (conf_listen_parse(s, &cp->pc.addr, buf, sizeof(buf)) ==
		    -1) {
			conf_err(cl, file, line, pool, "listen: %s", buf);
			free(s);
			return;
		}
		*sp = s;
		cp->addr_ok = true;
		return;
	case CT_EXTS:
		if (conf_exts(&cp->pc, v) == -1)
			cl->oom = true;
		return;
	case CT_INCLUDE:
		conf_include(cl, v, file, line);
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

static bool
conf_pool_name_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("._-", *s) == NULL)
			return false;
	return true;
}

/* The pool whose section sec is, made when its first option is read. */
static struct conf_pool *
conf_pool_get(struct conf_load *cl, cfg_t *sec)
{
	struct conf_pool *cp, *tmp;
	struct pool_conf *pc;
	cfg_t		*open;
	const char	*name = sec->title;
	size_t		 i;

	if (cl->open_sec == sec)
		return &cl->pools[cl->npools - 1];
	if ((open = cfg_getsec(sec, CONF_OPEN_SEC)) == NULL)
		return NULL;
	tmp = reallocarray(cl->pools, cl->npools + 1, sizeof(*cl->pools));
	if (tmp == NULL)
		return NULL;
	cl->pools = tmp;
	cp = &cl->pools[cl->npools];
	memset(cp, 0, sizeof(*cp));
	pc = &cp->pc;
	pc->listen_backlog = CONF_BACKLOG;
	pc->listen_uid = (uid_t)-1;
	pc->listen_gid = (gid_t)-1;
	pc->listen_mode = CONF_MODE;
	pc->max_spawn_rate = CONF_SPAWN_RATE;
	pc->process_idle_timeout = CONF_IDLE_TIMEOUT;
	pc->request_read_timeout = CONF_READ_TIMEOUT;
	pc->uid = (uid_t)-1;
	pc->gid = (gid_t)-1;
	pc->clear_env = true;
	pc->allow_php_value_param = true;
	pc->decorate_workers_output = true;
	pc->rlimit_files = -1;
	pc->rlimit_core = -1;
	pc->line = open->line;
	pc->name = strdup(name);
	pc->file = strdup(open->filename);
	cl->npools++;
	cl->open_sec = sec;
	if (pc->name == NULL || pc->file == NULL ||
	    conf_exts(pc, CONF_EXTENSIONS) == -1) {
		cl->oom = true;
		return NULL;
	}

	if (*name == '\0' || !conf_pool_name_ok(name))
		conf_err(cl, pc->file, pc->line, NULL, "pool name '%s' may "
		    "only have letters, digits, '.', '_' and '-'", name);
	else if (strlen(name) > CONF_POOL_NAME_MAX)
		conf_err(cl, pc->file, pc->line, NULL, "pool name '%s' is "
		    "longer than %d characters", name, CONF_POOL_NAME_MAX);
	for (i = 0; i + 1 < cl->npools; i++) {
		if (strcmp(cl->pools[i].pc.name, name) == 0) {
			conf_err(cl, pc->file, pc->line, NULL, "pool '%s' is "
			    "already defined at %s:%d", name,
			    cl->pools[i].pc.file, cl->pools[i].pc.line);
			break;
		}
	}
	return cp;
}

/* Validate callback of every declared option: convert, check, store. */
static int
conf_cb_option(cfg_t *sec, cfg_opt_t *opt)
{
	struct conf_load	*cl = conf_cur;
	struct conf_pool	*cp = NULL;
	const struct conf_opt	*o;
	const char		*raw = cfg_opt_getnstr(opt, 0);
	const char		*file = sec->filename;
	char			*v;
	size_t			 i, n;

	/* Out of memory, a half-made pool may be about: stop right here. */
	if (cl->oom)
		return -1;
	if (raw == NULL)
		raw = "";
	if (strcmp(sec->name, "pool") == 0) {
		if ((cp = conf_pool_get(cl, sec)) == NULL) {
			cl->oom = true;
			return -1;
		}
		o = pool_opts;
		n = PO_COUNT;
	} else {
		o = global_opts;
		n = GO_COUNT;
	}
	for (i = 0; i < n; i++)
		if (strcmp(o[i].name, opt->name) == 0)
			break;
	if (i == n)
		return 0;
	if (cp != NULL) {
		cp->line[i] = sec->line;
		v = conf_expand(raw, cp->pc.name);
	} else {
		cl->gfile[i] = file;
		cl->gline[i] = sec->line;
		if (strstr(raw, "$pool") != NULL) {
			conf_err(cl, file, sec->line, NULL, "%s: '$pool' can "
			    "only be used inside a pool", o[i].name);
			return 0;
		}
		v = strdup(raw);
	}
	if (v == NULL) {
		cl->oom = true;
		return -1;
	}
	conf_store(cl, cp, &o[i], v, file, sec->line);
	free(v);
	/* An include whose lexer got stuck ends the including files too. */
	return cl->lexer_stuck || cl->oom ? -1 : 0;
}

static int
conf_key_line(struct conf_load *cl, cfg_t *sec, const char *key)
{
	size_t	 i;

	for (i = 0; i < cl->nkeys; i++)
		if (cl->keys[i].sec == sec && strcmp(cl->keys[i].key, key) == 0)
			return cl->keys[i].line;
	return sec->line;
}

static void
conf_keys_clear(struct conf_load *cl)
{
	size_t	 i;

	for (i = 0; i < cl->nkeys; i++)
		free(cl->keys[i].key);
	free(cl->keys);
	cl->keys = NULL;
	cl->nkeys = 0;
}

/* Copies a pool's free-form sections once its '}' has been read. */
static void
conf_pool_harvest(struct conf_load *cl, struct conf_pool *cp, cfg_t *sec)
{
	struct pool_conf	*pc = &cp->pc;
	cfg_t			*kv;
	cfg_opt_t		*opt;
	struct php_setting	*php;
	struct kv		*env;
	const char		*val;
	char			*v;
	unsigned int		 i, n;
	size_t			 s;
	bool			 b = false;

	kv = cfg_getsec(sec, "env");
	n = cfg_num(kv);
	if (n > 0 && (pc->env = calloc(n, sizeof(*pc->env))) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		opt = cfg_getnopt(kv, i);
		if ((val = cfg_opt_getnstr(opt, 0)) == NULL)
			val = "";
		if (*val == '\0')
			conf_err(cl, pc->file, conf_key_line(cl, kv, opt->name),
			    pc->name, "env %s: empty value", opt->name);
		env = &pc->env[pc->nenv++];
		if ((env->key = strdup(opt->name)) == NULL ||
		    (env->value = conf_expand(val, pc->name)) == NULL)
			goto oom;
	}

	for (s = 0; s < sizeof(php_secs) / sizeof(php_secs[0]); s++) {
		kv = cfg_getsec(sec, php_secs[s].name);
		if ((n = cfg_num(kv)) == 0)
			continue;
		php = reallocarray(pc->php, pc->nphp + n, sizeof(*pc->php));
		if (php == NULL)
			goto oom;
		pc->php = php;
		for (i = 0; i < n; i++) {
			opt = cfg_getnopt(kv, i);
			if ((val = cfg_opt_getnstr(opt, 0)) == NULL)
				val = "";
			php = &pc->php[pc->nphp++];
			memset(php, 0, sizeof(*php));
			php->admin = php_secs[s].admin;
			php->flag = php_secs[s].flag;
			if ((php->name = strdup(opt->name)) == NULL ||
			    (v = conf_expand(val, pc->name)) == NULL)
				goto oom;
			if (!php->flag) {
				php->value = v;
				continue;
			}
			if (conf_bool(v, &b) == -1)
				conf_err(cl, pc->file, conf_key_line(cl, kv,
				    opt->name), pc->name, "%s %s: '%s' is not "
				    "on or off", php_secs[s].name, opt->name, v);
			free(v);
			if ((php->value = strdup(b ? "1" : "0")) == NULL)
				goto oom;
		}
	}
	return;
oom:
	cl->oom = true;
}

/* Validate callback of the pool section: called after its '}'. */
static int
conf_cb_pool(cfg_t *parent, cfg_opt_t *opt)
{
	struct conf_load	*cl = conf_cur;
	struct conf_pool	*cp;
	cfg_t			*sec = cfg_opt_getnsec(opt, 0);

	if (cl->oom || (cp = conf_pool_get(cl, sec)) == NULL) {
		cl->oom = true;
		return -1;
	}
	conf_pool_harvest(cl, cp, sec);
	cl->open_sec = NULL;
	conf_keys_clear(cl);
	/*
	 * Drop the section: a second "pool www" then makes a fresh one
	 * (instead of libconfuse quietly replacing the first) and our
	 * duplicate check can name both places.
	 */
	cfg_opt_rmnsec(opt, 0);
	return cl->oom ? -1 : 0;
}

static bool
conf_is_freeform(cfg_t *sec)
{
	size_t	 i;

	if (strcmp(sec->name, "env") == 0)
		return true;
	for (i = 0; i < sizeof(php_secs) / sizeof(php_secs[0]); i++)
		if (strcmp(sec->name, php_secs[i].name) == 0)
			return true;
	return false;
}

static void
conf_unknown(struct conf_load *cl, cfg_t *sec, const char *name)
{
	const char	*pool = NULL, *br;
	size_t		 i;

	if (strcmp(sec->name, "pool") == 0)
		pool = sec->title;
	cl->unknown_file = cl->cur;
	cl->unknown_line = sec->line;
	for (i = 0; i < sizeof(fpm_only) / sizeof(fpm_only[0]); i++) {
		if (strcmp(name, fpm_only[i].name) != 0)
			continue;
		conf_err(cl, sec->filename, sec->line, pool, "php-fpm's '%s' "
		    "has no fpmd equivalent%s%s", name,
		    fpm_only[i].why != NULL ? ": " : "",
		    fpm_only[i].why != NULL ? fpm_only[i].why : "");
		return;
	}
	if ((br = strchr(name, '[')) != NULL) {
		conf_err(cl, sec->filename, sec->line, pool, "unknown option "
		    "'%s' (write %.*s { KEY = VALUE })", name,
		    (int)(br - name), name);
		return;
	}
	if (pool != NULL && strcmp(name, "include") == 0) {
		conf_err(cl, sec->filename, sec->line, pool, "include is only "
		    "allowed outside pool sections");
		return;
	}
	for (i = 0; pool == NULL && i < PO_COUNT; i++) {
		if (strcmp(name, pool_opts[i].name) == 0) {
			conf_err(cl, sec->filename, sec->line, NULL, "'%s' is a "
			    "pool option: put it inside pool NAME { ... }",
			    name);
			return;
		}
	}
	for (i = 0; pool != NULL && i < GO_COUNT; i++) {
		if (strcmp(name, global_opts[i].name) == 0) {
			conf_err(cl, sec->filename, sec->line, pool, "'%s' is a "
			    "global option: put it outside the pool", name);
			return;
		}
	}
	conf_err(cl, sec->filename, sec->line, pool, "unknown option '%s'",
	    name);
}

/* Is fmt libconfuse's message msgid, translated or not? */
static bool
conf_msg_is(const char *fmt, const char *msgid)
{
	return strcmp(fmt, msgid) == 0 ||
	    strcmp(fmt, dgettext("confuse", msgid)) == 0;
}

/*
 * libconfuse's error function.  In a CFGF_KEYSTRVAL section libconfuse 3.3
 * reports "no such option" for every new key before it adds the key: in the
 * free-form sections that is no error (but tells us the key's line); in the
 * root and pool sections it is an unknown option.
 *
 * The lexer's errors inside a string leave its global state inside the
 * string, so whatever file included this one cannot be read on reliably.
 */
static void __attribute__((format(printf, 2, 0)))
conf_cb_error(cfg_t *sec, const char *fmt, va_list ap)
{
	struct conf_load	*cl = conf_cur;
	struct conf_key		*k;
	const char		*name;
	char			 msg[512];
	va_list			 aq;

	if (conf_msg_is(fmt, "bad escape sequence '%s'") ||
	    conf_msg_is(fmt, "invalid octal number '%s'") ||
	    conf_msg_is(fmt, "unterminated string constant"))
		cl->lexer_stuck = true;
	if (conf_msg_is(fmt, "no such option '%s'")) {
		va_copy(aq, ap);
		name = va_arg(aq, const char *);
		va_end(aq);
		if (!conf_is_freeform(sec)) {
			conf_unknown(cl, sec, name);
			return;
		}
		k = reallocarray(cl->keys, cl->nkeys + 1, sizeof(*cl->keys));
		if (k == NULL) {
			cl->oom = true;
			return;
		}
		cl->keys = k;
		k = &cl->keys[cl->nkeys];
		if ((k->key = strdup(name)) == NULL) {
			cl->oom = true;
			return;
		}
		k->sec = sec;
		k->line = sec->line;
		cl->nkeys++;
		return;
	}
	cl->broken = true;
	/* "missing equal sign after option 'x'" right after "unknown 'x'" */
	if (cl->unknown_file == cl->cur && cl->unknown_line == sec->line)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	conf_err(cl, sec->filename != NULL ? sec->filename : cl->cur->name,
	    sec->line, NULL, "%s", msg);
}

/*
 * Blanks out comments (keeping newlines, so that libconfuse counts lines
 * right) and turns php-fpm's "include PATH" into "include = PATH".  Quotes
 * and comments follow libconfuse's lexer.  Returns the new text, or NULL
 * after reporting an unterminated string or comment.
 */
static char *
conf_prepare(struct conf_load *cl, const char *name, const char *in,
    size_t len, size_t *outlen)
{
	char	*out;
	size_t	 i, o = 0, k;
	int	 line = 1, start = 0;
	char	 quote;
	bool	 bol = true;

	if ((out = malloc(len * 2 + 1)) == NULL) {
		cl->oom = true;
		return NULL;
	}
	for (i = 0; i < len; ) {
		char c = in[i];

		if (c == '"' || c == '\'') {
			quote = c;
			start = line;
			out[o++] = in[i++];
			while (i < len && in[i] != quote) {
				if (in[i] == '\n')
					line++;
				if (in[i] == '\\' && i + 1 < len) {
					out[o++] = in[i++];
					if (in[i] == '\n')
						line++;
				}
				out[o++] = in[i++];
			}
			if (i == len) {
				conf_err(cl, name, start, NULL, "unterminated "
				    "string");
				free(out);
				return NULL;
			}
			out[o++] = in[i++];
			bol = false;
		} else if (c == '#' || (c == '/' && i + 1 < len &&
		    in[i + 1] == '/')) {
			while (i < len && in[i] != '\n') {
				out[o++] = ' ';
				i++;
			}
		} else if (c == '/' && i + 1 < len && in[i + 1] == '*') {
			start = line;
			out[o++] = ' ';
			out[o++] = ' ';
			i += 2;
			while (i < len && !(in[i] == '*' && i + 1 < len &&
			    in[i + 1] == '/')) {
				if (in[i] == '\n')
					line++;
				out[o++] = in[i] == '\n' ? '\n' : ' ';
				i++;
			}
			if (i == len) {
				conf_err(cl, name, start, NULL, "unterminated "
				    "comment");
				free(out);
				return NULL;
			}
			out[o++] = ' ';
			out[o++] = ' ';
			i += 2;
		} else if (c == '\n') {
			out[o++] = in[i++];
			line++;
			bol = true;
		} else if (c == ' ' || c == '\t' || c == '\r') {
			out[o++] = in[i++];
		} else if (bol && len - i >= 8 && strncmp(in + i, "include", 7)
		    == 0 && (in[i + 7] == ' ' || in[i + 7] == '\t')) {
			k = i + 7;
			while (k < len && (in[k] == ' ' || in[k] == '\t'))
				k++;
			memcpy(out + o, "include", 7);
			o += 7;
			i += 7;
			if (k < len && strchr("=+(\r\n#", in[k]) == NULL) {
				out[o++] = ' ';
				out[o++] = '=';
			}
			bol = false;
		} else {
			out[o++] = in[i++];
			bol = false;
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

static char *
conf_read(const char *path, size_t *lenp)
{
	char	*buf = NULL, *tmp;
	size_t	 len = 0, size = 0;
	ssize_t	 n;
	int	 fd, serrno;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	for (;;) {
		if (len + 4096 > size) {
			size = size == 0 ? 8192 : size * 2;
			if ((tmp = realloc(buf, size)) == NULL)
				goto fail;
			buf = tmp;
		}
		if ((n = read(fd, buf + len, size - len - 1)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	*lenp = len;
	return buf;
fail:
	serrno = errno;
	free(buf);
	close(fd);
	errno = serrno;
	return NULL;
}

static void
conf_parse_file(struct conf_load *cl, const char *name, int depth,
    const char *from, int from_line)
{
	struct conf_file *cf, **files, *prev, *up;
	cfg_t		**cfgs, *cfg;
	char		*raw, *text, *abs, *slash;
	size_t		 len, tlen, errlen;
	struct stat	 st;
	FILE		*fp;
	int		 rc;

	/* The lexer is lost in a string: any further file would be misread. */
	if (cl->lexer_stuck)
		return;
	if (depth > CONF_INCLUDE_DEPTH) {
		conf_err(cl, from, from_line, NULL, "include '%s': includes "
		    "nest more than %d deep", name, CONF_INCLUDE_DEPTH);
		cl->broken = true;
		return;
	}
	/*
	 * A file that includes itself is said once, not read down to the
	 * depth limit: k includes of itself would be k^5 reads and k^6
	 * errors.  The cap bounds what loops through globs can still do.
	 */
	if (stat(name, &st) == -1)
		memset(&st, 0, sizeof(st));	/* conf_read() will say why */
	for (up = cl->cur; up != NULL && st.st_ino != 0; up = up->parent) {
		if (up->dev != st.st_dev || up->ino != st.st_ino)
			continue;
		conf_err(cl, from, from_line, NULL, "include '%s': an include "
		    "loop (%s is being read)", name, up->name);
		cl->broken = true;
		return;
	}
	if (cl->nfiles >= CONF_FILES_MAX) {
		if (!cl->too_many)
			conf_err(cl, from, from_line, NULL, "include '%s': more "
			    "than %d files to read", name, CONF_FILES_MAX);
		cl->too_many = cl->broken = true;
		return;
	}
	if ((raw = conf_read(name, &len)) == NULL) {
		if (from != NULL)
			conf_err(cl, from, from_line, NULL, "include '%s': %s",
			    name, strerror(errno));
		else
			conf_err(cl, name, 0, NULL, "cannot read: %s",
			    strerror(errno));
		cl->broken = true;
		return;
	}
	text = conf_prepare(cl, name, raw, len, &tlen);
	free(raw);
	if (text == NULL) {
		cl->broken = true;
		return;
	}

	if ((cf = calloc(1, sizeof(*cf))) == NULL)
		goto oom;
	files = reallocarray(cl->files, cl->nfiles + 1, sizeof(*cl->files));
	if (files == NULL) {
		free(cf);
		goto oom;
	}
	cl->files = files;
	cl->files[cl->nfiles++] = cf;
	cf->depth = depth;
	cf->dev = st.st_dev;
	cf->ino = st.st_ino;
	cf->parent = cl->cur;
	if ((cf->name = strdup(name)) == NULL)
		goto oom;
	abs = conf_path_abs(cl->cwd, name);
	if (abs == NULL)
		goto oom;
	slash = strrchr(abs, '/');
	slash[slash == abs ? 1 : 0] = '\0';
	cf->dir = abs;
	if (depth == 0 && (cl->conf->file = conf_path_abs(cl->cwd, name)) ==
	    NULL)
		goto oom;

	if (tlen == 0) {
		free(text);
		return;
	}
	cfgs = reallocarray(cl->cfgs, cl->ncfgs + 1, sizeof(*cl->cfgs));
	if (cfgs == NULL)
		goto oom;
	cl->cfgs = cfgs;
	if ((cfg = cfg_init(cl->root_opts, CFGF_KEYSTRVAL)) == NULL)
		goto oom;
	cl->cfgs[cl->ncfgs++] = cfg;
	cfg_set_error_function(cfg, conf_cb_error);
	if ((cfg->filename = strdup(name)) == NULL)
		goto oom;
	if ((fp = fmemopen(text, tlen, "r")) == NULL)
		goto oom;

	prev = cl->cur;
	cl->cur = cf;
	errlen = cl->errlen;
	rc = cfg_parse_fp(cfg, fp);
	cl->cur = prev;
	fclose(fp);
	free(text);
	if (rc != CFG_SUCCESS) {
		cl->broken = true;
		if (cl->errlen == errlen)
			conf_err(cl, name, cfg->line, NULL, "syntax error");
	}
	return;
oom:
	free(text);
	cl->oom = true;
}

/* One pool's checks that need the whole pool, php-fpm's among them. */
static void
conf_check_pool(struct conf_load *cl, struct conf_pool *cp)
{
	struct pool_conf *pc = &cp->pc;
	const char	*f = pc->file, *p = pc->name;
	bool		 as_root = cl->flags & CONF_AS_ROOT;
	bool		 allow = cl->flags & CONF_ALLOW_ROOT;
	gid_t		 pgid;
	int		 l;

#define LINE(i)	(cp->line[i] != 0 ? cp->line[i] : pc->line)
	if (cp->line[PO_LISTEN] == 0)
		conf_err(cl, f, pc->line, p, "no 'listen' set");
	if (cp->line[PO_PM] == 0)
		conf_err(cl, f, pc->line, p, "no 'pm' set (static, dynamic "
		    "or ondemand)");
	if (cp->line[PO_MAX_CHILDREN] == 0)
		conf_err(cl, f, pc->line, p, "no 'pm.max_children' set");

	if (pc->pm == PM_DYNAMIC && cp->line[PO_PM] != 0 &&
	    pc->max_children >= 1) {
		l = LINE(PO_MIN_SPARE);
		if (pc->min_spare_servers <= 0) {
			conf_err(cl, f, l, p, "pm.min_spare_servers must be "
			    "a positive value for pm = dynamic (got %d)",
			    pc->min_spare_servers);
		} else if (pc->max_spare_servers <= 0) {
			conf_err(cl, f, LINE(PO_MAX_SPARE), p,
			    "pm.max_spare_servers must be a positive value "
			    "for pm = dynamic (got %d)",
			    pc->max_spare_servers);
		} else if (pc->min_spare_servers > pc->max_children ||
		    pc->max_spare_servers > pc->max_children) {
			if (pc->min_spare_servers <= pc->max_children)
				l = LINE(PO_MAX_SPARE);
			conf_err(cl, f, l, p, "pm.min_spare_servers (%d) and "
			    "pm.max_spare_servers (%d) cannot be greater than "
			    "pm.max_children (%d)", pc->min_spare_servers,
			    pc->max_spare_servers, pc->max_children);
		} else if (pc->max_spare_servers < pc->min_spare_servers) {
			conf_err(cl, f, LINE(PO_MAX_SPARE), p,
			    "pm.max_spare_servers (%d) must not be less than "
			    "pm.min_spare_servers (%d)", pc->max_spare_servers,
			    pc->min_spare_servers);
		} else if (pc->start_servers <= 0) {
			pc->start_servers = pc->min_spare_servers +
			    (pc->max_spare_servers - pc->min_spare_servers) /
			    2;
			conf_note(cl, LOG_LVL_NOTICE, "%s:%d: pool %s: "
			    "pm.start_servers is not set; it has been set to "
			    "%d", f, pc->line, p,
			    pc->start_servers);
		} else if (pc->start_servers < pc->min_spare_servers ||
		    pc->start_servers > pc->max_spare_servers) {
			conf_err(cl, f, LINE(PO_START), p, "pm.start_servers "
			    "(%d) must not be less than pm.min_spare_servers "
			    "(%d) and not greater than pm.max_spare_servers "
			    "(%d)", pc->start_servers, pc->min_spare_servers,
			    pc->max_spare_servers);
		}
	}
	if (pc->pm == PM_ONDEMAND && pc->process_idle_timeout < 1)
		conf_err(cl, f, LINE(PO_IDLE), p, "pm.process_idle_timeout "
		    "must be at least 1s for pm = ondemand");

	if (!as_root) {
		if (pc->user != NULL)
			conf_note(cl, LOG_LVL_NOTICE, "%s:%d: pool %s: 'user' "
			    "is ignored when fpmd is not running as root", f,
			    LINE(PO_USER), p);
		if (pc->group != NULL)
			conf_note(cl, LOG_LVL_NOTICE, "%s:%d: pool %s: 'group' "
			    "is ignored when fpmd is not running as root", f,
			    LINE(PO_GROUP), p);
	} else {
		pgid = (gid_t)-1;
		if (pc->user == NULL) {
			if (!allow)
				conf_err(cl, f, pc->line, p, "no 'user' set; fpmd "
				    "refuses to run PHP as root \xe2\x80\x94 set "
				    "user = ... or start with "
				    "-R/--allow-to-run-as-root");
		} else if (conf_user(pc->user, &pc->uid, &pgid) == -1) {
			conf_err(cl, f, LINE(PO_USER), p, "user '%s' does not "
			    "exist", pc->user);
		} else if (pc->uid == 0 && !allow) {
			conf_err(cl, f, LINE(PO_USER), p, "user '%s' is root; "
			    "fpmd refuses to run PHP as root \xe2\x80\x94 set "
			    "another user or start with "
			    "-R/--allow-to-run-as-root", pc->user);
		}
		if (pc->group != NULL) {
			if (conf_group(pc->group, &pc->gid) == -1)
				conf_err(cl, f, LINE(PO_GROUP), p, "group '%s' "
				    "does not exist", pc->group);
			else if (pc->gid == 0 && !allow)
				conf_err(cl, f, LINE(PO_GROUP), p, "group '%s' "
				    "is root's; fpmd refuses to run PHP as root "
				    "\xe2\x80\x94 set another group or start "
				    "with -R/--allow-to-run-as-root",
				    pc->group);
		} else if (pc->user != NULL && pc->uid != (uid_t)-1) {
			if (pgid == (gid_t)-1)
				conf_err(cl, f, LINE(PO_USER), p, "user '%s' has "
				    "no passwd entry to take a group from; set "
				    "'group'", pc->user);
			else if (pgid == 0 && pc->uid != 0 && !allow)
				conf_err(cl, f, LINE(PO_USER), p, "user '%s' "
				    "has root's group as primary group; set "
				    "'group'", pc->user);
			else
				pc->gid = pgid;
		}
	}

	if (pc->listen_owner != NULL) {
		if (conf_user(pc->listen_owner, &pc->listen_uid, &pgid) == -1)
			conf_err(cl, f, LINE(PO_LOWNER), p, "listen.owner: "
			    "user '%s' does not exist", pc->listen_owner);
		else if (pc->listen_group == NULL &&
		    !conf_digits(pc->listen_owner))
			pc->listen_gid = pgid;
	}
	if (pc->listen_group != NULL &&
	    conf_group(pc->listen_group, &pc->listen_gid) == -1)
		conf_err(cl, f, LINE(PO_LGROUP), p, "listen.group: group '%s' "
		    "does not exist", pc->listen_group);
#undef LINE
}

static void
conf_check(struct conf_load *cl)
{
	struct fpmd_conf *conf = cl->conf;
	struct conf_pool *a, *b;
	size_t		 i, j;
	gid_t		 pgid;

	if (cl->npools == 0)
		conf_err(cl, cl->files[0]->name, 1, NULL, "no pool defined "
		    "(add a section: pool NAME { ... })");
	for (i = 0; i < cl->npools; i++)
		conf_check_pool(cl, &cl->pools[i]);
	for (i = 0; i < cl->npools; i++) {
		a = &cl->pools[i];
		for (j = 0; j < i && a->addr_ok; j++) {
			b = &cl->pools[j];
			if (!b->addr_ok ||
			    !conf_addr_conflict(&a->pc.addr, &b->pc.addr))
				continue;
			conf_err(cl, a->pc.file, a->line[PO_LISTEN], a->pc.name,
			    "listen address %s clashes with %s of pool %s "
			    "(%s:%d)", a->pc.addr.text, b->pc.addr.text,
			    b->pc.name, b->pc.file, b->line[PO_LISTEN]);
			break;
		}
	}

	if (conf->control_owner != NULL && conf_user(conf->control_owner,
	    &conf->control_uid, &pgid) == -1)
		conf_err(cl, cl->gfile[GO_CONTROL_OWNER],
		    cl->gline[GO_CONTROL_OWNER], NULL, "control.owner: user "
		    "'%s' does not exist", conf->control_owner);
	if (conf->control_group != NULL && conf_group(conf->control_group,
	    &conf->control_gid) == -1)
		conf_err(cl, cl->gfile[GO_CONTROL_GROUP],
		    cl->gline[GO_CONTROL_GROUP], NULL, "control.group: group "
		    "'%s' does not exist", conf->control_group);
}

/* Builds libconfuse's option tables: every option a string, see above. */
static int
conf_opts_make(struct conf_load *cl)
{
	static cfg_opt_t	 kv_opts[] = { CFG_END() };
	static cfg_opt_t	 open_opts[] = { CFG_END() };
	cfg_opt_t		*o;
	size_t			 i, n;

	n = PO_COUNT + 1 + sizeof(php_secs) / sizeof(php_secs[0]) + 1;
	if ((cl->pool_opts = calloc(n + 1, sizeof(cfg_opt_t))) == NULL)
		return -1;
	o = cl->pool_opts;
	for (i = 0; i < PO_COUNT; i++, o++) {
		o->name = pool_opts[i].name;
		o->type = CFGT_STR;
		o->validcb = conf_cb_option;
	}
	o->name = "env";
	o->type = CFGT_SEC;
	o->flags = CFGF_KEYSTRVAL;
	o->subopts = kv_opts;
	o++;
	for (i = 0; i < sizeof(php_secs) / sizeof(php_secs[0]); i++, o++) {
		o->name = php_secs[i].name;
		o->type = CFGT_SEC;
		o->flags = CFGF_KEYSTRVAL;
		o->subopts = kv_opts;
	}
	o->name = CONF_OPEN_SEC;
	o->type = CFGT_SEC;
	o->subopts = open_opts;

	if ((cl->root_opts = calloc(GO_COUNT + 2, sizeof(cfg_opt_t))) == NULL)
		return -1;
	o = cl->root_opts;
	for (i = 0; i < GO_COUNT; i++, o++) {
		o->name = global_opts[i].name;
		o->type = CFGT_STR;
		o->validcb = conf_cb_option;
	}
	o->name = "pool";
	o->type = CFGT_SEC;
	o->flags = CFGF_MULTI | CFGF_TITLE;
	o->subopts = cl->pool_opts;
	o->validcb = conf_cb_pool;
	return 0;
}

static void
conf_load_free(struct conf_load *cl)
{
	size_t	 i;

	for (i = 0; i < cl->ncfgs; i++)
		cfg_free(cl->cfgs[i]);
	free(cl->cfgs);
	for (i = 0; i < cl->nfiles; i++) {
		free(cl->files[i]->name);
		free(cl->files[i]->dir);
		free(cl->files[i]);
	}
	free(cl->files);
	for (i = 0; i < cl->npools; i++)
		conf_pool_clear(&cl->pools[i].pc);
	free(cl->pools);
	conf_keys_clear(cl);
	free(cl->pool_opts);
	free(cl->root_opts);
	for (i = 0; i < cl->nnotes; i++)
		free(cl->notes[i].msg);
	free(cl->notes);
	free(cl->cwd);
	free(cl->errs);
	conf_free(cl->conf);
}

struct fpmd_conf *
conf_load(const char *path, int flags, char **errors)
{
	struct conf_load	 cl;
	struct fpmd_conf	*conf;
	struct pool_conf	*pc;
	size_t			 i;

	*errors = NULL;
	memset(&cl, 0, sizeof(cl));
	cl.flags = flags;
	if ((cl.conf = conf = calloc(1, sizeof(*conf))) == NULL ||
	    conf_opts_make(&cl) == -1)
		goto oom;
	if ((cl.cwd = getcwd(NULL, 0)) == NULL) {
		conf_err(&cl, path, 0, NULL, "cannot find the current "
		    "directory: %s", strerror(errno));
		goto fail;
	}
	conf->log_level = LOG_LVL_NOTICE;
	conf->rlimit_files = -1;
	conf->rlimit_core = -1;
	conf->control_mode = CONF_MODE;
	conf->reload_timeout = CONF_RELOAD_TIMEOUT;
	conf->control_uid = (uid_t)-1;
	conf->control_gid = (gid_t)-1;

	conf_cur = &cl;
	conf_parse_file(&cl, path, 0, NULL, 0);
	conf_cur = NULL;
	/* A file that was not read to its end leaves nothing to check. */
	if (!cl.broken && !cl.oom)
		conf_check(&cl);
	if (cl.errs != NULL || cl.oom)
		goto fail;

	if ((conf->pools = calloc(cl.npools, sizeof(*conf->pools))) == NULL)
		goto oom;
	for (i = 0; i < cl.npools; i++) {
		pc = &cl.pools[i].pc;
		if (pc->php_ini == NULL && conf->php_ini != NULL &&
		    (pc->php_ini = strdup(conf->php_ini)) == NULL)
			goto oom;
		if (pc->php_ini_scan_dir == NULL &&
		    conf->php_ini_scan_dir != NULL &&
		    (pc->php_ini_scan_dir = strdup(conf->php_ini_scan_dir)) ==
		    NULL)
			goto oom;
	}
	for (i = 0; i < cl.npools; i++)
		conf->pools[i] = cl.pools[i].pc;
	conf->npools = cl.npools;
	for (i = 0; i < cl.nnotes; i++)
		log_msg(cl.notes[i].level, "%s", cl.notes[i].msg);
	free(cl.pools);
	cl.pools = NULL;
	cl.npools = 0;
	cl.conf = NULL;
	conf_load_free(&cl);
	return conf;
oom:
	cl.oom = true;
fail:
	if (cl.oom) {
		free(cl.errs);
		cl.errs = strdup("out of memory\n");
	}
	*errors = cl.errs;
	cl.errs = NULL;
	conf_load_free(&cl);
	return NULL;
}
