/*
 * The worker: accept a FastCGI connection, let conn.c read a request from
 * it, hand the request to the SAPI, and repeat (several requests per
 * connection when the web server asks for FCGI_KEEP_CONN).  One request at
 * a time.  This file owns the accept loop, listen.allowed_clients, the
 * signals, pm.max_requests and pm.max_memory.
 *
 * Graceful stop: SIGQUIT only sets a flag.  It is blocked but while the
 * worker waits in accept(), or waits for the first byte of a request
 * (conn.c lets it in through ppoll()'s mask), so it never interrupts the
 * script's own system calls and a request in hand is always served.  The
 * prototype repeats SIGQUIT until the worker is gone, which covers a signal
 * that lands just before the worker blocks.
 *
 * A script may fork (pcntl_fork(), built into Debian's libphp).  The copy
 * is no worker: from the fork on it has no listening socket, its output
 * and the connection go nowhere, its slot is a private one, and when its
 * script ends it exits instead of coming back to accept() (where it would
 * serve requests fpmd does not know of, and hold the pool's address after
 * fpmd is gone).
 *
 * At a graceful stop the master shuts a unix listener first (listen.c):
 * no new connection comes, and the ones queued are still ours.  A worker
 * told to quit then accepts on until the queue is empty (accept() fails
 * with EINVAL instead of waiting), so nothing queued is reset at the exit.
 * At a reload the socket stays open for the new generation, and the old
 * workers leave at once as before.
 */
#include <sys/socket.h>
#include <poll.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fpmd.h"

static volatile sig_atomic_t	 worker_quit;
static sigset_t			 worker_quitmask;
static sigset_t			 worker_waitmask;	/* SIGQUIT let in */
static struct fpmd_req		 worker_req;
static struct sb_pool		*worker_sbpool;
static int			 worker_smaps = -1;	/* pm.max_memory */
static int			 worker_statm = -1;
static long			 worker_pagekb;
static bool			 worker_recycle;	/* went past it */
static int			 worker_listen_fd = -1;
static bool			 worker_forked;		/* a script's fork */
static struct sb_slot		 worker_fork_slot;	/* that copy's */

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

/*
 * pm.max_memory: the worker's private memory (USS: the pages no other
 * process maps, Private_Clean + Private_Dirty) in kB, from the kernel's
 * sums in /proc/self/smaps_rollup; 0 when it cannot be read.  RSS would
 * count the pages still shared with the prototype since the fork, which
 * freeing them would not give back.  The file is kept open: a read from
 * offset 0 makes the kernel sum again.
 */
static uint64_t
worker_uss_kb(void)
{
	char buf[2048], *p;
	uint64_t kb = 0;
	ssize_t n;
	int found = 0;

	n = pread(worker_smaps, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (p = buf; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, "Private_Clean:", 14) == 0 ||
		    strncmp(p, "Private_Dirty:", 14) == 0) {
			kb += strtoull(p + 14, NULL, 10);
			found++;
		}
	}
	return found == 2 ? kb : 0;
}

/*
 * The resident set in kB, from /proc/self/statm: a few counters, where
 * smaps_rollup walks every page table (and opcache's shared memory page by
 * page): about 1000 times cheaper (docs/config.md has the figures).  0:
 * unknown.
 */
static uint64_t
worker_rss_kb(void)
{
	char buf[256];
	unsigned long long size, resident;
	ssize_t n;

	n = pread(worker_statm, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
		return 0;
	return (uint64_t)resident * (uint64_t)worker_pagekb;
}

static void
worker_memory_init(const struct pool_conf *pc)
{
	if (pc->max_memory == 0)
		return;
	worker_pagekb = sysconf(_SC_PAGESIZE) / 1024;
	worker_smaps = open("/proc/self/smaps_rollup", O_RDONLY | O_CLOEXEC);
	worker_statm = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (worker_smaps == -1 || worker_statm == -1 || worker_pagekb <= 0 ||
	    worker_uss_kb() == 0 || worker_rss_kb() == 0) {
		/* a chroot without /proc, say: the bound cannot be kept */
		log_warn("pm.max_memory: cannot read /proc/self/smaps_rollup "
		    "and /proc/self/statm; this worker's memory is not "
		    "bounded");
		if (worker_smaps != -1)
			close(worker_smaps);
		if (worker_statm != -1)
			close(worker_statm);
		worker_smaps = worker_statm = -1;
	}
}

/*
 * After a request, whose answer is out: is the worker past its bound?
 * The private pages are among the resident ones, so while the resident
 * set is within the bound the costly sum is not needed.
 */
static bool
worker_memory_over(const struct pool_conf *pc, unsigned nreq)
{
	uint64_t kb;

	if (worker_smaps == -1 || worker_rss_kb() * 1024 <= pc->max_memory ||
	    (kb = worker_uss_kb()) == 0 || kb * 1024 <= pc->max_memory)
		return false;
	log_notice("private memory %llu kB is above pm.max_memory (%llu kB) "
	    "after %u request%s: exiting, to be replaced",
	    (unsigned long long)kb,
	    (unsigned long long)(pc->max_memory / 1024), nreq,
	    nreq == 1 ? "" : "s");
	__atomic_add_fetch(&worker_sbpool->memory_recycled, 1,
	    __ATOMIC_RELAXED);
	return true;
}

/* In the child of a fork made in this worker (pthread_atfork). */
static void
worker_atfork_child(void)
{
	struct fpmd_req *r = &worker_req;
	int fd;

	worker_forked = true;
	if (worker_listen_fd != -1)
		close(worker_listen_fd);
	worker_listen_fd = -1;
	/* the connection is the worker's: keep the number, lose the peer */
	if (r->fd != -1 && (fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		dup3(fd, r->fd, O_CLOEXEC);
		close(fd);
	}
	r->broken = true;
	r->slot = &worker_fork_slot;
	r->listen_fd = -1;
}

/* A script's fork whose request has ended: it goes, quietly. */
static void
worker_forked_exit(void)
{
	log_notice("process %d, forked by a script, ended its request: it "
	    "exits rather than serve", (int)getpid());
	_exit(0);
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

/* The master shut the listener for reading: a graceful stop. */
static bool
worker_listener_shut(int fd)
{
	struct pollfd pfd;

	pfd.fd = fd;
	pfd.events = POLLRDHUP;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLRDHUP);
}

/*
 * Serves one connection; returns the number of requests it carried.
 * prior: requests served on earlier connections.
 */
static int
worker_serve(struct fpmd_req *r, int fd, int budget, int prior)
{
	int served = 0;

	conn_open(r, fd);
	while (served < budget || budget == 0) {
		if (conn_read_head(r) == -1)
			break;
		served++;
		__atomic_add_fetch(&worker_sbpool->accepted, 1,
		    __ATOMIC_RELAXED);
		if (!statuspage_serve(r))
			sapi_handle(r);
		if (worker_forked)
			worker_forked_exit();
		conn_end_request(r);
		accesslog_write(r);	/* the answer is out: now its line */
		if (worker_smaps != -1 && worker_memory_over(r->pc,
		    (unsigned)(prior + served))) {
			worker_recycle = true;
			break;
		}
		if (r->broken || !r->keep_conn || worker_quit)
			break;
		if (served == budget || conn_keep(r) == -1)
			break;
	}
	conn_close(r);
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

	/*
	 * The slot tells who we are before anything else: once a process
	 * shows as a worker, the status figures name it.
	 */
	s = &pa->sb->slots[slot];
	sb_slot_begin(s);
	s->pid = getpid();
	sb_slot_commit(s);

	proc_title_set("fpmd: pool %s", pc->name);
	snprintf(prefix, sizeof(prefix), "[pool %s] pid %d: ", pc->name,
	    (int)getpid());
	log_set_prefix(prefix);
	log_set_origin(pc->name, (int)getpid());

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
	/* before any thread starts, and before the first request */
	if (pc->apparmor_change != NULL &&
	    apparmor_enter(pc->apparmor_change) == -1)
		exit(FPMD_EXIT_SOFTWARE);

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
	sigprocmask(SIG_BLOCK, &worker_quitmask, &worker_waitmask);
	sigdelset(&worker_waitmask, SIGQUIT);
	/* After our handlers, so PHP's per-request handlers chain to them. */
	sapi_worker_init();

	if (conn_init(r, pc, s, &worker_quit, &worker_waitmask) == -1)
		exit(FPMD_EXIT_SOFTWARE);
	r->sb = pa->sb;
	r->pool_index = pa->pool_index;
	r->listen_fd = pa->listen_fd;
	worker_listen_fd = pa->listen_fd;
	pthread_atfork(NULL, NULL, worker_atfork_child);
	accesslog_init(pa, r, sapi_request_env);
	worker_sbpool = &pa->sb->pools[pa->pool_index];
	slowlog_start(pa, slot);
	worker_memory_init(pc);
	if (pc->addr.family != AF_UNIX)
		worker_clients_parse(pc->listen_allowed_clients);

	sb_slot_begin(s);
	s->start = time(NULL);
	s->requests = 0;
	s->state = SLOT_IDLE;
	sb_slot_commit(s);

	while (!worker_recycle) {
		if (pc->max_requests > 0 && served >= pc->max_requests)
			break;
		worker_allow_quit(true);
		/* told to quit: unless the queue is left to us to serve */
		if (worker_quit && !worker_listener_shut(pa->listen_fd))
			break;
		peerlen = sizeof(peer);
		fd = accept4(pa->listen_fd, (struct sockaddr *)&peer, &peerlen,
		    SOCK_CLOEXEC);
		worker_allow_quit(false);
		if (fd == -1) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == ECONNABORTED)
				continue;
			/*
			 * Not listening any more (a graceful stop's queue is
			 * empty, or the pool is gone: listen_retire): nothing
			 * else will come.
			 */
			if (errno == EINVAL)
				break;
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
		r->peer = peer;		/* the access log's %R */
		budget = pc->max_requests > 0 ? pc->max_requests - served : 0;
		served += worker_serve(r, fd, budget, served);
	}
	if (pc->max_requests > 0 && served >= pc->max_requests)
		log_debug("served %d requests (pm.max_requests), exiting",
		    served);
	exit(0);
}
