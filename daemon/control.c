/*
 * The control socket: a unix stream socket speaking newline-delimited JSON,
 * one request object per line and one reply object per line, for fpmctl
 * and scripts (common/ctlproto.h has the commands, codes and limits).
 * Peers are treated as hostile: the master never blocks on a client, a
 * line is at most 64 KiB, a client that says nothing or reads nothing is
 * dropped, and every malformed request gets an error reply.  The kernel
 * tells who is connecting (SO_PEERCRED, SO_PEERGROUPS): root, our own uid,
 * control.owner and members of control.group may talk to us, the users the
 * socket file's own permissions are set for; no name service is asked.
 *
 * A second socket, control.status_socket, is for monitoring: it answers
 * the commands that change nothing (ping, status, config) and refuses the
 * others with read_only, so that a monitoring user needs no right to stop
 * or reload fpmd.  It has its own mode, owner and group; besides those the
 * main socket lets in, its owner and the members of its group may talk.
 *
 * A client is torn down at once but freed after the event batch, since a
 * later event of the same batch may still name it.
 */
#include "config.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctlproto.h"
#include "fpmd.h"
#include "sockpath.h"

#define CTL_CLIENTS_MAX	256
#define CTL_IDLE_MS	30000
#define CTL_GROUPS_MAX	1024
#define CTL_PAUSE_MS	1000	/* no descriptor left: accept again after */

struct ctl_client {
	int			 fd;
	struct ev		 ev;
	struct ev_timer		 t_idle;	/* says nothing, reads nothing */
	struct ev_timer		 t_resume;	/* lines behind a reload */
	uid_t			 uid;
	gid_t			 gid;
	pid_t			 pid;
	char			*in;
	size_t			 in_len;
	char			*out;
	size_t			 out_len;
	size_t			 out_off;
	bool			 closing;	/* once the output is out */
	bool			 eof;		/* the peer sends no more */
	bool			 waiting;	/* for a reload */
	bool			 dead;
	bool			 readonly;	/* came by the status socket */
	json_t			*wait_id;
	struct ctl_client	*next;
};

struct ctl_sock {
	int			 fd;
	struct ev		 ev;
	struct ev_timer		 t_pause;	/* accept() ran out */
	bool			 paused;
	bool			 readonly;
	char			*path;
};

static struct {
	struct ctl_sock			 main;
	struct ctl_sock			 status;	/* read-only */
	struct ctl_client		*clients;
	int				 nclients;
} ctl = { .main = { .fd = -1 }, .status = { .fd = -1, .readonly = true } };

static void	client_close(struct ctl_client *);
static void	client_process(struct ctl_client *);
static void	control_resume(void *);
static void	control_resume_all(void);

static void
client_idle(void *arg)
{
	struct ctl_client *c = arg;

	log_debug("control: dropping idle client pid %d", (int)c->pid);
	client_close(c);
}

static void
client_touch(struct ctl_client *c)
{
	if (!c->dead)
		ev_timer_set(&c->t_idle, now_ms() + CTL_IDLE_MS, client_idle,
		    c);
}

/*
 * Input is read only while it can be answered: not once the connection is
 * closing or the peer has shut its side, and not while a reload is awaited
 * (epoll is level-triggered: an unread byte would wake us for ever).
 */
static void
client_want(struct ctl_client *c)
{
	uint32_t	 ev = 0;

	if (c->dead)
		return;
	if (!c->closing && !c->eof && !c->waiting)
		ev |= EPOLLIN;
	if (c->out_off < c->out_len)
		ev |= EPOLLOUT;
	if (ev_mod(&c->ev, ev) == -1)
		client_close(c);
}

static void
client_flush(struct ctl_client *c)
{
	ssize_t n;

	if (c->dead)
		return;
	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				client_want(c);
				return;
			}
			client_close(c);
			return;
		}
		c->out_off += (size_t)n;
		client_touch(c);
	}
	c->out_off = c->out_len = 0;
	if (c->closing) {
		client_close(c);
		return;
	}
	client_want(c);
}

/* Queues one reply line; takes the reference to reply. */
static void
client_reply(struct ctl_client *c, json_t *reply, json_t *id)
{
	char *text, *nb;
	size_t len;

	if (c->dead) {
		json_decref(reply);
		return;
	}
	if (reply == NULL) {
		/* jansson could not build it: out of memory */
		reply = json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error",
		    "code", "internal", "message", "fpmd could not build the "
		    "reply");
		if (reply == NULL) {
			client_close(c);
			return;
		}
	}
	if (id != NULL)
		json_object_set(reply, "id", id);
	text = json_dumps(reply, JSON_COMPACT);
	json_decref(reply);
	if (text == NULL) {
		client_close(c);
		return;
	}
	len = strlen(text);
	/*
	 * Replies wait for a reader up to a bound; one reply may pass it on
	 * its own (status --full of thousands of workers), but not pile up.
	 */
	if (c->out_len > c->out_off &&
	    c->out_len + len + 1 > CTLPROTO_REPLY_MAX) {
		log_warnx("control: client pid %d does not read its replies; "
		    "dropping it", (int)c->pid);
		free(text);
		client_close(c);
		return;
	}
	if ((nb = realloc(c->out, c->out_len + len + 1)) == NULL) {
		free(text);
		client_close(c);
		return;
	}
	c->out = nb;
	memcpy(c->out + c->out_len, text, len);
	c->out[c->out_len + len] = '\n';
	c->out_len += len + 1;
	free(text);
	client_flush(c);
}

static json_t *
err_reply(const char *code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static json_t *
err_reply(const char *code, const char *fmt, ...)
{
	char msg[1024], *p;
	json_t *m;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/*
	 * A quoted piece of the request (or of jansson's message about it) may
	 * end inside a UTF-8 character, and jansson takes no invalid string:
	 * the error would be no reply at all.
	 */
	if ((m = json_string(msg)) == NULL) {
		for (p = msg; *p != '\0'; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		m = json_string(msg);
	}
	return json_pack("{s:b, s:{s:s, s:o}}", "ok", 0, "error", "code", code,
	    "message", m);
}

/* Commands */

/* A boolean argument: absent is def; anything but true/false is refused. */
static int
arg_bool(json_t *req, const char *key, bool def, bool *out)
{
	json_t *v = json_object_get(req, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!json_is_boolean(v))
		return -1;
	*out = json_is_true(v);
	return 0;
}

static json_t *
cmd_ping(struct ctl_client *c, json_t *req)
{
	return json_pack("{s:b, s:i, s:s, s:s, s:i, s:I, s:i}", "ok", 1,
	    "protocol", CTLPROTO_VERSION, "version", FPMD_VERSION, "php",
	    sapi_php_version(), "pid", (int)getpid(), "uptime",
	    (json_int_t)(time(NULL) - fpmd->start_time), "generation",
	    fpmd->generation);
}

static json_t *
cmd_status(struct ctl_client *c, json_t *req)
{
	bool full;

	if (arg_bool(req, "full", false, &full) == -1)
		return err_reply("invalid_argument", "\"full\" must be true or "
		    "false");
	return status_json(full, reload_busy());
}

static json_t *
conf_errors_json(const char *errors)
{
	json_t *a = json_array();
	const char *p = errors, *nl;

	while (p != NULL && *p) {
		nl = strchr(p, '\n');
		json_array_append_new(a, json_stringn(p, nl ? (size_t)(nl - p) :
		    strlen(p)));
		p = nl ? nl + 1 : NULL;
	}
	return a;
}

static json_t *
reload_reply(const struct reload_result *res)
{
	json_t *r;

	if (res->ok)
		return json_pack("{s:b, s:i, s:I}", "ok", 1, "generation",
		    res->generation, "duration_ms",
		    (json_int_t)res->duration_ms);
	r = err_reply(res->code, "%s", res->message);
	if (res->errors != NULL)
		json_object_set_new(r, "errors", conf_errors_json(res->errors));
	return r;
}

static void
client_resume(void *arg)
{
	struct ctl_client *c = arg;

	client_process(c);
}

/* The reload a client waits for is over. */
static void
control_reload_done(void *arg, const struct reload_result *res)
{
	struct ctl_client *c = arg;

	if (c == NULL || c->dead || !c->waiting)
		return;
	c->waiting = false;
	client_reply(c, reload_reply(res), c->wait_id);
	json_decref(c->wait_id);
	c->wait_id = NULL;
	client_touch(c);
	client_want(c);
	/* Its next lines, once this batch is over, not from in here. */
	if (!c->dead)
		ev_timer_set(&c->t_resume, now_ms(), client_resume, c);
}

static json_t *
cmd_reload(struct ctl_client *c, json_t *req)
{
	struct reload_result now;
	bool wait;
	int rc;

	if (arg_bool(req, "wait", true, &wait) == -1)
		return err_reply("invalid_argument", "\"wait\" must be true or "
		    "false");
	rc = reload_start(wait ? control_reload_done : NULL, wait ? c : NULL,
	    &now);
	if (rc == -1)
		return reload_reply(&now);
	if (wait) {
		c->waiting = true;
		c->wait_id = json_incref(json_object_get(req, "id"));
		ev_timer_stop(&c->t_idle);	/* a reload may take long */
		return NULL;
	}
	return json_pack("{s:b, s:i, s:b}", "ok", 1, "generation",
	    now.generation, "pending", 1);
}

static json_t *
cmd_stop(struct ctl_client *c, json_t *req)
{
	json_t *t = json_object_get(req, "timeout");
	int timeout = 0;
	bool now;

	if (arg_bool(req, "now", false, &now) == -1)
		return err_reply("invalid_argument", "\"now\" must be true or "
		    "false");
	if (t != NULL) {
		if (!json_is_integer(t) || json_integer_value(t) < 0 ||
		    json_integer_value(t) > 86400)
			return err_reply("invalid_argument", "timeout must be "
			    "a number of seconds from 0 to 86400");
		timeout = (int)json_integer_value(t);
	}
	if (!now)
		listen_shut_all();	/* before the workers hear */
	pm_stop(!now, timeout);
	return json_pack("{s:b, s:s, s:i}", "ok", 1, "stopping", now ? "now" :
	    "graceful", "timeout", now ? 2 : fpmd->stop_timeout);
}

static json_t *
cmd_scale(struct ctl_client *c, json_t *req)
{
	const char *pool;
	json_t *n;
	char err[256];
	int prev, rc;

	if (fpmd->state != FPMD_RUNNING)
		return err_reply("stopping", "fpmd is stopping");
	pool = json_string_value(json_object_get(req, "pool"));
	n = json_object_get(req, "max_children");
	if (pool == NULL || !json_is_integer(n))
		return err_reply("invalid_argument", "scale needs \"pool\" (a "
		    "string) and \"max_children\" (an integer)");
	if (json_integer_value(n) < 1 || json_integer_value(n) > INT_MAX)
		return err_reply("invalid_argument", "max_children must be at "
		    "least 1");
	rc = pm_scale(pool, (int)json_integer_value(n), &prev, err,
	    sizeof(err));
	if (rc == -1)
		return err_reply("unknown_pool", "%s", err);
	if (rc < 0)
		return err_reply("invalid_argument", "%s", err);
	return json_pack("{s:b, s:s, s:I, s:i}", "ok", 1, "pool", pool,
	    "max_children", json_integer_value(n), "previous", prev);
}

static json_t *
cmd_reopen_logs(struct ctl_client *c, json_t *req)
{
	const char *what;

	/* the pools' access logs and slowlogs too: no worker holds them */
	if (errlog_reopen(fpmd->conf, &what) == 0)
		return json_pack("{s:b}", "ok", 1);
	if (strcmp(what, "error") == 0)
		return err_reply("reopen_failed", "cannot reopen %s (see the "
		    "log)", fpmd->conf->error_log);
	return err_reply("reopen_failed", "cannot reopen an access log or "
	    "slowlog (see the log)");
}

static json_t *
cmd_config(struct ctl_client *c, json_t *req)
{
	/* monitoring sees the names of env and php.ini settings only */
	return json_pack("{s:b, s:o}", "ok", 1, "config",
	    status_conf_json(fpmd->conf, fpmd->ctl_path, c->readonly));
}

/* Handlers of the commands common/ctlproto.c names. */
static const struct {
	const char	*name;
	json_t		*(*fn)(struct ctl_client *, json_t *);
} handlers[] = {
	{ "ping", cmd_ping },
	{ "status", cmd_status },
	{ "config", cmd_config },
	{ "reload", cmd_reload },
	{ "stop", cmd_stop },
	{ "scale", cmd_scale },
	{ "reopen-logs", cmd_reopen_logs },
};

/* A command refused says so in the log, with its reason. */
static void
control_log_refusal(struct ctl_client *c, const struct ctlproto_cmd *pc,
    json_t *r)
{
	const char *code, *msg;
	json_t *e;

	if (r == NULL || (e = json_object_get(r, "error")) == NULL)
		return;
	code = json_string_value(json_object_get(e, "code"));
	msg = json_string_value(json_object_get(e, "message"));
	log_msg(pc->changes ? LOG_LVL_WARNING : LOG_LVL_DEBUG,
	    "control: %s from uid %d pid %d refused (%s): %s", pc->name,
	    (int)c->uid, (int)c->pid, code ? code : "?", msg ? msg : "?");
}

static void
control_dispatch(struct ctl_client *c, const char *line, size_t len)
{
	const struct ctlproto_cmd *pc;
	json_error_t jerr;
	json_t *req, *id = NULL, *r = NULL;
	const char *cmd;
	size_t i, n;

	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL) {
		client_reply(c, err_reply("bad_request", "not JSON: %s (at "
		    "column %d)", jerr.text, jerr.column), NULL);
		return;
	}
	if (!json_is_object(req)) {
		client_reply(c, err_reply("bad_request", "a request is a JSON "
		    "object, such as {\"cmd\":\"ping\"}"), NULL);
		json_decref(req);
		return;
	}
	id = json_object_get(req, "id");
	if ((cmd = json_string_value(json_object_get(req, "cmd"))) == NULL) {
		client_reply(c, err_reply("bad_request", "no \"cmd\" string in "
		    "the request"), id);
		json_decref(req);
		return;
	}
	pc = ctlproto_cmd_find(cmd);
	for (i = 0; pc != NULL && i < sizeof(handlers) / sizeof(handlers[0]);
	    i++)
		if (strcmp(handlers[i].name, pc->name) == 0)
			break;
	if (pc != NULL && c->readonly && pc->changes) {
		r = err_reply("read_only", "'%s' is not taken on the status "
		    "socket %s, which answers ping, status and config only",
		    pc->name, ctl.status.path);
		control_log_refusal(c, pc, r);
		client_reply(c, r, id);
		json_decref(req);
		return;
	}
	if (pc == NULL || i == sizeof(handlers) / sizeof(handlers[0])) {
		/* at most 64 bytes of it, not cutting a UTF-8 character */
		for (n = strnlen(cmd, 64); n > 0 && cmd[n] != '\0' &&
		    ((unsigned char)cmd[n] & 0xc0) == 0x80; n--)
			;
		client_reply(c, err_reply("unknown_command", "unknown command "
		    "'%.*s'; commands: %s", (int)n, cmd, ctlproto_cmd_list()),
		    id);
		json_decref(req);
		return;
	}
	log_msg(pc->changes ? LOG_LVL_NOTICE : LOG_LVL_DEBUG,
	    "control: %s from uid %d pid %d", pc->name, (int)c->uid,
	    (int)c->pid);
	r = handlers[i].fn(c, req);
	control_log_refusal(c, pc, r);
	if (r != NULL || !c->waiting)
		client_reply(c, r, id);
	json_decref(req);
}

static void
client_free(void *arg)
{
	struct ctl_client *c = arg;

	json_decref(c->wait_id);
	free(c->in);
	free(c->out);
	free(c);
}

/* Closed and unlinked now, freed after the batch: callers may hold c. */
static void
client_close(struct ctl_client *c)
{
	struct ctl_client **cp;

	if (c->dead)
		return;
	c->dead = true;
	/* reload.c would call back with c once the reload ends */
	if (c->waiting)
		reload_forget(c);
	c->waiting = false;
	ev_del(&c->ev);
	ev_timer_stop(&c->t_idle);
	ev_timer_stop(&c->t_resume);
	close(c->fd);
	c->fd = -1;
	for (cp = &ctl.clients; *cp != NULL; cp = &(*cp)->next)
		if (*cp == c) {
			*cp = c->next;
			break;
		}
	ctl.nclients--;
	/* A descriptor is free again: the connections waiting may come. */
	control_resume_all();
	if (ev_free_later(c, client_free) == -1)
		client_free(c);	/* XXX nothing can name it after this batch */
}

/* Answers the complete lines read, in order, as far as it may go on. */
static void
client_process(struct ctl_client *c)
{
	char *nl, *p;
	size_t left;

	/* Several requests may come in one read; answer them in order. */
	p = c->in;
	while (!c->closing && !c->waiting && !c->dead &&
	    (nl = memchr(p, '\n', c->in_len - (size_t)(p - c->in))) != NULL) {
		*nl = '\0';
		if (nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		if (strspn(p, " \t\r") != strlen(p))
			control_dispatch(c, p, strlen(p));
		p = nl + 1;
	}
	if (c->dead)
		return;
	left = c->in_len - (size_t)(p - c->in);
	memmove(c->in, p, left);
	c->in_len = left;
	if (c->waiting) {
		client_want(c);
		return;
	}
	if (c->in_len > CTLPROTO_LINE_MAX) {
		c->closing = true;
		client_reply(c, err_reply("line_too_long", "a request line may "
		    "be at most %d bytes", CTLPROTO_LINE_MAX), NULL);
	} else if (c->eof && !c->closing) {
		/* Nothing more will come: close once the replies are out. */
		c->closing = true;
		if (c->out_off == c->out_len)
			client_close(c);
		else
			client_want(c);
	}
}

static void
client_on_io(struct ev *e, uint32_t events)
{
	struct ctl_client *c = e->arg;
	ssize_t n;

	if (events & EPOLLOUT) {
		client_flush(c);
		return;		/* c may be closed */
	}
	if (c->dead)
		return;
	/* Hung up: whatever we would still send has no reader. */
	if (events & (EPOLLHUP | EPOLLERR) && !(events & EPOLLIN)) {
		client_close(c);
		return;
	}
	if (c->closing || c->eof || c->waiting)
		return;
	n = recv(c->fd, c->in + c->in_len, CTLPROTO_LINE_MAX + 1 - c->in_len,
	    MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1) {
		client_close(c);
		return;
	}
	if (n == 0) {
		/* A shut write side: the requests sent still get replies. */
		c->eof = true;
		client_want(c);
	} else {
		c->in_len += (size_t)n;
		client_touch(c);
	}
	client_process(c);
}

/*
 * Root, our own uid, and members of control.group, by the peer's groups as
 * the kernel saw them when it connected.
 */
static bool
peer_in_group(int fd, const struct ucred *cr, gid_t gid)
{
	gid_t groups[CTL_GROUPS_MAX];
	socklen_t len = sizeof(groups);
	size_t i;

	if (gid == (gid_t)-1)
		return false;
	if (cr->gid == gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1)
		return false;
	for (i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/*
 * Root, our own uid, control.owner and the members of control.group: an
 * owner given the socket file is meant to use it.  On the status socket:
 * those, and its own owner and group too.  The conf in force decides, so
 * a reload that gives the socket to another owner moves the right too.
 */
static bool
peer_allowed(int fd, const struct ucred *cr, bool readonly)
{
	const struct fpmd_conf *conf = fpmd->conf;

	if (cr->uid == 0 || cr->uid == geteuid())
		return true;
	if (conf->control_uid != (uid_t)-1 && cr->uid == conf->control_uid)
		return true;
	if (peer_in_group(fd, cr, conf->control_gid))
		return true;
	if (!readonly)
		return false;
	if (conf->status_uid != (uid_t)-1 && cr->uid == conf->status_uid)
		return true;
	return peer_in_group(fd, cr, conf->status_gid);
}

static void
control_refuse(int fd, const char *code, const char *message)
{
	char msg[256];
	int n;

	n = snprintf(msg, sizeof(msg), "{\"ok\":false,\"error\":{\"code\":"
	    "\"%s\",\"message\":\"%s\"}}\n", code, message);
	if (send(fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
		(void)0;
	close(fd);
}

static void
control_resume(void *arg)
{
	struct ctl_sock *cs = arg;

	ev_timer_stop(&cs->t_pause);
	cs->paused = false;
	ev_mod(&cs->ev, EPOLLIN);
}

static void
control_resume_all(void)
{
	if (ctl.main.paused)
		control_resume(&ctl.main);
	if (ctl.status.paused)
		control_resume(&ctl.status);
}

/*
 * Out of descriptors (or memory), the connections stay in the backlog and
 * the socket stays readable: it is left alone for a while, or until a
 * client leaves, rather than tried again in every round.
 */
static void
control_pause(struct ctl_sock *cs)
{
	if (ev_mod(&cs->ev, 0) == -1)
		return;
	cs->paused = true;
	ev_timer_set(&cs->t_pause, now_ms() + CTL_PAUSE_MS, control_resume,
	    cs);
}

static void
control_on_accept(struct ev *e, uint32_t events)
{
	struct ctl_sock *cs = e->arg;
	struct ctl_client *c;
	struct ucred cr;
	socklen_t len;
	char msg[160];
	int fd;

	while ((fd = accept4(cs->fd, NULL, NULL, SOCK_CLOEXEC |
	    SOCK_NONBLOCK)) != -1) {
		len = sizeof(cr);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1) {
			close(fd);
			continue;
		}
		if (!peer_allowed(fd, &cr, cs->readonly)) {
			if (cs->readonly)
				snprintf(msg, sizeof(msg), "uid %d may not "
				    "watch fpmd: it is neither "
				    "control.status_owner nor in "
				    "control.status_group", (int)cr.uid);
			else
				snprintf(msg, sizeof(msg), "uid %d may not "
				    "control fpmd: it is neither root, "
				    "fpmd's user, control.owner nor in "
				    "control.group", (int)cr.uid);
			log_warnx("control: refused uid %d pid %d%s: %s",
			    (int)cr.uid, (int)cr.pid, cs->readonly ?
			    " on the status socket" : "", msg);
			control_refuse(fd, "permission_denied", msg);
			continue;
		}
		if (ctl.nclients >= CTL_CLIENTS_MAX) {
			control_refuse(fd, "busy", "too many control clients");
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL ||
		    (c->in = malloc(CTLPROTO_LINE_MAX + 1)) == NULL) {
			log_error("control: out of memory for a client");
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->readonly = cs->readonly;
		c->uid = cr.uid;
		c->gid = cr.gid;
		c->pid = cr.pid;
		if (ev_add(&c->ev, fd, EPOLLIN, client_on_io, c) == -1) {
			client_free(c);
			close(fd);
			continue;
		}
		c->next = ctl.clients;
		ctl.clients = c;
		ctl.nclients++;
		client_touch(c);
	}
	if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
	    errno == ENOMEM) {
		log_warn("control: accept (again in %d ms)", CTL_PAUSE_MS);
		control_pause(cs);
	} else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
		log_warn("control: accept");
}

static int
control_sock_open(struct ctl_sock *cs, const char *path, int mode, uid_t uid,
    gid_t gid, const char *what)
{
	int fd;

	if ((cs->path = strdup(path)) == NULL) {
		log_error("%s", what);
		return -1;
	}
	fd = listen_unix(path, mode, uid, gid, 64, what);
	if (fd == -1)
		goto fail;
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1 ||
	    ev_add(&cs->ev, fd, EPOLLIN, control_on_accept, cs) == -1) {
		log_error("%s", what);
		close(fd);
		unlink(path);
		goto fail;
	}
	cs->fd = fd;
	log_debug("%s: %s", what, path);
	return 0;
fail:
	free(cs->path);
	cs->path = NULL;
	return -1;
}

static void
control_sock_close(struct ctl_sock *cs)
{
	ev_timer_stop(&cs->t_pause);
	if (cs->fd != -1) {
		ev_del(&cs->ev);
		close(cs->fd);
		unlink(cs->path);
		cs->fd = -1;
	}
	free(cs->path);
	cs->path = NULL;
}

/* A new mode, owner or group, in place. */
static void
control_sock_perms(const struct ctl_sock *cs, int old_mode, int mode,
    uid_t old_uid, uid_t cuid, gid_t old_gid, gid_t cgid, const char *what)
{
	uid_t uid;
	gid_t gid;

	if (cs->fd == -1)
		return;
	if (old_mode != mode && chmod(cs->path, (mode_t)mode) == -1)
		log_warn("%s mode %04o on '%s'", what, mode, cs->path);
	if (old_uid != cuid || old_gid != cgid) {
		uid = cuid != (uid_t)-1 ? cuid : geteuid();
		gid = cgid != (gid_t)-1 ? cgid : getegid();
		if (chown(cs->path, uid, gid) == -1)
			log_warn("%s owner and group on '%s'", what, cs->path);
	}
}

int
control_open(void)
{
	const struct fpmd_conf *conf = fpmd->conf;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *dir, *slash;

	if (conf->control_socket != NULL)
		fpmd->ctl_path = strdup(conf->control_socket);
	else if (sockpath_default(path, sizeof(path), conf->file, NULL) == 0)
		fpmd->ctl_path = strdup(path);
	if (fpmd->ctl_path == NULL) {
		log_errorx("no usable control socket path: set control.socket");
		return -1;
	}
	if (conf->control_socket == NULL && geteuid() == 0 &&
	    (dir = strdup(fpmd->ctl_path)) != NULL) {
		/* /run/fpmd, made if missing */
		if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
			*slash = '\0';
			if (mkdir(dir, 0755) == -1 && errno != EEXIST)
				log_warn("mkdir %s", dir);
		}
		free(dir);
	}
	if (control_sock_open(&ctl.main, fpmd->ctl_path, conf->control_mode,
	    conf->control_uid, conf->control_gid, "control socket") == -1)
		return -1;
	if (conf->status_socket != NULL && control_sock_open(&ctl.status,
	    conf->status_socket, conf->status_mode, conf->status_uid,
	    conf->status_gid, "status socket") == -1) {
		control_sock_close(&ctl.main);
		return -1;
	}
	return 0;
}

/*
 * A reload's new control.mode, owner and group apply to the socket in
 * place; a new path would need a new socket, which fpmctl could then not
 * find under the old one: it waits for a restart, and the log says so.
 */
static bool
control_path_differ(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0);
}

void
control_apply(const struct fpmd_conf *old, const struct fpmd_conf *conf)
{
	if (control_path_differ(old->control_socket, conf->control_socket))
		log_warnx("control.socket changed: fpmd answers on '%s' until "
		    "it restarts", fpmd->ctl_path);
	control_sock_perms(&ctl.main, old->control_mode, conf->control_mode,
	    old->control_uid, conf->control_uid, old->control_gid,
	    conf->control_gid, "control.mode/owner/group:");
	if (control_path_differ(old->status_socket, conf->status_socket)) {
		if (ctl.status.fd != -1)
			log_warnx("control.status_socket changed: fpmd answers "
			    "on '%s' until it restarts", ctl.status.path);
		else
			log_warnx("control.status_socket changed: fpmd opens "
			    "it when it restarts");
	}
	control_sock_perms(&ctl.status, old->status_mode, conf->status_mode,
	    old->status_uid, conf->status_uid, old->status_gid,
	    conf->status_gid, "control.status_mode/owner/group:");
}

void
control_close(void)
{
	while (ctl.clients != NULL)
		client_close(ctl.clients);
	control_sock_close(&ctl.main);
	control_sock_close(&ctl.status);
}
