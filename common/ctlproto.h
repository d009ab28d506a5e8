/*
 * The control protocol, as both ends know it: newline-delimited JSON over a
 * unix stream socket, one request object per line, one reply per line.
 * The limits, the commands and the error codes live here once, so fpmd
 * and fpmctl cannot disagree on them.  docs/control-protocol.md describes
 * each command and code with examples.
 */
#ifndef FPMD_CTLPROTO_H
#define FPMD_CTLPROTO_H

#include <stdbool.h>
#include <stddef.h>

#define CTLPROTO_VERSION	1
#define CTLPROTO_LINE_MAX	(64 * 1024)	/* a request line, '\n' aside */
#define CTLPROTO_REPLY_MAX	(4 * 1024 * 1024) /* replies queued behind an
						     unread one, per peer */

struct ctlproto_cmd {
	const char	*name;
	bool		 changes;	/* changes something: logged at notice */
};

struct ctlproto_error {
	const char	*code;
	const char	*hint;		/* what the user can do; may be NULL */
};

extern const struct ctlproto_cmd	ctlproto_cmds[];
extern const size_t			ctlproto_ncmds;
extern const struct ctlproto_error	ctlproto_errors[];
extern const size_t			ctlproto_nerrors;

const struct ctlproto_cmd *ctlproto_cmd_find(const char *name);
/* The hint for an error code, NULL if it has none or is unknown. */
const char	*ctlproto_hint(const char *code);
/* "ping, status, ..." for messages. */
const char	*ctlproto_cmd_list(void);

#endif /* FPMD_CTLPROTO_H */
