/*
 * Where the control socket is when the configuration does not say: the one
 * rule fpmd (to bind) and fpmctl (to connect) must agree on.  Only libc is
 * used, so the file can move to common/ as it is.
 */
#ifndef FPMD_SOCKPATH_H
#define FPMD_SOCKPATH_H

#include <stddef.h>

#define SOCKPATH_ROOT		"/run/fpmd/control.sock"
#define SOCKPATH_NAME		"fpmd/control.sock"	/* under a run dir */

/*
 * Writes the default control socket path for the effective user into buf:
 *   root                       /run/fpmd/control.sock
 *   else, $XDG_RUNTIME_DIR set  $XDG_RUNTIME_DIR/fpmd/control.sock
 *   else                       /tmp/fpmd-$UID/control.sock
 * An XDG_RUNTIME_DIR that is empty or relative is ignored, as the XDG spec
 * says.  Returns 0, or -1 with errno ENAMETOOLONG when the path does not
 * fit in buf (it may still be too long for sun_path: the caller checks).
 * If why is not NULL it is set to a static phrase naming the rule used.
 */
int	 sockpath_default(char *buf, size_t len, const char **why);

#endif /* FPMD_SOCKPATH_H */
