/*
 * access.format: php-fpm's language of codes, parsed once into a list of
 * items (literal text and codes with their {...} argument).  The
 * configuration check parses it to refuse a bad format with its file and
 * line, at start-up and at reload; each worker parses it again to write
 * its lines (accesslog.c).  No I/O here.
 *
 * What php-fpm 8.2 accepts is accepted, with the same meaning: the codes
 * and their modifiers (case-insensitive, old spellings included), empty
 * braces as no braces, braces only where a code takes them.  What it
 * refuses is refused, in its words, followed by what to write instead.
 * Two things php-fpm lets through are refused, because each is a mistake
 * that costs a line's meaning: a '%' that ends the format (php-fpm drops
 * it) and two {...} in a row (php-fpm keeps the second).
 *
 * "json", alone or followed by %{NAME}e and %{Header}o codes, asks for
 * one JSON object per line instead (accesslog.c lists its keys); the codes
 * after it add those params and headers to the object.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fpmd.h"

#define ACC_CODES	"%% %C %d %e %f %l %m %M %n %o %p %P %q %Q %r %R %s " \
			"%t %T %u"

static const struct {
	char		 code;
	const char	*name;
	uint8_t		 mod;
} acc_mods[] = {
	{ 'C', "total", ACC_CPU_TOTAL },
	{ 'C', "user", ACC_CPU_USER },
	{ 'C', "system", ACC_CPU_SYSTEM },
	{ 'd', "seconds", ACC_SEC },
	{ 'd', "milli", ACC_MSEC },
	{ 'd', "milliseconds", ACC_MSEC },
	{ 'd', "mili", ACC_MSEC },		/* php-fpm's older spellings */
	{ 'd', "miliseconds", ACC_MSEC },
	{ 'd', "micro", ACC_USEC },
	{ 'd', "microseconds", ACC_USEC },
	{ 'M', "bytes", ACC_BYTES },
	{ 'M', "kilo", ACC_KB },
	{ 'M', "kilobytes", ACC_KB },
	{ 'M', "mega", ACC_MB },
	{ 'M', "megabytes", ACC_MB },
};

/* The modifier word w of code c, or -1. */
static int
acc_mod(char c, const char *w, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(acc_mods) / sizeof(acc_mods[0]); i++)
		if (acc_mods[i].code == c && strlen(acc_mods[i].name) == len &&
		    strncasecmp(acc_mods[i].name, w, len) == 0)
			return acc_mods[i].mod;
	return -1;
}

static int
acc_add(struct acc_fmt *f, char code, uint8_t mod, const char *arg,
    size_t len)
{
	struct acc_item *it;

	if (f == NULL)
		return 0;
	if ((it = reallocarray(f->items, f->n + 1, sizeof(*it))) == NULL)
		return -1;
	f->items = it;
	it = &f->items[f->n];
	memset(it, 0, sizeof(*it));
	it->code = code;
	it->mod = mod;
	if (arg != NULL) {
		if ((it->arg = strndup(arg, len)) == NULL)
			return -1;
		it->len = len;
	}
	f->n++;
	if (code == 'C')
		f->cpu = true;
	else if (code == 'o')
		f->headers = true;
	return 0;
}

/* One code, with its argument (NULL: none or empty braces). */
static int
acc_code(struct acc_fmt *f, char c, const char *arg, size_t len, char *err,
    size_t errlen)
{
	int mod = ACC_MOD_NONE;

	switch (c) {
	case 'C':
	case 'd':
	case 'M':
		if (arg != NULL && (mod = acc_mod(c, arg, len)) == -1) {
			snprintf(err, errlen, "only %s are allowed as a "
			    "modifier for %%%c in the access.format ('%.*s')",
			    c == 'C' ?
			    "'total', 'user' or 'system'" : c == 'd' ?
			    "'seconds', 'milli', 'milliseconds', 'micro' or "
			    "'microseconds'" : "'bytes', 'kilo', 'kilobytes', "
			    "'mega' or 'megabytes'", c, (int)len, arg);
			return -1;
		}
		if (mod == ACC_MOD_NONE)
			mod = c == 'C' ? ACC_CPU_TOTAL : c == 'd' ? ACC_SEC :
			    ACC_BYTES;
		arg = NULL;
		break;
	case 'e':
		if (arg == NULL) {
			snprintf(err, errlen, "the name of the environment "
			    "variable must be set between embraces for %%e in "
			    "the access.format: write %%{NAME}e, e.g. "
			    "%%{HTTP_HOST}e");
			return -1;
		}
		break;
	case 'o':
		if (arg == NULL) {
			snprintf(err, errlen, "the name of the header must be "
			    "set between embraces for %%o in the access.format: "
			    "write %%{Header-Name}o, e.g. %%{Content-Type}o");
			return -1;
		}
		break;
	case 't':
	case 'T':
		break;
	case '%': case 'f': case 'l': case 'm': case 'n': case 'p': case 'P':
	case 'q': case 'Q': case 'r': case 'R': case 's': case 'u':
		if (arg != NULL) {
			snprintf(err, errlen, "embrace is not allowed for "
			    "modifier %%%c in the access.format: only %%C, %%d, "
			    "%%e, %%M, %%o, %%t and %%T take {...}", c);
			return -1;
		}
		break;
	default:
		if (c >= ' ' && c < 0x7f)
			snprintf(err, errlen, "Invalid token in the "
			    "access.format (%%%c): the codes are %s; write "
			    "%%%% for a literal '%%'", c, ACC_CODES);
		else
			snprintf(err, errlen, "Invalid token in the "
			    "access.format (byte 0x%02x after '%%'): the codes "
			    "are %s; write %%%% for a literal '%%'",
			    (unsigned char)c, ACC_CODES);
		return -1;
	}
	if (acc_add(f, c, (uint8_t)mod, arg, len) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* Is text "json", alone or followed by a space? */
static bool
acc_is_json(const char *text)
{
	return strncmp(text, "json", 4) == 0 &&
	    (text[4] == '\0' || text[4] == ' ' || text[4] == '\t');
}

/*
 * Parses text into f (NULL: only check it).  -1 with a reason in err,
 * which says what to write instead.
 */
int
accfmt_parse(const char *text, struct acc_fmt *f, char *err, size_t errlen)
{
	const char *s = text, *lit, *arg, *close;
	size_t len;
	bool json;

	if (f != NULL)
		memset(f, 0, sizeof(*f));
	if (strlen(text) > ACC_FMT_MAX) {
		snprintf(err, errlen, "the access.format is longer than %d "
		    "bytes", ACC_FMT_MAX);
		return -1;
	}
	if ((json = acc_is_json(text))) {
		s += 4;
		if (f != NULL)
			f->json = f->cpu = true;
	}
	while (*s != '\0') {
		if (*s != '%') {
			lit = s;
			len = strcspn(s, "%");
			s += len;
			if (json) {
				if (strspn(lit, " \t") < len)
					goto json_only;
				continue;
			}
			if (acc_add(f, 0, 0, lit, len) == -1)
				goto oom;
			continue;
		}
		lit = s++;
		arg = NULL;
		len = 0;
		if (*s == '\0') {
			snprintf(err, errlen, "the access.format ends with a "
			    "lone '%%': write %%%% for a literal '%%'");
			goto fail;
		}
		if (*s == '{') {
			close = strchr(s + 1, '}');
			if (close == NULL || close[1] == '\0') {
				snprintf(err, errlen, "missing closing embrace "
				    "in the access.format: '%.*s' must end with "
				    "'}' and a code letter, e.g. %%{HTTP_HOST}e",
				    (int)(close ? close + 1 - lit : 32), lit);
				goto fail;
			}
			arg = s + 1;
			len = (size_t)(close - arg);
			s = close + 1;
			if (*s == '{') {
				snprintf(err, errlen, "'%.*s{' in the "
				    "access.format has two {...} in a row: give "
				    "a code one", (int)(s - lit), lit);
				goto fail;
			}
			if (len == 0)
				arg = NULL;	/* php-fpm: empty is none */
		}
		if (json && *s != 'e' && *s != 'o')
			goto json_only;
		if (acc_code(f, *s, arg, len, err, errlen) == -1)
			goto fail;
		s++;
	}
	return 0;
json_only:
	snprintf(err, errlen, "after 'json', the access.format takes only "
	    "%%{NAME}e and %%{Header}o codes, separated by spaces (the params "
	    "and headers added to each object)");
	goto fail;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	accfmt_free(f);
	return -1;
}

void
accfmt_free(struct acc_fmt *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++)
		free(f->items[i].arg);
	free(f->items);
	memset(f, 0, sizeof(*f));
}
