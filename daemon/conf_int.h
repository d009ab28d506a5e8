/*
 * The configuration reader's own header: what its files share and nobody
 * else sees.  The reader is layered, each file calling only those below:
 *
 *   conf.c          loading: files, includes, conf_load(), conf_free()
 *   conf_confuse.c  libconfuse: option tables, callbacks, its errors
 *   conf_check.c    checks of a pool and of the whole, users and groups
 *   conf_value.c    the options, their values, the messages of a load
 *
 * and on common/conffile.c and common/conflex.c below them all.  The one
 * call upwards, an include met while libconfuse reads a file, goes through
 * the cl_include pointer that conf.c sets.
 */
#ifndef FPMD_CONF_INT_H
#define FPMD_CONF_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <confuse.h>

#include "conffile.h"
#include "fpmd.h"

#define CONF_POOL_NAME_MAX	31	/* php-fpm's scoreboard keeps 32 bytes */
#define CONF_BACKLOG		511
#define CONF_MODE		0660
#define CONF_SPAWN_RATE		32
#define CONF_IDLE_TIMEOUT	10
#define CONF_READ_TIMEOUT	10	/* request_read_timeout */
#define CONF_SLOWLOG_DEPTH	20	/* request_slowlog_trace_depth, as php-fpm */
#define CONF_RELOAD_TIMEOUT	60	/* reload_timeout */
#define CONF_EXTENSIONS		".php .phar"
#define CONF_LOG_LIMIT		1024	/* log_limit, as php-fpm */
#define CONF_LOG_LIMIT_MIN	512	/* php-fpm's floor */

enum conf_type {
	CT_STR,		/* string; empty means unset */
	CT_PATH,	/* string, relative to the file's directory */
	CT_INT,
	CT_TIME,	/* seconds, optional suffix s, m, h or d */
	CT_BOOL,
	CT_MODE,	/* octal permission bits */
	CT_RLIMIT,	/* number or "unlimited" */
	CT_LEVEL,
	CT_LOGFMT,	/* text or json */
	CT_PM,
	CT_LISTEN,
	CT_CLIENTS,
	CT_EXTS,
	CT_URIS,	/* paths starting with '/', space-separated */
	CT_INCLUDE,
	CT_FACILITY,	/* syslog.facility */
	CT_PRIORITY,	/* process.priority: -19 to 20 */
	CT_SIZE		/* bytes, optional suffix k, M or G */
};

struct conf_opt {
	const char	*name;
	enum conf_type	 type;
	size_t		 off;		/* into struct fpmd_conf or pool_conf */
	int		 min;		/* CT_INT and CT_TIME */
};

enum {
	GO_LOG_LEVEL, GO_LOG_FORMAT, GO_ERROR_LOG, GO_PHP_INI, GO_SCAN_DIR, GO_PCT,
	GO_RELOAD_TIMEOUT,
	GO_PROCESS_MAX, GO_RLIMIT_FILES, GO_RLIMIT_CORE, GO_CONTROL_SOCKET,
	GO_CONTROL_MODE, GO_CONTROL_OWNER, GO_CONTROL_GROUP, GO_INCLUDE,
	GO_LOG_LIMIT, GO_LOG_BUFFERING, GO_SYSLOG_IDENT, GO_SYSLOG_FACILITY,
	GO_STATUS_SOCKET, GO_STATUS_MODE, GO_STATUS_OWNER, GO_STATUS_GROUP,
	GO_EMERGENCY_THRESHOLD, GO_EMERGENCY_INTERVAL, GO_PRIORITY,
	GO_COUNT
};

enum {
	PO_LISTEN, PO_BACKLOG, PO_LOWNER, PO_LGROUP, PO_LMODE, PO_LCLIENTS,
	PO_PM, PO_MAX_CHILDREN, PO_START, PO_MIN_SPARE, PO_MAX_SPARE,
	PO_SPAWN_RATE, PO_IDLE, PO_MAX_REQUESTS, PO_USER, PO_GROUP, PO_CHDIR,
	PO_CHROOT, PO_CLEAR_ENV, PO_PHP_INI, PO_SCAN_DIR, PO_VALUE_PARAMS,
	PO_EXTS, PO_CATCH, PO_DECORATE, PO_DUMPABLE, PO_RLIMIT_FILES,
	PO_RLIMIT_CORE, PO_TERMINATE, PO_READ_TIMEOUT, PO_STATUS_PATH,
	PO_PING_PATH, PO_PING_RESPONSE, PO_ACCESS_LOG, PO_ACCESS_FORMAT,
	PO_ACCESS_SUPPRESS, PO_SLOWLOG, PO_SLOWLOG_TIMEOUT, PO_SLOWLOG_DEPTH,
	PO_STATUS_LISTEN,
	PO_ACL_USERS, PO_ACL_GROUPS,
	PO_PRIORITY, PO_MAX_MEMORY, PO_TRACK_FINISHED,
	PO_APPARMOR_HAT,
	PO_COUNT
};

extern const struct conf_opt conf_global_opts[GO_COUNT];
extern const struct conf_opt conf_pool_opts[PO_COUNT];

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
	bool		 status_addr_ok;
	/* a misspelling of it was told: no "missing" error for it too */
	bool		 meant[PO_COUNT];
};

/* One conf_load(): everything it has read so far and what it found. */
struct conf_load {
	struct fpmd_conf *conf;
	int		  flags;
	struct conffiles  files;	/* files.cs_cur: the file being read */
	cfg_opt_t	 *root_opts;
	cfg_opt_t	 *pool_opts;
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

	struct conffile	 *unknown_file;	/* last unknown option, to drop */
	int		  unknown_line;	/* libconfuse's follow-up error */

	char		 *errs;
	size_t		  errlen;
	struct conf_note *notes;	/* logged only if the load succeeds */
	size_t		  nnotes;
	bool		  broken;	/* a file was not read to its end */
	bool		  lexer_stuck;	/* see conf_cb_error() */
	bool		  oom;

	/* "include = value" at file:line: conf.c reads the files */
	void		(*cl_include)(struct conf_load *, const char *value,
			    const char *file, int line);
};

/* conf_value.c */
void		 conf_err(struct conf_load *, const char *file, int line,
		    const char *pool, const char *fmt, ...)
		    __attribute__((format(printf, 5, 6)));
void		 conf_note(struct conf_load *, enum log_level,
		    const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
bool		 conf_digits(const char *);
int		 conf_int(const char *, long *);
int		 conf_bool(const char *, bool *);
char		*conf_expand(const char *value, const char *pool);
int		 conf_exts(struct pool_conf *, const char *);
void		 conf_store(struct conf_load *, struct conf_pool *,
		    const struct conf_opt *, char *value, const char *file,
		    int line);

/* conf_check.c */
void		 conf_check(struct conf_load *);

/* conf_confuse.c */
int		 conf_confuse_init(struct conf_load *);
void		 conf_confuse_parse(struct conf_load *, const char *name,
		    char *text, size_t len);
void		 conf_confuse_free(struct conf_load *);

#endif /* FPMD_CONF_INT_H */
