/*
 * The master's event loop: epoll over file descriptors, a short list of
 * one-shot timers, and frees deferred to the end of a batch.  An object an
 * event or a timer points to may be torn down by an earlier callback of the
 * same batch; ev_del() stops its events at once and ev_free_later() keeps
 * its memory until the batch is over, so a stale event finds a cleared
 * callback, never freed memory.  Nothing here is fatal once the loop runs:
 * a failed epoll_ctl() is logged and returned to the caller.
 */
#include <sys/epoll.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fpmd.h"

#define EV_BATCH	64

struct ev_deferred {
	void			(*fn)(void *);
	void			*p;
	struct ev_deferred	*next;
};

static struct {
	int			 epfd;
	struct ev_timer		*timers;
	struct ev_deferred	*deferred;
	unsigned		 round;		/* timers set in a round wait */
} loop = { -1, NULL, NULL, 0 };

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
ev_init(void)
{
	if ((loop.epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		log_error("epoll_create1");
		return -1;
	}
	return 0;
}

int
ev_add(struct ev *e, int fd, uint32_t events,
    void (*cb)(struct ev *, uint32_t), void *arg)
{
	struct epoll_event ee;

	memset(&ee, 0, sizeof(ee));
	ee.events = events;
	ee.data.ptr = e;
	if (epoll_ctl(loop.epfd, EPOLL_CTL_ADD, fd, &ee) == -1) {
		log_error("%s: epoll_ctl(ADD, %d)", __func__, fd);
		e->cb = NULL;
		return -1;
	}
	e->fd = fd;
	e->events = events;
	e->cb = cb;
	e->arg = arg;
	return 0;
}

int
ev_mod(struct ev *e, uint32_t events)
{
	struct epoll_event ee;

	if (e->cb == NULL)
		return -1;
	if (events == e->events)
		return 0;
	memset(&ee, 0, sizeof(ee));
	ee.events = events;
	ee.data.ptr = e;
	if (epoll_ctl(loop.epfd, EPOLL_CTL_MOD, e->fd, &ee) == -1) {
		log_error("%s: epoll_ctl(MOD, %d)", __func__, e->fd);
		return -1;
	}
	e->events = events;
	return 0;
}

/* EPOLLONESHOT events are disarmed by the kernel once they fire. */
int
ev_rearm(struct ev *e)
{
	struct epoll_event ee;

	if (e->cb == NULL)
		return -1;
	memset(&ee, 0, sizeof(ee));
	ee.events = e->events;
	ee.data.ptr = e;
	if (epoll_ctl(loop.epfd, EPOLL_CTL_MOD, e->fd, &ee) == -1) {
		log_error("%s: epoll_ctl(MOD, %d)", __func__, e->fd);
		return -1;
	}
	return 0;
}

void
ev_del(struct ev *e)
{
	if (e->cb == NULL)
		return;
	epoll_ctl(loop.epfd, EPOLL_CTL_DEL, e->fd, NULL);
	e->cb = NULL;
}

void
ev_timer_set(struct ev_timer *t, int64_t at, void (*cb)(void *), void *arg)
{
	if (!t->armed) {
		t->next = loop.timers;
		loop.timers = t;
		t->armed = true;
	}
	t->at = at;
	t->cb = cb;
	t->arg = arg;
	t->round = loop.round;
}

void
ev_timer_stop(struct ev_timer *t)
{
	struct ev_timer **tp;

	if (!t->armed)
		return;
	for (tp = &loop.timers; *tp != NULL; tp = &(*tp)->next)
		if (*tp == t) {
			*tp = t->next;
			break;
		}
	t->armed = false;
	t->next = NULL;
}

/* Frees p with fn (free() if NULL) once the current batch is over. */
int
ev_free_later(void *p, void (*fn)(void *))
{
	struct ev_deferred *d;

	if ((d = malloc(sizeof(*d))) == NULL) {
		/* Rather leak than free under a live event. */
		log_error("%s: malloc", __func__);
		return -1;
	}
	d->fn = fn != NULL ? fn : free;
	d->p = p;
	d->next = loop.deferred;
	loop.deferred = d;
	return 0;
}

static void
ev_run_deferred(void)
{
	struct ev_deferred *d;

	while ((d = loop.deferred) != NULL) {
		loop.deferred = d->next;
		d->fn(d->p);
		free(d);
	}
}

static int
ev_next_timeout(int max_ms)
{
	const struct ev_timer *t;
	int64_t now = now_ms(), next = -1;

	for (t = loop.timers; t != NULL; t = t->next)
		if (next == -1 || t->at < next)
			next = t->at;
	if (next == -1)
		return max_ms;
	if (next <= now)
		return 0;
	if (max_ms >= 0 && next - now > max_ms)
		return max_ms;
	return next - now > 60000 ? 60000 : (int)(next - now);
}

/*
 * Timers due now fire once each; one that a callback sets again (or sets
 * anew) waits for the next round, so a timer set for "now" cannot spin.
 */
static void
ev_run_timers(void)
{
	struct ev_timer *t;
	int64_t now = now_ms();
	unsigned round = ++loop.round;

	for (;;) {
		for (t = loop.timers; t != NULL; t = t->next)
			if (t->at <= now && t->round != round)
				break;
		if (t == NULL)
			break;
		ev_timer_stop(t);
		t->cb(t->arg);
	}
}

/*
 * One batch: wait for events (at most max_ms, -1 for no limit other than
 * the timers), call their callbacks, then the timers that are due, then
 * the deferred frees.  Returns -1 only when epoll itself fails.
 */
int
ev_run(int max_ms)
{
	struct epoll_event evs[EV_BATCH];
	struct ev *e;
	int n, i;

	n = epoll_wait(loop.epfd, evs, EV_BATCH, ev_next_timeout(max_ms));
	if (n == -1 && errno != EINTR) {
		log_error("epoll_wait");
		return -1;
	}
	for (i = 0; i < n; i++) {
		e = evs[i].data.ptr;
		if (e->cb != NULL)
			e->cb(e, evs[i].events);
	}
	ev_run_timers();
	ev_run_deferred();
	return 0;
}

void
ev_close(void)
{
	ev_run_deferred();
	if (loop.epfd != -1)
		close(loop.epfd);
	loop.epfd = -1;
}
