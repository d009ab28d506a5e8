/*
 * fpmctl's side of the control socket: a non-blocking unix stream socket,
 * one request line written, one reply line read.  Every wait goes through
 * poll() with what is left of a deadline, so a daemon that hangs, a full
 * listen backlog or a reply that never ends in '\n' cannot block fpmctl
 * for longer than its --timeout.  Replies may be of any length: the buffer
 * grows.  Interrupted calls are restarted.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fpmctl.h"

#define CTL_READ_CHUNK		65536
#define CTL_RETRY_MS		20	/* connect retry while backlog is full */

int64_t
ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
ctl_deadline(int64_t timeout_ms)
{
	if (timeout_ms <= 0)
		return 0;
	return ctl_now_ms() + timeout_ms;
}

/* poll() one fd for ev until the deadline; 0 ready, -1 with errno. */
static int
ctl_wait(int fd, short ev, int64_t deadline)
{
	struct pollfd	 pfd;
	int64_t		 left;
	int		 n;

	for (;;) {
		left = -1;
		if (deadline != 0) {
			left = deadline - ctl_now_ms();
			if (left <= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
		}
		pfd.fd = fd;
		pfd.events = ev;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n > 0)
			return 0;
	}
}

static void
ctl_sleep_ms(int64_t ms)
{
	struct timespec	 ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
ctl_sun(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun->sun_path, path, strlen(path));
	return 0;
}

/*
 * Returns 0 connected, -1 with errno.  A unix socket whose listen backlog
 * is full makes a non-blocking connect() fail with EAGAIN: the server is
 * there but slow, so try again until the deadline.
 */
int
ctl_connect(struct ctl_conn *c, const char *path, int64_t deadline)
{
	struct sockaddr_un	 sun;
	socklen_t		 sl;
	int			 err, fd;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (ctl_sun(&sun, path) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return -1;
	for (;;) {
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			break;
		if (errno == EISCONN)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			if (deadline != 0 && ctl_now_ms() >= deadline) {
				errno = ETIMEDOUT;
				goto fail;
			}
			ctl_sleep_ms(CTL_RETRY_MS);
			continue;
		}
		if (errno != EINPROGRESS && errno != EALREADY)
			goto fail;
		if (ctl_wait(fd, POLLOUT, deadline) == -1)
			goto fail;
		sl = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1)
			goto fail;
		if (err != 0) {
			errno = err;
			goto fail;
		}
		break;
	}
	c->fd = fd;
	return 0;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

int
ctl_send(struct ctl_conn *c, const char *line, size_t len, int64_t deadline)
{
	ssize_t	 n;

	while (len > 0) {
		n = send(c->fd, line, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (ctl_wait(c->fd, POLLOUT, deadline) == -1)
				return -1;
			continue;
		}
		if (n == -1)
			return -1;
		line += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Takes the first len bytes of the buffer as a NUL-terminated line. */
static char *
ctl_take(struct ctl_conn *c, size_t len, size_t skip, size_t *lenp)
{
	char	*line;

	if ((line = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(line, c->buf, len);
	line[len] = '\0';
	memmove(c->buf, c->buf + len + skip, c->len - len - skip);
	c->len -= len + skip;
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	*lenp = len;
	return line;
}

/*
 * Returns the next non-empty line, without its '\n', malloc'd.  NULL with
 * errno ETIMEDOUT, a read error, or errno 0 at end of file before any
 * byte.  Text after the last '\n' at end of file counts as a line: a
 * daemon that closes right after its reply has still replied.
 */
char *
ctl_recv_line(struct ctl_conn *c, size_t *lenp, int64_t deadline)
{
	char	*nl, *p;
	size_t	 cap, off;
	ssize_t	 n;

	off = 0;
	for (;;) {
		while (c->len > 0 && c->buf[0] == '\n') {
			memmove(c->buf, c->buf + 1, --c->len);
			off = 0;
		}
		if (off < c->len &&
		    (nl = memchr(c->buf + off, '\n', c->len - off)) != NULL)
			return ctl_take(c, (size_t)(nl - c->buf), 1, lenp);
		off = c->len;
		if (c->cap - c->len < CTL_READ_CHUNK) {
			cap = c->cap + (c->cap > CTL_READ_CHUNK ?
			    c->cap : CTL_READ_CHUNK);
			if (cap < c->cap || (p = realloc(c->buf, cap)) == NULL) {
				errno = ENOMEM;
				return NULL;
			}
			c->buf = p;
			c->cap = cap;
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (ctl_wait(c->fd, POLLIN, deadline) == -1)
				return NULL;
			continue;
		}
		if (n == -1)
			return NULL;
		if (n == 0) {
			if (c->len == 0) {
				errno = 0;
				return NULL;
			}
			return ctl_take(c, c->len, 0, lenp);
		}
		c->len += (size_t)n;
	}
}

void
ctl_close(struct ctl_conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/*
 * Does something still listen on path?  1 yes (a connect worked, or the
 * backlog is full), 0 no (no such socket, or nobody behind it), -1 with
 * errno when that cannot be told.  Used to see fpmd go away after stop.
 */
int
ctl_probe(const char *path)
{
	struct sockaddr_un	 sun;
	int			 err, fd, rc;

	if (ctl_sun(&sun, path) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return -1;
	do {
		rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	} while (rc == -1 && errno == EINTR);
	if (rc == 0 || errno == EAGAIN || errno == EINPROGRESS ||
	    errno == EISCONN)
		rc = 1;
	else if (errno == ECONNREFUSED || errno == ENOENT)
		rc = 0;
	else
		rc = -1;
	err = errno;
	close(fd);
	errno = err;
	return rc;
}

/* The daemon's pid as the kernel saw it connect; 0 if not known. */
pid_t
ctl_peer_pid(struct ctl_conn *c)
{
	struct ucred	 cr;
	socklen_t	 sl = sizeof(cr);

	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) == -1 ||
	    sl != sizeof(cr) || cr.pid <= 0)
		return 0;
	return cr.pid;
}

/*
 * 1 if pid still runs, 0 if it is gone.  A zombie is gone: fpmd started
 * from a shell with '&' stays one until the shell waits for it.
 */
int
ctl_pid_alive(pid_t pid)
{
	char	 path[64], buf[512], *p;
	ssize_t	 n;
	int	 fd;

	if (kill(pid, 0) == -1 && errno == ESRCH)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 1;	/* no /proc: trust kill() */
	do {
		n = read(fd, buf, sizeof(buf) - 1);
	} while (n == -1 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	/* "pid (comm) S ...": comm may hold ')' and spaces */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return 1;
	return p[2] == 'Z' || p[2] == 'X' ? 0 : 1;
}
