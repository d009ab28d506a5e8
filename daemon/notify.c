/*
 * Telling a supervisor how fpmd is doing, without libsystemd: systemd's
 * notify protocol is one datagram of "KEY=value" lines to the unix socket
 * named by $NOTIFY_SOCKET (a path, or an abstract name written with a
 * leading '@'), and s6's readiness notification is a newline written to a
 * descriptor the supervisor opened (--ready-fd N).
 *
 * The master never waits for its supervisor: the datagrams go out without
 * blocking, and one the socket cannot take now (a full queue) waits in a
 * short queue of our own, tried again on the next one and on every tick;
 * past its cap the oldest STATUS-only lines go first, since a later one
 * says more.  A supervisor that went away costs one warning.
 *
 * With WatchdogSec= in the unit (WATCHDOG_USEC), the master's loop says
 * WATCHDOG=1 at half that interval, as php-fpm does: a master stuck for
 * longer is killed and restarted by systemd.
 *
 * Neither the variables nor the descriptors reach the pools: the variables
 * are taken out of the environment at start-up, and children close every
 * descriptor they were not given (gen.c).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fpmd.h"

#define NOTIFY_QUEUE_MAX	16
#define NOTIFY_MSG_MAX		1024

struct notify_msg {
	char			 text[NOTIFY_MSG_MAX];
	size_t			 len;
	bool			 status_only;
};

static struct {
	int			 fd;		/* -1: no NOTIFY_SOCKET */
	struct sockaddr_un	 sun;
	socklen_t		 sunlen;
	char			 name[FPMD_ADDR_MAX];	/* as given */
	int			 ready_fd;	/* -1: none, or already told */
	int64_t			 watchdog_ms;	/* 0: no watchdog */
	bool			 warned;
	struct notify_msg	 q[NOTIFY_QUEUE_MAX];
	int			 qhead, qlen;
} nt = { .fd = -1, .ready_fd = -1 };

/*
 * Reads and removes $NOTIFY_SOCKET; returns -1 only for a ready_fd that
 * is not open (a usage error).  A NOTIFY_SOCKET fpmd cannot use is said
 * and left aside: fpmd still serves, systemd will time out the start.
 */
/* WATCHDOG_USEC, when it is for us: the interval of our pings. */
static void
notify_watchdog_init(void)
{
	const char *usec_s, *pid_s;
	char *end;
	long long usec, pid;

	usec_s = getenv("WATCHDOG_USEC");
	pid_s = getenv("WATCHDOG_PID");
	if (usec_s == NULL)
		goto done;
	if (pid_s != NULL) {
		errno = 0;
		pid = strtoll(pid_s, &end, 10);
		if (errno != 0 || *end != '\0' || pid != (long long)getpid())
			goto done;	/* meant for the process that ran us */
	}
	errno = 0;
	usec = strtoll(usec_s, &end, 10);
	if (errno != 0 || *end != '\0' || usec < 2000) {
		log_warnx("WATCHDOG_USEC=%s is not a number of microseconds "
		    "of 2000 or more: fpmd sends no WATCHDOG=1", usec_s);
		goto done;
	}
	nt.watchdog_ms = (int64_t)(usec / 2000);
	log_debug("systemd watchdog: WATCHDOG=1 every %lld ms",
	    (long long)nt.watchdog_ms);
done:
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

int
notify_init(int ready_fd)
{
	const char *env;
	size_t len;

	if (ready_fd >= 0) {
		if (fcntl(ready_fd, F_SETFD, FD_CLOEXEC) == -1) {
			log_error("--ready-fd %d", ready_fd);
			return -1;
		}
		nt.ready_fd = ready_fd;
	}
	env = getenv("NOTIFY_SOCKET");
	if (env == NULL || *env == '\0')
		goto done;
	len = strlen(env);
	memset(&nt.sun, 0, sizeof(nt.sun));
	nt.sun.sun_family = AF_UNIX;
	if ((env[0] != '/' && env[0] != '@') || len >= sizeof(nt.sun.sun_path)
	    || len < 2) {
		log_warnx("NOTIFY_SOCKET '%s' is neither an absolute path nor "
		    "an abstract name ('@...') that fits a unix socket: fpmd "
		    "tells its supervisor nothing", env);
		goto done;
	}
	memcpy(nt.sun.sun_path, env, len);
	if (env[0] == '@')
		nt.sun.sun_path[0] = '\0';
	nt.sunlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	snprintf(nt.name, sizeof(nt.name), "%s", env);
	if ((nt.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		log_warn("NOTIFY_SOCKET: socket");
done:
	unsetenv("NOTIFY_SOCKET");
	notify_watchdog_init();
	if (nt.fd == -1)
		nt.watchdog_ms = 0;
	return 0;
}

/* How often the master must call notify_watchdog(), in ms; 0: never. */
int64_t
notify_watchdog_interval(void)
{
	return nt.watchdog_ms;
}

bool
notify_wanted(void)
{
	return nt.fd != -1;
}

/* 1: sent, 0: try later, -1: dropped. */
static int
notify_sendto(const struct notify_msg *m)
{
	if (sendto(nt.fd, m->text, m->len, MSG_DONTWAIT | MSG_NOSIGNAL,
	    (const struct sockaddr *)&nt.sun, nt.sunlen) != -1) {
		nt.warned = false;
		return 1;
	}
	if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR)
		return 0;
	if (!nt.warned)
		log_warn("NOTIFY_SOCKET '%s': the supervisor was not told "
		    "'%.*s'", nt.name, (int)strcspn(m->text, "\n"), m->text);
	nt.warned = true;
	return -1;
}

/* Sends what waits, in order, as far as the socket takes it. */
void
notify_flush(void)
{
	int rc;

	while (nt.fd != -1 && nt.qlen > 0) {
		if ((rc = notify_sendto(&nt.q[nt.qhead])) == 0)
			return;
		nt.qhead = (nt.qhead + 1) % NOTIFY_QUEUE_MAX;
		nt.qlen--;
	}
}

static void
notify_queue(const char *text, size_t len, bool status_only)
{
	struct notify_msg *m;
	int i, k, j;

	if (nt.qlen == NOTIFY_QUEUE_MAX) {
		/* a STATUS line says less than a newer one: drop the oldest */
		for (i = 0; i < nt.qlen; i++)
			if (nt.q[(nt.qhead + i) % NOTIFY_QUEUE_MAX].status_only)
				break;
		if (i == nt.qlen)
			i = 0;	/* nothing but states: the oldest goes */
		for (k = i; k > 0; k--) {
			j = (nt.qhead + k) % NOTIFY_QUEUE_MAX;
			nt.q[j] = nt.q[(nt.qhead + k - 1) % NOTIFY_QUEUE_MAX];
		}
		nt.qhead = (nt.qhead + 1) % NOTIFY_QUEUE_MAX;
		nt.qlen--;
		log_debug("NOTIFY_SOCKET: the supervisor does not read; a "
		    "message is dropped");
	}
	m = &nt.q[(nt.qhead + nt.qlen) % NOTIFY_QUEUE_MAX];
	memcpy(m->text, text, len);
	m->len = len;
	m->status_only = status_only;
	nt.qlen++;
}

static void __attribute__((format(printf, 2, 3)))
notify_send(bool status_only, const char *fmt, ...)
{
	struct notify_msg m;
	va_list ap;
	int n;

	if (nt.fd == -1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(m.text, sizeof(m.text), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	m.len = (size_t)n < sizeof(m.text) ? (size_t)n : sizeof(m.text) - 1;
	m.status_only = status_only;
	notify_flush();
	if (nt.qlen > 0 || notify_sendto(&m) == 0)
		notify_queue(m.text, m.len, status_only);
}

static uint64_t
notify_monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Every pool serves: systemd's READY=1, and s6's newline. */
void
notify_ready(const char *status)
{
	ssize_t n;

	notify_send(false, "READY=1\nSTATUS=%s\n", status);
	if (nt.ready_fd == -1)
		return;
	/* a pipe with room for a byte; a peer gone is no reason to wait */
	do
		n = write(nt.ready_fd, "\n", 1);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		log_warn("--ready-fd %d: the supervisor was not told that fpmd "
		    "is ready", nt.ready_fd);
	close(nt.ready_fd);
	nt.ready_fd = -1;
}

void
notify_reloading(const char *status)
{
	notify_send(false, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=%s\n",
	    (unsigned long long)notify_monotonic_usec(), status);
}

/* The end of a reload, whatever it came to: serving again. */
void
notify_reloaded(const char *status)
{
	notify_send(false, "READY=1\nSTATUS=%s\n", status);
}

void
notify_stopping(const char *status)
{
	notify_send(false, "STOPPING=1\nSTATUS=%s\n", status);
}

void
notify_status(const char *status)
{
	notify_send(true, "STATUS=%s\n", status);
}

/* A ping nobody reads is worth nothing: dropped first, as a STATUS. */
void
notify_watchdog(void)
{
	notify_send(true, "WATCHDOG=1\n");
}

void
notify_close(void)
{
	notify_flush();
	if (nt.fd != -1)
		close(nt.fd);
	nt.fd = -1;
	if (nt.ready_fd != -1)
		close(nt.ready_fd);
	nt.ready_fd = -1;
}
