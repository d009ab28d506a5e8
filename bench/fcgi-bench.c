/*
 * fcgi-bench: a closed-loop FastCGI load generator.  It keeps N connections
 * busy against a FastCGI server (fpmd, php-fpm, anything that speaks the
 * responder role), each sending its next request as soon as the answer to
 * the last one is in, and reports requests per second, latency percentiles,
 * errors and answers whose Status is not 200.  It talks FastCGI directly,
 * with the params nginx's fastcgi_params sends, so a web server's own cost
 * stays out of the figures.
 *
 * Each connection is a small state machine on one epoll loop per thread:
 * connect, write the whole request (prebuilt once: BEGIN_REQUEST, PARAMS,
 * STDIN), read records until END_REQUEST.  Without -k a connection carries
 * one request and is closed, as nginx does without fastcgi_keep_conn; with
 * -k it asks for FCGI_KEEP_CONN and is reused.
 *
 * Latency is from the start of a request (its connect, without -k) to its
 * END_REQUEST.  Nothing here allocates per request: the response is parsed
 * in place and only its status line is kept.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FB_BEGIN	1
#define FB_END		3
#define FB_PARAMS	4
#define FB_STDIN	5
#define FB_STDOUT	6
#define FB_STDERR	7
#define FB_HDR		8
#define FB_MAXREC	65535
#define FB_INCAP	(128 * 1024)	/* read buffer per connection */
#define FB_HEADCAP	1024		/* response head kept for Status */
#define FB_MAXPARAMS	64

enum fb_state {
	ST_IDLE,		/* no request: start one */
	ST_CONNECTING,
	ST_WRITING,
	ST_READING,
	ST_RETRY		/* connect said EAGAIN: try again shortly */
};

struct fb_conn {
	int		 fd;
	enum fb_state	 state;
	size_t		 woff;		/* bytes of the request sent */
	uint8_t		*in;
	size_t		 inlen;
	char		 head[FB_HEADCAP];
	size_t		 headlen;
	uint64_t	 stdout_bytes;
	uint64_t	 t0;		/* ns, start of the request */
	bool		 reused;	/* a kept connection carries it */
	struct fb_thread *th;
};

struct fb_thread {
	pthread_t	 tid;
	int		 ep;
	struct fb_conn	*conns;
	int		 nconns;
	uint32_t	*lat;		/* microseconds, one per request */
	size_t		 nlat, caplat;
	uint64_t	 done, errors, non200, bad, connect_errors;
	uint64_t	 stdout_bytes;
	char		 lasterr[160];
};

/* The options, set once by main before the threads start. */
static struct {
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	const char		*addrtext;
	int			 conns;
	int			 threads;
	uint64_t		 total;		/* 0: run for seconds */
	double			 seconds;
	bool			 keep;
	bool			 post;
	size_t			 body;
	double			 timeout;	/* per request, seconds */
	const char		*expect;
	uint64_t		 expect_bytes;
	bool			 kv;
	uint8_t			*req;		/* the request, prebuilt */
	size_t			 reqlen;
} opt;

static uint64_t		 issued;	/* requests started, all threads */
static volatile int	 stopping;
static uint64_t		 t_end;		/* ns; 0: until the count is done */

static const char *usage_text =
"usage: fcgi-bench [options] ADDRESS\n"
"\n"
"A closed-loop FastCGI load generator: C connections, each sending its next\n"
"request as soon as the previous answer is in.  ADDRESS is a unix socket\n"
"path (or unix:PATH) or HOST:PORT ([V6ADDR]:PORT) for TCP.\n"
"\n"
"  -f, --script PATH     SCRIPT_FILENAME to ask for (required)\n"
"  -u, --uri URI         REQUEST_URI and SCRIPT_NAME (default: the script's\n"
"                        name under /); a query after '?' is QUERY_STRING\n"
"  -c, --connections N   concurrent connections (default 8)\n"
"  -n, --requests N      stop after N requests (default 10000)\n"
"  -d, --duration SECS   run for SECS seconds instead of a count\n"
"  -k, --keep-alive      FCGI_KEEP_CONN: reuse each connection (nginx's\n"
"                        fastcgi_keep_conn on); default: a new connection\n"
"                        per request.  A worker serves one connection at a\n"
"                        time: with -k, connections beyond the pool's\n"
"                        workers wait for the whole run (see max latency)\n"
"  -P, --post BYTES      POST a body of BYTES bytes (default: GET)\n"
"  -p, --param NAME=VAL  add or replace a FastCGI param (repeatable)\n"
"  -H, --header 'N: V'   add a request header as HTTP_N (repeatable)\n"
"  -t, --threads N       threads, each with its own epoll loop and share\n"
"                        of the connections (default 1; 0: one per CPU)\n"
"  -T, --timeout SECS    a request not answered within SECS is an error\n"
"                        (default 30)\n"
"  -e, --expect TEXT     an answer whose first 1 KB lacks TEXT is counted\n"
"                        as bad\n"
"  -b, --expect-bytes N  an answer whose body (STDOUT after the headers)\n"
"                        is not N bytes is bad\n"
"      --kv              print one line of key=value pairs (for scripts)\n"
"  -h, --help            this text\n"
"\n"
"Output: requests done, errors (connect failures, resets, timeouts,\n"
"protocol errors), non-200 answers (a Status: header other than 200),\n"
"bad answers (-e, -b), requests per second, latency p50/p90/p99/max in\n"
"microseconds from the request's start (its connect without -k) to\n"
"END_REQUEST.  Exit status: 0 when every request was answered 200 and\n"
"none was bad or failed, 1 otherwise, 2 on a usage error.\n";

static void
usage(void)
{
	fputs(usage_text, stderr);
	exit(2);
}

static void
die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("fcgi-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------- the request */

struct fb_param {
	char	*name;
	char	*value;
};

static struct fb_param	 params[FB_MAXPARAMS];
static int		 nparams;

static void
param_set(const char *name, const char *value)
{
	int i;

	for (i = 0; i < nparams; i++)
		if (strcmp(params[i].name, name) == 0) {
			free(params[i].value);
			params[i].value = strdup(value);
			return;
		}
	if (nparams == FB_MAXPARAMS)
		die("more than %d params", FB_MAXPARAMS);
	params[nparams].name = strdup(name);
	params[nparams].value = strdup(value);
	if (params[nparams].name == NULL || params[nparams].value == NULL)
		die("out of memory");
	nparams++;
}

struct fb_buf {
	uint8_t	*p;
	size_t	 len, cap;
};

static void
buf_add(struct fb_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;		/* an empty record's content: p may be NULL */
	if (b->len + n > b->cap) {
		while (b->len + n > b->cap)
			b->cap = b->cap ? b->cap * 2 : 4096;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			die("out of memory");
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
buf_record(struct fb_buf *b, int type, const void *p, size_t n)
{
	uint8_t h[FB_HDR] = { 1, (uint8_t)type, 0, 1, (uint8_t)(n >> 8),
	    (uint8_t)n, 0, 0 };

	buf_add(b, h, sizeof(h));
	buf_add(b, p, n);
}

static void
buf_len(struct fb_buf *b, size_t n)
{
	uint8_t l[4];

	if (n < 128) {
		l[0] = (uint8_t)n;
		buf_add(b, l, 1);
	} else {
		l[0] = (uint8_t)((n >> 24) | 0x80);
		l[1] = (uint8_t)(n >> 16);
		l[2] = (uint8_t)(n >> 8);
		l[3] = (uint8_t)n;
		buf_add(b, l, 4);
	}
}

/* Records of one stream, split at the FastCGI maximum, then its end. */
static void
buf_stream(struct fb_buf *b, int type, const uint8_t *p, size_t n)
{
	size_t k;

	while (n > 0) {
		/* a multiple of 8 keeps records aligned, as nginx does */
		k = n < 65528 ? n : 65528;
		buf_record(b, type, p, k);
		p += k;
		n -= k;
	}
	buf_record(b, type, NULL, 0);
}

static void
request_build(void)
{
	struct fb_buf b = { NULL, 0, 0 }, pv = { NULL, 0, 0 };
	uint8_t begin[8] = { 0, 1, opt.keep ? 1 : 0, 0, 0, 0, 0, 0 };
	uint8_t *body;
	size_t nl, vl;
	int i;

	buf_record(&b, FB_BEGIN, begin, sizeof(begin));
	for (i = 0; i < nparams; i++) {
		nl = strlen(params[i].name);
		vl = strlen(params[i].value);
		buf_len(&pv, nl);
		buf_len(&pv, vl);
		buf_add(&pv, params[i].name, nl);
		buf_add(&pv, params[i].value, vl);
	}
	buf_stream(&b, FB_PARAMS, pv.p, pv.len);
	if ((body = malloc(opt.body ? opt.body : 1)) == NULL)
		die("out of memory");
	for (nl = 0; nl < opt.body; nl++)
		body[nl] = (uint8_t)('a' + nl % 26);
	buf_stream(&b, FB_STDIN, body, opt.body);
	free(body);
	free(pv.p);
	opt.req = b.p;
	opt.reqlen = b.len;
}

/* What nginx's fastcgi_params (and a typical location) send. */
static void
params_default(const char *script, const char *uri)
{
	char name[512], len[32];
	const char *q, *slash;

	if (uri == NULL) {
		slash = strrchr(script, '/');
		snprintf(name, sizeof(name), "/%s", slash ? slash + 1 : script);
		uri = name;
	}
	q = strchr(uri, '?');
	param_set("SCRIPT_FILENAME", script);
	param_set("QUERY_STRING", q ? q + 1 : "");
	param_set("REQUEST_METHOD", opt.post ? "POST" : "GET");
	param_set("CONTENT_TYPE", opt.post ?
	    "application/x-www-form-urlencoded" : "");
	snprintf(len, sizeof(len), "%zu", opt.body);
	param_set("CONTENT_LENGTH", opt.post ? len : "");
	{
		char sn[512];

		snprintf(sn, sizeof(sn), "%.*s",
		    (int)(q ? (size_t)(q - uri) : strlen(uri)), uri);
		param_set("SCRIPT_NAME", sn);
		param_set("DOCUMENT_URI", sn);
	}
	param_set("REQUEST_URI", uri);
	{
		char root[PATH_MAX];

		snprintf(root, sizeof(root), "%s", script);
		if ((slash = strrchr(root, '/')) != NULL)
			root[slash - root] = '\0';
		param_set("DOCUMENT_ROOT", root);
	}
	param_set("SERVER_PROTOCOL", "HTTP/1.1");
	param_set("REQUEST_SCHEME", "http");
	param_set("GATEWAY_INTERFACE", "CGI/1.1");
	param_set("SERVER_SOFTWARE", "nginx/1.22.1");
	param_set("REMOTE_ADDR", "127.0.0.1");
	param_set("REMOTE_PORT", "54321");
	param_set("SERVER_ADDR", "127.0.0.1");
	param_set("SERVER_PORT", "80");
	param_set("SERVER_NAME", "localhost");
	param_set("REDIRECT_STATUS", "200");
	param_set("HTTP_HOST", "localhost");
	param_set("HTTP_USER_AGENT", "fcgi-bench");
	param_set("HTTP_ACCEPT", "*/*");
}

static void
header_add(const char *h)
{
	char name[256], *p;
	const char *colon = strchr(h, ':');
	size_t n;

	if (colon == NULL || colon == h ||
	    (n = (size_t)(colon - h)) + 6 >= sizeof(name))
		die("-H wants 'Name: value', got '%s'", h);
	memcpy(name, "HTTP_", 5);
	for (p = name + 5; n > 0; n--, h++)
		*p++ = *h == '-' ? '_' : (char)toupper((unsigned char)*h);
	*p = '\0';
	colon++;
	colon += strspn(colon, " \t");
	param_set(name, colon);
}

/* ---------------------------------------------------------- the address */

static void
address_parse(const char *a)
{
	struct addrinfo hints, *res;
	struct sockaddr_un *sun = (void *)&opt.addr;
	char host[256];
	const char *port;
	int rc;

	opt.addrtext = a;
	if (strncmp(a, "unix:", 5) == 0)
		a += 5;
	else if (a[0] != '/' && a[0] != '.' && strrchr(a, ':') != NULL)
		goto tcp;
	if (strlen(a) >= sizeof(sun->sun_path))
		die("unix socket path too long (max %zu bytes): %s",
		    sizeof(sun->sun_path) - 1, a);
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, a);
	opt.addrlen = sizeof(*sun);
	return;
tcp:
	port = strrchr(a, ':');
	if (a[0] == '[') {
		if (port < a + 2 || port[-1] != ']')
			die("bad address '%s': want [V6ADDR]:PORT", a);
		snprintf(host, sizeof(host), "%.*s", (int)(port - a - 2),
		    a + 1);
	} else
		snprintf(host, sizeof(host), "%.*s", (int)(port - a), a);
	port++;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		die("cannot resolve '%s': %s", opt.addrtext, gai_strerror(rc));
	memcpy(&opt.addr, res->ai_addr, res->ai_addrlen);
	opt.addrlen = res->ai_addrlen;
	freeaddrinfo(res);
}

/* ------------------------------------------------------------ the loop */

static void
conn_err(struct fb_conn *c, const char *what, int err)
{
	struct fb_thread *th = c->th;

	th->errors++;
	if (err)
		snprintf(th->lasterr, sizeof(th->lasterr), "%s: %s", what,
		    strerror(err));
	else
		snprintf(th->lasterr, sizeof(th->lasterr), "%s", what);
}

static void
conn_drop(struct fb_conn *c)
{
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
	c->state = ST_IDLE;
	c->inlen = 0;
}

static bool
claim_request(void)
{
	if (stopping)
		return false;
	if (opt.total == 0)
		return true;
	return __atomic_add_fetch(&issued, 1, __ATOMIC_RELAXED) <= opt.total;
}

static void conn_send(struct fb_conn *);

/* Opens the connection; the request follows once it is up. */
static void
conn_connect(struct fb_conn *c)
{
	struct epoll_event ev;
	int one = 1;

	c->fd = socket(opt.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		conn_err(c, "socket", errno);
		c->th->connect_errors++;
		c->state = ST_IDLE;
		return;
	}
	if (opt.addr.ss_family != AF_UNIX)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* edge-triggered: one registration for the life of the socket */
	ev.events = EPOLLOUT | EPOLLIN | EPOLLET;
	ev.data.ptr = c;
	if (epoll_ctl(c->th->ep, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		conn_err(c, "epoll_ctl", errno);
		conn_drop(c);
		return;
	}
	if (connect(c->fd, (struct sockaddr *)&opt.addr, opt.addrlen) == 0) {
		conn_send(c);
		return;
	}
	if (errno == EINPROGRESS) {
		c->state = ST_CONNECTING;
		return;
	}
	if (errno == EAGAIN && opt.addr.ss_family == AF_UNIX) {
		/* the listen queue is full: a blocking client would wait */
		close(c->fd);
		c->fd = -1;
		c->state = ST_RETRY;
		return;
	}
	conn_err(c, "connect", errno);
	c->th->connect_errors++;
	conn_drop(c);
}

/* Starts the next request on c; false when there is none to start. */
static bool
conn_start(struct fb_conn *c)
{
	if (!claim_request()) {
		conn_drop(c);
		return false;
	}
	c->t0 = now_ns();
	c->headlen = 0;
	c->stdout_bytes = 0;
	c->reused = c->fd != -1;
	if (c->fd == -1)
		conn_connect(c);
	else
		conn_send(c);
	return true;
}

static void conn_read(struct fb_conn *);

static void
conn_send(struct fb_conn *c)
{
	bool epipe = false;
	ssize_t n;

	if (c->state != ST_WRITING) {
		c->state = ST_WRITING;
		c->woff = 0;
		c->inlen = 0;
	}
	while (c->woff < opt.reqlen) {
		n = send(c->fd, opt.req + c->woff, opt.reqlen - c->woff,
		    MSG_NOSIGNAL);
		if (n > 0) {
			c->woff += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;		/* EPOLLOUT comes back here */
		/*
		 * A server may answer before it has read a whole body (a
		 * script that does not read it): what it says is still the
		 * answer, so go on reading.
		 */
		if (n == -1 && errno == EPIPE) {
			epipe = true;
			break;
		}
		conn_err(c, "send", n == -1 ? errno : 0);
		conn_drop(c);
		return;
	}
	c->state = ST_READING;
	/*
	 * The peer's close may have come with the edge that brought the
	 * last answer, and no new edge will tell of it: read now.
	 */
	if (epipe)
		conn_read(c);
}

static void
record_latency(struct fb_thread *th, uint64_t ns)
{
	uint64_t us = ns / 1000;

	if (th->nlat == th->caplat) {
		th->caplat = th->caplat ? th->caplat * 2 : 65536;
		th->lat = realloc(th->lat, th->caplat * sizeof(*th->lat));
		if (th->lat == NULL)
			die("out of memory");
	}
	th->lat[th->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/*
 * The head of STDOUT is in: 200 unless a Status: header says otherwise.
 * *hlen is the size of the headers with their blank line, or 0 when they
 * do not end within the head kept.
 */
static int
head_status(const struct fb_conn *c, size_t *hlen)
{
	const char *p = c->head, *end = c->head + c->headlen, *eol;
	int status = 200;

	*hlen = 0;
	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			break;
		if (eol == p || (eol - p == 1 && p[0] == '\r')) {
			/* the blank line: headers done */
			*hlen = (size_t)(eol + 1 - c->head);
			break;
		}
		if (eol - p > 8 && strncasecmp(p, "Status:", 7) == 0)
			status = atoi(p + 7 + strspn(p + 7, " \t"));
		p = eol + 1;
	}
	return status;
}

static void
conn_done(struct fb_conn *c, int appstatus, int protostatus)
{
	struct fb_thread *th = c->th;
	size_t hlen;

	th->done++;
	th->stdout_bytes += c->stdout_bytes;
	record_latency(th, now_ns() - c->t0);
	if (protostatus != 0) {
		conn_err(c, "END_REQUEST with a protocol status not 0", 0);
		conn_drop(c);
		return;
	}
	(void)appstatus;
	if (head_status(c, &hlen) != 200)
		th->non200++;
	c->head[c->headlen < FB_HEADCAP ? c->headlen : FB_HEADCAP - 1] = '\0';
	if ((opt.expect != NULL && strstr(c->head, opt.expect) == NULL) ||
	    (opt.expect_bytes && (hlen == 0 ||
	    c->stdout_bytes - hlen != opt.expect_bytes)))
		th->bad++;
	if (!opt.keep || c->inlen > 0) {
		/* without keep-alive the server closes; so do we */
		conn_drop(c);
	} else
		c->state = ST_IDLE;
}

/* Parses whole records in c->in; true when the request is complete. */
static bool
conn_parse(struct fb_conn *c)
{
	size_t off = 0, clen, rlen, k;
	uint8_t *h;

	for (;;) {
		if (c->inlen - off < FB_HDR)
			break;
		h = c->in + off;
		if (h[0] != 1) {
			conn_err(c, "not FastCGI (bad version)", 0);
			conn_drop(c);
			return true;
		}
		clen = (size_t)h[4] << 8 | h[5];
		rlen = FB_HDR + clen + h[6];
		if (c->inlen - off < rlen)
			break;
		switch (h[1]) {
		case FB_STDOUT:
			k = FB_HEADCAP - c->headlen;
			if (k > clen)
				k = clen;
			memcpy(c->head + c->headlen, h + FB_HDR, k);
			c->headlen += k;
			c->stdout_bytes += clen;
			break;
		case FB_STDERR:
			break;
		case FB_END:
			if (clen < 8) {
				conn_err(c, "short END_REQUEST", 0);
				conn_drop(c);
				return true;
			}
			off += rlen;
			memmove(c->in, c->in + off, c->inlen - off);
			c->inlen -= off;
			conn_done(c, (int)((uint32_t)h[8] << 24 |
			    (uint32_t)h[9] << 16 | (uint32_t)h[10] << 8 |
			    h[11]), h[12]);
			return true;
		default:
			break;
		}
		off += rlen;
	}
	if (off > 0) {
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
	}
	return false;
}

static void
conn_read(struct fb_conn *c)
{
	ssize_t n;

	for (;;) {
		n = recv(c->fd, c->in + c->inlen, FB_INCAP - c->inlen, 0);
		if (n > 0) {
			c->inlen += (size_t)n;
			if (conn_parse(c))
				return;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (c->reused && c->inlen == 0 && c->headlen == 0) {
			/*
			 * The server closed a kept connection before it took
			 * this request (a worker at pm.max_requests does): a
			 * web server retries on a new one, and so do we.
			 */
			close(c->fd);
			c->fd = -1;
			c->reused = false;
			conn_connect(c);
			return;
		}
		conn_err(c, n == 0 ? "connection closed before END_REQUEST" :
		    "recv", n == 0 ? 0 : errno);
		conn_drop(c);
		return;
	}
}

static void
conn_event(struct fb_conn *c, uint32_t events)
{
	int err = 0;
	socklen_t el = sizeof(err);

	if (c->state == ST_CONNECTING) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1)
			err = errno;
		if (err != 0) {
			conn_err(c, "connect", err);
			c->th->connect_errors++;
			conn_drop(c);
			return;
		}
		conn_send(c);
		if (c->state != ST_READING)
			return;
	}
	if (c->state == ST_WRITING && (events & (EPOLLOUT | EPOLLERR |
	    EPOLLHUP))) {
		conn_send(c);
		if (c->state != ST_READING)
			return;
	}
	if (c->state == ST_READING && (events & (EPOLLIN | EPOLLERR |
	    EPOLLHUP)))
		conn_read(c);
	else if (c->state == ST_IDLE && c->fd != -1 && (events & (EPOLLIN |
	    EPOLLHUP | EPOLLERR))) {
		/* a kept connection the server closed: start afresh */
		conn_drop(c);
	}
}

static void *
thread_main(void *arg)
{
	struct fb_thread *th = arg;
	struct epoll_event evs[256];
	struct fb_conn *c;
	uint64_t now, last_scan = 0, tmo = (uint64_t)(opt.timeout * 1e9);
	int i, n, active, waitms;

	for (;;) {
		active = 0;
		waitms = 1000;
		for (i = 0; i < th->nconns; i++) {
			c = &th->conns[i];
			/* a request that failed at once: the next one */
			while (c->state == ST_IDLE && conn_start(c))
				;
			if (c->state == ST_RETRY)
				conn_connect(c);	/* claimed already */
			if (c->state == ST_RETRY)
				waitms = 1;
			if (c->state != ST_IDLE)
				active++;
		}
		if (active == 0)
			break;
		n = epoll_wait(th->ep, evs, 256, waitms);
		for (i = 0; i < n; i++)
			conn_event(evs[i].data.ptr, evs[i].events);
		now = now_ns();
		if (t_end != 0 && now >= t_end)
			stopping = 1;
		if (now - last_scan > 100000000u) {
			last_scan = now;
			for (i = 0; i < th->nconns; i++) {
				c = &th->conns[i];
				if (c->state >= ST_CONNECTING &&
				    c->state <= ST_READING &&
				    now - c->t0 > tmo) {
					conn_err(c, "timeout", 0);
					conn_drop(c);
				}
			}
		}
		if (stopping) {
			/* let requests in flight finish; start no new ones */
			for (i = 0; i < th->nconns; i++) {
				c = &th->conns[i];
				if (c->state == ST_IDLE && c->fd != -1)
					conn_drop(c);
			}
		}
	}
	return NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t
pct(const uint32_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)n / 100.0 + 0.999999);
	if (i == 0)
		i = 1;
	if (i > n)
		i = n;
	return v[i - 1];
}

static uint64_t
parse_count(const char *s, const char *what, uint64_t min)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end != '\0' || s[0] == '-' || v < min)
		die("%s wants a number >= %llu, got '%s'", what,
		    (unsigned long long)min, s);
	return v;
}

static double
parse_secs(const char *s, const char *what)
{
	char *end;
	double v;

	v = strtod(s, &end);
	if (end == s || *end != '\0' || !(v > 0) || v > 86400)
		die("%s wants seconds (0 < s <= 86400), got '%s'", what, s);
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "script", required_argument, NULL, 'f' },
		{ "uri", required_argument, NULL, 'u' },
		{ "connections", required_argument, NULL, 'c' },
		{ "requests", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "keep-alive", no_argument, NULL, 'k' },
		{ "post", required_argument, NULL, 'P' },
		{ "param", required_argument, NULL, 'p' },
		{ "header", required_argument, NULL, 'H' },
		{ "threads", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "expect", required_argument, NULL, 'e' },
		{ "expect-bytes", required_argument, NULL, 'b' },
		{ "kv", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *script = NULL, *uri = NULL;
	char *extra[FB_MAXPARAMS], *hdrs[FB_MAXPARAMS], *eq;
	int nextra = 0, nhdrs = 0, ch, i, j;
	struct fb_thread *ths, tot;
	uint64_t t0, t1;
	uint32_t *all;
	size_t nall;
	double secs;

	opt.conns = 8;
	opt.threads = 1;
	opt.total = 10000;
	opt.timeout = 30;
	while ((ch = getopt_long(argc, argv, "f:u:c:n:d:kP:p:H:t:T:e:b:h", lo,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			script = optarg;
			break;
		case 'u':
			uri = optarg;
			break;
		case 'c':
			opt.conns = (int)parse_count(optarg, "-c", 1);
			if (opt.conns > 10000)
				die("-c: at most 10000 connections");
			break;
		case 'n':
			opt.total = parse_count(optarg, "-n", 1);
			opt.seconds = 0;
			break;
		case 'd':
			opt.seconds = parse_secs(optarg, "-d");
			opt.total = 0;
			break;
		case 'k':
			opt.keep = true;
			break;
		case 'P':
			opt.post = true;
			opt.body = parse_count(optarg, "-P", 0);
			if (opt.body > 1024u * 1024 * 1024)
				die("-P: at most 1 GB");
			break;
		case 'p':
			if (nextra == FB_MAXPARAMS || strchr(optarg, '=') ==
			    NULL || optarg[0] == '=')
				die("-p wants NAME=VALUE, got '%s'", optarg);
			extra[nextra++] = optarg;
			break;
		case 'H':
			if (nhdrs == FB_MAXPARAMS)
				die("too many -H");
			hdrs[nhdrs++] = optarg;
			break;
		case 't':
			opt.threads = (int)parse_count(optarg, "-t", 0);
			if (opt.threads == 0)
				opt.threads =
				    (int)sysconf(_SC_NPROCESSORS_ONLN);
			if (opt.threads < 1 || opt.threads > 256)
				die("-t: 1 to 256 threads");
			break;
		case 'T':
			opt.timeout = parse_secs(optarg, "-T");
			break;
		case 'e':
			opt.expect = optarg;
			break;
		case 'b':
			opt.expect_bytes = parse_count(optarg, "-b", 1);
			break;
		case 'K':
			opt.kv = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			usage();
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "fcgi-bench: want one ADDRESS\n");
		usage();
	}
	if (script == NULL)
		die("-f SCRIPT_FILENAME is required (the script to run)");
	if (opt.threads > opt.conns)
		opt.threads = opt.conns;
	address_parse(argv[optind]);
	params_default(script, uri);
	for (i = 0; i < nhdrs; i++)
		header_add(hdrs[i]);
	for (i = 0; i < nextra; i++) {
		eq = strchr(extra[i], '=');
		*eq = '\0';
		param_set(extra[i], eq + 1);
	}
	request_build();
	signal(SIGPIPE, SIG_IGN);

	if ((ths = calloc((size_t)opt.threads, sizeof(*ths))) == NULL)
		die("out of memory");
	for (i = 0; i < opt.threads; i++) {
		ths[i].nconns = opt.conns / opt.threads +
		    (i < opt.conns % opt.threads);
		ths[i].conns = calloc((size_t)ths[i].nconns,
		    sizeof(*ths[i].conns));
		if (ths[i].conns == NULL)
			die("out of memory");
		if ((ths[i].ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
			die("epoll_create1: %s", strerror(errno));
		for (j = 0; j < ths[i].nconns; j++) {
			ths[i].conns[j].fd = -1;
			ths[i].conns[j].th = &ths[i];
			if ((ths[i].conns[j].in = malloc(FB_INCAP)) == NULL)
				die("out of memory");
		}
	}
	t0 = now_ns();
	if (opt.seconds > 0)
		t_end = t0 + (uint64_t)(opt.seconds * 1e9);
	for (i = 0; i < opt.threads; i++)
		if (pthread_create(&ths[i].tid, NULL, thread_main, &ths[i]))
			die("pthread_create failed");
	for (i = 0; i < opt.threads; i++)
		pthread_join(ths[i].tid, NULL);
	t1 = now_ns();

	memset(&tot, 0, sizeof(tot));
	nall = 0;
	for (i = 0; i < opt.threads; i++)
		nall += ths[i].nlat;
	if ((all = malloc((nall ? nall : 1) * sizeof(*all))) == NULL)
		die("out of memory");
	nall = 0;
	for (i = 0; i < opt.threads; i++) {
		if (ths[i].nlat > 0)
			memcpy(all + nall, ths[i].lat,
			    ths[i].nlat * sizeof(*all));
		nall += ths[i].nlat;
		tot.done += ths[i].done;
		tot.errors += ths[i].errors;
		tot.non200 += ths[i].non200;
		tot.bad += ths[i].bad;
		tot.connect_errors += ths[i].connect_errors;
		tot.stdout_bytes += ths[i].stdout_bytes;
		if (ths[i].lasterr[0])
			memcpy(tot.lasterr, ths[i].lasterr,
			    sizeof(tot.lasterr));
	}
	qsort(all, nall, sizeof(*all), cmp_u32);
	secs = (double)(t1 - t0) / 1e9;
	if (opt.kv) {
		printf("requests=%llu errors=%llu non200=%llu bad=%llu "
		    "seconds=%.3f rps=%.1f p50_us=%u p90_us=%u p99_us=%u "
		    "max_us=%u stdout_bytes=%llu\n",
		    (unsigned long long)tot.done,
		    (unsigned long long)tot.errors,
		    (unsigned long long)tot.non200,
		    (unsigned long long)tot.bad, secs,
		    (double)tot.done / secs, pct(all, nall, 50),
		    pct(all, nall, 90), pct(all, nall, 99),
		    nall ? all[nall - 1] : 0,
		    (unsigned long long)tot.stdout_bytes);
	} else {
		printf("%s, %d connection%s, %s, ", opt.addrtext, opt.conns,
		    opt.conns == 1 ? "" : "s",
		    opt.keep ? "keep-alive" : "a new connection per request");
		if (opt.post)
			printf("POST of %zu bytes", opt.body);
		else
			printf("GET");
		printf(", %d thread%s\n", opt.threads,
		    opt.threads == 1 ? "" : "s");
		printf("  requests  %llu in %.3f s: %.1f req/s\n",
		    (unsigned long long)tot.done, secs,
		    (double)tot.done / secs);
		printf("  latency   p50 %u us, p90 %u us, p99 %u us, "
		    "max %u us\n",
		    pct(all, nall, 50), pct(all, nall, 90), pct(all, nall, 99),
		    nall ? all[nall - 1] : 0);
		printf("  answers   %llu non-200, %llu bad, %.1f KB stdout "
		    "each\n", (unsigned long long)tot.non200,
		    (unsigned long long)tot.bad,
		    tot.done ? (double)tot.stdout_bytes / 1024.0 /
		    (double)tot.done : 0.0);
		printf("  errors    %llu", (unsigned long long)tot.errors);
		if (tot.errors)
			printf(" (last: %s)", tot.lasterr);
		printf("\n");
	}
	if (tot.errors && opt.kv)
		fprintf(stderr, "fcgi-bench: %llu errors, last: %s\n",
		    (unsigned long long)tot.errors, tot.lasterr);
	/* all freed, so that a sanitizer build reports real leaks only */
	for (i = 0; i < opt.threads; i++) {
		for (j = 0; j < ths[i].nconns; j++) {
			if (ths[i].conns[j].fd != -1)
				close(ths[i].conns[j].fd);
			free(ths[i].conns[j].in);
		}
		free(ths[i].conns);
		free(ths[i].lat);
		close(ths[i].ep);
	}
	free(ths);
	free(all);
	free(opt.req);
	for (i = 0; i < nparams; i++) {
		free(params[i].name);
		free(params[i].value);
	}
	return tot.errors || tot.non200 || tot.bad ||
	    (opt.total && tot.done != opt.total) ? 1 : 0;
}
