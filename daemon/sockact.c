/*
 * Socket activation: listening sockets handed over by the supervisor
 * (systemd's LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES, from descriptor 3
 * on) instead of bound by fpmd.  The supervisor keeps its own copy, so a
 * socket outlives fpmd: connections that arrive while fpmd restarts wait
 * in its queue and are served by the next fpmd.
 *
 * A socket goes to the pool whose name it carries (FileDescriptorName=),
 * else to whatever listen address it is bound to.  Those no pool takes at
 * start-up are said and closed.  The master keeps the ones it took for
 * its whole life: a listener holds a duplicate, so a reload that leaves an
 * address and a later one that comes back find the same socket, and fpmd
 * never unlinks, shuts down or re-configures a socket it did not make
 * (listen.c) — the supervisor's unit says its mode and backlog.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fpmd.h"

#define SOCKACT_FD_START	3
#define SOCKACT_MAX		256

struct sockact {
	int			 fd;		/* -1: closed */
	char			*name;		/* NULL: none given */
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 text[FPMD_ADDR_MAX];
	bool			 taken;
};

static struct sockact	*sa;
static int		 nsa;

static void
sockact_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_un *sun = (const struct sockaddr_un *)ss;
	char ntop[INET6_ADDRSTRLEN];

	switch (ss->ss_family) {
	case AF_UNIX:
		if (sun->sun_path[0] == '\0')
			snprintf(buf, len, "@%s", sun->sun_path + 1);
		else
			snprintf(buf, len, "%s", sun->sun_path);
		break;
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, ntop, sizeof(ntop));
		snprintf(buf, len, "%s:%u", ntop, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &sin6->sin6_addr, ntop, sizeof(ntop));
		snprintf(buf, len, "[%s]:%u", ntop, ntohs(sin6->sin6_port));
		break;
	default:
		snprintf(buf, len, "(family %d)", ss->ss_family);
		break;
	}
}

/* One descriptor the supervisor passed: a listening stream socket? */
static int
sockact_check(struct sockact *s, int fd)
{
	struct stat st;
	int type = 0, acc = 0;
	socklen_t len;

	if (fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode)) {
		log_warnx("socket activation: descriptor %d%s%s%s is not a "
		    "socket: closed", fd, s->name ? " ('" : "",
		    s->name ? s->name : "", s->name ? "')" : "");
		return -1;
	}
	len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1)
		type = 0;
	len = sizeof(acc);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == -1)
		acc = 0;
	s->sslen = sizeof(s->ss);
	if (getsockname(fd, (struct sockaddr *)&s->ss, &s->sslen) == -1)
		memset(&s->ss, 0, sizeof(s->ss));
	sockact_text(&s->ss, s->text, sizeof(s->text));
	if (type != SOCK_STREAM || !acc) {
		log_warnx("socket activation: descriptor %d%s%s%s on '%s' is "
		    "not a listening stream socket (ListenStream= in the "
		    "unit, Accept=no): closed", fd, s->name ? " ('" : "",
		    s->name ? s->name : "", s->name ? "')" : "", s->text);
		return -1;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		log_warn("socket activation: descriptor %d", fd);
		return -1;
	}
	return 0;
}

/*
 * Reads the variables (and removes them, so that no pool sees them).
 * They are for us only when LISTEN_PID is our pid: otherwise they were
 * meant for a process that ran us, and the descriptors are not ours.
 */
void
sockact_init(void)
{
	const char *pid_s, *fds_s, *names_s;
	char *names = NULL, *p, *next, *end;
	long pid, n;
	int i;

	pid_s = getenv("LISTEN_PID");
	fds_s = getenv("LISTEN_FDS");
	names_s = getenv("LISTEN_FDNAMES");
	if (pid_s == NULL || fds_s == NULL)
		goto done;
	errno = 0;
	pid = strtol(pid_s, &end, 10);
	if (errno != 0 || *end != '\0' || pid != (long)getpid()) {
		log_debug("socket activation: LISTEN_PID=%s is not fpmd's pid "
		    "%d: the sockets are not for fpmd", pid_s, (int)getpid());
		goto done;
	}
	errno = 0;
	n = strtol(fds_s, &end, 10);
	if (errno != 0 || *end != '\0' || n < 0 || n > SOCKACT_MAX) {
		log_warnx("socket activation: LISTEN_FDS=%s is not a number "
		    "from 0 to %d: no socket taken", fds_s, SOCKACT_MAX);
		goto done;
	}
	if (n == 0)
		goto done;
	if ((sa = calloc((size_t)n, sizeof(*sa))) == NULL) {
		log_error("%s: calloc", __func__);
		goto done;
	}
	if (names_s != NULL && (names = strdup(names_s)) == NULL)
		log_error("%s: strdup", __func__);
	nsa = (int)n;
	p = names;
	for (i = 0; i < nsa; i++) {
		sa[i].fd = SOCKACT_FD_START + i;
		if (p != NULL) {
			if ((next = strchr(p, ':')) != NULL)
				*next++ = '\0';
			if (*p != '\0' && (sa[i].name = strdup(p)) == NULL)
				log_error("%s: strdup", __func__);
			p = next;
		}
		if (sockact_check(&sa[i], sa[i].fd) == -1) {
			close(sa[i].fd);
			sa[i].fd = -1;
		} else
			log_debug("socket activation: descriptor %d ('%s') on "
			    "'%s'", sa[i].fd, sa[i].name ? sa[i].name : "",
			    sa[i].text);
	}
	free(names);
done:
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

/* Whether the socket s is bound to the address a names. */
static bool
sockact_same(const struct sockact *s, const struct listen_addr *a)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&s->ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&s->ss;
	const struct sockaddr_in *ain = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in6 *ain6 = (const struct sockaddr_in6 *)&a->ss;

	switch (a->family) {
	case AF_UNIX:
		return s->ss.ss_family == AF_UNIX && strcmp(((const struct
		    sockaddr_un *)&s->ss)->sun_path, ((const struct
		    sockaddr_un *)&a->ss)->sun_path) == 0;
	case AF_INET:
		return s->ss.ss_family == AF_INET &&
		    sin->sin_port == ain->sin_port &&
		    sin->sin_addr.s_addr == ain->sin_addr.s_addr;
	case AF_INET6:
		return s->ss.ss_family == AF_INET6 &&
		    sin6->sin6_port == ain6->sin6_port &&
		    memcmp(&sin6->sin6_addr, &ain6->sin6_addr,
		    sizeof(sin6->sin6_addr)) == 0;
	case AF_UNSPEC:
		/* a bare port: any address, on either family */
		if (s->ss.ss_family == AF_INET6)
			return sin6->sin6_port == ain6->sin6_port &&
			    IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
		return s->ss.ss_family == AF_INET &&
		    sin->sin_port == ain6->sin6_port &&
		    sin->sin_addr.s_addr == htonl(INADDR_ANY);
	default:
		return false;
	}
}

/*
 * A descriptor of the socket passed for pc's address a (named after the
 * pool, for its own listen; else bound there), or -1 when there is none
 * and fpmd binds the address itself.
 */
int
sockact_take(const struct pool_conf *pc, const struct listen_addr *a)
{
	struct sockact *s = NULL;
	int i, fd;

	if (a == &pc->addr)
		for (i = 0; i < nsa && s == NULL; i++)
			if (sa[i].fd != -1 && sa[i].name != NULL &&
			    strcmp(sa[i].name, pc->name) == 0)
				s = &sa[i];
	for (i = 0; i < nsa && s == NULL; i++)
		if (sa[i].fd != -1 && sockact_same(&sa[i], a))
			s = &sa[i];
	if (s == NULL)
		return -1;
	if ((fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		log_error("[pool %s] socket activation: dup of descriptor %d",
		    pc->name, s->fd);
		return -1;
	}
	/* the workers wait in accept(): a blocking socket */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == -1)
		log_warn("[pool %s] socket activation: fcntl", pc->name);
	if (!s->taken) {
		if (sockact_same(s, a))
			log_notice("[pool %s] listening on '%s', the socket "
			    "the supervisor passed (descriptor %d%s%s%s)",
			    pc->name, s->text, s->fd, s->name ? ", '" : "",
			    s->name ? s->name : "", s->name ? "'" : "");
		else
			log_notice("[pool %s] listening on '%s', the socket "
			    "the supervisor passed as '%s' (descriptor %d), "
			    "instead of '%s'", pc->name, s->text, s->name,
			    s->fd, a->text);
	}
	s->taken = true;
	return fd;
}

/* After start-up: what no pool took is not ours to keep. */
void
sockact_close_unused(void)
{
	int i;

	for (i = 0; i < nsa; i++) {
		if (sa[i].fd == -1 || sa[i].taken)
			continue;
		log_warnx("socket activation: no pool listens on '%s' "
		    "(descriptor %d%s%s%s): closed; name the socket after its "
		    "pool (FileDescriptorName=) or give the pool that listen "
		    "address", sa[i].text, sa[i].fd, sa[i].name ? ", '" : "",
		    sa[i].name ? sa[i].name : "", sa[i].name ? "'" : "");
		close(sa[i].fd);
		sa[i].fd = -1;
	}
}

void
sockact_close(void)
{
	int i;

	for (i = 0; i < nsa; i++) {
		if (sa[i].fd != -1)
			close(sa[i].fd);
		free(sa[i].name);
	}
	free(sa);
	sa = NULL;
	nsa = 0;
}
