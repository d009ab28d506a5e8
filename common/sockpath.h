/*
 * Where the control socket is when the configuration does not say: the one
 * rule fpmd (to bind) and fpmctl (to connect) must agree on.
 */
#ifndef FPMD_SOCKPATH_H
#define FPMD_SOCKPATH_H

#include <stddef.h>

#define SOCKPATH_ROOT		"/run/fpmd/control.sock"
#define SOCKPATH_NAME		"fpmd-control.sock"	/* next to a config */

/*
 * Writes the default control socket path into buf:
 *   fpmd running as root         /run/fpmd/control.sock
 *   otherwise                    fpmd-control.sock in the directory of the
 *                                configuration file conf (absolute)
 * For a user who is not root, conf may be NULL (fpmctl without -c): then
 * root's path is the only guess.  Returns 0, or -1 with errno ENAMETOOLONG
 * when the path does not fit in buf (it may still be too long for sun_path:
 * the caller checks).  If why is not NULL it is set to a static phrase
 * naming the rule used.
 */
int	 sockpath_default(char *buf, size_t len, const char *conf,
	    const char **why);

#endif /* FPMD_SOCKPATH_H */
