/*
 * The files of one reading of an fpmd configuration: the main file and
 * what it includes, with the rules both fpmd and fpmctl follow (includes
 * relative to the including file, globs sorted, at most five deep, no
 * loops, at most a thousand files), and the path arithmetic they share.
 * Nothing here looks up a user, a group or a host.
 */
#ifndef FPMD_CONFFILE_H
#define FPMD_CONFFILE_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#define CONFFILE_INCLUDE_DEPTH	5	/* php-fpm's limit */
#define CONFFILE_MAX		1000	/* read by one load, includes and all */

struct conffile {
	char		*cf_name;	/* as in messages */
	char		*cf_dir;	/* absolute: relative paths start here */
	int		 cf_depth;	/* 0: the main file */
	dev_t		 cf_dev;
	ino_t		 cf_ino;
	struct conffile	*cf_parent;	/* the file that includes it */
};

struct conffiles {
	char		 *cs_cwd;
	char		 *cs_main;	/* absolute path of the main file */
	struct conffile **cs_files;
	size_t		  cs_nfiles;
	struct conffile	 *cs_cur;	/* the file being read: the caller's */
	bool		  cs_too_many;
	/*
	 * A problem (error true) or a warning, at file:line (line 0: none);
	 * msg is not quoted yet (see conflex_vis).
	 */
	void		(*cs_tell)(void *arg, bool error, const char *file,
			    int line, const char *msg);
	void		 *cs_arg;
};

/* Returns 0, or -1 with errno set (getcwd, or ENOMEM). */
int		 conffiles_init(struct conffiles *cs,
		    void (*tell)(void *, bool, const char *, int,
		    const char *), void *arg);
void		 conffiles_free(struct conffiles *cs);

enum conffile_rc {
	CONFFILE_OK,
	CONFFILE_BAD,		/* told through cs_tell */
	CONFFILE_NOMEM
};

/*
 * Opens name, the main file (from NULL) or one that from:from_line
 * includes, at depth, and returns its text after conflex_prepare() in
 * *text (malloc'd) and its record in *cf (owned by cs).
 */
enum conffile_rc conffiles_open(struct conffiles *cs, const char *name,
		    int depth, const char *from, int from_line, char **text,
		    size_t *len, struct conffile **cf);

/*
 * The files "include = value" at file:line of cs_cur names: relative to the
 * including file, a glob if it has any of *?[ (sorted, directories left
 * out, none matching is a warning).  Calls fn for each, in order.
 */
enum conffile_rc conffiles_include(struct conffiles *cs, const char *value,
		    const char *file, int line,
		    void (*fn)(void *, const char *, int, const char *, int),
		    void *fnarg);

/* An absolute path, cleaned without asking the file system. */
char		*conffile_read(const char *path, size_t *lenp);
char		*conffile_path_clean(const char *path);
/* path relative to the absolute dir unless it is absolute; cleaned. */
char		*conffile_path_abs(const char *dir, const char *path);

#endif /* FPMD_CONFFILE_H */
