/*
 * The files of one reading of an fpmd configuration (see conffile.h).
 * Problems are told through the caller's function, one "FILE:LINE: reason"
 * each, worded so that fpmd and fpmctl say the same about the same file.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conffile.h"
#include "conflex.h"

static void __attribute__((format(printf, 5, 6)))
conffiles_tell(struct conffiles *cs, bool error, const char *file, int line,
    const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cs->cs_tell(cs->cs_arg, error, file, line, msg);
}

int
conffiles_init(struct conffiles *cs,
    void (*tell)(void *, bool, const char *, int, const char *), void *arg)
{
	memset(cs, 0, sizeof(*cs));
	cs->cs_tell = tell;
	cs->cs_arg = arg;
	if ((cs->cs_cwd = getcwd(NULL, 0)) == NULL)
		return -1;
	return 0;
}

void
conffiles_free(struct conffiles *cs)
{
	size_t	 i;

	for (i = 0; i < cs->cs_nfiles; i++) {
		free(cs->cs_files[i]->cf_name);
		free(cs->cs_files[i]->cf_dir);
		free(cs->cs_files[i]);
	}
	free(cs->cs_files);
	free(cs->cs_cwd);
	free(cs->cs_main);
	memset(cs, 0, sizeof(*cs));
}

char *
conffile_path_clean(const char *path)
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
conffile_join(const char *dir, size_t dirlen, const char *name)
{
	size_t	 len = dirlen + 1 + strlen(name) + 1;
	char	*out;

	if ((out = malloc(len)) != NULL)
		snprintf(out, len, "%.*s/%s", (int)dirlen, dir, name);
	return out;
}

char *
conffile_path_abs(const char *dir, const char *path)
{
	char	*tmp, *out;

	if (path[0] == '/')
		return conffile_path_clean(path);
	if ((tmp = conffile_join(dir, strlen(dir), path)) == NULL)
		return NULL;
	out = conffile_path_clean(tmp);
	free(tmp);
	return out;
}

/* A whole file, NUL-terminated (malloc'd); NULL with errno set. */
char *
conffile_read(const char *path, size_t *lenp)
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

/*
 * php-fpm's syntax in the file: a whole php-fpm file is pointed to the
 * importer, once; a line here and there is told what fpmd writes instead.
 * Either way the file is not read further: its '[www]' or its comments
 * would only come back as errors that say less.
 */
static bool
conffile_ini(struct conffiles *cs, const char *name, const char *raw,
    size_t len)
{
	struct conflex_ini		 ci;
	const struct conflex_ini_mark	*m;
	size_t				 i;

	conflex_ini_scan(raw, len, &ci);
	if (ci.ci_nmarks == 0)
		return false;
	if (ci.ci_section && !ci.ci_brace) {
		for (i = 0; ci.ci_marks[i].im_comment; i++)
			;
		conffiles_tell(cs, true, name, ci.ci_marks[i].im_line, "this "
		    "is a php-fpm configuration (INI: '[%s]'%s), not fpmd's: "
		    "convert it with fpmctl import-php-fpm %s -o fpmd.conf",
		    ci.ci_marks[i].im_name, i > 0 || ci.ci_nmarks > i + 1 ?
		    ", ';' comments" : "", name);
		return true;
	}
	for (i = 0; i < ci.ci_nmarks; i++) {
		m = &ci.ci_marks[i];
		if (m->im_comment)
			conffiles_tell(cs, true, name, m->im_line, "';' starts "
			    "no comment in fpmd's files (it did in php-fpm's): "
			    "write '#' or '//' instead");
		else if (strcmp(m->im_name, "global") == 0)
			conffiles_tell(cs, true, name, m->im_line, "'[global]' "
			    "is php-fpm's: fpmd's global options stand outside "
			    "any pool section, so remove this line");
		else
			conffiles_tell(cs, true, name, m->im_line, "'[%s]' is "
			    "php-fpm's: write pool %s { ... } around the pool's "
			    "options", m->im_name, m->im_name);
	}
	if (ci.ci_more > 0)
		conffiles_tell(cs, true, name, m->im_line, "and %zu more "
		    "lines of php-fpm's syntax after this one", ci.ci_more);
	return true;
}

enum conffile_rc
conffiles_open(struct conffiles *cs, const char *name, int depth,
    const char *from, int from_line, char **textp, size_t *lenp,
    struct conffile **cfp)
{
	struct conffile	*cf, **files, *up;
	struct stat	 st;
	char		*raw, *text, *abs, *slash;
	const char	*msg;
	size_t		 len, tlen;
	int		 line;

	if (depth > CONFFILE_INCLUDE_DEPTH) {
		conffiles_tell(cs, true, from, from_line, "include '%s': "
		    "includes nest more than %d deep", name,
		    CONFFILE_INCLUDE_DEPTH);
		return CONFFILE_BAD;
	}
	/*
	 * A file that includes itself is said once, not read down to the
	 * depth limit: k includes of itself would be k^5 reads and k^6
	 * errors.  The cap bounds what loops through globs can still do.
	 */
	if (stat(name, &st) == -1)
		memset(&st, 0, sizeof(st));	/* the read will say why */
	for (up = cs->cs_cur; up != NULL && st.st_ino != 0;
	    up = up->cf_parent) {
		if (up->cf_dev != st.st_dev || up->cf_ino != st.st_ino)
			continue;
		conffiles_tell(cs, true, from, from_line, "include '%s': an "
		    "include loop (%s is being read)", name, up->cf_name);
		return CONFFILE_BAD;
	}
	if (cs->cs_nfiles >= CONFFILE_MAX) {
		if (!cs->cs_too_many)
			conffiles_tell(cs, true, from, from_line, "include "
			    "'%s': more than %d files to read", name,
			    CONFFILE_MAX);
		cs->cs_too_many = true;
		return CONFFILE_BAD;
	}
	if ((raw = conffile_read(name, &len)) == NULL) {
		if (errno == ENOMEM)
			return CONFFILE_NOMEM;
		if (from != NULL)
			conffiles_tell(cs, true, from, from_line, "include "
			    "'%s': %s", name, strerror(errno));
		else
			conffiles_tell(cs, true, name, 0, "cannot read: %s",
			    strerror(errno));
		return CONFFILE_BAD;
	}
	if (conffile_ini(cs, name, raw, len)) {
		free(raw);
		return CONFFILE_BAD;
	}
	if (conflex_prepare(raw, len, &text, &tlen, &line, &msg) == -1) {
		free(raw);
		if (msg == NULL)
			return CONFFILE_NOMEM;
		conffiles_tell(cs, true, name, line, "%s", msg);
		return CONFFILE_BAD;
	}
	free(raw);

	if ((cf = calloc(1, sizeof(*cf))) == NULL)
		goto oom;
	files = reallocarray(cs->cs_files, cs->cs_nfiles + 1,
	    sizeof(*cs->cs_files));
	if (files == NULL) {
		free(cf);
		goto oom;
	}
	cs->cs_files = files;
	cs->cs_files[cs->cs_nfiles++] = cf;
	cf->cf_depth = depth;
	cf->cf_dev = st.st_dev;
	cf->cf_ino = st.st_ino;
	cf->cf_parent = cs->cs_cur;
	if ((cf->cf_name = strdup(name)) == NULL)
		goto oom;
	if ((abs = conffile_path_abs(cs->cs_cwd, name)) == NULL)
		goto oom;
	if (depth == 0 && cs->cs_main == NULL &&
	    (cs->cs_main = strdup(abs)) == NULL) {
		free(abs);
		goto oom;
	}
	slash = strrchr(abs, '/');
	slash[slash == abs ? 1 : 0] = '\0';
	cf->cf_dir = abs;
	*textp = text;
	*lenp = tlen;
	*cfp = cf;
	return CONFFILE_OK;
oom:
	free(text);
	return CONFFILE_NOMEM;
}

enum conffile_rc
conffiles_include(struct conffiles *cs, const char *value, const char *file,
    int line, void (*fn)(void *, const char *, int, const char *, int),
    void *fnarg)
{
	struct conffile	*cf = cs->cs_cur;
	struct stat	 st;
	glob_t		 g;
	const char	*slash;
	char		*pattern;
	size_t		 i;
	int		 rc;

	if (*value == '\0') {
		conffiles_tell(cs, true, file, line, "include: empty file "
		    "name");
		return CONFFILE_BAD;
	}
	/*
	 * Relative to the including file, and spelled from its name as the
	 * user gave it, so that messages name files the way the user does.
	 */
	slash = strrchr(cf->cf_name, '/');
	if (value[0] == '/' || slash == NULL)
		pattern = strdup(value);
	else
		pattern = conffile_join(cf->cf_name, slash - cf->cf_name,
		    value);
	if (pattern == NULL)
		return CONFFILE_NOMEM;
	if (strpbrk(value, "*?[") == NULL) {
		fn(fnarg, pattern, cf->cf_depth + 1, file, line);
		free(pattern);
		return CONFFILE_OK;
	}
	rc = glob(pattern, 0, NULL, &g);
	free(pattern);
	if (rc == GLOB_NOMATCH) {
		conffiles_tell(cs, false, file, line, "include '%s' matches no "
		    "file", value);
		return CONFFILE_OK;
	}
	if (rc != 0) {
		conffiles_tell(cs, true, file, line, "include '%s': %s", value,
		    rc == GLOB_NOSPACE ? "out of memory" : "cannot read");
		globfree(&g);
		return CONFFILE_BAD;
	}
	for (i = 0; i < g.gl_pathc; i++) {
		if (stat(g.gl_pathv[i], &st) == 0 && S_ISDIR(st.st_mode))
			continue;
		fn(fnarg, g.gl_pathv[i], cf->cf_depth + 1, file, line);
	}
	globfree(&g);
	return CONFFILE_OK;
}
