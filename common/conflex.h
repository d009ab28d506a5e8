/*
 * The text of an fpmd configuration file, as fpmd reads it: the pre-pass
 * that blanks comments before libconfuse sees the text (libconfuse 3.3
 * miscounts lines after them), and the quoting of the file's bytes in
 * messages.
 */
#ifndef FPMD_CONFLEX_H
#define FPMD_CONFLEX_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Blanks out comments (keeping newlines, so that lines count right) and
 * turns php-fpm's "include PATH" into "include = PATH".  Returns 0 and the
 * new text in *out (malloc'd, NUL-terminated, *outlen bytes).  Returns -1
 * with *errline and *errmsg set when a string or a comment runs to the end
 * of the text, or with *errmsg NULL when out of memory.
 */
int		 conflex_prepare(const char *in, size_t len, char **out,
		    size_t *outlen, int *errline, const char **errmsg);

/*
 * Messages quote what the file says, and a quoted value may hold newlines,
 * control characters or bytes that are not UTF-8.  conflex_vis writes src
 * with those as \n, \t or \xHH, so that every message stays one line of
 * valid UTF-8; dst has 4 * strlen(src) + 1 bytes.
 */
void		 conflex_vis(char *dst, const char *src);

#endif /* FPMD_CONFLEX_H */
