/*
 * pm.status_listen: an address of its own on which the master itself
 * answers a pool's status page and ping, with no PHP and no worker, so a
 * health check gets its answer at once even when every worker is busy
 * with slow requests.  php-fpm runs a hidden pool of two PHP workers for
 * it; fpmd's master speaks just enough FastCGI: one request per
 * connection, BEGIN_REQUEST and PARAMS read, the answer (statuspage.c, as
 * a worker renders it) written, the connection closed.  What is not the
 * pool's ping or status path (status: "/" when the pool sets none, as
 * php-fpm) gets "File not found." and a 404.
 *
 * Peers are hostile: every connection has a deadline for the whole
 * exchange, a bounded buffer (one record), and the number of them is
 * capped; the master never blocks on one.  A connection is torn down at
 * once and freed after the event batch.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fpmd.h"

#define STL_CONNS_MAX	64		/* connections, all pools */
#define STL_DEADLINE	5000		/* ms for a whole exchange */
#define STL_IN_CAP	(FCGI_HEADER_LEN + FCGI_MAX_CONTENT + 255)

struct stl_conn {
	int			 fd;
	struct ev		 ev;
	struct ev_timer		 t_deadline;
	struct stlisten		*stl;
	uint8_t			*in;
	size_t			 in_len;
	struct fcgi_params	 params;
	uint16_t		 id;
	bool			 begun;
	bool			 answered;	/* reading what is left, to EOF */
	char			*out;
	size_t			 out_len;
	size_t			 out_off;
	bool			 dead;
	struct stl_conn		*next;
};

static struct stl_conn	*stl_conns;
static int		 stl_nconns;

static void
stl_conn_free(void *arg)
{
	struct stl_conn *c = arg;

	fcgi_params_free(&c->params);
	free(c->in);
	free(c->out);
	free(c);
}

static void
stl_conn_close(struct stl_conn *c)
{
	struct stl_conn **cp;

	if (c->dead)
		return;
	c->dead = true;
	ev_del(&c->ev);
	ev_timer_stop(&c->t_deadline);
	close(c->fd);
	for (cp = &stl_conns; *cp != NULL; cp = &(*cp)->next)
		if (*cp == c) {
			*cp = c->next;
			break;
		}
	stl_nconns--;
	if (ev_free_later(c, stl_conn_free) == -1)
		stl_conn_free(c);
}

static void
stl_conn_late(void *arg)
{
	stl_conn_close(arg);
}

/* Appends the records for text as STDOUT, then END_REQUEST. */
static int
stl_reply(struct stl_conn *c, const char *text, size_t len)
{
	size_t n, cap, off = 0;
	uint8_t hdr[FCGI_HEADER_LEN], end[16];
	char *p;

	cap = len + (len / FCGI_MAX_CONTENT + 2) * FCGI_HEADER_LEN +
	    sizeof(end);
	if ((p = malloc(cap)) == NULL)
		return -1;
	c->out = p;
	while (off < len) {
		n = len - off > FCGI_MAX_CONTENT ? FCGI_MAX_CONTENT : len - off;
		fcgi_header_encode(hdr, FCGI_STDOUT, c->id, (uint16_t)n, 0);
		memcpy(p + c->out_len, hdr, sizeof(hdr));
		memcpy(p + c->out_len + sizeof(hdr), text + off, n);
		c->out_len += sizeof(hdr) + n;
		off += n;
	}
	fcgi_header_encode(hdr, FCGI_STDOUT, c->id, 0, 0);
	memcpy(p + c->out_len, hdr, sizeof(hdr));
	c->out_len += sizeof(hdr);
	fcgi_end_request_encode(end, c->id, 0, FCGI_REQUEST_COMPLETE);
	memcpy(p + c->out_len, end, sizeof(end));
	c->out_len += sizeof(end);
	return 0;
}

static void
stl_answer(struct stl_conn *c)
{
	static const char notfound[] = "Status: 404 Not Found\r\n"
	    "Content-type: text/html; charset=UTF-8\r\n\r\nFile not found.\n";
	static const char oom[] = "Status: 500 Internal Server Error\r\n"
	    "Content-type: text/plain\r\n\r\n"
	    "Internal error. Please review log file for errors.";
	struct stlisten *stl = c->stl;
	struct pool *p = stl->pool;
	struct pool_conf pc;
	struct sp_ask a;
	const char *m;
	char *text = NULL;
	size_t len = 0;
	bool ping;

	c->answered = true;
	if (p == NULL || p->cur == NULL) {
		stl_reply(c, notfound, sizeof(notfound) - 1);
		return;
	}
	/* php-fpm's hidden pool answers status on "/" if none is set */
	pc = *p->cur->pc;
	if (pc.status_path == NULL)
		pc.status_path = "/";
	if (!statuspage_match(&pc, &c->params, &ping)) {
		stl_reply(c, notfound, sizeof(notfound) - 1);
		return;
	}
	memset(&a, 0, sizeof(a));
	a.pc = &pc;
	a.sb = fpmd->sb;
	a.pool_index = p->index;
	a.listen_fd = p->cur->ls->fd;
	a.query = FCGI_PARAM(&c->params, "QUERY_STRING");
	m = FCGI_PARAM(&c->params, "REQUEST_METHOD");
	a.head = m != NULL && strcmp(m, "HEAD") == 0;
	/* PHP's defaults: the master has no php.ini of its own */
	a.charset = "UTF-8";
	a.mimetype = "text/html";
	a.argsep = "&";
	if ((text = statuspage_render(&a, ping, &len)) == NULL ||
	    stl_reply(c, text, len) == -1) {
		log_errorx("[pool %s] pm.status_listen: out of memory",
		    p->name);
		free(c->out);
		c->out = NULL;
		c->out_len = 0;
		stl_reply(c, oom, sizeof(oom) - 1);
	}
	free(text);
}

/* Records in, as far as they are whole; -1 when the peer is done with. */
static int
stl_records(struct stl_conn *c)
{
	struct fcgi_record rec;
	uint16_t role;
	uint8_t flags, end[16];
	size_t off = 0;
	ssize_t n;

	while (!c->answered) {
		n = fcgi_record_parse(c->in + off, c->in_len - off, &rec);
		if (n == 0)
			break;
		if (n < 0)
			return -1;
		off += (size_t)n;
		if (!c->begun) {
			if (rec.type != FCGI_BEGIN_REQUEST || rec.id == 0 ||
			    fcgi_begin_parse(&rec, &role, &flags) == -1)
				return -1;
			c->id = rec.id;
			if (role != FCGI_RESPONDER) {
				fcgi_end_request_encode(end, rec.id, 0,
				    FCGI_UNKNOWN_ROLE);
				if ((c->out = malloc(sizeof(end))) == NULL)
					return -1;
				memcpy(c->out, end, sizeof(end));
				c->out_len = sizeof(end);
				c->answered = true;
				break;
			}
			c->begun = true;
			continue;
		}
		if (rec.id != c->id || rec.type != FCGI_PARAMS)
			continue;
		if (rec.clen > 0) {
			if (fcgi_params_append(&c->params, rec.content,
			    rec.clen) == -1)
				return -1;
			continue;
		}
		if (fcgi_params_decode(&c->params) == -1)
			return -1;
		stl_answer(c);
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	if (c->in_len == STL_IN_CAP)
		return -1;	/* no record is that long: not FastCGI */
	return 0;
}

static void
stl_on_io(struct ev *e, uint32_t events)
{
	struct stl_conn *c = e->arg;
	ssize_t n;

	if (c->dead)
		return;
	if (!c->answered || (events & EPOLLIN)) {
		n = recv(c->fd, c->in + c->in_len, STL_IN_CAP - c->in_len,
		    MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			n = -2;
		if (n == 0 || n == -1) {
			stl_conn_close(c);
			return;
		}
		if (n > 0) {
			if (c->answered)
				c->in_len = 0;	/* a body: not ours */
			else
				c->in_len += (size_t)n;
		}
		if (!c->answered && stl_records(c) == -1) {
			stl_conn_close(c);
			return;
		}
	}
	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n <= 0) {
			stl_conn_close(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	if (c->answered && c->out_off == c->out_len) {
		/*
		 * All sent: our side is done; the peer's leftovers are read
		 * to its close (or the deadline), so closing resets nothing
		 * under the answer.
		 */
		shutdown(c->fd, SHUT_WR);
		ev_mod(&c->ev, EPOLLIN);
	} else if (c->out_off < c->out_len)
		ev_mod(&c->ev, EPOLLIN | EPOLLOUT);
}

static void
stl_on_accept(struct ev *e, uint32_t events)
{
	struct stlisten *stl = e->arg;
	struct stl_conn *c;
	int fd;

	while ((fd = accept4(stl->ls->fd, NULL, NULL, SOCK_CLOEXEC |
	    SOCK_NONBLOCK)) != -1) {
		if (stl_nconns >= STL_CONNS_MAX) {
			close(fd);	/* a health check tries again */
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL ||
		    (c->in = malloc(STL_IN_CAP)) == NULL) {
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->stl = stl;
		if (ev_add(&c->ev, fd, EPOLLIN, stl_on_io, c) == -1) {
			stl_conn_free(c);
			close(fd);
			continue;
		}
		ev_timer_set(&c->t_deadline, now_ms() + STL_DEADLINE,
		    stl_conn_late, c);
		c->next = stl_conns;
		stl_conns = c;
		stl_nconns++;
	}
	if (errno == EMFILE || errno == ENFILE)
		log_warn("[pool %s] pm.status_listen: accept",
		    stl->pool != NULL ? stl->pool->name : "?");
}

/*
 * The pool's pm.status_listen as pc says: opened, kept (the same address:
 * its mode and owners applied), moved, or closed.  -1 when a new address
 * cannot be opened (the pool keeps the one it had).
 */
int
stl_set(struct stlisten *stl, struct pool *p, const struct pool_conf *pc)
{
	struct listener *ls = NULL;

	stl->pool = p;
	if (pc->status_listen != NULL && stl->ls != NULL &&
	    strcmp(stl->ls->addr.text, pc->status_addr.text) == 0) {
		listen_apply(stl->ls, pc);
		return 0;
	}
	if (pc->status_listen != NULL &&
	    ((ls = listen_get_at(pc, &pc->status_addr)) == NULL ||
	    listen_nonblock(ls) == -1)) {
		listen_unref(ls);
		return -1;
	}
	stl_close(stl);
	stl->pool = p;
	if (ls == NULL)
		return 0;
	if (ev_add(&stl->ev, ls->fd, EPOLLIN, stl_on_accept, stl) == -1) {
		listen_unref(ls);
		return -1;
	}
	stl->ls = ls;
	log_debug("[pool %s] the master answers status on '%s'", p->name,
	    ls->addr.text);
	return 0;
}

void
stl_close(struct stlisten *stl)
{
	struct stl_conn *c, *next;

	if (stl->ls == NULL)
		return;
	for (c = stl_conns; c != NULL; c = next) {
		next = c->next;
		if (c->stl == stl)
			stl_conn_close(c);
	}
	ev_del(&stl->ev);
	listen_unref(stl->ls);
	stl->ls = NULL;
}
