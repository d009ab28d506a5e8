/*
 * The process manager, master side: per pool, a prototype process and the
 * workers it forks on our request.  The master owns the scoreboard slots:
 * it picks a free one, asks the prototype to fork a worker into it, and
 * frees it when the prototype reports the worker's exit.  A worker that
 * dies soon after it started is replaced after a growing delay, not in a
 * tight loop; a prototype that dies takes its workers with it and is
 * started again, with the same back-off.
 *
 * Children's log lines and (with catch_workers_output) their stdout and
 * stderr come back as datagrams, so a line is never cut or interleaved and
 * the master is the only writer of the error log.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fpmd.h"

#define PM_BACKOFF_MIN		100	/* ms */
#define PM_BACKOFF_MAX		10000
#define PM_QUICK_DEATH		1000	/* a worker that lived less failed */

static void	pool_on_ctl(struct ev *, uint32_t);
static void	pool_on_log(struct ev *, uint32_t);
static void	pool_on_out(struct ev *, uint32_t);

static int
pair(int type, int fds[2])
{
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) == -1) {
		log_error("socketpair");
		return -1;
	}
	return 0;
}

int
pool_init(struct pool *p, const struct pool_conf *pc, int index)
{
	int fds[2], on = 1;

	memset(p, 0, sizeof(*p));
	p->pc = pc;
	p->index = index;
	p->gen = 1;
	p->target = pc->max_children;
	p->ctl_fd = p->proto_ctl_fd = -1;
	p->log_rfd = p->log_wfd = -1;
	p->out_rfd = p->out_wfd = p->err_rfd = p->err_wfd = -1;
	if ((p->listen_fd = listen_open(pc)) == -1)
		return -1;
	if (pair(SOCK_DGRAM, fds) == -1)
		return -1;
	p->log_rfd = fds[0];
	p->log_wfd = fds[1];
	ev_add(&p->ev_log, p->log_rfd, pool_on_log, p);
	if (pc->catch_workers_output) {
		if (pair(SOCK_DGRAM, fds) == -1)
			return -1;
		p->out_rfd = fds[0];
		p->out_wfd = fds[1];
		if (pair(SOCK_DGRAM, fds) == -1)
			return -1;
		p->err_rfd = fds[0];
		p->err_wfd = fds[1];
		setsockopt(p->out_rfd, SOL_SOCKET, SO_PASSCRED, &on,
		    sizeof(on));
		setsockopt(p->err_rfd, SOL_SOCKET, SO_PASSCRED, &on,
		    sizeof(on));
		ev_add(&p->ev_out, p->out_rfd, pool_on_out, p);
		ev_add(&p->ev_err, p->err_rfd, pool_on_out, p);
	}
	strncpy(fpmd->sb->pools[index].name, pc->name, SB_POOL_NAME - 1);
	fpmd->sb->pools[index].start = time(NULL);
	return 0;
}

/* In the new child: keep only what the prototype needs. */
static void
proto_fds_only(const struct pool *p)
{
	int keep[] = { p->listen_fd, p->proto_ctl_fd, p->log_wfd, p->out_wfd,
	    p->err_wfd };
	int i, j, t, n = (int)(sizeof(keep) / sizeof(keep[0])), next = 3;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (keep[j] < keep[i]) {
				t = keep[i];
				keep[i] = keep[j];
				keep[j] = t;
			}
	for (i = 0; i < n; i++) {
		if (keep[i] < 0)
			continue;
		if (keep[i] > next)
			close_range((unsigned)next, (unsigned)keep[i] - 1, 0);
		next = keep[i] + 1;
	}
	close_range((unsigned)next, ~0U, 0);
}

int
pool_proto_start(struct pool *p)
{
	struct proto_args pa;
	int fds[2];
	pid_t pid;

	if (pair(SOCK_SEQPACKET, fds) == -1)
		return -1;
	p->ctl_fd = fds[0];
	p->proto_ctl_fd = fds[1];
	p->ready = false;
	switch (pid = fork()) {
	case -1:
		log_error("[pool %s] fork", p->pc->name);
		close(fds[0]);
		close(fds[1]);
		p->ctl_fd = p->proto_ctl_fd = -1;
		return -1;
	case 0:
		proto_fds_only(p);
		memset(&pa, 0, sizeof(pa));
		pa.conf = fpmd->conf;
		pa.pc = p->pc;
		pa.pool_index = p->index;
		pa.gen = p->gen;
		pa.listen_fd = p->listen_fd;
		pa.ctl_fd = p->proto_ctl_fd;
		pa.log_fd = p->log_wfd;
		pa.out_fd = p->out_wfd;
		pa.err_fd = p->err_wfd;
		pa.sb = fpmd->sb;
		pa.master = getppid();
		proto_main(&pa);
	}
	close(p->proto_ctl_fd);
	p->proto_ctl_fd = -1;
	p->proto_pid = pid;
	ev_add(&p->ev_ctl, p->ctl_fd, pool_on_ctl, p);
	log_debug("[pool %s] prototype gen %d started, pid %d", p->pc->name,
	    p->gen, (int)pid);
	return 0;
}

static int
pool_send(struct pool *p, enum proto_msg_type type, int slot, pid_t pid,
    int status)
{
	struct proto_msg m;

	if (p->ctl_fd == -1)
		return -1;
	memset(&m, 0, sizeof(m));
	m.type = type;
	m.slot = slot;
	m.pid = pid;
	m.status = status;
	if (send(p->ctl_fd, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(m)) {
		log_warn("[pool %s] message to the prototype", p->pc->name);
		return -1;
	}
	return 0;
}

static int
slot_alloc(struct pool *p)
{
	uint32_t i;

	for (i = 0; i < fpmd->sb->nslots; i++)
		if (fpmd->slots[i].pool == -1)
			break;
	if (i == fpmd->sb->nslots)
		return -1;
	fpmd->slots[i].pool = p->index;
	fpmd->slots[i].pid = 0;
	fpmd->slots[i].started = now_ms();
	sb_slot_begin(&fpmd->sb->slots[i]);
	fpmd->sb->slots[i].pool = p->index;
	fpmd->sb->slots[i].gen = p->gen;
	fpmd->sb->slots[i].state = SLOT_STARTING;
	sb_slot_commit(&fpmd->sb->slots[i]);
	return (int)i;
}

static void
slot_free(int slot)
{
	fpmd->slots[slot].pool = -1;
	fpmd->slots[slot].pid = 0;
	sb_slot_clear(&fpmd->sb->slots[slot]);
}

/* Brings the pool up to its target number of workers. */
static void
pm_maintain(struct pool *p)
{
	int slot;

	if (fpmd->state != FPMD_RUNNING || !p->ready || p->respawn_at != 0)
		return;
	while (p->nworkers < p->target) {
		if ((slot = slot_alloc(p)) == -1) {
			log_warnx("[pool %s] no free scoreboard slot: raise "
			    "process.max", p->pc->name);
			return;
		}
		if (pool_send(p, PMSG_SPAWN, slot, 0, 0) == -1) {
			slot_free(slot);
			return;
		}
		p->nworkers++;
	}
}

static void
pm_announce(void)
{
	if (!fpmd->announced && fpmd->state == FPMD_RUNNING && pm_all_ready()) {
		fpmd->announced = true;
		log_notice("ready to handle connections");
	}
}

static void
pm_worker_exited(struct pool *p, int slot, pid_t pid, int status)
{
	int64_t lived;
	int sig;

	if (slot < 0 || (uint32_t)slot >= fpmd->sb->nslots ||
	    fpmd->slots[slot].pool != p->index)
		return;
	lived = now_ms() - fpmd->slots[slot].started;
	if (pid > 0)
		p->nrunning--;
	p->nworkers--;
	slot_free(slot);
	if (pid <= 0) {
		/* the prototype could not fork it */
		p->fail_streak++;
	} else if (WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
		if (fpmd->state == FPMD_RUNNING || sig != SIGTERM)
			log_warnx("[pool %s] child %d exited on signal %d "
			    "(%s%s) after %.3f seconds from start",
			    p->pc->name, (int)pid, sig, strsignal(sig),
			    WCOREDUMP(status) ? " - core dumped" : "",
			    (double)lived / 1000.0);
		p->fail_streak = lived < PM_QUICK_DEATH ? p->fail_streak + 1 :
		    0;
	} else if (WEXITSTATUS(status) != 0) {
		log_warnx("[pool %s] child %d exited with code %d after %.3f "
		    "seconds from start", p->pc->name, (int)pid,
		    WEXITSTATUS(status), (double)lived / 1000.0);
		p->fail_streak = lived < PM_QUICK_DEATH ? p->fail_streak + 1 :
		    0;
	} else {
		log_debug("[pool %s] child %d exited with code 0 after %.3f "
		    "seconds from start", p->pc->name, (int)pid,
		    (double)lived / 1000.0);
		p->fail_streak = 0;
	}
	if (p->fail_streak > 0 && fpmd->state == FPMD_RUNNING) {
		int64_t delay = PM_BACKOFF_MIN << (p->fail_streak > 7 ? 7 :
		    p->fail_streak - 1);

		if (delay > PM_BACKOFF_MAX)
			delay = PM_BACKOFF_MAX;
		if (p->respawn_at == 0)
			log_warnx("[pool %s] workers are failing; next start "
			    "in %lld ms", p->pc->name, (long long)delay);
		p->respawn_at = now_ms() + delay;
		return;
	}
	pm_maintain(p);
}

static void
pool_on_ctl(struct ev *e, uint32_t events)
{
	struct pool *p = e->arg;
	struct proto_msg m;
	ssize_t n;

	n = recv(p->ctl_fd, &m, sizeof(m), MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* The prototype is gone; SIGCHLD tells us how. */
		ev_del(&p->ev_ctl);
		close(p->ctl_fd);
		p->ctl_fd = -1;
		return;
	}
	if (n != (ssize_t)sizeof(m))
		return;
	m.text[sizeof(m.text) - 1] = '\0';
	switch (m.type) {
	case PMSG_READY:
		p->ready = true;
		p->proto_fail_streak = 0;
		log_debug("[pool %s] PHP %s started in the prototype",
		    p->pc->name, sapi_php_version());
		pm_maintain(p);
		pm_announce();
		break;
	case PMSG_FAILED:
		log_errorx("[pool %s] cannot start PHP: %s", p->pc->name,
		    m.text);
		if (!fpmd->announced) {
			fpmd->exit_code = FPMD_EXIT_CONFIG;
			fpmd_stop(false);
		}
		break;
	case PMSG_SPAWNED:
		if (m.slot >= 0 && (uint32_t)m.slot < fpmd->sb->nslots &&
		    fpmd->slots[m.slot].pool == p->index) {
			fpmd->slots[m.slot].pid = m.pid;
			p->nrunning++;
		}
		pm_announce();
		break;
	case PMSG_EXITED:
		pm_worker_exited(p, m.slot, m.pid, m.status);
		break;
	default:
		log_warnx("[pool %s] unknown message %u from the prototype",
		    p->pc->name, m.type);
		break;
	}
}

static void
pool_on_log(struct ev *e, uint32_t events)
{
	static char buf[256 * 1024];
	struct pool *p = e->arg;
	ssize_t n;
	size_t off;

	for (;;) {
		n = recv(p->log_rfd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			return;
		/* Children format whole lines; we only write them. */
		off = 0;
		while (off < (size_t)n) {
			ssize_t w = write(log_get_fd(), buf + off,
			    (size_t)n - off);
			if (w <= 0) {
				if (w == -1 && errno == EINTR)
					continue;
				break;
			}
			off += (size_t)w;
		}
	}
}

static void
out_line(struct pool *p, const char *stream, pid_t pid, const char *s,
    size_t len)
{
	char *line;
	int n;

	if (!p->pc->decorate_workers_output) {
		if ((line = malloc(len + 1)) == NULL)
			return;
		memcpy(line, s, len);
		line[len] = '\n';
		if (write(log_get_fd(), line, len + 1) == -1)
			(void)0;
		free(line);
		return;
	}
	n = asprintf(&line, "[pool %s] child %d said into %s: \"%.*s\"",
	    p->pc->name, (int)pid, stream, (int)len, s);
	if (n < 0)
		return;
	log_raw(LOG_LVL_WARNING, line, (size_t)n);
	free(line);
}

static void
pool_on_out(struct ev *e, uint32_t events)
{
	static char buf[256 * 1024];
	char cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct pool *p = e->arg;
	const char *stream = e == &p->ev_out ? "stdout" : "stderr";
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *c;
	struct ucred cred;
	char *s, *nl, *end;
	ssize_t n;

	for (;;) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		n = recvmsg(e->fd, &mh, MSG_DONTWAIT);
		if (n <= 0)
			return;
		cred.pid = 0;
		for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_CREDENTIALS)
				memcpy(&cred, CMSG_DATA(c), sizeof(cred));
		/* One line per newline; a write without one is a line too. */
		s = buf;
		end = buf + n;
		while (s < end) {
			nl = memchr(s, '\n', (size_t)(end - s));
			if (nl == NULL)
				nl = end;
			out_line(p, stream, cred.pid, s, (size_t)(nl - s));
			s = nl + 1;
		}
	}
}

void
pool_stop(struct pool *p, bool graceful)
{
	if (p->proto_pid == 0)
		return;
	if (pool_send(p, graceful ? PMSG_QUIT : PMSG_TERM, -1, 0, 0) == -1)
		kill(p->proto_pid, graceful ? SIGQUIT : SIGTERM);
}

void
pool_close(struct pool *p)
{
	ev_del(&p->ev_log);
	ev_del(&p->ev_out);
	ev_del(&p->ev_err);
	listen_close(p->pc, p->listen_fd);
	p->listen_fd = -1;
}

void
pm_proto_exited(pid_t pid, int status)
{
	struct pool *p = NULL;
	uint32_t i;
	int64_t delay;
	size_t k;

	for (k = 0; k < fpmd->npools; k++)
		if (fpmd->pools[k].proto_pid == pid)
			p = &fpmd->pools[k];
	if (p == NULL)
		return;
	p->proto_pid = 0;
	p->ready = false;
	if (p->ctl_fd != -1) {
		ev_del(&p->ev_ctl);
		close(p->ctl_fd);
		p->ctl_fd = -1;
	}
	/* Its workers died with it (PR_SET_PDEATHSIG). */
	for (i = 0; i < fpmd->sb->nslots; i++)
		if (fpmd->slots[i].pool == p->index)
			slot_free((int)i);
	p->nworkers = p->nrunning = 0;
	if (fpmd->state != FPMD_RUNNING)
		return;
	if (WIFSIGNALED(status))
		log_errorx("[pool %s] prototype %d died on signal %d (%s); "
		    "restarting the pool", p->pc->name, (int)pid,
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		log_errorx("[pool %s] prototype %d exited with code %d; "
		    "restarting the pool", p->pc->name, (int)pid,
		    WEXITSTATUS(status));
	p->proto_fail_streak++;
	delay = PM_BACKOFF_MIN << (p->proto_fail_streak > 7 ? 7 :
	    p->proto_fail_streak - 1);
	p->proto_restart_at = now_ms() + (delay > PM_BACKOFF_MAX ?
	    PM_BACKOFF_MAX : delay);
}

void
pm_tick(void)
{
	int64_t now = now_ms();
	size_t k;
	struct pool *p;

	for (k = 0; k < fpmd->npools; k++) {
		p = &fpmd->pools[k];
		if (fpmd->state != FPMD_RUNNING)
			continue;
		if (p->respawn_at != 0 && now >= p->respawn_at) {
			p->respawn_at = 0;
			pm_maintain(p);
		}
		if (p->proto_pid == 0 && p->proto_restart_at != 0 &&
		    now >= p->proto_restart_at) {
			p->proto_restart_at = 0;
			if (pool_proto_start(p) == -1)
				p->proto_restart_at = now + PM_BACKOFF_MAX;
		}
	}
}

int
pm_next_timeout(void)
{
	int64_t now = now_ms(), next = -1, t;
	size_t k;

	for (k = 0; k < fpmd->npools; k++) {
		t = fpmd->pools[k].respawn_at;
		if (t != 0 && (next == -1 || t < next))
			next = t;
		t = fpmd->pools[k].proto_restart_at;
		if (t != 0 && (next == -1 || t < next))
			next = t;
	}
	if (fpmd->escalate_at != 0 && (next == -1 || fpmd->escalate_at < next))
		next = fpmd->escalate_at;
	if (fpmd->kill_at != 0 && (next == -1 || fpmd->kill_at < next))
		next = fpmd->kill_at;
	if (next == -1)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

bool
pm_all_ready(void)
{
	size_t k;

	for (k = 0; k < fpmd->npools; k++)
		if (!fpmd->pools[k].ready ||
		    fpmd->pools[k].nrunning < fpmd->pools[k].target)
			return false;
	return true;
}

bool
pm_all_gone(void)
{
	size_t k;

	for (k = 0; k < fpmd->npools; k++)
		if (fpmd->pools[k].proto_pid != 0)
			return false;
	return true;
}
