/*
 * The commands and error codes of the control protocol (ctlproto.h).  The
 * daemon dispatches on the command names and answers with these codes; the
 * client prints the hint of a code after fpmd's own message.
 */
#include <stdio.h>
#include <string.h>

#include "ctlproto.h"

const struct ctlproto_cmd ctlproto_cmds[] = {
	{ "ping", false },
	{ "status", false },
	{ "config", false },
	{ "reload", true },
	{ "stop", true },
	{ "scale", true },
	{ "reopen-logs", true },
};
const size_t ctlproto_ncmds = sizeof(ctlproto_cmds) / sizeof(ctlproto_cmds[0]);

const struct ctlproto_error ctlproto_errors[] = {
	{ "bad_request", "fpmd could not read fpmctl's request: are fpmctl "
	  "and fpmd the same version ('fpmctl ping')?" },
	{ "unknown_command", "this fpmd does not know the command: is it "
	  "older than fpmctl ('fpmctl ping')?" },
	{ "line_too_long", "the request was over 64 KiB" },
	{ "invalid_argument", NULL },
	{ "unknown_pool", "'fpmctl status' lists the pools" },
	{ "config_invalid", "fpmd keeps running with the configuration it "
	  "had; fix the errors above and reload again" },
	/* no longer sent (a reload follows the one under way); known still */
	{ "reload_in_progress", "wait until it is done ('fpmctl status' shows "
	  "the generation) and try again" },
	{ "reload_failed", "fpmd keeps running the previous generation; its "
	  "log has the details" },
	{ "reload_timeout", "fpmd keeps running the previous generation; the "
	  "new workers did not all start in time: its log says why (workers "
	  "that die at start, a slow PHP start-up); raise reload_timeout if "
	  "the pool is merely large" },
	{ "stopping", "fpmd is stopping: it answers ping and status, but "
	  "takes no reload or scale any more" },
	{ "permission_denied", "run fpmctl as root, as the user fpmd runs "
	  "as, as its control.owner or as a member of its control.group" },
	{ "busy", "too many control clients at once: try again in a moment" },
	{ "reopen_failed", "fpmd keeps writing to the file it had open; "
	  "check the directory of error_log and its permissions" },
	{ "internal", "fpmd could not build its reply (out of memory?); its "
	  "log may say more" },
	{ "read_only", "this is fpmd's read-only status socket: use its "
	  "control socket (control.socket) to change anything" },
};
const size_t ctlproto_nerrors =
    sizeof(ctlproto_errors) / sizeof(ctlproto_errors[0]);

const struct ctlproto_cmd *
ctlproto_cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < ctlproto_ncmds; i++)
		if (strcmp(ctlproto_cmds[i].name, name) == 0)
			return &ctlproto_cmds[i];
	return NULL;
}

const char *
ctlproto_hint(const char *code)
{
	size_t i;

	for (i = 0; code != NULL && i < ctlproto_nerrors; i++)
		if (strcmp(ctlproto_errors[i].code, code) == 0)
			return ctlproto_errors[i].hint;
	return NULL;
}

const char *
ctlproto_cmd_list(void)
{
	static char list[256];
	size_t i, n = 0;

	if (list[0] != '\0')
		return list;
	for (i = 0; i < ctlproto_ncmds && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
		    i > 0 ? ", " : "", ctlproto_cmds[i].name);
	return list;
}
