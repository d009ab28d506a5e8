/*
 * access.log, access.format and access.suppress_path: the options as the
 * reader takes them, and the format language (daemon/accessfmt.c) against
 * what php-fpm 8.2 accepts and refuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fpmd.h"
#include "unit.h"
#include "test_config.h"

/* access.log, access.format and access.suppress_path. */
void
test_access(void)
{
	struct fpmd_conf	*c;
	const struct pool_conf	*p;

	c = load_ok("access.conf", 0);
	CHECK(c != NULL && c->npools == 3);
	if (c != NULL && c->npools == 3) {
		p = &c->pools[0];
		CHECK_STR(p->access_log, "/var/log/www.access");
		CHECK_STR(p->access_format, "%R - %u %t \"%m %r%Q%q\" %s "
		    "%{mili}d %{kilo}M %C%%");
		CHECK(p->naccess_suppress == 3);
		if (p->naccess_suppress == 3) {
			CHECK_STR(p->access_suppress[0], "/ping");
			CHECK_STR(p->access_suppress[1], "/health");
			CHECK_STR(p->access_suppress[2], "/status");
		}
		p = &c->pools[1];
		CHECK_STR(p->access_log, "stderr");
		CHECK_STR(p->access_format, "json %{HTTP_HOST}e "
		    "%{Content-Type}o");
		CHECK(p->naccess_suppress == 0);
		p = &c->pools[2];
		CHECK_STR(p->access_log, TEST_DATA "/conf/adm.access");
		CHECK(p->access_format == NULL);
	}
	conf_free(c);
	expect_errors("access_errors.conf", 0,
	    "@access_errors.conf:7: pool www: access.suppress_path: 'health' "
	    "must begin with '/' (a path as the request URI has it, e.g. "
	    "/ping)\n"
	    "@access_errors.conf:15: pool api: unknown option "
	    "'access.suppress_path[]' (write access.suppress_path = "
	    "\"/ping /health\": one line, the paths separated by spaces)\n"
	    "@access_errors.conf:6: pool www: Invalid token in the "
	    "access.format (%z): the codes are %% %C %d %e %f %l %m %M %n %o "
	    "%p %P %q %Q %r %R %s %t %T %u; write %% for a literal '%'\n"
	    "@access_errors.conf:14: pool api: missing closing embrace in the "
	    "access.format: '%{HTTP_HOST' must end with '}' and a code "
	    "letter, e.g. %{HTTP_HOST}e\n");
}

/*
 * The format language: what php-fpm 8.2 accepts is accepted with the same
 * items, what it refuses is refused (and two mistakes it lets by).
 */
void
test_access_format(void)
{
	static const struct {
		const char	*fmt;
		const char	*err;	/* NULL: valid; else its start */
	} cases[] = {
		{ "", NULL },
		{ "plain text", NULL },
		{ "%%", NULL },
		{ "%C %{user}C %{SYSTEM}C %{Total}C", NULL },
		{ "%d %{seconds}d %{mili}d %{milli}d %{miliseconds}d "
		    "%{milliseconds}d %{micro}d %{MICROSECONDS}d", NULL },
		{ "%M %{bytes}M %{kilo}M %{kilobytes}M %{mega}M "
		    "%{megabytes}M", NULL },
		{ "%{HTTP_HOST}e %f %l %m %n %{Location}o %p %P %q %Q %r %R "
		    "%s %t %{%s}t %T %{%Y}T %u", NULL },
		{ "%{}t %{}m %{}C", NULL },	/* empty braces: none */
		{ "json", NULL },
		{ "json %{HTTP_HOST}e  %{X-A}o", NULL },
		{ "jsonish %m", NULL },		/* not the keyword */
		{ "%z", "Invalid token in the access.format (%z)" },
		{ "%\x01", "Invalid token in the access.format (byte 0x01" },
		{ "%{x}m", "embrace is not allowed for modifier %m" },
		{ "%{x}%", "embrace is not allowed for modifier %%" },
		{ "%e", "the name of the environment variable" },
		{ "%{}e", "the name of the environment variable" },
		{ "%o", "the name of the header" },
		{ "%{abc", "missing closing embrace" },
		{ "x %{abc}", "missing closing embrace" },
		{ "%{a}{b}e", "'%{a}{' in the access.format has two" },
		{ "%{foo}C", "only 'total', 'user' or 'system'" },
		{ "%{hours}d", "only 'seconds', 'milli'" },
		{ "%{giga}M", "only 'bytes', 'kilo'" },
		{ "50%", "the access.format ends with a lone '%'" },
		{ "json %m", "after 'json', the access.format takes only" },
		{ "json x", "after 'json', the access.format takes only" },
	};
	struct acc_fmt	 f;
	char		 err[512], *big;
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		rc = accfmt_parse(cases[i].fmt, &f, err, sizeof(err));
		if (cases[i].err == NULL) {
			CHECK(rc == 0);
			if (rc != 0)
				fprintf(stderr, "  '%s': %s\n", cases[i].fmt,
				    err);
			accfmt_free(&f);
			continue;
		}
		CHECK(rc == -1 && f.items == NULL && f.n == 0);
		CHECK(strncmp(err, cases[i].err, strlen(cases[i].err)) == 0);
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			fprintf(stderr, "  '%s': %s\n", cases[i].fmt, err);
		/* the same answer when only checking */
		CHECK(accfmt_parse(cases[i].fmt, NULL, err, sizeof(err)) ==
		    -1);
	}

	/* items: literal text, codes, modifiers, arguments */
	CHECK(accfmt_parse("a %{micro}d%%%{X-A}o%{%H}t%{}C", &f, err,
	    sizeof(err)) == 0);
	CHECK(f.n == 6 && !f.json && f.cpu && f.headers);
	if (f.n == 6) {
		CHECK(f.items[0].code == 0 && f.items[0].len == 2 &&
		    memcmp(f.items[0].arg, "a ", 2) == 0);
		CHECK(f.items[1].code == 'd' && f.items[1].mod == ACC_USEC &&
		    f.items[1].arg == NULL);
		CHECK(f.items[2].code == '%');
		CHECK(f.items[3].code == 'o');
		CHECK_STR(f.items[3].arg, "X-A");
		CHECK(f.items[4].code == 't');
		CHECK_STR(f.items[4].arg, "%H");
		CHECK(f.items[5].code == 'C' &&
		    f.items[5].mod == ACC_CPU_TOTAL);
	}
	accfmt_free(&f);
	CHECK(accfmt_parse("json %{A}e %{B}o", &f, err, sizeof(err)) == 0);
	CHECK(f.json && f.cpu && f.headers && f.n == 2);
	accfmt_free(&f);

	/* bounded */
	if ((big = malloc(ACC_FMT_MAX + 2)) == NULL)
		abort();
	memset(big, 'x', ACC_FMT_MAX + 1);
	big[ACC_FMT_MAX + 1] = '\0';
	CHECK(accfmt_parse(big, &f, err, sizeof(err)) == -1);
	big[ACC_FMT_MAX] = '\0';
	CHECK(accfmt_parse(big, &f, err, sizeof(err)) == 0);
	accfmt_free(&f);
	free(big);
}
