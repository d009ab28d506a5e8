/*
 * What the files of the configuration test share: the test data
 * directory, the helpers of test_config.c, and the tests of the other
 * files, which test_config.c's main() runs in turn.
 */
#ifndef FPMD_TEST_CONFIG_H
#define FPMD_TEST_CONFIG_H

#define DIR	TEST_DATA "/conf/"

#define CUT_BLOCK "the section opened here is not closed by '}' before " \
	"the end of the file (add the '}', or restore the file if it was " \
	"cut short)\n"
#define CUT_DQ "unterminated string: the \" opened here is not closed " \
	"before the end of the file (add the closing \", or restore the " \
	"file if it was cut short)\n"

/* test_config.c: '@' in a text stands for DIR */
char		*subst(const char *s);
const char	*subst_path(const char *name);
struct fpmd_conf *load(const char *name, int flags, char **errs);
struct fpmd_conf *load_ok(const char *name, int flags);
void		 expect_errors(const char *name, int flags,
		    const char *expected);
void		 log_begin(void);
const char	*log_end(void);

/* test_config_fpmctl.c */
void		 test_walk(void);
void		 test_lex(void);
void		 test_confsock(void);

/* test_config_access.c */
void		 test_access(void);
void		 test_access_format(void);

/* test_config_migrate.c */
void		 test_migrate(void);

#endif /* FPMD_TEST_CONFIG_H */
