/*
 * The prototype: one process per pool and generation.  It sets the limits,
 * the root directory and the identity the pool's workers run with, starts
 * PHP once (so opcache's shared memory is created here and shared by the
 * pool's workers and no one else), and then only forks workers when the
 * master asks, reaps them and tells the master.
 *
 * Workers are its children and die with it (PR_SET_PDEATHSIG), so a
 * draining prototype stays until its last worker has gone, and a prototype
 * that dies takes its workers with it.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fpmd.h"

extern char **environ;

struct proto_worker {
	pid_t		pid;
	int		slot;
};

struct proto {
	const struct proto_args	*pa;
	int			 sigfd;
	struct proto_worker	*w;
	size_t			 nw;
	size_t			 capw;
	bool			 draining;
	int			 drain_sig;
};

/* Blocking: the master reads its socket in every round. */
static int
proto_send(int fd, const struct proto_msg *m, size_t len)
{
	ssize_t n;

	do {
		n = send(fd, m, len, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n != (ssize_t)len)
		return -1;
	return 0;
}

static void
proto_tell(int fd, enum proto_msg_type type, int slot, pid_t pid,
    int status, const char *text)
{
	struct proto_msg m;
	size_t len = PMSG_HDR;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.slot = slot;
	m.pid = pid;
	m.status = status;
	if (text != NULL)
		len += (size_t)snprintf(m.text, sizeof(m.text), "%s", text) + 1;
	if (len > sizeof(m))
		len = sizeof(m);
	if (proto_send(fd, &m, len) == -1)
		_exit(0);	/* the master is gone */
}

/*
 * The pool's environment: php-fpm's clear_env and env semantics.  A value
 * "$NAME" is NAME from fpmd's own environment (empty if unset), read
 * before the environment is cleared.
 */
static int
proto_env(const struct pool_conf *pc, const struct passwd *pw)
{
	const char **vals;
	const char *v;
	size_t i;
	bool user = false, home = false;

	const char *scan;

	if ((vals = calloc(pc->nenv + 1, sizeof(*vals))) == NULL)
		return -1;
	/*
	 * PHP_INI_SCAN_DIR in fpmd's environment chooses PHP's conf.d, as it
	 * does for php-fpm: keep it through clear_env for the start-up (the
	 * SAPI removes it afterwards when the pool did not ask for it).
	 */
	if ((scan = getenv("PHP_INI_SCAN_DIR")) != NULL)
		scan = strdup(scan);
	for (i = 0; i < pc->nenv; i++) {
		v = pc->env[i].value;
		if (v[0] == '$' && v[1] != '\0') {
			v = getenv(v + 1);
			v = v ? strdup(v) : "";
		}
		vals[i] = v;
	}
	if (pc->clear_env) {
		clearenv();
		if (scan != NULL)
			setenv("PHP_INI_SCAN_DIR", scan, 1);
	}
	for (i = 0; i < pc->nenv; i++) {
		if (vals[i] == NULL || setenv(pc->env[i].key, vals[i], 1) == -1) {
			free(vals);
			return -1;
		}
		if (strcmp(pc->env[i].key, "USER") == 0)
			user = true;
		if (strcmp(pc->env[i].key, "HOME") == 0)
			home = true;
	}
	free(vals);	/* the strings stay: the environment points at them */
	if (pw != NULL) {
		if (!user)
			setenv("USER", pw->pw_name, 1);
		if (!home)
			setenv("HOME", pw->pw_dir, 1);
	}
	return 0;
}

/* Order matters: groups, then gid, then uid, each checked. */
static int
proto_drop(const struct pool_conf *pc, const struct passwd *pw, char *err,
    size_t errlen)
{
	if (geteuid() != 0 || pc->uid == (uid_t)-1)
		return 0;
	if (pw != NULL) {
		if (initgroups(pw->pw_name, pc->gid) == -1) {
			snprintf(err, errlen, "initgroups(%s): %s",
			    pw->pw_name, strerror(errno));
			return -1;
		}
	} else if (setgroups(1, &pc->gid) == -1) {
		snprintf(err, errlen, "setgroups: %s", strerror(errno));
		return -1;
	}
	if (setgid(pc->gid) == -1) {
		snprintf(err, errlen, "setgid(%d): %s", (int)pc->gid,
		    strerror(errno));
		return -1;
	}
	if (setuid(pc->uid) == -1) {
		snprintf(err, errlen, "setuid(%d): %s", (int)pc->uid,
		    strerror(errno));
		return -1;
	}
	if (pc->uid != 0 && setuid(0) != -1) {
		snprintf(err, errlen, "could regain root after setuid(%d)",
		    (int)pc->uid);
		return -1;
	}
	return 0;
}

static int
proto_setup(const struct proto_args *pa, char *err, size_t errlen)
{
	const struct pool_conf *pc = pa->pc;
	struct passwd *pw = NULL;
	bool root = geteuid() == 0;

	if (proc_rlimit(RLIMIT_NOFILE, pc->rlimit_files, false, "rlimit_files",
	    err, errlen) == -1 ||
	    proc_rlimit(RLIMIT_CORE, pc->rlimit_core, false, "rlimit_core", err,
	    errlen) == -1)
		return -1;
	if (root && pc->uid != (uid_t)-1)
		pw = getpwuid(pc->uid);
	if (root && pc->chroot != NULL) {
		if (chroot(pc->chroot) == -1) {
			snprintf(err, errlen, "chroot(%s): %s", pc->chroot,
			    strerror(errno));
			return -1;
		}
		if (pc->chdir == NULL && chdir("/") == -1) {
			snprintf(err, errlen, "chdir(/): %s", strerror(errno));
			return -1;
		}
	}
	if (pc->chdir != NULL && chdir(pc->chdir) == -1) {
		snprintf(err, errlen, "chdir(%s): %s", pc->chdir,
		    strerror(errno));
		return -1;
	}
	/*
	 * process.priority, while we may still lower the nice value; the
	 * workers inherit it.  php-fpm ignores it when not root: a value a
	 * user may set (a nicer one) is set all the same.
	 */
	if (pc->process_priority != FPMD_PRIORITY_UNSET &&
	    setpriority(PRIO_PROCESS, 0, pc->process_priority) == -1) {
		if (root) {
			snprintf(err, errlen, "Unable to set priority for this "
			    "new process (process.priority %d): %s",
			    pc->process_priority, strerror(errno));
			return -1;
		}
		log_notice("'process.priority' %d is ignored when fpmd is not "
		    "running as root (%s)", pc->process_priority,
		    strerror(errno));
	}
	if (proto_drop(pc, pw, err, errlen) == -1)
		return -1;
	/*
	 * Dropping root makes the kernel mark us, and the workers we fork,
	 * non-dumpable: their user cannot trace them or read their /proc
	 * files.  process.dumpable = yes gives that back, as in php-fpm.
	 */
	if (pc->process_dumpable && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == -1)
		log_warn("prctl(PR_SET_DUMPABLE)");
	if (proto_env(pc, pw) == -1) {
		snprintf(err, errlen, "setting the environment: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * One line PHP printed on stderr during its start-up.  PHP reports a
 * syntax error in php.ini or in a file of the scan dir there, bare ("PHP:
 * syntax error, unexpected '=' in FILE on line N"), and then ignores the
 * rest of that file, so the pool would run with PHP's defaults for what
 * follows: that fails the start-up, with FILE:N: and PHP's words as the
 * reason.  Anything else there (an extension talking) is logged, at
 * warning, or at error when PHP exits in its start-up.
 */
static void
proto_php_line(char *line, enum log_level other, bool *failed, char *err,
    size_t errlen)
{
	char *msg, *in, *on, *n;

	if (strncmp(line, "PHP:  ", 6) != 0) {
		log_msg(other, "PHP start-up: %s", line);
		return;
	}
	msg = line + 6;
	if ((on = strstr(msg, " on line ")) != NULL) {
		for (n = on + 9; isdigit((unsigned char)*n); n++)
			;
		if (*n != '\0' || n == on + 9)
			on = NULL;
	}
	in = NULL;
	if (on != NULL) {
		*on = '\0';
		if ((in = strstr(msg, " in ")) != NULL)
			while (strstr(in + 1, " in ") != NULL)
				in = strstr(in + 1, " in ");
	}
	if (in != NULL) {
		*in = '\0';
		if (!*failed)
			snprintf(err, errlen, "%s:%s: %s", in + 4, on + 9, msg);
		else
			log_errorx("%s:%s: %s", in + 4, on + 9, msg);
	} else {
		if (on != NULL)
			*on = ' ';
		/* the ini text fpmd builds from php_value/php_admin_value */
		if (!*failed)
			snprintf(err, errlen, "PHP: %s (in php_value or "
			    "php_admin_value)", msg);
		else
			log_errorx("PHP: %s", msg);
	}
	*failed = true;
}

/* Every line in fd, read from its start; a line past buf is cut there. */
static int
proto_php_output(int fd, enum log_level other, char *err, size_t errlen)
{
	char buf[8192], *line, *nl;
	ssize_t n;
	size_t len = 0;
	bool failed = false, eof = false;

	if (lseek(fd, 0, SEEK_SET) == -1)
		return 0;
	while (!eof) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n > 0)
			len += (size_t)n;
		else
			eof = true;
		buf[len] = '\0';
		for (line = buf; (nl = strchr(line, '\n')) != NULL ||
		    (line != buf + len && (eof || (line == buf &&
		    len == sizeof(buf) - 1))); line = nl) {
			if (nl != NULL)
				*nl++ = '\0';
			else
				nl = buf + len;
			line[strcspn(line, "\r")] = '\0';
			if (*line != '\0')
				proto_php_line(line, other, &failed, err,
				    errlen);
		}
		len -= (size_t)(line - buf);
		memmove(buf, line, len);
	}
	return failed ? -1 : 0;
}

/* What proto_php_startup() redirected, while it runs. */
static struct {
	bool	on;
	int	cap;		/* PHP's stderr: a memory file */
	int	save_out;
	int	save_err;
	int	log_fd;
} pcap = { false, -1, -1, -1, -1 };

/* Gives stdout and stderr back; reads what PHP wrote: -1 if it failed. */
static int
proto_php_release(enum log_level other, char *err, size_t errlen)
{
	int rc;

	if (!pcap.on)
		return 0;
	pcap.on = false;
	fflush(stdout);
	fflush(stderr);
	dup2(pcap.save_out, STDOUT_FILENO);
	dup2(pcap.save_err, STDERR_FILENO);
	close(pcap.save_out);
	close(pcap.save_err);
	log_set_fd(pcap.log_fd);
	rc = proto_php_output(pcap.cap, other, err, errlen);
	close(pcap.cap);
	return rc;
}

/*
 * PHP or an extension may exit() in the middle of its start-up (opcache
 * does, on a preload it refuses): what it said is still logged.
 */
static void
proto_php_atexit(void)
{
	char err[512];

	if (proto_php_release(LOG_LVL_ERROR, err, sizeof(err)) == -1)
		log_errorx("%s", err);
}

/*
 * PHP's start-up with its stderr caught in a memory file (read once it is
 * done: a pipe could fill up with nobody reading).  Its stdout, where it
 * displays start-up errors (display_startup_errors, in HTML unless told
 * otherwise), goes to /dev/null meanwhile, as php-fpm's master's does:
 * PHP logs the same errors through the SAPI, which fpmd logs.
 */
static int
proto_php_startup(const struct fpmd_conf *conf, const struct pool_conf *pc,
    char *err, size_t errlen)
{
	static bool registered;
	int null = -1, rc;

	fflush(stdout);
	fflush(stderr);
	pcap.cap = pcap.save_out = pcap.save_err = -1;
	if ((pcap.cap = memfd_create("fpmd-php-startup", MFD_CLOEXEC)) ==
	    -1 || (null = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1 ||
	    (pcap.save_out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3)) ==
	    -1 ||
	    (pcap.save_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3)) ==
	    -1 || (!registered && atexit(proto_php_atexit) != 0)) {
		snprintf(err, errlen, "catching PHP's start-up messages: %s",
		    strerror(errno));
		goto fail;
	}
	registered = true;
	if (dup2(pcap.cap, STDERR_FILENO) == -1 ||
	    dup2(null, STDOUT_FILENO) == -1) {
		snprintf(err, errlen, "catching PHP's start-up messages: %s",
		    strerror(errno));
		dup2(pcap.save_out, STDOUT_FILENO);
		dup2(pcap.save_err, STDERR_FILENO);
		goto fail;
	}
	close(null);
	pcap.on = true;
	/* fpmd -t logs to stderr: not into the memory file */
	if ((pcap.log_fd = log_get_fd()) == STDERR_FILENO)
		log_set_fd(pcap.save_err);
	rc = sapi_proto_startup(conf, pc, err, errlen);
	if (proto_php_release(LOG_LVL_WARNING, err, errlen) == -1)
		rc = -1;
	return rc;
fail:
	if (null != -1)
		close(null);
	if (pcap.save_out != -1)
		close(pcap.save_out);
	if (pcap.save_err != -1)
		close(pcap.save_err);
	if (pcap.cap != -1)
		close(pcap.cap);
	return -1;
}

/* Room for one more worker in the table, before it is forked. */
static int
proto_room(struct proto *p)
{
	struct proto_worker *nw;
	size_t cap;

	if (p->nw < p->capw)
		return 0;
	cap = p->capw ? p->capw * 2 : 16;
	if ((nw = reallocarray(p->w, cap, sizeof(*nw))) == NULL) {
		log_error("%s: reallocarray", __func__);
		return -1;
	}
	p->w = nw;
	p->capw = cap;
	return 0;
}

static void
proto_spawn(struct proto *p, int slot)
{
	const struct proto_args *pa = p->pa;
	pid_t pid, self = getpid();
	sigset_t quit;

	if (slot < 0 || (uint32_t)slot >= pa->sb->nslots)
		return;
	if (proto_room(p) == -1) {
		proto_tell(pa->ctl_fd, PMSG_EXITED, slot, -1, 0, NULL);
		return;
	}
	switch (pid = fork()) {
	case -1:
		log_error("[pool %s] fork", pa->pc->name);
		proto_tell(pa->ctl_fd, PMSG_EXITED, slot, -1, 0, NULL);
		return;
	case 0:
		close(p->sigfd);
		close(pa->ctl_fd);
		sigemptyset(&quit);
		sigaddset(&quit, SIGQUIT);
		if (proc_child_setup(SIGKILL, self, &quit) == -1)
			_exit(FPMD_EXIT_SOFTWARE);
		worker_main(pa, slot);
	default:
		p->w[p->nw].pid = pid;
		p->w[p->nw].slot = slot;
		p->nw++;
		proto_tell(pa->ctl_fd, PMSG_SPAWNED, slot, pid, 0, NULL);
	}
}

static void
proto_signal_all(struct proto *p, int sig)
{
	size_t i;

	for (i = 0; i < p->nw; i++)
		kill(p->w[i].pid, sig);
}

static void
proto_reap(struct proto *p)
{
	pid_t pid;
	size_t i;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < p->nw; i++)
			if (p->w[i].pid == pid)
				break;
		if (i == p->nw)
			continue;
		proto_tell(p->pa->ctl_fd, PMSG_EXITED, p->w[i].slot, pid,
		    status, NULL);
		p->w[i] = p->w[--p->nw];
	}
}

static void
proto_command(struct proto *p, const struct proto_msg *mp)
{
	struct proto_msg m = *mp;
	size_t i;

	switch (m.type) {
	case PMSG_SPAWN:
		if (!p->draining)
			proto_spawn(p, m.slot);
		else
			proto_tell(p->pa->ctl_fd, PMSG_EXITED, m.slot, -1, 0,
			    NULL);
		break;
	case PMSG_QUIT:
		p->draining = true;
		p->drain_sig = SIGQUIT;
		proto_signal_all(p, SIGQUIT);
		/* No worker of ours accepts from here on: say so. */
		proto_tell(p->pa->ctl_fd, PMSG_QUITTING, -1, getpid(), 0, NULL);
		break;
	case PMSG_TERM:
		p->draining = true;
		p->drain_sig = SIGTERM;
		proto_signal_all(p, SIGTERM);
		proto_tell(p->pa->ctl_fd, PMSG_QUITTING, -1, getpid(), 0, NULL);
		break;
	case PMSG_KILL:
		for (i = 0; i < p->nw; i++)
			if (p->w[i].pid == m.pid && p->w[i].slot == m.slot)
				kill(m.pid, m.status);
		break;
	default:
		log_warnx("%s: unknown message %u", __func__, m.type);
		break;
	}
}

/* What the master asked, as far as it has been sent; workers reaped between. */
static void
proto_commands(struct proto *p)
{
	struct proto_msg m;
	ssize_t n;
	int i;

	for (i = 0; i < 256; i++) {
		n = recv(p->pa->ctl_fd, &m, sizeof(m), MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* The master is gone: so are we, and our workers. */
			_exit(0);
		}
		if ((size_t)n >= PMSG_HDR)
			proto_command(p, &m);
	}
}

/*
 * fpmd -t: a pool's PHP start-up as its prototype does it (limits, root
 * directory, user, environment, php.ini and scan dir, extensions), in a
 * child that exits afterwards, so that a php.ini with a syntax error is
 * found before a start or a reload meets it.  What PHP says is logged as
 * at start.  The child has reload_timeout to finish (a slow preload).
 */
int
proto_test(const struct fpmd_conf *conf, const struct pool_conf *pc,
    char *err, size_t errlen)
{
	struct proto_args pa;
	struct pollfd pfd;
	char prefix[128];
	int64_t deadline;
	size_t len = 0;
	ssize_t n;
	pid_t pid, self = getpid();
	int fds[2], status, left;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	switch (pid = fork()) {
	case -1:
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	case 0:
		close(fds[0]);
		if (proc_child_setup(SIGKILL, self, NULL) == -1)
			_exit(FPMD_EXIT_SOFTWARE);
		snprintf(prefix, sizeof(prefix), "[pool %s] ", pc->name);
		log_set_prefix(prefix);
		memset(&pa, 0, sizeof(pa));
		pa.conf = conf;
		pa.pc = pc;
		if (proto_setup(&pa, err, errlen) == -1 ||
		    proto_php_startup(conf, pc, err, errlen) == -1) {
			if (write(fds[1], err, strlen(err)) == -1)
				_exit(FPMD_EXIT_SOFTWARE);
			_exit(FPMD_EXIT_CONFIG);
		}
		_exit(0);
	}
	close(fds[1]);
	err[0] = '\0';
	deadline = now_ms() + (int64_t)conf->reload_timeout * 1000;
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	for (;;) {
		left = (int)(deadline - now_ms());
		if (left <= 0) {
			kill(pid, SIGKILL);
			snprintf(err, errlen, "PHP start-up did not end within "
			    "reload_timeout (%d s)", conf->reload_timeout);
			len = strlen(err);
			break;
		}
		if (poll(&pfd, 1, left) == -1 && errno != EINTR)
			break;
		if (pfd.revents == 0)
			continue;
		n = read(fds[0], err + len, errlen - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == errlen - 1)
			break;
	}
	err[len] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (len > 0)
		return -1;
	if (WIFSIGNALED(status)) {
		snprintf(err, errlen, "PHP start-up died of signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
		return -1;
	}
	if (WEXITSTATUS(status) != 0) {
		snprintf(err, errlen, "PHP start-up exited with code %d (see "
		    "the messages above)", WEXITSTATUS(status));
		return -1;
	}
	return 0;
}

void
proto_main(const struct proto_args *pa)
{
	struct proto p;
	struct pollfd pfd[2];
	struct signalfd_siginfo si;
	char err[512], prefix[128];
	sigset_t mask;
	int timeout;

	memset(&p, 0, sizeof(p));
	p.pa = pa;
	if (proc_child_setup(SIGKILL, pa->master, NULL) == -1)
		_exit(FPMD_EXIT_SOFTWARE);
	/* the master's records of the slots are a stale copy from here on */
	pa->sb->master = false;
	proc_title_set("fpmd: pool %s prototype gen %d", pa->pc->name, pa->gen);
	snprintf(prefix, sizeof(prefix), "[pool %s] ", pa->pc->name);
	log_set_prefix(prefix);
	log_set_fd(pa->log_fd);
	log_set_sink(NULL, NULL);	/* the master's syslog is the master's */
	/* its configuration's level and form: a reload may bring new ones */
	log_set_level(pa->conf->log_level);
	log_set_json(pa->conf->log_json);
	log_set_limit((size_t)pa->conf->log_limit);
	log_set_origin(pa->pc->name, 0);
	log_set_drop_counter(&pa->sb->pools[pa->pool_index].log_dropped);
	/* What PHP or an extension prints on stderr goes to fpmd's log too. */
	dup2(pa->log_fd, STDERR_FILENO);

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGQUIT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIGHUP);
	if ((p.sigfd = signalfd(-1, &mask, SFD_CLOEXEC)) == -1)
		fatal("signalfd");

	if (proto_setup(pa, err, sizeof(err)) == -1 ||
	    proto_php_startup(pa->conf, pa->pc, err, sizeof(err)) == -1) {
		proto_tell(pa->ctl_fd, PMSG_FAILED, -1, getpid(), 0, err);
		_exit(FPMD_EXIT_CONFIG);
	}
	/*
	 * Signals stay blocked here only; PHP's start-up saw the default
	 * dispositions, and each worker unblocks and installs its own.
	 */
	sigprocmask(SIG_BLOCK, &mask, NULL);
	proto_tell(pa->ctl_fd, PMSG_READY, -1, getpid(), 0, NULL);

	pfd[0].fd = pa->ctl_fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = p.sigfd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (p.draining && p.nw == 0)
			_exit(0);
		/* Repeat the stop signal: one may land before accept(). */
		timeout = p.draining ? 1000 : -1;
		if (poll(pfd, 2, timeout) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (p.draining && pfd[0].revents == 0 && pfd[1].revents == 0)
			proto_signal_all(&p, p.drain_sig);
		if (pfd[1].revents & POLLIN) {
			if (read(p.sigfd, &si, sizeof(si)) != sizeof(si))
				continue;
			switch (si.ssi_signo) {
			case SIGCHLD:
				proto_reap(&p);
				break;
			case SIGQUIT:
				p.draining = true;
				p.drain_sig = SIGQUIT;
				proto_signal_all(&p, SIGQUIT);
				break;
			case SIGTERM:
			case SIGINT:
				p.draining = true;
				p.drain_sig = SIGTERM;
				proto_signal_all(&p, SIGTERM);
				break;
			default:
				break;
			}
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			proto_commands(&p);
	}
}
