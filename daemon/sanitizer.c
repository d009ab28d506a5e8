/*
 * What an ASan build of fpmd needs to test the whole daemon; in any other
 * build this file does nothing (it notes the master's pid at start-up).
 *
 * Leaks: LeakSanitizer (ASAN_OPTIONS detect_leaks=1) checks the master
 * only.  The master never starts PHP, so what it still holds at exit is
 * fpmd's to answer for; a prototype or a worker is a fork of it that ran
 * PHP's start-up, and what PHP and its extensions leave allocated at exit
 * is not ours to judge.  LeakSanitizer asks __lsan_is_turned_off() in the
 * process that exits, when its check starts: it is off in every process but
 * the one that ran main().  fpmd never daemonizes, so that one is the master
 * for its whole life.
 *
 * Extensions: PHP opens its shared extensions with RTLD_DEEPBIND, which the
 * ASan runtime refuses (it aborts the process), so an ASan fpmd could not
 * load opcache or any other shared extension.  PHP built with ASan leaves
 * the flag out; this dlopen() does the same for Debian's libphp, which is
 * not: it is found before the ASan runtime's, drops the flag, and hands the
 * call on to the runtime's.
 */
#include <sys/types.h>

#include <dlfcn.h>
#include <stddef.h>
#include <unistd.h>

int	__lsan_is_turned_off(void);

static pid_t	sanitizer_master_pid;

__attribute__((constructor)) static void
sanitizer_note_master(void)
{
	sanitizer_master_pid = getpid();
}

int
__lsan_is_turned_off(void)
{
	return getpid() != sanitizer_master_pid;
}

#ifdef __SANITIZE_ADDRESS__
void *
dlopen(const char *file, int mode)
{
	static void	*(*next)(const char *, int);

	if (next == NULL &&
	    (next = (void *(*)(const char *, int))dlsym(RTLD_NEXT,
	    "dlopen")) == NULL)
		return NULL;
	return next(file, mode & ~RTLD_DEEPBIND);
}
#endif
