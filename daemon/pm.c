/*
 * The process manager: pools, and the policy that sizes their generations.
 * A pool is served by one generation at a time (gen.c); during a reload a
 * second one starts beside it, and the ones it replaced drain.  This file
 * decides how many workers each generation wants — pm = static, dynamic or
 * ondemand, as php-fpm runs them —, how long to hold back after workers or
 * a prototype die young, when a request has run past
 * request_terminate_timeout, and how fpmd stops.  gen.c carries it out and
 * tells us what happened through the hooks below; reload.c drives the
 * swap of generations through pm_prepare(), pm_commit() and pm_abort().
 * A worker's exit is logged, and its crash counted toward an emergency
 * restart, in crash.c.
 *
 * Scoreboard slots are reserved, not merely used: every generation alive
 * may grow to its pm.max_children, so a reload or a scale is refused up
 * front when the slots could run short, rather than stall half-way.
 */
#include <sys/epoll.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fpmd.h"

#define PM_BACKOFF_MIN		100	/* ms */
#define PM_BACKOFF_MAX		10000
#define PM_QUICK_DEATH		1000	/* a worker that lived less failed */
#define PM_WATCH_AGAIN		50	/* ms: ondemand, a connection waits */
#define PM_KILL_AFTER		2000	/* ms from TERM to KILL on a stop */
#define PM_SETTLE_POLL		20	/* ms: are the new workers up yet? */

static struct {
	void		(*watch)(const char *code, const char *failure);
	void		(*ready)(void);	/* fpmd.c tells the supervisor */
	bool		 announced;
	struct ev_timer	 t_tick;
	struct ev_timer	 t_settle;	/* start-up or reload under way */
	struct ev_timer	 t_escalate;	/* stop: TERM the requests */
	struct ev_timer	 t_kill;	/* stop: KILL the prototypes */
} pm;

static void	pm_tick(void *);
static void	ondemand_watch(struct pool *);
static void	ondemand_rearm(void *);

static int64_t
pm_backoff(int streak)
{
	int64_t delay = PM_BACKOFF_MIN << (streak > 7 ? 7 : streak - 1);

	return delay > PM_BACKOFF_MAX ? PM_BACKOFF_MAX : delay;
}

static void	pm_settle(void *);

/* reload.c follows the generations it starts through this. */
void
pm_on_change(void (*watch)(const char *code, const char *failure))
{
	pm.watch = watch;
	if (watch != NULL)
		ev_timer_set(&pm.t_settle, now_ms() + PM_SETTLE_POLL,
		    pm_settle, NULL);
}

static void
pm_tell(struct gen *g, const char *code, const char *failure)
{
	if (pm.watch != NULL && g->pool->next_gen == g)
		pm.watch(code, failure);
}

static struct pool *
pool_new(const char *name)
{
	struct pool *p, **pp;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		log_error("%s: calloc", __func__);
		return NULL;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	if ((p->index = sb_pool_alloc(fpmd->sb, name)) == -1) {
		log_errorx("too many pools (at most %d)", FPMD_POOLS_MAX);
		free(p);
		return NULL;
	}
	if (relay_open(&p->relay, name) == -1) {
		sb_pool_free(fpmd->sb, p->index);
		free(p);
		return NULL;
	}
	for (pp = &fpmd->pools; *pp != NULL; pp = &(*pp)->link)
		;
	*pp = p;	/* in config order */
	return p;
}

static void
pool_free(struct pool *p)
{
	struct pool **pp;

	for (pp = &fpmd->pools; *pp != NULL; pp = &(*pp)->link)
		if (*pp == p) {
			*pp = p->link;
			break;
		}
	ev_timer_stop(&p->t_watch);
	crash_forget(p);
	stl_close(&p->stl);
	relay_close(&p->relay);
	sb_pool_free(fpmd->sb, p->index);
	p->freed = true;
	ev_free_later(p, NULL);
}

struct pool *
pm_pool_find(const char *name)
{
	struct pool *p;

	for (p = fpmd->pools; p != NULL; p = p->link)
		if (!p->removed && strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

/* How many workers a generation starts with, by its process manager. */
static void
pm_target_initial(struct gen *g)
{
	switch (g->pc->pm) {
	case PM_DYNAMIC:
		g->target = g->pc->start_servers;
		break;
	case PM_ONDEMAND:
		g->target = 0;
		break;
	default:
		g->target = g->max;
		break;
	}
}

static struct gen *
pm_gen_start(struct pool *p, struct fpmd_conf *conf,
    const struct pool_conf *pc, int num)
{
	struct gen *g;

	if ((g = gen_new(p, conf, pc, num)) == NULL)
		return NULL;
	pm_target_initial(g);
	if (gen_start(g) == -1) {
		gen_free(g);
		return NULL;
	}
	return g;
}

/* Drained generations and removed pools with nothing left go away. */
static void
pm_collect(void)
{
	struct pool *p, *pnext;
	struct gen **gp, *g;

	for (p = fpmd->pools; p != NULL; p = pnext) {
		pnext = p->link;
		for (gp = &p->old; (g = *gp) != NULL;) {
			if (g->proto_pid == 0) {
				*gp = g->next;
				log_debug("[pool %s] generation %d is gone",
				    p->name, g->num);
				gen_free(g);
			} else
				gp = &g->next;
		}
		if (p->removed && p->cur == NULL && p->next_gen == NULL &&
		    p->old == NULL && fpmd->state == FPMD_RUNNING) {
			log_notice("[pool %s] removed", p->name);
			pool_free(p);
		}
	}
}

/* Moves g to the pool's draining generations. */
static void
pm_retire(struct gen *g, int timeout)
{
	struct pool *p = g->pool;

	if (p->cur == g)
		p->cur = NULL;
	if (p->next_gen == g)
		p->next_gen = NULL;
	g->next = p->old;
	p->old = g;
	gen_drain(g, timeout);
}

static bool
pm_all_ready(void)
{
	struct pool *p;

	for (p = fpmd->pools; p != NULL; p = p->link)
		if (!p->removed && !gen_serving(p->cur))
			return false;
	return true;
}

/* Hooks: what the generations tell us. */

static void
hook_ready(struct gen *g)
{
	gen_fill(g);
}

static void
hook_failed(struct gen *g, const char *why)
{
	char msg[600];

	log_errorx("[pool %s] cannot start PHP: %s", g->pool->name, why);
	if (!pm.announced) {
		fpmd->exit_code = FPMD_EXIT_CONFIG;
		pm_stop(false, 0);
		return;
	}
	snprintf(msg, sizeof(msg), "pool %s: PHP start-up failed: %s",
	    g->pool->name, why);
	pm_tell(g, "reload_failed", msg);
}

static void
hook_spawned(struct gen *g, int slot, pid_t pid)
{
	/* as php-fpm: a pool's first workers at debug, later ones at notice */
	log_msg(g->settled ? LOG_LVL_NOTICE : LOG_LVL_DEBUG,
	    "[pool %s] child %d started", g->pool->name, (int)pid);
}

static void
hook_worker_exited(struct gen *g, int slot, pid_t pid, int status,
    int64_t lived, bool told)
{
	struct pool *p = g->pool;
	bool asked = told || g->draining || fpmd->state != FPMD_RUNNING;

	/* ondemand: the next connection brings a worker back, not its exit */
	if (g->pc->pm == PM_ONDEMAND &&
	    g->target > g->nworkers - g->nquitting)
		g->target = g->nworkers - g->nquitting;
	if (pid > 0) {
		relay_flush(&p->relay, pid);	/* its last words first */
		crash_note(g, pid, status, lived, told);
	}
	if (pid <= 0)
		g->fail_streak++;	/* the prototype could not fork */
	else if (WIFSIGNALED(status))
		g->fail_streak = !asked && lived < PM_QUICK_DEATH ?
		    g->fail_streak + 1 : 0;
	else if (WEXITSTATUS(status) != 0)
		g->fail_streak = lived < PM_QUICK_DEATH ? g->fail_streak + 1 :
		    0;
	else
		g->fail_streak = 0;
	if (g->fail_streak > 0)
		g->unsettled_until = now_ms() + PM_QUICK_DEATH;
	/*
	 * A worker that dies young is replaced after a growing delay, in
	 * whichever generation it was: a starting one too.
	 */
	if (g->fail_streak > 0 && fpmd->state == FPMD_RUNNING &&
	    !g->draining) {
		if (!g->held)
			log_warnx("[pool %s] workers are failing; next start "
			    "in %lld ms", p->name,
			    (long long)pm_backoff(g->fail_streak));
		gen_hold(g, pm_backoff(g->fail_streak));
	} else
		gen_fill(g);
	if (g->pc->pm == PM_ONDEMAND && p->cur == g)
		ondemand_rearm(p);
}

static void
hook_proto_exited(struct gen *g, int status)
{
	struct pool *p = g->pool;
	char msg[256];
	int64_t delay;

	if (g->draining || fpmd->state != FPMD_RUNNING) {
		pm_collect();
		return;
	}
	snprintf(msg, sizeof(msg), "%s %d", WIFSIGNALED(status) ?
	    "died on signal" : "exited with code", WIFSIGNALED(status) ?
	    WTERMSIG(status) : WEXITSTATUS(status));
	if (p->next_gen == g) {
		char why[400];

		snprintf(why, sizeof(why), "pool %s: the new prototype %s "
		    "during start-up", p->name, msg);
		pm_tell(g, "reload_failed", why);
		return;
	}
	if (!pm.announced) {
		/* It never got going: retrying will not help. */
		log_errorx("[pool %s] prototype %s before the pool was ready; "
		    "fpmd stops", p->name, msg);
		if (fpmd->exit_code == 0)
			fpmd->exit_code = FPMD_EXIT_CONFIG;
		pm_stop(false, 0);
		return;
	}
	log_errorx("[pool %s] prototype %s; restarting the pool", p->name,
	    msg);
	g->restart_streak++;
	delay = pm_backoff(g->restart_streak);
	gen_restart_later(g, delay);
}

static void
pm_announce(void)
{
	struct pool *p;

	pm.announced = true;
	for (p = fpmd->pools; p != NULL; p = p->link)
		if (p->cur != NULL)
			p->cur->settled = true;
	log_notice("ready to handle connections");
	log_set_launched();	/* syslog: no more copies on stderr */
	if (pm.ready != NULL)
		pm.ready();
}

/* Called once, when every pool of the first generation serves. */
void
pm_on_ready(void (*ready)(void))
{
	pm.ready = ready;
}

/*
 * Workers tell nobody when they are up: they write their slot.  So while
 * fpmd starts or a reload waits for its generation, the scoreboard is
 * looked at every few milliseconds as well as after every message.
 */
static void
pm_settle(void *arg)
{
	if (fpmd->state != FPMD_RUNNING)
		return;
	if (!pm.announced && pm_all_ready())
		pm_announce();
	if (pm.watch != NULL)
		pm.watch(NULL, NULL);
	if (!pm.announced || pm.watch != NULL)
		ev_timer_set(&pm.t_settle, now_ms() + PM_SETTLE_POLL,
		    pm_settle, NULL);
}

static void
hook_changed(struct gen *g)
{
	if (!pm.announced && fpmd->state == FPMD_RUNNING && pm_all_ready())
		pm_announce();
	pm_tell(g, NULL, NULL);
}

static const struct gen_hooks pm_hooks = {
	.ready = hook_ready,
	.failed = hook_failed,
	.spawned = hook_spawned,
	.worker_exited = hook_worker_exited,
	.proto_exited = hook_proto_exited,
	.changed = hook_changed,
};

int
pm_start(struct fpmd_conf *conf)
{
	struct pool *p;
	size_t k;

	gen_set_hooks(&pm_hooks);
	fpmd->generation = 1;
	if (gen_conf_ref(conf) == -1)	/* the serving configuration */
		return -1;
	for (k = 0; k < conf->npools; k++) {
		if ((p = pool_new(conf->pools[k].name)) == NULL)
			return -1;
		p->relay.decorate = conf->pools[k].decorate_workers_output;
		p->relay.json = conf->log_json;
		p->relay.buffering = conf->log_buffering;
		if (relay_files(&p->relay, conf->pools[k].access_log,
		    conf->pools[k].slowlog) == -1 ||
		    stl_set(&p->stl, p, &conf->pools[k]) == -1)
			return -1;
		if ((p->cur = pm_gen_start(p, conf, &conf->pools[k], 1)) ==
		    NULL)
			return -1;
		ondemand_watch(p);
	}
	ev_timer_set(&pm.t_tick, now_ms() + 1000, pm_tick, NULL);
	ev_timer_set(&pm.t_settle, now_ms() + PM_SETTLE_POLL, pm_settle, NULL);
	return 0;
}

/* Stop */

static void
pm_stop_gens(bool graceful)
{
	struct pool *p;
	struct gen *g;

	for (p = fpmd->pools; p != NULL; p = p->link) {
		gen_stop(p->cur, graceful);
		gen_stop(p->next_gen, graceful);
		for (g = p->old; g != NULL; g = g->next)
			gen_stop(g, graceful);
	}
}

static void
pm_kill_all(void *arg)
{
	struct pool *p;
	struct gen *g;

	for (p = fpmd->pools; p != NULL; p = p->link) {
		if (p->cur != NULL && p->cur->proto_pid != 0)
			log_warnx("[pool %s] prototype %d still there: SIGKILL",
			    p->name, (int)p->cur->proto_pid);
		gen_kill(p->cur);
		gen_kill(p->next_gen);
		for (g = p->old; g != NULL; g = g->next)
			gen_kill(g);
	}
}

static void
pm_escalate(void *arg)
{
	log_warnx("stop timeout (%ds) reached: terminating the requests "
	    "still running", fpmd->stop_timeout);
	fpmd->state = FPMD_TERMINATING;
	pm_stop_gens(false);
	ev_timer_set(&pm.t_kill, now_ms() + PM_KILL_AFTER, pm_kill_all, NULL);
}

/*
 * Graceful: requests in hand finish, for at most timeout seconds (0: the
 * configuration's process_control_timeout, whose 0 is no limit).  Fast:
 * workers are terminated, prototypes killed if still there in 2 s.
 */
void
pm_stop(bool graceful, int timeout)
{
	if (fpmd->state == FPMD_TERMINATING ||
	    (fpmd->state == FPMD_FINISHING && graceful))
		return;
	log_notice(graceful ? "Finishing ..." : "Terminating ...");
	if (pm.watch != NULL)
		pm.watch("stopping", "fpmd is stopping");
	pm_abort();
	fpmd->state = graceful ? FPMD_FINISHING : FPMD_TERMINATING;
	ev_timer_stop(&pm.t_tick);
	pm_stop_gens(graceful);
	if (graceful) {
		if (timeout == 0)
			timeout = fpmd->conf->process_control_timeout;
		fpmd->stop_timeout = timeout;
		if (timeout > 0)
			ev_timer_set(&pm.t_escalate, now_ms() +
			    (int64_t)timeout * 1000, pm_escalate, NULL);
	} else {
		ev_timer_stop(&pm.t_escalate);
		ev_timer_set(&pm.t_kill, now_ms() + PM_KILL_AFTER,
		    pm_kill_all, NULL);
	}
}

bool
pm_all_gone(void)
{
	struct pool *p;
	struct gen *g;

	for (p = fpmd->pools; p != NULL; p = p->link) {
		if ((p->cur && p->cur->proto_pid) ||
		    (p->next_gen && p->next_gen->proto_pid))
			return false;
		for (g = p->old; g != NULL; g = g->next)
			if (g->proto_pid != 0)
				return false;
	}
	return true;
}

void
pm_close_all(void)
{
	struct pool *p;
	struct gen *g;

	ev_timer_stop(&pm.t_tick);
	ev_timer_stop(&pm.t_settle);
	ev_timer_stop(&pm.t_escalate);
	ev_timer_stop(&pm.t_kill);
	while ((p = fpmd->pools) != NULL) {
		gen_free(p->cur);
		gen_free(p->next_gen);
		while ((g = p->old) != NULL) {
			p->old = g->next;
			gen_free(g);
		}
		pool_free(p);
	}
	gen_conf_unref(fpmd->conf);
}

static struct gen *
pm_gen_by_pid(pid_t pid)
{
	struct pool *p;
	struct gen *g;

	for (p = fpmd->pools; p != NULL; p = p->link) {
		if (p->cur != NULL && p->cur->proto_pid == pid)
			return p->cur;
		if (p->next_gen != NULL && p->next_gen->proto_pid == pid)
			return p->next_gen;
		for (g = p->old; g != NULL; g = g->next)
			if (g->proto_pid == pid)
				return g;
	}
	return NULL;
}

/* A child of the master was reaped: it can only be a prototype. */
void
pm_reaped(pid_t pid, int status)
{
	struct gen *g;

	if ((g = pm_gen_by_pid(pid)) != NULL)
		gen_proto_exited(g, status);
	pm_collect();
}

/* Reload: a new generation beside each serving one. */

static int
pm_reserved(const struct gen *g)
{
	if (g == NULL)
		return 0;
	return g->draining ? g->nworkers : g->max > g->nworkers ? g->max :
	    g->nworkers;
}

/*
 * Whether conf's generations fit beside the ones alive, each of which may
 * grow to its pm.max_children (a draining one only shrinks).
 */
int
pm_room(const struct fpmd_conf *conf, char *err, size_t errlen)
{
	const struct pool *p;
	const struct gen *g;
	long used = 0, want = 0;
	size_t k;

	for (p = fpmd->pools; p != NULL; p = p->link) {
		used += pm_reserved(p->cur) + pm_reserved(p->next_gen);
		for (g = p->old; g != NULL; g = g->next)
			used += pm_reserved(g);
	}
	for (k = 0; k < conf->npools; k++)
		want += conf->pools[k].max_children;
	if (used + want > (long)fpmd->sb->nslots) {
		snprintf(err, errlen, "the new generation needs %ld worker "
		    "slots and %ld of the %u there are belong to the "
		    "generations alive (scaled, or draining); try again once "
		    "the draining ones have finished, or restart fpmd with a "
		    "larger process.max", want, used, fpmd->sb->nslots);
		return -1;
	}
	return 0;
}

int
pm_prepare(struct fpmd_conf *conf, const struct pool_conf *pc, int num,
    char *err, size_t errlen)
{
	struct pool *p;

	if ((p = pm_pool_find(pc->name)) == NULL) {
		if ((p = pool_new(pc->name)) == NULL) {
			snprintf(err, errlen, "pool %s: cannot create it (see "
			    "the log)", pc->name);
			return -1;
		}
		p->added = true;
	}
	if ((p->next_gen = gen_new(p, conf, pc, num)) == NULL) {
		snprintf(err, errlen, "pool %s: cannot listen on '%s' (see the "
		    "log)", pc->name, pc->addr.text);
		return -1;
	}
	pm_target_initial(p->next_gen);
	if (gen_start(p->next_gen) == -1) {
		gen_free(p->next_gen);
		p->next_gen = NULL;
		snprintf(err, errlen, "pool %s: cannot start its prototype (see "
		    "the log)", pc->name);
		return -1;
	}
	return 0;
}

/*
 * An emergency restart: a new generation of p alone, with the serving
 * configuration and the size p has now (a scale included), if the
 * scoreboard has room for it beside every generation alive.
 */
int
pm_restart_prepare(struct pool *p, int num, char *err, size_t errlen)
{
	const struct pool *q;
	const struct gen *g;
	const struct pool_conf *pc = NULL;
	long used = 0;
	size_t k;

	if (p->cur == NULL || p->removed) {
		snprintf(err, errlen, "pool %s: not serving", p->name);
		return -1;
	}
	for (k = 0; k < fpmd->conf->npools; k++)
		if (strcmp(fpmd->conf->pools[k].name, p->name) == 0)
			pc = &fpmd->conf->pools[k];
	if (pc == NULL) {
		snprintf(err, errlen, "pool %s: not in the configuration",
		    p->name);
		return -1;
	}
	for (q = fpmd->pools; q != NULL; q = q->link) {
		used += pm_reserved(q->cur) + pm_reserved(q->next_gen);
		for (g = q->old; g != NULL; g = g->next)
			used += pm_reserved(g);
	}
	if (used + p->cur->max > (long)fpmd->sb->nslots) {
		snprintf(err, errlen, "pool %s: the new generation needs %d "
		    "worker slots and %ld of the %u there are belong to the "
		    "generations alive", p->name, p->cur->max, used,
		    fpmd->sb->nslots);
		return -1;
	}
	if (pm_prepare(fpmd->conf, pc, num, err, errlen) == -1)
		return -1;
	if (p->next_gen->max != p->cur->max) {
		p->next_gen->max = p->cur->max;
		pm_target_initial(p->next_gen);
		if (p->next_gen->target > p->next_gen->max)
			p->next_gen->target = p->next_gen->max;
	}
	return 0;
}

/* Whether every generation a reload started serves; if not, why. */
bool
pm_prepared(char *why, size_t whylen)
{
	struct pool *p;
	struct gen *g;

	for (p = fpmd->pools; p != NULL; p = p->link) {
		if ((g = p->next_gen) == NULL || gen_serving(g))
			continue;
		if (!g->ready)
			snprintf(why, whylen, "pool %s: PHP has not started",
			    p->name);
		else
			snprintf(why, whylen, "pool %s: %d of %d workers "
			    "up%s", p->name, gen_up(g), g->target,
			    g->unsettled_until != 0 ? ", and they die at "
			    "start: see the log" : "");
		return false;
	}
	return true;
}

/*
 * Whether every generation that drains has had its workers told to stop
 * accepting: from then on a new connection goes to the serving ones.
 */
bool
pm_retired_quiet(void)
{
	struct pool *p;
	struct gen *g;

	for (p = fpmd->pools; p != NULL; p = p->link)
		for (g = p->old; g != NULL; g = g->next)
			if (g->proto_pid != 0 && g->ready && !g->quit_told)
				return false;
	return true;
}

/*
 * The new generations serve: they take over, the old ones drain, and the
 * pools the new configuration does not name drain and go.
 */
/* Whether a serving or starting generation accepts on ls. */
static bool
pm_listening(const struct listener *ls)
{
	const struct pool *p;

	for (p = fpmd->pools; p != NULL; p = p->link)
		if ((p->cur != NULL && p->cur->ls == ls) ||
		    (p->next_gen != NULL && p->next_gen->ls == ls))
			return true;
	return false;
}

void
pm_commit(struct fpmd_conf *conf)
{
	struct fpmd_conf *old = fpmd->conf;
	struct listener **left;
	struct pool *p;
	struct gen *g;
	size_t k, nleft = 0, npools = 0;
	bool keep;

	for (p = fpmd->pools; p != NULL; p = p->link)
		npools++;
	/* without it, addresses left behind close when their workers go */
	left = calloc(npools + 1, sizeof(*left));

	for (p = fpmd->pools; p != NULL; p = p->link) {
		p->added = false;
		if ((g = p->next_gen) != NULL) {
			if (p->cur != NULL) {
				/* the watch of the address it leaves */
				if (p->cur->ls != g->ls &&
				    p->cur->ls->ev.arg == p)
					ev_del(&p->cur->ls->ev);
				if (p->cur->ls != g->ls && left != NULL)
					if (left != NULL)
					left[nleft++] = p->cur->ls;
				pm_retire(p->cur,
				    p->cur->conf->process_control_timeout);
			}
			p->cur = g;
			p->next_gen = NULL;
			g->settled = true;
			listen_apply(g->ls, g->pc);
			p->relay.decorate = g->pc->decorate_workers_output;
			p->relay.json = conf->log_json;
			p->relay.buffering = conf->log_buffering;
			if (relay_files(&p->relay, g->pc->access_log,
			    g->pc->slowlog) == -1)
				log_warnx("[pool %s] the reload is done, but the "
				    "pool goes on logging to access.log '%s' "
				    "and slowlog '%s'", p->name,
				    p->relay.acc_file ? p->relay.acc_file->path :
				    "(none)", p->relay.slow_file ?
				    p->relay.slow_file->path : "(none)");
			if (stl_set(&p->stl, p, g->pc) == -1)
				log_warnx("[pool %s] pm.status_listen: the "
				    "master does not answer there",
				    p->name);
			ondemand_watch(p);
			continue;
		}
		keep = false;
		for (k = 0; k < conf->npools; k++)
			if (strcmp(conf->pools[k].name, p->name) == 0)
				keep = true;
		if (!keep && !p->removed) {
			log_notice("[pool %s] not in the new configuration: "
			    "draining", p->name);
			p->removed = true;
			stl_close(&p->stl);
			if (p->cur != NULL) {
				if (p->cur->ls->ev.arg == p)
					ev_del(&p->cur->ls->ev);
				if (left != NULL)
					left[nleft++] = p->cur->ls;
				pm_retire(p->cur,
				    p->cur->conf->process_control_timeout);
			}
		}
	}
	/*
	 * An address no serving generation listens on any more is closed to
	 * newcomers now, not when its old workers are gone: a connection
	 * there would wait for workers that no longer accept.
	 */
	for (k = 0; k < nleft; k++)
		if (!pm_listening(left[k]))
			listen_retire(left[k]);
	free(left);
	fpmd->conf = conf;
	gen_conf_unref(old);
	pm_collect();
}

/* Drops the generations a reload started; the serving ones stay. */
void
pm_abort(void)
{
	struct pool *p;
	struct gen *g;

	for (p = fpmd->pools; p != NULL; p = p->link) {
		if ((g = p->next_gen) != NULL) {
			p->next_gen = NULL;
			if (g->proto_pid != 0) {
				g->next = p->old;
				p->old = g;
				gen_abandon(g);
			} else
				gen_free(g);
		}
		if (p->added) {
			p->added = false;
			p->removed = true;
		}
	}
	pm_collect();
}

/* Scale */

/* pm.max_children at run time: static pools follow it at once. */
static void
gen_resize(struct gen *g, int n)
{
	g->max = n;
	if (g->pc->pm == PM_STATIC || g->target > n)
		g->target = n;
	gen_fill(g);
}

int
pm_scale(const char *name, int n, int *previous, char *err, size_t errlen)
{
	struct pool *p, *q;
	struct gen *g, *o;
	long others = 0, used = 0;

	if ((p = pm_pool_find(name)) == NULL || (g = p->cur) == NULL) {
		snprintf(err, errlen, "no pool named '%s'", name);
		return -1;
	}
	for (q = fpmd->pools; q != NULL; q = q->link) {
		if (q != p)
			used += pm_reserved(q->cur);
		used += pm_reserved(q->next_gen);
		for (o = q->old; o != NULL; o = o->next)
			used += pm_reserved(o);
	}
	/* a reload under way makes a second generation of this size */
	if (n < 1 || (long)n * (p->next_gen != NULL ? 2 : 1) + used >
	    (long)fpmd->sb->nslots) {
		snprintf(err, errlen, "max_children must be between 1 and %ld "
		    "(the scoreboard's free slots; see process.max)",
		    ((long)fpmd->sb->nslots - used) /
		    (p->next_gen != NULL ? 2 : 1));
		return -2;
	}
	if (fpmd->conf->process_max > 0) {
		/* process.max caps the serving workers of all pools */
		for (q = fpmd->pools; q != NULL; q = q->link)
			if (q != p && q->cur != NULL && !q->removed)
				others += q->cur->max;
		if (others + n > fpmd->conf->process_max) {
			snprintf(err, errlen, "max_children %d would make %ld "
			    "workers in all, more than process.max = %d", n,
			    others + n, fpmd->conf->process_max);
			return -2;
		}
	}
	*previous = g->max;
	gen_resize(g, n);
	log_notice("[pool %s] scaled from %d to %d workers%s", p->name,
	    *previous, n, g->pc->pm == PM_DYNAMIC ? " at most" : "");
	/* A generation a reload is starting takes the new size too. */
	if (p->next_gen != NULL)
		gen_resize(p->next_gen, n);
	return 0;
}

/* Once a second: the policies that look at the scoreboard. */

static void
pm_max_reached(struct gen *g)
{
	if (g->max_warned)
		return;
	g->max_warned = true;
	fpmd->sb->pools[g->pool->index].max_children_reached++;
	log_warnx("[pool %s] server reached %smax_children setting (%d), "
	    "consider raising it", g->pool->name,
	    g->pc->pm == PM_DYNAMIC ? "pm." : "", g->max);
}

/*
 * pm = dynamic, as php-fpm does it: more idle workers than
 * pm.max_spare_servers lose one; fewer than pm.min_spare_servers get a
 * burst that doubles each second up to pm.max_spawn_rate, never past
 * pm.max_children (reaching it is counted once per episode).
 */
static void
pm_dynamic(struct gen *g)
{
	const struct pool_conf *pc = g->pc;
	struct scoreboard *sb = fpmd->sb;
	uint32_t i;
	int idle = 0, total = g->nworkers - g->nquitting, n;

	if (!g->ready || g->draining || g->held || g->nrunning < g->nworkers)
		return;		/* settle first */
	for (i = 0; i < sb->nslots; i++)
		if (sb->ms[i].gen == g && !sb->ms[i].quitting &&
		    sb->slots[i].state == SLOT_IDLE)
			idle++;
	if (idle > pc->max_spare_servers) {
		g->target = total - 1;
		g->spawn_rate = 1;
	} else if (idle < pc->min_spare_servers) {
		if (total >= g->max) {
			pm_max_reached(g);
			g->spawn_rate = 1;
			return;
		}
		g->max_warned = false;
		n = g->spawn_rate;
		if (n > pc->min_spare_servers - idle)
			n = pc->min_spare_servers - idle;
		if (n > g->max - total)
			n = g->max - total;
		if (g->spawn_rate >= 8)
			log_warnx("[pool %s] seems busy (you may need to "
			    "increase pm.start_servers, or pm.min/max_spare_"
			    "servers), spawning %d children, there are %d idle, "
			    "and %d total children", g->pool->name, n, idle,
			    total);
		g->target = total + n;
		if (g->spawn_rate < pc->max_spawn_rate)
			g->spawn_rate *= 2;
	} else {
		g->spawn_rate = 1;
		g->max_warned = false;
		return;
	}
	gen_fill(g);
}

/*
 * pm = ondemand: the master watches the listening socket (it never
 * accepts; the workers do) and starts as many workers as connections wait
 * beyond the idle and starting ones.  The watch is level-triggered and
 * one-shot: it is armed again when a worker exits — the connection that
 * waited while the last worker left is seen then —, or shortly after, while
 * connections wait for workers that are about to take them.
 */
static void
ondemand_on_connect(struct ev *e, uint32_t events)
{
	struct pool *p = e->arg;
	struct scoreboard *sb = fpmd->sb;
	struct gen *g = p->cur;
	int waiting, qmax, ready = 0, want;
	uint32_t i;

	if (p->freed || g == NULL || g->ls->ev.arg != p ||
	    g->pc->pm != PM_ONDEMAND) {
		ev_del(e);
		return;
	}
	if (fpmd->state != FPMD_RUNNING)
		return;		/* stays disarmed */
	if (!g->ready || g->held) {
		ev_timer_set(&p->t_watch, now_ms() + PM_WATCH_AGAIN,
		    ondemand_rearm, p);
		return;
	}
	if (listen_queue(g->ls, &waiting, &qmax) == -1 || waiting < 1)
		waiting = 1;
	for (i = 0; i < sb->nslots; i++)
		if (sb->ms[i].gen == g && !sb->ms[i].quitting &&
		    (sb->slots[i].state == SLOT_IDLE ||
		    sb->slots[i].state == SLOT_STARTING))
			ready++;
	want = waiting - ready;
	if (want > 0) {
		if (g->nworkers - g->nquitting + want > g->max)
			want = g->max - (g->nworkers - g->nquitting);
		if (want <= 0)
			pm_max_reached(g);
		else {
			g->max_warned = false;
			g->target = g->nworkers - g->nquitting + want;
			gen_fill(g);
		}
	}
	ev_timer_set(&p->t_watch, now_ms() + PM_WATCH_AGAIN, ondemand_rearm,
	    p);
}

static void
ondemand_rearm(void *arg)
{
	struct pool *p = arg;

	ev_timer_stop(&p->t_watch);
	if (p->cur != NULL && p->cur->ls->ev.arg == p)
		ev_rearm(&p->cur->ls->ev);
}

static void
ondemand_watch(struct pool *p)
{
	struct listener *ls = p->cur->ls;

	if (p->cur->pc->pm != PM_ONDEMAND) {
		ev_del(&ls->ev);
		return;
	}
	if (ls->ev.cb != NULL && ls->ev.arg == p)
		return;
	ev_del(&ls->ev);
	ev_add(&ls->ev, ls->fd, EPOLLIN | EPOLLONESHOT, ondemand_on_connect,
	    p);
}

/*
 * Once a second: the idle worker that waited longest goes, if that is
 * past the timeout, as php-fpm does.  That one and no other: the first
 * idle slot may be a worker between two requests of a keep-alive
 * connection, which a stop would cut.
 */
static void
ondemand_reap(struct gen *g)
{
	struct scoreboard *sb = fpmd->sb;
	struct timespec now;
	struct sb_slot s;
	uint64_t idle, limit, longest = 0;
	int64_t mono = now_ms();
	uint32_t i;
	int victim = -1;

	if (!g->ready || g->draining || g->nquitting > 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	limit = (uint64_t)g->pc->process_idle_timeout * 1000000;
	for (i = 0; i < sb->nslots; i++) {
		if (sb->ms[i].gen != g || sb->ms[i].quitting ||
		    sb->ms[i].pid <= 0)
			continue;
		sb_slot_read(&sb->slots[i], &s);
		if (s.state != SLOT_IDLE)
			continue;
		/* idle since its fork (to the millisecond), or since its
		 * last request ended */
		if (s.requests == 0) {
			idle = mono > sb->ms[i].started ?
			    (uint64_t)(mono - sb->ms[i].started) * 1000 : 0;
		} else {
			idle = sb_elapsed_us(&s.req_start, &now);
			idle = idle > s.req_duration_us ?
			    idle - s.req_duration_us : 0;
		}
		if (idle >= limit && idle > 0 &&
		    (victim == -1 || idle > longest)) {
			victim = (int)i;
			longest = idle;
		}
	}
	if (victim != -1 && gen_kill_worker(g, victim, SIGQUIT) == 0)
		g->target = g->nworkers - g->nquitting;
}

/*
 * request_terminate_timeout: a request running longer loses its worker
 * (SIGTERM), as php-fpm does.  The clock starts at accept, so reading a
 * request counts; fastcgi_finish_request() stops it, unless
 * request_terminate_timeout_track_finished says the script's work after
 * it counts too.
 */
static void
pm_terminate_slow(struct gen *g)
{
	struct scoreboard *sb = fpmd->sb;
	struct timespec now;
	struct sb_slot s;
	uint64_t us;
	uint32_t i;

	if (g->pc->request_terminate_timeout <= 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	for (i = 0; i < sb->nslots; i++) {
		if (sb->ms[i].gen != g || sb->ms[i].quitting ||
		    sb->ms[i].pid <= 0)
			continue;
		sb_slot_read(&sb->slots[i], &s);
		if (s.state <= SLOT_IDLE || s.state > SLOT_FINISHING ||
		    (s.state == SLOT_FINISHING &&
		    !g->pc->terminate_track_finished))
			continue;
		us = sb_elapsed_us(&s.req_start, &now);
		if (us < (uint64_t)g->pc->request_terminate_timeout * 1000000)
			continue;
		s.method[sizeof(s.method) - 1] = '\0';
		s.uri[sizeof(s.uri) - 1] = '\0';
		s.uri[strcspn(s.uri, "?")] = '\0';
		s.query[sizeof(s.query) - 1] = '\0';
		s.script[sizeof(s.script) - 1] = '\0';
		/* php-fpm's words, query and microseconds included */
		log_warnx("[pool %s] child %d, script '%s' (request: "
		    "\"%s %s%s%s\") execution timed out (%llu.%06llu sec), "
		    "terminating", g->pool->name, (int)sb->ms[i].pid, s.script,
		    s.method, s.uri, s.query[0] ? "?" : "", s.query,
		    (unsigned long long)(us / 1000000),
		    (unsigned long long)(us % 1000000));
		gen_kill_worker(g, (int)i, SIGTERM);
	}
}

static void
pm_tick(void *arg)
{
	struct pool *p;
	struct gen *g;

	ev_timer_set(&pm.t_tick, now_ms() + 1000, pm_tick, NULL);
	log_report_failures();
	for (p = fpmd->pools; p != NULL; p = p->link)
		status_report_drops(p);
	if (fpmd->state != FPMD_RUNNING)
		return;
	for (p = fpmd->pools; p != NULL; p = p->link) {
		if ((g = p->cur) == NULL)
			continue;
		if (g->pc->pm == PM_DYNAMIC)
			pm_dynamic(g);
		else if (g->pc->pm == PM_ONDEMAND) {
			ondemand_reap(g);
			/* a watch that could not be set is tried again */
			if (g->ls->ev.cb == NULL)
				ondemand_watch(p);
			ondemand_rearm(p);
		} else
			gen_fill(g);	/* short after a failed send: refill */
		pm_terminate_slow(g);
		if (p->next_gen != NULL)
			pm_terminate_slow(p->next_gen);
		for (g = p->old; g != NULL; g = g->next)
			pm_terminate_slow(g);
	}
}
