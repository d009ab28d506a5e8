/*
 * A worker's death, as the master takes it: the line the log gets, in
 * php-fpm's words (log watchers match them), and the count of crashes
 * behind emergency_restart_threshold and emergency_restart_interval.
 * pm.c hands every exit of a worker here and goes on with its own policy
 * (back-off, refill); when the serving generation of a pool has crashed
 * often enough, the pool is restarted through the callback fpmd.c gave
 * (reload.c's reload_pool()), so this file calls nothing above it.
 */
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fpmd.h"

static void	(*crash_restart)(struct pool *);

/* reload.c restarts a pool through this (emergency_restart_*). */
void
crash_on_restart(void (*restart)(struct pool *))
{
	crash_restart = restart;
}

/*
 * A worker's exit, logged as php-fpm does: at notice after a clean exit
 * (pm.max_requests) or SIGQUIT, at warning for any other code or signal
 * (a request may have been lost), at debug when the process manager asked
 * it to go or fpmd is stopping or retiring its generation.
 */
static void
crash_log_exit(const struct gen *g, pid_t pid, int status, int64_t lived,
    bool told)
{
	enum log_level lvl = LOG_LVL_NOTICE;
	const char *name;
	char how[96];
	int sig;

	if (WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
		name = sigabbrev_np(sig);
		snprintf(how, sizeof(how), "on signal %d (SIG%s%s)", sig,
		    name != NULL ? name : "?",
		    WCOREDUMP(status) ? " - core dumped" : "");
		if (sig != SIGQUIT)
			lvl = LOG_LVL_WARNING;
	} else {
		snprintf(how, sizeof(how), "with code %d", WEXITSTATUS(status));
		if (WEXITSTATUS(status) != 0)
			lvl = LOG_LVL_WARNING;
	}
	if (told && lvl == LOG_LVL_NOTICE) {
		log_debug("[pool %s] child %d has been killed by the process "
		    "management after %lld.%06lld seconds from start",
		    g->pool->name, (int)pid, (long long)(lived / 1000),
		    (long long)(lived % 1000) * 1000);
		return;
	}
	if (g->draining || fpmd->state != FPMD_RUNNING)
		lvl = LOG_LVL_DEBUG;
	log_msg(lvl, "[pool %s] child %d exited %s after %lld.%06lld seconds "
	    "from start", g->pool->name, (int)pid, how,
	    (long long)(lived / 1000), (long long)(lived % 1000) * 1000);
}

/*
 * emergency_restart_threshold deaths by SIGSEGV or SIGBUS among the
 * serving generation's workers within emergency_restart_interval: the
 * pool gets a new generation — PHP started again, a fresh opcache — as a
 * reload brings one, while the other pools go on.  php-fpm reloads
 * everything; its count is the same (a ring of the last threshold times).
 */
static void
crash_count(struct pool *p)
{
	const struct fpmd_conf *conf = fpmd->conf;
	int threshold = conf->emergency_threshold;
	int64_t now = now_ms(), *ring;

	if (threshold <= 0 || conf->emergency_interval <= 0 ||
	    crash_restart == NULL)
		return;
	if (p->crash_cap != threshold) {
		/* a reload changed the threshold: count afresh */
		if ((ring = reallocarray(p->crash_at, threshold,
		    sizeof(*ring))) == NULL) {
			log_error("[pool %s] %s: reallocarray", p->name,
			    __func__);
			return;
		}
		p->crash_at = ring;
		p->crash_cap = threshold;
		p->crash_n = p->crash_next = 0;
	}
	p->crash_at[p->crash_next] = now;
	p->crash_next = (p->crash_next + 1) % threshold;
	if (p->crash_n < threshold)
		p->crash_n++;
	/* full, the next to be overwritten is the oldest */
	if (p->crash_n < threshold || now - p->crash_at[p->crash_next] >
	    (int64_t)conf->emergency_interval * 1000)
		return;
	p->crash_n = p->crash_next = 0;
	log_warnx("[pool %s] failed processes threshold (%d in %d sec) is "
	    "reached, initiating reload of the pool", p->name, threshold,
	    conf->emergency_interval);
	crash_restart(p);
}

/*
 * Worker pid of generation g exited with status after lived ms; told: the
 * process manager had asked it to go.  Only a crash of the serving
 * generation while fpmd runs counts: a draining one is on its way out.
 */
void
crash_note(struct gen *g, pid_t pid, int status, int64_t lived, bool told)
{
	struct pool *p = g->pool;

	crash_log_exit(g, pid, status, lived, told);
	if (WIFSIGNALED(status) && (WTERMSIG(status) == SIGSEGV ||
	    WTERMSIG(status) == SIGBUS) && p->cur == g && !g->draining &&
	    fpmd->state == FPMD_RUNNING)
		crash_count(p);
}

/* The pool goes: its ring with it. */
void
crash_forget(struct pool *p)
{
	free(p->crash_at);
	p->crash_at = NULL;
}
