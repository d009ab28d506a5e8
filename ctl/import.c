/*
 * fpmctl import-php-fpm: a php-fpm configuration, its includes followed,
 * written out as one fpmd.conf.  The files are read as php-fpm reads them
 * (ctl/ini.c), into a model of the global part and the pools in the order
 * php-fpm met them (a pool named again goes on where it was, a [section]
 * lasts across an include, as in php-fpm); then every directive goes
 * through imp_map[], the one table that says what it becomes in fpmd.
 * fpmd keeps php-fpm's names, so most are copied; the others become a
 * comment that says why, and a warning.  What php-fpm itself would refuse
 * (a line it cannot read, an include too deep) is an error, "FILE:LINE:
 * reason", and nothing is written.
 *
 * Values are written double-quoted, so that nothing in them (a '#', a
 * "//", a '{') is read as fpmd's syntax; ${NAME} stays ${NAME}, which fpmd
 * replaces from its environment when it reads the file, as php-fpm did.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conffile.h"
#include "import.h"

/* Where a directive may stand in php-fpm's files. */
#define IS_GLOBAL	0x1
#define IS_POOL		0x2

enum imp_act {
	IA_COPY,		/* the same name in fpmd */
	IA_BOOL,		/* the same, a boolean ("" is no) */
	IA_PATH,		/* the same, a path (php-fpm: its prefix's) */
	IA_LISTEN,		/* the same, a path if not an address */
	IA_LEVEL,		/* log_level */
	IA_DROP,		/* no fpmd equivalent: a comment, and why */
	IA_ARRAY,		/* KEY[NAME] = V: NAME = V in section KEY */
	IA_FLAGS,		/* the same, on/off values */
	IA_LIST,		/* KEY[] = V: one KEY, values space-separated */
	IA_INCLUDE,
	IA_PREFIX		/* the pool's prefix: for its relative paths */
};

/*
 * Every php-fpm 8.2 directive and what fpmd makes of it.  Directives that
 * fpmd gains keep php-fpm's name: such a line becomes IA_COPY (or IA_PATH,
 * IA_BOOL) and the importer follows.
 */
static const struct imp_map {
	const char	*im_name;
	int		 im_scope;
	enum imp_act	 im_act;
	const char	*im_why;	/* IA_DROP: why, for people */
} imp_map[] = {
	/* [global] */
	{ "pid", IS_GLOBAL, IA_DROP, "fpmd writes no pid file: fpmctl finds "
	    "fpmd through its control socket, supervisors through their "
	    "child" },
	{ "error_log", IS_GLOBAL, IA_PATH, NULL },
	{ "syslog.ident", IS_GLOBAL, IA_COPY, NULL },
	{ "syslog.facility", IS_GLOBAL, IA_COPY, NULL },
	{ "log_buffering", IS_GLOBAL, IA_BOOL, NULL },
	{ "log_level", IS_GLOBAL, IA_LEVEL, NULL },
	{ "log_limit", IS_GLOBAL, IA_COPY, NULL },
	{ "emergency_restart_threshold", IS_GLOBAL, IA_COPY, NULL },
	{ "emergency_restart_interval", IS_GLOBAL, IA_COPY, NULL },
	{ "process_control_timeout", IS_GLOBAL, IA_COPY, NULL },
	{ "process.max", IS_GLOBAL, IA_COPY, NULL },
	{ "process.priority", IS_GLOBAL | IS_POOL, IA_COPY, NULL },
	{ "daemonize", IS_GLOBAL, IA_DROP, "fpmd always runs in the "
	    "foreground, under a supervisor" },
	{ "rlimit_files", IS_GLOBAL | IS_POOL, IA_COPY, NULL },
	{ "rlimit_core", IS_GLOBAL | IS_POOL, IA_COPY, NULL },
	{ "events.mechanism", IS_GLOBAL, IA_DROP, "fpmd always uses epoll" },
	{ "systemd_interval", IS_GLOBAL, IA_DROP, "fpmd tells systemd its "
	    "status when it changes, and honours WATCHDOG_USEC" },
	{ "include", IS_GLOBAL | IS_POOL, IA_INCLUDE, NULL },

	/* pools */
	{ "prefix", IS_POOL, IA_PREFIX, "fpmd takes a relative path from the "
	    "directory of the file it is in: the pool's relative paths are "
	    "written out whole instead" },
	{ "user", IS_POOL, IA_COPY, NULL },
	{ "group", IS_POOL, IA_COPY, NULL },
	{ "listen", IS_POOL, IA_LISTEN, NULL },
	{ "listen.backlog", IS_POOL, IA_COPY, NULL },
	{ "listen.acl_users", IS_POOL, IA_COPY, NULL },
	{ "listen.acl_groups", IS_POOL, IA_COPY, NULL },
	{ "listen.owner", IS_POOL, IA_COPY, NULL },
	{ "listen.group", IS_POOL, IA_COPY, NULL },
	{ "listen.mode", IS_POOL, IA_COPY, NULL },
	{ "listen.allowed_clients", IS_POOL, IA_COPY, NULL },
	{ "listen.setfib", IS_POOL, IA_DROP, "FreeBSD only" },
	{ "process.dumpable", IS_POOL, IA_BOOL, NULL },
	{ "pm", IS_POOL, IA_COPY, NULL },
	{ "pm.max_children", IS_POOL, IA_COPY, NULL },
	{ "pm.start_servers", IS_POOL, IA_COPY, NULL },
	{ "pm.min_spare_servers", IS_POOL, IA_COPY, NULL },
	{ "pm.max_spare_servers", IS_POOL, IA_COPY, NULL },
	{ "pm.max_spawn_rate", IS_POOL, IA_COPY, NULL },
	{ "pm.process_idle_timeout", IS_POOL, IA_COPY, NULL },
	{ "pm.max_requests", IS_POOL, IA_COPY, NULL },
	{ "pm.status_path", IS_POOL, IA_COPY, NULL },
	{ "pm.status_listen", IS_POOL, IA_LISTEN, NULL },
	{ "ping.path", IS_POOL, IA_COPY, NULL },
	{ "ping.response", IS_POOL, IA_COPY, NULL },
	{ "access.log", IS_POOL, IA_PATH, NULL },
	{ "access.format", IS_POOL, IA_COPY, NULL },
	{ "access.suppress_path", IS_POOL, IA_LIST, NULL },
	{ "slowlog", IS_POOL, IA_PATH, NULL },
	{ "request_slowlog_timeout", IS_POOL, IA_COPY, NULL },
	{ "request_slowlog_trace_depth", IS_POOL, IA_COPY, NULL },
	{ "request_terminate_timeout", IS_POOL, IA_COPY, NULL },
	{ "request_terminate_timeout_track_finished", IS_POOL, IA_BOOL,
	    NULL },
	{ "chroot", IS_POOL, IA_PATH, NULL },
	{ "chdir", IS_POOL, IA_PATH, NULL },
	{ "catch_workers_output", IS_POOL, IA_BOOL, NULL },
	{ "decorate_workers_output", IS_POOL, IA_BOOL, NULL },
	{ "clear_env", IS_POOL, IA_BOOL, NULL },
	{ "security.limit_extensions", IS_POOL, IA_COPY, NULL },
	{ "apparmor_hat", IS_POOL, IA_COPY, NULL },
	{ "env", IS_POOL, IA_ARRAY, NULL },
	{ "php_value", IS_POOL, IA_ARRAY, NULL },
	{ "php_flag", IS_POOL, IA_FLAGS, NULL },
	{ "php_admin_value", IS_POOL, IA_ARRAY, NULL },
	{ "php_admin_flag", IS_POOL, IA_FLAGS, NULL },
};

#define NMAP	(sizeof(imp_map) / sizeof(imp_map[0]))

/* The free-form sections of a pool, in the order they are written. */
static const char *const imp_secs[] = {
	"env", "php_value", "php_flag", "php_admin_value", "php_admin_flag"
};
#define NSECS	(sizeof(imp_secs) / sizeof(imp_secs[0]))

struct imp_ent {
	const struct imp_map *e_map;	/* NULL: unknown to php-fpm */
	char		*e_name;	/* as written in php-fpm's file */
	char		*e_key;		/* the INDEX of NAME[INDEX] */
	char		*e_value;
	char		*e_file;	/* where: for comments and messages */
	int		 e_line;
	const char	*e_why;		/* set: written as a comment */
};

struct imp_part {			/* the global part, or a pool */
	char		*p_name;	/* NULL: the global part */
	char		*p_file;
	int		 p_line;
	struct imp_ent	*p_ents;
	size_t		 p_nents;
};

struct imp_file {
	dev_t		 f_dev;
	ino_t		 f_ino;
};

struct imp_buf {
	char		*b;
	size_t		 len, size;
	bool		 oom;
};

struct imp {
	const struct import_opts *opts;
	struct imp_part	*parts;		/* [0]: the global part */
	size_t		 nparts;
	size_t		 cur;		/* the section being read */
	struct imp_file	 stack[IMPORT_INCLUDE_DEPTH + 2];
	int		 depth;
	int		 nfiles;
	const char	*file;		/* being read */
	struct imp_buf	 errs, warns;
	bool		 unreadable;
	bool		 oom;
};

static void __attribute__((format(printf, 2, 3)))
buf_printf(struct imp_buf *ib, const char *fmt, ...)
{
	va_list	 ap;
	char	*nb;
	size_t	 size;
	int	 n;

	if (ib->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(ib->b != NULL ? ib->b + ib->len : NULL,
		    ib->size - ib->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			ib->oom = true;
			return;
		}
		if (ib->len + (size_t)n < ib->size) {
			ib->len += n;
			return;
		}
		size = ib->size == 0 ? 1024 : ib->size;
		while (size <= ib->len + (size_t)n)
			size *= 2;
		if ((nb = realloc(ib->b, size)) == NULL) {
			ib->oom = true;
			return;
		}
		ib->b = nb;
		ib->size = size;
	}
}

static void
buf_putc(struct imp_buf *ib, char c)
{
	buf_printf(ib, "%c", c);
}

/*
 * A message quotes the file, which may hold any byte: control bytes and
 * bytes past ASCII are written \xHH, so that every message is one line.
 */
static void
buf_vis(struct imp_buf *ib, const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			buf_printf(ib, "\\x%02x", (unsigned char)*s);
		else
			buf_putc(ib, *s);
	}
}

static void __attribute__((format(printf, 5, 6)))
imp_tell(struct imp *im, struct imp_buf *ib, const char *file, int line,
    const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_vis(ib, file);
	if (line > 0)
		buf_printf(ib, ":%d", line);
	buf_printf(ib, ": ");
	buf_vis(ib, msg);
	buf_putc(ib, '\n');
	if (ib->oom)
		im->oom = true;
}

static const struct imp_map *
imp_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < NMAP; i++)
		if (strcasecmp(imp_map[i].im_name, name) == 0)
			return &imp_map[i];
	return NULL;
}

static int
imp_add(struct imp *im, const struct imp_map *m, const struct ini_line *il,
    const char *why)
{
	struct imp_part	*pt = &im->parts[im->cur];
	struct imp_ent	*e;

	e = reallocarray(pt->p_ents, pt->p_nents + 1, sizeof(*e));
	if (e == NULL)
		return -1;
	pt->p_ents = e;
	e = &pt->p_ents[pt->p_nents++];
	memset(e, 0, sizeof(*e));
	e->e_map = m;
	e->e_line = il->il_line;
	e->e_why = why;
	if ((e->e_name = strdup(il->il_key)) == NULL ||
	    (e->e_file = strdup(im->file)) == NULL ||
	    (e->e_value = strdup(il->il_value)) == NULL ||
	    (il->il_index != NULL &&
	    (e->e_key = strdup(il->il_index)) == NULL))
		return -1;
	if (why != NULL)
		imp_tell(im, &im->warns, im->file, il->il_line, "%s: %s",
		    il->il_key, why);
	return 0;
}

/* [NAME]: the global part, a new pool or one met before. */
static int
imp_section(struct imp *im, const struct ini_line *il)
{
	struct imp_part	*pt;
	size_t		 i;

	if (strcasecmp(il->il_section, "global") == 0) {
		im->cur = 0;
		return 0;
	}
	for (i = 1; i < im->nparts; i++) {
		if (strcasecmp(im->parts[i].p_name, il->il_section) == 0) {
			im->cur = i;
			return 0;
		}
	}
	pt = reallocarray(im->parts, im->nparts + 1, sizeof(*pt));
	if (pt == NULL)
		return -1;
	im->parts = pt;
	pt = &im->parts[im->nparts];
	memset(pt, 0, sizeof(*pt));
	pt->p_line = il->il_line;
	im->cur = im->nparts++;
	if ((pt->p_name = strdup(il->il_section)) == NULL ||
	    (pt->p_file = strdup(im->file)) == NULL)
		return -1;
	return 0;
}

static void	imp_file(struct imp *, const char *, const char *, size_t,
		    const char *, int);

static char *
imp_dirname(const char *path)
{
	const char	*slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, slash - path);
}

/* include = PATTERN: each file it names, in order, as php-fpm does. */
static void
imp_include(struct imp *im, const struct ini_line *il)
{
	const char	*file = im->file;
	char		*dir, *pattern;
	glob_t		 g;
	size_t		 i, n;
	int		 rc;

	if (im->opts->io_no_include) {
		imp_tell(im, &im->warns, file, il->il_line, "include: not "
		    "followed here");
		return;
	}
	if (*il->il_value == '\0') {
		imp_tell(im, &im->errs, file, il->il_line, "include: an empty "
		    "file name");
		return;
	}
	/*
	 * php-fpm takes a relative pattern from its prefix (-p); without
	 * one given here, the including file's directory is the best guess.
	 */
	if (il->il_value[0] == '/')
		pattern = strdup(il->il_value);
	else {
		if (im->opts->io_prefix != NULL)
			dir = strdup(im->opts->io_prefix);
		else
			dir = imp_dirname(file);
		if (dir == NULL) {
			im->oom = true;
			return;
		}
		if (asprintf(&pattern, "%s/%s", dir, il->il_value) == -1)
			pattern = NULL;
		free(dir);
	}
	if (pattern == NULL) {
		im->oom = true;
		return;
	}
	rc = glob(pattern, GLOB_ERR | GLOB_MARK, NULL, &g);
	if (rc == GLOB_NOMATCH) {
		imp_tell(im, &im->warns, file, il->il_line, "include '%s' "
		    "matches no file", pattern);
		globfree(&g);
		free(pattern);
		return;
	}
	if (rc != 0) {
		imp_tell(im, &im->errs, file, il->il_line, "include '%s': %s",
		    pattern, rc == GLOB_NOSPACE ? "out of memory" :
		    "cannot read the directory");
		im->unreadable = true;
		globfree(&g);
		free(pattern);
		return;
	}
	free(pattern);
	for (i = 0; i < g.gl_pathc && !im->oom; i++) {
		n = strlen(g.gl_pathv[i]);
		if (n > 0 && g.gl_pathv[i][n - 1] == '/')
			continue;	/* a directory, as php-fpm skips them */
		imp_file(im, g.gl_pathv[i], NULL, 0, file, il->il_line);
	}
	globfree(&g);
	im->file = file;
}

/* One line of php-fpm's file: into the model. */
static int
imp_line(void *arg, const struct ini_line *il)
{
	struct imp		*im = arg;
	const struct imp_map	*m;
	bool			 global = im->cur == 0;
	const char		*why;

	if (im->oom)
		return -1;
	if (il->il_error != NULL) {
		imp_tell(im, &im->errs, im->file, il->il_line, "%s",
		    il->il_error);
		return 0;
	}
	if (il->il_section != NULL)
		return imp_section(im, il);

	if ((m = imp_find(il->il_key)) == NULL)
		return imp_add(im, NULL, il, "unknown to php-fpm 8.2, which "
		    "refuses it; left out");
	if (m->im_act == IA_INCLUDE) {
		imp_include(im, il);
		return im->oom ? -1 : 0;
	}
	if (!(m->im_scope & (global ? IS_GLOBAL : IS_POOL)))
		return imp_add(im, NULL, il, global ? "a pool directive in "
		    "[global], which php-fpm refuses; left out" : "a [global] "
		    "directive in a pool, which php-fpm refuses; left out");
	if (m->im_act == IA_ARRAY || m->im_act == IA_FLAGS ||
	    m->im_act == IA_LIST) {
		why = NULL;
		if (il->il_index == NULL)
			why = m->im_act == IA_LIST ? "needs []: php-fpm "
			    "refuses it; left out" : "needs a [NAME]: php-fpm "
			    "refuses it; left out";
		else if (m->im_act != IA_LIST && *il->il_index == '\0')
			why = "an empty [NAME]: php-fpm refuses it; left out";
		else if (m->im_act == IA_LIST && *il->il_index != '\0')
			why = "takes [] only: php-fpm refuses it; left out";
		else if (strcmp(m->im_name, "env") == 0 &&
		    *il->il_value == '\0')
			why = "an empty value, which php-fpm refuses; left out";
		return imp_add(im, why != NULL ? NULL : m, il, why);
	}
	if (il->il_index != NULL)
		return imp_add(im, NULL, il, "takes no [NAME]: php-fpm refuses "
		    "it; left out");
	return imp_add(im, m, il, m->im_act == IA_DROP ? m->im_why : NULL);
}

/* Reads one file (text: its contents, already read) at im->depth + 1. */
static void
imp_file(struct imp *im, const char *path, const char *text, size_t len,
    const char *from, int from_line)
{
	struct stat	 st;
	char		*raw = NULL;
	int		 i;

	if (im->depth > IMPORT_INCLUDE_DEPTH) {
		imp_tell(im, &im->errs, from, from_line, "include '%s': "
		    "includes nest more than %d deep (php-fpm's limit)", path,
		    IMPORT_INCLUDE_DEPTH);
		return;
	}
	if (++im->nfiles > IMPORT_FILES_MAX) {
		if (im->nfiles == IMPORT_FILES_MAX + 1)
			imp_tell(im, &im->errs, from, from_line, "include "
			    "'%s': more than %d files", path,
			    IMPORT_FILES_MAX);
		return;
	}
	memset(&st, 0, sizeof(st));
	if (text == NULL) {
		if (stat(path, &st) == 0) {
			for (i = 0; i < im->depth; i++) {
				if (im->stack[i].f_dev != st.st_dev ||
				    im->stack[i].f_ino != st.st_ino)
					continue;
				imp_tell(im, &im->errs, from, from_line,
				    "include '%s': an include loop", path);
				return;
			}
		}
		if ((raw = conffile_read(path, &len)) == NULL) {
			if (errno == ENOMEM) {
				im->oom = true;
				return;
			}
			im->unreadable = true;
			if (from != NULL)
				imp_tell(im, &im->errs, from, from_line,
				    "include '%s': %s", path, strerror(errno));
			else
				imp_tell(im, &im->errs, path, 0, "cannot "
				    "read: %s", strerror(errno));
			return;
		}
		text = raw;
	}
	im->stack[im->depth].f_dev = st.st_dev;
	im->stack[im->depth].f_ino = st.st_ino;
	im->depth++;
	im->file = path;
	if (ini_parse(text, len, imp_line, im) == -1)
		im->oom = true;
	im->depth--;
	free(raw);
}

/* ---------------------------------------------------------- writing --- */

/* Is name one fpmd's lexer reads as a single word, unquoted? */
static bool
imp_word(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && strchr("._-:", *s) == NULL)
			return false;
	}
	return true;
}

/*
 * ${NAME} or ${NAME:-default} at s, as fpmd's reader expands it: kept, so
 * that fpmd reads it from its environment.  Anything else starting "${"
 * is written "\${", a '$' and a '{' to fpmd.
 */
static size_t
imp_env_len(const char *s)
{
	size_t	 n = 2;

	if (s[0] != '$' || s[1] != '{' ||
	    !(isalpha((unsigned char)s[2]) || s[2] == '_'))
		return 0;
	while (isalnum((unsigned char)s[n]) || s[n] == '_')
		n++;
	if (s[n] == ':' && s[n + 1] == '-')
		n += strcspn(s + n, "}\"\\\n");
	return s[n] == '}' ? n + 1 : 0;
}

/* s as a double-quoted string of fpmd's. */
static void
imp_quote(struct imp_buf *ob, const char *s)
{
	size_t	 n;

	buf_putc(ob, '"');
	while (*s != '\0') {
		if ((n = imp_env_len(s)) > 0) {
			buf_printf(ob, "%.*s", (int)n, s);
			s += n;
			continue;
		}
		if (*s == '"' || *s == '\\' || (s[0] == '$' && s[1] == '{'))
			buf_printf(ob, "\\%c", *s);
		else if (*s == '\n')
			buf_printf(ob, "\\n");
		else if (*s == '\t')
			buf_printf(ob, "\\t");
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			buf_printf(ob, "\\x%02x", (unsigned char)*s);
		else
			buf_putc(ob, *s);
		s++;
	}
	buf_putc(ob, '"');
}

/* A value: bare if it is a plain word (5, dynamic, www-data), else quoted. */
static void
imp_value(struct imp_buf *ob, const char *s)
{
	if (*s != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == strlen(s))
		buf_printf(ob, "%s", s);
	else
		imp_quote(ob, s);
}

static void
imp_name(struct imp_buf *ob, const char *s)
{
	if (imp_word(s))
		buf_printf(ob, "%s", s);
	else
		imp_quote(ob, s);
}

/* A comment line: the text made one line, no byte that is not ASCII. */
static void
imp_comment(struct imp_buf *ob, const char *indent, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
imp_comment(struct imp_buf *ob, const char *indent, const char *fmt, ...)
{
	char	 msg[2048];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_printf(ob, "%s# ", indent);
	buf_vis(ob, msg);
	buf_putc(ob, '\n');
}

/* The pool's prefix, or -p: what php-fpm takes relative paths from. */
static const char *
imp_prefix(const struct imp *im, const struct imp_part *pt)
{
	const char	*pfx = im->opts->io_prefix;
	size_t		 i;

	for (i = 0; i < pt->p_nents; i++)
		if (pt->p_ents[i].e_map != NULL &&
		    pt->p_ents[i].e_map->im_act == IA_PREFIX &&
		    pt->p_ents[i].e_why == NULL)
			pfx = pt->p_ents[i].e_value;
	return pfx;
}

/* php-fpm's rule: a ':' or nothing but digits makes a TCP address. */
static bool
imp_is_path(const char *v)
{
	return v[0] != '\0' && v[0] != '[' && strchr(v, ':') == NULL &&
	    strspn(v, "0123456789") != strlen(v);
}

static void
imp_write_ent(struct imp *im, struct imp_buf *ob, const struct imp_part *pt,
    const struct imp_ent *e, const char *indent)
{
	const struct imp_map *m = e->e_map;
	const char	*v = e->e_value, *pfx;
	char		*abs = NULL;

	if (e->e_why != NULL) {
		imp_comment(ob, indent, "%s:%d: %s: %s", e->e_file, e->e_line,
		    e->e_name, e->e_why);
		buf_printf(ob, "%s#", indent);
		buf_vis(ob, e->e_name);
		if (e->e_key != NULL) {
			buf_putc(ob, '[');
			buf_vis(ob, e->e_key);
			buf_putc(ob, ']');
		}
		buf_printf(ob, " = ");
		buf_vis(ob, v);
		buf_putc(ob, '\n');
		return;
	}
	switch (m->im_act) {
	case IA_BOOL:
		if (*v == '\0')
			v = "no";
		break;
	case IA_LEVEL:
		if (strcasecmp(v, "warn") == 0)
			v = "warning";
		break;
	case IA_PATH:
	case IA_LISTEN:
		/* ${NAME} or $pool first: what it stands for is not known */
		if (*v == '/' || *v == '\0' || *v == '$' ||
		    (m->im_act == IA_LISTEN && !imp_is_path(v)) ||
		    strcmp(v, "syslog") == 0 || strcmp(v, "stderr") == 0)
			break;
		if ((pfx = imp_prefix(im, pt)) == NULL) {
			imp_comment(ob, indent, "%s:%d: php-fpm took this "
			    "relative path from its prefix; fpmd takes it from "
			    "this file's directory (give -p PREFIX)",
			    e->e_file, e->e_line);
			imp_tell(im, &im->warns, e->e_file, e->e_line, "%s: "
			    "the relative path '%s' is taken from this file's "
			    "directory, not php-fpm's prefix (give -p PREFIX)",
			    e->e_name, v);
			break;
		}
		if (asprintf(&abs, "%s/%s", pfx, v) == -1) {
			im->oom = true;
			return;
		}
		v = abs;
		break;
	default:
		break;
	}
	buf_printf(ob, "%s%s = ", indent, m->im_name);
	imp_value(ob, v);
	buf_putc(ob, '\n');
	free(abs);
}

/* KEY[]: the paths of all its lines, written once, space-separated. */
static void
imp_write_list(struct imp_buf *ob, const struct imp_part *pt,
    const struct imp_map *m, const char *indent)
{
	struct imp_buf	 lb = { 0 };
	size_t		 i;

	for (i = 0; i < pt->p_nents; i++) {
		if (pt->p_ents[i].e_map != m || pt->p_ents[i].e_why != NULL)
			continue;
		if (lb.len > 0)
			buf_putc(&lb, ' ');
		buf_printf(&lb, "%s", pt->p_ents[i].e_value);
	}
	if (lb.oom) {
		ob->oom = true;
		return;
	}
	buf_printf(ob, "%s%s = ", indent, m->im_name);
	imp_quote(ob, lb.b != NULL ? lb.b : "");
	buf_putc(ob, '\n');
	free(lb.b);
}

static void
imp_write_part(struct imp *im, struct imp_buf *ob, const struct imp_part *pt)
{
	const char	*ind = pt->p_name != NULL ? "    " : "";
	const struct imp_ent *e;
	const char	*v;
	size_t		 i, s;
	bool		 listed = false, any;

	for (i = 0; i < pt->p_nents; i++) {
		e = &pt->p_ents[i];
		if (e->e_why == NULL && (e->e_map->im_act == IA_ARRAY ||
		    e->e_map->im_act == IA_FLAGS))
			continue;
		if (e->e_why == NULL && e->e_map->im_act == IA_PREFIX) {
			imp_comment(ob, ind, "%s:%d: prefix = %s: %s",
			    e->e_file, e->e_line, e->e_value,
			    e->e_map->im_why);
			continue;
		}
		if (e->e_why == NULL && e->e_map->im_act == IA_LIST) {
			if (!listed)
				imp_write_list(ob, pt, e->e_map, ind);
			listed = true;
			continue;
		}
		imp_write_ent(im, ob, pt, e, ind);
	}
	for (s = 0; s < NSECS; s++) {
		any = false;
		for (i = 0; i < pt->p_nents; i++) {
			e = &pt->p_ents[i];
			if (e->e_why != NULL ||
			    strcmp(e->e_map->im_name, imp_secs[s]) != 0)
				continue;
			if (!any)
				buf_printf(ob, "%s%s {\n", ind, imp_secs[s]);
			any = true;
			v = e->e_value;
			/* php-fpm's flags are "1" or "": fpmd's on or off */
			if (e->e_map->im_act == IA_FLAGS && *v == '\0')
				v = "off";
			buf_printf(ob, "%s    ", ind);
			imp_name(ob, e->e_key);
			buf_printf(ob, " = ");
			imp_value(ob, v);
			buf_putc(ob, '\n');
		}
		if (any)
			buf_printf(ob, "%s}\n", ind);
	}
}

static void
imp_write(struct imp *im, const char *path, struct imp_buf *ob)
{
	const char	*ini = im->opts->io_php_ini;
	char		*dir = NULL, *guess = NULL;
	size_t		 i;

	imp_comment(ob, "", "fpmd.conf made by fpmctl import-php-fpm from %s",
	    path);
	buf_printf(ob, "# Check it with fpmd -t -c FILE; docs/config.md has "
	    "every option.\n\n");
	if (ini == NULL && !im->opts->io_no_guess) {
		/* Debian's layout: php.ini beside php-fpm.conf */
		if ((dir = imp_dirname(path)) == NULL ||
		    asprintf(&guess, "%s/php.ini", dir) == -1) {
			free(dir);
			im->oom = true;
			return;
		}
		free(dir);
		if (access(guess, R_OK) == 0) {
			ini = guess;
			buf_printf(ob, "# The php.ini beside %s, as php-fpm "
			    "reads it on Debian (else: php-fpm -c).\n", path);
		}
	}
	if (ini != NULL) {
		buf_printf(ob, "php_ini = ");
		imp_quote(ob, ini);
		buf_printf(ob, "\n");
	} else {
		buf_printf(ob, "# php-fpm read a php.ini of its own (-c, or "
		    "PHP's built-in path): name it\n# here, or PHP runs on its "
		    "defaults.\n#php_ini = \"/etc/php/8.2/fpm/php.ini\"\n");
	}
	free(guess);
	imp_write_part(im, ob, &im->parts[0]);
	for (i = 1; i < im->nparts; i++) {
		buf_putc(ob, '\n');
		imp_comment(ob, "", "[%s] from %s:%d", im->parts[i].p_name,
		    im->parts[i].p_file, im->parts[i].p_line);
		buf_printf(ob, "pool ");
		imp_name(ob, im->parts[i].p_name);
		buf_printf(ob, " {\n");
		imp_write_part(im, ob, &im->parts[i]);
		buf_printf(ob, "}\n");
	}
	if (im->nparts == 1) {
		imp_tell(im, &im->errs, path, 0, "no pool: php-fpm needs one "
		    "[NAME] section at least");
	}
}

static void
imp_free(struct imp *im)
{
	struct imp_part	*pt;
	size_t		 i, j;

	for (i = 0; i < im->nparts; i++) {
		pt = &im->parts[i];
		for (j = 0; j < pt->p_nents; j++) {
			free(pt->p_ents[j].e_name);
			free(pt->p_ents[j].e_key);
			free(pt->p_ents[j].e_value);
			free(pt->p_ents[j].e_file);
		}
		free(pt->p_ents);
		free(pt->p_name);
		free(pt->p_file);
	}
	free(im->parts);
}

int
import_run(const char *path, const char *text, size_t len,
    const struct import_opts *opts, char **out, char **warnings,
    char **errors)
{
	struct imp	 im;
	struct imp_buf	 ob = { 0 };
	int		 rc;

	*out = *warnings = *errors = NULL;
	memset(&im, 0, sizeof(im));
	im.opts = opts;
	if ((im.parts = calloc(1, sizeof(*im.parts))) == NULL)
		return -3;
	im.nparts = 1;
	imp_file(&im, path, text, len, NULL, 0);
	if (!im.oom && im.errs.len == 0)
		imp_write(&im, path, &ob);
	if (im.oom || ob.oom || im.errs.oom || im.warns.oom) {
		rc = -3;
		free(ob.b);
		free(im.errs.b);
		free(im.warns.b);
	} else if (im.errs.len > 0) {
		rc = im.unreadable ? -2 : -1;
		free(ob.b);
		*errors = im.errs.b;
		*warnings = im.warns.b;
	} else {
		rc = 0;
		*out = ob.b;
		*warnings = im.warns.b;
	}
	imp_free(&im);
	return rc;
}
