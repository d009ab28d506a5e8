/*
 * The master's writer of the pools' log files (access logs, slowlogs).
 * Workers send their lines to the master as datagrams (relay.c), and the
 * master hands them here; a thread of its own writes them, so a slow or
 * full disk holds up neither a worker nor the master's event loop.
 *
 * Files are opened and reopened by the master itself (it alone may open
 * /var/log as root, and an error belongs in the reply to a reload or a
 * reopen), and handed to the thread under its lock.  What waits to be
 * written is bounded: past LW_QUEUE_MAX bytes a line is dropped and
 * counted against its file, which status shows, rather than memory grown
 * without end.  A line is written whole, with one write(), so lines from
 * several pools in one file never interleave.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fpmd.h"

#define LW_QUEUE_MAX	(16 * 1024 * 1024)	/* bytes waiting, all files */
#define LW_STOP_WAIT	2			/* s to flush at exit */

struct lw_line {
	struct lw_line	*next;
	struct lw_file	*file;
	size_t		 len;
	char		 text[];
};

static struct {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 more;		/* lines to write, or stop */
	pthread_cond_t	 idle;		/* the queue went empty */
	pthread_t	 thread;
	bool		 started;
	bool		 running;	/* the thread is in its loop */
	bool		 stop;
	bool		 busy;		/* writing a line, unlocked */
	struct lw_line	*head, **tail;
	size_t		 queued;	/* bytes */
	struct lw_file	*files;
} lw = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.more = PTHREAD_COND_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER,
};

/*
 * The thread keeps a file's descriptor only while it writes to it, under
 * refs; a reopen swaps the descriptor and closes the old one once it is
 * no longer in use.
 */
static void *
lw_main(void *arg)
{
	struct lw_line *l;
	ssize_t n;
	size_t off;
	int fd;

	pthread_mutex_lock(&lw.mtx);
	lw.running = true;
	for (;;) {
		while (lw.head == NULL && !lw.stop) {
			pthread_cond_broadcast(&lw.idle);
			pthread_cond_wait(&lw.more, &lw.mtx);
		}
		if (lw.head == NULL)
			break;
		l = lw.head;
		if ((lw.head = l->next) == NULL)
			lw.tail = &lw.head;
		lw.queued -= l->len;
		fd = l->file->fd;
		lw.busy = true;
		pthread_mutex_unlock(&lw.mtx);
		for (off = 0; fd != -1 && off < l->len; off += (size_t)n) {
			n = write(fd, l->text + off, l->len - off);
			if (n == -1 && errno == EINTR) {
				n = 0;
				continue;
			}
			if (n <= 0) {
				__atomic_add_fetch(&l->file->lost, 1,
				    __ATOMIC_RELAXED);
				break;
			}
		}
		pthread_mutex_lock(&lw.mtx);
		lw.busy = false;
		if (--l->file->refs == 0 && l->file->closing)
			pthread_cond_broadcast(&lw.idle);
		free(l);
	}
	pthread_cond_broadcast(&lw.idle);
	pthread_mutex_unlock(&lw.mtx);
	return NULL;
}

/*
 * The master forks its prototypes while this thread runs: a fork must not
 * catch it inside the allocator, whose lock the child would inherit held
 * (glibc's malloc guards against it, ASan's does not).  It allocates and
 * frees only under lw.mtx, which a fork takes first.
 */
static void
lw_fork_lock(void)
{
	pthread_mutex_lock(&lw.mtx);
}

static void
lw_fork_unlock(void)
{
	pthread_mutex_unlock(&lw.mtx);
}

static int
lw_start(void)
{
	static bool atfork;
	int rc;

	if (lw.started)
		return 0;
	if (!atfork && pthread_atfork(lw_fork_lock, lw_fork_unlock,
	    lw_fork_unlock) == 0)
		atfork = true;
	lw.tail = &lw.head;
	lw.running = false;
	if ((rc = pthread_create(&lw.thread, NULL, lw_main, NULL)) != 0) {
		errno = rc;
		log_error("%s: pthread_create", __func__);
		return -1;
	}
	/* and not inside its own start either */
	pthread_mutex_lock(&lw.mtx);
	while (!lw.running)
		pthread_cond_wait(&lw.idle, &lw.mtx);
	pthread_mutex_unlock(&lw.mtx);
	lw.started = true;
	return 0;
}

static int
lw_openfd(const char *path)
{
	int fd;

	if (strcmp(path, "stderr") == 0)
		return fcntl(2, F_DUPFD_CLOEXEC, 3);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	return fd;
}

/*
 * The file at path ("stderr": fpmd's standard error), shared by every
 * pool that names it; NULL with errno set when it cannot be opened (the
 * caller says which option named it).
 */
struct lw_file *
lw_open(const char *path)
{
	struct lw_file *f;
	int fd;

	if (lw_start() == -1)
		return NULL;
	for (f = lw.files; f != NULL; f = f->next)
		if (strcmp(f->path, path) == 0) {
			f->users++;
			return f;
		}
	if ((fd = lw_openfd(path)) == -1)
		return NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->path = strdup(path)) == NULL) {
		log_error("%s: calloc", __func__);
		free(f);
		close(fd);
		return NULL;
	}
	f->fd = fd;
	f->users = 1;
	pthread_mutex_lock(&lw.mtx);
	f->next = lw.files;
	lw.files = f;
	pthread_mutex_unlock(&lw.mtx);
	return f;
}

/* Waits, lock held, until the thread no longer writes to f. */
static void
lw_quiesce(struct lw_file *f)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += LW_STOP_WAIT;
	f->closing = true;
	while (f->refs > 0 &&
	    pthread_cond_timedwait(&lw.idle, &lw.mtx, &until) == 0)
		;
	f->closing = false;
}

void
lw_close(struct lw_file *f)
{
	struct lw_file **fp;

	if (f == NULL)
		return;
	pthread_mutex_lock(&lw.mtx);
	if (--f->users > 0) {
		pthread_mutex_unlock(&lw.mtx);
		return;
	}
	lw_quiesce(f);
	if (f->refs > 0) {
		/* the disk hangs: leave the file to the thread, leaked */
		pthread_mutex_unlock(&lw.mtx);
		return;
	}
	for (fp = &lw.files; *fp != NULL; fp = &(*fp)->next)
		if (*fp == f) {
			*fp = f->next;
			break;
		}
	pthread_mutex_unlock(&lw.mtx);
	if (f->fd != -1)
		close(f->fd);
	free(f->path);
	free(f);
}

/* A copy of one line (or entry) goes to the queue; a full queue drops it. */
void
lw_write(struct lw_file *f, const void *buf, size_t len)
{
	struct lw_line *l;

	if (f == NULL || len == 0)
		return;
	pthread_mutex_lock(&lw.mtx);
	if (lw.queued + len > LW_QUEUE_MAX) {
		__atomic_add_fetch(&f->lost, 1, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&lw.mtx);
		return;
	}
	pthread_mutex_unlock(&lw.mtx);
	if ((l = malloc(sizeof(*l) + len)) == NULL) {
		__atomic_add_fetch(&f->lost, 1, __ATOMIC_RELAXED);
		return;
	}
	l->next = NULL;
	l->file = f;
	l->len = len;
	memcpy(l->text, buf, len);
	pthread_mutex_lock(&lw.mtx);
	f->refs++;
	*lw.tail = l;
	lw.tail = &l->next;
	lw.queued += len;
	pthread_cond_signal(&lw.more);
	pthread_mutex_unlock(&lw.mtx);
}

/*
 * Every file opened anew (after logrotate moved them): a file that cannot
 * be opened keeps the descriptor it had.  -1 if one could not.
 */
int
lw_reopen(void)
{
	struct lw_file *f;
	int fd, old, rc = 0;

	/* only the master changes the list: it may walk it unlocked */
	for (f = lw.files; f != NULL; f = f->next) {
		if ((fd = lw_openfd(f->path)) == -1) {
			log_error("cannot reopen '%s', still writing to the "
			    "file that was there", f->path);
			rc = -1;
			continue;
		}
		pthread_mutex_lock(&lw.mtx);
		lw_quiesce(f);
		old = f->fd;
		f->fd = fd;
		pthread_mutex_unlock(&lw.mtx);
		if (old != -1)
			close(old);
	}
	return rc;
}

uint64_t
lw_lost(const struct lw_file *f)
{
	return f != NULL ? __atomic_load_n(&f->lost, __ATOMIC_RELAXED) : 0;
}

/* At exit: what waits is written (for a moment at most), then stop. */
void
lw_shutdown(void)
{
	struct timespec until;

	if (!lw.started)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += LW_STOP_WAIT;
	pthread_mutex_lock(&lw.mtx);
	while ((lw.head != NULL || lw.busy) &&
	    pthread_cond_timedwait(&lw.idle, &lw.mtx, &until) == 0)
		;
	lw.stop = true;
	pthread_cond_signal(&lw.more);
	pthread_mutex_unlock(&lw.mtx);
	/* a disk that hangs keeps the thread: fpmd exits all the same */
	if (pthread_timedjoin_np(lw.thread, NULL, &until) != 0)
		log_warnx("log files: lines still waiting for the disk are "
		    "lost");
	lw.started = false;
}
