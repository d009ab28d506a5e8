/*
 * apparmor_hat: a pool's workers enter a hat (a subprofile) of the AppArmor
 * profile fpmd runs under, as php-fpm's do: each worker right after it is
 * forked, before it serves, so PHP's start-up in the prototype keeps the
 * rights of fpmd's own profile and a request never runs outside the hat.
 *
 * No libapparmor: the kernel's interface is one file per thread,
 * attr/current under /proc (attr/apparmor/current when several security
 * modules are stacked).  Reading it gives the label, "NAME (MODE)";
 * writing "changeprofile NAME//HAT" moves the thread into the hat, which
 * the profile must allow (a hat block, or a change_profile rule to it).
 *
 * The master checks at load and reload that AppArmor is on and that fpmd
 * is confined, and works out the name the workers change to, so a pool
 * that cannot enter its hat is refused with the reason instead of having
 * every worker die at start.  A worker that still fails says why and
 * exits.  FPMD_APPARMOR_ROOT, when set, is put before every path read or
 * written here: it exists for the tests, on machines without AppArmor.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fpmd.h"

#define AA_ENABLED	"/sys/module/apparmor/parameters/enabled"
#define AA_ATTR_STACKED	"/proc/thread-self/attr/apparmor/current"
#define AA_ATTR		"/proc/thread-self/attr/current"

/*
 * Read once, by the master's first check: the workers inherit it, though
 * their environment is cleared before PHP starts.
 */
static char	 aa_root[PATH_MAX];
static bool	 aa_root_read;

static const char *
apparmor_path(char *buf, size_t len, const char *path)
{
	const char *root;

	if (!aa_root_read) {
		if ((root = getenv("FPMD_APPARMOR_ROOT")) != NULL)
			snprintf(aa_root, sizeof(aa_root), "%s", root);
		aa_root_read = true;
	}
	if (aa_root[0] == '\0')
		return path;
	snprintf(buf, len, "%s%s", aa_root, path);
	return buf;
}

/* The first line of a small file, without its newline; -1 and errno. */
static int
apparmor_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	do
		n = read(fd, buf, len - 1);
	while (n == -1 && errno == EINTR);
	saved = errno;
	close(fd);
	if (n == -1) {
		errno = saved;
		return -1;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/*
 * The label in what attr/current reads: "NAME (MODE)", or "unconfined".
 * Cuts the mode off in place; -1 when nothing is left.
 */
int
apparmor_label(char *text)
{
	size_t n = strlen(text);
	char *sp;

	if (n > 0 && text[n - 1] == ')' && (sp = strrchr(text, ' ')) != NULL &&
	    sp[1] == '(')
		*sp = '\0';
	return *text == '\0' ? -1 : 0;
}

/* The file this thread's label is in: the stacked one when there is one. */
static const char *
apparmor_attr(char *buf, size_t len)
{
	const char *p = apparmor_path(buf, len, AA_ATTR_STACKED);

	if (access(p, F_OK) == 0)
		return p;
	return apparmor_path(buf, len, AA_ATTR);
}

/*
 * At load, in the master: can a worker of this pool enter hat?  Fills
 * change with "PROFILE//HAT" for apparmor_enter().
 */
int
apparmor_check(const char *hat, char *change, size_t changelen, char *err,
    size_t errlen)
{
	char path[PATH_MAX], buf[512];
	const char *p;

	p = apparmor_path(path, sizeof(path), AA_ENABLED);
	if (apparmor_read(p, buf, sizeof(buf)) == -1) {
		snprintf(err, errlen, "apparmor_hat = %s: AppArmor is not "
		    "enabled on this machine (%s: %s); enable it, or remove "
		    "apparmor_hat", hat, p, strerror(errno));
		return -1;
	}
	if (buf[0] != 'Y') {
		snprintf(err, errlen, "apparmor_hat = %s: AppArmor is not "
		    "enabled on this machine (%s says '%s'); enable it, or "
		    "remove apparmor_hat", hat, p, buf);
		return -1;
	}
	p = apparmor_attr(path, sizeof(path));
	if (apparmor_read(p, buf, sizeof(buf)) == -1) {
		snprintf(err, errlen, "apparmor_hat = %s: cannot read fpmd's "
		    "AppArmor label from %s: %s", hat, p, strerror(errno));
		return -1;
	}
	if (apparmor_label(buf) == -1 || strcmp(buf, "unconfined") == 0) {
		snprintf(err, errlen, "apparmor_hat = %s: fpmd runs "
		    "unconfined, so it has no profile whose hat the workers "
		    "could enter; start fpmd under a profile with a hat '%s' "
		    "(and 'change_profile -> PROFILE//*')", hat, hat);
		return -1;
	}
	if ((size_t)snprintf(change, changelen, "%s//%s", buf, hat) >=
	    changelen) {
		snprintf(err, errlen, "apparmor_hat = %s: the profile's name "
		    "is too long", hat);
		return -1;
	}
	return 0;
}

/*
 * In a worker, before it serves: change to the profile apparmor_check()
 * named.  The process has one thread here, so the thread's label is the
 * process's.
 */
int
apparmor_enter(const char *change)
{
	char path[PATH_MAX], cmd[600];
	const char *p = apparmor_attr(path, sizeof(path));
	ssize_t n;
	int fd, len;

	len = snprintf(cmd, sizeof(cmd), "changeprofile %s", change);
	if (len < 0 || (size_t)len >= sizeof(cmd)) {
		log_errorx("apparmor_hat: '%s' is too long", change);
		return -1;
	}
	if ((fd = open(p, O_WRONLY | O_CLOEXEC)) == -1) {
		log_error("apparmor_hat: cannot change to %s: %s", change, p);
		return -1;
	}
	/* one write: the kernel takes the command whole or not at all */
	do
		n = write(fd, cmd, (size_t)len);
	while (n == -1 && errno == EINTR);
	if (n != len) {
		if (n >= 0)
			errno = EIO;
		log_error("apparmor_hat: cannot change to %s (does the "
		    "profile allow 'change_profile -> %s'?)", change, change);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}
