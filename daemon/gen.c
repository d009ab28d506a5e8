/*
 * One generation of a pool: a prototype started with one configuration, and
 * the workers it forks when the master asks.  This file owns the mechanics:
 * forking the prototype, the messages to and from it, filling the
 * generation up (or down) to the target the process manager sets, holding
 * spawns back for a while, and draining with its escalation.  The policy —
 * how many workers, how long to hold back, when to restart — is pm.c's;
 * what happens here reaches it through struct gen_hooks.
 *
 * A message to the prototype is never lost: one that does not fit in the
 * socket now waits in a queue that is sent, in order, when the socket can
 * take more (EPOLLOUT).  The master never blocks on a prototype.
 *
 * The master owns the scoreboard slots: it picks a free one, asks the
 * prototype to fork a worker into it, and frees it when the prototype
 * reports the worker's exit, or when the prototype itself is gone (its
 * workers die with it: PR_SET_PDEATHSIG).
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fpmd.h"

#define GEN_RECV_BUDGET	256	/* messages read per round */
#define GEN_SLOT_RETRY	1000	/* ms, when the scoreboard is full */
#define GEN_KILL_AFTER	2000	/* ms from TERM to KILL when draining */

struct gen_msg {
	struct gen_msg		*next;
	size_t			 len;
	struct proto_msg	 m;
};

static const struct gen_hooks	*hooks;

/*
 * A configuration is referenced by every generation started with it, and
 * by the role it plays: the serving one (fpmd->conf) and the one a reload
 * is bringing in.  It is freed with the last reference.
 */
static struct conf_ref {
	struct fpmd_conf	*conf;
	int			 refs;
	struct conf_ref		*next;
} *conf_refs;

void
gen_set_hooks(const struct gen_hooks *h)
{
	hooks = h;
}

/*
 * The first reference (the serving configuration's, or a reload's) is
 * taken where a failure can be answered; later ones only count up.
 */
int
gen_conf_ref(struct fpmd_conf *conf)
{
	struct conf_ref *r;

	for (r = conf_refs; r != NULL; r = r->next)
		if (r->conf == conf) {
			r->refs++;
			return 0;
		}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		log_error("%s: calloc", __func__);
		return -1;
	}
	r->conf = conf;
	r->refs = 1;
	r->next = conf_refs;
	conf_refs = r;
	return 0;
}

void
gen_conf_unref(struct fpmd_conf *conf)
{
	struct conf_ref **rp, *r;

	if (conf == NULL)
		return;
	for (rp = &conf_refs; (r = *rp) != NULL; rp = &r->next)
		if (r->conf == conf)
			break;
	if (r == NULL)
		return;
	if (--r->refs > 0)
		return;
	*rp = r->next;
	free(r);
	conf_free(conf);
}

struct gen *
gen_new(struct pool *p, struct fpmd_conf *conf, const struct pool_conf *pc,
    int num)
{
	struct gen *g;

	if ((g = calloc(1, sizeof(*g))) == NULL) {
		log_error("%s: calloc", __func__);
		return NULL;
	}
	if ((g->ls = listen_get(pc)) == NULL) {
		free(g);
		return NULL;
	}
	g->pool = p;
	g->conf = conf;
	gen_conf_ref(conf);
	g->pc = pc;
	g->num = num;
	g->ctl_fd = -1;
	g->outq_tail = &g->outq;
	g->max = pc->max_children;
	g->spawn_rate = 1;
	return g;
}

static void
gen_outq_drop(struct gen *g)
{
	struct gen_msg *q;

	while ((q = g->outq) != NULL) {
		g->outq = q->next;
		free(q);
	}
	g->outq_tail = &g->outq;
}

static void
gen_ctl_close(struct gen *g)
{
	if (g->ctl_fd == -1)
		return;
	ev_del(&g->ev_ctl);
	close(g->ctl_fd);
	g->ctl_fd = -1;
	gen_outq_drop(g);
}

static void
gen_free_now(void *arg)
{
	free(arg);
}

/* Only once its prototype is gone: no worker may hold a slot of it. */
void
gen_free(struct gen *g)
{
	if (g == NULL)
		return;
	ev_timer_stop(&g->t_hold);
	ev_timer_stop(&g->t_restart);
	ev_timer_stop(&g->t_drain);
	gen_ctl_close(g);
	listen_unref(g->ls);
	g->ls = NULL;
	gen_conf_unref(g->conf);
	g->conf = NULL;
	g->pc = NULL;
	ev_free_later(g, gen_free_now);
}

/* Sends what waits, in order, as far as the socket takes it. */
static int
gen_flush(struct gen *g)
{
	struct gen_msg *q;
	ssize_t n;

	while ((q = g->outq) != NULL) {
		n = send(g->ctl_fd, &q->m, q->len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == ENOBUFS))
			break;
		if (n != (ssize_t)q->len) {
			/* EPIPE: it is exiting, and SIGCHLD will say so */
			if (errno != EPIPE && errno != ECONNRESET)
				log_warn("[pool %s] message to the prototype",
				    g->pool->name);
			gen_outq_drop(g);
			return -1;
		}
		g->outq = q->next;
		if (g->outq == NULL)
			g->outq_tail = &g->outq;
		free(q);
	}
	ev_mod(&g->ev_ctl, EPOLLIN | (g->outq != NULL ? EPOLLOUT : 0));
	return 0;
}

static int
gen_send(struct gen *g, enum proto_msg_type type, int slot, pid_t pid,
    int status)
{
	struct gen_msg *q;

	if (g->ctl_fd == -1)
		return -1;
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		log_error("[pool %s] %s: calloc", g->pool->name, __func__);
		return -1;
	}
	q->len = PMSG_HDR;
	q->m.type = type;
	q->m.slot = slot;
	q->m.pid = pid;
	q->m.status = status;
	*g->outq_tail = q;
	g->outq_tail = &q->next;
	if (g->outq == q)
		return gen_flush(g);
	return 0;
}

/* Workers of g that are up: forked, and they wrote their slot. */
int
gen_up(const struct gen *g)
{
	const struct scoreboard *sb = fpmd->sb;
	uint32_t i;
	int up = 0;

	for (i = 0; i < sb->nslots; i++)
		if (sb->ms[i].gen == g && sb->ms[i].pid > 0 &&
		    __atomic_load_n(&sb->slots[i].state, __ATOMIC_RELAXED) >=
		    SLOT_IDLE)
			up++;
	return up;
}

/*
 * Serving: PHP started and every worker wanted is up and accepting, and
 * none died young lately.  Forked is not enough: a generation whose
 * workers die at start must not replace one that works.
 */
bool
gen_serving(const struct gen *g)
{
	if (g == NULL || !g->ready || g->held || g->nrunning < g->target ||
	    (g->unsettled_until != 0 && now_ms() < g->unsettled_until))
		return false;
	return gen_up(g) >= g->target;
}

static void
gen_hold_over(void *arg)
{
	struct gen *g = arg;

	g->held = false;
	gen_fill(g);
	hooks->changed(g);
}

/* No new worker for delay ms; then the generation fills up again. */
void
gen_hold(struct gen *g, int64_t delay)
{
	g->held = true;
	ev_timer_set(&g->t_hold, now_ms() + delay, gen_hold_over, g);
}

/* Brings a generation to its target number of workers, or down to it. */
void
gen_fill(struct gen *g)
{
	struct scoreboard *sb = fpmd->sb;
	struct mslot *ms;
	uint32_t i;
	int slot, excess, pass;

	if (fpmd->state != FPMD_RUNNING || !g->ready || g->draining ||
	    g->held || g->proto_pid == 0 || g->ctl_fd == -1)
		return;
	while (g->nworkers - g->nquitting < g->target) {
		if ((slot = sb_slot_alloc(sb, g, g->pool->index, g->num)) ==
		    -1) {
			log_warnx("[pool %s] no free scoreboard slot for "
			    "generation %d (%d of %d workers): trying again",
			    g->pool->name, g->num, g->nworkers, g->target);
			gen_hold(g, GEN_SLOT_RETRY);
			return;
		}
		if (gen_send(g, PMSG_SPAWN, slot, 0, 0) == -1) {
			sb_slot_free(sb, slot);
			return;
		}
		g->nworkers++;
	}
	/* Fewer wanted: idle workers go first, then any, gracefully. */
	excess = g->nworkers - g->nquitting - g->target;
	for (pass = 0; pass < 2 && excess > 0; pass++) {
		for (i = 0; i < sb->nslots && excess > 0; i++) {
			ms = &sb->ms[i];
			if (ms->gen != g || ms->quitting || ms->pid <= 0)
				continue;
			if (pass == 0 && sb->slots[i].state != SLOT_IDLE)
				continue;
			if (gen_kill_worker(g, (int)i, SIGQUIT) == -1)
				return;
			excess--;
		}
	}
}

/* Asks the prototype to signal one of its workers; it will be gone. */
int
gen_kill_worker(struct gen *g, int slot, int sig)
{
	struct mslot *ms = &fpmd->sb->ms[slot];

	if (ms->gen != g || ms->pid <= 0)
		return -1;
	if (gen_send(g, PMSG_KILL, slot, ms->pid, sig) == -1)
		return -1;
	if (!ms->quitting) {
		ms->quitting = true;
		g->nquitting++;
	}
	return 0;
}

static void
gen_worker_exited(struct gen *g, int slot, pid_t pid, int status)
{
	struct scoreboard *sb = fpmd->sb;
	struct mslot *ms;
	int64_t lived;
	bool told;

	if (slot < 0 || (uint32_t)slot >= sb->nslots ||
	    sb->ms[slot].gen != g)
		return;
	ms = &sb->ms[slot];
	lived = now_ms() - ms->started;
	told = ms->quitting;
	if (ms->quitting)
		g->nquitting--;
	if (ms->pid > 0)
		g->nrunning--;
	g->nworkers--;
	sb_slot_free(sb, slot);
	hooks->worker_exited(g, slot, pid, status, lived, told);
}

static void
gen_message(struct gen *g, struct proto_msg *m, size_t len)
{
	struct scoreboard *sb = fpmd->sb;
	struct mslot *ms;

	switch (m->type) {
	case PMSG_READY:
		g->ready = true;
		g->restart_streak = 0;
		log_debug("[pool %s] gen %d: PHP started, prototype %d",
		    g->pool->name, g->num, (int)g->proto_pid);
		hooks->ready(g);
		break;
	case PMSG_FAILED:
		len -= PMSG_HDR;
		m->text[len < sizeof(m->text) ? len : sizeof(m->text) - 1] =
		    '\0';
		hooks->failed(g, m->text);
		break;
	case PMSG_SPAWNED:
		if (m->slot < 0 || (uint32_t)m->slot >= sb->nslots ||
		    sb->ms[m->slot].gen != g || m->pid <= 0)
			break;
		ms = &sb->ms[m->slot];
		ms->pid = m->pid;
		g->nrunning++;
		hooks->spawned(g, m->slot, m->pid);
		if (g->draining || ms->quitting)
			gen_send(g, PMSG_KILL, m->slot, m->pid,
			    g->drain_step > 0 ? SIGTERM : SIGQUIT);
		else if (g->nworkers - g->nquitting > g->target)
			gen_fill(g);	/* scaled down while it was forked */
		break;
	case PMSG_EXITED:
		gen_worker_exited(g, m->slot, m->pid, m->status);
		break;
	case PMSG_QUITTING:
		g->quit_told = true;
		break;
	default:
		log_warnx("[pool %s] unknown message %u from the prototype",
		    g->pool->name, m->type);
		break;
	}
}

static void
gen_on_ctl(struct ev *e, uint32_t events)
{
	struct gen *g = e->arg;
	struct proto_msg m;
	ssize_t n;
	int i;

	if ((events & EPOLLOUT) && gen_flush(g) == -1)
		return;
	for (i = 0; i < GEN_RECV_BUDGET && g->ctl_fd != -1; i++) {
		n = recv(g->ctl_fd, &m, sizeof(m), MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n <= 0) {
			/* The prototype is gone; SIGCHLD tells us how. */
			gen_ctl_close(g);
			break;
		}
		if ((size_t)n < PMSG_HDR)
			continue;
		gen_message(g, &m, (size_t)n);
	}
	if (g->pc != NULL)
		hooks->changed(g);
}

/* In the new child: keep only what the prototype needs. */
static void
gen_fds_only(int *keep, int n)
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

/* Forks the prototype; it tells us READY or FAILED once PHP has started. */
int
gen_start(struct gen *g)
{
	struct pool *p = g->pool;
	struct proto_args pa;
	int fds[2], keep[7];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == -1) {
		log_error("[pool %s] socketpair", p->name);
		return -1;
	}
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
		keep[2] = p->relay.log_wfd;
		keep[3] = p->relay.out_wfd;
		keep[4] = p->relay.err_wfd;
		keep[5] = p->relay.acc_wfd;
		keep[6] = p->relay.slow_wfd;
		gen_fds_only(keep, 7);
		memset(&pa, 0, sizeof(pa));
		pa.conf = g->conf;
		pa.pc = g->pc;
		pa.pool_index = p->index;
		pa.gen = g->num;
		pa.listen_fd = g->ls->fd;
		pa.ctl_fd = fds[1];
		pa.log_fd = p->relay.log_wfd;
		pa.out_fd = g->pc->catch_workers_output ? p->relay.out_wfd : -1;
		pa.err_fd = g->pc->catch_workers_output ? p->relay.err_wfd : -1;
		pa.access_fd = p->relay.acc_wfd;
		pa.slowlog_fd = p->relay.slow_wfd;
		pa.sb = fpmd->sb;
		pa.master = getppid();
		proto_main(&pa);
	}
	close(fds[1]);
	g->ctl_fd = fds[0];
	g->proto_pid = pid;
	if (ev_add(&g->ev_ctl, g->ctl_fd, EPOLLIN, gen_on_ctl, g) == -1) {
		/* Without its messages it is no use: reaped as any exit. */
		kill(pid, SIGKILL);
		close(g->ctl_fd);
		g->ctl_fd = -1;
		return 0;
	}
	log_debug("[pool %s] prototype gen %d started, pid %d", p->name,
	    g->num, (int)pid);
	return 0;
}

static void
gen_restart_now(void *arg)
{
	struct gen *g = arg;

	if (g->proto_pid != 0 || g->draining || fpmd->state != FPMD_RUNNING)
		return;
	if (gen_start(g) == -1)
		gen_restart_later(g, 10000);
}

void
gen_restart_later(struct gen *g, int64_t delay)
{
	ev_timer_set(&g->t_restart, now_ms() + delay, gen_restart_now, g);
}

/* A draining generation past its time: TERM, then KILL its prototype. */
static void
gen_drain_step(void *arg)
{
	struct gen *g = arg;

	if (g->proto_pid == 0)
		return;
	if (g->drain_step == 0) {
		log_warnx("[pool %s] generation %d still has requests after "
		    "process_control_timeout (%ds): terminating them",
		    g->pool->name, g->num, g->conf->process_control_timeout);
		g->drain_step = 1;
		gen_stop(g, false);
		ev_timer_set(&g->t_drain, now_ms() + GEN_KILL_AFTER,
		    gen_drain_step, g);
	} else {
		log_warnx("[pool %s] generation %d still there: SIGKILL to its "
		    "prototype %d", g->pool->name, g->num, (int)g->proto_pid);
		g->drain_step = 2;
		kill(g->proto_pid, SIGKILL);
	}
}

/*
 * The workers finish the request in hand and exit, then the prototype;
 * after timeout seconds (0: no limit) the rest is terminated.
 */
void
gen_drain(struct gen *g, int timeout)
{
	if (g->draining)
		return;
	g->draining = true;
	g->held = false;
	ev_timer_stop(&g->t_hold);
	ev_timer_stop(&g->t_restart);
	if (g->proto_pid == 0)
		return;
	gen_stop(g, true);
	if (timeout > 0)
		ev_timer_set(&g->t_drain, now_ms() + (int64_t)timeout * 1000,
		    gen_drain_step, g);
}

/*
 * A generation that is not wanted after all (a reload that failed): its
 * workers are terminated at once, and its prototype killed if still there
 * shortly after, even when it is stuck in PHP's start-up and reads no
 * message.
 */
void
gen_abandon(struct gen *g)
{
	if (g->draining)
		return;
	g->draining = true;
	g->held = false;
	g->drain_step = 1;
	ev_timer_stop(&g->t_hold);
	ev_timer_stop(&g->t_restart);
	if (g->proto_pid == 0)
		return;
	gen_stop(g, false);
	if (!g->ready)
		kill(g->proto_pid, SIGTERM);
	ev_timer_set(&g->t_drain, now_ms() + GEN_KILL_AFTER, gen_drain_step,
	    g);
}

void
gen_stop(struct gen *g, bool graceful)
{
	if (g == NULL || g->proto_pid == 0)
		return;
	if (gen_send(g, graceful ? PMSG_QUIT : PMSG_TERM, -1, 0, 0) == -1)
		kill(g->proto_pid, graceful ? SIGQUIT : SIGTERM);
}

void
gen_kill(struct gen *g)
{
	if (g != NULL && g->proto_pid != 0)
		kill(g->proto_pid, SIGKILL);
}

/* Its prototype was reaped; its workers died with it. */
void
gen_proto_exited(struct gen *g, int status)
{
	struct scoreboard *sb = fpmd->sb;
	uint32_t i;

	g->proto_pid = 0;
	g->ready = false;
	g->held = false;
	ev_timer_stop(&g->t_hold);
	ev_timer_stop(&g->t_drain);
	gen_ctl_close(g);
	for (i = 0; i < sb->nslots; i++)
		if (sb->ms[i].gen == g)
			sb_slot_free(sb, (int)i);
	g->nworkers = g->nrunning = g->nquitting = 0;
	hooks->proto_exited(g, status);
}
