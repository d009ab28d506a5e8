/*
 * fpmd: the structures every part of the daemon shares, grouped by the file
 * that owns them.  Only sapi.c (and the glue it exports) sees PHP's headers.
 */
#ifndef FPMD_H
#define FPMD_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "log.h"
#include "fcgi.h"

#define FPMD_VERSION		PACKAGE_VERSION
#define FPMD_SAPI_NAME		"fpm-fcgi"
#define FPMD_EXIT_SOFTWARE	70
#define FPMD_EXIT_CONFIG	78
#define FPMD_EXIT_USAGE		64
#define FPMD_SLOTS_DEFAULT	1024	/* scoreboard slots without process.max */
#define FPMD_ADDR_MAX		256

/* config.c */

enum pm_style {
	PM_STATIC = 0,
	PM_DYNAMIC,
	PM_ONDEMAND
};

struct listen_addr {
	int			 family;	/* AF_UNIX, AF_INET, AF_INET6;
						   AF_UNSPEC = any address */
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 text[FPMD_ADDR_MAX]; /* as written, normalised */
};

struct kv {
	char		*key;
	char		*value;
};

struct php_setting {
	char		*name;
	char		*value;		/* flags are "1" or "0" */
	bool		 admin;		/* php_admin_value / php_admin_flag */
	bool		 flag;
};

struct pool_conf {
	char			*name;
	char			*file;		/* where the pool section starts */
	int			 line;

	char			*listen;
	struct listen_addr	 addr;
	int			 listen_backlog;
	char			*listen_owner;
	char			*listen_group;
	uid_t			 listen_uid;	/* (uid_t)-1: unchanged */
	gid_t			 listen_gid;
	int			 listen_mode;
	char			*listen_allowed_clients;

	enum pm_style		 pm;
	int			 max_children;
	int			 start_servers;
	int			 min_spare_servers;
	int			 max_spare_servers;
	int			 max_spawn_rate;
	int			 process_idle_timeout;	/* seconds */
	int			 max_requests;

	char			*user;
	char			*group;
	uid_t			 uid;		/* resolved; (uid_t)-1 if unset */
	gid_t			 gid;
	char			*chdir;
	char			*chroot;
	bool			 clear_env;
	struct kv		*env;
	size_t			 nenv;

	char			*php_ini;	/* pool's, else the global one */
	char			*php_ini_scan_dir;
	struct php_setting	*php;
	size_t			 nphp;
	bool			 allow_php_value_param;	/* PHP_VALUE params */

	char		       **limit_extensions;
	size_t			 nlimit_extensions;	/* 0: allow all */
	bool			 catch_workers_output;
	bool			 decorate_workers_output;
	bool			 process_dumpable;
	int			 rlimit_files;	/* -1: unchanged */
	int			 rlimit_core;	/* -1: unchanged, -2: unlimited */

	int			 request_terminate_timeout;	/* seconds */
};

struct fpmd_conf {
	char			*file;		/* absolute path */
	enum log_level		 log_level;
	char			*error_log;	/* NULL: stderr */
	char			*php_ini;
	char			*php_ini_scan_dir;
	int			 process_control_timeout;	/* seconds */
	int			 process_max;	/* 0: no cap */
	int			 rlimit_files;
	int			 rlimit_core;

	char			*control_socket;
	int			 control_mode;
	char			*control_owner;
	char			*control_group;

	struct pool_conf	*pools;
	size_t			 npools;
};

#define CONF_ALLOW_ROOT		0x01	/* -R given */
#define CONF_AS_ROOT		0x02	/* check user/group as root would */

/*
 * Reads and checks the whole configuration.  On error returns NULL and sets
 * *errors to a malloc'd text of "FILE:LINE: reason" lines (the caller frees
 * it).  The result is never modified after it is returned.
 */
struct fpmd_conf *conf_load(const char *path, int flags, char **errors);
void		 conf_free(struct fpmd_conf *conf);
const char	*conf_pm_name(enum pm_style pm);
int		 conf_listen_parse(const char *text, struct listen_addr *addr,
		    char *err, size_t errlen);

#endif /* FPMD_H */
