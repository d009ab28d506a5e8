/*
 * What the status command reports, computed by the master from the
 * scoreboard and the listening sockets: the master answers status itself,
 * so it needs no free worker.  The listen queue is read from the kernel for
 * unix sockets too (sock_diag), where php-fpm always reports 0.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fpmd.h"

static const char *const state_names[] = {
	"Free", "Starting", "Idle", "Reading headers",
	"Getting request information", "Running", "Ending", "Finishing"
};

const char *
status_state_name(int state)
{
	if (state < 0 || (size_t)state >= sizeof(state_names) /
	    sizeof(state_names[0]))
		return "Unknown";
	return state_names[state];
}

static int
unix_queue(int fd, int *cur, int *max)
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
	if ((n = recv(ns, buf, sizeof(buf), 0)) <= 0)
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

int
listen_queue(const struct listener *ls, int *cur, int *max)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	*cur = 0;
	*max = ls->backlog;
	if (ls->addr.family == AF_UNIX)
		return unix_queue(ls->fd, cur, max);
	if (getsockopt(ls->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
		return -1;
	/* On a listening socket: the accept queue and its limit. */
	*cur = (int)ti.tcpi_unacked;
	*max = (int)ti.tcpi_sacked;
	return 0;
}

void
status_pool(const struct pool *p, struct pool_status *st)
{
	const struct sb_pool *sp = &fpmd->sb->pools[p->index];
	struct sb_slot copy;
	uint32_t i;

	memset(st, 0, sizeof(*st));
	st->accepted = __atomic_load_n(&sp->accepted, __ATOMIC_RELAXED);
	st->slow_requests = sp->slow_requests;
	st->max_children_reached = sp->max_children_reached;
	for (i = 0; i < fpmd->sb->nslots; i++) {
		if (fpmd->slots[i].gen == NULL ||
		    fpmd->slots[i].gen->pool != p)
			continue;
		sb_slot_read(&fpmd->sb->slots[i], &copy);
		st->total++;
		if (copy.state == SLOT_IDLE || copy.state == SLOT_STARTING)
			st->idle++;
		else
			st->active++;
	}
	if (p->cur != NULL)
		listen_queue(p->cur->ls, &st->listen_queue,
		    &st->listen_queue_len);
	st->max_listen_queue = sp->max_listen_queue > st->listen_queue ?
	    sp->max_listen_queue : st->listen_queue;
	st->max_active = sp->max_active > st->active ? sp->max_active :
	    st->active;
}
