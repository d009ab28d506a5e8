/*
 * Listening sockets.  They belong to the master and are inherited by the
 * prototypes and workers, which accept on them directly.  A listener is
 * shared, by reference count, by every generation that serves its address,
 * so a reload never closes and reopens a socket the web server is talking
 * to; when a reload changes the socket's mode, owner, group or backlog, the
 * new values are applied to the socket in place once the reload commits.
 *
 * A unix path that still answers connect() belongs to a live server, and
 * fpmd refuses to start on top of it; one that refuses is stale and is
 * replaced.  The probe never blocks: a live server with a full backlog
 * answers EAGAIN, which counts as live.  TCP sockets use SO_REUSEADDR, and
 * since every child dies with the master (PR_SET_PDEATHSIG) a restarted
 * master never finds its port still held.
 *
 * The listen queue is read from the kernel for unix sockets too (sock_diag),
 * where php-fpm always reports 0.
 *
 * A socket the supervisor passed (sockact.c) is used as it is: fpmd never
 * unlinks its path, shuts it down or changes its mode, owner or backlog,
 * since the supervisor keeps it open across fpmd's restarts.
 *
 * A graceful stop shuts the pools' unix sockets for reading first
 * (listen_shut_all): the kernel then refuses a new connect() at once with
 * ECONNREFUSED, so a web server tries another backend, while the
 * connections already queued can still be accepted; the workers serve
 * them before they exit (worker.c), where before they were reset when
 * fpmd exited.  A TCP listener cannot do that: shutdown() on it drops its
 * queue (the queued connections are reset and accept() fails with
 * EINVAL), so TCP listeners stay open as they were.
 *
 * listen.acl_users and listen.acl_groups give a unix socket a POSIX
 * access ACL: the entries of its mode, one read-write entry for each user
 * and group named, and the mask that lets them in.  It is written as the
 * kernel's own xattr (system.posix_acl_access), the form libacl writes
 * too, so fpmd needs no libacl for these few lines; getfacl shows it.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fpmd.h"

static struct listener	*listeners;

_Static_assert(sizeof(uid_t) == 4 && sizeof(gid_t) == 4, "ACL ids");

/* The kernel's xattr form of an access ACL (linux/posix_acl_xattr.h). */
#define ACL_XATTR		"system.posix_acl_access"
#define ACL_XATTR_VERSION	0x0002
#define ACL_TAG_USER_OBJ	0x01
#define ACL_TAG_USER		0x02
#define ACL_TAG_GROUP_OBJ	0x04
#define ACL_TAG_GROUP		0x08
#define ACL_TAG_MASK		0x10
#define ACL_TAG_OTHER		0x20
#define ACL_RW			0x06	/* read and write: connect */

struct acl_entry {
	uint16_t	e_tag;
	uint16_t	e_perm;
	uint32_t	e_id;
};

static int
acl_cmp_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* ids sorted and without repeats, as the kernel wants its entries. */
static size_t
acl_ids(uint32_t *out, const void *ids, size_t n)
{
	size_t i, k = 0;

	if (n == 0)
		return 0;
	memcpy(out, ids, n * sizeof(uint32_t));
	qsort(out, n, sizeof(uint32_t), acl_cmp_id);
	for (i = 0; i < n; i++)
		if (k == 0 || out[k - 1] != out[i])
			out[k++] = out[i];
	return k;
}

static void
acl_put(struct acl_entry *e, uint16_t tag, int perm, uint32_t id)
{
	e->e_tag = htole16(tag);
	e->e_perm = htole16((uint16_t)perm);
	e->e_id = htole32(id);
}

/*
 * The ACL of listen.acl_users/acl_groups on the socket at path, over its
 * mode: the socket is made before, with the mode, so it is never open to
 * more than the mode says.
 */
static int
listen_acl_set(const char *path, int mode, const struct pool_conf *pc)
{
	struct acl_entry *e = NULL;
	uint32_t *uids = NULL, *gids = NULL, hdr;
	size_t nu, ng, n = 0, i;
	char *buf = NULL;
	int rc = -1;

	uids = calloc(pc->nacl_uids + 1, sizeof(*uids));
	gids = calloc(pc->nacl_gids + 1, sizeof(*gids));
	e = calloc(pc->nacl_uids + pc->nacl_gids + 4, sizeof(*e));
	buf = malloc(sizeof(hdr) + (pc->nacl_uids + pc->nacl_gids + 4) *
	    sizeof(*e));
	if (uids == NULL || gids == NULL || e == NULL || buf == NULL) {
		log_error("%s: calloc", __func__);
		goto done;
	}
	nu = acl_ids(uids, pc->acl_uids, pc->nacl_uids);
	ng = acl_ids(gids, pc->acl_gids, pc->nacl_gids);
	acl_put(&e[n++], ACL_TAG_USER_OBJ, (mode >> 6) & 7, (uint32_t)-1);
	for (i = 0; i < nu; i++)
		acl_put(&e[n++], ACL_TAG_USER, ACL_RW, uids[i]);
	acl_put(&e[n++], ACL_TAG_GROUP_OBJ, (mode >> 3) & 7, (uint32_t)-1);
	for (i = 0; i < ng; i++)
		acl_put(&e[n++], ACL_TAG_GROUP, ACL_RW, gids[i]);
	acl_put(&e[n++], ACL_TAG_MASK, ACL_RW | ((mode >> 3) & 7),
	    (uint32_t)-1);
	acl_put(&e[n++], ACL_TAG_OTHER, mode & 7, (uint32_t)-1);
	hdr = htole32(ACL_XATTR_VERSION);
	memcpy(buf, &hdr, sizeof(hdr));
	memcpy(buf + sizeof(hdr), e, n * sizeof(*e));
	if (setxattr(path, ACL_XATTR, buf, sizeof(hdr) + n * sizeof(*e),
	    0) == -1) {
		log_error("[pool %s] listen.acl_users/listen.acl_groups: "
		    "cannot set the ACL of '%s'%s", pc->name, path,
		    errno == EOPNOTSUPP ? " (its file system takes no POSIX "
		    "ACLs: put the socket elsewhere, or use listen.owner "
		    "and listen.group)" : "");
		goto done;
	}
	rc = 0;
done:
	free(uids);
	free(gids);
	free(e);
	free(buf);
	return rc;
}

static bool
listen_acl_wanted(const struct pool_conf *pc)
{
	return pc->nacl_uids > 0 || pc->nacl_gids > 0;
}

/* 1: a server answers on path, 0: nobody does, -1: cannot tell. */
static int
listen_unix_in_use(const struct sockaddr_un *sun, socklen_t len)
{
	int fd, rc;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return -1;
	rc = connect(fd, (const struct sockaddr *)sun, len);
	if (rc == 0 || errno == EAGAIN || errno == EINPROGRESS)
		rc = 1;
	else if (errno == ECONNREFUSED || errno == ENOENT)
		rc = 0;
	else
		rc = -1;
	close(fd);
	return rc;
}

/*
 * A listening unix socket at path, made with its final mode so that it is
 * never open to all for a moment.  what names it in messages.
 */
int
listen_unix(const char *path, int mode, uid_t uid, gid_t gid, int backlog,
    const char *what)
{
	struct sockaddr_un sun;
	socklen_t len;
	mode_t omask;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_errorx("%s: the path '%s' is too long for a unix socket",
		    what, path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(path) + 1);
	if (listen_unix_in_use(&sun, len) == 1) {
		log_errorx("%s: another server is listening on '%s': stop it "
		    "or choose another path", what, path);
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		log_error("%s: cannot remove the stale socket '%s'", what, path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_error("%s: socket", what);
		return -1;
	}
	omask = umask(0777 & ~mode);
	if (bind(fd, (struct sockaddr *)&sun, len) == -1) {
		umask(omask);
		log_error("%s: unable to bind listening socket for address "
		    "'%s'", what, path);
		goto fail;
	}
	umask(omask);
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    chown(path, uid, gid) == -1) {
		log_error("%s: chown of '%s'", what, path);
		goto fail_unlink;
	}
	if (listen(fd, backlog) == -1) {
		log_error("%s: listen on '%s'", what, path);
		goto fail_unlink;
	}
	return fd;
fail_unlink:
	unlink(path);
fail:
	close(fd);
	return -1;
}

static int
listen_inet(const struct pool_conf *pc, const struct listen_addr *a)
{
	struct sockaddr_in6 any6;
	struct sockaddr_in any4;
	int fd, on = 1, off = 0;

	if (a->family != AF_UNSPEC) {
		if ((fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
		    -1)
			goto fail_sys;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (bind(fd, (const struct sockaddr *)&a->ss, a->sslen) == -1)
			goto fail_bind;
		goto done;
	}
	/* A bare port: every address, IPv6 and IPv4 on one socket. */
	memset(&any6, 0, sizeof(any6));
	any6.sin6_family = AF_INET6;
	any6.sin6_port = ((const struct sockaddr_in *)&a->ss)->sin_port;
	any6.sin6_addr = in6addr_any;
	if ((fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
		if (bind(fd, (struct sockaddr *)&any6, sizeof(any6)) == 0)
			goto done;
		close(fd);
	}
	memset(&any4, 0, sizeof(any4));
	any4.sin_family = AF_INET;
	any4.sin_port = any6.sin6_port;
	any4.sin_addr.s_addr = htonl(INADDR_ANY);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		goto fail_sys;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&any4, sizeof(any4)) == -1)
		goto fail_bind;
done:
	if (listen(fd, pc->listen_backlog) == -1) {
		log_error("[pool %s] listen on '%s'", pc->name, a->text);
		close(fd);
		return -1;
	}
	return fd;
fail_bind:
	log_error("unable to bind listening socket for address '%s'", a->text);
	close(fd);
	return -1;
fail_sys:
	log_error("[pool %s] socket", pc->name);
	return -1;
}

static void
listen_settings(struct listener *ls, const struct pool_conf *pc)
{
	ls->backlog = pc->listen_backlog;
	ls->mode = pc->listen_mode;
	ls->uid = pc->listen_uid;
	ls->gid = pc->listen_gid;
}

/*
 * The listener for address a (pc's listen, or its pm.status_listen), with
 * pc's mode, owner, group and backlog: the one in use, or a new socket.
 */
struct listener *
listen_get_at(const struct pool_conf *pc, const struct listen_addr *a)
{
	struct listener *ls;
	char what[64];

	for (ls = listeners; ls != NULL; ls = ls->next)
		if (!ls->retired && strcmp(ls->addr.text, a->text) == 0) {
			ls->refs++;
			return ls;
		}
	if ((ls = calloc(1, sizeof(*ls))) == NULL) {
		log_error("%s: calloc", __func__);
		return NULL;
	}
	if ((ls->fd = sockact_take(pc, a)) != -1)
		ls->inherited = true;
	else if (a->family == AF_UNIX) {
		snprintf(what, sizeof(what), "[pool %s]", pc->name);
		ls->fd = listen_unix(((const struct sockaddr_un *)
		    &a->ss)->sun_path, pc->listen_mode, pc->listen_uid,
		    pc->listen_gid, pc->listen_backlog, what);
		if (ls->fd != -1 && listen_acl_wanted(pc)) {
			if (listen_acl_set(((const struct sockaddr_un *)
			    &a->ss)->sun_path, pc->listen_mode, pc) == -1) {
				unlink(((const struct sockaddr_un *)
				    &a->ss)->sun_path);
				close(ls->fd);
				ls->fd = -1;
			} else
				ls->acl = true;
		}
	} else
		ls->fd = listen_inet(pc, a);
	if (ls->fd == -1) {
		free(ls);
		return NULL;
	}
	ls->addr = *a;
	listen_settings(ls, pc);
	ls->refs = 1;
	ls->next = listeners;
	listeners = ls;
	log_debug("[pool %s] listening on '%s'", pc->name, a->text);
	return ls;
}

struct listener *
listen_get(const struct pool_conf *pc)
{
	return listen_get_at(pc, &pc->addr);
}

/* For a socket only the master accepts on (pm.status_listen). */
int
listen_nonblock(struct listener *ls)
{
	if (fcntl(ls->fd, F_SETFL, O_NONBLOCK) == -1) {
		log_error("fcntl of the listener on '%s'", ls->addr.text);
		return -1;
	}
	ls->master = true;
	return 0;
}

/*
 * A graceful stop begins: every pool's unix socket refuses new
 * connections from now on, and those queued stay to be accepted by the
 * workers, which serve them and then exit.  Before the workers are told
 * to stop, so that none leaves a queue it could have served.  Not the
 * supervisor's sockets (they queue for the next fpmd), not the master's
 * own (pm.status_listen: it would wake epoll for ever), not TCP (see the
 * top of the file).
 */
void
listen_shut_all(void)
{
	struct listener *ls;
	struct stat st;
	const char *path;
	int cur, max;

	for (ls = listeners; ls != NULL; ls = ls->next) {
		if (ls->retired || ls->shut || ls->inherited || ls->master ||
		    ls->addr.family != AF_UNIX)
			continue;
		path = ((const struct sockaddr_un *)&ls->addr.ss)->sun_path;
		/* which file is ours, should another fpmd take the path */
		if (stat(path, &st) == 0) {
			ls->shut_dev = st.st_dev;
			ls->shut_ino = st.st_ino;
		}
		if (shutdown(ls->fd, SHUT_RD) == -1) {
			log_warn("shutdown of the listener on '%s'", path);
			continue;
		}
		ls->shut = true;
		if (listen_fd_queue(ls->fd, &cur, &max) == -1)
			cur = 0;
		log_notice("'%s' refuses new connections; the %d queued "
		    "are served before fpmd exits", path, cur);
	}
}

/*
 * A reload that kept the address may have changed how the socket is
 * offered: apply it to the socket in place.  Unset owner and group mean
 * fpmd's own, as for a new socket.
 */
int
listen_apply(struct listener *ls, const struct pool_conf *pc)
{
	const char *path;
	uid_t uid;
	gid_t gid;
	int rc = 0;

	if (ls->inherited)
		return 0;	/* the supervisor's unit says how */
	if (ls->backlog != pc->listen_backlog) {
		/* listen() again on a listening socket sets its backlog. */
		if (listen(ls->fd, pc->listen_backlog) == -1) {
			log_warn("[pool %s] listen.backlog %d on '%s'",
			    pc->name, pc->listen_backlog, ls->addr.text);
			rc = -1;
		} else
			ls->backlog = pc->listen_backlog;
	}
	if (ls->addr.family != AF_UNIX) {
		listen_settings(ls, pc);
		return rc;
	}
	path = ((const struct sockaddr_un *)&ls->addr.ss)->sun_path;
	if (ls->mode != pc->listen_mode &&
	    chmod(path, (mode_t)pc->listen_mode) == -1) {
		log_warn("[pool %s] listen.mode %04o on '%s'", pc->name,
		    pc->listen_mode, path);
		rc = -1;
	}
	if (ls->uid != pc->listen_uid || ls->gid != pc->listen_gid) {
		uid = pc->listen_uid != (uid_t)-1 ? pc->listen_uid : geteuid();
		gid = pc->listen_gid != (gid_t)-1 ? pc->listen_gid : getegid();
		if (chown(path, uid, gid) == -1) {
			log_warn("[pool %s] listen.owner/listen.group on '%s'",
			    pc->name, path);
			rc = -1;
		}
	}
	/* the ACL anew (its entries may have changed), or none any more */
	if (listen_acl_wanted(pc)) {
		if (listen_acl_set(path, pc->listen_mode, pc) == -1)
			rc = -1;
		else
			ls->acl = true;
	} else if (ls->acl) {
		if ((removexattr(path, ACL_XATTR) == -1 && errno != ENODATA) ||
		    chmod(path, (mode_t)pc->listen_mode) == -1) {
			log_warn("[pool %s] removing the ACL of '%s'",
			    pc->name, path);
			rc = -1;
		} else
			ls->acl = false;
	}
	if (rc == 0)
		listen_settings(ls, pc);
	return rc;
}

/*
 * No generation that serves listens here any more; the old ones drain and
 * accept nothing.  The address is given up at once: the unix path goes,
 * and the socket stops listening, so that a client is refused (and a web
 * server tries elsewhere) instead of waiting in a queue nobody reads.  The
 * descriptor itself closes with the last generation that holds it.
 */
void
listen_retire(struct listener *ls)
{
	if (ls->retired)
		return;
	ls->retired = true;
	ev_del(&ls->ev);
	if (ls->inherited) {
		/* the supervisor's socket: it queues for the next fpmd */
		log_debug("listener on '%s' retired", ls->addr.text);
		return;
	}
	if (ls->addr.family == AF_UNIX)
		unlink(((const struct sockaddr_un *)&ls->addr.ss)->sun_path);
	if (shutdown(ls->fd, SHUT_RDWR) == -1)
		log_warn("shutdown of the listener on '%s'", ls->addr.text);
	log_debug("listener on '%s' retired", ls->addr.text);
}

/*
 * A shut socket refuses connections, so an fpmd started meanwhile takes
 * its path as stale and binds its own there: that one is not ours to
 * remove.
 */
static bool
listen_path_ours(const struct listener *ls)
{
	struct stat st;

	if (!ls->shut || ls->shut_ino == 0)
		return true;
	if (stat(((const struct sockaddr_un *)&ls->addr.ss)->sun_path,
	    &st) == -1)
		return false;
	return st.st_dev == ls->shut_dev && st.st_ino == ls->shut_ino;
}

void
listen_unref(struct listener *ls)
{
	struct listener **lp;

	if (ls == NULL || --ls->refs > 0)
		return;
	for (lp = &listeners; *lp != NULL; lp = &(*lp)->next)
		if (*lp == ls) {
			*lp = ls->next;
			break;
		}
	ev_del(&ls->ev);
	close(ls->fd);
	if (ls->addr.family == AF_UNIX && !ls->retired && !ls->inherited &&
	    listen_path_ours(ls))
		unlink(((const struct sockaddr_un *)&ls->addr.ss)->sun_path);
	ev_free_later(ls, NULL);
}

static int
listen_unix_queue(int fd, int *cur, int *max)
{
	struct {
		struct nlmsghdr		nlh;
		struct unix_diag_req	req;
	} rq;
	char buf[1024];
	struct sockaddr_nl nl;
	struct nlmsghdr *h;
	struct unix_diag_msg *m;
	struct rtattr *a;
	struct stat st;
	ssize_t n;
	int ns, len, rc = -1;

	if (fstat(fd, &st) == -1)
		return -1;
	if ((ns = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) == -1)
		return -1;
	memset(&rq, 0, sizeof(rq));
	rq.nlh.nlmsg_len = sizeof(rq);
	rq.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	rq.nlh.nlmsg_flags = NLM_F_REQUEST;
	rq.req.sdiag_family = AF_UNIX;
	rq.req.udiag_states = 1 << 10;		/* TCP_LISTEN */
	rq.req.udiag_ino = (unsigned)st.st_ino;
	rq.req.udiag_show = UDIAG_SHOW_RQLEN;
	rq.req.udiag_cookie[0] = rq.req.udiag_cookie[1] = ~0U;
	memset(&nl, 0, sizeof(nl));
	nl.nl_family = AF_NETLINK;
	if (sendto(ns, &rq, sizeof(rq), 0, (struct sockaddr *)&nl,
	    sizeof(nl)) == -1)
		goto done;
	/* The kernel answers at once; never wait for it. */
	if ((n = recv(ns, buf, sizeof(buf), MSG_DONTWAIT)) <= 0)
		goto done;
	h = (struct nlmsghdr *)buf;
	if (!NLMSG_OK(h, (size_t)n) || h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		goto done;
	m = NLMSG_DATA(h);
	len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	for (a = (struct rtattr *)(m + 1); RTA_OK(a, len);
	    a = RTA_NEXT(a, len)) {
		if (a->rta_type == UNIX_DIAG_RQLEN &&
		    RTA_PAYLOAD(a) >= (int)sizeof(struct unix_diag_rqlen)) {
			struct unix_diag_rqlen *q = RTA_DATA(a);

			*cur = (int)q->udiag_rqueue;
			*max = (int)q->udiag_wqueue;
			rc = 0;
		}
	}
done:
	close(ns);
	return rc;
}

/*
 * Connections waiting to be accepted on a listening socket, and how many
 * may wait.  Only the descriptor is needed, so a worker can ask about the
 * socket it inherited as well as the master.
 */
int
listen_fd_queue(int fd, int *cur, int *max)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	*cur = *max = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		return -1;
	if (ss.ss_family == AF_UNIX)
		return listen_unix_queue(fd, cur, max);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
		return -1;
	/* On a listening socket: the accept queue and its limit. */
	*cur = (int)ti.tcpi_unacked;
	*max = (int)ti.tcpi_sacked;
	return 0;
}

int
listen_queue(const struct listener *ls, int *cur, int *max)
{
	if (listen_fd_queue(ls->fd, cur, max) == -1) {
		*max = ls->backlog;
		return -1;
	}
	return 0;
}
