/*
 * libFuzzer target for the configuration reader (daemon/conf*.c): the
 * input is the text of fpmd.conf.  conf_load() reads a file, so the input is
 * written to fuzz.conf in a directory of this process's own under /tmp,
 * which also holds a few files for the input to include.  Each input is
 * loaded twice around a known good file: the second load must say exactly
 * what the first said, and the good file must load as always, since the
 * lexer underneath libconfuse keeps global state from one load to the next.
 * A result that loads is checked for what the rest of fpmd takes for
 * granted (a pool, names that fit the scoreboard, clean absolute paths,
 * spare servers in order); a refusal must name at least one problem, one
 * line each.  fpmctl's reader (ctl/confsock.c) reads the input too: where
 * fpmd accepts it, fpmctl must find the same control.socket; where fpmctl
 * cannot read it, fpmd must refuse it.
 *
 * The reader may open, glob and resolve whatever the text names.  So that a
 * run neither reads /dev/zero nor waits on DNS nor depends on the machine's
 * files, the fuzz rule links the readers with --wrap: open() and glob() only
 * see the sandbox (anything else is ENOENT or no match) and getaddrinfo()
 * resolves numbers and "localhost" only.  Build with `make fuzz`; seeds are
 * in t/data/fuzz-config/.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fpmctl.h"
#include "fpmd.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int	__real_open(const char *, int, ...);
int	__wrap_open(const char *, int, ...);
int	__real_glob(const char *, int, int (*)(const char *, int), glob_t *);
int	__wrap_glob(const char *, int, int (*)(const char *, int), glob_t *);
int	__real_getaddrinfo(const char *, const char *,
	    const struct addrinfo *, struct addrinfo **);
int	__wrap_getaddrinfo(const char *, const char *,
	    const struct addrinfo *, struct addrinfo **);

static char	 dir[64];		/* the sandbox, no trailing slash */
static char	 input[96];		/* dir/fuzz.conf */
static char	 ref[96];		/* dir/ref.conf */

/* What the input may include; the names are the seeds'. */
static const struct {
	const char	*name;
	const char	*text;		/* NULL: a directory */
} files[] = {
	{ "php.ini", "memory_limit = 64M\n" },
	{ "conf.d", NULL },
	{ "conf.d/a.conf", "log_level = warning\npool a {\n    listen = 9001\n"
	    "    pm = static\n    pm.max_children = 1\n}\n" },
	{ "conf.d/b.conf", "pool b {\n    listen = \"b.sock\"\n    pm = static\n"
	    "    pm.max_children = 1\n    env { B = \"$pool\" }\n}\n" },
	{ "conf.d/dir.conf", NULL },
	{ "sub", NULL },
	{ "sub/pool.conf", "php_ini_scan_dir = \"conf.d\"\npool www {\n"
	    "    listen = \"www.sock\"\n    pm = static\n"
	    "    pm.max_children = 1\n    chdir = \".\"\n}\n" },
	{ "c1.conf", "include \"c2.conf\"\n" },
	{ "c2.conf", "# chain link\ninclude \"c3.conf\"\n" },
	{ "c3.conf", "log_level = debug\n" },
	{ "loop.conf", "include = \"loop.conf\"\n" },
	{ "escape_bad.conf", "pool x {\n    listen = \"/tmp/a\\9.sock\"\n}\n" },
	{ "ref.conf", "log_level = error\nphp_ini = php.ini\n"
	    "include = \"conf.d/*.conf\"\n"
	    "pool ref {\n    listen = \"127.0.0.1:9000\"\n    pm = dynamic\n"
	    "    pm.max_children = 4\n    pm.min_spare_servers = 1\n"
	    "    pm.max_spare_servers = 3\n"
	    "    php_flag { display_errors = on }\n}\n" },
};

static void
fuzz_cleanup(void)
{
	char	 path[PATH_MAX];
	size_t	 i;

	unlink(input);
	for (i = sizeof(files) / sizeof(files[0]); i-- > 0; ) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
		if (files[i].text == NULL)
			rmdir(path);
		else
			unlink(path);
	}
	rmdir(dir);
}

static void
fuzz_write(const char *path, const void *data, size_t len)
{
	int	 fd;

	if ((fd = __real_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1 || write(fd, data, len) != (ssize_t)len ||
	    close(fd) == -1) {
		perror(path);
		abort();
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 path[PATH_MAX];
	size_t	 i;
	int	 fd;

	snprintf(dir, sizeof(dir), "/tmp/fpmd-fuzz-config.%ld", (long)getpid());
	snprintf(input, sizeof(input), "%s/fuzz.conf", dir);
	snprintf(ref, sizeof(ref), "%s/ref.conf", dir);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		perror(dir);
		abort();
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
		if (files[i].text == NULL) {
			if (mkdir(path, 0700) == -1 && errno != EEXIST) {
				perror(path);
				abort();
			}
		} else
			fuzz_write(path, files[i].text, strlen(files[i].text));
	}
	atexit(fuzz_cleanup);
	if ((fd = __real_open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1)
		abort();
	log_init(LOG_LVL_ALERT, fd);
	return 0;
}

/*
 * Is path inside the sandbox?  The input is loaded by its absolute name, so
 * every name the readers open or glob is absolute too.
 */
static int
fuzz_inside(const char *path)
{
	size_t	 dl = strlen(dir);

	if (strstr(path, "..") != NULL)
		return 0;
	return strncmp(path, dir, dl) == 0 && (path[dl] == '/' ||
	    path[dl] == '\0');
}

int
__wrap_open(const char *path, int flags, ...)
{
	va_list	 ap;
	mode_t	 mode = 0;

	if (flags & O_CREAT) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (!fuzz_inside(path)) {
		errno = ENOENT;
		return -1;
	}
	return __real_open(path, flags, mode);
}

int
__wrap_glob(const char *pattern, int flags,
    int (*errfunc)(const char *, int), glob_t *g)
{
	if (!fuzz_inside(pattern))
		return GLOB_NOMATCH;
	return __real_glob(pattern, flags, errfunc, g);
}

int
__wrap_getaddrinfo(const char *host, const char *serv,
    const struct addrinfo *hints, struct addrinfo **res)
{
	struct addrinfo	 h;

	if (host != NULL && strcmp(host, "localhost") == 0)
		return __real_getaddrinfo(host, serv, hints, res);
	h = *hints;
	h.ai_flags |= AI_NUMERICHOST;
	return __real_getaddrinfo(host, serv, &h, res);
}

/* Absolute, no empty, "." or ".." step, no trailing slash but in "/". */
static void
fuzz_check_path(const char *p)
{
	if (p == NULL)
		return;
	if (p[0] != '/' || strstr(p, "//") != NULL ||
	    strstr(p, "/./") != NULL || strstr(p, "/../") != NULL)
		abort();
	if (strcmp(p, "/") != 0 && (p[strlen(p) - 1] == '/' ||
	    (strlen(p) >= 2 && strcmp(p + strlen(p) - 2, "/.") == 0) ||
	    (strlen(p) >= 3 && strcmp(p + strlen(p) - 3, "/..") == 0)))
		abort();
}

static void
fuzz_check_pool(const struct pool_conf *pc)
{
	const char	*s;
	size_t		 i;

	if (pc->name == NULL || pc->name[0] == '\0' || strlen(pc->name) > 31 ||
	    pc->file == NULL || pc->line < 1)
		abort();
	for (s = pc->name; *s != '\0'; s++)
		if (strchr("0123456789._-abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ", *s) == NULL)
			abort();
	if (pc->listen == NULL || pc->max_children < 1 ||
	    pc->max_spawn_rate < 1 || pc->listen_backlog < -1 ||
	    pc->listen_mode < 0 || pc->listen_mode > 0777 ||
	    pc->rlimit_core < -2 || pc->rlimit_files < -1 ||
	    pc->request_terminate_timeout < 0 || pc->max_requests < 0)
		abort();
	if (strnlen(pc->addr.text, sizeof(pc->addr.text)) == 0 ||
	    strnlen(pc->addr.text, sizeof(pc->addr.text)) ==
	    sizeof(pc->addr.text))
		abort();
	switch (pc->addr.family) {
	case AF_UNIX:
		fuzz_check_path(pc->listen);
		if (strcmp(pc->listen, pc->addr.text) != 0 ||
		    strlen(pc->listen) >= sizeof(((struct sockaddr_un *)0)->
		    sun_path))
			abort();
		break;
	case AF_INET:
	case AF_INET6:
	case AF_UNSPEC:
		if (pc->addr.sslen == 0 ||
		    pc->addr.sslen > sizeof(pc->addr.ss))
			abort();
		break;
	default:
		abort();
	}
	switch (pc->pm) {
	case PM_STATIC:
		break;
	case PM_DYNAMIC:
		if (pc->min_spare_servers < 1 ||
		    pc->min_spare_servers > pc->max_spare_servers ||
		    pc->max_spare_servers > pc->max_children ||
		    pc->start_servers < pc->min_spare_servers ||
		    pc->start_servers > pc->max_spare_servers)
			abort();
		break;
	case PM_ONDEMAND:
		if (pc->process_idle_timeout < 1)
			abort();
		break;
	default:
		abort();
	}
	fuzz_check_path(pc->chdir);
	fuzz_check_path(pc->chroot);
	fuzz_check_path(pc->php_ini);
	fuzz_check_path(pc->php_ini_scan_dir);
	for (i = 0; i < pc->nenv; i++)
		if (pc->env[i].key == NULL || pc->env[i].value == NULL ||
		    pc->env[i].value[0] == '\0')
			abort();
	for (i = 0; i < pc->nphp; i++) {
		if (pc->php[i].name == NULL || pc->php[i].value == NULL)
			abort();
		if (pc->php[i].flag && strcmp(pc->php[i].value, "0") != 0 &&
		    strcmp(pc->php[i].value, "1") != 0)
			abort();
	}
	for (i = 0; i < pc->nlimit_extensions; i++)
		if (pc->limit_extensions[i] == NULL ||
		    pc->limit_extensions[i][0] == '\0')
			abort();
}

/* Valid UTF-8, as jansson wants it, with no control character but '\n'. */
static int
fuzz_utf8(const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	unsigned int	 v;
	size_t		 n, i;

	while (*s != '\0') {
		if (*s < 0x80) {
			if ((*s < 0x20 && *s != '\n') || *s == 0x7f)
				return 0;
			s++;
			continue;
		}
		if (*s >= 0xc2 && *s <= 0xdf)
			n = 2;
		else if (*s >= 0xe0 && *s <= 0xef)
			n = 3;
		else if (*s >= 0xf0 && *s <= 0xf4)
			n = 4;
		else
			return 0;
		v = *s & (0x7f >> n);
		for (i = 1; i < n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			v = v << 6 | (s[i] & 0x3f);
		}
		if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) ||
		    v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
			return 0;
		s += n;
	}
	return 1;
}

static void
fuzz_check(const struct fpmd_conf *conf, const char *errs)
{
	const char	*l, *nl;
	size_t		 i, j;

	if ((conf == NULL) == (errs == NULL))
		abort();
	if (conf == NULL) {
		/*
		 * One problem a line, and each names its file: the control
		 * socket sends each line as a JSON string of its own.
		 */
		if (errs[0] == '\0' || errs[strlen(errs) - 1] != '\n' ||
		    !fuzz_utf8(errs))
			abort();
		for (l = errs; *l != '\0'; l = nl + 1) {
			nl = strchr(l, '\n');
			if (strncmp(l, dir, strlen(dir)) != 0 ||
			    l[strlen(dir)] != '/')
				abort();
		}
		return;
	}
	if (conf->npools == 0 || conf->pools == NULL)
		abort();
	fuzz_check_path(conf->file);
	fuzz_check_path(conf->error_log);
	fuzz_check_path(conf->php_ini);
	fuzz_check_path(conf->php_ini_scan_dir);
	fuzz_check_path(conf->control_socket);
	if (conf->log_level > LOG_LVL_ALERT || conf->control_mode < 0 ||
	    conf->control_mode > 0777 || conf->process_max < 0)
		abort();
	for (i = 0; i < conf->npools; i++) {
		fuzz_check_pool(&conf->pools[i]);
		for (j = 0; j < i; j++) {
			if (strcmp(conf->pools[i].name, conf->pools[j].name)
			    == 0)
				abort();
			if (conf->pools[i].addr.family == AF_UNIX &&
			    strcmp(conf->pools[i].addr.text,
			    conf->pools[j].addr.text) == 0)
				abort();
		}
	}
}

/* The known good file loads the same whatever came before it. */
static void
fuzz_ref(void)
{
	struct fpmd_conf	*conf;
	char			*errs;

	conf = conf_load(ref, 0, &errs);
	if (conf == NULL) {
		fprintf(stderr, "ref.conf no longer loads:\n%s", errs);
		abort();
	}
	if (conf->npools != 3 || strcmp(conf->pools[2].name, "ref") != 0 ||
	    conf->log_level != LOG_LVL_WARNING ||
	    conf->pools[2].pm != PM_DYNAMIC ||
	    conf->pools[2].start_servers != 2 || conf->pools[2].nphp != 1 ||
	    strcmp(conf->pools[1].env[0].value, "b") != 0)
		abort();
	conf_free(conf);
}

/* fpmctl's reader agrees with fpmd's on conf (NULL: refused). */
static void
fuzz_confsock(const struct fpmd_conf *conf)
{
	char	*sock, *file, *errs;
	int	 rc;

	rc = confsock_read(input, &sock, &file, &errs);
	if ((rc == -1) != (errs != NULL) || (rc == -1 && conf != NULL)) {
		fprintf(stderr, "fpmctl cannot read what fpmd accepts:\n%s",
		    errs);
		abort();
	}
	if (rc == 0 && conf != NULL && (strcmp(file, conf->file) != 0 ||
	    (sock == NULL) != (conf->control_socket == NULL) ||
	    (sock != NULL && strcmp(sock, conf->control_socket) != 0))) {
		fprintf(stderr, "fpmctl finds %s, fpmd %s\n",
		    sock != NULL ? sock : "(none)",
		    conf->control_socket != NULL ? conf->control_socket :
		    "(none)");
		abort();
	}
	free(sock);
	free(file);
	free(errs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fpmd_conf	*conf, *again;
	char			*errs, *errs2;
	int			 flags;

	fuzz_write(input, data, size);
	/* The input's length picks the flags: the text stays a plain file. */
	flags = size & (CONF_ALLOW_ROOT | CONF_AS_ROOT);

	conf = conf_load(input, flags, &errs);
	fuzz_check(conf, errs);
	fuzz_confsock(conf);
	fuzz_ref();
	again = conf_load(input, flags, &errs2);
	fuzz_check(again, errs2);
	if ((conf == NULL) != (again == NULL) ||
	    (errs != NULL && strcmp(errs, errs2) != 0)) {
		fprintf(stderr, "first load:\n%s\nsecond load:\n%s\n",
		    errs != NULL ? errs : "(loaded)\n",
		    errs2 != NULL ? errs2 : "(loaded)\n");
		abort();
	}
	conf_free(conf);
	conf_free(again);
	free(errs);
	free(errs2);
	return 0;
}
