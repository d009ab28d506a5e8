/*
 * Children's log lines and, with catch_workers_output, their stdout and
 * stderr come back to the master as datagrams over one socket pair each per
 * pool, so a line is never cut or interleaved and the master is the only
 * writer of the error log.  Access log lines and slowlog entries come the
 * same way, one datagram each, and go to their files through the writer
 * thread (logwriter.c), which also makes reopening them a matter of the
 * master alone: no worker holds a log file.
 *
 * Neither side waits for the other.  The children's ends are non-blocking:
 * when the master is behind and the queue is full, a child's line is
 * dropped and counted (log_dropped in status) instead of stalling a PHP
 * request.  The master reads a bounded number of datagrams per socket and
 * round, so one chatty pool cannot starve the control socket or the others.
 *
 * A worker's output is cut into lines here.  With log_buffering (the
 * default, as in php-fpm) a write that does not end in a newline is kept
 * until the rest of its line comes, the worker exits, or it reaches
 * RELAY_PART_MAX; without, every write ends a line.  A line longer than
 * log_limit is wrapped onto several lines, each with the prefix (log.c).
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fpmd.h"

#define RELAY_BUDGET	64		/* datagrams per socket and round */
#define RELAY_BUF	(256 * 1024)
#define RELAY_RCVBUF	(1024 * 1024)
#define RELAY_PART_MAX	(32 * 1024)	/* a partial line kept, at most */

/* The start of a line a worker has not finished writing. */
struct relay_part {
	pid_t			 pid;
	bool			 err;		/* stderr, else stdout */
	size_t			 len;
	char			 buf[RELAY_PART_MAX];
	struct relay_part	*next;
};

static char	relay_buf[RELAY_BUF];

static void	relay_on_output(struct ev *, uint32_t);

static int
relay_pair(int fds[2], bool cred)
{
	int on = 1, size = RELAY_RCVBUF;

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds) == -1) {
		log_error("%s: socketpair", __func__);
		return -1;
	}
	/* Both ends are non-blocking; the flag is shared with every child. */
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(fds[1], F_SETFL, O_NONBLOCK) == -1) {
		log_error("%s: fcntl", __func__);
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	/* Room for bursts; the kernel may cap it, which is fine. */
	setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (cred)
		setsockopt(fds[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on));
	return 0;
}

static void
relay_on_log(struct ev *e, uint32_t events)
{
	struct relay *r = e->arg;
	ssize_t n;
	int i;

	for (i = 0; i < RELAY_BUDGET; i++) {
		n = recv(r->log_rfd, relay_buf, sizeof(relay_buf), MSG_DONTWAIT);
		if (n <= 0)
			return;
		/* Children format whole lines; we only pass them on. */
		log_relay(relay_buf, (size_t)n);
	}
}

static void
relay_line(struct relay *r, const char *stream, pid_t pid, const char *s,
    size_t len)
{
	char head[128];

	if (r->json) {
		/* a record of its own, whether decorated or not */
		log_emit(LOG_LVL_WARNING, r->name, (int)pid, s, len);
		return;
	}
	if (!r->decorate) {
		log_plain(s, len);
		return;
	}
	snprintf(head, sizeof(head), "[pool %s] child %d said into %s: \"",
	    r->name, (int)pid, stream);
	log_wrap(LOG_LVL_WARNING, head, s, len, "\"");
}

static struct relay_part *
relay_part_find(struct relay *r, pid_t pid, bool err, bool make)
{
	struct relay_part *rp;

	for (rp = r->parts; rp != NULL; rp = rp->next)
		if (rp->pid == pid && rp->err == err)
			return rp;
	if (!make || (rp = malloc(sizeof(*rp))) == NULL)
		return NULL;
	rp->pid = pid;
	rp->err = err;
	rp->len = 0;
	rp->next = r->parts;
	r->parts = rp;
	return rp;
}

static void
relay_part_drop(struct relay *r, struct relay_part *gone)
{
	struct relay_part **rpp;

	for (rpp = &r->parts; *rpp != NULL; rpp = &(*rpp)->next)
		if (*rpp == gone) {
			*rpp = gone->next;
			free(gone);
			return;
		}
}

/*
 * One datagram of a worker's output, cut into lines: a line begun by an
 * earlier write is finished by this one; with log_buffering, an
 * unfinished last line waits for the next write.
 */
static void
relay_output(struct relay *r, const char *stream, pid_t pid, char *s,
    char *end)
{
	bool err = strcmp(stream, "stderr") == 0;
	struct relay_part *rp;
	char *nl;
	size_t k;

	rp = relay_part_find(r, pid, err, false);
	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (nl == NULL && r->buffering) {
			if (rp == NULL &&
			    (rp = relay_part_find(r, pid, err, true)) == NULL)
				nl = end;	/* no memory: as it is */
			else {
				while (s < end) {
					k = (size_t)(end - s);
					if (k > RELAY_PART_MAX - rp->len)
						k = RELAY_PART_MAX - rp->len;
					memcpy(rp->buf + rp->len, s, k);
					rp->len += k;
					s += k;
					if (rp->len == RELAY_PART_MAX) {
						relay_line(r, stream, pid,
						    rp->buf, rp->len);
						rp->len = 0;
					}
				}
				return;
			}
		}
		if (nl == NULL)
			nl = end;
		if (rp != NULL && rp->len > 0) {
			/* the rest of a line: joined, up to the bound */
			k = (size_t)(nl - s);
			if (k <= RELAY_PART_MAX - rp->len) {
				memcpy(rp->buf + rp->len, s, k);
				relay_line(r, stream, pid, rp->buf,
				    rp->len + k);
			} else {
				relay_line(r, stream, pid, rp->buf, rp->len);
				relay_line(r, stream, pid, s, k);
			}
			relay_part_drop(r, rp);
			rp = NULL;
		} else
			relay_line(r, stream, pid, s, (size_t)(nl - s));
		s = nl + 1;
	}
}

/*
 * A worker is gone: what it left unfinished is logged as a line, after
 * whatever it wrote that is still queued.
 */
void
relay_flush(struct relay *r, pid_t pid)
{
	struct relay_part *rp;
	int i;

	if (r->parts == NULL)
		return;
	if (r->out_rfd != -1)
		relay_on_output(&r->ev_out, EPOLLIN);
	if (r->err_rfd != -1)
		relay_on_output(&r->ev_err, EPOLLIN);
	for (i = 0; i < 2; i++)
		if ((rp = relay_part_find(r, pid, i == 1, false)) != NULL) {
			if (rp->len > 0)
				relay_line(r, i == 1 ? "stderr" : "stdout",
				    pid, rp->buf, rp->len);
			relay_part_drop(r, rp);
		}
}

static void
relay_on_output(struct ev *e, uint32_t events)
{
	char cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct relay *r = e->arg;
	const char *stream = e == &r->ev_out ? "stdout" : "stderr";
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *c;
	struct ucred cred;
	ssize_t n;
	int i;

	for (i = 0; i < RELAY_BUDGET; i++) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = relay_buf;
		iov.iov_len = sizeof(relay_buf);
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
		relay_output(r, stream, cred.pid, relay_buf, relay_buf + n);
	}
}

/* Access log lines and slowlog entries: each datagram is written whole. */
static void
relay_sink(int fd, struct lw_file *f)
{
	ssize_t n;
	int i;

	for (i = 0; fd != -1 && i < RELAY_BUDGET; i++) {
		n = recv(fd, relay_buf, sizeof(relay_buf), MSG_DONTWAIT);
		if (n <= 0)
			return;
		lw_write(f, relay_buf, (size_t)n);
	}
}

static void
relay_on_sink(struct ev *e, uint32_t events)
{
	struct relay *r = e->arg;

	if (e == &r->ev_acc)
		relay_sink(r->acc_rfd, r->acc_file);
	else
		relay_sink(r->slow_rfd, r->slow_file);
}

static int
relay_file(struct relay *r, struct lw_file **fp, const char *path,
    const char *what)
{
	struct lw_file *f = NULL;

	if (path != NULL && (f = lw_open(path)) == NULL) {
		log_error("[pool %s] %s: cannot open '%s'", r->name, what,
		    path);
		return -1;
	}
	lw_close(*fp);
	*fp = f;
	return 0;
}

/*
 * The files a pool's generation names (NULL: none); the ones it names no
 * more are closed.  -1 when one cannot be opened: the pool keeps the one
 * it had.
 */
int
relay_files(struct relay *r, const char *access_log, const char *slowlog)
{
	int rc = 0;

	if (relay_file(r, &r->acc_file, access_log, "access.log") == -1)
		rc = -1;
	if (relay_file(r, &r->slow_file, slowlog, "slowlog") == -1)
		rc = -1;
	return rc;
}

int
relay_open(struct relay *r, const char *name)
{
	int fds[2];

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->log_rfd = r->log_wfd = r->out_rfd = r->out_wfd = -1;
	r->err_rfd = r->err_wfd = -1;
	r->acc_rfd = r->acc_wfd = r->slow_rfd = r->slow_wfd = -1;
	r->decorate = true;
	if (relay_pair(fds, false) == -1)
		goto fail;
	r->log_rfd = fds[0];
	r->log_wfd = fds[1];
	if (relay_pair(fds, true) == -1)
		goto fail;
	r->out_rfd = fds[0];
	r->out_wfd = fds[1];
	if (relay_pair(fds, true) == -1)
		goto fail;
	r->err_rfd = fds[0];
	r->err_wfd = fds[1];
	if (relay_pair(fds, false) == -1)
		goto fail;
	r->acc_rfd = fds[0];
	r->acc_wfd = fds[1];
	if (relay_pair(fds, false) == -1)
		goto fail;
	r->slow_rfd = fds[0];
	r->slow_wfd = fds[1];
	if (ev_add(&r->ev_log, r->log_rfd, EPOLLIN, relay_on_log, r) == -1 ||
	    ev_add(&r->ev_out, r->out_rfd, EPOLLIN, relay_on_output, r) == -1 ||
	    ev_add(&r->ev_err, r->err_rfd, EPOLLIN, relay_on_output, r) == -1 ||
	    ev_add(&r->ev_acc, r->acc_rfd, EPOLLIN, relay_on_sink, r) == -1 ||
	    ev_add(&r->ev_slow, r->slow_rfd, EPOLLIN, relay_on_sink, r) == -1)
		goto fail;
	return 0;
fail:
	relay_close(r);
	return -1;
}

void
relay_close(struct relay *r)
{
	int *fds[] = { &r->log_rfd, &r->log_wfd, &r->out_rfd, &r->out_wfd,
	    &r->err_rfd, &r->err_wfd, &r->acc_rfd, &r->acc_wfd, &r->slow_rfd,
	    &r->slow_wfd };
	size_t i;

	while (r->parts != NULL)
		relay_flush(r, r->parts->pid);
	ev_del(&r->ev_log);
	ev_del(&r->ev_out);
	ev_del(&r->ev_err);
	ev_del(&r->ev_acc);
	ev_del(&r->ev_slow);
	/* what the pool sent is read: its files go after the last of it */
	relay_sink(r->acc_rfd, r->acc_file);
	relay_sink(r->slow_rfd, r->slow_file);
	lw_close(r->acc_file);
	lw_close(r->slow_file);
	r->acc_file = r->slow_file = NULL;
	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] != -1) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}
