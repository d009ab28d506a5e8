/*
 * The configuration reader.  It turns fpmd.conf and the files it includes
 * into one immutable struct fpmd_conf, or into a list of "FILE:LINE: reason"
 * lines that names every problem it could find, so that a reload with a typo
 * is refused with all of them at once.
 *
 * This file is the loading: which files are read, in what order, and what
 * is done with each (see conf_int.h for the layers below).  A file that
 * ends inside a block or a string was most likely cut short by a partial
 * write; libconfuse takes the end of the file for the missing '}', so the
 * file's tokens are walked first (common/conflex.c, which splits the text
 * as libconfuse does) and such a file is refused with the line where the
 * block or string opened.  fpmd -t and a reload both come through here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "conf_int.h"
#include "conffile.h"
#include "conflex.h"

static void	conf_parse_file(struct conf_load *, const char *, int,
		    const char *, int);

/* What common/conffile.c has to say about the files. */
static void
conf_tell(void *arg, bool error, const char *file, int line, const char *msg)
{
	struct conf_load *cl = arg;

	if (error)
		conf_err(cl, file, line, NULL, "%s", msg);
	else
		conf_note(cl, LOG_LVL_WARNING, "%s:%d: %s", file, line, msg);
}

struct conf_cut {
	struct conf_load *cl;
	const char	 *file;
	bool		  cut;
};

/*
 * Only what libconfuse cannot see is told from the walk: the syntax and
 * escape errors are libconfuse's to report, in its own words.
 */
static void
conf_cut_problem(void *arg, enum conflex_problem kind, int line,
    const char *pool, const char *msg)
{
	struct conf_cut	*cc = arg;

	if (kind != CLP_CUT)
		return;
	conf_err(cc->cl, cc->file, line, pool, "%s", msg);
	cc->cut = true;
}

/* Does the file end inside a block or a string?  Then it is told. */
static bool
conf_cut(struct conf_load *cl, const char *file, const char *text,
    size_t len)
{
	struct conf_cut		 cc = { cl, file, false };
	struct conflex_walk	 w = { NULL, conf_cut_problem, &cc };

	if (conflex_walk(text, len, &w) == -1)
		cl->oom = true;
	return cc.cut;
}

static void
conf_parse_file(struct conf_load *cl, const char *name, int depth,
    const char *from, int from_line)
{
	struct conffile	*cf, *prev;
	char		*text;
	size_t		 len;

	/* The lexer is lost in a string: any further file would be misread. */
	if (cl->lexer_stuck)
		return;
	switch (conffiles_open(&cl->files, name, depth, from, from_line, &text,
	    &len, &cf)) {
	case CONFFILE_OK:
		break;
	case CONFFILE_BAD:
		cl->broken = true;
		return;
	case CONFFILE_NOMEM:
		cl->oom = true;
		return;
	}
	if (depth == 0 && cl->conf->file == NULL &&
	    (cl->conf->file = strdup(cl->files.cs_main)) == NULL)
		cl->oom = true;
	if (conf_cut(cl, name, text, len)) {
		cl->broken = true;
		free(text);
		return;
	}
	if (len == 0 || cl->oom) {
		free(text);
		return;
	}
	prev = cl->files.cs_cur;
	cl->files.cs_cur = cf;
	conf_confuse_parse(cl, name, text, len);
	cl->files.cs_cur = prev;
	free(text);
}

static void
conf_include_one(void *arg, const char *name, int depth, const char *from,
    int from_line)
{
	conf_parse_file(arg, name, depth, from, from_line);
}

static void
conf_include(struct conf_load *cl, const char *value, const char *file,
    int line)
{
	if (conffiles_include(&cl->files, value, file, line, conf_include_one,
	    cl) == CONFFILE_NOMEM)
		cl->oom = true;
}

static void
conf_pool_clear(struct pool_conf *pc)
{
	size_t	 i;

	free(pc->name);
	free(pc->file);
	free(pc->listen);
	free(pc->listen_owner);
	free(pc->listen_acl_users);
	free(pc->listen_acl_groups);
	free(pc->acl_uids);
	free(pc->acl_gids);
	free(pc->listen_group);
	free(pc->listen_allowed_clients);
	free(pc->user);
	free(pc->group);
	free(pc->chdir);
	free(pc->chroot);
	free(pc->apparmor_hat);
	free(pc->apparmor_change);
	free(pc->status_path);
	free(pc->ping_path);
	free(pc->ping_response);
	free(pc->status_listen);
	free(pc->access_log);
	free(pc->access_format);
	for (i = 0; i < pc->naccess_suppress; i++)
		free(pc->access_suppress[i]);
	free(pc->access_suppress);
	free(pc->slowlog);
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
	free(conf->syslog_ident);
	free(conf->status_socket);
	free(conf->status_owner);
	free(conf->status_group);
	free(conf);
}

static void
conf_load_free(struct conf_load *cl)
{
	size_t	 i;

	conf_confuse_free(cl);
	conffiles_free(&cl->files);
	for (i = 0; i < cl->npools; i++)
		conf_pool_clear(&cl->pools[i].pc);
	free(cl->pools);
	for (i = 0; i < cl->nnotes; i++)
		free(cl->notes[i].msg);
	free(cl->notes);
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
	cl.cl_include = conf_include;
	if ((cl.conf = conf = calloc(1, sizeof(*conf))) == NULL ||
	    conf_confuse_init(&cl) == -1)
		goto oom;
	if (conffiles_init(&cl.files, conf_tell, &cl) == -1) {
		if (errno == ENOMEM)
			goto oom;
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
	conf->log_limit = CONF_LOG_LIMIT;
	conf->log_buffering = true;
	conf->syslog_facility = LOG_DAEMON;
	conf->status_mode = CONF_MODE;
	conf->status_uid = (uid_t)-1;
	conf->status_gid = (gid_t)-1;
	conf->process_priority = FPMD_PRIORITY_UNSET;

	conf_parse_file(&cl, path, 0, NULL, 0);
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
