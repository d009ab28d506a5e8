/*
 * fpmd's master: reads the configuration, opens the listening sockets and
 * the scoreboard, starts one prototype per pool, and then runs one event
 * loop (epoll) over signals (signalfd), the prototypes' control sockets and
 * the children's log datagrams.  It never runs PHP and never daemonizes:
 * it stays in the foreground under a supervisor and logs to stderr unless
 * error_log says otherwise.
 *
 * Signals keep their php-fpm meaning: TERM and INT stop fast, QUIT stops
 * gracefully (requests in hand finish), USR1 reopens the log file.
 */
#include "config.h"

#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fpmd.h"

struct fpmd		*fpmd;

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
ev_add(struct ev *e, int fd, void (*cb)(struct ev *, uint32_t), void *arg)
{
	ev_add_events(e, fd, EPOLLIN, cb, arg);
}

void
ev_add_events(struct ev *e, int fd, uint32_t events,
    void (*cb)(struct ev *, uint32_t), void *arg)
{
	struct epoll_event ee;

	e->fd = fd;
	e->cb = cb;
	e->arg = arg;
	memset(&ee, 0, sizeof(ee));
	ee.events = events;
	ee.data.ptr = e;
	if (epoll_ctl(fpmd->epfd, EPOLL_CTL_ADD, fd, &ee) == -1)
		fatal("%s: epoll_ctl", __func__);
}

void
ev_mod(struct ev *e, uint32_t events)
{
	struct epoll_event ee;

	if (e->cb == NULL)
		return;
	memset(&ee, 0, sizeof(ee));
	ee.events = events;
	ee.data.ptr = e;
	epoll_ctl(fpmd->epfd, EPOLL_CTL_MOD, e->fd, &ee);
}

void
ev_del(struct ev *e)
{
	if (e->cb == NULL)
		return;
	epoll_ctl(fpmd->epfd, EPOLL_CTL_DEL, e->fd, NULL);
	e->cb = NULL;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: fpmd [-R] [-t] -c FILE\n"
	    "       fpmd -v | -h\n"
	    "\n"
	    "  -c, --config FILE              the configuration file\n"
	    "  -t, --test                     check the configuration and exit\n"
	    "  -R, --allow-to-run-as-root     allow pools to run PHP as root\n"
	    "  -v, --version                  print the versions and exit\n"
	    "  -h, --help                     this help\n"
	    "\n"
	    "fpmd runs in the foreground and logs to stderr; there is no pid\n"
	    "file; fpmctl talks to it over its control socket.  Signals:\n"
	    "TERM/INT fast stop, QUIT graceful stop, USR1 reopen the log\n"
	    "file, USR2 reload.\n");
}

static int
log_open(const struct fpmd_conf *conf)
{
	int fd;

	log_set_level(conf->log_level);
	if (conf->error_log == NULL || strcmp(conf->error_log, "stderr") == 0)
		return 0;
	fd = open(conf->error_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640);
	if (fd == -1) {
		log_error("cannot open error_log '%s'", conf->error_log);
		return -1;
	}
	if (log_get_fd() != 2)
		close(log_get_fd());
	log_set_fd(fd);
	return 0;
}

int
fpmd_reopen_logs(void)
{
	return log_open(fpmd->conf);
}

/* timeout: seconds before a graceful stop turns fast; 0: the config's. */
void
fpmd_stop(bool graceful, int timeout)
{
	int64_t now = now_ms();

	if (fpmd->state == FPMD_TERMINATING ||
	    (fpmd->state == FPMD_FINISHING && graceful))
		return;
	log_notice(graceful ? "Finishing ..." : "Terminating ...");
	if (fpmd->reloading)
		pm_reload_abort("stopping", "fpmd is stopping");
	fpmd->state = graceful ? FPMD_FINISHING : FPMD_TERMINATING;
	pm_stop_all(graceful);
	if (graceful) {
		if (timeout == 0)
			timeout = fpmd->conf->process_control_timeout;
		if (timeout > 0)
			fpmd->escalate_at = now + (int64_t)timeout * 1000;
		fpmd->stop_timeout = timeout;
	} else {
		fpmd->escalate_at = 0;
		fpmd->kill_at = now + 2000;
	}
}

static void
fpmd_escalate(void)
{
	int64_t now = now_ms();

	if (fpmd->escalate_at != 0 && now >= fpmd->escalate_at) {
		log_warnx("stop timeout (%ds) reached: terminating the requests "
		    "still running", fpmd->stop_timeout);
		fpmd->escalate_at = 0;
		fpmd->state = FPMD_TERMINATING;
		pm_stop_all(false);
		fpmd->kill_at = now + 2000;
	}
	if (fpmd->kill_at != 0 && now >= fpmd->kill_at) {
		fpmd->kill_at = 0;
		pm_kill_protos();
	}
}

static void
fpmd_reap(void)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		pm_proto_exited(pid, status);
}

static void
fpmd_on_signal(struct ev *e, uint32_t events)
{
	struct signalfd_siginfo si;

	while (read(fpmd->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			fpmd_reap();
			break;
		case SIGTERM:
		case SIGINT:
			fpmd_stop(false, 0);
			break;
		case SIGQUIT:
			fpmd_stop(true, 0);
			break;
		case SIGUSR1:
			if (log_open(fpmd->conf) == 0)
				log_notice("error log file re-opened");
			break;
		case SIGUSR2:
			log_notice("reloading on SIGUSR2");
			control_signal_reload();
			break;
		case SIGHUP:
			log_notice("SIGHUP ignored: fpmd reloads on SIGUSR2 or "
			    "'fpmctl reload'");
			break;
		default:
			break;
		}
	}
}

/* What the daemon cannot do yet with a config conf_load() accepts. */
int
fpmd_check_conf(const struct fpmd_conf *conf, char **errors)
{
	char *text = NULL, *line;
	size_t k, len = 0;
	long total = 0;
	int n;

	for (k = 0; k < conf->npools; k++) {
		const struct pool_conf *pc = &conf->pools[k];

		total += pc->max_children;
	}
	if (conf->process_max > 0 && total > conf->process_max) {
		n = asprintf(&line, "%s: the pools' pm.max_children add up to "
		    "%ld, more than process.max = %d\n", conf->file, total,
		    conf->process_max);
		if (n > 0 && (text = realloc(text, len + (size_t)n + 1)) !=
		    NULL) {
			memcpy(text + len, line, (size_t)n + 1);
			len += (size_t)n;
		}
		if (n > 0)
			free(line);
	}
	if (len == 0) {
		free(text);
		return 0;
	}
	*errors = text;
	return -1;
}

static uint32_t
fpmd_nslots(const struct fpmd_conf *conf)
{
	uint32_t n = FPMD_SLOTS_DEFAULT;
	size_t k;
	long total = 0;

	/* Room for two generations side by side during a reload. */
	if (conf->process_max > 0)
		return (uint32_t)conf->process_max * 2;
	for (k = 0; k < conf->npools; k++)
		total += conf->pools[k].max_children;
	if ((uint64_t)total * 4 > n)
		n = (uint32_t)(total * 4);
	return n;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "fpm-config", required_argument, NULL, 'y' },
		{ "test", no_argument, NULL, 't' },
		{ "allow-to-run-as-root", no_argument, NULL, 'R' },
		{ "nodaemonize", no_argument, NULL, 'F' },
		{ "daemonize", no_argument, NULL, 'D' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct fpmd root;
	struct epoll_event evs[32];
	const char *conf_path = NULL;
	char *errors = NULL, abspath[PATH_MAX];
	sigset_t mask;
	bool test = false, allow_root = false;
	int64_t next_sample;
	int ch, n, i, flags;

	while ((ch = getopt_long(argc, argv, "c:y:tRFDvh", longopts, NULL))
	    != -1) {
		switch (ch) {
		case 'c':
		case 'y':
			conf_path = optarg;
			break;
		case 't':
			test = true;
			break;
		case 'R':
			allow_root = true;
			break;
		case 'F':
			break;	/* always in the foreground */
		case 'D':
			fprintf(stderr, "fpmd: fpmd never daemonizes: run it "
			    "under a supervisor (systemd, runit, s6, "
			    "supervisord), see contrib/\n");
			return FPMD_EXIT_USAGE;
		case 'v':
			printf("fpmd %s (PHP %s, SAPI %s)\n", FPMD_VERSION,
			    sapi_php_version(), FPMD_SAPI_NAME);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return FPMD_EXIT_USAGE;
		}
	}
	if (optind != argc || conf_path == NULL) {
		if (conf_path == NULL)
			fprintf(stderr, "fpmd: no configuration file: give "
			    "-c FILE\n");
		usage(stderr);
		return FPMD_EXIT_USAGE;
	}

	flags = 0;
	if (allow_root)
		flags |= CONF_ALLOW_ROOT;
	if (geteuid() == 0)
		flags |= CONF_AS_ROOT;
	fpmd = &root;
	fpmd->conf = conf_load(conf_path, flags, &errors);
	if (fpmd->conf == NULL || fpmd_check_conf(fpmd->conf, &errors) == -1) {
		if (errors != NULL)
			fputs(errors, stderr);
		free(errors);
		fprintf(stderr, "fpmd: configuration file %s test failed\n",
		    conf_path);
		return FPMD_EXIT_CONFIG;
	}
	if (test) {
		fprintf(stderr, "fpmd: configuration file %s test is "
		    "successful\n", fpmd->conf->file);
		conf_free(fpmd->conf);
		return 0;
	}
	if (realpath(conf_path, abspath) == NULL)
		snprintf(abspath, sizeof(abspath), "%s", conf_path);
	fpmd->conf_path = strdup(abspath);
	fpmd->conf_flags = flags;
	if (log_open(fpmd->conf) == -1)
		return FPMD_EXIT_CONFIG;

	proc_title_init(argc, argv);
	proc_title_set("fpmd: master (%s)", fpmd->conf_path);

	/*
	 * A shell's background job or nohup may hand us ignored signals;
	 * an ignored signal never reaches the signalfd, so reset them all.
	 */
	for (i = 1; i < NSIG; i++)
		if (i != SIGKILL && i != SIGSTOP)
			signal(i, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGQUIT);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1)
		fatal("sigprocmask");
	if ((fpmd->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK))
	    == -1)
		fatal("signalfd");
	if ((fpmd->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	ev_add(&fpmd->ev_sig, fpmd->sigfd, fpmd_on_signal, NULL);

	if ((fpmd->sb = sb_create(FPMD_POOLS_MAX, fpmd_nslots(fpmd->conf)))
	    == NULL)
		return FPMD_EXIT_SOFTWARE;
	if ((fpmd->slots = calloc(fpmd->sb->nslots, sizeof(*fpmd->slots))) ==
	    NULL)
		fatal("calloc");
	fpmd->start_time = time(NULL);

	log_notice("fpmd %s (PHP %s) starting, pid %d, config %s",
	    FPMD_VERSION, sapi_php_version(), (int)getpid(), fpmd->conf_path);
	if (control_open() == -1 || pm_start(fpmd->conf) == -1) {
		log_errorx("fpmd could not start");
		pm_stop_all(false);
		fpmd->exit_code = FPMD_EXIT_CONFIG;
		fpmd->state = FPMD_TERMINATING;
		fpmd->kill_at = now_ms() + 2000;
	}

	next_sample = now_ms() + 1000;
	for (;;) {
		if (fpmd->state != FPMD_RUNNING && pm_all_gone())
			break;
		n = epoll_wait(fpmd->epfd, evs, 32, pm_next_timeout());
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fatal("epoll_wait");
		}
		for (i = 0; i < n; i++) {
			struct ev *e = evs[i].data.ptr;

			if (e->cb != NULL)
				e->cb(e, evs[i].events);
		}
		control_sweep();
		pm_tick();
		control_tick();
		control_sweep();
		fpmd_escalate();
		if (now_ms() >= next_sample) {
			pm_sample();
			next_sample = now_ms() + 1000;
		}
	}
	control_close();
	pm_close_all();
	if (fpmd->exit_code == 0)
		log_notice("exiting, bye-bye!");
	return fpmd->exit_code;
}
