/*
 * libFuzzer target: fpmctl import-php-fpm (ctl/ini.c and ctl/import.c) on
 * any text as php-fpm's main file, includes not followed.  Whatever it
 * reads, what it writes must be an fpmd.conf that fpmd's own tokenizer and
 * grammar walk (common/conflex.c) read without a single problem: no value
 * may end a string early, open a comment or a block, or run past its
 * line.  Messages must be lines of printable text.
 *
 * Build with `make fuzz_import`; seeds are in t/data/fuzz-import/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conflex.h"
#include "import.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_problem(void *arg, enum conflex_problem kind, int line,
    const char *pool, const char *msg)
{
	(void)arg;
	fprintf(stderr, "fuzz_import: the output has a problem (%d) at line "
	    "%d (pool %s): %s\n", (int)kind, line, pool != NULL ? pool : "-",
	    msg);
	abort();
}

/* Every message a line of printable ASCII: nothing to fool a terminal. */
static void
fuzz_lines(const char *s)
{
	const unsigned char *p;

	if (s == NULL)
		return;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p < 0x20 && *p != '\n') || *p >= 0x7f)
			abort();
	if (p > (const unsigned char *)s && p[-1] != '\n')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_opts	 io = { NULL, NULL, true, true };
	struct conflex_walk	 w = { NULL, fuzz_problem, NULL };
	char			*out, *warnings, *errors, *text;
	const char		*msg;
	size_t			 tlen;
	int			 rc, line;

	rc = import_run("fuzz.conf", (const char *)data, size, &io, &out,
	    &warnings, &errors);
	fuzz_lines(warnings);
	fuzz_lines(errors);
	if (rc == 0) {
		if (out == NULL || errors != NULL)
			abort();
		if (conflex_prepare(out, strlen(out), &text, &tlen, &line,
		    &msg) == -1) {
			fprintf(stderr, "fuzz_import: line %d: %s\n", line,
			    msg != NULL ? msg : "out of memory");
			abort();
		}
		if (conflex_walk(text, tlen, &w) != 0)
			abort();
		free(text);
	} else if (rc == -1 || rc == -2) {
		if (out != NULL || errors == NULL)
			abort();
	}
	free(out);
	free(warnings);
	free(errors);
	return 0;
}
