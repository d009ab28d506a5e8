/*
 * Migrating from php-fpm: a php-fpm file given to fpmd is told for what it
 * is, with the fpmctl import-php-fpm line that converts it; php-fpm's
 * syntax inside an fpmd file is told line by line; a misspelt option gets
 * the nearest one; fpmd -t checks a unix socket's directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conflex.h"
#include "fpmctl.h"
#include "fpmd.h"
#include "unit.h"
#include "test_config.h"

/* A php-fpm file, whole: one line, pointing to the importer. */
static void
test_migrate_ini(void)
{
	struct fpmd_conf	*c;
	char			*s, *f, *errs, *want;
	int			 rc;

	expect_errors("migrate/ini.conf", 0,
	    "@migrate/ini.conf:3: this is a php-fpm configuration (INI: "
	    "'[global]', ';' comments), not fpmd's: convert it with fpmctl "
	    "import-php-fpm @migrate/ini.conf -o fpmd.conf\n");
	expect_errors("migrate/pool.conf", 0,
	    "@migrate/pool.conf:1: this is a php-fpm configuration (INI: "
	    "'[www]'), not fpmd's: convert it with fpmctl import-php-fpm "
	    "@migrate/pool.conf -o fpmd.conf\n");
	/* included from an fpmd file: said of the included file */
	expect_errors("migrate/inc.conf", 0,
	    "@migrate/pool.conf:1: this is a php-fpm configuration (INI: "
	    "'[www]'), not fpmd's: convert it with fpmctl import-php-fpm "
	    "@migrate/pool.conf -o fpmd.conf\n");
	/* fpmctl reads the files the same way and says the same */
	rc = confsock_read(subst_path("migrate/ini.conf"), &s, &f, &errs);
	CHECK(rc == -1);
	want = subst("@migrate/ini.conf:3: this is a php-fpm configuration "
	    "(INI: '[global]', ';' comments), not fpmd's: convert it with "
	    "fpmctl import-php-fpm @migrate/ini.conf -o fpmd.conf\n");
	CHECK_STR(errs, want);
	free(want);
	free(errs);
	/* the real thing, if php8.2-fpm is installed here */
	if (access("/etc/php/8.2/fpm/php-fpm.conf", R_OK) == 0) {
		c = conf_load("/etc/php/8.2/fpm/php-fpm.conf", 0, &errs);
		CHECK(c == NULL);
		CHECK(errs != NULL && strstr(errs, "this is a php-fpm "
		    "configuration (INI: '[global]', ';' comments)") != NULL);
		free(errs);
	}
}

/* php-fpm's syntax here and there in an fpmd file: each line told. */
static void
test_migrate_mixed(void)
{
	expect_errors("migrate/mixed.conf", 0,
	    "@migrate/mixed.conf:3: '[global]' is php-fpm's: fpmd's global "
	    "options stand outside any pool section, so remove this line\n"
	    "@migrate/mixed.conf:5: ';' starts no comment in fpmd's files (it "
	    "did in php-fpm's): write '#' or '//' instead\n"
	    "@migrate/mixed.conf:7: ';' starts no comment in fpmd's files (it "
	    "did in php-fpm's): write '#' or '//' instead\n"
	    "@migrate/mixed.conf:11: '[api]' is php-fpm's: write pool api "
	    "{ ... } around the pool's options\n");
}

static void
ini_scan(const char *text, size_t nmarks, bool section, bool brace)
{
	struct conflex_ini	 ci;

	conflex_ini_scan(text, strlen(text), &ci);
	CHECK(ci.ci_nmarks == nmarks);
	CHECK(ci.ci_section == section);
	CHECK(ci.ci_brace == brace);
}

static void
test_migrate_scan(void)
{
	struct conflex_ini	 ci;
	char			 big[64 * 20 + 1];
	size_t			 i;

	ini_scan("", 0, false, false);
	ini_scan("a = b;c\n", 0, false, false);	/* no space: a value */
	ini_scan("a = \"b ; c\" # d ; e\n// f ; g\n", 0, false, false);
	ini_scan("/* ; [www]\n */ a = '[x] ;'\n", 0, false, false);
	ini_scan("a = \"[x]\\\" ; \"\n", 0, false, false);
	ini_scan("pool [www] {\n}\n", 0, false, true);
	ini_scan("[www] x\n", 0, false, false);	/* not a section line */
	ini_scan("; it's\n[www]\nx = 'y\n", 2, true, false);
	ini_scan("  [ www ]  ; a pool\n", 1, true, false);
	ini_scan("x = \"open\n; no mark after an open string\n", 0, false,
	    false);
	conflex_ini_scan("\n\n  [ my pool ] ;x\n", 19, &ci);
	CHECK(ci.ci_nmarks == 1 && ci.ci_marks[0].im_line == 3 &&
	    !ci.ci_marks[0].im_comment);
	CHECK_STR(ci.ci_marks[0].im_name, "my pool");
	/* lines counted through fpmd's strings and comments */
	conflex_ini_scan("a = \"1\n2\"\n/*\n*/\n ;\n", 19, &ci);
	CHECK(ci.ci_nmarks == 1 && ci.ci_marks[0].im_line == 5 &&
	    ci.ci_marks[0].im_comment);
	/* the first CONFLEX_INI_MAX kept, the rest counted */
	for (i = 0; i < 20; i++)
		memcpy(big + i * 3, ";x\n", 3);
	big[60] = '\0';
	conflex_ini_scan(big, 60, &ci);
	CHECK(ci.ci_nmarks == CONFLEX_INI_MAX && ci.ci_more == 4);
	CHECK(ci.ci_marks[CONFLEX_INI_MAX - 1].im_line == CONFLEX_INI_MAX);
}

/* Did you mean: the nearest option, and no knock-on error for it. */
static void
test_migrate_typo(void)
{
	expect_errors("migrate/typo.conf", CONF_AS_ROOT,
	    "@migrate/typo.conf:1: unknown option 'log_levle' (did you mean "
	    "'log_level'?)\n"
	    "@migrate/typo.conf:5: pool www: unknown option 'pm.max_chlidren' "
	    "(did you mean 'pm.max_children'?)\n"
	    "@migrate/typo.conf:6: pool www: unknown option "
	    "'pm.min_spare_server' (did you mean 'pm.min_spare_servers'?)\n"
	    "@migrate/typo.conf:8: pool www: unknown option 'usr' (did you "
	    "mean 'user'?)\n"
	    "@migrate/typo.conf:10: pool www: unknown option 'slowlgo' (did "
	    "you mean 'slowlog'?)\n"
	    "@migrate/typo.conf:11: pool www: unknown option 'xyzzy'\n"
	    "@migrate/typo.conf:14: pool api: unknown option 'lisen' (did you "
	    "mean 'listen'?)\n"
	    "@migrate/typo.conf:15: pool api: unknown option 'PM' (did you "
	    "mean 'pm'?)\n");
}

/* fpmd -t: a unix socket whose directory is missing or no directory. */
static void
test_migrate_listen(void)
{
	struct fpmd_conf	*c;
	int			 flags = CONF_AS_ROOT | CONF_ALLOW_ROOT;

	/* only for fpmd -t: a reload may hold the socket from before */
	c = load_ok("migrate/listen_dir.conf", flags);
	CHECK(c != NULL);
	conf_free(c);
	expect_errors("migrate/listen_dir.conf", flags | CONF_CHECK_LISTEN,
	    "@migrate/listen_dir.conf:2: pool www: listen: cannot create the "
	    "socket /nonexistent-fpmd-dir/www.sock: its directory "
	    "/nonexistent-fpmd-dir does not exist: create it first (No such "
	    "file or directory)\n"
	    "@migrate/listen_dir.conf:7: pool file: listen: cannot create the "
	    "socket /dev/null/x.sock: /dev/null is not a directory\n"
	    "@migrate/listen_dir.conf:13: pool ok: pm.status_listen: cannot "
	    "create the socket /nonexistent-fpmd-dir/status.sock: its "
	    "directory /nonexistent-fpmd-dir does not exist: create it first "
	    "(No such file or directory)\n");
}

void
test_migrate(void)
{
	static const char *const files[] = {
		"migrate/ini.conf", "migrate/pool.conf", "migrate/mixed.conf",
		"migrate/inc.conf", "migrate/typo.conf",
		"migrate/listen_dir.conf",
	};
	struct fpmd_conf	*c;
	char			*errs;
	size_t			 i;

	test_migrate_ini();
	test_migrate_mixed();
	test_migrate_scan();
	log_begin();
	test_migrate_typo();
	test_migrate_listen();
	/* every path through them, under LeakSanitizer */
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		c = load(files[i], CONF_AS_ROOT | CONF_CHECK_LISTEN, &errs);
		CHECK((c == NULL) != (errs == NULL));
		conf_free(c);
		free(errs);
	}
	log_end();
}
