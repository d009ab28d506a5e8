/*
 * The worker: accept a FastCGI connection, read one request, hand it to the
 * SAPI, write the response, and repeat (several requests per connection
 * when the web server asks for FCGI_KEEP_CONN).  One request at a time.
 *
 * The request path is kept lean: a request usually arrives in one read(),
 * the response and END_REQUEST usually leave in one sendmsg(), and nothing
 * is allocated per record.  A peer that sends something that is not
 * FastCGI loses its connection, with one log line; the worker lives on.
 *
 * Graceful stop: SIGQUIT only sets a flag, and is blocked while a request
 * runs, so it never interrupts the script's own system calls; it is let in
 * while the worker waits in accept() or between keep-alive requests.  The
 * prototype repeats SIGQUIT until the worker is gone, which covers a signal
 * that lands just before the worker blocks.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fpmd.h"

static volatile sig_atomic_t	 worker_quit;
static sigset_t			 worker_quitmask;
static struct fpmd_req		 worker_req;
static struct rusage		 worker_ru;
static struct sb_pool		*worker_sbpool;

/* listen.allowed_clients, as IPv6 addresses (IPv4 ones mapped) */
static struct in6_addr		*worker_clients;
static size_t			 worker_nclients;

static void
worker_clients_parse(const char *list)
{
	char one[INET6_ADDRSTRLEN + 1];
	struct in_addr a4;
	const char *p = list;
	size_t len;

	if (list == NULL)
		return;
	for (;;) {
		p += strspn(p, " \t,");
		if (*p == '\0')
			return;
		len = strcspn(p, " \t,");
		snprintf(one, sizeof(one), "%.*s", (int)len, p);
		p += len;
		worker_clients = reallocarray(worker_clients,
		    worker_nclients + 1, sizeof(*worker_clients));
		if (worker_clients == NULL)
			fatal("%s: reallocarray", __func__);
		if (inet_pton(AF_INET, one, &a4) == 1) {
			memset(&worker_clients[worker_nclients], 0,
			    sizeof(struct in6_addr));
			worker_clients[worker_nclients].s6_addr[10] = 0xff;
			worker_clients[worker_nclients].s6_addr[11] = 0xff;
			memcpy(&worker_clients[worker_nclients].s6_addr[12],
			    &a4, 4);
		} else if (inet_pton(AF_INET6, one,
		    &worker_clients[worker_nclients]) != 1)
			continue;	/* the config check let it through? */
		worker_nclients++;
	}
}

/* php-fpm's check, after accept: unix peers are always allowed. */
static bool
worker_client_allowed(const struct sockaddr_storage *ss)
{
	struct in6_addr a;
	char text[INET6_ADDRSTRLEN];
	size_t i;

	if (worker_nclients == 0)
		return true;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		memset(&a, 0, sizeof(a));
		a.s6_addr[10] = a.s6_addr[11] = 0xff;
		memcpy(&a.s6_addr[12], &sin->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr;
	} else
		return true;
	for (i = 0; i < worker_nclients; i++)
		if (memcmp(&a, &worker_clients[i], sizeof(a)) == 0)
			return true;
	if (IN6_IS_ADDR_V4MAPPED(&a))
		inet_ntop(AF_INET, &a.s6_addr[12], text, sizeof(text));
	else
		inet_ntop(AF_INET6, &a, text, sizeof(text));
	log_errorx("Connection disallowed: IP address '%s' has been dropped "
	    "(listen.allowed_clients)", text);
	return false;
}

static void
worker_sigquit(int sig)
{
	(void)sig;
	worker_quit = 1;
}

static void
worker_allow_quit(bool allow)
{
	sigprocmask(allow ? SIG_UNBLOCK : SIG_BLOCK, &worker_quitmask, NULL);
}

/* Writes all of iov; on failure the connection is marked broken. */
static int
req_sendv(struct fpmd_req *r, struct iovec *iov, int iovcnt)
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

/*
 * Reads more bytes.  Returns the count, 0 at EOF, -1 on error.  While the
 * worker is idle on a keep-alive connection a graceful stop may interrupt.
 */
static ssize_t
req_fill(struct fpmd_req *r, bool idle)
{
	ssize_t n;

	if (r->in_off > 0 && r->in_off == r->in_len) {
		r->in_off = r->in_len = 0;
	} else if (r->in_off > 0 && r->in_len + 4096 > REQ_IN_CAP) {
		memmove(r->in, r->in + r->in_off, r->in_len - r->in_off);
		r->in_len -= r->in_off;
		r->in_off = 0;
	}
	if (idle)
		worker_allow_quit(true);
	for (;;) {
		if (idle && worker_quit) {
			n = -1;
			break;
		}
		n = read(r->fd, r->in + r->in_len, REQ_IN_CAP - r->in_len);
		if (n >= 0 || errno != EINTR)
			break;
	}
	if (idle)
		worker_allow_quit(false);
	if (n > 0)
		r->in_len += (size_t)n;
	else if (n < 0 && errno != ECONNRESET && !(idle && worker_quit))
		log_warn("read from FastCGI connection");
	return n;
}

/* The next whole record, or -1 when the connection is done or broken. */
static int
req_next_record(struct fpmd_req *r, struct fcgi_record *rec, bool idle)
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
		n = req_fill(r, idle && r->in_off == r->in_len);
		if (n <= 0) {
			if (n == 0 && r->in_off != r->in_len)
				log_warnx("FastCGI: connection closed in the "
				    "middle of a record");
			r->broken = true;
			return -1;
		}
	}
}

static int
req_send_end(struct fpmd_req *r, uint16_t id, uint8_t protocol_status)
{
	uint8_t end[16];
	struct iovec iov = { end, sizeof(end) };

	fcgi_end_request_encode(end, id, 0, protocol_status);
	return req_sendv(r, &iov, 1);
}

/*
 * Management records, unknown types and records for other request ids,
 * whatever phase we are in.  While a request is under way (busy), a new
 * BEGIN_REQUEST is told we do not multiplex.
 */
static int
req_answer_other(struct fpmd_req *r, const struct fcgi_record *rec, bool busy)
{
	uint8_t buf[256];
	struct iovec iov = { buf, 0 };

	if (busy && rec->type == FCGI_BEGIN_REQUEST && rec->id != 0)
		return req_send_end(r, rec->id, FCGI_CANT_MPX_CONN);
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
		return req_sendv(r, &iov, 1);
	case FCGI_BEGIN_REQUEST:
	case FCGI_ABORT_REQUEST:
	case FCGI_PARAMS:
	case FCGI_STDIN:
	case FCGI_DATA:
		return 0;	/* for another request id: ignored */
	default:
		fcgi_unknown_type_encode(buf, rec->type);
		iov.iov_len = 16;
		return req_sendv(r, &iov, 1);
	}
}

/*
 * Reads up to the end of the PARAMS stream of the next request.  Returns 0
 * when a responder request is ready to run, -1 when the connection should
 * be closed.
 */
static int
req_read_head(struct fpmd_req *r, bool first)
{
	struct fcgi_record rec;
	uint8_t flags;
	bool begun = false;

	for (;;) {
		if (req_next_record(r, &rec, !begun && !first) == -1) {
			if (begun && r->in_off == r->in_len)
				log_warnx("FastCGI: connection closed before "
				    "the end of PARAMS");
			return -1;
		}
		if (!begun) {
			if (rec.type != FCGI_BEGIN_REQUEST || rec.id == 0) {
				if (req_answer_other(r, &rec, false) == -1)
					return -1;
				continue;
			}
			if (fcgi_begin_parse(&rec, &r->role, &flags) == -1) {
				log_warnx("FastCGI: short BEGIN_REQUEST, closing "
				    "the connection");
				return -1;
			}
			r->keep_conn = (flags & FCGI_KEEP_CONN) != 0;
			if (r->role != FCGI_RESPONDER) {
				if (req_send_end(r, rec.id, FCGI_UNKNOWN_ROLE)
				    == -1 || !r->keep_conn)
					return -1;
				continue;
			}
			r->id = rec.id;
			begun = true;
			fcgi_params_reset(&r->params);
			clock_gettime(CLOCK_REALTIME, &r->start);
			req_set_state(r, SLOT_READING);
			continue;
		}
		if (rec.id != r->id) {
			if (req_answer_other(r, &rec, true) == -1)
				return -1;
			continue;
		}
		switch (rec.type) {
		case FCGI_PARAMS:
			if (rec.clen == 0) {
				if (fcgi_params_decode(&r->params) == -1) {
					log_warnx("FastCGI: malformed PARAMS, "
					    "closing the connection");
					return -1;
				}
				return 0;
			}
			if (fcgi_params_append(&r->params, rec.content,
			    rec.clen) == -1) {
				log_warnx("FastCGI: PARAMS larger than %d "
				    "bytes, closing the connection",
				    FCGI_PARAMS_MAX);
				return -1;
			}
			break;
		case FCGI_ABORT_REQUEST:
			if (req_send_end(r, r->id, FCGI_REQUEST_COMPLETE) == -1
			    || !r->keep_conn)
				return -1;
			begun = false;
			req_set_state(r, SLOT_IDLE);
			break;
		case FCGI_STDIN:
		case FCGI_DATA:
			log_warnx("FastCGI: request body before the end of "
			    "PARAMS, closing the connection");
			return -1;
		default:
			if (req_answer_other(r, &rec, true) == -1)
				return -1;
			break;
		}
	}
}

ssize_t
req_read_body(struct fpmd_req *r, char *buf, size_t len)
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
		if (r->stdin_eof || r->broken || r->aborted)
			break;
		if (req_next_record(r, &rec, false) == -1)
			break;
		if (rec.id != r->id) {
			if (req_answer_other(r, &rec, true) == -1)
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
			if (req_answer_other(r, &rec, true) == -1)
				return -1;
			break;
		}
	}
	r->body_read += done;
	return (ssize_t)done;
}

/* One record, header and content, straight from buf. */
static int
req_send_record(struct fpmd_req *r, uint8_t type, const void *buf, size_t n)
{
	uint8_t hdr[FCGI_HEADER_LEN];
	struct iovec iov[2];

	fcgi_header_encode(hdr, type, r->id, (uint16_t)n, 0);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)buf;
	iov[1].iov_len = n;
	return req_sendv(r, iov, 2);
}

static int
req_flush_stdout(struct fpmd_req *r)
{
	size_t n = r->out_len;

	if (n == 0)
		return 0;
	r->out_len = 0;
	return req_send_record(r, FCGI_STDOUT, r->out, n);
}

int
req_write(struct fpmd_req *r, const char *buf, size_t len)
{
	size_t n;

	if (r->broken)
		return -1;
	if (r->ended)
		return 0;	/* after fastcgi_finish_request(): dropped */
	while (len > 0) {
		if (r->out_len == 0 && len >= REQ_OUT_CAP) {
			/* Large writes go out without a copy. */
			n = len < FCGI_MAX_CONTENT ? len : FCGI_MAX_CONTENT;
			if (req_send_record(r, FCGI_STDOUT, buf, n) == -1)
				return -1;
		} else {
			n = REQ_OUT_CAP - r->out_len;
			if (n > len)
				n = len;
			memcpy(r->out + r->out_len, buf, n);
			r->out_len += n;
			if (r->out_len == REQ_OUT_CAP &&
			    req_flush_stdout(r) == -1)
				return -1;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

int
req_flush(struct fpmd_req *r)
{
	if (r->broken)
		return -1;
	if (r->ended)
		return 0;
	return req_flush_stdout(r);
}

int
req_stderr(struct fpmd_req *r, const char *buf, size_t len)
{
	size_t n;

	if (r->broken || r->ended || r->fd == -1)
		return -1;
	while (len > 0) {
		n = len < FCGI_MAX_CONTENT ? len : FCGI_MAX_CONTENT;
		if (req_send_record(r, FCGI_STDERR, buf, n) == -1)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

/* The rest of STDOUT, its empty record and END_REQUEST: one sendmsg(). */
void
req_finish(struct fpmd_req *r)
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
	req_sendv(r, iov, n);
	r->ended = true;
	req_set_state(r, SLOT_FINISHING);
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

static uint64_t
ts_diff_us(const struct timespec *a, const struct timespec *b)
{
	int64_t us;

	us = (int64_t)(b->tv_sec - a->tv_sec) * 1000000 +
	    (b->tv_nsec - a->tv_nsec) / 1000;
	return us < 0 ? 0 : (uint64_t)us;
}

void
req_set_state(struct fpmd_req *r, enum slot_state st)
{
	struct sb_slot *s = r->slot;
	struct timespec now;
	struct rusage ru;
	const char *v;
	double cpu;

	sb_slot_begin(s);
	switch (st) {
	case SLOT_READING:
		s->requests++;
		s->req_start = r->start;
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
		clock_gettime(CLOCK_REALTIME, &now);
		s->req_duration_us = ts_diff_us(&r->start, &now);
		s->last_memory = r->peak_memory;
		if (getrusage(RUSAGE_SELF, &ru) == 0) {
			cpu = (double)(ru.ru_utime.tv_sec -
			    worker_ru.ru_utime.tv_sec) +
			    (double)(ru.ru_stime.tv_sec -
			    worker_ru.ru_stime.tv_sec) +
			    (double)(ru.ru_utime.tv_usec -
			    worker_ru.ru_utime.tv_usec) / 1e6 +
			    (double)(ru.ru_stime.tv_usec -
			    worker_ru.ru_stime.tv_usec) / 1e6;
			s->last_cpu = s->req_duration_us > 0 ?
			    cpu * 100.0 * 1e6 / (double)s->req_duration_us : 0;
			worker_ru = ru;
		}
		break;
	default:
		break;
	}
	s->state = (uint8_t)st;
	sb_slot_commit(s);
}

/* Skips what the script left unread so the next request can be read. */
static int
req_drain_body(struct fpmd_req *r)
{
	char buf[8192];

	while (!r->stdin_eof && !r->broken && !r->aborted) {
		if (req_read_body(r, buf, sizeof(buf)) <= 0 && !r->stdin_eof)
			return -1;
	}
	return r->broken || r->aborted ? -1 : 0;
}

/* Serves one connection; returns the number of requests it carried. */
static int
worker_serve(struct fpmd_req *r, int fd, int budget)
{
	int served = 0;

	r->fd = fd;
	r->in_off = r->in_len = 0;
	r->broken = false;
	while (served < budget || budget == 0) {
		r->stdin_eof = r->ended = r->aborted = false;
		r->stdin_left = 0;
		r->out_len = 0;
		r->body_read = 0;
		r->script = NULL;
		r->peak_memory = 0;
		r->status = 200;
		if (req_read_head(r, served == 0) == -1)
			break;
		served++;
		__atomic_add_fetch(&worker_sbpool->accepted, 1,
		    __ATOMIC_RELAXED);
		sapi_handle(r);
		if (!r->ended)
			req_finish(r);
		req_set_state(r, SLOT_IDLE);
		if (r->broken || !r->keep_conn || worker_quit)
			break;
		if (req_drain_body(r) == -1)
			break;
	}
	close(fd);
	r->fd = -1;
	return served;
}

void
worker_main(const struct proto_args *pa, int slot)
{
	const struct pool_conf *pc = pa->pc;
	struct fpmd_req *r = &worker_req;
	struct sigaction sa;
	struct sb_slot *s;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	char prefix[128];
	int fd, served = 0, budget, devnull;

	proc_title_set("fpmd: pool %s", pc->name);
	snprintf(prefix, sizeof(prefix), "[pool %s] pid %d: ", pc->name,
	    (int)getpid());
	log_set_prefix(prefix);

	if (pa->out_fd != -1 && pc->catch_workers_output) {
		dup2(pa->out_fd, STDOUT_FILENO);
		dup2(pa->err_fd, STDERR_FILENO);
	} else if ((devnull = open("/dev/null", O_RDWR)) != -1) {
		dup2(devnull, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
		close(devnull);
	}
	if (pa->out_fd != -1)
		close(pa->out_fd);
	if (pa->err_fd != -1)
		close(pa->err_fd);

	sigemptyset(&worker_quitmask);
	sigaddset(&worker_quitmask, SIGQUIT);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_sigquit;	/* no SA_RESTART: accept() returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGQUIT, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	worker_allow_quit(false);
	/* After our handlers, so PHP's per-request handlers chain to them. */
	sapi_worker_init();

	r->in = malloc(REQ_IN_CAP);
	r->out = malloc(REQ_OUT_CAP);
	if (r->in == NULL || r->out == NULL)
		fatal("%s: malloc", __func__);
	r->pc = pc;
	r->fd = -1;
	r->slot = s = &pa->sb->slots[slot];
	worker_sbpool = &pa->sb->pools[pa->pool_index];
	if (pc->addr.family != AF_UNIX)
		worker_clients_parse(pc->listen_allowed_clients);
	getrusage(RUSAGE_SELF, &worker_ru);

	sb_slot_begin(s);
	s->pid = getpid();
	s->start = time(NULL);
	s->requests = 0;
	s->state = SLOT_IDLE;
	sb_slot_commit(s);

	while (!worker_quit) {
		if (pc->max_requests > 0 && served >= pc->max_requests)
			break;
		worker_allow_quit(true);
		if (worker_quit)
			break;
		peerlen = sizeof(peer);
		fd = accept4(pa->listen_fd, (struct sockaddr *)&peer, &peerlen,
		    SOCK_CLOEXEC);
		worker_allow_quit(false);
		if (fd == -1) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == ECONNABORTED)
				continue;
			log_warn("accept");
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				sleep(1);
			continue;
		}
		if (!worker_client_allowed(&peer)) {
			close(fd);
			continue;
		}
		budget = pc->max_requests > 0 ? pc->max_requests - served : 0;
		served += worker_serve(r, fd, budget);
	}
	if (pc->max_requests > 0 && served >= pc->max_requests)
		log_debug("served %d requests (pm.max_requests), exiting",
		    served);
	exit(0);
}
