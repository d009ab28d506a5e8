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

static char	relay_buf[RELAY_BUF];

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
	ssize_t n, w;
	size_t off;
	int i;

	for (i = 0; i < RELAY_BUDGET; i++) {
		n = recv(r->log_rfd, relay_buf, sizeof(relay_buf), MSG_DONTWAIT);
		if (n <= 0)
			return;
		/* Children format whole lines; we only write them. */
		off = 0;
		while (off < (size_t)n) {
			w = write(log_get_fd(), relay_buf + off, (size_t)n - off);
			if (w <= 0) {
				if (w == -1 && errno == EINTR)
					continue;
				break;
			}
			off += (size_t)w;
		}
	}
}

static void
relay_line(struct relay *r, const char *stream, pid_t pid, const char *s,
    size_t len)
{
	char *line;
	int n;

	if (r->json) {
		/* a record of its own, whether decorated or not */
		log_emit(LOG_LVL_WARNING, r->name, (int)pid, s, len);
		return;
	}
	if (!r->decorate) {
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
	    r->name, (int)pid, stream, (int)len, s);
	if (n < 0)
		return;
	log_raw(LOG_LVL_WARNING, line, (size_t)n);
	free(line);
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
	char *s, *nl, *end;
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
		/* One line per newline; a write without one is a line too. */
		s = relay_buf;
		end = relay_buf + n;
		while (s < end) {
			nl = memchr(s, '\n', (size_t)(end - s));
			if (nl == NULL)
				nl = end;
			relay_line(r, stream, cred.pid, s, (size_t)(nl - s));
			s = nl + 1;
		}
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
