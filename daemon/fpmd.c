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
 * Start-up order: configuration, log, signals, event loop (ev.c),
 * scoreboard, control socket, pools (pm.c).  Below main, the master is
 * layered one way: control.c and reload.c drive pm.c, which sizes
 * generations (gen.c) over listeners, the scoreboard and the loop.
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
	log_set_level(conf->log_level);
	log_set_json(conf->log_json);
	return log_reopen(conf->error_log);
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
	log_set_level(conf->log_level);
	log_set_json(conf->log_json);
	if (str_differ(old->error_log, conf->error_log) &&
	    log_reopen(conf->error_log) == -1)
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
			pm_stop(true, 0);
			break;
		case SIGUSR1:
			if (log_open(fpmd->conf) == 0 && lw_reopen() == 0)
				log_notice("error log file re-opened");
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

static void
fpmd_sample(void *arg)
{
	struct ev_timer *t = arg;

	status_sample();
	ev_timer_set(t, now_ms() + 1000, fpmd_sample, t);
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
	struct ev ev_sig;
	struct ev_timer t_sample;
	const char *conf_path = NULL;
	char *errors = NULL, abspath[PATH_MAX];
	sigset_t mask;
	bool test = false, allow_root = false;
	int ch, i, flags, sigfd;

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
	fpmd->conf = reload_conf_load(conf_path, flags, &errors);
	if (fpmd->conf == NULL) {
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
	if (log_open(fpmd->conf) == -1 || fpmd_rlimits(fpmd->conf) == -1 ||
	    fpmd_priority(fpmd->conf) == -1)
		return FPMD_EXIT_CONFIG;
	reload_on_commit(fpmd_reloaded);
	pm_on_emergency(reload_pool);

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
	ev_timer_set(&t_sample, now_ms() + 1000, fpmd_sample, &t_sample);

	while (fpmd->state == FPMD_RUNNING || !pm_all_gone()) {
		if (ev_run(-1) == -1) {
			/* epoll itself broke: nothing can be watched now */
			fpmd->exit_code = FPMD_EXIT_SOFTWARE;
			break;
		}
	}
	ev_timer_stop(&t_sample);
	control_close();
	pm_close_all();
	lw_shutdown();
	ev_del(&ev_sig);
	ev_close();
	close(sigfd);
	if (fpmd->exit_code == 0)
		log_notice("exiting, bye-bye!");
	return fpmd->exit_code;
}
