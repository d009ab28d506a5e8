/*
 * php-fpm's INI, one file's text read line by line as php-fpm reads it
 * (ini.c).  It knows nothing of what the lines mean: import.c does.
 */
#ifndef FPMD_INI_H
#define FPMD_INI_H

#include <stddef.h>

/* One line of php-fpm's INI, as ini_parse() hands it out. */
struct ini_line {
	int		 il_line;
	const char	*il_section;	/* [NAME]: NAME, else NULL */
	const char	*il_key;	/* KEY = VALUE, KEY[INDEX] = VALUE */
	const char	*il_index;	/* INDEX ("" for KEY[]), or NULL */
	const char	*il_value;	/* quotes taken off, ${NAME} kept */
	const char	*il_error;	/* a line php-fpm would refuse */
};

/*
 * Calls fn for each line that is not blank or a comment, in order, until fn
 * returns -1.  Returns 0, or -1 when out of memory or stopped by fn.
 */
int		 ini_parse(const char *text, size_t len,
		    int (*fn)(void *, const struct ini_line *), void *arg);

#endif /* FPMD_INI_H */
