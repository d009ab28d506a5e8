/*
 * Where the master's error log goes: standard error, a file, or syslog
 * (error_log = syslog, with syslog.ident and syslog.facility), and the
 * settings that shape its lines (log_level, log_format, log_limit).
 * Start-up, a reload, SIGUSR1 and reopen-logs all come through
 * errlog_apply(), so they cannot disagree; SIGUSR1 and reopen-logs through
 * errlog_reopen(), so the new file opens with the same line either way.
 *
 * syslog is spoken here, not through libc's syslog(3): that one blocks
 * when the syslog daemon is slow (it may even wait on a stream socket),
 * and the master must never wait.  A non-blocking datagram socket
 * connected to /dev/log takes one message per line.  When the syslog
 * daemon is behind (the kernel queues only a few datagrams per sender),
 * lines wait in a queue of ours, sent in order as the socket has room
 * (EPOLLOUT); only past ERRLOG_QUEUE_MAX, or with no syslog daemon to talk
 * to, is a line dropped, and the count told on stderr.  When the daemon
 * behind /dev/log restarts, the socket is connected again, at most once a
 * second.  The messages are what glibc's syslog() sends:
 * "<PRI>Mmm dd hh:mm:ss ident[pid]: [LEVEL] text".
 *
 * The environment variable FPMD_SYSLOG_SOCKET names another socket than
 * /dev/log; the tests use it (t/logsock.bats) to listen themselves.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "fpmd.h"

#define ERRLOG_SYSLOG_PATH	"/dev/log"
#define ERRLOG_RETRY_MS		1000	/* connect again at most this often */
#define ERRLOG_WARN_MS		10000	/* losses told at most this often */
#define ERRLOG_MSG_MAX		(64 * 1024)
#define ERRLOG_QUEUE_MAX	(1024 * 1024)	/* bytes waiting */

struct el_msg {
	struct el_msg	*next;
	size_t		 len;
	char		 text[];
};

static struct {
	int		 fd;
	struct ev	 ev;		/* EPOLLOUT, while lines wait */
	bool		 watched;
	char		 ident[72];
	int		 facility;
	int64_t		 retry_at;
	uint64_t	 lost;		/* since last told */
	int64_t		 warned_at;
	struct el_msg	*head, **tail;
	size_t		 queued;	/* bytes */
} el = { .fd = -1, .tail = &el.head };

static void	errlog_flush(void);

static void
errlog_disconnect(void)
{
	if (el.watched)
		ev_del(&el.ev);
	el.watched = false;
	if (el.fd != -1)
		close(el.fd);
	el.fd = -1;
}

static int
errlog_connect(void)
{
	struct sockaddr_un sun;
	const char *path;
	int fd;

	if ((path = getenv("FPMD_SYSLOG_SOCKET")) == NULL || *path == '\0')
		path = ERRLOG_SYSLOG_PATH;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	errlog_disconnect();
	el.fd = fd;
	return 0;
}

/* Only stderr is left to say that syslog does not take our lines. */
static void
errlog_lost(const char *why)
{
	char msg[256];
	int64_t now = now_ms();
	int n;

	el.lost++;
	if (el.warned_at != 0 && now - el.warned_at < ERRLOG_WARN_MS)
		return;
	n = snprintf(msg, sizeof(msg), "fpmd: syslog: %llu log line(s) lost "
	    "(%s)\n", (unsigned long long)el.lost, why);
	if (write(2, msg, (size_t)n) == -1)
		(void)0;
	el.lost = 0;
	el.warned_at = now;
}

static int
errlog_severity(enum log_level level)
{
	switch (level) {
	case LOG_LVL_DEBUG:
		return LOG_DEBUG;
	case LOG_LVL_NOTICE:
		return LOG_NOTICE;
	case LOG_LVL_WARNING:
		return LOG_WARNING;
	case LOG_LVL_ERROR:
		return LOG_ERR;
	case LOG_LVL_ALERT:
		return LOG_ALERT;
	}
	return LOG_NOTICE;
}

static void
errlog_on_writable(struct ev *e, uint32_t events)
{
	errlog_flush();
}

/* Waits for room, unless it is watched already. */
static void
errlog_watch(void)
{
	if (el.watched || el.fd == -1)
		return;
	if (ev_add(&el.ev, el.fd, EPOLLOUT, errlog_on_writable, NULL) == 0)
		el.watched = true;
}

/*
 * One datagram: 1 sent, 0 no room now (EAGAIN), -1 no syslog daemon (the
 * socket is connected again at most once a second).
 */
static int
errlog_send(const char *buf, size_t len)
{
	int tries;

	for (tries = 0; tries < 2; tries++) {
		if (el.fd == -1) {
			if (now_ms() < el.retry_at)
				return -1;
			el.retry_at = now_ms() + ERRLOG_RETRY_MS;
			if (errlog_connect() == -1)
				return -1;
		}
		if (send(el.fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) != -1)
			return 1;
		if (errno == EAGAIN || errno == ENOBUFS)
			return 0;
		if (errno == EMSGSIZE) {
			errlog_lost("a line too long for the syslog socket");
			return 1;
		}
		/* the syslog daemon went away or restarted: connect again */
		errlog_disconnect();
		el.retry_at = 0;
	}
	return -1;
}

/* What waits goes out, in order, as far as the socket takes it. */
static void
errlog_flush(void)
{
	struct el_msg *m;
	int rc = 1;

	while ((m = el.head) != NULL) {
		if ((rc = errlog_send(m->text, m->len)) == 0)
			break;
		if (rc == -1)
			errlog_lost("cannot reach the syslog socket");
		if ((el.head = m->next) == NULL)
			el.tail = &el.head;
		el.queued -= m->len;
		free(m);
	}
	if (el.head == NULL && el.watched) {
		ev_del(&el.ev);
		el.watched = false;
	} else if (el.head != NULL)
		errlog_watch();
}

static void
errlog_queue(const char *buf, size_t len)
{
	struct el_msg *m;

	if (el.queued + len > ERRLOG_QUEUE_MAX) {
		errlog_lost("the syslog daemon does not keep up");
		return;
	}
	if ((m = malloc(sizeof(*m) + len)) == NULL) {
		errlog_lost("out of memory");
		return;
	}
	m->next = NULL;
	m->len = len;
	memcpy(m->text, buf, len);
	*el.tail = m;
	el.tail = &m->next;
	el.queued += len;
	errlog_watch();
}

/* The sink of log.c: one line, "[LEVEL] text", one datagram. */
static void
errlog_syslog(enum log_level level, const char *line, size_t len)
{
	char stackbuf[4096], *buf = stackbuf, when[32];
	struct tm tm;
	time_t t = time(NULL);
	size_t need, n;
	int saved = errno;

	if (len > ERRLOG_MSG_MAX)
		len = ERRLOG_MSG_MAX;	/* log_limit splits long before */
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%b %e %H:%M:%S", &tm);
	need = 64 + sizeof(when) + sizeof(el.ident) + len;
	if (need > sizeof(stackbuf) && (buf = malloc(need)) == NULL) {
		errlog_lost("out of memory");
		errno = saved;
		return;
	}
	n = (size_t)snprintf(buf, need, "<%d>%s %s[%d]: ",
	    el.facility | errlog_severity(level), when, el.ident,
	    (int)getpid());
	memcpy(buf + n, line, len);
	n += len;
	/* behind the lines that wait, or the order would change */
	if (el.head != NULL)
		errlog_flush();
	if (el.head != NULL)
		errlog_queue(buf, n);
	else {
		switch (errlog_send(buf, n)) {
		case 0:
			errlog_queue(buf, n);
			break;
		case -1:
			errlog_lost("cannot reach the syslog socket");
			break;
		}
	}
	if (buf != stackbuf)
		free(buf);
	errno = saved;
}

/* At exit: what still waits is tried once more, then let go. */
void
errlog_close(void)
{
	struct el_msg *m;

	errlog_flush();
	while ((m = el.head) != NULL) {
		el.head = m->next;
		free(m);
		el.lost++;
	}
	el.tail = &el.head;
	el.queued = 0;
	if (el.lost > 0)
		errlog_lost("fpmd exits; the syslog daemon did not take them");
	errlog_disconnect();
}

/*
 * The log as conf says; reopen: the file or the syslog socket anew (at
 * start, on a change, SIGUSR1 and reopen-logs), else only the level and
 * the form.  -1 when a file cannot be opened: the log stays where it
 * was.  A syslog socket that cannot be reached yet is no error (syslog
 * may come up after us): what is lost meanwhile is told on stderr.
 */
int
errlog_apply(const struct fpmd_conf *conf, bool reopen)
{
	log_set_level(conf->log_level);
	log_set_json(conf->log_json);
	log_set_limit((size_t)conf->log_limit);
	if (!reopen)
		return 0;
	if (!conf->log_syslog) {
		if (log_reopen(conf->error_log) == -1)
			return -1;
		log_set_sink(NULL, NULL);
		errlog_close();
		return 0;
	}
	snprintf(el.ident, sizeof(el.ident), "%s",
	    conf->syslog_ident != NULL ? conf->syslog_ident : "fpmd");
	el.facility = conf->syslog_facility;
	el.retry_at = 0;
	if (errlog_connect() == -1) {
		el.retry_at = now_ms() + ERRLOG_RETRY_MS;
		log_warn("error_log = syslog: cannot reach the syslog socket "
		    "yet");
	} else
		errlog_flush();	/* what waited for the old socket */
	/* a file the log had is closed: rotation tools may remove it */
	if (log_get_path() != NULL && log_reopen(NULL) == -1)
		return -1;
	log_set_sink(errlog_syslog, "syslog");
	return 0;
}

/*
 * SIGUSR1 and reopen-logs: the error log and the pools' access logs and
 * slowlogs (logwriter.c) opened anew.  The error log first, so that what
 * goes wrong with the others is told in the new file, which then opens
 * with the line php-fpm writes there too: whoever reads it sees why it
 * starts where it does.  -1 when a file could not be opened (it is in the
 * log), with what in *what: "error" or "access".
 */
int
errlog_reopen(const struct fpmd_conf *conf, const char **what)
{
	int rc = 0;

	*what = NULL;
	if (errlog_apply(conf, true) == -1) {
		*what = "error";
		rc = -1;
	} else
		log_notice("error log file re-opened");
	if (lw_reopen() == -1) {
		if (*what == NULL)
			*what = "access";
		rc = -1;
	}
	return rc;
}
