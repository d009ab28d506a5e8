/*
 * fpmctl's reader of the configuration (ctl/confsock.c), which finds
 * control.socket without linking the daemon's reader, and the text layer
 * it shares with fpmd (common/conflex.c): the walk over a file's tokens,
 * the tokens themselves as libconfuse makes them, and both readers held
 * against each other on every file of the test data.
 */
#include <sys/stat.h>

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conflex.h"
#include "fpmctl.h"
#include "fpmd.h"
#include "unit.h"
#include "test_config.h"

struct walk_log {
	char	 text[4096];
};

static void
walk_log_add(struct walk_log *wl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
walk_log_add(struct walk_log *wl, const char *fmt, ...)
{
	size_t	 n = strlen(wl->text);
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(wl->text + n, sizeof(wl->text) - n, fmt, ap);
	va_end(ap);
}

static int
walk_assign(void *arg, int depth, const char *name, const char *value,
    bool append, int line)
{
	walk_log_add(arg, "%d:%d %s %s %s\n", line, depth, name,
	    append ? "+=" : "=", value);
	return 0;
}

static void
walk_problem(void *arg, enum conflex_problem kind, int line,
    const char *pool, const char *msg)
{
	walk_log_add(arg, "%d: %s%s%s%s\n", line, kind == CLP_CUT ? "cut " :
	    kind == CLP_LEXER ? "lexer " : "syntax ", pool != NULL ? pool : "",
	    pool != NULL ? ": " : "", msg);
}

static void
expect_walk(const char *text, int rc, const char *want)
{
	struct walk_log		 wl;
	struct conflex_walk	 w = { walk_assign, walk_problem, &wl };
	int			 got;

	wl.text[0] = '\0';
	got = conflex_walk(text, strlen(text), &w);
	CHECK(got == rc);
	CHECK_STR(wl.text, want);
}

/* The walk itself, as fpmctl's reader sees it. */
void
test_walk(void)
{
	char	 deep[64];

	expect_walk("a = 1\npool www {\n b += 2\n env {\n  X = \"y\"\n", 1,
	    "1:0 a = 1\n3:1 b += 2\n5:2 X = y\n"
	    "2: cut www: " CUT_BLOCK "4: cut www: env: " CUT_BLOCK);
	expect_walk("pool x { a = b }\n}\n", 1,
	    "1:1 a = b\n2: syntax '}' closes no section\n");
	expect_walk("a b c {\n}\n", 1, "1: syntax missing '=' after 'a'\n");
	expect_walk("a b {\n} c", 1, "2: syntax the file ends after 'c'\n");
	expect_walk("a = {\n x\n", 1,
	    "1: syntax 'a' takes a value, not a list\n"
	    "1: cut a: the list opened here is not closed by '}' before the "
	    "end of the file (add the '}', or restore the file if it was cut "
	    "short)\n");
	expect_walk("= {", 1, "1: syntax unexpected '='\n"
	    "1: cut the '{' opened here is not closed by '}' before the end "
	    "of the file (add the '}', or restore the file if it was cut "
	    "short)\n");
	expect_walk("a = \"\\9\"\npool x {\n", 1,
	    "1: lexer bad escape sequence '\\9'\n");
	expect_walk("a = \"x\n\n", 1, "1: cut " CUT_DQ);
	/* a pool is a pool only at the top */
	expect_walk("pool a {\n pool b {\n", 1,
	    "1: cut a: " CUT_BLOCK "2: cut a: pool b: " CUT_BLOCK);
	/* ten blocks open: eight told, then one line for the rest */
	snprintf(deep, sizeof(deep), "%s", "a{\nb{\nc{\nd{\ne{\nf{\ng{\nh{\n"
	    "i{\nj{\n");
	expect_walk(deep, 1,
	    "1: cut a: " CUT_BLOCK "2: cut b: " CUT_BLOCK "3: cut c: " CUT_BLOCK
	    "4: cut d: " CUT_BLOCK "5: cut e: " CUT_BLOCK "6: cut f: " CUT_BLOCK
	    "7: cut g: " CUT_BLOCK "8: cut h: " CUT_BLOCK
	    "9: cut and 2 more sections opened from here on are not closed "
	    "either\n");
	expect_walk("", 0, "");
	expect_walk("pool www {\n listen = 9000\n}\n", 0,
	    "2:1 listen = 9000\n");
}

/* Tokens as libconfuse 3.3 makes them (fuzz_conflex checks it at large). */
void
test_lex(void)
{
	static const struct {
		const char	*in;
		const char	*out;	/* the STR tokens, '|' after each */
	} cases[] = {
		{ "a=b", "a|b|" },
		{ "x//y /x/y a/*b*/c", "x//y|/x/y|a/|b|/c|" },
		{ "a // comment\nb # too\nc", "a|b|c|" },
		{ "\"\\x41\\101\\n\\q\"", "AA\n" "q|" },
		{ "'a\\'b\\\\c\\d'", "a'b\\c\\d|" },
		{ "\"a${FPMD_LEX}b\" ${FPMD_LEX}", "axb|x|" },
		{ "\"${NOPE_FPMD:-d}\" ${NOPE_FPMD}", "d||" },
		{ "a${FPMD_LEX}", "a$|FPMD_LEX|" },
		{ "\"line\\\ncont\"", "linecont|" },
		{ "a+b*c\r\n", "a|b|c|" },
	};
	struct conflex	 lx;
	enum conflex_tok t;
	char		 got[256];
	size_t		 i, n;
	int		 line;

	setenv("FPMD_LEX", "x", 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got[0] = '\0';
		conflex_init(&lx, cases[i].in, strlen(cases[i].in));
		while ((t = conflex_next(&lx, &line)) != CLX_EOF &&
		    t != CLX_ERROR && t != CLX_CUT) {
			if (t != CLX_STR)
				continue;
			n = strlen(got);
			snprintf(got + n, sizeof(got) - n, "%s|", lx.lx_val);
		}
		CHECK(t == CLX_EOF);
		CHECK_STR(got, cases[i].out);
		conflex_free(&lx);
	}
	conflex_init(&lx, "\"\\0123\"", 7);
	CHECK(conflex_next(&lx, &line) == CLX_ERROR);
	CHECK_STR(lx.lx_msg, "bad escape sequence '\\0123'");
	conflex_free(&lx);
	conflex_init(&lx, "\"\\777\"", 6);
	CHECK(conflex_next(&lx, &line) == CLX_ERROR);
	CHECK_STR(lx.lx_msg, "invalid octal number '\\777'");
	conflex_free(&lx);
	conflex_init(&lx, "a\n'b\nc", 6);
	CHECK(conflex_next(&lx, &line) == CLX_STR && line == 1);
	CHECK(conflex_next(&lx, &line) == CLX_CUT && line == 2);
	conflex_free(&lx);
}

static void
expect_sock(const char *name, const char *sock, const char *file)
{
	char	 path[1024], *s, *f, *errs;
	int	 rc;

	snprintf(path, sizeof(path), "%s%s", DIR, name);
	rc = confsock_read(path, &s, &f, &errs);
	CHECK(rc == 0);
	if (rc == -1) {
		fprintf(stderr, "%s: %s", name, errs);
		free(errs);
		return;
	}
	if (sock == NULL)
		CHECK(s == NULL);
	else
		CHECK_STR(s, sock);
	CHECK_STR(f, file);
	free(s);
	free(f);
}

static void
expect_sock_errors(const char *name, const char *expected)
{
	char	 path[1024], *s, *f, *errs, *want = subst(expected);

	snprintf(path, sizeof(path), "%s%s", DIR, name);
	CHECK(confsock_read(path, &s, &f, &errs) == -1);
	CHECK(s == NULL && f == NULL);
	CHECK_STR(errs, want);
	free(errs);
	free(want);
}

static int	agree_checked;

/*
 * fpmctl's reader against the daemon's, on one file: where fpmd accepts
 * the file, the same control.socket and the same absolute path; where
 * fpmctl cannot read it, fpmd refuses it too.
 */
static int
agree_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	static const int	 flags[] = {
		0, CONF_AS_ROOT | CONF_ALLOW_ROOT
	};
	struct fpmd_conf	*c;
	char			*errs, *s, *f, *cerrs;
	size_t			 i, len = strlen(path);
	int			 rc;

	(void)st;
	(void)ftw;
	if (type != FTW_F || len < 5 || strcmp(path + len - 5, ".conf") != 0)
		return 0;
	log_begin();
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		c = conf_load(path, flags[i], &errs);
		rc = confsock_read(path, &s, &f, &cerrs);
		if (c != NULL) {
			CHECK(rc == 0);
			if (rc == 0) {
				CHECK_STR(f, c->file);
				CHECK((s == NULL) == (c->control_socket ==
				    NULL));
				if (s != NULL && c->control_socket != NULL)
					CHECK_STR(s, c->control_socket);
			}
		}
		if (rc == -1)
			CHECK(c == NULL);
		/* cut short: both say the same, in the same words */
		if (c == NULL && rc == -1 && strstr(path, "/cut/") != NULL)
			CHECK_STR(cerrs, errs);
		if (c == NULL && rc == 0 && strstr(path, "/cut/") != NULL)
			CHECK(0);
		agree_checked++;
		conf_free(c);
		free(errs);
		free(s);
		free(f);
		free(cerrs);
	}
	log_end();
	return 0;
}

void
test_confsock(void)
{
	char	*errs;

	setenv("FPMD_TEST_RUN", DIR "sock", 1);
	expect_sock("min.conf", NULL, DIR "min.conf");
	expect_sock("rel/main.conf", DIR "rel/control.sock",
	    DIR "rel/main.conf");
	/* the included file's setting comes later, relative to that file */
	expect_sock("sock/main.conf", DIR "sock/run/control.sock",
	    DIR "sock/main.conf");
	expect_sock("sock/env.conf", DIR "sock/ctl.sock", DIR "sock/env.conf");
	expect_sock("sock/unset.conf", NULL, DIR "sock/unset.conf");
	expect_sock("sock/inpool.conf", NULL, DIR "sock/inpool.conf");
	expect_sock("full.conf", "/run/fpmd/control.sock", DIR "full.conf");
	/* wrong values and unknown users are fpmd's business, not fpmctl's */
	expect_sock("errors.conf", NULL, DIR "errors.conf");
	expect_sock("users.conf", NULL, DIR "users.conf");

	expect_sock_errors("does-not-exist.conf",
	    "@does-not-exist.conf: cannot read: No such file or directory\n");
	expect_sock_errors("cut/env.conf",
	    "@cut/env.conf:1: pool www: " CUT_BLOCK
	    "@cut/env.conf:5: pool www: env: " CUT_BLOCK);
	expect_sock_errors("inc/missing.conf",
	    "@inc/missing.conf:1: include '@inc/nothere.conf': No such file "
	    "or directory\n");
	expect_sock_errors("depth/loop.conf",
	    "@depth/loop.conf:2: include '@depth/loop.conf': an include loop "
	    "(@depth/loop.conf is being read)\n");
	expect_sock_errors("syntax.conf",
	    "@syntax.conf:5: pool www: missing '=' after 'pm.max_children'\n");
	expect_sock_errors("inc/escape.conf",
	    "@inc/escape_bad.conf:2: pool x: bad escape sequence '\\9'\n");

	/* and every file of the test data, with both readers */
	agree_checked = 0;
	CHECK(nftw(TEST_DATA "/conf", agree_one, 16, FTW_PHYS) == 0);
	CHECK(agree_checked >= 2 * 40);
	(void)errs;
}
