/*
 * The control socket: a unix stream socket speaking newline-delimited JSON,
 * one request object per line and one reply object per line, for fpmctl
 * and scripts.  Peers are treated as hostile: the master never blocks on a
 * client, a line is at most 64 KiB, a client that says nothing or reads
 * nothing is dropped, and every malformed request gets an error reply.
 * SO_PEERCRED decides who may talk to us: root, our own uid, and members
 * of control.group.
 *
 * Signals reach the same code: USR2 reloads, QUIT and TERM stop, USR1
 * reopens the logs.
 */
#include "config.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fpmd.h"
#include "sockpath.h"

#define CTL_LINE_MAX	(64 * 1024)
#define CTL_OUT_MAX	(4 * 1024 * 1024)
#define CTL_CLIENTS_MAX	256
#define CTL_IDLE_MS	30000
#define CTL_PROTOCOL	1

struct ctl_client {
	int			 fd;
	struct ev		 ev;
	uid_t			 uid;
	gid_t			 gid;
	pid_t			 pid;
	char			*in;
	size_t			 in_len;
	char			*out;
	size_t			 out_len;
	size_t			 out_off;
	int64_t			 last;
	bool			 closing;	/* once the output is out */
	bool			 eof;		/* the peer sends no more */
	bool			 waiting;	/* for a reload */
	bool			 resume;	/* lines wait behind a reload */
	bool			 dead;		/* freed by control_sweep() */
	json_t			*wait_id;
	struct ctl_client	*next;
};

static void	client_close(struct ctl_client *);
static void	client_process(struct ctl_client *);

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
	ev_mod(&c->ev, ev);
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
	if (id != NULL)
		json_object_set(reply, "id", id);
	text = json_dumps(reply, JSON_COMPACT);
	json_decref(reply);
	if (text == NULL) {
		client_close(c);
		return;
	}
	len = strlen(text);
	if (c->out_len + len + 1 > CTL_OUT_MAX) {
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
	    "protocol", CTL_PROTOCOL, "version", FPMD_VERSION, "php",
	    sapi_php_version(), "pid", (int)getpid(), "uptime",
	    (json_int_t)(time(NULL) - fpmd->start_time), "generation",
	    fpmd->generation);
}

static json_t *
status_processes(const struct pool *p)
{
	struct sb_slot s;
	json_t *a = json_array();
	time_t now = time(NULL);
	struct timespec ts;
	uint64_t dur;
	char uri[SB_URI + SB_QUERY + 2];
	uint32_t i;

	clock_gettime(CLOCK_REALTIME, &ts);
	for (i = 0; i < fpmd->sb->nslots; i++) {
		if (fpmd->slots[i].gen == NULL ||
		    fpmd->slots[i].gen->pool != p)
			continue;
		sb_slot_read(&fpmd->sb->slots[i], &s);
		s.method[sizeof(s.method) - 1] = '\0';
		s.uri[sizeof(s.uri) - 1] = '\0';
		s.query[sizeof(s.query) - 1] = '\0';
		s.script[sizeof(s.script) - 1] = '\0';
		s.user[sizeof(s.user) - 1] = '\0';
		/* the path as requested, then the query, as php-fpm shows */
		s.uri[strcspn(s.uri, "?")] = '\0';
		snprintf(uri, sizeof(uri), "%s%s%s", s.uri, s.query[0] ? "?" :
		    "", s.query);
		if (s.state > SLOT_IDLE) {
			/* in a request: its duration so far */
			dur = (uint64_t)((ts.tv_sec - s.req_start.tv_sec) *
			    1000000 + (ts.tv_nsec - s.req_start.tv_nsec) /
			    1000);
		} else
			dur = s.req_duration_us;
		json_array_append_new(a, json_pack("{s:i, s:i, s:s, s:I, s:I, "
		    "s:I, s:I, s:s, s:s, s:I, s:s, s:s, s:f, s:I}",
		    "pid", (int)(s.pid ? s.pid : fpmd->slots[i].pid),
		    "generation", (int)s.gen,
		    "state", status_state_name(s.state),
		    "start_time", (json_int_t)s.start,
		    "start_since", (json_int_t)(s.start ? now - s.start : 0),
		    "requests", (json_int_t)s.requests,
		    "request_duration", (json_int_t)dur,
		    "request_method", s.method[0] ? s.method : "-",
		    "request_uri", uri[0] ? uri : "-",
		    "content_length", (json_int_t)s.content_length,
		    "user", s.user[0] ? s.user : "-",
		    "script", s.script[0] ? s.script : "-",
		    "last_request_cpu", s.state > SLOT_IDLE ? 0.0 : s.last_cpu,
		    "last_request_memory", (json_int_t)(s.state > SLOT_IDLE ?
		    0 : s.last_memory)));
	}
	return a;
}

static json_t *
cmd_status(struct ctl_client *c, json_t *req)
{
	struct pool_status st;
	const struct sb_pool *sp;
	const struct gen *g;
	struct pool *p;
	json_t *pools, *o;
	time_t now = time(NULL);
	bool full;

	if (arg_bool(req, "full", false, &full) == -1)
		return err_reply("invalid_argument", "\"full\" must be true or "
		    "false");
	pools = json_array();

	for (p = fpmd->pools; p != NULL; p = p->link) {
		if ((g = p->cur) == NULL)
			continue;
		status_pool(p, &st);
		sp = &fpmd->sb->pools[p->index];
		o = json_pack("{s:s, s:s, s:i, s:s, s:I, s:I, s:I, s:i, s:i, "
		    "s:i, s:i, s:i, s:i, s:i, s:i, s:I, s:i}",
		    "pool", p->name,
		    "process_manager", conf_pm_name(g->pc->pm),
		    "generation", g->num,
		    "listen", g->ls->addr.text,
		    "start_time", (json_int_t)sp->start,
		    "start_since", (json_int_t)(now - sp->start),
		    "accepted_conn", (json_int_t)st.accepted,
		    "listen_queue", st.listen_queue,
		    "max_listen_queue", st.max_listen_queue,
		    "listen_queue_len", st.listen_queue_len,
		    "idle_processes", st.idle,
		    "active_processes", st.active,
		    "total_processes", st.total,
		    "max_active_processes", st.max_active,
		    "max_children_reached", st.max_children_reached,
		    "slow_requests", (json_int_t)st.slow_requests,
		    "max_children", g->max);
		if (full)
			json_object_set_new(o, "processes",
			    status_processes(p));
		json_array_append_new(pools, o);
	}
	return json_pack("{s:b, s:i, s:i, s:s, s:o}", "ok", 1, "pid",
	    (int)getpid(), "generation", fpmd->generation, "state",
	    fpmd->reloading ? "reloading" : fpmd->state == FPMD_RUNNING ?
	    "running" : "stopping", "pools", pools);
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

/* Starts a reload; NULL when it is under way and c will be answered. */
static json_t *
reload_start(struct ctl_client *c, json_t *id, bool wait)
{
	struct fpmd_conf *conf;
	char *errors = NULL, err[1024];
	json_t *r;

	if (fpmd->state != FPMD_RUNNING)
		return err_reply("stopping", "fpmd is stopping");
	if (fpmd->reloading)
		return err_reply("reload_in_progress", "a reload is already "
		    "in progress (generation %d); try again when it is done",
		    fpmd->generation);
	conf = conf_load(fpmd->conf_path, fpmd->conf_flags, &errors);
	if (conf != NULL && fpmd_check_conf(conf, &errors) == -1) {
		conf_free(conf);
		conf = NULL;
	}
	if (conf == NULL) {
		log_errorx("reload refused, the configuration has errors:\n%s",
		    errors ? errors : "");
		r = err_reply("config_invalid", "%s has errors; nothing was "
		    "changed", fpmd->conf_path);
		json_object_set_new(r, "errors", conf_errors_json(errors));
		free(errors);
		return r;
	}
	/* From here pm owns conf, on failure too. */
	if (pm_reload(conf, err, sizeof(err)) == -1) {
		return err_reply("reload_failed", "%s; generation %d keeps "
		    "serving", err, fpmd->generation);
	}
	if (!fpmd->reloading)	/* done already */
		return NULL;
	if (c != NULL && wait) {
		c->waiting = true;
		c->wait_id = id ? json_incref(id) : NULL;
		return NULL;
	}
	return json_pack("{s:b, s:i, s:b}", "ok", 1, "generation",
	    fpmd->generation, "pending", 1);
}

static json_t *last_reload_reply;

void
control_reload_done(bool ok, const char *code, const char *message)
{
	struct ctl_client *c, *next;
	json_t *r;

	if (ok)
		r = json_pack("{s:b, s:i, s:I}", "ok", 1, "generation",
		    fpmd->generation, "duration_ms",
		    (json_int_t)(now_ms() - fpmd->reload_started));
	else
		r = err_reply(code, "%s", message ? message : "reload failed");
	json_decref(last_reload_reply);
	last_reload_reply = r;
	for (c = fpmd->clients; c != NULL; c = next) {
		next = c->next;
		if (!c->waiting || c->dead)
			continue;
		c->waiting = false;
		/* its next lines, from the main loop: see control_sweep() */
		c->resume = true;
		client_reply(c, json_deep_copy(r), c->wait_id);
		json_decref(c->wait_id);
		c->wait_id = NULL;
		client_want(c);
	}
}

static json_t *
cmd_reload(struct ctl_client *c, json_t *req)
{
	json_t *r;
	bool wait;

	if (arg_bool(req, "wait", true, &wait) == -1)
		return err_reply("invalid_argument", "\"wait\" must be true or "
		    "false");
	r = reload_start(c, json_object_get(req, "id"), wait);
	if (r == NULL && !c->waiting)	/* finished at once */
		r = json_deep_copy(last_reload_reply);
	return r;
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
	fpmd_stop(!now, timeout);
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
	if (fpmd_reopen_logs() == -1)
		return err_reply("reopen_failed", "cannot reopen %s (see the "
		    "log)", fpmd->conf->error_log);
	return json_pack("{s:b}", "ok", 1);
}

static json_t *
str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *
conf_json(const struct fpmd_conf *conf)
{
	static const char *const kinds[] = { "php_value", "php_flag",
	    "php_admin_value", "php_admin_flag" };
	json_t *pools = json_array(), *o, *php[4], *env, *ext;
	const struct pool_conf *pc;
	char mode[8];
	size_t k, i;
	int kind;

	for (k = 0; k < conf->npools; k++) {
		pc = &conf->pools[k];
		/* shaped like the file: php_value { name = value } ... */
		for (kind = 0; kind < 4; kind++)
			php[kind] = json_object();
		for (i = 0; i < pc->nphp; i++) {
			kind = (pc->php[i].admin ? 2 : 0) +
			    (pc->php[i].flag ? 1 : 0);
			json_object_set_new(php[kind], pc->php[i].name,
			    json_string(pc->php[i].value));
		}
		env = json_object();
		for (i = 0; i < pc->nenv; i++)
			json_object_set_new(env, pc->env[i].key,
			    json_string(pc->env[i].value));
		ext = json_array();
		for (i = 0; i < pc->nlimit_extensions; i++)
			json_array_append_new(ext,
			    json_string(pc->limit_extensions[i]));
		o = json_pack("{s:s, s:s, s:i, s:s, s:i, s:o, s:o, s:o, s:s, "
		    "s:i, s:i, s:i, s:i, s:i, s:i, s:o, s:o, s:o, s:o, s:b, "
		    "s:o, s:o, s:o, s:o, s:b, s:o, s:b, s:b, s:b, s:i, s:i, "
		    "s:i}",
		    "name", pc->name, "file", pc->file, "line", pc->line,
		    "listen", pc->addr.text,
		    "listen.backlog", pc->listen_backlog,
		    "listen.owner", str_or_null(pc->listen_owner),
		    "listen.group", str_or_null(pc->listen_group),
		    "listen.allowed_clients",
		    str_or_null(pc->listen_allowed_clients),
		    "pm", conf_pm_name(pc->pm),
		    "pm.max_children", pc->max_children,
		    "pm.start_servers", pc->start_servers,
		    "pm.min_spare_servers", pc->min_spare_servers,
		    "pm.max_spare_servers", pc->max_spare_servers,
		    "pm.process_idle_timeout", pc->process_idle_timeout,
		    "pm.max_requests", pc->max_requests,
		    "user", str_or_null(pc->user),
		    "group", str_or_null(pc->group),
		    "chdir", str_or_null(pc->chdir),
		    "chroot", str_or_null(pc->chroot),
		    "clear_env", pc->clear_env,
		    "env", env,
		    "php_ini", str_or_null(pc->php_ini),
		    "php_ini_scan_dir", str_or_null(pc->php_ini_scan_dir),
		    "php_value", php[0],
		    "php_value_params", pc->allow_php_value_param,
		    "security.limit_extensions", ext,
		    "catch_workers_output", pc->catch_workers_output,
		    "decorate_workers_output", pc->decorate_workers_output,
		    "process.dumpable", pc->process_dumpable,
		    "rlimit_files", pc->rlimit_files,
		    "rlimit_core", pc->rlimit_core,
		    "request_terminate_timeout",
		    pc->request_terminate_timeout);
		for (kind = 1; kind < 4; kind++)
			json_object_set_new(o, kinds[kind], php[kind]);
		snprintf(mode, sizeof(mode), "%04o", pc->listen_mode);
		json_object_set_new(o, "listen.mode", json_string(mode));
		json_object_set_new(o, "pm.max_spawn_rate",
		    json_integer(pc->max_spawn_rate));
		json_object_set_new(o, "request_read_timeout",
		    json_integer(pc->request_read_timeout));
		json_array_append_new(pools, o);
	}
	char cmode[8], level[16];

	snprintf(cmode, sizeof(cmode), "%04o", conf->control_mode);
	snprintf(level, sizeof(level), "%s", log_level_name(conf->log_level));
	for (k = 0; level[k]; k++)
		level[k] = (char)tolower((unsigned char)level[k]);
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:i, s:i, s:o, s:s, "
	    "s:o}",
	    "file", conf->file,
	    "log_level", level,
	    "error_log", str_or_null(conf->error_log),
	    "php_ini", str_or_null(conf->php_ini),
	    "php_ini_scan_dir", str_or_null(conf->php_ini_scan_dir),
	    "process_control_timeout", conf->process_control_timeout,
	    "process.max", conf->process_max,
	    "control.socket", json_string(fpmd->ctl_path),
	    "control.mode", cmode,
	    "pools", pools);
}

static json_t *
conf_json_all(const struct fpmd_conf *conf)
{
	json_t *o = conf_json(conf);

	json_object_set_new(o, "reload_timeout",
	    json_integer(conf->reload_timeout));
	json_object_set_new(o, "rlimit_files", json_integer(conf->rlimit_files));
	json_object_set_new(o, "rlimit_core", json_integer(conf->rlimit_core));
	json_object_set_new(o, "control.owner", str_or_null(conf->control_owner));
	json_object_set_new(o, "control.group", str_or_null(conf->control_group));
	return o;
}

static json_t *
cmd_config(struct ctl_client *c, json_t *req)
{
	return json_pack("{s:b, s:o}", "ok", 1, "config",
	    conf_json_all(fpmd->conf));
}

static const struct {
	const char	*name;
	json_t		*(*fn)(struct ctl_client *, json_t *);
	bool		 changes;	/* logged at notice, else at debug */
} commands[] = {
	{ "ping", cmd_ping, false },
	{ "status", cmd_status, false },
	{ "config", cmd_config, false },
	{ "reload", cmd_reload, true },
	{ "stop", cmd_stop, true },
	{ "scale", cmd_scale, true },
	{ "reopen-logs", cmd_reopen_logs, true },
};

static void
control_dispatch(struct ctl_client *c, const char *line, size_t len)
{
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
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(cmd, commands[i].name) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		/* at most 64 bytes of it, not cutting a UTF-8 character */
		for (n = strnlen(cmd, 64); n > 0 && cmd[n] != '\0' &&
		    ((unsigned char)cmd[n] & 0xc0) == 0x80; n--)
			;
		client_reply(c, err_reply("unknown_command", "unknown command "
		    "'%.*s'; commands: ping, status, config, reload, stop, "
		    "scale, reopen-logs", (int)n, cmd), id);
		json_decref(req);
		return;
	}
	log_msg(commands[i].changes ? LOG_LVL_NOTICE : LOG_LVL_DEBUG,
	    "control: %s from uid %d pid %d", commands[i].name, (int)c->uid,
	    (int)c->pid);
	r = commands[i].fn(c, req);
	if (r != NULL)
		client_reply(c, r, id);
	json_decref(req);
}

/* Closed now, freed by control_sweep(): callers may still hold c. */
static void
client_close(struct ctl_client *c)
{
	if (c->dead)
		return;
	c->dead = true;
	c->waiting = false;
	ev_del(&c->ev);
	close(c->fd);
	c->fd = -1;
}

void
control_sweep(void)
{
	struct ctl_client **cp, *c;

	/*
	 * Lines that came behind a reload are answered here, at the top of
	 * the loop, not from inside the reload's completion.
	 */
	for (c = fpmd->clients; c != NULL; c = c->next) {
		if (c->resume && !c->dead && !c->waiting) {
			c->resume = false;
			client_process(c);
		}
	}
	for (cp = &fpmd->clients; (c = *cp) != NULL;) {
		if (!c->dead) {
			cp = &c->next;
			continue;
		}
		*cp = c->next;
		json_decref(c->wait_id);
		free(c->in);
		free(c->out);
		free(c);
		fpmd->nclients--;
	}
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
	if (c->in_len > CTL_LINE_MAX) {
		c->closing = true;
		client_reply(c, err_reply("line_too_long", "a request line may "
		    "be at most %d bytes", CTL_LINE_MAX), NULL);
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
		return;		/* c may be gone */
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
	n = recv(c->fd, c->in + c->in_len, CTL_LINE_MAX + 1 - c->in_len,
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
		c->last = now_ms();
	}
	client_process(c);
}

/* Root, our own uid, and members of control.group (any of their groups). */
static bool
peer_allowed(const struct ucred *cr)
{
	const struct fpmd_conf *conf = fpmd->conf;
	struct passwd *pw;
	gid_t groups[256];
	int n = 256, i;

	if (cr->uid == 0 || cr->uid == geteuid())
		return true;
	if (conf->control_gid == (gid_t)-1)
		return false;
	if (cr->gid == conf->control_gid)
		return true;
	if ((pw = getpwuid(cr->uid)) == NULL ||
	    getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) == -1)
		return false;
	for (i = 0; i < n; i++)
		if (groups[i] == conf->control_gid)
			return true;
	return false;
}

static void
control_on_accept(struct ev *e, uint32_t events)
{
	struct ctl_client *c;
	struct ucred cr;
	socklen_t len = sizeof(cr);
	int fd;

	while ((fd = accept4(fpmd->ctl_fd, NULL, NULL, SOCK_CLOEXEC |
	    SOCK_NONBLOCK)) != -1) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1) {
			close(fd);
			continue;
		}
		if (!peer_allowed(&cr) ||
		    fpmd->nclients >= CTL_CLIENTS_MAX) {
			char msg[200];
			int n;

			if (!peer_allowed(&cr)) {
				log_warnx("control: refused uid %d pid %d",
				    (int)cr.uid, (int)cr.pid);
				n = snprintf(msg, sizeof(msg), "{\"ok\":false,"
				    "\"error\":{\"code\":\"permission_denied\","
				    "\"message\":\"uid %d may not control "
				    "fpmd\"}}\n", (int)cr.uid);
			} else
				n = snprintf(msg, sizeof(msg), "{\"ok\":false,"
				    "\"error\":{\"code\":\"busy\",\"message\":"
				    "\"too many control clients\"}}\n");
			if (send(fd, msg, (size_t)n, MSG_DONTWAIT |
			    MSG_NOSIGNAL) == -1)
				(void)0;
			close(fd);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL ||
		    (c->in = malloc(CTL_LINE_MAX + 1)) == NULL) {
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->uid = cr.uid;
		c->gid = cr.gid;
		c->pid = cr.pid;
		c->last = now_ms();
		c->next = fpmd->clients;
		fpmd->clients = c;
		fpmd->nclients++;
		ev_add(&c->ev, fd, client_on_io, c);
	}
}

int64_t
control_next_timeout(void)
{
	struct ctl_client *c;
	int64_t next = 0;

	for (c = fpmd->clients; c != NULL; c = c->next)
		if (!c->waiting && !c->dead && (next == 0 || c->last + CTL_IDLE_MS < next))
			next = c->last + CTL_IDLE_MS;
	return next;
}

/* Clients that neither ask nor read for a while are dropped. */
void
control_tick(void)
{
	struct ctl_client *c, *next;
	int64_t now = now_ms();

	for (c = fpmd->clients; c != NULL; c = next) {
		next = c->next;
		if (!c->waiting && !c->dead && now - c->last >= CTL_IDLE_MS) {
			log_debug("control: dropping idle client pid %d",
			    (int)c->pid);
			client_close(c);
		}
	}
}

int
control_open(void)
{
	const struct fpmd_conf *conf = fpmd->conf;
	struct sockaddr_un sun;
	char *dir, *slash;
	mode_t omask;
	int fd, probe;

	fpmd->ctl_fd = -1;
	if (conf->control_socket != NULL)
		fpmd->ctl_path = strdup(conf->control_socket);
	else if (sockpath_default(sun.sun_path, sizeof(sun.sun_path),
	    conf->file, NULL) == 0)
		fpmd->ctl_path = strdup(sun.sun_path);
	if (fpmd->ctl_path == NULL) {
		log_errorx("no usable control socket path: set control.socket");
		return -1;
	}
	if (strlen(fpmd->ctl_path) >= sizeof(sun.sun_path)) {
		log_errorx("control.socket '%s' is too long", fpmd->ctl_path);
		return -1;
	}
	if (conf->control_socket == NULL && geteuid() == 0 &&
	    (dir = strdup(fpmd->ctl_path)) != NULL) {
		/* /run/fpmd, made if missing */
		if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
			*slash = '\0';
			if (mkdir(dir, geteuid() == 0 ? 0755 : 0700) == -1 &&
			    errno != EEXIST)
				log_warn("mkdir %s", dir);
		}
		free(dir);
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, fpmd->ctl_path);
	if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1) {
		if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(probe);
			log_errorx("another fpmd answers on the control socket "
			    "'%s': stop it, or set control.socket",
			    fpmd->ctl_path);
			return -1;
		}
		close(probe);
	}
	unlink(fpmd->ctl_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		log_error("control socket");
		return -1;
	}
	/* Created with its final mode: never a moment open to all. */
	omask = umask(0777 & ~conf->control_mode);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(omask);
		log_error("cannot bind the control socket '%s'",
		    fpmd->ctl_path);
		close(fd);
		return -1;
	}
	umask(omask);
	if ((conf->control_uid != (uid_t)-1 || conf->control_gid != (gid_t)-1)
	    && chown(fpmd->ctl_path, conf->control_uid, conf->control_gid)
	    == -1)
		log_warn("chown of the control socket '%s'", fpmd->ctl_path);
	if (listen(fd, 64) == -1) {
		log_error("listen on the control socket");
		close(fd);
		return -1;
	}
	fpmd->ctl_fd = fd;
	ev_add(&fpmd->ev_ctl, fd, control_on_accept, NULL);
	log_debug("control socket: %s", fpmd->ctl_path);
	return 0;
}

void
control_close(void)
{
	struct ctl_client *c;

	for (c = fpmd->clients; c != NULL; c = c->next)
		client_close(c);
	control_sweep();
	if (fpmd->ctl_fd != -1) {
		ev_del(&fpmd->ev_ctl);
		close(fpmd->ctl_fd);
		unlink(fpmd->ctl_path);
		fpmd->ctl_fd = -1;
	}
}

/* SIGUSR2: the same reload, answered in the log. */
void
control_signal_reload(void)
{
	json_t *r = reload_start(NULL, NULL, false);

	if (r != NULL) {
		json_t *e = json_object_get(r, "error");

		if (e != NULL)
			log_warnx("reload (SIGUSR2) refused: %s",
			    json_string_value(json_object_get(e, "message")));
		json_decref(r);
	}
}
