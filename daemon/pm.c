/*
 * The process manager, master side.  A pool runs as a generation: a
 * prototype started with one configuration and the workers it forks on our
 * request.  The master owns the scoreboard slots: it picks a free one, asks
 * the prototype to fork a worker into it, and frees it when the prototype
 * reports the worker's exit.  A worker that dies soon after it started is
 * replaced after a growing delay, not in a tight loop; a prototype that
 * dies takes its workers with it and is started again, with the same
 * back-off.
 *
 * A reload starts a new generation of every pool beside the serving one,
 * on the same listening socket when the address did not change.  Only when
 * every new generation serves do the old ones drain: their workers finish
 * the request in hand and exit.  If a new generation cannot start, it is
 * dropped and the old one goes on serving.
 *
 * Children's log lines and (with catch_workers_output) their stdout and
 * stderr come back as datagrams, so a line is never cut or interleaved and
 * the master is the only writer of the error log.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fpmd.h"

#define PM_BACKOFF_MIN		100	/* ms */
#define PM_BACKOFF_MAX		10000
#define PM_QUICK_DEATH		1000	/* a worker that lived less failed */

static void	gen_on_ctl(struct ev *, uint32_t);
static void	pool_on_log(struct ev *, uint32_t);
static void	pool_on_out(struct ev *, uint32_t);
static void	reload_check(void);
static void	gen_stop(struct gen *, bool);
static void	pm_maintain(struct gen *);

/*
 * A configuration is referenced by every generation started with it, and
 * by the role it plays: the serving one (fpmd->conf) and the one a reload
 * is bringing in (fpmd->reload_conf).  It is freed with the last reference.
 */
static struct conf_ref {
	struct fpmd_conf	*conf;
	int			 refs;
	struct conf_ref		*next;
} *conf_refs;

static void
conf_ref(struct fpmd_conf *conf)
{
	struct conf_ref *r;

	for (r = conf_refs; r != NULL; r = r->next)
		if (r->conf == conf) {
			r->refs++;
			return;
		}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("%s: calloc", __func__);
	r->conf = conf;
	r->refs = 1;
	r->next = conf_refs;
	conf_refs = r;
}

void
pm_conf_unref(struct fpmd_conf *conf)
{
	struct conf_ref **rp, *r;

	if (conf == NULL)
		return;
	for (rp = &conf_refs; (r = *rp) != NULL; rp = &r->next)
		if (r->conf == conf)
			break;
	if (r == NULL) {
		log_warnx("%s: configuration %p has no references", __func__,
		    (void *)conf);
		return;
	}
	if (--r->refs > 0)
		return;
	*rp = r->next;
	free(r);
	conf_free(conf);
}

static int
pair(int type, int fds[2])
{
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) == -1) {
		log_error("socketpair");
		return -1;
	}
	return 0;
}

static int
sb_pool_alloc(const char *name)
{
	uint32_t i;

	for (i = 0; i < fpmd->sb->npools; i++)
		if (!fpmd->sb->pools[i].used)
			break;
	if (i == fpmd->sb->npools)
		return -1;
	memset(&fpmd->sb->pools[i], 0, sizeof(fpmd->sb->pools[i]));
	fpmd->sb->pools[i].used = 1;
	strncpy(fpmd->sb->pools[i].name, name, SB_POOL_NAME - 1);
	fpmd->sb->pools[i].start = time(NULL);
	return (int)i;
}

static struct pool *
pool_new(const char *name)
{
	struct pool *p, **pp;
	int fds[2], on = 1;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		log_error("%s: calloc", __func__);
		return NULL;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->log_rfd = p->log_wfd = -1;
	p->out_rfd = p->out_wfd = p->err_rfd = p->err_wfd = -1;
	if ((p->index = sb_pool_alloc(name)) == -1) {
		log_errorx("too many pools (at most %d)", FPMD_POOLS_MAX);
		free(p);
		return NULL;
	}
	if (pair(SOCK_DGRAM, fds) == -1)
		goto fail;
	p->log_rfd = fds[0];
	p->log_wfd = fds[1];
	if (pair(SOCK_DGRAM, fds) == -1)
		goto fail;
	p->out_rfd = fds[0];
	p->out_wfd = fds[1];
	if (pair(SOCK_DGRAM, fds) == -1)
		goto fail;
	p->err_rfd = fds[0];
	p->err_wfd = fds[1];
	setsockopt(p->out_rfd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on));
	setsockopt(p->err_rfd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on));
	ev_add(&p->ev_log, p->log_rfd, pool_on_log, p);
	ev_add(&p->ev_out, p->out_rfd, pool_on_out, p);
	ev_add(&p->ev_err, p->err_rfd, pool_on_out, p);
	for (pp = &fpmd->pools; *pp != NULL; pp = &(*pp)->link)
		;
	*pp = p;	/* in config order */
	return p;
fail:
	fpmd->sb->pools[p->index].used = 0;
	if (p->log_rfd != -1) {
		close(p->log_rfd);
		close(p->log_wfd);
	}
	if (p->out_rfd != -1) {
		close(p->out_rfd);
		close(p->out_wfd);
	}
	free(p);
	return NULL;
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
	ev_del(&p->ev_log);
	ev_del(&p->ev_out);
	ev_del(&p->ev_err);
	close(p->log_rfd);
	close(p->log_wfd);
	close(p->out_rfd);
	close(p->out_wfd);
	close(p->err_rfd);
	close(p->err_wfd);
	fpmd->sb->pools[p->index].used = 0;
	free(p);
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

/* A listener for pc's address: the one in use, or a new socket. */
static struct listener *
listener_get(const struct pool_conf *pc)
{
	struct listener *ls;
	struct pool *p;
	struct gen *g;

	for (p = fpmd->pools; p != NULL; p = p->link) {
		struct gen *gens[2] = { p->cur, p->next_gen };
		int i;

		for (i = 0; i < 2; i++) {
			g = gens[i];
			if (g != NULL && g->ls != NULL &&
			    strcmp(g->ls->addr.text, pc->addr.text) == 0 &&
			    strcmp(p->name, pc->name) == 0) {
				g->ls->refs++;
				return g->ls;
			}
		}
	}
	if ((ls = calloc(1, sizeof(*ls))) == NULL) {
		log_error("%s: calloc", __func__);
		return NULL;
	}
	if ((ls->fd = listen_open(pc)) == -1) {
		free(ls);
		return NULL;
	}
	ls->addr = pc->addr;
	ls->backlog = pc->listen_backlog;
	ls->refs = 1;
	return ls;
}

static void
listener_unref(struct listener *ls)
{
	if (ls == NULL || --ls->refs > 0)
		return;
	ev_del(&ls->ev);
	listen_close(&ls->addr, ls->fd);
	free(ls);
}

/*
 * pm = ondemand: the master watches the listening socket (edge-triggered:
 * it never accepts, the workers do) and starts a worker when a connection
 * comes and none is idle.
 */
static void
ondemand_on_connect(struct ev *e, uint32_t events)
{
	struct listener *ls = e->arg;
	struct pool *p = ls->pool;
	struct sb_pool *sp;
	struct gen *g;
	uint32_t i;

	if (p == NULL || (g = p->cur) == NULL || g->ls != ls ||
	    g->pc->pm != PM_ONDEMAND || !g->ready || g->draining ||
	    fpmd->state != FPMD_RUNNING)
		return;
	for (i = 0; i < fpmd->sb->nslots; i++)
		if (fpmd->slots[i].gen == g && !fpmd->slots[i].quitting &&
		    (fpmd->sb->slots[i].state == SLOT_IDLE ||
		    fpmd->sb->slots[i].state == SLOT_STARTING))
			return;		/* someone will take it */
	if (g->nworkers - g->nquitting >= g->max) {
		if (!g->max_warned) {
			g->max_warned = true;
			sp = &fpmd->sb->pools[p->index];
			sp->max_children_reached++;
			log_warnx("[pool %s] server reached max_children "
			    "setting (%d), consider raising it", p->name,
			    g->max);
		}
		return;
	}
	g->max_warned = false;
	g->target = g->nworkers - g->nquitting + 1;
	pm_maintain(g);
}

static void
ondemand_watch(struct gen *g)
{
	if (g->pc->pm != PM_ONDEMAND || g->ls->ev.cb != NULL)
		return;
	g->ls->pool = g->pool;
	ev_add_events(&g->ls->ev, g->ls->fd, EPOLLIN | EPOLLET,
	    ondemand_on_connect, g->ls);
}

/* Once a second: the idle worker that waited longest, past the timeout. */
static void
ondemand_reap(struct gen *g)
{
	struct timespec now;
	struct sb_slot s;
	int64_t idle_since, oldest = 0, limit;
	uint32_t i;
	int victim = -1;

	if (!g->ready || g->draining || g->nquitting > 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	limit = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 -
	    (int64_t)g->pc->process_idle_timeout * 1000;
	for (i = 0; i < fpmd->sb->nslots; i++) {
		if (fpmd->slots[i].gen != g || fpmd->slots[i].quitting ||
		    fpmd->slots[i].pid <= 0)
			continue;
		sb_slot_read(&fpmd->sb->slots[i], &s);
		if (s.state != SLOT_IDLE)
			continue;
		idle_since = s.requests == 0 ? (int64_t)s.start * 1000 :
		    (int64_t)s.req_start.tv_sec * 1000 +
		    s.req_start.tv_nsec / 1000000 +
		    (int64_t)(s.req_duration_us / 1000);
		if (idle_since <= limit && (victim == -1 ||
		    idle_since < oldest)) {
			victim = (int)i;
			oldest = idle_since;
		}
	}
	if (victim == -1)
		return;
	g->target = g->nworkers - g->nquitting - 1;
	pm_maintain(g);
}

static struct gen *
gen_new(struct pool *p, struct fpmd_conf *conf, const struct pool_conf *pc)
{
	struct gen *g;

	if ((g = calloc(1, sizeof(*g))) == NULL) {
		log_error("%s: calloc", __func__);
		return NULL;
	}
	if ((g->ls = listener_get(pc)) == NULL) {
		free(g);
		return NULL;
	}
	g->pool = p;
	g->conf = conf;
	conf_ref(conf);
	g->pc = pc;
	g->num = fpmd->generation;
	g->ctl_fd = -1;
	g->max = pc->max_children;
	g->target = pc->pm == PM_DYNAMIC ? pc->start_servers :
	    pc->pm == PM_ONDEMAND ? 0 : g->max;
	g->spawn_rate = 1;
	return g;
}

static void
gen_free(struct gen *g)
{
	if (g->ctl_fd != -1) {
		ev_del(&g->ev_ctl);
		close(g->ctl_fd);
	}
	listener_unref(g->ls);
	pm_conf_unref(g->conf);
	free(g);
}

/* In the new child: keep only what the prototype needs. */
static void
proto_fds_only(int *keep, int n)
{
	int i, j, t, next = 3;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (keep[j] < keep[i]) {
				t = keep[i];
				keep[i] = keep[j];
				keep[j] = t;
			}
	for (i = 0; i < n; i++) {
		if (keep[i] < next)
			continue;
		if (keep[i] > next)
			close_range((unsigned)next, (unsigned)keep[i] - 1, 0);
		next = keep[i] + 1;
	}
	close_range((unsigned)next, ~0U, 0);
}

static int
gen_proto_start(struct gen *g)
{
	struct pool *p = g->pool;
	struct proto_args pa;
	int fds[2], keep[5];
	pid_t pid;

	if (pair(SOCK_SEQPACKET, fds) == -1)
		return -1;
	g->ready = false;
	switch (pid = fork()) {
	case -1:
		log_error("[pool %s] fork", p->name);
		close(fds[0]);
		close(fds[1]);
		return -1;
	case 0:
		keep[0] = g->ls->fd;
		keep[1] = fds[1];
		keep[2] = p->log_wfd;
		keep[3] = p->out_wfd;
		keep[4] = p->err_wfd;
		proto_fds_only(keep, 5);
		memset(&pa, 0, sizeof(pa));
		pa.conf = g->conf;
		pa.pc = g->pc;
		pa.pool_index = p->index;
		pa.gen = g->num;
		pa.listen_fd = g->ls->fd;
		pa.ctl_fd = fds[1];
		pa.log_fd = p->log_wfd;
		pa.out_fd = g->pc->catch_workers_output ? p->out_wfd : -1;
		pa.err_fd = g->pc->catch_workers_output ? p->err_wfd : -1;
		pa.sb = fpmd->sb;
		pa.master = getppid();
		proto_main(&pa);
	}
	close(fds[1]);
	g->ctl_fd = fds[0];
	g->proto_pid = pid;
	ev_add(&g->ev_ctl, g->ctl_fd, gen_on_ctl, g);
	log_debug("[pool %s] prototype gen %d started, pid %d", p->name,
	    g->num, (int)pid);
	return 0;
}

static int
gen_send(struct gen *g, enum proto_msg_type type, int slot, pid_t pid,
    int status)
{
	struct proto_msg m;

	if (g->ctl_fd == -1)
		return -1;
	memset(&m, 0, sizeof(m));
	m.type = type;
	m.slot = slot;
	m.pid = pid;
	m.status = status;
	if (send(g->ctl_fd, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(m)) {
		/* EPIPE: it is exiting, and SIGCHLD will say so */
		if (errno != EPIPE && errno != ECONNRESET)
			log_warn("[pool %s] message to the prototype",
			    g->pool->name);
		return -1;
	}
	return 0;
}

static int
slot_alloc(struct gen *g)
{
	uint32_t i;

	for (i = 0; i < fpmd->sb->nslots; i++)
		if (fpmd->slots[i].gen == NULL)
			break;
	if (i == fpmd->sb->nslots)
		return -1;
	fpmd->slots[i].gen = g;
	fpmd->slots[i].pid = 0;
	fpmd->slots[i].quitting = false;
	fpmd->slots[i].started = now_ms();
	sb_slot_begin(&fpmd->sb->slots[i]);
	fpmd->sb->slots[i].pool = g->pool->index;
	fpmd->sb->slots[i].gen = g->num;
	fpmd->sb->slots[i].state = SLOT_STARTING;
	sb_slot_commit(&fpmd->sb->slots[i]);
	return (int)i;
}

static void
slot_free(int slot)
{
	fpmd->slots[slot].gen = NULL;
	fpmd->slots[slot].pid = 0;
	fpmd->slots[slot].quitting = false;
	sb_slot_clear(&fpmd->sb->slots[slot]);
}

/* Brings a generation to its target number of workers, or down to it. */
static void
pm_maintain(struct gen *g)
{
	uint32_t i;
	int slot, excess, pass;

	if (fpmd->state != FPMD_RUNNING || !g->ready || g->draining ||
	    g->respawn_at != 0 || g->proto_pid == 0)
		return;
	while (g->nworkers - g->nquitting < g->target) {
		if ((slot = slot_alloc(g)) == -1) {
			log_warnx("[pool %s] no free scoreboard slot: raise "
			    "process.max", g->pool->name);
			return;
		}
		if (gen_send(g, PMSG_SPAWN, slot, 0, 0) == -1) {
			slot_free(slot);
			return;
		}
		g->nworkers++;
	}
	/* Scaled down: idle workers go first, then any, gracefully. */
	excess = g->nworkers - g->nquitting - g->target;
	for (pass = 0; pass < 2 && excess > 0; pass++) {
		for (i = 0; i < fpmd->sb->nslots && excess > 0; i++) {
			struct mslot *ms = &fpmd->slots[i];

			if (ms->gen != g || ms->quitting || ms->pid <= 0)
				continue;
			if (pass == 0 && fpmd->sb->slots[i].state != SLOT_IDLE)
				continue;
			if (gen_send(g, PMSG_KILL, (int)i, ms->pid, SIGQUIT)
			    == -1)
				return;
			ms->quitting = true;
			g->nquitting++;
			excess--;
		}
	}
}

static bool
gen_serving(const struct gen *g)
{
	return g != NULL && g->ready && g->nrunning >= g->target;
}

static void
pm_announce(void)
{
	if (!fpmd->announced && fpmd->state == FPMD_RUNNING && pm_all_ready()) {
		fpmd->announced = true;
		log_notice("ready to handle connections");
	}
}

static void
gen_drain(struct gen *g)
{
	struct pool *p = g->pool;

	if (g->draining)
		return;
	g->draining = true;
	g->respawn_at = 0;
	g->restart_at = 0;
	if (p->cur == g)
		p->cur = NULL;
	if (p->next_gen == g)
		p->next_gen = NULL;
	g->next = p->old;
	p->old = g;
	if (g->proto_pid == 0)
		return;		/* nothing to wait for: pm_collect() frees it */
	if (gen_send(g, PMSG_QUIT, -1, 0, 0) == -1)
		kill(g->proto_pid, SIGQUIT);
	/* Requests in hand get process_control_timeout to finish. */
	if (g->conf->process_control_timeout > 0)
		g->drain_term_at = now_ms() +
		    (int64_t)g->conf->process_control_timeout * 1000;
}

/* A draining generation past its time: QUIT, then TERM, then KILL. */
static void
gen_escalate(struct gen *g, int64_t now)
{
	if (g->proto_pid == 0)
		return;
	if (g->drain_term_at != 0 && now >= g->drain_term_at) {
		log_warnx("[pool %s] generation %d still has requests after "
		    "process_control_timeout (%ds): terminating them",
		    g->pool->name, g->num, g->conf->process_control_timeout);
		g->drain_term_at = 0;
		g->drain_kill_at = now + 2000;
		gen_stop(g, false);
	}
	if (g->drain_kill_at != 0 && now >= g->drain_kill_at) {
		log_warnx("[pool %s] generation %d still there: SIGKILL to its "
		    "prototype %d", g->pool->name, g->num, (int)g->proto_pid);
		g->drain_kill_at = 0;
		kill(g->proto_pid, SIGKILL);
	}
}

static void
worker_exited(struct gen *g, int slot, pid_t pid, int status)
{
	struct pool *p = g->pool;
	struct mslot *ms;
	int64_t lived, delay;
	bool asked;
	int sig;

	if (slot < 0 || (uint32_t)slot >= fpmd->sb->nslots ||
	    fpmd->slots[slot].gen != g)
		return;
	ms = &fpmd->slots[slot];
	lived = now_ms() - ms->started;
	asked = ms->quitting || g->draining || fpmd->state != FPMD_RUNNING;
	if (ms->quitting)
		g->nquitting--;
	if (pid > 0)
		g->nrunning--;
	g->nworkers--;
	slot_free(slot);
	/* ondemand: the next connection brings a worker back, not its exit */
	if (g->pc->pm == PM_ONDEMAND &&
	    g->target > g->nworkers - g->nquitting)
		g->target = g->nworkers - g->nquitting;
	if (pid <= 0) {
		g->fail_streak++;	/* the prototype could not fork */
	} else if (WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
		if (!asked || (sig != SIGTERM && sig != SIGQUIT))
			log_warnx("[pool %s] child %d exited on signal %d "
			    "(%s%s) after %.3f seconds from start", p->name,
			    (int)pid, sig, strsignal(sig),
			    WCOREDUMP(status) ? " - core dumped" : "",
			    (double)lived / 1000.0);
		g->fail_streak = !asked && lived < PM_QUICK_DEATH ?
		    g->fail_streak + 1 : 0;
	} else if (WEXITSTATUS(status) != 0) {
		log_warnx("[pool %s] child %d exited with code %d after %.3f "
		    "seconds from start", p->name, (int)pid,
		    WEXITSTATUS(status), (double)lived / 1000.0);
		g->fail_streak = lived < PM_QUICK_DEATH ? g->fail_streak + 1 :
		    0;
	} else {
		log_debug("[pool %s] child %d exited with code 0 after %.3f "
		    "seconds from start", p->name, (int)pid,
		    (double)lived / 1000.0);
		g->fail_streak = 0;
	}
	if (g->fail_streak > 0 && fpmd->state == FPMD_RUNNING &&
	    !g->draining) {
		delay = PM_BACKOFF_MIN << (g->fail_streak > 7 ? 7 :
		    g->fail_streak - 1);
		if (delay > PM_BACKOFF_MAX)
			delay = PM_BACKOFF_MAX;
		if (g->respawn_at == 0)
			log_warnx("[pool %s] workers are failing; next start "
			    "in %lld ms", p->name, (long long)delay);
		g->respawn_at = now_ms() + delay;
		return;
	}
	pm_maintain(g);
}

static void
gen_on_ctl(struct ev *e, uint32_t events)
{
	struct gen *g = e->arg;
	struct proto_msg m;
	ssize_t n;

	n = recv(g->ctl_fd, &m, sizeof(m), MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* The prototype is gone; SIGCHLD tells us how. */
		ev_del(&g->ev_ctl);
		close(g->ctl_fd);
		g->ctl_fd = -1;
		return;
	}
	if (n != (ssize_t)sizeof(m))
		return;
	m.text[sizeof(m.text) - 1] = '\0';
	switch (m.type) {
	case PMSG_READY:
		g->ready = true;
		g->restart_streak = 0;
		log_debug("[pool %s] gen %d: PHP %s started", g->pool->name,
		    g->num, sapi_php_version());
		pm_maintain(g);
		break;
	case PMSG_FAILED:
		log_errorx("[pool %s] cannot start PHP: %s", g->pool->name,
		    m.text);
		if (!fpmd->announced) {
			fpmd->exit_code = FPMD_EXIT_CONFIG;
			fpmd_stop(false, 0);
		} else if (fpmd->reloading && g->pool->next_gen == g) {
			char msg[600];

			snprintf(msg, sizeof(msg), "pool %s: PHP start-up "
			    "failed: %s", g->pool->name, m.text);
			pm_reload_abort("reload_failed", msg);
		}
		break;
	case PMSG_SPAWNED:
		if (m.slot >= 0 && (uint32_t)m.slot < fpmd->sb->nslots &&
		    fpmd->slots[m.slot].gen == g) {
			fpmd->slots[m.slot].pid = m.pid;
			g->nrunning++;
			if (g->draining || fpmd->slots[m.slot].quitting)
				gen_send(g, PMSG_KILL, m.slot, m.pid, SIGQUIT);
		}
		break;
	case PMSG_EXITED:
		worker_exited(g, m.slot, m.pid, m.status);
		break;
	default:
		log_warnx("[pool %s] unknown message %u from the prototype",
		    g->pool->name, m.type);
		break;
	}
	pm_announce();
	reload_check();
}

static void
pool_on_log(struct ev *e, uint32_t events)
{
	static char buf[256 * 1024];
	struct pool *p = e->arg;
	ssize_t n, w;
	size_t off;

	for (;;) {
		n = recv(p->log_rfd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			return;
		/* Children format whole lines; we only write them. */
		off = 0;
		while (off < (size_t)n) {
			w = write(log_get_fd(), buf + off, (size_t)n - off);
			if (w <= 0) {
				if (w == -1 && errno == EINTR)
					continue;
				break;
			}
			off += (size_t)w;
		}
	}
}

static bool
pool_decorate(const struct pool *p)
{
	const struct gen *g = p->cur ? p->cur : p->old;

	return g == NULL || g->pc->decorate_workers_output;
}

static void
out_line(struct pool *p, const char *stream, pid_t pid, const char *s,
    size_t len)
{
	char *line;
	int n;

	if (!pool_decorate(p)) {
		if ((line = malloc(len + 1)) == NULL)
			return;
		memcpy(line, s, len);
		line[len] = '\n';
		if (write(log_get_fd(), line, len + 1) == -1)
			(void)0;
		free(line);
		return;
	}
	n = asprintf(&line, "[pool %s] child %d said into %s: \"%.*s\"",
	    p->name, (int)pid, stream, (int)len, s);
	if (n < 0)
		return;
	log_raw(LOG_LVL_WARNING, line, (size_t)n);
	free(line);
}

static void
pool_on_out(struct ev *e, uint32_t events)
{
	static char buf[256 * 1024];
	char cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct pool *p = e->arg;
	const char *stream = e == &p->ev_out ? "stdout" : "stderr";
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *c;
	struct ucred cred;
	char *s, *nl, *end;
	ssize_t n;

	for (;;) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		n = recvmsg(e->fd, &mh, MSG_DONTWAIT);
		if (n <= 0)
			return;
		cred.pid = 0;
		for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_CREDENTIALS)
				memcpy(&cred, CMSG_DATA(c), sizeof(cred));
		/* One line per newline; a write without one is a line too. */
		s = buf;
		end = buf + n;
		while (s < end) {
			nl = memchr(s, '\n', (size_t)(end - s));
			if (nl == NULL)
				nl = end;
			out_line(p, stream, cred.pid, s, (size_t)(nl - s));
			s = nl + 1;
		}
	}
}

int
pm_start(struct fpmd_conf *conf)
{
	struct pool *p;
	struct gen *g;
	size_t k;

	fpmd->generation = 1;
	conf_ref(conf);		/* the serving configuration */
	for (k = 0; k < conf->npools; k++) {
		if ((p = pool_new(conf->pools[k].name)) == NULL ||
		    (g = gen_new(p, conf, &conf->pools[k])) == NULL)
			return -1;
		p->cur = g;
	}
	for (p = fpmd->pools; p != NULL; p = p->link) {
		if (gen_proto_start(p->cur) == -1)
			return -1;
		ondemand_watch(p->cur);
	}
	return 0;
}

static void
gen_stop(struct gen *g, bool graceful)
{
	if (g == NULL || g->proto_pid == 0)
		return;
	if (gen_send(g, graceful ? PMSG_QUIT : PMSG_TERM, -1, 0, 0) == -1)
		kill(g->proto_pid, graceful ? SIGQUIT : SIGTERM);
}

void
pm_stop_all(bool graceful)
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

void
pm_kill_protos(void)
{
	struct pool *p;
	struct gen *g;

	for (p = fpmd->pools; p != NULL; p = p->link) {
		struct gen *gens[2] = { p->cur, p->next_gen };
		int i;

		for (i = 0; i < 2; i++)
			if (gens[i] != NULL && gens[i]->proto_pid != 0) {
				log_warnx("[pool %s] prototype %d still there: "
				    "SIGKILL", p->name,
				    (int)gens[i]->proto_pid);
				kill(gens[i]->proto_pid, SIGKILL);
			}
		for (g = p->old; g != NULL; g = g->next)
			if (g->proto_pid != 0)
				kill(g->proto_pid, SIGKILL);
	}
}

void
pm_close_all(void)
{
	struct pool *p;
	struct gen *g;

	while ((p = fpmd->pools) != NULL) {
		if (p->cur != NULL)
			gen_free(p->cur);
		if (p->next_gen != NULL)
			gen_free(p->next_gen);
		while ((g = p->old) != NULL) {
			p->old = g->next;
			gen_free(g);
		}
		pool_free(p);
	}
}

static struct gen *
gen_by_pid(pid_t pid)
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

void
pm_proto_exited(pid_t pid, int status)
{
	struct gen *g;
	struct pool *p;
	uint32_t i;
	int64_t delay;

	if (pid <= 0 || (g = gen_by_pid(pid)) == NULL) {
		pm_collect();
		return;
	}
	p = g->pool;
	g->proto_pid = 0;
	g->ready = false;
	if (g->ctl_fd != -1) {
		ev_del(&g->ev_ctl);
		close(g->ctl_fd);
		g->ctl_fd = -1;
	}
	/* Its workers died with it (PR_SET_PDEATHSIG). */
	for (i = 0; i < fpmd->sb->nslots; i++)
		if (fpmd->slots[i].gen == g)
			slot_free((int)i);
	g->nworkers = g->nrunning = g->nquitting = 0;
	if (g->draining || fpmd->state != FPMD_RUNNING) {
		pm_collect();
		return;
	}
	if (p->next_gen == g) {
		char msg[256];

		snprintf(msg, sizeof(msg), "pool %s: the new prototype %s %d "
		    "during start-up", p->name, WIFSIGNALED(status) ?
		    "died on signal" : "exited with code", WIFSIGNALED(status) ?
		    WTERMSIG(status) : WEXITSTATUS(status));
		pm_reload_abort("reload_failed", msg);
		return;
	}
	if (!fpmd->announced) {
		/* It never got going: retrying will not help. */
		log_errorx("[pool %s] prototype %d %s %d before the pool was "
		    "ready; fpmd stops", p->name, (int)pid,
		    WIFSIGNALED(status) ? "died on signal" : "exited with code",
		    WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status));
		if (fpmd->exit_code == 0)
			fpmd->exit_code = FPMD_EXIT_CONFIG;
		fpmd_stop(false, 0);
		return;
	}
	if (WIFSIGNALED(status))
		log_errorx("[pool %s] prototype %d died on signal %d (%s); "
		    "restarting the pool", p->name, (int)pid,
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		log_errorx("[pool %s] prototype %d exited with code %d; "
		    "restarting the pool", p->name, (int)pid,
		    WEXITSTATUS(status));
	g->restart_streak++;
	delay = PM_BACKOFF_MIN << (g->restart_streak > 7 ? 7 :
	    g->restart_streak - 1);
	g->restart_at = now_ms() + (delay > PM_BACKOFF_MAX ? PM_BACKOFF_MAX :
	    delay);
}

void
pm_tick(void)
{
	int64_t now = now_ms();
	struct pool *p;
	struct gen *g;

	if (fpmd->state != FPMD_RUNNING)
		return;
	for (p = fpmd->pools; p != NULL; p = p->link) {
		for (g = p->old; g != NULL; g = g->next)
			gen_escalate(g, now);
		if ((g = p->cur) == NULL)
			continue;
		if (g->respawn_at != 0 && now >= g->respawn_at) {
			g->respawn_at = 0;
			pm_maintain(g);
		}
		if (g->proto_pid == 0 && g->restart_at != 0 &&
		    now >= g->restart_at) {
			g->restart_at = 0;
			if (gen_proto_start(g) == -1)
				g->restart_at = now + PM_BACKOFF_MAX;
		}
	}
}

int
pm_next_timeout(void)
{
	int64_t now = now_ms(), next = -1, t;
	struct pool *p;

	for (p = fpmd->pools; p != NULL; p = p->link) {
		struct gen *g;

		for (g = p->old; g != NULL; g = g->next) {
			if (g->drain_term_at != 0 &&
			    (next == -1 || g->drain_term_at < next))
				next = g->drain_term_at;
			if (g->drain_kill_at != 0 &&
			    (next == -1 || g->drain_kill_at < next))
				next = g->drain_kill_at;
		}
		if (p->cur == NULL)
			continue;
		t = p->cur->respawn_at;
		if (t != 0 && (next == -1 || t < next))
			next = t;
		t = p->cur->restart_at;
		if (t != 0 && (next == -1 || t < next))
			next = t;
	}
	if (fpmd->escalate_at != 0 && (next == -1 || fpmd->escalate_at < next))
		next = fpmd->escalate_at;
	if (fpmd->kill_at != 0 && (next == -1 || fpmd->kill_at < next))
		next = fpmd->kill_at;
	t = control_next_timeout();
	if (t != 0 && (next == -1 || t < next))
		next = t;
	/* once a second: listen queue and busy samples */
	t = now + 1000 - now % 1000;
	if (next == -1 || t < next)
		next = t;
	return next <= now ? 0 : (int)(next - now);
}

bool
pm_all_ready(void)
{
	struct pool *p;

	for (p = fpmd->pools; p != NULL; p = p->link)
		if (!p->removed && !gen_serving(p->cur))
			return false;
	return true;
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

/* Reload */

int
pm_reload(struct fpmd_conf *conf, char *err, size_t errlen)
{
	const struct pool_conf *pc;
	struct pool *p;
	struct gen *g;
	size_t k;

	fpmd->generation++;
	fpmd->reload_conf = conf;
	fpmd->reload_started = now_ms();
	fpmd->reloading = true;
	conf_ref(conf);		/* the reload's, until it commits or fails */
	for (k = 0; k < conf->npools; k++) {
		pc = &conf->pools[k];
		if ((p = pm_pool_find(pc->name)) == NULL) {
			if ((p = pool_new(pc->name)) == NULL) {
				snprintf(err, errlen, "pool %s: cannot create "
				    "it (see the log)", pc->name);
				goto fail;
			}
			p->added = true;
		}
		if ((g = gen_new(p, conf, pc)) == NULL) {
			snprintf(err, errlen, "pool %s: cannot listen on '%s' "
			    "(see the log)", pc->name, pc->addr.text);
			goto fail;
		}
		p->next_gen = g;
		if (gen_proto_start(g) == -1) {
			snprintf(err, errlen, "pool %s: cannot start its "
			    "prototype (see the log)", pc->name);
			goto fail;
		}
	}
	log_notice("reloading: generation %d starting", fpmd->generation);
	reload_check();
	return 0;
fail:
	log_errorx("reload failed: %s", err);
	pm_reload_abort(NULL, NULL);
	return -1;
}

/*
 * Drops the generations a reload started; the serving ones stay.  code is
 * NULL when the caller answers the client itself.
 */
void
pm_reload_abort(const char *code, const char *message)
{
	struct fpmd_conf *conf = fpmd->reload_conf;
	struct pool *p;
	struct gen *g;

	if (!fpmd->reloading)
		return;
	fpmd->reloading = false;
	fpmd->reload_conf = NULL;
	fpmd->generation--;	/* the number goes to the next reload */
	for (p = fpmd->pools; p != NULL; p = p->link) {
		if ((g = p->next_gen) != NULL) {
			p->next_gen = NULL;
			if (g->proto_pid != 0) {
				g->draining = true;
				g->next = p->old;
				p->old = g;
				gen_stop(g, false);
			} else
				gen_free(g);
		}
		if (p->added) {
			p->added = false;
			p->removed = true;
		}
	}
	if (message != NULL)
		log_errorx("reload failed, generation %d keeps serving: %s",
		    fpmd->generation, message);
	if (code != NULL)
		control_reload_done(false, code, message);
	pm_conf_unref(conf);	/* the reload's reference */
	pm_collect();
}

/* Once every new generation serves, the old ones drain. */
static void
reload_check(void)
{
	struct fpmd_conf *old = fpmd->conf;
	struct pool *p;
	bool keep;
	size_t k;

	if (!fpmd->reloading)
		return;
	for (p = fpmd->pools; p != NULL; p = p->link)
		if (p->next_gen != NULL && !gen_serving(p->next_gen))
			return;
	for (p = fpmd->pools; p != NULL; p = p->link) {
		p->added = false;
		if (p->next_gen != NULL) {
			if (p->cur != NULL)
				gen_drain(p->cur);
			p->cur = p->next_gen;
			p->next_gen = NULL;
			p->cur->ls->pool = p;
			ondemand_watch(p->cur);
			continue;
		}
		keep = false;
		for (k = 0; k < fpmd->reload_conf->npools; k++)
			if (strcmp(fpmd->reload_conf->pools[k].name, p->name)
			    == 0)
				keep = true;
		if (!keep && !p->removed) {
			log_notice("[pool %s] not in the new configuration: "
			    "draining", p->name);
			p->removed = true;
			if (p->cur != NULL)
				gen_drain(p->cur);
		}
	}
	/* The reload's reference becomes the serving one. */
	fpmd->conf = fpmd->reload_conf;
	fpmd->reload_conf = NULL;
	fpmd->reloading = false;
	log_notice("reloaded: generation %d serves (%lld ms)",
	    fpmd->generation, (long long)(now_ms() - fpmd->reload_started));
	control_reload_done(true, NULL, NULL);
	pm_conf_unref(old);
	pm_collect();
}

/* pm.max_children at run time: static pools follow it at once. */
static void
gen_resize(struct gen *g, int n)
{
	g->max = n;
	if (g->pc->pm == PM_STATIC || g->target > n)
		g->target = n;
	pm_maintain(g);
}

/*
 * pm = dynamic, once a second, as php-fpm does it: more idle workers than
 * pm.max_spare_servers lose one; fewer than pm.min_spare_servers get a
 * burst that doubles each second up to pm.max_spawn_rate, never past
 * pm.max_children (reaching it is counted once per episode).
 */
static void
pm_dynamic(struct gen *g)
{
	const struct pool_conf *pc = g->pc;
	struct sb_pool *sp = &fpmd->sb->pools[g->pool->index];
	uint32_t i;
	int idle = 0, total = g->nworkers - g->nquitting, n;

	if (!g->ready || g->draining || g->respawn_at != 0 ||
	    g->nrunning < g->nworkers)
		return;		/* settle first */
	for (i = 0; i < fpmd->sb->nslots; i++)
		if (fpmd->slots[i].gen == g && !fpmd->slots[i].quitting &&
		    fpmd->sb->slots[i].state == SLOT_IDLE)
			idle++;
	if (idle > pc->max_spare_servers) {
		g->target = total - 1;
		g->spawn_rate = 1;
	} else if (idle < pc->min_spare_servers) {
		if (total >= g->max) {
			if (!g->max_warned) {
				g->max_warned = true;
				sp->max_children_reached++;
				log_warnx("[pool %s] server reached "
				    "pm.max_children setting (%d), consider "
				    "raising it", g->pool->name, g->max);
			}
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
	pm_maintain(g);
}

int
pm_scale(const char *name, int n, int *previous, char *err, size_t errlen)
{
	struct pool *p;
	struct gen *g;
	uint32_t used = 0, i;

	if ((p = pm_pool_find(name)) == NULL || (g = p->cur) == NULL) {
		snprintf(err, errlen, "no pool named '%s'", name);
		return -1;
	}
	for (i = 0; i < fpmd->sb->nslots; i++)
		if (fpmd->slots[i].gen != NULL && fpmd->slots[i].gen != g)
			used++;
	if (n < 1 || (uint32_t)n + used > fpmd->sb->nslots) {
		snprintf(err, errlen, "max_children must be between 1 and %u "
		    "(the scoreboard's free slots; see process.max)",
		    fpmd->sb->nslots - used);
		return -2;
	}
	if (fpmd->conf->process_max > 0) {
		/* process.max caps the serving workers of all pools */
		struct pool *q;
		int others = 0;

		for (q = fpmd->pools; q != NULL; q = q->link)
			if (q != p && q->cur != NULL && !q->removed)
				others += q->cur->max;
		if (others + n > fpmd->conf->process_max) {
			snprintf(err, errlen, "max_children %d would make %d "
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

/*
 * request_terminate_timeout: a request running longer loses its worker
 * (SIGTERM), as php-fpm does.  fastcgi_finish_request() ends the clock.
 */
static void
pm_terminate_slow(struct gen *g)
{
	struct timespec now;
	struct sb_slot s;
	int64_t ran;
	uint32_t i;

	if (g->pc->request_terminate_timeout <= 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	for (i = 0; i < fpmd->sb->nslots; i++) {
		if (fpmd->slots[i].gen != g || fpmd->slots[i].quitting ||
		    fpmd->slots[i].pid <= 0)
			continue;
		sb_slot_read(&fpmd->sb->slots[i], &s);
		if (s.state <= SLOT_IDLE || s.state >= SLOT_FINISHING)
			continue;
		ran = (int64_t)(now.tv_sec - s.req_start.tv_sec) * 1000 +
		    (now.tv_nsec - s.req_start.tv_nsec) / 1000000;
		if (ran < (int64_t)g->pc->request_terminate_timeout * 1000)
			continue;
		s.method[sizeof(s.method) - 1] = '\0';
		s.uri[sizeof(s.uri) - 1] = '\0';
		s.script[sizeof(s.script) - 1] = '\0';
		log_warnx("[pool %s] child %d, script '%s' (request: \"%s %s\") "
		    "execution timed out (%.3f sec), terminating",
		    g->pool->name, (int)fpmd->slots[i].pid, s.script, s.method,
		    s.uri, (double)ran / 1000.0);
		if (gen_send(g, PMSG_KILL, (int)i, fpmd->slots[i].pid,
		    SIGTERM) == 0) {
			fpmd->slots[i].quitting = true;
			g->nquitting++;
		}
	}
}

/*
 * Once a second: dynamic pools adjust, slow requests are ended, and the
 * listen queue and busy workers are sampled for the maxima php-fpm reports.
 */
void
pm_sample(void)
{
	struct pool_status st;
	struct sb_pool *sp;
	struct pool *p;

	for (p = fpmd->pools; p != NULL; p = p->link) {
		if (p->cur == NULL)
			continue;
		if (p->cur->pc->pm == PM_DYNAMIC && fpmd->state == FPMD_RUNNING)
			pm_dynamic(p->cur);
		if (p->cur->pc->pm == PM_ONDEMAND && fpmd->state == FPMD_RUNNING)
			ondemand_reap(p->cur);
		pm_terminate_slow(p->cur);
		status_pool(p, &st);
		sp = &fpmd->sb->pools[p->index];
		if (st.listen_queue > sp->max_listen_queue)
			sp->max_listen_queue = st.listen_queue;
		if (st.active > sp->max_active)
			sp->max_active = st.active;
	}
}
