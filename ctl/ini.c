/*
 * php-fpm's configuration syntax, read as php-fpm reads it: each line on
 * its own (a quote cannot span lines), '[NAME]' opens a section, 'KEY =
 * VALUE' and 'KEY[INDEX] = VALUE' set something, ';' starts a comment.  A
 * value is made of unquoted text (its ends trimmed), "double quoted" text
 * (where \" \\ and \$ are the only escapes) and 'single quoted' raw text,
 * run together.  ${NAME} is kept as written: fpmd replaces it from its own
 * environment when it reads the converted file, as php-fpm did from its
 * own.  Unquoted words are kept as written too (yes, off, E_ALL & ~E_NOTICE)
 * because fpmd and PHP's ini reader give them the meaning php-fpm did.
 *
 * The text is anything a file may hold: every length is checked against
 * the end of the line, and NUL bytes are refused rather than cut at.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ini.h"

struct ini_buf {
	char	*b;
	size_t	 len, size;
};

static int
ini_put(struct ini_buf *ib, const char *s, size_t n)
{
	char	*nb;
	size_t	 size;

	if (ib->len + n + 1 > ib->size) {
		size = ib->size == 0 ? 128 : ib->size;
		while (size < ib->len + n + 1)
			size *= 2;
		if ((nb = realloc(ib->b, size)) == NULL)
			return -1;
		ib->b = nb;
		ib->size = size;
	}
	memcpy(ib->b + ib->len, s, n);
	ib->len += n;
	ib->b[ib->len] = '\0';
	return 0;
}

static bool
ini_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * The value from p to end (the end of the line) into ib.  Returns NULL,
 * or the reason php-fpm would refuse it; -1 in *oom when out of memory.
 */
static const char *
ini_value(const char *p, const char *end, struct ini_buf *ib, bool *oom)
{
	const char	*q;
	size_t		 keep;

	*oom = false;
	if (ini_put(ib, "", 0) == -1)
		goto oom;
	for (;;) {
		while (p < end && ini_space(*p))
			p++;
		if (p == end || *p == ';')
			return NULL;
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++) {
				if (*p == '\\' && p + 1 < end &&
				    strchr("\"\\$", p[1]) != NULL)
					p++;
				if (ini_put(ib, p, 1) == -1)
					goto oom;
			}
			if (p == end)
				return "the \" is not closed on this line "
				    "(php-fpm reads each line on its own)";
			p++;
			continue;
		}
		if (*p == '\'') {
			if ((q = memchr(p + 1, '\'', end - p - 1)) == NULL)
				return "the ' is not closed on this line "
				    "(php-fpm reads each line on its own)";
			if (ini_put(ib, p + 1, q - p - 1) == -1)
				goto oom;
			p = q + 1;
			continue;
		}
		/* unquoted: up to a quote or a comment, its end trimmed */
		for (q = p; q < end && *q != '"' && *q != '\'' && *q != ';';
		    q++)
			;
		keep = q - p;
		if (q == end || *q == ';')
			while (keep > 0 && ini_space(p[keep - 1]))
				keep--;
		if (ini_put(ib, p, keep) == -1)
			goto oom;
		p = q;
	}
oom:
	*oom = true;
	return NULL;
}

/* One line, from p to end; calls fn unless it is blank or a comment. */
static int
ini_line(const char *p, const char *end, int lineno,
    int (*fn)(void *, const struct ini_line *), void *arg)
{
	struct ini_line	 il;
	struct ini_buf	 key = { 0 }, idx = { 0 }, val = { 0 };
	const char	*q, *k0, *k1;
	bool		 oom;
	int		 rc = -1;

	memset(&il, 0, sizeof(il));
	il.il_line = lineno;
	while (p < end && ini_space(*p))
		p++;
	while (end > p && ini_space(end[-1]))
		end--;
	if (p == end || *p == ';')
		return 0;
	if (memchr(p, '\0', end - p) != NULL) {
		il.il_error = "a NUL byte: this is not a text file";
		goto call;
	}
	if (*p == '#') {
		il.il_error = "'#' does not start a comment in php-fpm's files "
		    "(';' does): php-fpm refuses this line";
		goto call;
	}
	if (*p == '[') {
		if ((q = memchr(p, ']', end - p)) == NULL) {
			il.il_error = "a section name without its ']'";
			goto call;
		}
		for (k0 = p + 1; k0 < q && ini_space(*k0); k0++)
			;
		for (k1 = q; k1 > k0 && ini_space(k1[-1]); k1--)
			;
		for (q++; q < end && ini_space(*q); q++)
			;
		if (q < end && *q != ';') {
			il.il_error = "text after the section's ']'";
			goto call;
		}
		if (k0 == k1) {
			il.il_error = "an empty section name";
			goto call;
		}
		if (ini_put(&key, k0, k1 - k0) == -1)
			goto done;
		il.il_section = key.b;
		goto call;
	}

	/* KEY, KEY[INDEX]: then '=' */
	for (q = p; q < end && *q != '=' && *q != '[' && *q != ';'; q++)
		;
	for (k1 = q; k1 > p && ini_space(k1[-1]); k1--)
		;
	if (k1 == p) {
		il.il_error = "a value without a name";
		goto call;
	}
	if (ini_put(&key, p, k1 - p) == -1)
		goto done;
	il.il_key = key.b;
	if (strpbrk(key.b, "\"'{}()&|^~!$") != NULL) {
		il.il_error = "a name php-fpm cannot read";
		goto call;
	}
	if (q < end && *q == '[') {
		for (k0 = q + 1; k0 < end && ini_space(*k0); k0++)
			;
		if ((q = memchr(k0, ']', end - k0)) == NULL) {
			il.il_error = "a '[' without its ']'";
			goto call;
		}
		for (k1 = q; k1 > k0 && ini_space(k1[-1]); k1--)
			;
		if (ini_put(&idx, "", 0) == -1 ||
		    ini_put(&idx, k0, k1 - k0) == -1)
			goto done;
		il.il_index = idx.b;
		for (q++; q < end && ini_space(*q); q++)
			;
	}
	if (q == end || *q != '=') {
		il.il_error = "no '=' after the name (php-fpm needs NAME = "
		    "VALUE)";
		goto call;
	}
	il.il_error = ini_value(q + 1, end, &val, &oom);
	if (oom)
		goto done;
	il.il_value = val.b;
call:
	rc = fn(arg, &il);
done:
	free(key.b);
	free(idx.b);
	free(val.b);
	return rc;
}

int
ini_parse(const char *text, size_t len,
    int (*fn)(void *, const struct ini_line *), void *arg)
{
	const char	*p = text, *end = text + len, *nl;
	int		 lineno = 1;

	while (p < end) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		if (ini_line(p, nl, lineno, fn, arg) == -1)
			return -1;
		lineno++;
		p = nl < end ? nl + 1 : end;
	}
	return 0;
}
