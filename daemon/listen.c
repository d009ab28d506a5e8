/*
 * Listening sockets.  They belong to the master and are inherited by the
 * prototypes and workers, which accept on them directly.  A unix path that
 * still answers connect() belongs to a live server, and fpmd refuses to
 * start on top of it; one that refuses is stale and is replaced.  TCP
 * sockets use SO_REUSEADDR, and since every child dies with the master
 * (PR_SET_PDEATHSIG) a restarted master never finds its port still held.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fpmd.h"

static int
listen_unix_in_use(const struct sockaddr_un *sun, socklen_t len)
{
	int fd, rc;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	rc = connect(fd, (const struct sockaddr *)sun, len);
	close(fd);
	return rc == 0;
}

static int
listen_bind(int fd, const struct sockaddr *sa, socklen_t len,
    const char *text)
{
	if (bind(fd, sa, len) == -1) {
		log_error("unable to bind listening socket for address '%s'",
		    text);
		return -1;
	}
	return 0;
}

int
listen_open(const struct pool_conf *pc)
{
	const struct listen_addr *a = &pc->addr;
	struct sockaddr_in6 any6;
	struct sockaddr_in any4;
	const struct sockaddr_un *sun;
	mode_t omask;
	int fd = -1, on = 1, off = 0;

	switch (a->family) {
	case AF_UNIX:
		sun = (const struct sockaddr_un *)&a->ss;
		if (listen_unix_in_use(sun, a->sslen) == 1) {
			log_errorx("[pool %s] another server is listening on "
			    "'%s': stop it or choose another listen path",
			    pc->name, a->text);
			return -1;
		}
		if (unlink(sun->sun_path) == -1 && errno != ENOENT) {
			log_error("[pool %s] cannot remove stale socket '%s'",
			    pc->name, a->text);
			return -1;
		}
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			goto fail_sys;
		/* The mode is right from the first moment the path exists. */
		omask = umask(0777 & ~pc->listen_mode);
		if (listen_bind(fd, (const struct sockaddr *)sun, a->sslen,
		    a->text) == -1) {
			umask(omask);
			goto fail;
		}
		umask(omask);
		if ((pc->listen_uid != (uid_t)-1 ||
		    pc->listen_gid != (gid_t)-1) &&
		    chown(sun->sun_path, pc->listen_uid, pc->listen_gid) == -1) {
			log_error("[pool %s] chown of '%s'", pc->name, a->text);
			goto fail;
		}
		break;
	case AF_INET:
	case AF_INET6:
		if ((fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			goto fail_sys;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (listen_bind(fd, (const struct sockaddr *)&a->ss, a->sslen,
		    a->text) == -1)
			goto fail;
		break;
	case AF_UNSPEC:
		/* A bare port: every address, IPv6 and IPv4 on one socket. */
		memset(&any6, 0, sizeof(any6));
		any6.sin6_family = AF_INET6;
		any6.sin6_port = ((const struct sockaddr_in *)&a->ss)->sin_port;
		any6.sin6_addr = in6addr_any;
		if ((fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1) {
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off,
			    sizeof(off));
			if (bind(fd, (struct sockaddr *)&any6, sizeof(any6)) == 0)
				break;
			close(fd);
		}
		memset(&any4, 0, sizeof(any4));
		any4.sin_family = AF_INET;
		any4.sin_port = any6.sin6_port;
		any4.sin_addr.s_addr = htonl(INADDR_ANY);
		if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			goto fail_sys;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (listen_bind(fd, (struct sockaddr *)&any4, sizeof(any4),
		    a->text) == -1)
			goto fail;
		break;
	default:
		log_errorx("[pool %s] unknown address family", pc->name);
		return -1;
	}
	if (listen(fd, pc->listen_backlog) == -1) {
		log_error("[pool %s] listen on '%s'", pc->name, a->text);
		goto fail;
	}
	log_debug("[pool %s] listening on '%s'", pc->name, a->text);
	return fd;

fail_sys:
	log_error("[pool %s] socket", pc->name);
fail:
	if (fd != -1)
		close(fd);
	return -1;
}

void
listen_close(const struct listen_addr *addr, int fd)
{
	if (fd == -1)
		return;
	close(fd);
	if (addr->family == AF_UNIX)
		unlink(((const struct sockaddr_un *)&addr->ss)->sun_path);
}
