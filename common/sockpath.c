/*
 * The default control socket path (see sockpath.h).  Root's daemon has a
 * fixed place under /run; anyone else's goes next to its configuration,
 * where its owner can write and where fpmctl -c CONFIG finds it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sockpath.h"

int
sockpath_default(char *buf, size_t len, const char *conf, const char **why)
{
	const char	*slash;
	int		 n;

	if (geteuid() == 0 || conf == NULL ||
	    (slash = strrchr(conf, '/')) == NULL) {
		n = snprintf(buf, len, "%s", SOCKPATH_ROOT);
		if (why != NULL)
			*why = geteuid() == 0 ? "the default for root" :
			    "root's default (give -c CONFIG for an fpmd "
			    "running as you)";
	} else {
		n = snprintf(buf, len, "%.*s/%s", (int)(slash - conf), conf,
		    SOCKPATH_NAME);
		if (why != NULL)
			*why = "the default, next to the configuration";
	}
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}
