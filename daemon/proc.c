/*
 * Process titles and the set-up every child does first.  Titles say what a
 * process is ("fpmd: master (/etc/fpmd.conf)", "fpmd: pool www prototype
 * gen 1", "fpmd: pool www") so that ps and the monitoring agents that match
 * php-fpm's titles can tell them apart.  The title is written over the argv
 * area, after the environment has been moved out of the way.  And the CPU
 * time a process has used, which a worker counts for the access log.
 */
#include <sys/prctl.h>
#include <sys/resource.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fpmd.h"

extern char **environ;

static char	*title_base;
static size_t	 title_cap;

void
proc_title_init(int argc, char **argv)
{
	char *end, **newenv;
	size_t n;
	int i;

	if (argc == 0 || argv[0] == NULL)
		return;
	end = argv[0] + strlen(argv[0]) + 1;
	for (i = 1; i < argc; i++)
		if (argv[i] == end)
			end = argv[i] + strlen(argv[i]) + 1;
	for (n = 0; environ[n] != NULL; n++)
		if (environ[n] == end)
			end = environ[n] + strlen(environ[n]) + 1;
	/* The environment moves to the heap; argv strings stay usable
	 * until the first title is written, and callers copy what they
	 * keep before that. */
	if ((newenv = calloc(n + 1, sizeof(*newenv))) == NULL)
		return;
	for (i = 0; (size_t)i < n; i++)
		if ((newenv[i] = strdup(environ[i])) == NULL)
			return;
	environ = newenv;
	title_base = argv[0];
	title_cap = (size_t)(end - argv[0]);
}

void
proc_title_set(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	prctl(PR_SET_NAME, buf, 0, 0, 0);
	if (title_base == NULL || title_cap < 2)
		return;
	memset(title_base, 0, title_cap);
	strncpy(title_base, buf, title_cap - 1);
}

/*
 * Every child dies with its parent, so nothing outlives the master and no
 * orphan keeps a listening socket.  The parent may already be gone by the
 * time prctl() runs: check.  The signals the parent blocked are let in,
 * but those in keep: a worker keeps SIGQUIT out until its handler is in
 * place, or a drain right after its fork would kill it with a core dump.
 */
int
proc_child_setup(int deathsig, pid_t parent, const sigset_t *keep)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, keep != NULL ? keep : &none, NULL);
	if (prctl(PR_SET_PDEATHSIG, deathsig, 0, 0, 0) == -1) {
		log_error("prctl(PR_SET_PDEATHSIG)");
		return -1;
	}
	if (getppid() != parent)
		_exit(0);
	return 0;
}

/*
 * rlimit_files / rlimit_core: value -1 leaves the limit alone, -2 is
 * unlimited.  A pool's processes get it as both soft and hard limit, as
 * php-fpm sets it; the master (keep_hard) only moves its soft limit, and
 * the hard one only up, so that a later reload can still raise it.
 */
int
proc_rlimit(int resource, int value, bool keep_hard, const char *name,
    char *err, size_t errlen)
{
	struct rlimit rl, cur;

	if (value == -1)
		return 0;
	rl.rlim_cur = rl.rlim_max = value == -2 ? RLIM_INFINITY :
	    (rlim_t)value;
	if (keep_hard && getrlimit(resource, &cur) == 0 &&
	    (cur.rlim_max == RLIM_INFINITY || (rl.rlim_cur != RLIM_INFINITY &&
	    cur.rlim_max >= rl.rlim_cur)))
		rl.rlim_max = cur.rlim_max;
	if (setrlimit(resource, &rl) == -1) {
		snprintf(err, errlen, "setrlimit(%s, %d): %s", name, value,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The CPU time used so far, user and system, the worker's own and that of
 * its children it has reaped (a script's commands), as php-fpm counts it
 * for the access log's %C.
 */
void
proc_cpu(uint64_t *user_us, uint64_t *sys_us)
{
	struct rusage self, kids;

	if (getrusage(RUSAGE_SELF, &self) == -1 ||
	    getrusage(RUSAGE_CHILDREN, &kids) == -1) {
		*user_us = *sys_us = 0;
		return;
	}
	*user_us = (uint64_t)(self.ru_utime.tv_sec + kids.ru_utime.tv_sec) *
	    1000000 + (uint64_t)(self.ru_utime.tv_usec + kids.ru_utime.tv_usec);
	*sys_us = (uint64_t)(self.ru_stime.tv_sec + kids.ru_stime.tv_sec) *
	    1000000 + (uint64_t)(self.ru_stime.tv_usec + kids.ru_stime.tv_usec);
}
