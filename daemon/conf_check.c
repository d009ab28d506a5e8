/*
 * The checks that need more than one value: a pool's settings against each
 * other (php-fpm's rules for pm = dynamic among them), the pools against
 * each other (names, listen addresses), and the users and groups, looked
 * up in the passwd and group databases (only here, and only for fpmd:
 * fpmctl never links this file).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_int.h"

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

/*
 * listen.acl_users / listen.acl_groups: names or numbers, separated by
 * commas (php-fpm's form) or spaces, each looked up now.
 */
static void
conf_check_acl(struct conf_load *cl, struct conf_pool *cp, bool users)
{
	struct pool_conf *pc = &cp->pc;
	const char	*v = users ? pc->listen_acl_users :
			    pc->listen_acl_groups;
	const char	*what = users ? "listen.acl_users" : "listen.acl_groups";
	int		 line = cp->line[users ? PO_ACL_USERS : PO_ACL_GROUPS];
	char		 name[256];
	void		*ids, *tmp;
	size_t		 n = 0, len;
	uid_t		 uid;
	gid_t		 gid;

	if (v == NULL)
		return;
	ids = NULL;
	for (;;) {
		v += strspn(v, " \t,");
		if (*v == '\0')
			break;
		len = strcspn(v, " \t,");
		snprintf(name, sizeof(name), "%.*s", (int)len, v);
		v += len;
		if (users ? conf_user(name, &uid, &gid) == -1 :
		    conf_group(name, &gid) == -1) {
			conf_err(cl, pc->file, line, pc->name, "%s: %s '%s' "
			    "does not exist", what, users ? "user" : "group",
			    name);
			continue;
		}
		tmp = reallocarray(ids, n + 1, users ? sizeof(uid_t) :
		    sizeof(gid_t));
		if (tmp == NULL) {
			cl->oom = true;
			break;
		}
		ids = tmp;
		if (users)
			((uid_t *)ids)[n++] = uid;
		else
			((gid_t *)ids)[n++] = gid;
	}
	if (users) {
		pc->acl_uids = ids;
		pc->nacl_uids = n;
	} else {
		pc->acl_gids = ids;
		pc->nacl_gids = n;
	}
}

/*
 * pm.status_path and ping.path, as php-fpm checks them: a path of at least
 * two characters from [alphanum]/_-.~ starting with '/'.
 */
static void
conf_check_url(struct conf_load *cl, struct conf_pool *cp, int opt,
    const char *what)
{
	const char	*v = *(char **)((char *)&cp->pc +
			    conf_pool_opts[opt].off);
	const char	*s;

	if (v == NULL)
		return;
	if (*v != '/') {
		conf_err(cl, cp->pc.file, cp->line[opt], cp->pc.name, "%s: "
		    "the %s path '%s' must start with a '/'",
		    conf_pool_opts[opt].name, what, v);
		return;
	}
	if (strlen(v) < 2) {
		conf_err(cl, cp->pc.file, cp->line[opt], cp->pc.name, "%s: "
		    "the %s path '%s' is not long enough",
		    conf_pool_opts[opt].name, what, v);
		return;
	}
	for (s = v; *s != '\0'; s++) {
		if (isalnum((unsigned char)*s) || strchr("/-_.~", *s) != NULL)
			continue;
		conf_err(cl, cp->pc.file, cp->line[opt], cp->pc.name, "%s: "
		    "the %s path '%s' must contain only the following "
		    "characters '[alphanum]/_-.~'", conf_pool_opts[opt].name,
		    what, v);
		return;
	}
}

/*
 * ping.response is "pong" unless set, and means nothing without ping.path;
 * an empty one is refused, as php-fpm refuses it.
 */
static void
conf_check_ping(struct conf_load *cl, struct conf_pool *cp)
{
	struct pool_conf *pc = &cp->pc;

	conf_check_url(cl, cp, PO_STATUS_PATH, "status");
	conf_check_url(cl, cp, PO_PING_PATH, "ping");
	if (pc->ping_path == NULL) {
		free(pc->ping_response);
		pc->ping_response = NULL;
		return;
	}
	if (pc->ping_response != NULL)
		return;
	if (cp->line[PO_PING_RESPONSE] != 0) {
		conf_err(cl, pc->file, cp->line[PO_PING_RESPONSE], pc->name,
		    "ping.response: the ping response page '' is not long "
		    "enough");
		return;
	}
	if ((pc->ping_response = strdup("pong")) == NULL)
		cl->oom = true;
}

/*
 * fpmd -t: would the listen on a work?  Its socket's directory must be
 * there and take a new file; an IP address must be this host's, and a low
 * port allowed.  The address in use is no error: it may be the running
 * fpmd's, which a test before a restart must not refuse.  The errno is
 * said as the listen would say it.
 */
static void
conf_check_listen(struct conf_load *cl, struct conf_pool *cp, int opt,
    const struct listen_addr *a)
{
	struct pool_conf *pc = &cp->pc;
	const char	*what = conf_pool_opts[opt].name, *slash;
	struct stat	 st;
	char		 dir[sizeof(a->text)];
	int		 fd, line = cp->line[opt];

	if (a->family == AF_UNIX) {
		slash = strrchr(a->text, '/');
		snprintf(dir, sizeof(dir), "%.*s", slash == a->text ? 1 :
		    (int)(slash - a->text), a->text);
		if (stat(dir, &st) == -1)
			conf_err(cl, pc->file, line, pc->name, "%s: cannot "
			    "create the socket %s: its directory %s %s (%s)",
			    what, a->text, dir, errno == ENOENT ? "does not "
			    "exist: create it first" : "cannot be reached",
			    strerror(errno));
		else if (!S_ISDIR(st.st_mode))
			conf_err(cl, pc->file, line, pc->name, "%s: cannot "
			    "create the socket %s: %s is not a directory",
			    what, a->text, dir);
		else if (access(dir, W_OK | X_OK) == -1)
			conf_err(cl, pc->file, line, pc->name, "%s: cannot "
			    "create the socket %s in %s (%s)", what, a->text,
			    dir, strerror(errno));
		return;
	}
	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 && a->family == AF_UNSPEC)
		return;		/* no IPv6 here: the listen takes 0.0.0.0 */
	if (fd == -1) {
		conf_err(cl, pc->file, line, pc->name, "%s: cannot listen on "
		    "%s: %s", what, a->text, strerror(errno));
		return;
	}
	if (bind(fd, (const struct sockaddr *)&a->ss, a->sslen) == -1 &&
	    errno != EADDRINUSE)
		conf_err(cl, pc->file, line, pc->name, "%s: cannot listen on "
		    "%s: %s%s", what, a->text, strerror(errno),
		    errno == EADDRNOTAVAIL ? " (no interface of this host "
		    "has that address)" : errno == EACCES ? " (a port below "
		    "1024 needs root or CAP_NET_BIND_SERVICE)" : "");
	close(fd);
}

/* One pool's checks that need the whole pool, php-fpm's among them. */
static bool
conf_hat_ok(const char *hat)
{
	const char *s;

	if (*hat == '\0' || strlen(hat) > 255 || strstr(hat, "//") != NULL)
		return false;
	for (s = hat; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

static void
conf_check_pool(struct conf_load *cl, struct conf_pool *cp)
{
	struct pool_conf *pc = &cp->pc;
	const char	*f = pc->file, *p = pc->name;
	bool		 as_root = cl->flags & CONF_AS_ROOT;
	bool		 allow = cl->flags & CONF_ALLOW_ROOT;
	gid_t		 pgid;
	char		 err[512];
	int		 l;

#define LINE(i)	(cp->line[i] != 0 ? cp->line[i] : pc->line)
	/* not when a misspelling of it was told: that says it all */
	if (cp->line[PO_LISTEN] == 0 && !cp->meant[PO_LISTEN])
		conf_err(cl, f, pc->line, p, "no 'listen' set");
	if (cp->line[PO_PM] == 0 && !cp->meant[PO_PM])
		conf_err(cl, f, pc->line, p, "no 'pm' set (static, dynamic "
		    "or ondemand)");
	if (cp->line[PO_MAX_CHILDREN] == 0 && !cp->meant[PO_MAX_CHILDREN])
		conf_err(cl, f, pc->line, p, "no 'pm.max_children' set");

	if (pc->pm == PM_DYNAMIC && cp->line[PO_PM] != 0 &&
	    pc->max_children >= 1 && !cp->meant[PO_MIN_SPARE] &&
	    !cp->meant[PO_MAX_SPARE] && !cp->meant[PO_START] &&
	    !cp->meant[PO_MAX_CHILDREN]) {
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
	conf_check_ping(cl, cp);
	if ((cl->flags & CONF_CHECK_LISTEN) && cp->addr_ok)
		conf_check_listen(cl, cp, PO_LISTEN, &pc->addr);
	if ((cl->flags & CONF_CHECK_LISTEN) && cp->status_addr_ok)
		conf_check_listen(cl, cp, PO_STATUS_LISTEN, &pc->status_addr);
	/* php-fpm's: a timeout with nowhere to write, or one never reached */
	if (pc->request_slowlog_timeout > 0 && pc->slowlog == NULL &&
	    !cp->meant[PO_SLOWLOG])
		conf_err(cl, f, LINE(PO_SLOWLOG_TIMEOUT), p, "'slowlog' must "
		    "be specified for use with 'request_slowlog_timeout'");
	else if (pc->request_slowlog_timeout > 0 &&
	    pc->request_terminate_timeout > 0 &&
	    pc->request_slowlog_timeout > pc->request_terminate_timeout)
		conf_err(cl, f, LINE(PO_SLOWLOG_TIMEOUT), p,
		    "'request_slowlog_timeout' (%d) can't be greater than "
		    "'request_terminate_timeout' (%d)",
		    pc->request_slowlog_timeout, pc->request_terminate_timeout);
	if (pc->access_format != NULL && accfmt_parse(pc->access_format, NULL,
	    err, sizeof(err)) == -1)
		conf_err(cl, f, LINE(PO_ACCESS_FORMAT), p, "%s", err);

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
			if (!allow && !cp->meant[PO_USER])
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

	/*
	 * The hat's name goes into the command a worker writes to the
	 * kernel (apparmor.c): printable, no blanks, no "//" (a hat of a
	 * hat).  Whether AppArmor lets fpmd use it is the daemon's check.
	 */
	if (pc->apparmor_hat != NULL && !conf_hat_ok(pc->apparmor_hat))
		conf_err(cl, f, LINE(PO_APPARMOR_HAT), p, "apparmor_hat: '%s' "
		    "is no hat name (printable, no blanks, no '//', at most "
		    "255 characters)", pc->apparmor_hat);

	/* ACLs take the place of owner and group, as in php-fpm */
	conf_check_acl(cl, cp, true);
	conf_check_acl(cl, cp, false);
	if ((pc->listen_acl_users != NULL || pc->listen_acl_groups != NULL) &&
	    cp->addr_ok && pc->addr.family != AF_UNIX)
		conf_note(cl, LOG_LVL_WARNING, "%s:%d: [pool %s] "
		    "listen.acl_users/listen.acl_groups: '%s' is no unix "
		    "socket; ignored", f, LINE(cp->line[PO_ACL_USERS] != 0 ?
		    PO_ACL_USERS : PO_ACL_GROUPS), p, pc->addr.text);
	else if ((pc->listen_acl_users != NULL ||
	    pc->listen_acl_groups != NULL) &&
	    (pc->listen_owner != NULL || pc->listen_group != NULL)) {
		conf_note(cl, LOG_LVL_WARNING, "%s:%d: [pool %s] "
		    "listen.owner and listen.group are ignored: "
		    "listen.acl_users/listen.acl_groups are set", f,
		    LINE(pc->listen_owner != NULL ? PO_LOWNER : PO_LGROUP), p);
		pc->listen_uid = (uid_t)-1;
		pc->listen_gid = (gid_t)-1;
	}
#undef LINE
}

/* error_log = syslog and what goes with it. */
static void
conf_check_logs(struct conf_load *cl)
{
	struct fpmd_conf *conf = cl->conf;
	const char	*p;

	if (conf->log_syslog && conf->log_json)
		conf_err(cl, cl->gfile[GO_LOG_FORMAT], cl->gline[GO_LOG_FORMAT],
		    NULL, "log_format = json cannot go to syslog, which has "
		    "its own fields: leave log_format out, or log to a file");
	for (p = conf->syslog_ident; p != NULL && *p != '\0'; p++)
		if (!isgraph((unsigned char)*p) || *p == '[' || *p == ':')
			break;
	if (p != NULL && (*p != '\0' || p - conf->syslog_ident > 64))
		conf_err(cl, cl->gfile[GO_SYSLOG_IDENT],
		    cl->gline[GO_SYSLOG_IDENT], NULL, "syslog.ident: '%s' must "
		    "be at most 64 characters, without spaces, '[' or ':'",
		    conf->syslog_ident);
}

/* control.status_socket: a path of its own, and its owners. */
static void
conf_check_status_socket(struct conf_load *cl)
{
	struct fpmd_conf *conf = cl->conf;
	gid_t		 pgid;

	if (conf->status_socket != NULL && conf->control_socket != NULL &&
	    strcmp(conf->status_socket, conf->control_socket) == 0)
		conf_err(cl, cl->gfile[GO_STATUS_SOCKET],
		    cl->gline[GO_STATUS_SOCKET], NULL, "control.status_socket: "
		    "'%s' is control.socket already: give it a path of its own",
		    conf->status_socket);
	if (conf->status_owner != NULL && conf_user(conf->status_owner,
	    &conf->status_uid, &pgid) == -1)
		conf_err(cl, cl->gfile[GO_STATUS_OWNER],
		    cl->gline[GO_STATUS_OWNER], NULL, "control.status_owner: "
		    "user '%s' does not exist", conf->status_owner);
	if (conf->status_group != NULL && conf_group(conf->status_group,
	    &conf->status_gid) == -1)
		conf_err(cl, cl->gfile[GO_STATUS_GROUP],
		    cl->gline[GO_STATUS_GROUP], NULL, "control.status_group: "
		    "group '%s' does not exist", conf->status_group);
}

void
conf_check(struct conf_load *cl)
{
	struct fpmd_conf *conf = cl->conf;
	struct conf_pool *a, *b;
	size_t		 i, j;
	gid_t		 pgid;

	if (cl->npools == 0)
		conf_err(cl, cl->files.cs_files[0]->cf_name, 1, NULL, "no pool "
		    "defined (add a section: pool NAME { ... })");
	for (i = 0; i < cl->npools; i++)
		conf_check_pool(cl, &cl->pools[i]);
	/* a pool's pm.status_listen against every address of every pool */
	for (i = 0; i < cl->npools; i++) {
		a = &cl->pools[i];
		for (j = 0; j < cl->npools && a->status_addr_ok; j++) {
			b = &cl->pools[j];
			if ((b->addr_ok && conf_addr_conflict(
			    &a->pc.status_addr, &b->pc.addr)) ||
			    (j < i && b->status_addr_ok && conf_addr_conflict(
			    &a->pc.status_addr, &b->pc.status_addr))) {
				conf_err(cl, a->pc.file,
				    a->line[PO_STATUS_LISTEN], a->pc.name,
				    "pm.status_listen address %s clashes with "
				    "an address of pool %s (%s): give it one of "
				    "its own", a->pc.status_addr.text,
				    b->pc.name, b->pc.file);
				break;
			}
		}
	}
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

	/* php-fpm counts crashes only when both are set */
	if ((conf->emergency_threshold > 0) != (conf->emergency_interval > 0))
		conf_note(cl, LOG_LVL_WARNING, "%s:%d: %s is set but not %s: "
		    "no pool is restarted on crashes",
		    conf->emergency_threshold > 0 ?
		    cl->gfile[GO_EMERGENCY_THRESHOLD] :
		    cl->gfile[GO_EMERGENCY_INTERVAL],
		    conf->emergency_threshold > 0 ?
		    cl->gline[GO_EMERGENCY_THRESHOLD] :
		    cl->gline[GO_EMERGENCY_INTERVAL],
		    conf->emergency_threshold > 0 ?
		    "emergency_restart_threshold" :
		    "emergency_restart_interval",
		    conf->emergency_threshold > 0 ?
		    "emergency_restart_interval" :
		    "emergency_restart_threshold");
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
	conf_check_logs(cl);
	conf_check_status_socket(cl);
}
