/*
 * The default control socket path (see sockpath.h).  The directory part
 * is per user so that two users' fpmd never fight over one socket, and a
 * runtime directory is preferred to /tmp because nobody else can create
 * files in it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sockpath.h"

int
sockpath_default(char *buf, size_t len, const char **why)
{
	const char	*xdg;
	uid_t		 uid = geteuid();
	int		 n;

	xdg = getenv("XDG_RUNTIME_DIR");
	if (uid == 0) {
		n = snprintf(buf, len, "%s", SOCKPATH_ROOT);
		if (why != NULL)
			*why = "the default for root";
	} else if (xdg != NULL && xdg[0] == '/') {
		n = snprintf(buf, len, "%s%s%s", xdg,
		    xdg[strlen(xdg) - 1] == '/' ? "" : "/",
		    SOCKPATH_NAME);
		if (why != NULL)
			*why = "the default in $XDG_RUNTIME_DIR";
	} else {
		n = snprintf(buf, len, "/tmp/fpmd-%lu/control.sock",
		    (unsigned long)uid);
		if (why != NULL)
			*why = "the default without "
			    "$XDG_RUNTIME_DIR";
	}
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}
