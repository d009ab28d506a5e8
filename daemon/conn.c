/*
 * One FastCGI connection, as a worker serves it: read a request up to the
 * end of its params, hand out its body, write its response, and keep the
 * worker's scoreboard slot in step.  The SAPI and the accept loop call in
 * here; this file calls only the codec (fcgi.c).
 *
 * The request path is kept lean: when the web server has sent its request
 * by the time the worker looks, it comes in one recv(); the response and
 * END_REQUEST usually leave in one sendmsg(); nothing is allocated per
 * record.  A peer that sends something that is not FastCGI loses its
 * connection, with one log line; the worker lives on.
 *
 * Every wait for the peer has a bound (request_read_timeout): the head of
 * a request, from accept or from the end of the previous request, must be
 * in within it, and so must each piece of the body.  A wait for the first
 * byte of a request is the only one a graceful stop may end (SIGQUIT is
 * let in through ppoll()'s mask there, and nowhere else): a request in
 * hand is always served.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fpmd.h"

/*
 * A graceful stop lets a connection that has been waiting for less than
 * this send its request: a web server that has just connected, or just had
 * its previous answer, is about to.
 */
#define CONN_QUIT_GRACE_MS	500

/* What a wait is for: it decides the deadline and what a timeout says. */
enum conn_wait {
	WAIT_REQUEST,		/* the first byte of a request */
	WAIT_HEAD,		/* the rest of it, up to the end of PARAMS */
	WAIT_BODY		/* the next piece of STDIN */
};

static int64_t
conn_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t
ts_diff_us(const struct timespec *a, const struct timespec *b)
{
	int64_t us;

	us = (int64_t)(b->tv_sec - a->tv_sec) * 1000000 +
	    (b->tv_nsec - a->tv_nsec) / 1000;
	return us < 0 ? 0 : (uint64_t)us;
}

static uint64_t
cpu_used_us(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
	    (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

int
conn_init(struct fpmd_req *r, const struct pool_conf *pc, struct sb_slot *slot,
    const volatile sig_atomic_t *quit, const sigset_t *wait_mask)
{
	memset(r, 0, sizeof(*r));
	r->in = malloc(REQ_IN_CAP);
	r->out = malloc(REQ_OUT_CAP);
	if (r->in == NULL || r->out == NULL) {
		log_error("%s: malloc", __func__);
		free(r->in);
		free(r->out);
		return -1;
	}
	r->fd = -1;
	r->pc = pc;
	r->slot = slot;
	r->quit = quit;
	r->wait_mask = wait_mask;
	return 0;
}

/*
 * The worker starts waiting for a request: the clock of request_read_timeout
 * starts, and so does the one the master holds request_terminate_timeout
 * to, as php-fpm counts it from accept.
 */
static void
conn_wait_start(struct fpmd_req *r)
{
	int t = r->pc->request_read_timeout;

	r->wait_start = conn_now();
	r->head_deadline = t > 0 ? r->wait_start + (int64_t)t * 1000 : 0;
	conn_set_state(r, SLOT_READING);
}

void
conn_open(struct fpmd_req *r, int fd)
{
	r->fd = fd;
	r->in_off = r->in_len = 0;
	r->peeked = 0;
	r->broken = r->timed_out = r->quitting = false;
	r->nreq = 0;
	conn_wait_start(r);
}

/* Who is at the other end, for a log line: "127.0.0.1:4242", "pid 12". */
static const char *
conn_peer(const struct fpmd_req *r, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	struct ucred uc;
	socklen_t sl = sizeof(ss), ul = sizeof(uc);
	char a[INET6_ADDRSTRLEN];

	snprintf(buf, len, "the peer");
	if (getpeername(r->fd, (struct sockaddr *)&ss, &sl) == -1)
		return buf;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(sin->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)&ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(sin6->sin6_port));
	} else if (ss.ss_family == AF_UNIX && getsockopt(r->fd, SOL_SOCKET,
	    SO_PEERCRED, &uc, &ul) == 0)
		snprintf(buf, len, "pid %d", (int)uc.pid);
	return buf;
}

static void
conn_log_timeout(struct fpmd_req *r, enum conn_wait what)
{
	char peer[INET6_ADDRSTRLEN + 16];
	int t = r->pc->request_read_timeout;

	conn_peer(r, peer, sizeof(peer));
	switch (what) {
	case WAIT_REQUEST:
		/*
		 * Web servers keep idle connections open for as long as they
		 * like: closing one is routine, not worth a warning.
		 */
		if (r->nreq > 0)
			log_debug("kept-alive connection from %s idle for %d s "
			    "(request_read_timeout), closing it", peer, t);
		else
			log_warnx("no request from %s within %d s of "
			    "connecting (request_read_timeout), closing the "
			    "connection", peer, t);
		break;
	case WAIT_HEAD:
		log_warnx("the request from %s did not reach the end of its "
		    "FastCGI params within %d s (request_read_timeout), "
		    "closing the connection", peer, t);
		break;
	case WAIT_BODY:
		log_warnx("no request body from %s for %d s "
		    "(request_read_timeout), closing the connection", peer, t);
		break;
	}
}

/*
 * Waits until the connection can be read.  Returns 0 then, -1 when the
 * deadline passed (timed_out) or a graceful stop ended a wait for a new
 * request (quitting).  SIGQUIT is let in only while a request is awaited;
 * elsewhere it stays pending, and the worker sees it at its next such wait.
 */
static int
conn_wait(struct fpmd_req *r, enum conn_wait what, int64_t deadline)
{
	struct pollfd pfd;
	struct timespec ts;
	int64_t end, left;
	bool grace;
	int n;

	pfd.fd = r->fd;
	pfd.events = POLLIN;
	for (;;) {
		end = deadline;
		grace = false;
		if (what == WAIT_REQUEST && *r->quit &&
		    (end == 0 || end > r->wait_start + CONN_QUIT_GRACE_MS)) {
			end = r->wait_start + CONN_QUIT_GRACE_MS;
			grace = true;
		}
		if (end != 0 && (left = end - conn_now()) <= 0) {
			if (grace) {
				r->quitting = true;
			} else {
				r->timed_out = true;
				conn_log_timeout(r, what);
			}
			return -1;
		}
		if (end != 0) {
			ts.tv_sec = left / 1000;
			ts.tv_nsec = (long)(left % 1000) * 1000000;
		}
		n = ppoll(&pfd, 1, end != 0 ? &ts : NULL,
		    what == WAIT_REQUEST ? r->wait_mask : NULL);
		if (n > 0)
			return 0;
		if (n == -1 && errno != EINTR) {
			log_warn("poll on FastCGI connection");
			return -1;
		}
		/* a timeout or a signal: the top of the loop tells which */
	}
}

/*
 * The recv() that starts a request on a kept connection only peeks:
 * taking the bytes frees them from the web server's socket, which tells
 * the web server at once that it may write again, and nginx (like
 * fcgi-bench) listens for that: it would wake up for nothing while its
 * answer is being made.  They are taken once the answer is out (the web
 * server wakes up for the answer anyway), or before any other read.
 * php-fpm gets the same by leaving the empty STDIN record unread until it
 * has answered.  -1: the connection is gone.
 */
static int
conn_take(struct fpmd_req *r)
{
	size_t at = r->in_len - r->peeked;
	ssize_t n;

	while (r->peeked > 0) {
		/* the same bytes again, where they already are */
		n = recv(r->fd, r->in + at, r->peeked, MSG_DONTWAIT);
		if (n > 0) {
			at += (size_t)n;
			r->peeked -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		r->peeked = 0;
		r->broken = true;
		return -1;
	}
	return 0;
}

/*
 * Reads more bytes.  Returns the count, 0 at EOF, -1 on error, timeout or
 * graceful stop.  The read comes first: a request usually is there already.
 */
static ssize_t
conn_fill(struct fpmd_req *r, enum conn_wait what)
{
	int t = r->pc->request_read_timeout;
	int64_t deadline;
	ssize_t n;
	bool peek;

	if (r->peeked > 0 && conn_take(r) == -1)
		return -1;
	/*
	 * On a kept connection only: a new one is closed right after its
	 * answer, and the bytes taken then, so peeking would only cost a
	 * recv() more.
	 */
	peek = what == WAIT_REQUEST && r->nreq > 0;

	if (r->in_off > 0 && r->in_off == r->in_len) {
		r->in_off = r->in_len = 0;
	} else if (r->in_off > 0 && r->in_len + 4096 > REQ_IN_CAP) {
		memmove(r->in, r->in + r->in_off, r->in_len - r->in_off);
		r->in_len -= r->in_off;
		r->in_off = 0;
	}
	/*
	 * On a kept connection the next request comes only once the web
	 * server has had our answer: it is seldom there yet, so wait first
	 * rather than spend a recv() to learn so.
	 */
	if (what == WAIT_REQUEST && r->nreq > 0 && r->in_len == 0 &&
	    conn_wait(r, what, r->head_deadline) == -1)
		return -1;
	for (;;) {
		n = recv(r->fd, r->in + r->in_len, REQ_IN_CAP - r->in_len,
		    MSG_DONTWAIT | (peek ? MSG_PEEK : 0));
		if (n > 0) {
			r->in_len += (size_t)n;
			if (peek)
				r->peeked = (size_t)n;
			if (r->in_len > REQ_TRIM_KEEP)
				r->buf_big = r->buf_resident = true;
			return n;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			if (errno != ECONNRESET)
				log_warn("read from FastCGI connection");
			return -1;
		}
		if (what == WAIT_BODY)
			deadline = t > 0 ? conn_now() + (int64_t)t * 1000 : 0;
		else
			deadline = r->head_deadline;
		if (conn_wait(r, what, deadline) == -1)
			return -1;
	}
}

/*
 * The next whole record, or -1 when the connection is done or broken.
 * what is WAIT_REQUEST while no request has begun: then a wait with
 * nothing of a record in hand is one for a new request.
 */
static int
conn_next_record(struct fpmd_req *r, struct fcgi_record *rec,
    enum conn_wait what)
{
	ssize_t n;

	for (;;) {
		n = fcgi_record_parse(r->in + r->in_off, r->in_len - r->in_off,
		    rec);
		if (n > 0) {
			r->in_off += (size_t)n;
			return 0;
		}
		if (n < 0) {
			log_warnx("FastCGI: bad record version %u, closing the "
			    "connection", r->in[r->in_off]);
			r->broken = true;
			return -1;
		}
		if (what == WAIT_REQUEST && r->in_off != r->in_len)
			what = WAIT_HEAD;
		n = conn_fill(r, what);
		if (n <= 0) {
			if (n == 0 && r->in_off != r->in_len)
				log_warnx("FastCGI: connection closed in the "
				    "middle of a record");
			r->broken = true;
			return -1;
		}
	}
}

/* Writes all of iov; on failure the connection is marked broken. */
static int
conn_sendv(struct fpmd_req *r, struct iovec *iov, int iovcnt)
{
	struct msghdr mh;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	while (iovcnt > 0) {
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)iovcnt;
		n = sendmsg(r->fd, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EPIPE && errno != ECONNRESET)
				log_warn("write to FastCGI connection");
			r->broken = true;
			return -1;
		}
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

static int
conn_send_end(struct fpmd_req *r, uint16_t id, uint8_t protocol_status)
{
	uint8_t end[16];
	struct iovec iov = { end, sizeof(end) };

	fcgi_end_request_encode(end, id, 0, protocol_status);
	return conn_sendv(r, &iov, 1);
}

/*
 * Management records, unknown types and records for other request ids,
 * whatever phase we are in.  While a request is under way (busy), a new
 * BEGIN_REQUEST is told we do not multiplex.
 */
static int
conn_answer_other(struct fpmd_req *r, const struct fcgi_record *rec,
    bool busy)
{
	uint8_t buf[256];
	struct iovec iov = { buf, 0 };

	if (busy && rec->type == FCGI_BEGIN_REQUEST && rec->id != 0)
		return conn_send_end(r, rec->id, FCGI_CANT_MPX_CONN);
	switch (rec->type) {
	case FCGI_GET_VALUES:
		/* the pool as a whole: one connection per worker */
		iov.iov_len = fcgi_get_values_answer(rec, buf, sizeof(buf),
		    (unsigned)r->pc->max_children,
		    (unsigned)r->pc->max_children);
		if (iov.iov_len == 0) {
			log_warnx("FastCGI: malformed GET_VALUES, closing the "
			    "connection");
			r->broken = true;
			return -1;
		}
		return conn_sendv(r, &iov, 1);
	case FCGI_BEGIN_REQUEST:
	case FCGI_ABORT_REQUEST:
	case FCGI_PARAMS:
	case FCGI_STDIN:
	case FCGI_DATA:
		return 0;	/* for another request id: ignored */
	default:
		fcgi_unknown_type_encode(buf, rec->type);
		iov.iov_len = 16;
		return conn_sendv(r, &iov, 1);
	}
}

/* A responder request begins: the per-request fields start afresh. */
static void
conn_begin(struct fpmd_req *r, uint16_t id)
{
	struct sb_slot *s = r->slot;

	r->id = id;
	r->in_request = true;
	r->stdin_eof = r->ended = r->aborted = false;
	r->stdin_left = 0;
	r->out_len = 0;
	r->body_read = 0;
	r->script = NULL;
	r->peak_memory = 0;
	r->status = 200;
	r->req_uri = r->req_path = NULL;
	r->sapi_ran = false;
	r->hdr_len = 0;
	r->hdr_done = false;
	fcgi_params_reset(&r->params);
	clock_gettime(CLOCK_REALTIME, &r->start);
	sb_slot_begin(s);
	s->requests++;
	sb_slot_commit(s);
}

/*
 * Reads up to the end of the PARAMS stream of the next request.  Returns 0
 * when a responder request is ready to run, -1 when the connection should
 * be closed.  Records that start no request (management records, other
 * roles, aborted requests) do not move the deadline: a peer cannot hold
 * the worker with them.
 */
int
conn_read_head(struct fpmd_req *r)
{
	struct fcgi_record rec;
	uint8_t flags;
	bool begun = false;

	for (;;) {
		if (conn_next_record(r, &rec, begun ? WAIT_HEAD :
		    WAIT_REQUEST) == -1) {
			if (begun && r->in_off == r->in_len && !r->timed_out &&
			    !r->quitting)
				log_warnx("FastCGI: connection closed before "
				    "the end of PARAMS");
			goto fail;
		}
		if (!begun) {
			if (rec.type != FCGI_BEGIN_REQUEST || rec.id == 0) {
				if (conn_answer_other(r, &rec, false) == -1)
					goto fail;
				continue;
			}
			if (fcgi_begin_parse(&rec, &r->role, &flags) == -1) {
				log_warnx("FastCGI: short BEGIN_REQUEST, "
				    "closing the connection");
				goto fail;
			}
			r->keep_conn = (flags & FCGI_KEEP_CONN) != 0;
			if (r->role != FCGI_RESPONDER) {
				if (conn_send_end(r, rec.id, FCGI_UNKNOWN_ROLE)
				    == -1 || !r->keep_conn)
					goto fail;
				continue;
			}
			conn_begin(r, rec.id);
			begun = true;
			continue;
		}
		if (rec.id != r->id) {
			if (conn_answer_other(r, &rec, true) == -1)
				goto fail;
			continue;
		}
		switch (rec.type) {
		case FCGI_PARAMS:
			if (rec.clen == 0) {
				if (fcgi_params_decode(&r->params) == -1) {
					log_warnx("FastCGI: malformed PARAMS, "
					    "closing the connection");
					goto fail;
				}
				r->nreq++;
				return 0;
			}
			if (fcgi_params_append(&r->params, rec.content,
			    rec.clen) == -1) {
				log_warnx("FastCGI: PARAMS larger than %d "
				    "bytes, closing the connection",
				    FCGI_PARAMS_MAX);
				goto fail;
			}
			break;
		case FCGI_ABORT_REQUEST:
			r->in_request = false;
			begun = false;
			if (conn_send_end(r, r->id, FCGI_REQUEST_COMPLETE) == -1
			    || !r->keep_conn)
				goto fail;
			break;
		case FCGI_STDIN:
		case FCGI_DATA:
			log_warnx("FastCGI: request body before the end of "
			    "PARAMS, closing the connection");
			goto fail;
		default:
			if (conn_answer_other(r, &rec, true) == -1)
				goto fail;
			break;
		}
	}
fail:
	/* no request ran: the slot records no CPU or memory for it */
	r->in_request = false;
	return -1;
}

ssize_t
conn_read_body(struct fpmd_req *r, char *buf, size_t len)
{
	struct fcgi_record rec;
	size_t done = 0, n;

	while (done < len) {
		if (r->stdin_left > 0) {
			n = r->stdin_left < len - done ? r->stdin_left :
			    len - done;
			memcpy(buf + done, r->stdin_ptr, n);
			r->stdin_ptr += n;
			r->stdin_left -= n;
			done += n;
			continue;
		}
		if (r->stdin_eof || r->broken || r->aborted || r->fd == -1)
			break;
		if (conn_next_record(r, &rec, WAIT_BODY) == -1) {
			/* the peer learns at once that we gave up */
			if (r->timed_out)
				shutdown(r->fd, SHUT_RDWR);
			break;
		}
		if (rec.id != r->id) {
			if (conn_answer_other(r, &rec, true) == -1)
				break;
			continue;
		}
		switch (rec.type) {
		case FCGI_STDIN:
			if (rec.clen == 0) {
				r->stdin_eof = true;
			} else {
				r->stdin_ptr = rec.content;
				r->stdin_left = rec.clen;
			}
			break;
		case FCGI_ABORT_REQUEST:
			r->aborted = true;
			break;
		case FCGI_PARAMS:
		case FCGI_DATA:
			break;
		default:
			if (conn_answer_other(r, &rec, true) == -1)
				return -1;
			break;
		}
	}
	r->body_read += done;
	return (ssize_t)done;
}

/* One record, header and content, straight from buf. */
static int
conn_send_record(struct fpmd_req *r, uint8_t type, const void *buf, size_t n)
{
	uint8_t hdr[FCGI_HEADER_LEN];
	struct iovec iov[2];

	fcgi_header_encode(hdr, type, r->id, (uint16_t)n, 0);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)buf;
	iov[1].iov_len = n;
	return conn_sendv(r, iov, 2);
}

static int
conn_flush_stdout(struct fpmd_req *r)
{
	size_t n = r->out_len;

	if (n == 0)
		return 0;
	r->out_len = 0;
	return conn_send_record(r, FCGI_STDOUT, r->out, n);
}

/*
 * The access log's %o: the head of the output, up to the blank line that
 * ends the headers, as the web server gets it (whoever wrote it: the SAPI
 * or statuspage.c).  Past REQ_HDR_CAP the rest is not kept.
 */
static void
conn_keep_headers(struct fpmd_req *r, const char *buf, size_t len)
{
	size_t from = r->hdr_len > 3 ? r->hdr_len - 3 : 0, n;
	char *end;

	n = REQ_HDR_CAP - r->hdr_len;
	if (n > len)
		n = len;
	memcpy(r->hdr + r->hdr_len, buf, n);
	r->hdr_len += n;
	if ((end = memmem(r->hdr + from, r->hdr_len - from, "\r\n\r\n", 4)) !=
	    NULL) {
		r->hdr_len = (size_t)(end - r->hdr) + 2;
		r->hdr_done = true;
	} else if (r->hdr_len == REQ_HDR_CAP)
		r->hdr_done = true;
}

/*
 * Output once the request has ended (fastcgi_finish_request()) goes
 * nowhere and is no error: the script runs on, as under php-fpm.
 */
int
conn_write(struct fpmd_req *r, const char *buf, size_t len)
{
	size_t n;

	if (r->ended)
		return 0;
	if (r->broken)
		return -1;
	if (r->hdr != NULL && !r->hdr_done)
		conn_keep_headers(r, buf, len);
	while (len > 0) {
		if (r->out_len == 0 && len >= REQ_OUT_CAP) {
			/* Large writes go out without a copy. */
			n = len < FCGI_MAX_CONTENT ? len : FCGI_MAX_CONTENT;
			if (conn_send_record(r, FCGI_STDOUT, buf, n) == -1)
				return -1;
		} else {
			n = REQ_OUT_CAP - r->out_len;
			if (n > len)
				n = len;
			memcpy(r->out + r->out_len, buf, n);
			r->out_len += n;
			if (r->out_len > REQ_TRIM_KEEP)
				r->buf_big = r->buf_resident = true;
			if (r->out_len == REQ_OUT_CAP &&
			    conn_flush_stdout(r) == -1)
				return -1;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

int
conn_flush(struct fpmd_req *r)
{
	if (r->ended)
		return 0;
	if (r->broken)
		return -1;
	return conn_flush_stdout(r);
}

int
conn_stderr(struct fpmd_req *r, const char *buf, size_t len)
{
	size_t n;

	if (r->broken || r->ended || r->fd == -1)
		return -1;
	while (len > 0) {
		n = len < FCGI_MAX_CONTENT ? len : FCGI_MAX_CONTENT;
		if (conn_send_record(r, FCGI_STDERR, buf, n) == -1)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

/* The rest of STDOUT, its empty record and END_REQUEST: one sendmsg(). */
void
conn_finish(struct fpmd_req *r)
{
	uint8_t hdr[FCGI_HEADER_LEN], tail[FCGI_HEADER_LEN + 16];
	struct iovec iov[3];
	int n = 0;

	if (r->ended || r->broken)
		return;
	if (r->out_len > 0) {
		fcgi_header_encode(hdr, FCGI_STDOUT, r->id,
		    (uint16_t)r->out_len, 0);
		iov[n].iov_base = hdr;
		iov[n++].iov_len = sizeof(hdr);
		iov[n].iov_base = r->out;
		iov[n++].iov_len = r->out_len;
		r->out_len = 0;
	}
	fcgi_header_encode(tail, FCGI_STDOUT, r->id, 0, 0);
	fcgi_end_request_encode(tail + FCGI_HEADER_LEN, r->id, 0,
	    FCGI_REQUEST_COMPLETE);
	iov[n].iov_base = tail;
	iov[n++].iov_len = sizeof(tail);
	conn_sendv(r, iov, n);
	r->ended = true;
	conn_set_state(r, SLOT_FINISHING);
}

/*
 * fastcgi_finish_request(): the answer is complete, and our side of the
 * connection is shut, so that a web server that keeps it sees it end and
 * cannot queue another request behind a script that goes on working.
 * The rest of the request is read (and dropped) first, up to its empty
 * STDIN, each record within request_read_timeout: the web server may
 * still be writing it (Apache sends the empty STDIN after the params),
 * and a write to a closed socket fails, which Apache answers with 503
 * instead of the answer it was given.
 */
void
conn_release(struct fpmd_req *r)
{
	struct fcgi_record rec;

	conn_finish(r);
	r->ended = true;
	r->stdin_left = 0;
	while (!r->broken && !r->stdin_eof && !r->aborted && r->fd != -1) {
		if (conn_next_record(r, &rec, WAIT_BODY) == -1)
			break;
		if (rec.id != r->id)
			continue;
		if (rec.type == FCGI_STDIN && rec.clen == 0)
			r->stdin_eof = true;
		else if (rec.type == FCGI_ABORT_REQUEST)
			r->aborted = true;
	}
	if (r->fd != -1)
		shutdown(r->fd, SHUT_WR);
	r->broken = true;
}

static void
slot_copy(char *dst, size_t cap, const char *src)
{
	size_t n;

	if (src == NULL) {
		dst[0] = '\0';
		return;
	}
	n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * The worker's slot.  A request's duration runs from the start of the wait
 * for it (accept, or the end of the previous request), as php-fpm counts;
 * its CPU and memory are recorded only if a request ran.
 */
void
conn_set_state(struct fpmd_req *r, enum slot_state st)
{
	struct sb_slot *s = r->slot;
	struct timespec now;
	uint64_t cpu;
	const char *v;

	if (st == SLOT_IDLE && s->state == SLOT_IDLE)
		return;
	/*
	 * request_slowlog_timeout runs while the script does; it stops
	 * before the slot shows the request ended (slowlog.c relies on it).
	 */
	if (st != SLOT_RUNNING)
		slowlog_disarm();
	sb_slot_begin(s);
	switch (st) {
	case SLOT_READING:
		clock_gettime(CLOCK_REALTIME, &r->wait_ts);
		/*
		 * The CPU a request uses counts over its duration: read after
		 * the clock here and before it at the end, so the CPU's span
		 * lies within the duration's (reusing the end of the previous
		 * request saved a call, but took in its access line, the close
		 * and the accept: short requests showed above 100 %).
		 */
		r->cpu_us = cpu_used_us();
		if (r->log_cpu)
			proc_cpu(&r->cpu_user0, &r->cpu_sys0);
		s->req_start = r->wait_ts;
		s->method[0] = s->uri[0] = s->query[0] = s->script[0] = '\0';
		s->user[0] = '\0';
		s->content_length = 0;
		break;
	case SLOT_RUNNING:
		slot_copy(s->method, sizeof(s->method),
		    FCGI_PARAM(&r->params, "REQUEST_METHOD"));
		if ((v = FCGI_PARAM(&r->params, "REQUEST_URI")) == NULL)
			v = FCGI_PARAM(&r->params, "SCRIPT_NAME");
		slot_copy(s->uri, sizeof(s->uri), v);
		slot_copy(s->query, sizeof(s->query),
		    FCGI_PARAM(&r->params, "QUERY_STRING"));
		slot_copy(s->script, sizeof(s->script), r->script);
		slot_copy(s->user, sizeof(s->user),
		    FCGI_PARAM(&r->params, "REMOTE_USER"));
		if ((v = FCGI_PARAM(&r->params, "CONTENT_LENGTH")) != NULL)
			s->content_length = strtoull(v, NULL, 10);
		break;
	case SLOT_IDLE:
		if (s->state < SLOT_READING)
			break;
		cpu = 0;
		if (r->in_request) {
			cpu = cpu_used_us();
			/* the access line's %C, over the same span */
			if (r->log_cpu)
				proc_cpu(&r->cpu_user1, &r->cpu_sys1);
		}
		clock_gettime(CLOCK_REALTIME, &now);
		/* our copy: what is in the shared slot may be garbled */
		s->req_duration_us = ts_diff_us(&r->wait_ts, &now);
		if (!r->in_request)
			break;
		s->last_memory = r->peak_memory;
		s->last_cpu = s->req_duration_us > 0 && cpu > r->cpu_us ?
		    (double)(cpu - r->cpu_us) * 100.0 /
		    (double)s->req_duration_us : 0;
		break;
	default:
		break;
	}
	s->state = (uint8_t)st;
	sb_slot_commit(s);
	if (st == SLOT_RUNNING)
		slowlog_arm(&r->wait_ts);
}

/* Gives back the pages of buf (cap bytes) past REQ_TRIM_KEEP. */
static void
conn_trim_buf(uint8_t *buf, size_t cap)
{
	static uintptr_t pg;
	uintptr_t a, b;

	if (pg == 0)
		pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	a = ((uintptr_t)buf + REQ_TRIM_KEEP + pg - 1) & ~(pg - 1);
	b = ((uintptr_t)buf + cap) & ~(pg - 1);
	if (b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

/*
 * A large answer or body fills the buffers (128 KB), and an idle worker
 * would keep them resident for good.  After a run of requests that did not
 * need more than REQ_TRIM_KEEP of them, their pages are given back: a
 * worker that keeps serving large requests keeps its pages (no fault per
 * request), one that went back to small ones shrinks to php-fpm's size.
 */
static void
conn_trim(struct fpmd_req *r)
{
	if (r->buf_big) {
		r->buf_big = false;
		r->buf_small_run = 0;
		return;
	}
	if (!r->buf_resident || ++r->buf_small_run < REQ_TRIM_AFTER ||
	    r->in_len > REQ_TRIM_KEEP)
		return;
	conn_trim_buf(r->in, REQ_IN_CAP);
	conn_trim_buf(r->out, REQ_OUT_CAP);
	r->buf_resident = false;
	r->buf_small_run = 0;
}

/* After the SAPI: the answer is complete, the slot says so. */
void
conn_end_request(struct fpmd_req *r)
{
	if (!r->ended)
		conn_finish(r);
	if (r->peeked > 0)
		conn_take(r);
	conn_set_state(r, SLOT_IDLE);
	r->in_request = false;
	conn_trim(r);
}

/*
 * FCGI_KEEP_CONN: skip what the script left of the body and wait for the
 * next request on the same connection.  -1: the connection is done.
 */
int
conn_keep(struct fpmd_req *r)
{
	char buf[8192];
	ssize_t n;

	while (!r->stdin_eof && !r->broken && !r->aborted) {
		n = conn_read_body(r, buf, sizeof(buf));
		if (n <= 0 && !r->stdin_eof)
			return -1;
	}
	if (r->broken || r->aborted)
		return -1;
	conn_wait_start(r);
	return 0;
}

/*
 * The answer is out and the web server will send nothing more that we
 * want: as php-fpm does, say so (shutdown), and read what it still sends
 * (a body the script left unread, the end of STDIN) until it closes.
 * Closed with unread bytes, a socket is reset, and the reset can overtake
 * the answer: nginx then answers 502 for a script that did not read a big
 * body, and cgi-fcgi fails with EPIPE.  The wait is bounded by
 * request_read_timeout.
 */
static void
conn_linger(struct fpmd_req *r)
{
	int t = r->pc->request_read_timeout;
	int64_t deadline = t > 0 ? conn_now() + (int64_t)t * 1000 : 0, left;
	struct pollfd pfd = { r->fd, POLLIN, 0 };
	char buf[8192];
	ssize_t n;

	if (shutdown(r->fd, SHUT_WR) == -1)
		return;
	for (;;) {
		n = recv(r->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR))
			return;
		left = deadline ? deadline - conn_now() : -1;
		if (deadline && left <= 0)
			return;
		if (poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left) ==
		    0)
			return;
	}
}

/*
 * Whether the peer has sent all it will: the request's STDIN has ended and
 * no byte is left unread (a GET's empty STDIN usually came with the head,
 * in the same recv, and is still in the buffer).  Closing then cannot
 * reset the connection, so the answer needs no linger, nor the wait for
 * the peer's close that a linger costs: a sleep and a wake-up per request.
 */
static bool
conn_drained(struct fpmd_req *r)
{
	struct fcgi_record rec;
	ssize_t n;

	while (!r->stdin_eof) {
		n = fcgi_record_parse(r->in + r->in_off, r->in_len - r->in_off,
		    &rec);
		if (n <= 0)
			return false;
		r->in_off += (size_t)n;
		if (rec.id == r->id && rec.type == FCGI_STDIN && rec.clen == 0)
			r->stdin_eof = true;
	}
	return r->in_off == r->in_len;
}

void
conn_close(struct fpmd_req *r)
{
	/* unread bytes would make the close a reset */
	if (r->fd != -1 && r->peeked > 0)
		conn_take(r);
	if (r->fd != -1) {
		if (!r->broken && !r->keep_conn && !r->timed_out &&
		    !r->quitting && r->nreq > 0 && !conn_drained(r))
			conn_linger(r);
		close(r->fd);
		r->fd = -1;
	}
	conn_set_state(r, SLOT_IDLE);
	r->in_request = false;
}
