/*
 * fpmctl import-php-fpm: php-fpm's configuration (INI, with its includes)
 * turned into an fpmd.conf.  import_run() follows the includes, reads each
 * file with ini_parse() (ini.h), maps every directive through one table and
 * writes the result.  Neither looks
 * up a user, a group or a host: fpmctl does no NSS or DNS.
 */
#ifndef FPMD_IMPORT_H
#define FPMD_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "ini.h"

#define IMPORT_INCLUDE_DEPTH	5	/* php-fpm's limit */
#define IMPORT_FILES_MAX	1000

struct import_opts {
	const char	*io_php_ini;	/* php_ini to write; NULL: guess */
	const char	*io_prefix;	/* php-fpm's -p, for relative paths */
	bool		 io_no_include;	/* the fuzzer: follow no include */
	bool		 io_no_guess;	/* the fuzzer: look at no file */
};

/*
 * Reads the php-fpm configuration file path (or, when text is not NULL,
 * takes text as its contents) and its includes.  Returns 0 with the new
 * fpmd.conf in *out (malloc'd, NUL-terminated), -1 with *errors (malloc'd
 * "FILE:LINE: reason" lines) when php-fpm would refuse the files too, -2
 * when a file cannot be read (*errors says which) and -3 out of memory.
 * *warnings (malloc'd or NULL) lists what was left out, and why.
 */
int		 import_run(const char *path, const char *text, size_t len,
		    const struct import_opts *opts, char **out,
		    char **warnings, char **errors);

#endif /* FPMD_IMPORT_H */
