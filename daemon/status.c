/*
 * What fpmd reports about itself.  The figures of a pool (php-fpm's status
 * fields, same meanings) and the rows of its workers are computed from
 * shared data only: the scoreboard, a pool's index in it, and the pool's
 * listening socket.  A worker is a fork of the master, but the master's
 * private bookkeeping is a stale copy there; the shared pages are live in
 * both.  So the master (fpmctl status), a worker (the status page) and
 * PHP's fpm_get_status() call the same functions and get the same numbers,
 * and the master needs no free worker to answer.
 *
 * Every worker can write the whole shared region, so nothing read from it
 * is trusted to be sane: a slot counts only with a valid state and its
 * pool's index, strings are cut at the end of their buffers, times out of
 * range read as 0 and rates as 0, so a garbled slot gives odd numbers, not
 * a crash, in the master or in any worker.
 *
 * The control socket's status and config replies, which add what only the
 * master knows (generations, addresses, configured sizes), are built here
 * too.
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fpmd.h"

static const char *const state_names[] = {
	"Free", "Starting", "Idle", "Reading headers", "Running", "Finishing"
};

#define NSTATES	(sizeof(state_names) / sizeof(state_names[0]))

const char *
status_state_name(int state)
{
	if (state < 0 || (size_t)state >= NSTATES)
		return "Unknown";
	return state_names[state];
}

/*
 * The pool a slot belongs to.  The master knows it from its own records,
 * which no worker can touch; a worker (the status page, fpm_get_status())
 * has only what the master wrote in the shared slot.  -1: free.
 */
static int
status_slot_pool(const struct scoreboard *sb, uint32_t slot)
{
	const struct mslot *ms;

	if (sb->master) {
		ms = &sb->ms[slot];
		return ms->gen != NULL ? ms->gen->pool->index : -1;
	}
	if (__atomic_load_n(&sb->slots[slot].state, __ATOMIC_RELAXED) ==
	    SLOT_FREE)
		return -1;
	return __atomic_load_n(&sb->slots[slot].pool, __ATOMIC_RELAXED);
}

/*
 * A pool's figures.  listen_fd: the pool's listening socket, for the queue
 * (-1: none).  The maxima are those the master samples once a second, or
 * what is seen now if that is more.
 */
void
status_pool(const struct scoreboard *sb, int pool, int listen_fd,
    struct pool_status *st)
{
	const struct sb_pool *sp;
	const struct sb_slot *s;
	uint32_t i;
	uint8_t state;
	int32_t v;

	memset(st, 0, sizeof(*st));
	if (pool < 0 || (uint32_t)pool >= sb->npools)
		return;
	sp = &sb->pools[pool];
	st->start = sp->start;
	st->accepted = __atomic_load_n(&sp->accepted, __ATOMIC_RELAXED);
	st->slow_requests = __atomic_load_n(&sp->slow_requests,
	    __ATOMIC_RELAXED);
	st->log_dropped = __atomic_load_n(&sp->log_dropped, __ATOMIC_RELAXED);
	st->access_dropped = __atomic_load_n(&sp->access_dropped,
	    __ATOMIC_RELAXED);
	st->memory_recycled = __atomic_load_n(&sp->memory_recycled,
	    __ATOMIC_RELAXED);
	v = __atomic_load_n(&sp->max_children_reached, __ATOMIC_RELAXED);
	st->max_children_reached = v > 0 ? v : 0;
	for (i = 0; i < sb->nslots; i++) {
		s = &sb->slots[i];
		if (status_slot_pool(sb, i) != pool)
			continue;
		state = __atomic_load_n(&s->state, __ATOMIC_RELAXED);
		if (state == SLOT_FREE || state >= NSTATES)
			continue;
		st->total++;
		if (state == SLOT_IDLE || state == SLOT_STARTING)
			st->idle++;
		else
			st->active++;
	}
	if (listen_fd != -1)
		listen_fd_queue(listen_fd, &st->listen_queue,
		    &st->listen_queue_len);
	v = __atomic_load_n(&sp->max_listen_queue, __ATOMIC_RELAXED);
	st->max_listen_queue = v > st->listen_queue ? v : st->listen_queue;
	v = __atomic_load_n(&sp->max_active, __ATOMIC_RELAXED);
	st->max_active = v > st->active ? v : st->active;
}

/*
 * The row of the worker in slot, if that slot is one of pool's.  A worker
 * in a request shows how long it has run so far, and no CPU or memory
 * (they are known at its end), as php-fpm shows them.
 */
bool
status_proc(const struct scoreboard *sb, int pool, uint32_t slot,
    struct proc_status *ps)
{
	const struct sb_slot *src;
	struct sb_slot s;
	struct timespec now;

	if (slot >= sb->nslots)
		return false;
	src = &sb->slots[slot];
	/* cheap looks first: most slots are another pool's or free */
	if (status_slot_pool(sb, slot) != pool)
		return false;
	sb_slot_read(src, &s);
	if (s.state == SLOT_FREE || s.state >= NSTATES ||
	    (!sb->master && s.pool != pool))
		return false;
	clock_gettime(CLOCK_REALTIME, &now);
	memset(ps, 0, sizeof(*ps));
	ps->pid = s.pid > 0 ? s.pid : 0;
	ps->gen = s.gen;
	ps->state = s.state;
	if (s.start > 0 && s.start <= now.tv_sec) {
		ps->start = s.start;
		ps->start_since = now.tv_sec - s.start;
	}
	ps->requests = s.requests;
	ps->content_length = s.content_length;
	if (s.state > SLOT_IDLE) {
		ps->duration_us = sb_elapsed_us(&s.req_start, &now);
	} else {
		ps->duration_us = s.req_duration_us;
		/* a rate past every machine's is garbage, not a figure */
		if (isfinite(s.last_cpu) && s.last_cpu > 0 &&
		    s.last_cpu < 1e6)
			ps->last_cpu = s.last_cpu;
		ps->last_memory = s.last_memory;
	}
	s.method[sizeof(s.method) - 1] = '\0';
	s.uri[sizeof(s.uri) - 1] = '\0';
	s.query[sizeof(s.query) - 1] = '\0';
	s.script[sizeof(s.script) - 1] = '\0';
	s.user[sizeof(s.user) - 1] = '\0';
	/* the path as requested; the query is shown on its own */
	s.uri[strcspn(s.uri, "?")] = '\0';
	memcpy(ps->method, s.method, sizeof(ps->method));
	memcpy(ps->uri, s.uri, sizeof(ps->uri));
	memcpy(ps->query, s.query, sizeof(ps->query));
	memcpy(ps->script, s.script, sizeof(ps->script));
	memcpy(ps->user, s.user, sizeof(ps->user));
	return true;
}

/* Once a second, in the master: the maxima php-fpm reports are sampled. */
void
status_sample(void)
{
	struct pool_status st;
	struct sb_pool *sp;
	struct pool *p;

	for (p = fpmd->pools; p != NULL; p = p->link) {
		if (p->cur == NULL)
			continue;
		status_pool(fpmd->sb, p->index, p->cur->ls->fd, &st);
		sp = &fpmd->sb->pools[p->index];
		if (st.listen_queue > sp->max_listen_queue)
			sp->max_listen_queue = st.listen_queue;
		if (st.active > sp->max_active)
			sp->max_active = st.active;
	}
}

/*
 * What a worker wrote in its slot is whatever its client sent, cut at the
 * slot's size, perhaps inside a character; jansson takes only valid UTF-8
 * and would drop the whole entry.  Each byte that does not start a valid
 * sequence becomes '?'.
 */
static void
status_utf8(char *s)
{
	unsigned char *u = (unsigned char *)s, lo, hi;
	size_t n, k;

	while (*u != '\0') {
		if (*u < 0x80) {
			u++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (*u >= 0xc2 && *u <= 0xdf)
			n = 1;
		else if (*u >= 0xe0 && *u <= 0xef) {
			n = 2;
			if (*u == 0xe0)
				lo = 0xa0;		/* overlong */
			else if (*u == 0xed)
				hi = 0x9f;		/* surrogates */
		} else if (*u >= 0xf0 && *u <= 0xf4) {
			n = 3;
			if (*u == 0xf0)
				lo = 0x90;		/* overlong */
			else if (*u == 0xf4)
				hi = 0x8f;		/* past U+10FFFF */
		} else
			n = 0;
		for (k = 1; n > 0 && k <= n; k++) {
			if (u[k] < lo || u[k] > hi)
				break;
			lo = 0x80;
			hi = 0xbf;
		}
		if (n == 0 || k <= n) {
			*u++ = '?';
			continue;
		}
		u += n + 1;
	}
}

/*
 * A string from the configuration (a path, an env value) is bytes, which
 * jansson takes only as UTF-8: a copy with '?' for the rest.  NULL: null.
 */
static json_t *
str_or_null(const char *s)
{
	json_t *j;
	char *c;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL || (c = strdup(s)) == NULL)
		return j;
	status_utf8(c);
	j = json_string(c);
	free(c);
	return j;
}

/* json_object_set_new() under a key that may not be UTF-8. */
static void
status_set(json_t *o, const char *key, json_t *v)
{
	char *c;

	if ((c = strdup(key)) == NULL) {
		json_decref(v);
		return;
	}
	status_utf8(c);
	json_object_set_new(o, c, v);
	free(c);
}

/* A slot's string for jansson: bytes that are not UTF-8 show as '?'. */
static json_t *
status_jstr(const char *s)
{
	char buf[SB_URI + SB_QUERY + 2];

	snprintf(buf, sizeof(buf), "%s", s);
	status_utf8(buf);
	return json_string(buf);
}

static json_t *
status_processes(const struct pool *p)
{
	const struct scoreboard *sb = fpmd->sb;
	struct proc_status ps;
	json_t *a = json_array();
	char uri[SB_URI + SB_QUERY + 2];
	uint32_t i;

	for (i = 0; i < sb->nslots; i++) {
		if (!status_proc(sb, p->index, i, &ps))
			continue;
		snprintf(uri, sizeof(uri), "%s%s%s", ps.uri, ps.query[0] ?
		    "?" : "", ps.query);
		json_array_append_new(a, json_pack("{s:i, s:i, s:s, s:I, s:I, "
		    "s:I, s:I, s:o, s:o, s:I, s:o, s:o, s:f, s:I}",
		    "pid", (int)ps.pid,
		    "generation", ps.gen,
		    "state", status_state_name(ps.state),
		    "start_time", (json_int_t)ps.start,
		    "start_since", (json_int_t)ps.start_since,
		    "requests", (json_int_t)ps.requests,
		    "request_duration", (json_int_t)ps.duration_us,
		    "request_method", status_jstr(ps.method[0] ? ps.method :
		    "-"),
		    "request_uri", status_jstr(uri[0] ? uri : "-"),
		    "content_length", (json_int_t)ps.content_length,
		    "user", status_jstr(ps.user[0] ? ps.user : "-"),
		    "script", status_jstr(ps.script[0] ? ps.script : "-"),
		    "last_request_cpu", ps.last_cpu,
		    "last_request_memory", (json_int_t)ps.last_memory));
	}
	return a;
}

/*
 * The status of every pool; with full, of every worker too.  Whether a
 * reload runs is the caller's to say: this file asks nothing of reload.c,
 * which is above it.
 */
json_t *
status_json(bool full, bool reloading)
{
	struct pool_status st;
	const struct gen *g;
	struct pool *p;
	json_t *pools, *o;
	time_t now = time(NULL);

	pools = json_array();
	for (p = fpmd->pools; p != NULL; p = p->link) {
		if ((g = p->cur) == NULL)
			continue;
		status_pool(fpmd->sb, p->index, g->ls->fd, &st);
		o = json_pack("{s:s, s:s, s:i, s:o, s:I, s:I, s:I, s:i, s:i, "
		    "s:i, s:i, s:i, s:i, s:i, s:i, s:I, s:i, s:I}",
		    "pool", p->name,
		    "process_manager", conf_pm_name(g->pc->pm),
		    "generation", g->num,
		    "listen", str_or_null(g->ls->addr.text),
		    "start_time", (json_int_t)st.start,
		    "start_since", (json_int_t)(now - st.start),
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
		    "max_children", g->max,
		    "log_lines_dropped", (json_int_t)st.log_dropped);
		/* the workers' drops and the writer's, for the pool's file */
		json_object_set_new(o, "access_log_lines_dropped",
		    json_integer((json_int_t)(st.access_dropped +
		    lw_lost(p->relay.acc_file))));
		json_object_set_new(o, "memory_recycled",
		    json_integer((json_int_t)st.memory_recycled));
		if (full)
			json_object_set_new(o, "processes",
			    status_processes(p));
		json_array_append_new(pools, o);
	}
	return json_pack("{s:b, s:i, s:i, s:s, s:o}", "ok", 1, "pid",
	    (int)getpid(), "generation", fpmd->generation, "state",
	    reloading ? "reloading" : fpmd->state == FPMD_RUNNING ?
	    "running" : "stopping", "pools", pools);
}

/*
 * A pool's settings.  hide_values: for the read-only status socket, the
 * values of env and of the php.ini settings, where passwords and keys
 * live (a database's, a session store's), are replaced by STATUS_HIDDEN.
 */
#define STATUS_HIDDEN	"(hidden on the status socket)"

static json_t *
status_pool_conf(const struct pool_conf *pc, bool hide_values)
{
	static const char *const kinds[] = { "php_value", "php_flag",
	    "php_admin_value", "php_admin_flag" };
	json_t *o, *php[4], *env, *ext;
	char mode[8];
	size_t i;
	int kind;

	/* shaped like the file: php_value { name = value } ... */
	for (kind = 0; kind < 4; kind++)
		php[kind] = json_object();
	for (i = 0; i < pc->nphp; i++) {
		kind = (pc->php[i].admin ? 2 : 0) + (pc->php[i].flag ? 1 : 0);
		status_set(php[kind], pc->php[i].name, hide_values ?
		    json_string(STATUS_HIDDEN) : str_or_null(pc->php[i].value));
	}
	env = json_object();
	for (i = 0; i < pc->nenv; i++)
		status_set(env, pc->env[i].key, hide_values ?
		    json_string(STATUS_HIDDEN) : str_or_null(pc->env[i].value));
	ext = json_array();
	for (i = 0; i < pc->nlimit_extensions; i++)
		json_array_append_new(ext,
		    str_or_null(pc->limit_extensions[i]));
	o = json_pack("{s:s, s:o, s:i, s:o, s:i, s:o, s:o, s:o, s:s, "
	    "s:i, s:i, s:i, s:i, s:i, s:i, s:o, s:o, s:o, s:o, s:b, "
	    "s:o, s:o, s:o, s:o, s:b, s:o, s:b, s:b, s:b, s:i, s:i, "
	    "s:i}",
	    "name", pc->name, "file", str_or_null(pc->file), "line", pc->line,
	    "listen", str_or_null(pc->addr.text),
	    "listen.backlog", pc->listen_backlog,
	    "listen.owner", str_or_null(pc->listen_owner),
	    "listen.group", str_or_null(pc->listen_group),
	    "listen.allowed_clients", str_or_null(pc->listen_allowed_clients),
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
	    "request_terminate_timeout", pc->request_terminate_timeout);
	for (kind = 1; kind < 4; kind++)
		json_object_set_new(o, kinds[kind], php[kind]);
	snprintf(mode, sizeof(mode), "%04o", pc->listen_mode);
	json_object_set_new(o, "listen.mode", json_string(mode));
	json_object_set_new(o, "pm.max_spawn_rate",
	    json_integer(pc->max_spawn_rate));
	json_object_set_new(o, "request_read_timeout",
	    json_integer(pc->request_read_timeout));
	json_object_set_new(o, "pm.status_path", str_or_null(pc->status_path));
	json_object_set_new(o, "ping.path", str_or_null(pc->ping_path));
	json_object_set_new(o, "ping.response",
	    str_or_null(pc->ping_response));
	json_object_set_new(o, "access.log", str_or_null(pc->access_log));
	json_object_set_new(o, "access.format",
	    str_or_null(pc->access_format));
	ext = json_array();
	for (i = 0; i < pc->naccess_suppress; i++)
		json_array_append_new(ext, str_or_null(pc->access_suppress[i]));
	json_object_set_new(o, "access.suppress_path", ext);
	json_object_set_new(o, "listen.acl_users",
	    str_or_null(pc->listen_acl_users));
	json_object_set_new(o, "listen.acl_groups",
	    str_or_null(pc->listen_acl_groups));
	json_object_set_new(o, "process.priority",
	    pc->process_priority == FPMD_PRIORITY_UNSET ? json_null() :
	    json_integer(pc->process_priority));
	json_object_set_new(o, "pm.max_memory",
	    json_integer((json_int_t)pc->max_memory));
	json_object_set_new(o, "request_terminate_timeout_track_finished",
	    json_boolean(pc->terminate_track_finished));
	json_object_set_new(o, "apparmor_hat", str_or_null(pc->apparmor_hat));
	return o;
}

/* The effective configuration: every option, as fpmd understood it. */
json_t *
status_conf_json(const struct fpmd_conf *conf, const char *ctl_path,
    bool hide_values)
{
	json_t *pools = json_array(), *o;
	char cmode[8], level[16];
	size_t k;

	for (k = 0; k < conf->npools; k++)
		json_array_append_new(pools, status_pool_conf(&conf->pools[k],
		    hide_values));
	snprintf(cmode, sizeof(cmode), "%04o", conf->control_mode);
	snprintf(level, sizeof(level), "%s", log_level_name(conf->log_level));
	for (k = 0; level[k]; k++)
		level[k] = (char)tolower((unsigned char)level[k]);
	o = json_pack("{s:o, s:s, s:o, s:o, s:o, s:i, s:i, s:o, s:s, s:o}",
	    "file", str_or_null(conf->file),
	    "log_level", level,
	    /* where it goes: a reload that could not open a new one says */
	    "error_log", str_or_null(log_get_path()),
	    "php_ini", str_or_null(conf->php_ini),
	    "php_ini_scan_dir", str_or_null(conf->php_ini_scan_dir),
	    "process_control_timeout", conf->process_control_timeout,
	    "process.max", conf->process_max,
	    "control.socket", str_or_null(ctl_path),
	    "control.mode", cmode,
	    "pools", pools);
	json_object_set_new(o, "log_format",
	    json_string(conf->log_json ? "json" : "text"));
	json_object_set_new(o, "reload_timeout",
	    json_integer(conf->reload_timeout));
	json_object_set_new(o, "rlimit_files", json_integer(conf->rlimit_files));
	json_object_set_new(o, "rlimit_core", json_integer(conf->rlimit_core));
	json_object_set_new(o, "control.owner",
	    str_or_null(conf->control_owner));
	json_object_set_new(o, "control.group",
	    str_or_null(conf->control_group));
	json_object_set_new(o, "log_limit", json_integer(conf->log_limit));
	json_object_set_new(o, "log_buffering",
	    json_boolean(conf->log_buffering));
	json_object_set_new(o, "syslog.ident", json_string(
	    conf->syslog_ident != NULL ? conf->syslog_ident : "fpmd"));
	json_object_set_new(o, "control.status_socket",
	    str_or_null(conf->status_socket));
	json_object_set_new(o, "emergency_restart_threshold",
	    json_integer(conf->emergency_threshold));
	json_object_set_new(o, "emergency_restart_interval",
	    json_integer(conf->emergency_interval));
	json_object_set_new(o, "process.priority",
	    conf->process_priority == FPMD_PRIORITY_UNSET ? json_null() :
	    json_integer(conf->process_priority));
	return o;
}

/* One kind of drop: said when its count has grown since it was last told. */
static void
status_tell_drops(const struct pool *p, uint64_t now, uint64_t *told,
    const char *kind, const char *whose, const char *field)
{
	if (now > *told)
		log_warnx("[pool %s] %llu %s line%s%s dropped: fpmd's %s could "
		    "not keep up (%llu in all, %s in fpmctl status)", p->name,
		    (unsigned long long)(now - *told), kind,
		    now - *told == 1 ? "" : "s", whose, kind,
		    (unsigned long long)now, field);
	*told = now;
}

/*
 * Once a second, from pm.c: lines a pool's processes could not hand the
 * master (its log, or access log, socket full) are counted in status;
 * say so in the log too, which is where an operator looks.
 */
void
status_report_drops(struct pool *p)
{
	const struct sb_pool *sp = &fpmd->sb->pools[p->index];

	status_tell_drops(p, __atomic_load_n(&sp->log_dropped,
	    __ATOMIC_RELAXED), &p->told_log_dropped, "log",
	    " of its processes", "log_lines_dropped");
	status_tell_drops(p, __atomic_load_n(&sp->access_dropped,
	    __ATOMIC_RELAXED), &p->told_access_dropped, "access log", "",
	    "access_log_lines_dropped");
}
