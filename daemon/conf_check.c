/*
 * The checks that need more than one value: a pool's settings against each
 * other (php-fpm's rules for pm = dynamic among them), the pools against
 * each other (names, listen addresses), and the users and groups, looked
 * up in the passwd and group databases (only here, and only for fpmd:
 * fpmctl never links this file).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <ctype.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

/* One pool's checks that need the whole pool, php-fpm's among them. */
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
	conf_check_ping(cl, cp);
	/* php-fpm's: a timeout with nowhere to write, or one never reached */
	if (pc->request_slowlog_timeout > 0 && pc->slowlog == NULL)
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
}
