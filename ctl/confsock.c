/*
 * fpmctl -c CONFIG: where the control socket of the fpmd that reads CONFIG
 * is.  fpmctl only wants control.socket (which an included file may set)
 * and the file's absolute path, for the default rule of common/sockpath.c.
 * It reads the files as fpmd does, with the same includes
 * (common/conffile.c) and the same tokens (common/conflex.c), but it
 * converts no value and looks up no user, group or host name: the daemon's
 * reader is not linked in.  So a file with a wrong setting elsewhere still
 * tells where the socket is, and fpmd says what is wrong when asked to
 * reload it.  What stops this reader is a file it cannot read through: a
 * missing or unreadable one, one cut short, one that is not made of
 * NAME = VALUE and NAME [TITLE] { ... }.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conffile.h"
#include "conflex.h"
#include "fpmctl.h"

struct confsock {
	struct conffiles files;
	const char	*file;		/* the file being walked, as named */
	char		*sock;		/* absolute; NULL: not set */
	char		*errs;
	size_t		 errlen;
	bool		 oom;
};

static void	confsock_file(void *, const char *, int, const char *, int);

/* "FILE:LINE: [pool NAME: ]msg\n" at the end of the list, as fpmd says. */
static void
confsock_err(struct confsock *cs, const char *file, int line,
    const char *pool, const char *msg)
{
	if (conflex_errline(&cs->errs, &cs->errlen, file, line, pool, msg) ==
	    -1)
		cs->oom = true;
}

/* Warnings (an include that matches nothing) are fpmd's to give. */
static void
confsock_tell(void *arg, bool error, const char *file, int line,
    const char *msg)
{
	if (error)
		confsock_err(arg, file, line, NULL, msg);
}

static void
confsock_problem(void *arg, enum conflex_problem kind, int line,
    const char *pool, const char *msg)
{
	struct confsock	*cs = arg;

	(void)kind;
	confsock_err(cs, cs->file, line, pool, msg);
}

static int
confsock_assign(void *arg, int depth, const char *name, const char *value,
    bool append, int line)
{
	struct confsock	*cs = arg;
	const char	*file = cs->file;

	if (depth != 0 || append)
		return 0;
	if (strcmp(name, "control.socket") == 0) {
		free(cs->sock);
		cs->sock = NULL;
		/* relative to the directory of the file it is written in */
		if (*value != '\0' && (cs->sock = conffile_path_abs(
		    cs->files.cs_cur->cf_dir, value)) == NULL) {
			cs->oom = true;
			return -1;
		}
	} else if (strcmp(name, "include") == 0) {
		if (conffiles_include(&cs->files, value, file, line,
		    confsock_file, cs) == CONFFILE_NOMEM)
			cs->oom = true;
		cs->file = file;
	}
	return cs->oom ? -1 : 0;
}

static void
confsock_file(void *arg, const char *name, int depth, const char *from,
    int from_line)
{
	struct confsock		*cs = arg;
	struct conflex_walk	 w = { confsock_assign, confsock_problem, cs };
	struct conffile		*cf, *prev;
	char			*text;
	size_t			 len;

	if (cs->oom)
		return;
	switch (conffiles_open(&cs->files, name, depth, from, from_line,
	    &text, &len, &cf)) {
	case CONFFILE_OK:
		break;
	case CONFFILE_BAD:
		return;
	case CONFFILE_NOMEM:
		cs->oom = true;
		return;
	}
	prev = cs->files.cs_cur;
	cs->files.cs_cur = cf;
	cs->file = cf->cf_name;
	/* -1: out of memory, in the walk or in confsock_assign() */
	if (conflex_walk(text, len, &w) == -1)
		cs->oom = true;
	cs->files.cs_cur = prev;
	free(text);
}

int
confsock_read(const char *path, char **sock, char **file, char **errors)
{
	struct confsock	 cs;

	*sock = *file = *errors = NULL;
	memset(&cs, 0, sizeof(cs));
	if (conffiles_init(&cs.files, confsock_tell, &cs) == -1) {
		if (asprintf(errors, "%s: cannot find the current directory: "
		    "%s\n", path, strerror(errno)) == -1)
			*errors = NULL;
		return -1;
	}
	confsock_file(&cs, path, 0, NULL, 0);
	if (cs.oom) {
		free(cs.errs);
		cs.errs = strdup("out of memory\n");
	} else if (cs.errs == NULL) {
		*sock = cs.sock;
		*file = cs.files.cs_main;
		cs.sock = cs.files.cs_main = NULL;
	}
	*errors = cs.errs;
	free(cs.sock);
	conffiles_free(&cs.files);
	return *errors != NULL ? -1 : 0;
}
