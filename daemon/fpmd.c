/*
 * fpmd's master: reads the configuration, opens the listening sockets and
 * the scoreboard, starts one prototype per pool, and then runs one event
 * loop over signals (signalfd), the control socket, the prototypes'
 * sockets and the children's log datagrams.  It never runs PHP and never
 * daemonizes: it stays in the foreground under a supervisor and logs to
 * stderr unless error_log says otherwise.
 *
 * Signals keep their php-fpm meaning and reach the same code as the
 * control socket's commands: TERM and INT stop fast, QUIT stops gracefully
 * (requests in hand finish), USR1 reopens the log file, USR2 reloads.
 *
 * Start-up order: configuration, log, the supervisor's sockets and
 * notification socket (sockact.c, notify.c), signals, event loop (ev.c),
 * scoreboard, control socket, pools (pm.c).  The supervisor hears when
 * every pool serves, when a reload begins and ends, and when fpmd stops.
 * Below main, the master is layered one way: control.c and reload.c drive
 * pm.c, which sizes generations (gen.c) over listeners, the scoreboard and
 * the loop.
 */
#include "config.h"

#include <sys/epoll.h>
#include <sys/resource.h>
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

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: fpmd [-R] [-t] [-r FD] -c FILE\n"
	    "       fpmd -v | -h\n"
	    "\n"
	    "  -c, --config FILE              the configuration file\n"
	    "  -t, --test                     check the configuration and exit\n"
	    "  -R, --allow-to-run-as-root     allow pools to run PHP as root\n"
	    "  -r, --ready-fd FD              write a newline to FD once\n"
	    "                                 every pool serves (s6)\n"
	    "  -v, --version                  print the versions and exit\n"
	    "  -h, --help                     this help\n"
	    "\n"
	    "fpmd runs in the foreground and logs to stderr; there is no pid\n"
	    "file; fpmctl talks to it over its control socket.  Signals:\n"
	    "TERM/INT fast stop, QUIT graceful stop, USR1 reopen the log\n"
	    "file, USR2 reload.\n");
}


static int
fpmd_rlimits(const struct fpmd_conf *conf)
{
	char err[256];

	if (proc_rlimit(RLIMIT_NOFILE, conf->rlimit_files, true,
	    "rlimit_files", err, sizeof(err)) == -1 ||
	    proc_rlimit(RLIMIT_CORE, conf->rlimit_core, true, "rlimit_core",
	    err, sizeof(err)) == -1) {
		log_errorx("%s", err);
		return -1;
	}
	return 0;
}

/*
 * process.priority of the master, as php-fpm sets it; prototypes inherit
 * it unless their pool sets its own.  Not root, a nicer value still works.
 */
static int
fpmd_priority(const struct fpmd_conf *conf)
{
	if (conf->process_priority == FPMD_PRIORITY_UNSET ||
	    setpriority(PRIO_PROCESS, 0, conf->process_priority) == 0)
		return 0;
	if (geteuid() == 0) {
		log_error("Unable to set priority for the master process "
		    "(process.priority %d)", conf->process_priority);
		return -1;
	}
	log_notice("'process.priority' %d is ignored when fpmd is not running "
	    "as root (%s)", conf->process_priority, strerror(errno));
	return 0;
}

static bool
str_differ(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0);
}

/*
 * A reload commits: the global settings a running master can take, it
 * takes (log level and file, its own limits, the control socket's mode
 * and owners); those it cannot are said in the log.  The pools' settings
 * come with their new generation.
 */
static void
fpmd_reloaded(const struct fpmd_conf *old, const struct fpmd_conf *conf)
{
	bool reopen;

	reopen = str_differ(old->error_log, conf->error_log) ||
	    (conf->log_syslog && (old->syslog_facility !=
	    conf->syslog_facility || str_differ(old->syslog_ident,
	    conf->syslog_ident)));
	if (errlog_apply(conf, reopen) == -1)
		log_warnx("error_log: fpmd goes on writing where it did");
	if (fpmd_rlimits(conf) == -1)
		log_warnx("rlimit_files/rlimit_core: fpmd keeps its limits");
	if (conf->process_priority != old->process_priority &&
	    fpmd_priority(conf) == -1)
		log_warnx("process.priority: fpmd keeps its priority");
	control_apply(old, conf);
	if (conf->process_max > 0 &&
	    (uint64_t)conf->process_max * FPMD_GENS_MAX > fpmd->sb->nslots)
		log_warnx("process.max %d: until fpmd restarts, its scoreboard "
		    "has room for %u workers in all generations",
		    conf->process_max, fpmd->sb->nslots);
}

/* The one line a supervisor shows: "2 pools, 5 workers (1 active, ...)". */
static void
fpmd_summary(char *buf, size_t len)
{
	struct pool_status st;
	struct pool *p;
	int npools = 0, total = 0, active = 0, idle = 0;

	for (p = fpmd->pools; p != NULL; p = p->link) {
		if (p->removed)
			continue;
		npools++;
		status_pool(fpmd->sb, p->index, -1, &st);
		total += st.total;
		active += st.active;
		idle += st.idle;
	}
	snprintf(buf, len, "%d pool%s, %d worker%s (%d active, %d idle), "
	    "generation %d", npools, npools == 1 ? "" : "s", total,
	    total == 1 ? "" : "s", active, idle, fpmd->generation);
}

static char	fpmd_told[512];	/* the last STATUS= summary sent */

static void
fpmd_ready(void)
{
	char sum[200];

	fpmd_summary(sum, sizeof(sum));
	snprintf(fpmd_told, sizeof(fpmd_told), "Ready: %s", sum);
	notify_ready(fpmd_told);
}

static void
fpmd_reload_progress(const struct reload_result *res)
{
	char sum[200], msg[200];

	if (res == NULL) {
		notify_reloading("Reloading the configuration");
		return;
	}
	if (res->code != NULL && strcmp(res->code, "stopping") == 0)
		return;		/* STOPPING=1 follows */
	fpmd_summary(sum, sizeof(sum));
	if (res->ok)
		snprintf(fpmd_told, sizeof(fpmd_told), "Reloaded: %s", sum);
	else {
		/* one line: the reason's first */
		snprintf(msg, sizeof(msg), "%.*s", (int)strcspn(res->message
		    ? res->message : "", "\n"), res->message ? res->message :
		    "");
		snprintf(fpmd_told, sizeof(fpmd_told), "Reload failed (%s); "
		    "serving: %s", msg, sum);
	}
	notify_reloaded(fpmd_told);
}

/* Once, as soon as a stop begins: from a signal, fpmctl or a failure. */
static void
fpmd_stopping(void)
{
	static bool told;

	if (told || fpmd->state == FPMD_RUNNING)
		return;
	told = true;
	notify_stopping(fpmd->state == FPMD_FINISHING ? "Stopping: requests "
	    "in hand finish" : "Stopping");
}

static void
fpmd_reaped(void)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		pm_reaped(pid, status);
}

static void
fpmd_on_signal(struct ev *e, uint32_t events)
{
	struct signalfd_siginfo si;
	struct reload_result now;
	const char *what;

	while (read(e->fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			fpmd_reaped();
			break;
		case SIGTERM:
		case SIGINT:
			pm_stop(false, 0);
			break;
		case SIGQUIT:
			listen_shut_all();	/* before the workers hear */
			pm_stop(true, 0);
			break;
		case SIGUSR1:
			/* what failed is in the log, nobody else to tell */
			(void)errlog_reopen(fpmd->conf, &what);
			break;
		case SIGUSR2:
			log_notice("reloading on SIGUSR2");
			/* the outcome is in the log: nobody else to tell */
			if (reload_start(NULL, NULL, &now) == -1)
				log_warnx("reload (SIGUSR2) refused: %s",
				    now.message);
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

/*
 * Room for every generation of every pool that may be alive at once
 * (FPMD_GENS_MAX each), so a reload during a drain has its slots; made
 * once, so neither a reload nor a scale has to move it.
 */
static uint32_t
fpmd_nslots(const struct fpmd_conf *conf)
{
	uint64_t total = 0, n;
	size_t k;

	if (conf->process_max > 0)
		total = (uint64_t)conf->process_max;
	else
		for (k = 0; k < conf->npools; k++)
			total += (uint64_t)conf->pools[k].max_children;
	n = total * FPMD_GENS_MAX;
	if (n < FPMD_SLOTS_DEFAULT)
		n = FPMD_SLOTS_DEFAULT;
	return n > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)n;
}

/* The loop turns: systemd's watchdog hears so. */
static void
fpmd_watchdog(void *arg)
{
	struct ev_timer *t = arg;

	notify_watchdog();
	ev_timer_set(t, now_ms() + notify_watchdog_interval(), fpmd_watchdog,
	    t);
}

static void
fpmd_sample(void *arg)
{
	struct ev_timer *t = arg;

	char sum[200], line[256];

	status_sample();
	/* the supervisor's status line follows, when it says something new */
	if (notify_wanted() && fpmd->state == FPMD_RUNNING &&
	    fpmd_told[0] != '\0' && !reload_busy()) {
		fpmd_summary(sum, sizeof(sum));
		snprintf(line, sizeof(line), "Serving: %s", sum);
		if (strcmp(strchr(fpmd_told, ':'), strchr(line, ':')) != 0) {
			snprintf(fpmd_told, sizeof(fpmd_told), "%s", line);
			notify_status(fpmd_told);
		}
	}
	notify_flush();
	ev_timer_set(t, now_ms() + 1000, fpmd_sample, t);
}

/*
 * -t goes on to what PHP itself reads: each pool's PHP start-up, in a
 * child as its prototype would do it, so that a php.ini or scan dir file
 * with a syntax error fails the test (php-fpm's -t passes it).
 */
static int
fpmd_test_php(const struct fpmd_conf *conf)
{
	const struct pool_conf *pc;
	char err[1024];
	size_t k;
	int rc = 0;

	for (k = 0; k < conf->npools; k++) {
		pc = &conf->pools[k];
		if (proto_test(conf, pc, err, sizeof(err)) == -1) {
			fprintf(stderr, "%s:%d: pool %s: %s\n", pc->file,
			    pc->line, pc->name, err);
			rc = -1;
		}
	}
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "fpm-config", required_argument, NULL, 'y' },
		{ "test", no_argument, NULL, 't' },
		{ "allow-to-run-as-root", no_argument, NULL, 'R' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "nodaemonize", no_argument, NULL, 'F' },
		{ "daemonize", no_argument, NULL, 'D' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct fpmd root;
	struct ev ev_sig;
	struct ev_timer t_sample, t_watchdog;
	const char *conf_path = NULL;
	char *errors = NULL, abspath[PATH_MAX];
	sigset_t mask;
	bool test = false, allow_root = false;
	int ch, i, flags, sigfd, ready_fd = -1;
	long l;
	char *end;

	while ((ch = getopt_long(argc, argv, "c:y:tRr:FDvh", longopts, NULL))
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
		case 'r':
			errno = 0;
			l = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg ||
			    l < 3 || l > INT_MAX || fcntl((int)l, F_GETFD) ==
			    -1) {
				fprintf(stderr, "fpmd: --ready-fd %s: not an "
				    "open descriptor from 3 on; give the "
				    "number in the service's notification-fd "
				    "file\n", optarg);
				return FPMD_EXIT_USAGE;
			}
			ready_fd = (int)l;
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
	if (test)
		flags |= CONF_CHECK_LISTEN;
	fpmd = &root;
	fpmd->conf = reload_conf_load(conf_path, flags, &errors);
	if (fpmd->conf == NULL) {
		if (errors != NULL)
			fputs(errors, stderr);
		free(errors);
		fprintf(stderr, "fpmd: configuration file %s test failed\n",
		    conf_path);
		return FPMD_EXIT_CONFIG;
	}
	if (test && fpmd_test_php(fpmd->conf) == -1) {
		fprintf(stderr, "fpmd: configuration file %s test failed\n",
		    conf_path);
		conf_free(fpmd->conf);
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
	if (errlog_apply(fpmd->conf, true) == -1 ||
	    fpmd_rlimits(fpmd->conf) == -1 || fpmd_priority(fpmd->conf) == -1)
		return FPMD_EXIT_CONFIG;
	/* before anything that could take descriptor 3 */
	sockact_init();
	if (notify_init(ready_fd) == -1)
		return FPMD_EXIT_USAGE;
	reload_on_commit(fpmd_reloaded);
	reload_on_progress(fpmd_reload_progress);
	pm_on_ready(fpmd_ready);
	crash_on_restart(reload_pool);

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
	if ((sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		fatal("signalfd");
	memset(&ev_sig, 0, sizeof(ev_sig));
	memset(&t_sample, 0, sizeof(t_sample));
	memset(&t_watchdog, 0, sizeof(t_watchdog));
	if (ev_init() == -1 ||
	    ev_add(&ev_sig, sigfd, EPOLLIN, fpmd_on_signal, NULL) == -1)
		return FPMD_EXIT_SOFTWARE;
	if ((fpmd->sb = sb_create(FPMD_POOLS_MAX, fpmd_nslots(fpmd->conf)))
	    == NULL)
		return FPMD_EXIT_SOFTWARE;
	fpmd->start_time = time(NULL);

	log_notice("fpmd %s (PHP %s) starting, pid %d, config %s",
	    FPMD_VERSION, sapi_php_version(), (int)getpid(), fpmd->conf_path);
	if (control_open() == -1 || pm_start(fpmd->conf) == -1) {
		log_errorx("fpmd could not start");
		fpmd->exit_code = FPMD_EXIT_CONFIG;
		pm_stop(false, 0);
	}
	sockact_close_unused();
	ev_timer_set(&t_sample, now_ms() + 1000, fpmd_sample, &t_sample);
	if (notify_watchdog_interval() > 0)
		fpmd_watchdog(&t_watchdog);

	while (fpmd->state == FPMD_RUNNING || !pm_all_gone()) {
		if (ev_run(-1) == -1) {
			/* epoll itself broke: nothing can be watched now */
			fpmd->exit_code = FPMD_EXIT_SOFTWARE;
			break;
		}
		fpmd_stopping();
	}
	fpmd_stopping();
	ev_timer_stop(&t_sample);
	ev_timer_stop(&t_watchdog);
	control_close();
	pm_close_all();
	lw_shutdown();
	sockact_close();
	notify_close();
	if (fpmd->exit_code == 0)
		log_notice("exiting, bye-bye!");
	errlog_close();		/* the last lines to syslog, if any */
	ev_del(&ev_sig);
	ev_close();
	close(sigfd);
	return fpmd->exit_code;
}
