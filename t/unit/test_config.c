/*
 * Unit tests of the configuration reader (daemon/conf*.c) and of fpmctl's
 * (ctl/confsock.c), which must find the same control.socket in every file
 * fpmd accepts.  The files are under t/data/conf/; error texts are compared
 * whole, with '@' standing for that directory, so every file name and line
 * number is checked.  Run under ASan/LSan, the tests also check that no
 * path through conf_load() or confsock_read() leaks.
 *
 * This file holds the helpers (test_config.h), the reader's own tests and
 * main(); fpmctl's reader and the text layer it shares with fpmd are in
 * test_config_fpmctl.c, access.log and access.format in
 * test_config_access.c, the help for files written for php-fpm in
 * test_config_migrate.c.  One program runs them all.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "fpmctl.h"
#include "fpmd.h"
#define UNIT_MAIN
#include "unit.h"
#include "test_config.h"

static char	 logbuf[16384];
static int	 logfd = -1;

/* The text with every '@' replaced by the test data directory. */
char *
subst(const char *s)
{
	size_t	 n = 0, dl = strlen(DIR);
	char	*out, *o;
	const char *p;

	for (p = s; *p != '\0'; p++)
		n += *p == '@';
	if ((out = malloc(strlen(s) + n * dl + 1)) == NULL)
		abort();
	for (o = out, p = s; *p != '\0'; p++) {
		if (*p == '@') {
			memcpy(o, DIR, dl);
			o += dl;
		} else
			*o++ = *p;
	}
	*o = '\0';
	return out;
}

/* DIR name, in a buffer of its own until the next call. */
const char *
subst_path(const char *name)
{
	static char	path[1024];

	snprintf(path, sizeof(path), "%s%s", DIR, name);
	return path;
}

struct fpmd_conf *
load(const char *name, int flags, char **errs)
{
	char	path[1024];

	snprintf(path, sizeof(path), "%s%s", DIR, name);
	return conf_load(path, flags, errs);
}

struct fpmd_conf *
load_ok(const char *name, int flags)
{
	struct fpmd_conf	*conf;
	char			*errs;

	conf = load(name, flags, &errs);
	if (conf == NULL) {
		fprintf(stderr, "%s: unexpected errors:\n%s", name,
		    errs != NULL ? errs : "(none)\n");
		free(errs);
	}
	return conf;
}

/* The load must fail with exactly these lines. */
void
expect_errors(const char *name, int flags, const char *expected)
{
	struct fpmd_conf	*conf;
	char			*errs, *want = subst(expected);

	conf = load(name, flags, &errs);
	CHECK(conf == NULL);
	CHECK_STR(errs, want);
	conf_free(conf);
	free(errs);
	free(want);
}

void
log_begin(void)
{
	char	 tmpl[] = "/tmp/test_config.XXXXXX";

	if ((logfd = mkstemp(tmpl)) == -1)
		abort();
	unlink(tmpl);
	log_set_fd(logfd);
}

const char *
log_end(void)
{
	ssize_t	 n;

	log_set_fd(2);
	lseek(logfd, 0, SEEK_SET);
	n = read(logfd, logbuf, sizeof(logbuf) - 1);
	logbuf[n > 0 ? n : 0] = '\0';
	close(logfd);
	return logbuf;
}

static bool
log_has(const char *text)
{
	char	*want = subst(text);
	bool	 found = strstr(logbuf, want) != NULL;

	if (!found)
		fprintf(stderr, "log lacks \"%s\" in:\n%s", want, logbuf);
	free(want);
	return found;
}

static struct php_setting *
php_find(struct pool_conf *pc, const char *name)
{
	size_t	 i;

	for (i = 0; i < pc->nphp; i++)
		if (strcmp(pc->php[i].name, name) == 0)
			return &pc->php[i];
	return NULL;
}

static void
test_minimal(void)
{
	struct fpmd_conf	*c;
	struct pool_conf	*p;

	if ((c = load_ok("min.conf", 0)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK_STR(c->file, DIR "min.conf");
	CHECK(c->log_level == LOG_LVL_NOTICE);
	CHECK(c->error_log == NULL);
	CHECK_STR(c->php_ini, "/etc/php/8.2/fpm/php.ini");
	CHECK(c->php_ini_scan_dir == NULL);
	CHECK(c->process_control_timeout == 0);
	CHECK(c->process_max == 0);
	CHECK(c->rlimit_files == -1 && c->rlimit_core == -1);
	CHECK(c->control_socket == NULL);
	CHECK(c->control_mode == 0660);
	CHECK(c->control_uid == (uid_t)-1 && c->control_gid == (gid_t)-1);
	CHECK(c->npools == 1);
	p = &c->pools[0];
	CHECK_STR(p->name, "www");
	CHECK_STR(p->file, DIR "min.conf");
	CHECK(p->line == 2);
	CHECK_STR(p->listen, "/tmp/www.sock");
	CHECK(p->addr.family == AF_UNIX);
	CHECK_STR(p->addr.text, "/tmp/www.sock");
	CHECK_STR(((struct sockaddr_un *)&p->addr.ss)->sun_path,
	    "/tmp/www.sock");
	CHECK(p->listen_backlog == 511);
	CHECK(p->listen_mode == 0666);
	CHECK(p->listen_owner == NULL && p->listen_group == NULL);
	CHECK(p->listen_uid == (uid_t)-1 && p->listen_gid == (gid_t)-1);
	CHECK(p->listen_allowed_clients == NULL);
	CHECK(p->pm == PM_STATIC);
	CHECK(p->max_children == 4);
	CHECK(p->max_spawn_rate == 32);
	CHECK(p->process_idle_timeout == 10);
	CHECK(p->max_requests == 0);
	CHECK(p->user == NULL && p->group == NULL);
	CHECK(p->uid == (uid_t)-1 && p->gid == (gid_t)-1);
	CHECK(p->chdir == NULL && p->chroot == NULL);
	CHECK(p->clear_env);
	CHECK(p->nenv == 0 && p->nphp == 0);
	CHECK_STR(p->php_ini, "/etc/php/8.2/fpm/php.ini");
	CHECK(p->php_ini_scan_dir == NULL);
	CHECK(p->allow_php_value_param);
	CHECK(p->nlimit_extensions == 2);
	if (p->nlimit_extensions == 2) {
		CHECK_STR(p->limit_extensions[0], ".php");
		CHECK_STR(p->limit_extensions[1], ".phar");
	}
	CHECK(!p->catch_workers_output);
	CHECK(p->decorate_workers_output);
	CHECK(!p->process_dumpable);
	CHECK(p->rlimit_files == -1 && p->rlimit_core == -1);
	CHECK(p->request_terminate_timeout == 0);
	conf_free(c);
}

static void
test_full(void)
{
	struct fpmd_conf	*c;
	struct pool_conf	*p;
	struct php_setting	*s;
	struct sockaddr_in	*sin;

	log_begin();
	c = load_ok("full.conf", 0);
	log_end();
	if (c == NULL) {
		CHECK(0);
		return;
	}
	CHECK(c->log_level == LOG_LVL_DEBUG);
	CHECK_STR(c->error_log, "/var/log/fpmd.log");
	CHECK_STR(c->php_ini, "/etc/php/8.2/fpm/php.ini");
	CHECK_STR(c->php_ini_scan_dir, "/etc/php/8.2/fpm/conf.d");
	CHECK(c->process_control_timeout == 120);
	CHECK(c->process_max == 64);
	CHECK(c->rlimit_files == 4096);
	CHECK(c->rlimit_core == -2);
	CHECK_STR(c->control_socket, "/run/fpmd/control.sock");
	CHECK(c->control_mode == 0600);
	CHECK_STR(c->control_owner, "root");
	CHECK_STR(c->control_group, "www-data");
	CHECK(c->control_uid == 0 && c->control_gid == 33);
	CHECK(c->npools == 2);
	if (c->npools != 2) {
		conf_free(c);
		return;
	}

	p = &c->pools[0];
	CHECK_STR(p->name, "www");
	CHECK(p->line == 15);
	CHECK_STR(p->listen, "127.0.0.1:9000");
	CHECK(p->addr.family == AF_INET);
	CHECK_STR(p->addr.text, "127.0.0.1:9000");
	sin = (struct sockaddr_in *)&p->addr.ss;
	CHECK(ntohs(sin->sin_port) == 9000);
	CHECK(sin->sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	CHECK(p->listen_backlog == -1);
	CHECK_STR(p->listen_owner, "www-data");
	CHECK(p->listen_uid == 33 && p->listen_gid == 33);
	CHECK(p->listen_mode == 0600);
	CHECK_STR(p->listen_allowed_clients, "127.0.0.1, ::1");
	CHECK(p->pm == PM_DYNAMIC);
	CHECK(p->max_children == 20);
	CHECK(p->start_servers == 5);
	CHECK(p->min_spare_servers == 2);
	CHECK(p->max_spare_servers == 8);
	CHECK(p->max_spawn_rate == 16);
	CHECK(p->process_idle_timeout == 3600);
	CHECK(p->max_requests == 500);
	CHECK_STR(p->user, "www-data");
	CHECK_STR(p->group, "nogroup");
	/* not root: names kept, ids not resolved */
	CHECK(p->uid == (uid_t)-1 && p->gid == (gid_t)-1);
	CHECK_STR(p->chdir, "/srv/www");
	CHECK_STR(p->chroot, "/srv/jail");
	CHECK(!p->clear_env);
	CHECK(p->nenv == 2);
	if (p->nenv == 2) {
		CHECK_STR(p->env[0].key, "PATH");
		CHECK_STR(p->env[0].value, "/usr/bin:/bin");
		CHECK_STR(p->env[1].key, "TMP");
		CHECK_STR(p->env[1].value, "$TMP");
	}
	CHECK_STR(p->php_ini, "/etc/php/8.2/cli/php.ini");
	/* "" in the pool: no scan dir of its own, so the global one */
	CHECK_STR(p->php_ini_scan_dir, "/etc/php/8.2/fpm/conf.d");
	CHECK(p->nphp == 5);
	s = php_find(p, "memory_limit");
	CHECK(s != NULL && strcmp(s->value, "128M") == 0 && !s->admin &&
	    !s->flag);
	s = php_find(p, "date.timezone");
	CHECK(s != NULL && strcmp(s->value, "UTC") == 0);
	s = php_find(p, "display_errors");
	CHECK(s != NULL && strcmp(s->value, "0") == 0 && s->flag &&
	    !s->admin);
	s = php_find(p, "error_log");
	CHECK(s != NULL && strcmp(s->value, "/var/log/php/www.log") == 0 &&
	    s->admin && !s->flag);
	s = php_find(p, "log_errors");
	CHECK(s != NULL && strcmp(s->value, "1") == 0 && s->admin && s->flag);
	CHECK(!p->allow_php_value_param);
	CHECK(p->nlimit_extensions == 3);
	if (p->nlimit_extensions == 3) {
		CHECK_STR(p->limit_extensions[0], ".php");
		CHECK_STR(p->limit_extensions[1], ".php8");
		CHECK_STR(p->limit_extensions[2], ".html");
	}
	CHECK(p->catch_workers_output);
	CHECK(!p->decorate_workers_output);
	CHECK(p->process_dumpable);
	CHECK(p->rlimit_files == 1024 && p->rlimit_core == 0);
	CHECK(p->request_terminate_timeout == 30);

	p = &c->pools[1];
	CHECK_STR(p->name, "api");
	CHECK(p->line == 57);
	CHECK(p->addr.family == AF_INET6);
	CHECK_STR(p->addr.text, "[::1]:9001");
	CHECK(p->pm == PM_ONDEMAND);
	CHECK(p->process_idle_timeout == 5);
	CHECK(p->nlimit_extensions == 0 && p->limit_extensions == NULL);
	CHECK_STR(p->php_ini, "/etc/php/8.2/fpm/php.ini");
	conf_free(c);
}

static void
test_errors(void)
{
	/* Many problems in one file: all reported, each at its line. */
	expect_errors("errors.conf", 0,
	    "@errors.conf:1: log_level: 'loud' is not one of debug, notice, "
	    "warning, error, alert\n"
	    "@errors.conf:2: unknown option 'bogus'\n"
	    "@errors.conf:3: process.max must be at least 0 (got -1)\n"
	    "@errors.conf:4: php-fpm's 'daemonize' has no fpmd equivalent: "
	    "fpmd always runs in the foreground\n"
	    "@errors.conf:7: pool www: pm: 'sometimes' is not one of static, "
	    "dynamic, ondemand\n"
	    "@errors.conf:8: pool www: pm.max_children must be at least 1 "
	    "(got 0)\n"
	    "@errors.conf:9: pool www: pm.max_requests: 'many' is not a whole "
	    "number\n"
	    "@errors.conf:10: pool www: listen.mode: '0999' is not an octal "
	    "mode from 0 to 0777\n"
	    "@errors.conf:11: pool www: listen.backlog must be at least -1 "
	    "(got -2)\n"
	    "@errors.conf:12: pool www: clear_env: 'maybe' is not yes or no\n"
	    "@errors.conf:13: pool www: request_terminate_timeout: '10x' is "
	    "not a duration (seconds, or a number with s, m, h or d)\n"
	    "@errors.conf:14: pool www: rlimit_core: 'lots' is neither a "
	    "number (0 or more) nor 'unlimited'\n"
	    "@errors.conf:15: pool www: php-fpm's 'listen.setfib' has no fpmd "
	    "equivalent: FreeBSD's routing tables have none on Linux (use ip "
	    "rule or a network namespace)\n"
	    "@errors.conf:16: pool www: unknown option "
	    "'php_value[memory_limit]' (write php_value { KEY = VALUE })\n"
	    "@errors.conf:21: pool www: env EMPTY: empty value\n"
	    "@errors.conf:19: pool www: php_flag log_errors: 'perhaps' is not "
	    "on or off\n");
}

static void
test_listen_conf(void)
{
	expect_errors("listen.conf", 0,
	    "@listen.conf:2: pool a: listen: '0' is not a port (1 to 65535)\n"
	    "@listen.conf:7: pool b: listen: '70000' is not a port "
	    "(1 to 65535)\n"
	    "@listen.conf:12: pool c: listen: write an IPv6 address in "
	    "brackets: [address]:port\n"
	    "@listen.conf:17: pool d: listen: unix socket path '/tmp/"
	    "0123456789" "0123456789" "0123456789" "0123456789" "0123456789"
	    "0123456789" "0123456789" "0123456789" "0123456789" "0123456789"
	    ".sock' is longer than 107 bytes\n"
	    "@listen.conf:22: pool e: listen: '999.1.1.1' is not an IPv4 "
	    "address\n"
	    "@listen.conf:25: pool e: listen.allowed_clients: 'nothost' is "
	    "not an IP address\n"
	    "@listen.conf:28: pool f: listen: empty address\n"
	    "@listen.conf:31: pool f: 'log_level' is a global option: put it "
	    "outside the pool\n"
	    "@listen.conf:33: 'pm' is a pool option: put it inside pool NAME "
	    "{ ... }\n");
}

static void
test_missing(void)
{
	expect_errors("missing.conf", 0,
	    "@missing.conf:1: pool www: no 'listen' set\n"
	    "@missing.conf:1: pool www: no 'pm' set (static, dynamic or "
	    "ondemand)\n"
	    "@missing.conf:1: pool www: no 'pm.max_children' set\n"
	    "@missing.conf:6: pool api: no 'pm' set (static, dynamic or "
	    "ondemand)\n"
	    "@missing.conf:6: pool api: no 'pm.max_children' set\n");
	expect_errors("nopool.conf", 0,
	    "@nopool.conf:1: no pool defined (add a section: pool NAME "
	    "{ ... })\n");
	expect_errors("empty.conf", 0,
	    "@empty.conf:1: no pool defined (add a section: pool NAME "
	    "{ ... })\n");
	expect_errors("does-not-exist.conf", 0,
	    "@does-not-exist.conf: cannot read: No such file or directory\n");
}

static void
test_dup(void)
{
	expect_errors("dup.conf", 0,
	    "@dup.conf:11: pool 'www' is already defined at @dup.conf:1\n"
	    "@dup.conf:41: pool name 'bad name' may only have letters, "
	    "digits, '.', '_' and '-'\n"
	    "@dup.conf:17: pool again: listen address @www.sock clashes with "
	    "@www.sock of pool www (@dup.conf:2)\n"
	    "@dup.conf:22: pool tcp: listen address 127.0.0.1:9000 clashes "
	    "with *:9000 of pool api (@dup.conf:7)\n"
	    "@dup.conf:32: pool v4too: listen address 127.0.0.1:9100 clashes "
	    "with 127.0.0.1:9100 of pool v4 (@dup.conf:27)\n");
}

static void
test_dynamic(void)
{
	struct fpmd_conf	*c;

	expect_errors("dynamic.conf", 0,
	    "@dynamic.conf:1: pool nomin: pm.min_spare_servers must be a "
	    "positive value for pm = dynamic (got 0)\n"
	    "@dynamic.conf:11: pool less: pm.max_spare_servers (2) must not "
	    "be less than pm.min_spare_servers (3)\n"
	    "@dynamic.conf:18: pool over: pm.min_spare_servers (1) and "
	    "pm.max_spare_servers (6) cannot be greater than pm.max_children "
	    "(5)\n"
	    "@dynamic.conf:26: pool start: pm.start_servers (4) must not be "
	    "less than pm.min_spare_servers (2) and not greater than "
	    "pm.max_spare_servers (3)\n"
	    "@dynamic.conf:32: pool idle: pm.process_idle_timeout must be at "
	    "least 1s for pm = ondemand\n");

	/* start_servers defaults to min + (max - min) / 2, with a notice */
	log_begin();
	c = load_ok("notices.conf", 0);
	log_end();
	CHECK(c != NULL && c->pools[0].start_servers == 3);
	CHECK(log_has("NOTICE: @notices.conf:1: pool www: pm.start_servers "
	    "is not set; it has been set to 3\n"));
	CHECK(log_has("NOTICE: @notices.conf:7: pool www: 'user' is ignored "
	    "when fpmd is not running as root\n"));
	CHECK(log_has("NOTICE: @notices.conf:8: pool www: 'group' is ignored "
	    "when fpmd is not running as root\n"));
	conf_free(c);

	/* a refused config logs no notices: only its errors matter */
	log_begin();
	expect_errors("missing.conf", 0,
	    "@missing.conf:1: pool www: no 'listen' set\n"
	    "@missing.conf:1: pool www: no 'pm' set (static, dynamic or "
	    "ondemand)\n"
	    "@missing.conf:1: pool www: no 'pm.max_children' set\n"
	    "@missing.conf:6: pool api: no 'pm' set (static, dynamic or "
	    "ondemand)\n"
	    "@missing.conf:6: pool api: no 'pm.max_children' set\n");
	CHECK(log_end()[0] == '\0');
}

static void
test_users(void)
{
	struct fpmd_conf	*c;
	struct pool_conf	*p;
	const char		*sock =
	    "@users.conf:34: pool sock: listen.owner: user 'no-such-user-fpmd' "
	    "does not exist\n"
	    "@users.conf:35: pool sock: listen.group: group "
	    "'no-such-group-fpmd' does not exist\n";
	char			 want[4096];

	/* not root: user and group are only noticed; listen.* still count */
	expect_errors("users.conf", 0, sock);

	snprintf(want, sizeof(want),
	    "@users.conf:7: pool nouser: no 'user' set; fpmd refuses to run "
	    "PHP as root \xe2\x80\x94 set user = ... or start with "
	    "-R/--allow-to-run-as-root\n"
	    "@users.conf:16: pool root: user 'root' is root; fpmd refuses to "
	    "run PHP as root \xe2\x80\x94 set another user or start with "
	    "-R/--allow-to-run-as-root\n"
	    "@users.conf:22: pool ghost: user 'no-such-user-fpmd' does not "
	    "exist\n"
	    "@users.conf:23: pool ghost: group 'no-such-group-fpmd' does not "
	    "exist\n%s", sock);
	expect_errors("users.conf", CONF_AS_ROOT, want);

	snprintf(want, sizeof(want),
	    "@users.conf:22: pool ghost: user 'no-such-user-fpmd' does not "
	    "exist\n"
	    "@users.conf:23: pool ghost: group 'no-such-group-fpmd' does not "
	    "exist\n%s", sock);
	expect_errors("users.conf", CONF_AS_ROOT | CONF_ALLOW_ROOT, want);

	expect_errors("users_ok.conf", CONF_AS_ROOT,
	    "@users_ok.conf:7: pool nouser: no 'user' set; fpmd refuses to "
	    "run PHP as root \xe2\x80\x94 set user = ... or start with "
	    "-R/--allow-to-run-as-root\n"
	    "@users_ok.conf:16: pool root: user 'root' is root; fpmd refuses "
	    "to run PHP as root \xe2\x80\x94 set another user or start with "
	    "-R/--allow-to-run-as-root\n");

	c = load_ok("users_ok.conf", CONF_AS_ROOT | CONF_ALLOW_ROOT);
	CHECK(c != NULL && c->npools == 5);
	if (c != NULL && c->npools == 5) {
		p = c->pools;
		CHECK(p[0].uid == 33 && p[0].gid == 33);	/* primary */
		CHECK(p[1].uid == (uid_t)-1 && p[1].gid == (gid_t)-1);
		CHECK(p[2].uid == 0 && p[2].gid == 0);
		CHECK(p[3].uid == 65534 && p[3].gid == 33);
		/* a named listen.owner brings its primary group */
		CHECK(p[3].listen_uid == 33 && p[3].listen_gid == 33);
		CHECK(p[4].uid == 33 && p[4].gid == 65534);
		CHECK(p[4].listen_uid == 65534 && p[4].listen_gid == 33);
	}
	conf_free(c);

	/* not root: ids stay unset, names are kept */
	log_begin();
	c = load_ok("users_ok.conf", 0);
	log_end();
	CHECK(c != NULL && c->npools == 5);
	if (c != NULL && c->npools == 5) {
		CHECK(c->pools[0].uid == (uid_t)-1);
		CHECK(c->pools[0].gid == (gid_t)-1);
		CHECK_STR(c->pools[0].user, "www-data");
		CHECK(c->pools[3].listen_uid == 33);
	}
	CHECK(log_has("@users_ok.conf:5: pool www: 'user' is ignored when "
	    "fpmd is not running as root"));
	conf_free(c);
}

static void
test_pool_subst(void)
{
	struct fpmd_conf	*c;
	struct pool_conf	*p;

	expect_errors("pool.conf", 0,
	    "@pool.conf:1: error_log: '$pool' can only be used inside a "
	    "pool\n");
	c = load_ok("pool_ok.conf", 0);
	CHECK(c != NULL);
	if (c == NULL)
		return;
	p = &c->pools[0];
	CHECK_STR(p->listen, "/run/www/www.sock");
	CHECK_STR(p->addr.text, "/run/www/www.sock");
	CHECK_STR(p->chdir, "/srv/www");
	CHECK(p->nenv == 1 && strcmp(p->env[0].value, "www") == 0);
	CHECK(p->nphp == 1 &&
	    strcmp(p->php[0].value, "/var/log/php-www.log") == 0);
	conf_free(c);
}

static void
test_flags(void)
{
	struct fpmd_conf	*c;
	struct pool_conf	*p;
	const char		*want = "1010101010";
	size_t			 i;

	c = load_ok("flags.conf", 0);
	CHECK(c != NULL);
	if (c == NULL)
		return;
	p = &c->pools[0];
	CHECK(p->nphp == 10);
	for (i = 0; i < p->nphp && i < 10; i++) {
		CHECK(p->php[i].flag && !p->php[i].admin);
		CHECK(p->php[i].name[0] == (char)('a' + i));
		CHECK(p->php[i].value[0] == want[i] &&
		    p->php[i].value[1] == '\0');
	}
	conf_free(c);
}

static void
test_syntax(void)
{
	expect_errors("syntax.conf", 0,
	    "@syntax.conf:5: missing equal sign after option "
	    "'pm.max_children'\n");
	expect_errors("unterminated.conf", 0,
	    "@unterminated.conf:3: unterminated string: the \" opened here "
	    "is not closed before the end of the file (add the closing \", "
	    "or restore the file if it was cut short)\n");

	/*
	 * A lexer error in an included file ends the including file too (the
	 * lexer is stuck in a string), and the next load starts afresh.
	 */
	expect_errors("inc/escape.conf", 0,
	    "@inc/escape_bad.conf:2: bad escape sequence '\\9'\n");
	test_minimal();
}

static void
test_relative(void)
{
	struct fpmd_conf	*c;
	struct pool_conf	*p;

	c = load_ok("rel/main.conf", 0);
	CHECK(c != NULL);
	if (c == NULL)
		return;
	CHECK_STR(c->file, DIR "rel/main.conf");
	CHECK_STR(c->error_log, DIR "rel/log/fpmd.log");
	conf_free(c);

	/* "stderr" is no file name: NULL, as if unset */
	c = load_ok("stderr.conf", 0);
	CHECK(c != NULL && c->error_log == NULL);
	conf_free(c);

	c = load_ok("rel/main.conf", 0);
	if (c == NULL)
		return;
	CHECK_STR(c->php_ini, DIR "php.ini");
	CHECK_STR(c->control_socket, DIR "rel/control.sock");
	/* set in the included file: relative to that file */
	CHECK_STR(c->php_ini_scan_dir, DIR "rel/sub/conf.d");
	p = &c->pools[0];
	CHECK_STR(p->file, DIR "rel/sub/pool.conf");
	CHECK(p->line == 2);
	CHECK_STR(p->listen, DIR "rel/sub/www.sock");
	CHECK_STR(p->addr.text, DIR "rel/sub/www.sock");
	CHECK_STR(p->chdir, DIR "rel/sub");
	CHECK_STR(p->chroot, DIR "rel/sub/jail");
	CHECK_STR(p->php_ini, DIR "php.ini");
	conf_free(c);
}

static void
test_includes(void)
{
	struct fpmd_conf	*c;

	/* a glob, sorted, a directory skipped; a glob with no match warns */
	log_begin();
	c = load_ok("inc/main.conf", 0);
	log_end();
	CHECK(c != NULL && c->npools == 3);
	if (c != NULL && c->npools == 3) {
		CHECK_STR(c->pools[0].name, "a");
		CHECK_STR(c->pools[0].file, DIR "inc/conf.d/a.conf");
		CHECK(c->pools[0].line == 2);
		CHECK_STR(c->pools[1].name, "b");
		CHECK_STR(c->pools[2].name, "main");
		CHECK(c->pools[2].line == 4);
		/* later settings win, in reading order */
		CHECK(c->log_level == LOG_LVL_WARNING);
	}
	CHECK(log_has("WARNING: @inc/main.conf:3: include 'none.d/*.conf' "
	    "matches no file\n"));
	conf_free(c);

	expect_errors("inc/missing.conf", 0,
	    "@inc/missing.conf:1: include '@inc/nothere.conf': No such file "
	    "or directory\n"
	    "@inc/missing.conf:6: pool www: include is only allowed outside "
	    "pool sections\n");

	c = load_ok("depth/ok.conf", 0);
	CHECK(c != NULL && c->log_level == LOG_LVL_DEBUG);
	conf_free(c);
	expect_errors("depth/too.conf", 0,
	    "@depth/c4.conf:2: include '@depth/c5.conf': includes nest more "
	    "than 5 deep\n");
	expect_errors("depth/loop.conf", 0,
	    "@depth/loop.conf:2: include '@depth/loop.conf': an include loop "
	    "(@depth/loop.conf is being read)\n");
}

struct listen_case {
	const char	*in;
	int		 family;	/* -1: must fail */
	const char	*text;
	int		 port;
};

static void
test_listen_parse(void)
{
	static const struct listen_case cases[] = {
		{ "/tmp/www.sock", AF_UNIX, "/tmp/www.sock", 0 },
		{ "/tmp//a/./../www.sock", AF_UNIX, "/tmp/www.sock", 0 },
		{ "127.0.0.1:9000", AF_INET, "127.0.0.1:9000", 9000 },
		{ "0.0.0.0:80", AF_INET, "0.0.0.0:80", 80 },
		{ "[::1]:9000", AF_INET6, "[::1]:9000", 9000 },
		{ "[0:0::1]:65535", AF_INET6, "[::1]:65535", 65535 },
		{ "[::]:1", AF_INET6, "[::]:1", 1 },
		{ "9000", AF_UNSPEC, "*:9000", 9000 },
		{ "*:9000", AF_UNSPEC, "*:9000", 9000 },
		{ "", -1, NULL, 0 },
		{ "www.sock", -1, NULL, 0 },
		{ "127.0.0.1:", -1, NULL, 0 },
		{ "127.0.0.1:0", -1, NULL, 0 },
		{ "127.0.0.1:65536", -1, NULL, 0 },
		{ "127.0.0.1:9x", -1, NULL, 0 },
		{ "1.2.3:80", -1, NULL, 0 },
		{ ":80", -1, NULL, 0 },
		{ "::1:80", -1, NULL, 0 },
		{ "[::1]80", -1, NULL, 0 },
		{ "[::1:80", -1, NULL, 0 },
		{ "[zz]:80", -1, NULL, 0 },
		{ "0", -1, NULL, 0 },
		{ "/tmp/0123456789012345678901234567890123456789012345678901234"
		  "56789012345678901234567890123456789012345678901234.sock",
		  -1, NULL, 0 },
	};
	struct listen_addr	 a;
	const struct listen_case *lc;
	char			 err[256];
	size_t			 i;
	int			 rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lc = &cases[i];
		err[0] = '\0';
		rc = conf_listen_parse(lc->in, &a, err, sizeof(err));
		if (lc->family == -1) {
			CHECK(rc == -1 && err[0] != '\0');
			if (rc != -1)
				fprintf(stderr, "accepted '%s'\n", lc->in);
			continue;
		}
		CHECK(rc == 0);
		if (rc != 0) {
			fprintf(stderr, "'%s': %s\n", lc->in, err);
			continue;
		}
		CHECK(a.family == lc->family);
		CHECK_STR(a.text, lc->text);
		if (lc->family == AF_UNIX) {
			CHECK(a.ss.ss_family == AF_UNIX);
			CHECK(a.sslen == offsetof(struct sockaddr_un, sun_path) +
			    strlen(lc->text) + 1);
		} else if (lc->family == AF_INET) {
			CHECK(a.ss.ss_family == AF_INET);
			CHECK(a.sslen == sizeof(struct sockaddr_in));
			CHECK(ntohs(((struct sockaddr_in *)&a.ss)->sin_port) ==
			    lc->port);
		} else {
			/* AF_UNSPEC holds [::]:port */
			CHECK(a.ss.ss_family == AF_INET6);
			CHECK(a.sslen == sizeof(struct sockaddr_in6));
			CHECK(ntohs(((struct sockaddr_in6 *)&a.ss)->sin6_port)
			    == lc->port);
		}
	}
	/* 107 bytes fit in sun_path with its NUL, 108 do not */
	{
		char	path[120];

		memset(path, 'a', sizeof(path));
		path[0] = '/';
		path[107] = '\0';
		CHECK(conf_listen_parse(path, &a, err, sizeof(err)) == 0);
		path[107] = 'a';
		path[108] = '\0';
		CHECK(conf_listen_parse(path, &a, err, sizeof(err)) == -1);
	}
}

/*
 * The bundled etc/fpmd.conf as shipped, and with every commented-out
 * example ("#name", "#\tname", "#}": no blank after the '#') switched on.
 */
static void
test_bundled(void)
{
	const char		*path = TEST_DATA "/../../etc/fpmd.conf";
	struct fpmd_conf	*c;
	struct pool_conf	*p;
	char			*errs, line[1024], tmpl[] = "/tmp/fpmd.conf.XXXXXX";
	const char		*q;
	FILE			*in, *out;
	int			 fd;

	c = conf_load(path, 0, &errs);
	CHECK(c != NULL);
	if (c == NULL) {
		fprintf(stderr, "%s", errs);
		free(errs);
		return;
	}
	CHECK(c->npools == 1);
	p = &c->pools[0];
	CHECK_STR(p->name, "www");
	CHECK(p->addr.family == AF_UNIX);
	CHECK_STR(p->addr.text, "/tmp/fpmd-www.sock");
	CHECK(p->listen_mode == 0666);
	CHECK(p->pm == PM_STATIC && p->max_children == 4);
	CHECK_STR(p->php_ini, "/etc/php/8.2/embed/php.ini");
	CHECK(p->user == NULL);
	conf_free(c);

	/* no user: as root only with -R */
	c = conf_load(path, CONF_AS_ROOT, &errs);
	CHECK(c == NULL && errs != NULL &&
	    strstr(errs, "pool www: no 'user' set") != NULL);
	free(errs);
	c = conf_load(path, CONF_AS_ROOT | CONF_ALLOW_ROOT, &errs);
	CHECK(c != NULL);
	conf_free(c);

	if ((in = fopen(path, "r")) == NULL ||
	    (fd = mkstemp(tmpl)) == -1 || (out = fdopen(fd, "w")) == NULL)
		abort();
	while (fgets(line, sizeof(line), in) != NULL) {
		q = line + strspn(line, " \t");
		if (*q == '#' && q[1] != ' ' && q[1] != '\n') {
			fwrite(line, 1, q - line, out);
			fputs(q + 1, out);
		} else
			fputs(line, out);
	}
	fclose(in);
	fclose(out);
	log_begin();
	c = conf_load(tmpl, CONF_AS_ROOT | CONF_ALLOW_ROOT, &errs);
	log_end();
	unlink(tmpl);
	CHECK(c != NULL);
	if (c == NULL) {
		fprintf(stderr, "%s", errs);
		free(errs);
		return;
	}
	p = &c->pools[0];
	CHECK(p->uid == 33 && p->gid == 33);
	CHECK(p->nenv == 2 && p->nphp == 5);
	CHECK(c->control_uid == 0);
	conf_free(c);
}

/*
 * A file cut short (a partial write) is refused where libconfuse would
 * take the end of the file for the missing '}', each unclosed block named
 * at the line where it opened, a string at the line where it started.
 * fpmd -t and a reload read the file through the same conf_load().
 */
static void
test_cut(void)
{
	expect_errors("cut/pool.conf", 0,
	    "@cut/pool.conf:3: pool www: " CUT_BLOCK);
	expect_errors("cut/env.conf", 0,
	    "@cut/env.conf:1: pool www: " CUT_BLOCK
	    "@cut/env.conf:5: pool www: env: " CUT_BLOCK);
	expect_errors("cut/php.conf", 0,
	    "@cut/php.conf:1: pool www: " CUT_BLOCK
	    "@cut/php.conf:8: pool www: php_value: " CUT_BLOCK);
	/* the next pool inside the unclosed one is no excuse */
	expect_errors("cut/nested.conf", 0,
	    "@cut/nested.conf:2: pool a: " CUT_BLOCK);
	expect_errors("cut/string.conf", 0,
	    "@cut/string.conf:12: " CUT_DQ);
	expect_errors("cut/squote.conf", 0,
	    "@cut/squote.conf:3: unterminated string: the ' opened here is "
	    "not closed before the end of the file (add the closing ', or "
	    "restore the file if it was cut short)\n");
	expect_errors("cut/comment.conf", 0,
	    "@cut/comment.conf:6: unterminated comment: the /* opened here is "
	    "not closed before the end of the file (add the closing */, or "
	    "restore the file if it was cut short)\n");
	/* in an included file: that file and line; the rest is read on */
	expect_errors("cut/inc.conf", 0,
	    "@cut/pool.conf:3: pool www: " CUT_BLOCK);
	expect_errors("cut/inc.conf", CONF_AS_ROOT | CONF_ALLOW_ROOT,
	    "@cut/pool.conf:3: pool www: " CUT_BLOCK);
	/* the whole file, with its '}', is fine */
	test_minimal();
}

static void
test_pm_name(void)
{
	CHECK_STR(conf_pm_name(PM_STATIC), "static");
	CHECK_STR(conf_pm_name(PM_DYNAMIC), "dynamic");
	CHECK_STR(conf_pm_name(PM_ONDEMAND), "ondemand");
}

/* pm.status_path, ping.path and ping.response, checked as php-fpm does. */
static void
test_status_paths(void)
{
	struct fpmd_conf	*c;

	c = load_ok("status.conf", 0);
	CHECK(c != NULL && c->npools == 3);
	if (c != NULL && c->npools == 3) {
		CHECK_STR(c->pools[0].status_path, "/status");
		CHECK_STR(c->pools[0].ping_path, "/ping");
		CHECK_STR(c->pools[0].ping_response, "pong");
		CHECK_STR(c->pools[1].status_path, "/api-status.~_1");
		CHECK(c->pools[1].ping_path == NULL);
		CHECK(c->pools[1].ping_response == NULL);
		CHECK(c->pools[2].status_path == NULL);
		CHECK_STR(c->pools[2].ping_path, "/adm/ping");
		CHECK_STR(c->pools[2].ping_response, "I am alive");
	}
	conf_free(c);
	c = load_ok("min.conf", 0);
	CHECK(c != NULL && c->pools[0].status_path == NULL &&
	    c->pools[0].ping_path == NULL && c->pools[0].ping_response == NULL);
	conf_free(c);

	expect_errors("status_errors.conf", 0,
	    "@status_errors.conf:5: pool www: pm.status_path: the status path "
	    "'status' must start with a '/'\n"
	    "@status_errors.conf:6: pool www: ping.path: the ping path '/' is "
	    "not long enough\n"
	    "@status_errors.conf:7: pool www: ping.response: the ping response "
	    "page '' is not long enough\n"
	    "@status_errors.conf:14: pool api: pm.status_path: the status path "
	    "'/fpm status' must contain only the following characters "
	    "'[alphanum]/_-.~'\n"
	    "@status_errors.conf:15: pool api: ping.path: the ping path "
	    "'/ping?x' must contain only the following characters "
	    "'[alphanum]/_-.~'\n");
}

/* slowlog and its timeouts, checked as php-fpm checks them. */
static void
test_slowlog(void)
{
	struct fpmd_conf	*c;

	c = load_ok("slowlog_ok.conf", 0);
	CHECK(c != NULL && c->npools == 2);
	if (c != NULL && c->npools == 2) {
		CHECK_STR(c->pools[0].slowlog, DIR "slow.log");
		CHECK(c->pools[0].request_slowlog_timeout == 60);
		CHECK(c->pools[0].request_slowlog_trace_depth == 5);
		CHECK_STR(c->pools[1].slowlog, "stderr");
		CHECK(c->pools[1].request_slowlog_timeout == 0);
		CHECK(c->pools[1].request_slowlog_trace_depth == 20);
	}
	conf_free(c);
	c = load_ok("min.conf", 0);
	CHECK(c != NULL && c->pools[0].slowlog == NULL &&
	    c->pools[0].request_slowlog_timeout == 0);
	conf_free(c);

	expect_errors("slowlog.conf", 0,
	    "@slowlog.conf:7: pool www: 'slowlog' must be specified for use "
	    "with 'request_slowlog_timeout'\n"
	    "@slowlog.conf:15: pool api: 'request_slowlog_timeout' (30) can't "
	    "be greater than 'request_terminate_timeout' (10)\n");
}

/* emergency_restart_*, process.priority, pm.max_memory, track_finished */
static void
test_crash_conf(void)
{
	struct fpmd_conf	*c;

	c = load_ok("crash_ok.conf", 0);
	CHECK(c != NULL && c->npools == 3);
	if (c != NULL && c->npools == 3) {
		CHECK(c->emergency_threshold == 10);
		CHECK(c->emergency_interval == 60);
		CHECK(c->process_priority == -19);
		CHECK(c->pools[0].process_priority == 20);
		CHECK(c->pools[0].max_memory == 256ULL << 20);
		CHECK(c->pools[0].terminate_track_finished);
		CHECK(c->pools[1].process_priority == FPMD_PRIORITY_UNSET);
		CHECK(c->pools[1].max_memory == 1ULL << 30);
		CHECK(!c->pools[1].terminate_track_finished);
		CHECK(c->pools[2].max_memory == 1048577);
	}
	conf_free(c);
	c = load_ok("min.conf", 0);
	CHECK(c != NULL && c->emergency_threshold == 0 &&
	    c->emergency_interval == 0 &&
	    c->process_priority == FPMD_PRIORITY_UNSET &&
	    c->pools[0].max_memory == 0 &&
	    c->pools[0].process_priority == FPMD_PRIORITY_UNSET &&
	    !c->pools[0].terminate_track_finished);
	conf_free(c);

	expect_errors("crash_bad.conf", 0,
	    "@crash_bad.conf:2: emergency_restart_threshold must be at least 0 "
	    "(got -1)\n"
	    "@crash_bad.conf:3: emergency_restart_interval: '1w' is not a "
	    "duration (seconds, or a number with s, m, h or d)\n"
	    "@crash_bad.conf:4: process.priority must be included into "
	    "[-19,20] (got 21)\n"
	    "@crash_bad.conf:10: pool www: process.priority must be included "
	    "into [-19,20] (got -20)\n"
	    "@crash_bad.conf:11: pool www: pm.max_memory: '12X' is not a size "
	    "(bytes, or a number with k, M or G: 256M)\n"
	    "@crash_bad.conf:12: pool www: "
	    "request_terminate_timeout_track_finished: 'maybe' is not yes or "
	    "no\n"
	    "@crash_bad.conf:19: pool api: pm.max_memory: '99999999999G' is "
	    "not a size (bytes, or a number with k, M or G: 256M)\n"
	    "@crash_bad.conf:20: pool api: process.priority: '1.5' is not a "
	    "whole number\n");
}

/* Every file again, many times: LSan reports a leak at exit. */
static void
test_leaks(void)
{
	static const char *const files[] = {
		"min.conf", "full.conf", "errors.conf", "listen.conf",
		"missing.conf", "nopool.conf", "empty.conf", "dup.conf",
		"dynamic.conf", "users.conf", "users_ok.conf", "pool.conf",
		"pool_ok.conf", "flags.conf", "syntax.conf",
		"unterminated.conf", "notices.conf", "rel/main.conf",
		"syslog.conf", "stderr.conf",
		"inc/main.conf", "inc/missing.conf", "inc/escape.conf",
		"depth/ok.conf",
		"depth/too.conf", "depth/loop.conf", "nothere.conf",
		"cut/pool.conf", "cut/env.conf", "cut/php.conf",
		"cut/nested.conf", "cut/string.conf", "cut/squote.conf",
		"cut/comment.conf", "cut/inc.conf", "sock/main.conf",
		"sock/env.conf", "sock/unset.conf", "sock/inpool.conf",
		"status.conf", "status_errors.conf", "slowlog.conf",
		"slowlog_ok.conf", "access.conf", "access_errors.conf",
		"logsock.conf",
	};
	struct fpmd_conf	*c;
	char			*errs, *s, *f;
	size_t			 i;
	int			 round, flags, rc;

	log_begin();
	for (round = 0; round < 3; round++) {
		flags = round == 0 ? 0 : round == 1 ? CONF_AS_ROOT :
		    CONF_AS_ROOT | CONF_ALLOW_ROOT;
		for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			c = load(files[i], flags, &errs);
			CHECK((c == NULL) != (errs == NULL));
			conf_free(c);
			free(errs);
			rc = confsock_read(subst_path(files[i]), &s, &f, &errs);
			CHECK((rc == -1) == (errs != NULL));
			free(s);
			free(f);
			free(errs);
		}
	}
	log_end();
}

/* error_log = syslog and the other options of t/logsock.bats. */
static void
test_logsock(void)
{
	struct fpmd_conf	*c;

	if ((c = load_ok("syslog.conf", 0)) != NULL) {
		CHECK(c->log_syslog);
		CHECK_STR(c->error_log, "syslog");
		CHECK(c->syslog_ident == NULL);
		CHECK(c->syslog_facility == LOG_DAEMON);
		CHECK(c->log_limit == 1024);
		CHECK(c->log_buffering);
		CHECK(c->status_socket == NULL);
		CHECK(c->pools[0].nacl_uids == 0);
	}
	conf_free(c);
	if ((c = load_ok("logsock.conf", 0)) != NULL) {
		CHECK(c->log_syslog);
		CHECK_STR(c->syslog_ident, "my-fpmd");
		CHECK(c->syslog_facility == LOG_LOCAL5);
		CHECK(c->log_limit == 4096);
		CHECK(!c->log_buffering);
		CHECK(c->status_mode == 0666);
		CHECK(c->status_uid == 0 && c->status_gid == 0);
		CHECK(c->status_socket != NULL && c->status_socket[0] == '/');
		CHECK(c->pools[0].nacl_uids == 2 &&
		    c->pools[0].acl_uids[1] == 0);
		CHECK(c->pools[0].nacl_gids == 1);
	}
	conf_free(c);
}

int
main(void)
{
	test_minimal();
	test_full();
	test_errors();
	test_listen_conf();
	test_missing();
	test_dup();
	test_dynamic();
	test_users();
	test_pool_subst();
	test_flags();
	test_syntax();
	test_relative();
	test_includes();
	test_listen_parse();
	test_bundled();
	test_cut();
	test_walk();
	test_lex();
	test_confsock();
	test_pm_name();
	test_status_paths();
	test_slowlog();
	test_access();
	test_access_format();
	test_logsock();
	test_crash_conf();
	test_leaks();
	test_migrate();
	return unit_done("test_config");
}
