/*
 * fpmctl: the control client of fpmd.  It finds the control socket, sends
 * one JSON request line, reads one reply line and prints it for people (or
 * as it came, with --json).  Its exit status is the contract scripts use:
 * 0 done, 1 fpmd said no, 2 usage, 3 fpmd cannot be reached.  The protocol
 * is docs/control-protocol.md; the command line docs/fpmctl.md.
 *
 * Everything a command needs is in its table entry and its run function;
 * ctl_call() does the talking and all the error reporting, so a command
 * only builds its request and prints a successful reply.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ctlproto.h"
#include "fpmctl.h"
#include "import.h"
#include "sockpath.h"

#define CTL_PROBE_MS	50	/* how often stop looks whether fpmd is gone */
#define CTL_SHOW_MAX	200	/* bytes of a bad reply quoted on stderr */

struct ctl {
	const char	*cmd;		/* the command being run */
	const char	*sock;		/* -s, else resolved by ctl_socket() */
	const char	*why;		/* where sock came from */
	const char	*fallback;	/* also tried if sock does not exist */
	const char	*config;	/* -c */
	char		 defpath[PATH_MAX];
	bool		 json;
	int64_t		 timeout_ms;	/* --timeout; -1: the command's own */
	pid_t		 peer;		/* fpmd's pid, from the connection */
};

struct cmd {
	const char	*name;
	int		(*run)(struct ctl *, int, char **);
	const char	*args;		/* synopsis after the name */
	const char	*summary;	/* one line for the command list */
	const char	*help;		/* the rest of "fpmctl help NAME" */
};

static int	 cmd_ping(struct ctl *, int, char **);
static int	 cmd_status(struct ctl *, int, char **);
static int	 cmd_reload(struct ctl *, int, char **);
static int	 cmd_stop(struct ctl *, int, char **);
static int	 cmd_scale(struct ctl *, int, char **);
static int	 cmd_reopen_logs(struct ctl *, int, char **);
static int	 cmd_config(struct ctl *, int, char **);
static int	 cmd_top(struct ctl *, int, char **);
static int	 cmd_help(struct ctl *, int, char **);
static int	 cmd_import(struct ctl *, int, char **);

static const struct cmd cmds[] = {
	{ "ping", cmd_ping, "",
	  "is fpmd there? its version, pid and uptime",
	  "Asks fpmd for its version, the PHP version it runs, its pid and\n"
	  "its uptime.  Exit status 0 means fpmd is up and answering: scripts\n"
	  "and health checks can poll it.\n" },
	{ "status", cmd_status, "[--full]",
	  "the pools and their counters; --full adds workers",
	  "Prints each pool's counters, as php-fpm's status page does.\n"
	  "  --full   add a table of the pool's worker processes: pid,\n"
	  "           generation, state, requests served, and the current (or\n"
	  "           last) request's duration, CPU, memory, method and URI.\n" },
	{ "reload", cmd_reload, "[--no-wait]",
	  "re-read the config and start a new generation",
	  "Makes fpmd re-read its configuration and replace every pool's\n"
	  "workers with a new generation, without dropping a request.  A\n"
	  "configuration with errors is refused, each error printed as\n"
	  "FILE:LINE: reason, and fpmd keeps running the old one (exit 1).\n"
	  "fpmctl waits until the new generation is up (at most --timeout,\n"
	  "120 s by default).\n"
	  "  --no-wait   return once fpmd has accepted the reload.\n" },
	{ "stop", cmd_stop, "[--now] [--timeout SECS] [--no-wait]",
	  "stop fpmd and wait until it is gone",
	  "Stops fpmd.  Gracefully by default: workers finish the request in\n"
	  "hand, then exit, and fpmd exits after the last one.\n"
	  "  --now            stop at once; requests in hand are cut.\n"
	  "  --timeout SECS   how long workers may take before they are\n"
	  "                   killed; 0 or none: process_control_timeout.\n"
	  "  --no-wait        return once fpmd has accepted the stop.\n"
	  "Otherwise fpmctl waits until fpmd has exited, at most SECS + 5 s\n"
	  "(without --timeout: fpmctl's own --timeout, 30 s by default), and\n"
	  "exits 1 if fpmd is still there then.\n" },
	{ "scale", cmd_scale, "POOL N",
	  "set a pool's pm.max_children at run time",
	  "Sets pool POOL's pm.max_children to N (1 or more) without a\n"
	  "reload; fpmd starts or stops workers to match.  The setting lasts\n"
	  "until the next reload, which takes the configuration's value\n"
	  "again.\n" },
	{ "reopen-logs", cmd_reopen_logs, "",
	  "reopen fpmd's log files (after rotating them)",
	  "Makes fpmd close and reopen its log files, as SIGUSR1 does: run it\n"
	  "after logrotate has moved them.\n" },
	{ "config", cmd_config, "",
	  "print the configuration fpmd runs with",
	  "Prints the configuration fpmd is running with (not the file on\n"
	  "disk, which may have changed since), one setting per line,\n"
	  "nested names joined with dots: pools.www.pm.max_children = 4.\n"
	  "--json prints it as fpmd sent it.\n" },
	{ "top", cmd_top, "[-d SECS] [-n N] [--sort KEY]",
	  "a live view of the pools and the busiest workers",
	  "Shows fpmd's pools and its busiest workers, refreshed every second,\n"
	  "from the same figures as 'status --full': per pool the connections\n"
	  "accepted per second, active, idle and total workers, the listen\n"
	  "queue and its length, and how often max children was reached; then\n"
	  "the workers, as many as the terminal has rows for: pid, pool,\n"
	  "generation, state, request duration, last CPU and memory, method\n"
	  "and URI.  Keys: d c m p sort by duration, CPU, memory or pid;\n"
	  "space refreshes now; q quits.  When stdout is not a terminal it\n"
	  "prints plain frames, a blank line between them.\n"
	  "  -d, --delay SECS   between two refreshes (default 1, at least 0.1).\n"
	  "  -n, --iterations N stop after N refreshes.\n"
	  "  --sort KEY         duration (default), cpu, memory or pid.\n" },
	{ "import-php-fpm", cmd_import, "[-o OUT] [-p DIR] [--php-ini INI] "
	  "FILE",
	  "convert a php-fpm.conf (and its includes) to fpmd.conf",
	  "Reads php-fpm's configuration FILE and the files it includes and\n"
	  "writes the same pools as an fpmd.conf, on stdout or to OUT.  Every\n"
	  "directive fpmd has no use for becomes a comment saying why, and a\n"
	  "warning on stderr.  fpmd itself is not asked: run fpmd -t -c OUT.\n"
	  "  -o, --output OUT   write OUT (replaced whole, or left as it\n"
	  "                     was).\n"
	  "  -p, --prefix DIR   php-fpm's -p: relative paths are taken from\n"
	  "                     it (else they stay relative, to OUT's\n"
	  "                     directory).\n"
	  "  --php-ini INI      the php.ini to name (default: php.ini beside\n"
	  "                     FILE, if there is one, as on Debian).\n"
	  "Exit status: 0 written; 1 php-fpm would refuse FILE too (each\n"
	  "problem as FILE:LINE: reason), or OUT cannot be written; 2 a bad\n"
	  "command line or a file that cannot be read.\n" },
	{ "help", cmd_help, "[COMMAND]",
	  "this list, or a command's help",
	  "Prints fpmctl's usage, or the help of COMMAND (as COMMAND --help).\n" },
};

#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

static const char *progname = "fpmctl";

/* "hint: TEXT" on stderr, folded to fit FPMCTL_WIDTH. */
static void __attribute__((format(printf, 1, 2)))
hint(const char *fmt, ...)
{
	va_list		 ap;
	char		 buf[1024], *p, *sp;
	const char	*lead = "hint: ";
	int		 room;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	p = buf;
	room = FPMCTL_WIDTH - 1 - (int)strlen(lead);
	while ((int)strlen(p) > room) {
		for (sp = p + room; sp > p && *sp != ' '; sp--)
			;
		if (sp == p)
			break;
		fprintf(stderr, "%s%.*s\n", lead, (int)(sp - p), p);
		p = sp + 1;
		lead = "      ";
	}
	fprintf(stderr, "%s%s\n", lead, p);
}

static void
usage_brief(FILE *f)
{
	fprintf(f, "usage: %s [-s SOCKET] [-c CONFIG] [--json] "
	    "[--timeout SECS] COMMAND [ARGS]\n"
	    "       %s help [COMMAND] | COMMAND --help | --version\n",
	    progname, progname);
}

static void
usage_full(FILE *f)
{
	size_t	 i;
	char	 syn[64];

	usage_brief(f);
	fprintf(f, "\nCommands:\n");
	for (i = 0; i < NCMDS; i++) {
		snprintf(syn, sizeof(syn), "%s%s%s", cmds[i].name,
		    *cmds[i].args != '\0' ? " " : "", cmds[i].args);
		if (strlen(syn) > 24)
			fprintf(f, "  %s\n  %-24s  %s\n", syn, "",
			    cmds[i].summary);
		else
			fprintf(f, "  %-24s  %s\n", syn, cmds[i].summary);
	}
	fprintf(f, "\n"
	    "Options:\n"
	    "  -s, --socket SOCKET  fpmd's control socket; the default is\n"
	    "                       $FPMCTL_SOCKET, else control.socket of "
	    "CONFIG, else\n"
	    "                       fpmd-control.sock next to CONFIG, else\n"
	    "                       /run/fpmd/control.sock\n"
	    "  -c, --config CONFIG  read the socket from fpmd's configuration "
	    "file\n"
	    "  -j, --json           print fpmd's reply as it came: one JSON "
	    "line\n"
	    "      --timeout SECS   give up on fpmd after SECS (default 30, "
	    "reload 120;\n"
	    "                       0: wait for ever)\n"
	    "  -h, --help           this text\n"
	    "  -V, --version        fpmctl's version\n"
	    "\n"
	    "Exit status:\n"
	    "  0  done\n"
	    "  1  fpmd refused (the reason is on stderr), its reply made "
	    "no sense, or\n"
	    "     (stop) it was still running when the wait ended\n"
	    "  2  usage error: a bad command line, or a CONFIG that cannot be "
	    "read\n"
	    "  3  fpmd cannot be reached: no socket, nobody listening, no "
	    "reply in time\n"
	    "\n"
	    "docs/fpmctl.md and docs/control-protocol.md have the details.\n");
}

static void
usage_cmd(const struct cmd *c, FILE *f)
{
	fprintf(f, "usage: %s [OPTIONS] %s%s%s\n\n%s", progname, c->name,
	    *c->args != '\0' ? " " : "", c->args, c->help);
	if (c->run != cmd_help && c->run != cmd_top && c->run != cmd_import)
		fprintf(f, "  --json, -j  print fpmd's reply as it came.\n");
}

static void __attribute__((noreturn, format(printf, 2, 3)))
usage_error(const struct cmd *c, const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "%s: ", progname);
	if (c != NULL)
		fprintf(stderr, "%s: ", c->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (c != NULL)
		fprintf(stderr, "usage: %s [OPTIONS] %s%s%s\n", progname,
		    c->name, *c->args != '\0' ? " " : "", c->args);
	else
		usage_brief(stderr);
	fprintf(stderr, "Run '%s help%s%s' for more.\n", progname,
	    c != NULL ? " " : "", c != NULL ? c->name : "");
	exit(FPMCTL_EXIT_USAGE);
}

static const struct cmd *
cmd_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < NCMDS; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

/*
 * A duration: seconds, or a number with s, m, h or d (as in fpmd.conf).
 * Fractions are allowed; returns -1 for anything else.
 */
static double
parse_secs(const char *s)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0 || !isfinite(v) || v < 0 ||
	    strchr(s, 'x') != NULL || strchr(s, 'X') != NULL)
		return -1;
	if (strcmp(end, "m") == 0)
		v *= 60;
	else if (strcmp(end, "h") == 0)
		v *= 3600;
	else if (strcmp(end, "d") == 0)
		v *= 86400;
	else if (*end != '\0' && strcmp(end, "s") != 0)
		return -1;
	if (v > 1e9)
		return -1;
	return v;
}

/*
 * getopt_long over a command's own arguments, with --json and --help
 * handled here; returns the command's option characters, -1 at the end.
 */
#define CMD_OPTS_COMMON \
	{ "json", no_argument, NULL, 'j' }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ NULL, 0, NULL, 0 }

static int
cmd_getopt(struct ctl *x, const struct cmd *c, int argc, char **argv,
    const char *shortopts, const struct option *longopts)
{
	char	 opts[32];
	int	 ch;

	snprintf(opts, sizeof(opts), ":jh%s", shortopts);
	for (;;) {
		ch = getopt_long(argc, argv, opts, longopts, NULL);
		switch (ch) {
		case 'j':
			x->json = true;
			continue;
		case 'h':
			usage_cmd(c, stdout);
			exit(FPMCTL_EXIT_OK);
		case ':':
			usage_error(c, "%s needs a value", argv[optind - 1]);
		case '?':
			if (optopt != 0)
				usage_error(c, "unknown option -%c", optopt);
			usage_error(c, "unknown option %s", argv[optind - 1]);
		default:
			return ch;
		}
	}
}

static void
cmd_no_args(const struct cmd *c, int argc, char **argv)
{
	if (optind < argc)
		usage_error(c, "unexpected argument '%s'", argv[optind]);
}

/*
 * Finds the socket: -s, $FPMCTL_SOCKET, -c CONFIG's control.socket, else
 * the default rule.  With the default rule a user who is not root also
 * tries root's path when theirs does not exist: members of control.group
 * talk to a root fpmd that way.
 */
static void
ctl_socket(struct ctl *x)
{
	const char		*env, *rule, *confpath = NULL;
	static char		 confabs[PATH_MAX];
	char			*errors, *sock, *file;
	static char		 why[PATH_MAX + 64];

	if (x->sock != NULL) {
		x->why = "given with -s";
		goto check;
	}
	if ((env = getenv("FPMCTL_SOCKET")) != NULL && *env != '\0') {
		x->sock = env;
		x->why = "from $FPMCTL_SOCKET";
		goto check;
	}
	if (x->config != NULL) {
		if (confsock_read(x->config, &sock, &file, &errors) == -1) {
			fprintf(stderr, "%s: cannot find the control socket "
			    "in %s:\n%s", progname, x->config,
			    errors != NULL ? errors : "out of memory\n");
			if (errors != NULL && strncmp(errors, x->config,
			    strlen(x->config)) == 0 && strncmp(errors +
			    strlen(x->config), ": cannot read: ", 15) == 0)
				hint("give the file fpmd runs with, readable by "
				    "you, or name the socket with -s SOCKET");
			else
				hint("fix it (fpmd -t -c CONFIG says all that "
				    "is wrong), or name the socket with -s "
				    "SOCKET");
			free(errors);
			exit(FPMCTL_EXIT_USAGE);
		}
		snprintf(confabs, sizeof(confabs), "%s", file);
		free(file);
		if (sock != NULL) {
			snprintf(x->defpath, sizeof(x->defpath), "%s", sock);
			free(sock);
			x->sock = x->defpath;
			snprintf(why, sizeof(why), "control.socket in %s",
			    x->config);
			x->why = why;
			goto check;
		}
		confpath = confabs;
	}
	if (sockpath_default(x->defpath, sizeof(x->defpath), confpath, &rule)
	    == -1) {
		fprintf(stderr, "%s: the default control socket path is too "
		    "long: name it with -s SOCKET\n", progname);
		exit(FPMCTL_EXIT_USAGE);
	}
	x->sock = x->defpath;
	x->why = rule;
	if (strcmp(x->defpath, SOCKPATH_ROOT) != 0)
		x->fallback = SOCKPATH_ROOT;
check:
	if (strlen(x->sock) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		fprintf(stderr, "%s: control socket path %s (%s) is longer "
		    "than %zu bytes, which unix sockets cannot be\n", progname,
		    x->sock, x->why,
		    sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		exit(FPMCTL_EXIT_USAGE);
	}
}

static void
ctl_unreachable(struct ctl *x, int err, int ferr)
{
	fprintf(stderr, "%s: cannot reach fpmd at %s (%s): %s\n", progname,
	    x->sock, x->why, err == ETIMEDOUT ? "it accepts no connection" :
	    strerror(err));
	if (ferr != 0) {
		fprintf(stderr, "%s: nor at %s (root's default): %s\n",
		    progname, x->fallback, ferr == ETIMEDOUT ?
		    "it accepts no connection" : strerror(ferr));
		if (ferr != ENOENT)
			err = ferr;
	}
	switch (err) {
	case ENOENT:
	case ENOTDIR:
		hint("no socket there: is fpmd running? Is this its "
		    "control.socket? Name the right one with -s SOCKET, "
		    "$FPMCTL_SOCKET or -c CONFIG");
		break;
	case ECONNREFUSED:
		hint("nothing listens there: fpmd is not running (the socket "
		    "is left from an earlier run), or this is not its socket");
		break;
	case EACCES:
	case EPERM:
		hint("you may not open it: run fpmctl as root, as the user "
		    "fpmd runs as, as its control.owner or as a member of its "
		    "control.group");
		break;
	case ETIMEDOUT:
		hint("its backlog is full: is fpmd hung? --timeout SECS waits "
		    "longer");
		break;
	default:
		hint("is fpmd running? Is -s right?");
		break;
	}
}

static void
ctl_refused(struct ctl *x, json_t *reply)
{
	json_t		*err, *errors, *line;
	const char	*code, *msg, *h = NULL;
	char		*m;
	size_t		 i;

	err = json_object_get(reply, "error");
	code = show_str(err, "code");
	msg = show_str(err, "message");
	if ((m = strdup(msg != NULL ? msg : "fpmd refused without saying "
	    "why")) == NULL)
		return;
	show_sanitize(m);
	fprintf(stderr, "%s: %s: %s (%s)\n", progname, x->cmd, m,
	    code != NULL ? code : "no error code");
	free(m);
	errors = json_object_get(reply, "errors");
	if (errors == NULL)
		errors = json_object_get(err, "errors");
	json_array_foreach(errors, i, line) {
		if (!json_is_string(line) ||
		    (m = strdup(json_string_value(line))) == NULL)
			continue;
		show_sanitize(m);
		fprintf(stderr, "%s\n", m);
		free(m);
	}
	/* what to tell the user, by code: common/ctlproto.c */
	h = ctlproto_hint(code);
	if (code != NULL && strcmp(code, "invalid_argument") == 0)
		hint("'%s help %s' shows the arguments", progname, x->cmd);
	else if (h != NULL)
		hint("%s", h);
}

static void
ctl_bad_reply(struct ctl *x, const char *line, size_t len, const char *why)
{
	char	*m;

	if ((m = strndup(line, len > CTL_SHOW_MAX ? CTL_SHOW_MAX : len)) ==
	    NULL)
		return;
	show_sanitize(m);
	fprintf(stderr, "%s: %s: fpmd's reply %s: %s%s\n", progname, x->cmd,
	    why, m, len > CTL_SHOW_MAX ? "..." : "");
	hint("is %s fpmd's control socket? Are fpmctl and fpmd the same "
	    "version?", x->sock);
	free(m);
}

static int
ctl_connect_any(struct ctl *x, struct ctl_conn *c, int64_t deadline)
{
	int	 err, ferr = 0;

	if (ctl_connect(c, x->sock, deadline) == 0)
		return 0;
	err = errno;
	if (err == ENOENT && x->fallback != NULL) {
		if (ctl_connect(c, x->fallback, deadline) == 0) {
			x->sock = x->fallback;
			x->why = "root's default; there is none at yours";
			return 0;
		}
		ferr = errno;
	}
	ctl_unreachable(x, err, ferr);
	return -1;
}

/*
 * Sends req, reads the reply.  Returns 0 with *replyp set when fpmd said
 * ok (the reply is printed already with --json), or the exit status after
 * telling the user what went wrong.
 */
static int
ctl_call(struct ctl *x, json_t *req, int64_t timeout_ms, json_t **replyp)
{
	struct ctl_conn	 c;
	json_error_t	 jerr;
	json_t		*reply = NULL, *ok;
	char		*out = NULL, *line = NULL;
	size_t		 len;
	int64_t		 deadline;
	int		 rc, serr;

	*replyp = NULL;
	if (x->sock == NULL || x->why == NULL)
		ctl_socket(x);
	if (x->timeout_ms >= 0)
		timeout_ms = x->timeout_ms;
	deadline = ctl_deadline(timeout_ms);
	if (ctl_connect_any(x, &c, deadline) == -1) {
		json_decref(req);
		return FPMCTL_EXIT_UNREACHABLE;
	}
	x->peer = ctl_peer_pid(&c);
	out = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	rc = FPMCTL_EXIT_UNREACHABLE;
	if (out == NULL) {
		fprintf(stderr, "%s: %s: out of memory\n", progname, x->cmd);
		goto done;
	}
	/*
	 * fpmd answers permission_denied and busy as it accepts, then
	 * closes: the send may fail while that reply waits to be read.
	 */
	serr = 0;
	if (ctl_send(&c, out, strlen(out), deadline) == -1 ||
	    ctl_send(&c, "\n", 1, deadline) == -1)
		serr = errno;
	if (serr != 0 && serr != EPIPE && serr != ECONNRESET)
		errno = serr;
	else if ((line = ctl_recv_line(&c, &len, deadline)) != NULL)
		serr = 0;
	if (serr != 0) {
		fprintf(stderr, "%s: %s: cannot send to fpmd at %s: %s\n",
		    progname, x->cmd, x->sock, serr == ETIMEDOUT ?
		    "timed out" : strerror(serr));
		goto done;
	}
	if (line == NULL) {
		if (errno == ETIMEDOUT) {
			fprintf(stderr, "%s: %s: fpmd did not reply within "
			    "%.3g s\n", progname, x->cmd, timeout_ms / 1e3);
			if (strcmp(x->cmd, "reload") == 0)
				hint("the reload may still be going on: "
				    "'fpmctl status' shows the generation");
			hint("--timeout SECS waits longer");
		} else if (errno == 0) {
			fprintf(stderr, "%s: %s: fpmd closed the connection "
			    "without a reply\n", progname, x->cmd);
			hint("fpmd's log may say why");
		} else
			fprintf(stderr, "%s: %s: reading fpmd's reply: %s\n",
			    progname, x->cmd, strerror(errno));
		goto done;
	}
	rc = FPMCTL_EXIT_REFUSED;
	if ((reply = json_loadb(line, len, 0, &jerr)) == NULL) {
		ctl_bad_reply(x, line, len, "is not JSON");
		goto done;
	}
	ok = json_object_get(reply, "ok");
	if (!json_is_object(reply) || !json_is_boolean(ok)) {
		ctl_bad_reply(x, line, len, "has no \"ok\"");
		goto done;
	}
	if (x->json) {
		fwrite(line, 1, len, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	}
	if (json_is_false(ok)) {
		if (!x->json)
			ctl_refused(x, reply);
		goto done;
	}
	*replyp = reply;
	reply = NULL;
	rc = FPMCTL_EXIT_OK;
done:
	json_decref(reply);
	free(line);
	free(out);
	ctl_close(&c);
	return rc;
}

static json_t *
ctl_request(const char *cmd)
{
	json_t	*req;

	if ((req = json_object()) == NULL ||
	    json_object_set_new(req, "cmd", json_string(cmd)) == -1) {
		fprintf(stderr, "%s: out of memory\n", progname);
		exit(FPMCTL_EXIT_REFUSED);
	}
	return req;
}

static int
cmd_ping(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = { CMD_OPTS_COMMON };
	json_t	*reply;
	int	 rc;

	cmd_getopt(x, cmd_find("ping"), argc, argv, "", opts);
	cmd_no_args(cmd_find("ping"), argc, argv);
	rc = ctl_call(x, ctl_request("ping"), FPMCTL_TIMEOUT * 1000, &reply);
	if (rc == 0 && !x->json)
		show_ping(reply);
	json_decref(reply);
	return rc;
}

static int
cmd_status(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "full", no_argument, NULL, 'f' },
		CMD_OPTS_COMMON
	};
	const struct cmd *c = cmd_find("status");
	json_t		*req, *reply;
	bool		 full = false;
	int		 ch, rc;

	while ((ch = cmd_getopt(x, c, argc, argv, "f", opts)) != -1)
		if (ch == 'f')
			full = true;
	cmd_no_args(c, argc, argv);
	req = ctl_request("status");
	if (full)
		json_object_set_new(req, "full", json_true());
	rc = ctl_call(x, req, FPMCTL_TIMEOUT * 1000, &reply);
	if (rc == 0 && !x->json)
		show_status(reply, full);
	json_decref(reply);
	return rc;
}

static int
cmd_reload(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "no-wait", no_argument, NULL, 'n' },
		CMD_OPTS_COMMON
	};
	const struct cmd *c = cmd_find("reload");
	json_t		*req, *reply;
	bool		 wait = true;
	int		 ch, rc;

	while ((ch = cmd_getopt(x, c, argc, argv, "", opts)) != -1)
		if (ch == 'n')
			wait = false;
	cmd_no_args(c, argc, argv);
	req = ctl_request("reload");
	json_object_set_new(req, "wait", json_boolean(wait));
	rc = ctl_call(x, req, (wait ? FPMCTL_RELOAD_TIMEOUT : FPMCTL_TIMEOUT) *
	    1000, &reply);
	if (rc == 0 && !x->json)
		show_reload(reply);
	json_decref(reply);
	return rc;
}

/* Is fpmd gone?  By its pid when the connection told it, else by socket. */
static bool
ctl_gone(struct ctl *x)
{
	if (x->peer > 0)
		return !ctl_pid_alive(x->peer);
	return ctl_probe(x->sock) != 1;
}

static int
cmd_stop(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "now", no_argument, NULL, 'N' },
		{ "timeout", required_argument, NULL, 't' },
		{ "no-wait", no_argument, NULL, 'n' },
		CMD_OPTS_COMMON
	};
	const struct cmd *c = cmd_find("stop");
	json_t		*req, *reply;
	bool		 now = false, wait = true;
	double		 secs = -1;
	long long	 t;
	int64_t		 bound_ms, deadline;
	int		 ch, rc;

	while ((ch = cmd_getopt(x, c, argc, argv, "", opts)) != -1) {
		switch (ch) {
		case 'N':
			now = true;
			break;
		case 'n':
			wait = false;
			break;
		case 't':
			secs = parse_secs(optarg);
			if (secs < 0 || secs != (double)(long long)secs || secs > INT_MAX)
				usage_error(c, "--timeout: '%s' is not a "
				    "whole number of seconds", optarg);
			break;
		}
	}
	cmd_no_args(c, argc, argv);
	req = ctl_request("stop");
	if (now)
		json_object_set_new(req, "now", json_true());
	if (secs >= 0)
		json_object_set_new(req, "timeout",
		    json_integer((json_int_t)secs));
	rc = ctl_call(x, req, FPMCTL_TIMEOUT * 1000, &reply);
	if (rc != 0)
		return rc;
	if (!x->json)
		show_stop(reply);
	/* fpmd may tell the timeout it applies when none was asked for */
	if (secs < 0 && show_int(reply, "timeout", &t) && t >= 0)
		secs = (double)t;
	json_decref(reply);
	if (!wait)
		return FPMCTL_EXIT_OK;

	if (secs > 0)
		bound_ms = ((int64_t)secs + FPMCTL_STOP_GRACE) * 1000;
	else if (x->timeout_ms >= 0)
		bound_ms = x->timeout_ms;
	else
		bound_ms = FPMCTL_TIMEOUT * 1000;
	deadline = ctl_deadline(bound_ms);
	while (!ctl_gone(x)) {
		if (deadline != 0 && ctl_now_ms() >= deadline) {
			fprintf(stderr, "%s: stop: fpmd (pid %ld) is still "
			    "running after %.3g s\n", progname, (long)x->peer,
			    bound_ms / 1e3);
			hint("its workers may still be finishing their "
			    "requests ('fpmctl status --full' shows them); "
			    "'fpmctl stop --now' cuts them");
			return FPMCTL_EXIT_REFUSED;
		}
		usleep(CTL_PROBE_MS * 1000);
	}
	if (!x->json)
		printf("fpmd stopped\n");
	return FPMCTL_EXIT_OK;
}

static int
cmd_scale(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = { CMD_OPTS_COMMON };
	const struct cmd *c = cmd_find("scale");
	json_t		*req, *reply;
	const char	*pool, *num;
	char		*end;
	long		 n;
	int		 rc;

	cmd_getopt(x, c, argc, argv, "", opts);
	if (argc - optind != 2)
		usage_error(c, "needs a pool name and a number");
	pool = argv[optind];
	num = argv[optind + 1];
	if (*pool == '\0')
		usage_error(c, "the pool name is empty");
	errno = 0;
	n = strtol(num, &end, 10);
	if (*num < '0' || *num > '9' || *end != '\0' || errno != 0 ||
	    n > INT_MAX)
		usage_error(c, "'%s' is not a number of processes", num);
	req = ctl_request("scale");
	json_object_set_new(req, "pool", json_string(pool));
	json_object_set_new(req, "max_children", json_integer(n));
	rc = ctl_call(x, req, FPMCTL_TIMEOUT * 1000, &reply);
	if (rc == 0 && !x->json)
		show_scale(reply);
	json_decref(reply);
	return rc;
}

static int
cmd_reopen_logs(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = { CMD_OPTS_COMMON };
	const struct cmd *c = cmd_find("reopen-logs");
	json_t		*reply;
	int		 rc;

	cmd_getopt(x, c, argc, argv, "", opts);
	cmd_no_args(c, argc, argv);
	rc = ctl_call(x, ctl_request("reopen-logs"), FPMCTL_TIMEOUT * 1000,
	    &reply);
	if (rc == 0 && !x->json)
		printf("logs reopened\n");
	json_decref(reply);
	return rc;
}

static int
cmd_config(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = { CMD_OPTS_COMMON };
	const struct cmd *c = cmd_find("config");
	json_t		*reply;
	int		 rc;

	cmd_getopt(x, c, argc, argv, "", opts);
	cmd_no_args(c, argc, argv);
	rc = ctl_call(x, ctl_request("config"), FPMCTL_TIMEOUT * 1000, &reply);
	if (rc == 0 && !x->json)
		show_config(reply);
	json_decref(reply);
	return rc;
}

/*
 * One sample for top: ping (for the uptime) and status with full.  A fpmd
 * that has exited since the last one is said to be gone before trying.
 */
static int
ctl_top_fetch(void *arg, json_t **ping, json_t **status)
{
	struct ctl	*x = arg;
	json_t		*req;
	int		 rc;

	*ping = *status = NULL;
	if (x->peer > 0 && !ctl_pid_alive(x->peer)) {
		fprintf(stderr, "%s: %s: fpmd (pid %ld) has exited\n", progname,
		    x->cmd, (long)x->peer);
		return FPMCTL_EXIT_UNREACHABLE;
	}
	if ((rc = ctl_call(x, ctl_request("ping"), FPMCTL_TIMEOUT * 1000,
	    ping)) != 0)
		return rc;
	req = ctl_request("status");
	json_object_set_new(req, "full", json_true());
	if ((rc = ctl_call(x, req, FPMCTL_TIMEOUT * 1000, status)) != 0) {
		json_decref(*ping);
		*ping = NULL;
	}
	return rc;
}

static int
cmd_top(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "sort", required_argument, NULL, 'S' },
		CMD_OPTS_COMMON
	};
	const struct cmd *c = cmd_find("top");
	struct top_opts	 o;
	double		 secs;
	char		*end;
	long		 n;
	int		 ch;

	memset(&o, 0, sizeof(o));
	o.interval_ms = 1000;
	o.sort = TOP_SORT_DURATION;
	while ((ch = cmd_getopt(x, c, argc, argv, "d:n:", opts)) != -1) {
		switch (ch) {
		case 'd':
			secs = parse_secs(optarg);
			if (secs < 0.1 || secs > 86400)
				usage_error(c, "-d: '%s' is not a number of "
				    "seconds from 0.1 to 86400", optarg);
			o.interval_ms = (int64_t)(secs * 1000);
			break;
		case 'n':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end != '\0' ||
			    errno != 0 || n < 1)
				usage_error(c, "-n: '%s' is not a number of "
				    "refreshes (1 or more)", optarg);
			o.count = n;
			break;
		case 'S':
			if (top_sort_parse(optarg, &o.sort) == -1)
				usage_error(c, "--sort: '%s' is not one of "
				    "duration, cpu, memory, pid", optarg);
			break;
		}
	}
	cmd_no_args(c, argc, argv);
	if (x->json)
		usage_error(c, "top has no --json: 'fpmctl --json status "
		    "--full' gives the same figures");
	return top_run(&o, ctl_top_fetch, x);
}

/* OUT.new, then renamed: OUT is the old file or the whole new one. */
static int
import_write(const char *out, const char *text)
{
	char	*tmp;
	FILE	*f;
	int	 serrno;

	if (asprintf(&tmp, "%s.new", out) == -1)
		return -1;
	if ((f = fopen(tmp, "we")) == NULL)
		goto fail;
	if (fputs(text, f) == EOF || fflush(f) == EOF || fsync(fileno(f)) ==
	    -1) {
		serrno = errno;
		fclose(f);
		unlink(tmp);
		errno = serrno;
		goto fail;
	}
	if (fclose(f) == EOF || rename(tmp, out) == -1) {
		serrno = errno;
		unlink(tmp);
		errno = serrno;
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	serrno = errno;
	free(tmp);
	errno = serrno;
	return -1;
}

static int
cmd_import(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "php-ini", required_argument, NULL, 'i' },
		CMD_OPTS_COMMON
	};
	const struct cmd	*c = cmd_find("import-php-fpm");
	struct import_opts	 io;
	const char		*outpath = NULL;
	char			*out, *warnings, *errors;
	int			 ch, rc;

	memset(&io, 0, sizeof(io));
	while ((ch = cmd_getopt(x, c, argc, argv, "o:p:", opts)) != -1) {
		switch (ch) {
		case 'o':
			outpath = optarg;
			break;
		case 'p':
			if (optarg[0] != '/')
				usage_error(c, "-p: '%s' is not an absolute "
				    "directory", optarg);
			io.io_prefix = optarg;
			break;
		case 'i':
			io.io_php_ini = optarg;
			break;
		}
	}
	if (x->json)
		usage_error(c, "import-php-fpm has no --json");
	if (optind == argc)
		usage_error(c, "no php-fpm configuration file given");
	if (argc - optind > 1)
		usage_error(c, "unexpected argument '%s'", argv[optind + 1]);
	rc = import_run(argv[optind], NULL, 0, &io, &out, &warnings, &errors);
	if (warnings != NULL)
		fputs(warnings, stderr);
	free(warnings);
	switch (rc) {
	case 0:
		break;
	case -3:
		fprintf(stderr, "%s: %s: out of memory\n", progname, c->name);
		return FPMCTL_EXIT_REFUSED;
	default:
		fputs(errors, stderr);
		fprintf(stderr, "%s: %s: %s; nothing written\n", progname,
		    c->name, rc == -2 ? "cannot read the configuration" :
		    "php-fpm would refuse this configuration too");
		free(errors);
		return rc == -2 ? FPMCTL_EXIT_USAGE : FPMCTL_EXIT_REFUSED;
	}
	if (outpath == NULL) {
		fputs(out, stdout);
		free(out);
		return FPMCTL_EXIT_OK;
	}
	if (import_write(outpath, out) == -1) {
		fprintf(stderr, "%s: %s: cannot write %s: %s\n", progname,
		    c->name, outpath, strerror(errno));
		free(out);
		return FPMCTL_EXIT_REFUSED;
	}
	free(out);
	fprintf(stderr, "%s: wrote %s; check it with fpmd -t -c %s\n",
	    progname, outpath, outpath);
	return FPMCTL_EXIT_OK;
}

static int
cmd_help(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = { CMD_OPTS_COMMON };
	const struct cmd *c = cmd_find("help"), *which;

	cmd_getopt(x, c, argc, argv, "", opts);
	if (argc - optind > 1)
		usage_error(c, "unexpected argument '%s'", argv[optind + 1]);
	if (optind == argc) {
		usage_full(stdout);
		return FPMCTL_EXIT_OK;
	}
	if ((which = cmd_find(argv[optind])) == NULL)
		usage_error(NULL, "no command '%s'", argv[optind]);
	usage_cmd(which, stdout);
	return FPMCTL_EXIT_OK;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd	*c;
	struct ctl		 x;
	double			 secs;
	int			 ch, rc;

	memset(&x, 0, sizeof(x));
	x.timeout_ms = -1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:s:c:jhV", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (*optarg == '\0')
				usage_error(NULL, "-s: empty socket path");
			x.sock = optarg;
			break;
		case 'c':
			x.config = optarg;
			break;
		case 'j':
			x.json = true;
			break;
		case 't':
			if ((secs = parse_secs(optarg)) < 0)
				usage_error(NULL, "--timeout: '%s' is not a "
				    "number of seconds", optarg);
			x.timeout_ms = (int64_t)(secs * 1000);
			if (secs > 0 && x.timeout_ms == 0)
				x.timeout_ms = 1;
			break;
		case 'h':
			usage_full(stdout);
			return FPMCTL_EXIT_OK;
		case 'V':
			printf("fpmctl %s\n", PACKAGE_VERSION);
			return FPMCTL_EXIT_OK;
		case ':':
			usage_error(NULL, "%s needs a value", argv[optind - 1]);
		default:
			if (optopt != 0)
				usage_error(NULL, "unknown option -%c", optopt);
			usage_error(NULL, "unknown option %s",
			    argv[optind - 1]);
		}
	}
	if (optind == argc)
		usage_error(NULL, "no command given");
	if ((c = cmd_find(argv[optind])) == NULL)
		usage_error(NULL, "no command '%s'", argv[optind]);
	x.cmd = c->name;
	argc -= optind;
	argv += optind;
	optind = 0;		/* glibc: start over, on the command's words */
	rc = c->run(&x, argc, argv);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "%s: %s: writing the output: %s\n", progname,
		    c->name, strerror(errno));
		if (rc == FPMCTL_EXIT_OK)
			rc = FPMCTL_EXIT_REFUSED;
	}
	return rc;
}
