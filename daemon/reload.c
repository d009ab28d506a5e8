/*
 * The reload: read the configuration again, check all of it, start a new
 * generation of every pool beside the serving one, and swap once every new
 * generation serves.  Nothing changes until then: a configuration with an
 * error is refused whole, and a generation that cannot start (PHP start-up
 * fails, its prototype dies, its workers die at start) is dropped while the
 * old one goes on serving.
 *
 * A reload always ends, and the next one is accepted: it succeeds, fails,
 * or gives up at reload_timeout with the reason (how far the new
 * generation got).  Whoever asked hears the outcome once, through the
 * callback given to reload_start().
 *
 * A reload asked while another is under way is not refused: as php-fpm
 * restarts twice on two SIGUSR2, it follows the one under way, reading
 * the configuration when it begins, and all those asked meanwhile are
 * that one reload.  Those who asked hear its outcome.  One at a time, not
 * side by side: a new generation is never dropped half started, and the
 * old ones of both drain together within the scoreboard's slots.
 *
 * The emergency restart of one pool (emergency_restart_threshold crashes,
 * counted by crash.c) is the same machine run for that pool alone with the
 * serving configuration: a new generation beside the old one, swapped
 * once it serves, so no request is lost.  One reload runs at a time: a
 * pool's restart asked during another waits for its end, and a reload of
 * the whole configuration takes the place of a pool's restart under way
 * (it brings that pool a new generation too).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fpmd.h"

#define RELOAD_QUIET_MAX	2000	/* ms for the old workers to be told */

/* Someone who waits for the outcome of a reload. */
struct reload_waiter {
	void			(*done)(void *, const struct reload_result *);
	void			*arg;
	struct reload_waiter	*next;
};

static struct {
	bool		 active;
	bool		 committed;	/* swapped; the old ones are told */
	struct pool	*pool;		/* the one restarted, NULL: all */
	struct fpmd_conf *conf;		/* holds a reference while active */
	int64_t		 started;
	struct ev_timer	 t_deadline;
	struct ev_timer	 t_pending;	/* a pool's restart that waited */
	struct reload_waiter *waiters;	/* of the reload under way */
	bool		 again;		/* one more asked meanwhile */
	struct reload_waiter *again_waiters;
	struct ev_timer	 t_again;
	void		(*apply)(const struct fpmd_conf *,
			    const struct fpmd_conf *);
	void		(*progress)(const struct reload_result *);
} rl;

static void	reload_watch(const char *, const char *);
static void	reload_deadline(void *);
static void	reload_done_ok(void);
static void	reload_pending(void *);
static void	reload_again(void *);

/*
 * A log file the master opens for appending: error_log, and each pool's
 * access.log and slowlog (the master writes those too, as the user fpmd
 * runs as).  An existing file must open so; a new one needs a directory
 * it may create it in.  Checked before anything changes, so that a
 * reload does not say "reloaded" while the pool keeps its old file, and
 * -t finds what the start would fail on.  Nothing is created here; what
 * is not a regular file (/dev/stdout, a FIFO) is left to the open itself.
 */
static int
reload_log_check(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *tmp, *dir;
	int fd, rc = -1;

	if (path == NULL || strcmp(path, "stderr") == 0)
		return 0;
	if (stat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			return 0;
		if ((fd = open(path, O_WRONLY | O_APPEND | O_NOCTTY |
		    O_CLOEXEC)) == -1) {
			snprintf(err, errlen, "cannot be opened for appending: "
			    "%s", strerror(errno));
			return -1;
		}
		close(fd);
		return 0;
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if ((tmp = strdup(path)) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	dir = dirname(tmp);
	if (stat(dir, &st) == -1)
		snprintf(err, errlen, "cannot be created: its directory '%s': "
		    "%s (create it first)", dir, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		snprintf(err, errlen, "cannot be created: '%s' is not a "
		    "directory", dir);
	else if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) == -1)
		snprintf(err, errlen, "cannot be created in '%s': %s", dir,
		    strerror(errno));
	else
		rc = 0;
	free(tmp);
	return rc;
}

/* The log files of conf that cannot be opened, one error line each. */
static int
reload_logs_check(const struct fpmd_conf *conf, char **errors)
{
	const struct pool_conf *pc;
	const char *what, *path;
	char err[PATH_MAX + 256], *line, *all = NULL;
	size_t k;
	int i, rc = 0;

	if (!conf->log_syslog && reload_log_check(conf->error_log, err,
	    sizeof(err)) == -1) {
		if (asprintf(&all, "%s: error_log '%s' %s\n", conf->file,
		    conf->error_log, err) == -1)
			all = NULL;
		rc = -1;
	}
	for (k = 0; k < conf->npools; k++) {
		pc = &conf->pools[k];
		for (i = 0; i < 2; i++) {
			what = i == 0 ? "access.log" : "slowlog";
			path = i == 0 ? pc->access_log : pc->slowlog;
			if (reload_log_check(path, err, sizeof(err)) == 0)
				continue;
			rc = -1;
			if (asprintf(&line, "%s%s:%d: pool %s: %s '%s' %s\n",
			    all != NULL ? all : "", pc->file, pc->line,
			    pc->name, what, path, err) == -1)
				continue;
			free(all);
			all = line;
		}
	}
	*errors = all;
	return rc;
}

/* What the daemon cannot do with a config conf_load() accepts. */
static int
reload_conf_check(const struct fpmd_conf *conf, char **errors)
{
	struct pool_conf *pc;
	char change[512], err[1024];
	size_t k;
	long total = 0;

	for (k = 0; k < conf->npools; k++)
		total += conf->pools[k].max_children;
	/* the master's label, which the workers inherit, decides it */
	for (k = 0; k < conf->npools; k++) {
		pc = &conf->pools[k];
		if (pc->apparmor_hat == NULL)
			continue;
		if (apparmor_check(pc->apparmor_hat, change, sizeof(change),
		    err, sizeof(err)) == -1) {
			if (asprintf(errors, "%s:%d: pool %s: %s\n", pc->file,
			    pc->line, pc->name, err) == -1)
				*errors = NULL;
			return -1;
		}
		free(pc->apparmor_change);
		if ((pc->apparmor_change = strdup(change)) == NULL) {
			*errors = NULL;
			return -1;
		}
	}
	if (reload_logs_check(conf, errors) == -1)
		return -1;
	if (conf->process_max > 0 && total > conf->process_max) {
		if (asprintf(errors, "%s: the pools' pm.max_children add up to "
		    "%ld, more than process.max = %d\n", conf->file, total,
		    conf->process_max) == -1)
			*errors = NULL;
		return -1;
	}
	return 0;
}

/* conf_load() and the daemon's own checks, for start-up and reload. */
struct fpmd_conf *
reload_conf_load(const char *path, int flags, char **errors)
{
	struct fpmd_conf *conf;

	*errors = NULL;
	if ((conf = conf_load(path, flags, errors)) == NULL)
		return NULL;
	if (reload_conf_check(conf, errors) == -1) {
		conf_free(conf);
		return NULL;
	}
	return conf;
}

/* fpmd.c applies the global settings through this when a reload commits. */
void
reload_on_commit(void (*apply)(const struct fpmd_conf *old,
    const struct fpmd_conf *conf))
{
	rl.apply = apply;
}

/*
 * fpmd.c tells the supervisor through this: with NULL when a reload
 * begins, then once with its outcome, refused or failed or done.
 */
void
reload_on_progress(void (*progress)(const struct reload_result *res))
{
	rl.progress = progress;
}

static int
reload_refused(struct reload_result *now)
{
	if (rl.progress != NULL)
		rl.progress(now);
	return -1;
}

bool
reload_busy(void)
{
	return rl.active || rl.again;
}

/* done == NULL: nobody to tell, nothing to keep.  -1: out of memory. */
static int
reload_waiter_add(struct reload_waiter **list, void (*done)(void *,
    const struct reload_result *), void *arg)
{
	struct reload_waiter *w;

	if (done == NULL)
		return 0;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	w->done = done;
	w->arg = arg;
	while (*list != NULL)
		list = &(*list)->next;
	*list = w;
	return 0;
}

/* Told in the order they asked; the list is no longer rl's. */
static void
reload_tell(struct reload_waiter *w, const struct reload_result *res)
{
	struct reload_waiter *next;

	for (; w != NULL; w = next) {
		next = w->next;
		w->done(w->arg, res);
		free(w);
	}
}

static void
reload_end(struct reload_result *res)
{
	struct reload_waiter *w = rl.waiters;
	struct pool *p;
	bool all = rl.pool == NULL;

	pm_on_change(NULL);
	ev_timer_stop(&rl.t_deadline);
	rl.active = false;
	rl.committed = false;
	rl.pool = NULL;
	rl.conf = NULL;
	rl.waiters = NULL;
	res->duration_ms = now_ms() - rl.started;
	if (rl.progress != NULL)
		rl.progress(res);
	/*
	 * The reload asked meanwhile, from the loop rather than from in
	 * here (pm.c may be calling us); it brings every pool a new
	 * generation, so a pool's restart waits behind it.
	 */
	if (rl.again)
		ev_timer_set(&rl.t_again, now_ms(), reload_again, NULL);
	/* every pool has a new generation: no restart waits any more */
	for (p = fpmd->pools; p != NULL; p = p->link) {
		if (all && res->ok)
			p->restart_wanted = false;
		if (p->restart_wanted && !rl.again)
			ev_timer_set(&rl.t_pending, now_ms(), reload_pending,
			    NULL);
	}
	reload_tell(w, res);
}

static void
reload_fail(const char *code, const char *message)
{
	struct reload_result res;
	struct fpmd_conf *conf = rl.conf;

	if (!rl.active)
		return;
	if (rl.committed) {
		/* too late to fail: the new generation serves */
		reload_done_ok();
		return;
	}
	pm_on_change(NULL);
	pm_abort();
	fpmd->generation--;	/* the number goes to the next reload */
	if (rl.pool != NULL && strcmp(code, "superseded") == 0)
		log_notice("[pool %s] %s", rl.pool->name, message);
	else if (rl.pool != NULL)
		log_errorx("[pool %s] restart failed, generation %d keeps "
		    "serving: %s", rl.pool->name, rl.pool->cur != NULL ?
		    rl.pool->cur->num : 0, message);
	else
		log_errorx("reload failed, generation %d keeps serving: %s",
		    fpmd->generation, message);
	memset(&res, 0, sizeof(res));
	res.generation = fpmd->generation;
	res.code = code;
	res.message = message;
	reload_end(&res);
	gen_conf_unref(conf);	/* the reload's reference */
}

static void
reload_done_ok(void)
{
	struct reload_result res;

	memset(&res, 0, sizeof(res));
	res.ok = true;
	res.generation = fpmd->generation;
	reload_end(&res);
}

/*
 * The new generations take over.  The answer waits until the old ones'
 * workers have been told to stop accepting (a few milliseconds), so that a
 * request sent once fpmctl reload has returned meets the new generation.
 */
static void
reload_commit(void)
{
	/* a pool's restart keeps the serving configuration: nothing to apply */
	if (rl.apply != NULL && rl.pool == NULL)
		rl.apply(fpmd->conf, rl.conf);
	/* The reload's reference becomes the serving one. */
	pm_commit(rl.conf);
	rl.committed = true;
	if (rl.pool != NULL)
		log_notice("[pool %s] restarted: generation %d serves "
		    "(%lld ms)", rl.pool->name, fpmd->generation,
		    (long long)(now_ms() - rl.started));
	else
		log_notice("reloaded: generation %d serves (%lld ms)",
		    fpmd->generation, (long long)(now_ms() - rl.started));
	if (pm_retired_quiet()) {
		reload_done_ok();
		return;
	}
	ev_timer_set(&rl.t_deadline, now_ms() + RELOAD_QUIET_MAX,
	    reload_deadline, NULL);
}

/* pm tells us when a new generation moved on, or failed. */
static void
reload_watch(const char *code, const char *failure)
{
	char why[256];

	if (!rl.active)
		return;
	if (rl.committed) {
		if (pm_retired_quiet())
			reload_done_ok();
	} else if (failure != NULL)
		reload_fail(code, failure);
	else if (pm_prepared(why, sizeof(why)))
		reload_commit();
}

static void
reload_deadline(void *arg)
{
	char why[256], msg[512];

	if (rl.active && rl.committed) {
		/* a prototype that does not answer: it is killed in time */
		reload_done_ok();
		return;
	}
	if (!rl.active)
		return;
	if (pm_prepared(why, sizeof(why))) {
		/* up between two looks: commit now, there is no later deadline */
		reload_commit();
		return;
	}
	snprintf(msg, sizeof(msg), "generation %d did not come up within "
	    "reload_timeout (%ds): %s", fpmd->generation,
	    rl.conf->reload_timeout, why);
	reload_fail("reload_timeout", msg);
}

static void
reload_waiter_drop(struct reload_waiter **list, void *arg)
{
	struct reload_waiter *w;

	while ((w = *list) != NULL) {
		if (w->arg == arg) {
			*list = w->next;
			free(w);
		} else
			list = &w->next;
	}
}

/* The one waiting for the outcome is gone: tell nobody. */
void
reload_forget(void *arg)
{
	reload_waiter_drop(&rl.waiters, arg);
	reload_waiter_drop(&rl.again_waiters, arg);
}

void
reload_cancel(const char *code, const char *message)
{
	reload_fail(code, message);
}

/*
 * A reload of the whole configuration begins, none being under way (a
 * pool's restart may be: it is superseded).  1 when it is under way, -1
 * when it was refused; *now then says why, its strings valid until the
 * next call.
 */
static int
reload_begin(struct reload_result *now)
{
	static char *errors, err[1024];
	struct fpmd_conf *conf;
	size_t k;

	memset(now, 0, sizeof(*now));
	now->generation = fpmd->generation;
	free(errors);
	errors = NULL;
	if (fpmd->state != FPMD_RUNNING) {
		now->code = "stopping";
		now->message = "fpmd is stopping";
		return -1;
	}
	if (rl.progress != NULL)
		rl.progress(NULL);
	conf = reload_conf_load(fpmd->conf_path, fpmd->conf_flags, &errors);
	if (conf == NULL) {
		log_errorx("reload refused, the configuration has errors:\n%s",
		    errors ? errors : "");
		snprintf(err, sizeof(err), "%s has errors; nothing was changed",
		    fpmd->conf_path);
		now->code = "config_invalid";
		now->message = err;
		now->errors = errors;
		return reload_refused(now);
	}
	if (rl.active) {
		/*
		 * A pool's restart under way: this reload brings that pool
		 * a new generation too.  Its own is dropped, and asked again
		 * should this reload fail.
		 */
		if (!rl.committed)
			rl.pool->restart_wanted = true;
		reload_fail("superseded", "restart left to the reload asked "
		    "meanwhile");
	}
	if (pm_room(conf, err, sizeof(err)) == -1) {
		log_errorx("reload refused: %s", err);
		conf_free(conf);
		now->code = "reload_failed";
		now->message = err;
		return reload_refused(now);
	}
	/* the reload's, until it commits or fails */
	if (gen_conf_ref(conf) == -1) {
		conf_free(conf);
		now->code = "reload_failed";
		now->message = "out of memory";
		return reload_refused(now);
	}
	rl.active = true;
	rl.pool = NULL;
	rl.conf = conf;
	rl.started = now_ms();
	fpmd->generation++;
	for (k = 0; k < conf->npools; k++) {
		if (pm_prepare(conf, &conf->pools[k], fpmd->generation, err,
		    sizeof(err)) == -1) {
			reload_fail("reload_failed", err);
			snprintf(err + strlen(err), sizeof(err) - strlen(err),
			    "; generation %d keeps serving", fpmd->generation);
			now->generation = fpmd->generation;
			now->code = "reload_failed";
			now->message = err;
			return -1;
		}
	}
	log_notice("reloading: generation %d starting", fpmd->generation);
	now->generation = fpmd->generation;
	ev_timer_set(&rl.t_deadline, rl.started +
	    (int64_t)conf->reload_timeout * 1000, reload_deadline, NULL);
	pm_on_change(reload_watch);
	return 1;
}

/*
 * Returns 1 when the reload is under way or follows the one under way
 * (done() will be called with its outcome), -1 when it was refused; *now
 * then says why.  *now's generation is the one the reload starts, or is
 * to start when it follows another.  The strings in *now stay valid until
 * the next call.
 */
int
reload_start(void (*done)(void *, const struct reload_result *), void *arg,
    struct reload_result *now)
{
	struct reload_waiter *w = NULL;

	if (rl.active && rl.pool == NULL && fpmd->state == FPMD_RUNNING) {
		memset(now, 0, sizeof(*now));
		now->generation = fpmd->generation + 1;
		if (reload_waiter_add(&rl.again_waiters, done, arg) == -1) {
			now->generation = fpmd->generation;
			now->code = "reload_failed";
			now->message = "out of memory";
			return -1;
		}
		if (!rl.again)
			log_notice("reload asked while generation %d %s: it "
			    "follows once that one is done", fpmd->generation,
			    rl.committed ? "takes over" : "starts");
		rl.again = true;
		return 1;
	}
	/* made first: once begun, the reload must have whom to tell */
	if (reload_waiter_add(&w, done, arg) == -1) {
		memset(now, 0, sizeof(*now));
		now->generation = fpmd->generation;
		now->code = "reload_failed";
		now->message = "out of memory";
		return -1;
	}
	if (reload_begin(now) == -1) {
		free(w);
		return -1;
	}
	/* those waiting for a reload to follow: this one is it */
	rl.waiters = w;
	if (rl.again) {
		while (w != NULL && w->next != NULL)
			w = w->next;
		*(w != NULL ? &w->next : &rl.waiters) = rl.again_waiters;
		rl.again_waiters = NULL;
		rl.again = false;
		ev_timer_stop(&rl.t_again);
	}
	return 1;
}

/*
 * The reload asked while another ran, now that one is over; or, with
 * fpmd stopping meanwhile, its outcome for those who wait.
 */
static void
reload_again(void *arg)
{
	struct reload_waiter *w = rl.again_waiters;
	struct reload_result now;

	if (!rl.again || (rl.active && rl.pool == NULL))
		return;
	rl.again = false;
	rl.again_waiters = NULL;
	if (reload_begin(&now) == -1) {
		reload_tell(w, &now);
		return;
	}
	rl.waiters = w;
}

/*
 * The emergency restart of pool p (crash.c counted its crashes): a new
 * generation of it alone, the outcome in the log.  During another reload
 * it waits for that one's end.
 */
void
reload_pool(struct pool *p)
{
	struct fpmd_conf *conf = fpmd->conf;
	char err[512];

	if (fpmd->state != FPMD_RUNNING || p->removed || p->freed)
		return;
	if (rl.active) {
		if (rl.pool == p || (rl.pool == NULL && !rl.committed))
			return;	/* a new generation of it is on its way */
		if (!p->restart_wanted)
			log_notice("[pool %s] restart after the reload in "
			    "progress", p->name);
		p->restart_wanted = true;
		return;
	}
	p->restart_wanted = false;
	if (gen_conf_ref(conf) == -1)	/* the reload's, as reload_start() */
		return;
	rl.active = true;
	rl.committed = false;
	rl.pool = p;
	rl.conf = conf;
	rl.started = now_ms();
	rl.waiters = NULL;
	fpmd->generation++;
	if (pm_restart_prepare(p, fpmd->generation, err, sizeof(err)) == -1) {
		reload_fail("reload_failed", err);
		return;
	}
	log_notice("[pool %s] restarting: generation %d starting", p->name,
	    fpmd->generation);
	ev_timer_set(&rl.t_deadline, rl.started +
	    (int64_t)conf->reload_timeout * 1000, reload_deadline, NULL);
	pm_on_change(reload_watch);
}

/* A pool's restart that waited for the end of another reload. */
static void
reload_pending(void *arg)
{
	struct pool *p;

	if (rl.active || fpmd->state != FPMD_RUNNING)
		return;
	for (p = fpmd->pools; p != NULL; p = p->link)
		if (p->restart_wanted && !p->removed) {
			reload_pool(p);
			return;
		}
}
