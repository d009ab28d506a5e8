/*
 * The text of an fpmd configuration file, as fpmd reads it (see
 * conflex.h): the pre-pass that blanks comments, and the quoting of the
 * file's bytes in messages.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conflex.h"

int
conflex_prepare(const char *in, size_t len, char **outp, size_t *outlen,
    int *errline, const char **errmsg)
{
	char	*out;
	size_t	 i, o = 0, k;
	int	 line = 1, start = 0;
	char	 quote;
	bool	 bol = true;

	*errmsg = NULL;
	if ((out = malloc(len * 2 + 1)) == NULL)
		return -1;
	for (i = 0; i < len; ) {
		char c = in[i];

		if (c == '"' || c == '\'') {
			quote = c;
			start = line;
			out[o++] = in[i++];
			while (i < len && in[i] != quote) {
				if (in[i] == '\n')
					line++;
				if (in[i] == '\\' && i + 1 < len) {
					out[o++] = in[i++];
					if (in[i] == '\n')
						line++;
				}
				out[o++] = in[i++];
			}
			if (i == len) {
				*errline = start;
				*errmsg = "unterminated string";
				free(out);
				return -1;
			}
			out[o++] = in[i++];
			bol = false;
		} else if (c == '#' || (c == '/' && i + 1 < len &&
		    in[i + 1] == '/')) {
			while (i < len && in[i] != '\n') {
				out[o++] = ' ';
				i++;
			}
		} else if (c == '/' && i + 1 < len && in[i + 1] == '*') {
			start = line;
			out[o++] = ' ';
			out[o++] = ' ';
			i += 2;
			while (i < len && !(in[i] == '*' && i + 1 < len &&
			    in[i + 1] == '/')) {
				if (in[i] == '\n')
					line++;
				out[o++] = in[i] == '\n' ? '\n' : ' ';
				i++;
			}
			if (i == len) {
				*errline = start;
				*errmsg = "unterminated comment";
				free(out);
				return -1;
			}
			out[o++] = ' ';
			out[o++] = ' ';
			i += 2;
		} else if (c == '\n') {
			out[o++] = in[i++];
			line++;
			bol = true;
		} else if (c == ' ' || c == '\t' || c == '\r') {
			out[o++] = in[i++];
		} else if (bol && len - i >= 8 && strncmp(in + i, "include", 7)
		    == 0 && (in[i + 7] == ' ' || in[i + 7] == '\t')) {
			k = i + 7;
			while (k < len && (in[k] == ' ' || in[k] == '\t'))
				k++;
			memcpy(out + o, "include", 7);
			o += 7;
			i += 7;
			if (k < len && strchr("=+(\r\n#", in[k]) == NULL) {
				out[o++] = ' ';
				out[o++] = '=';
			}
			bol = false;
		} else {
			out[o++] = in[i++];
			bol = false;
		}
	}
	out[o] = '\0';
	*outp = out;
	*outlen = o;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (as jansson checks it), or 0. */
static size_t
conflex_utf8_len(const unsigned char *s)
{
	unsigned int	 v;
	size_t		 n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		v = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		v = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		v = s[0] & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) ||
	    v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	return n;
}

void
conflex_vis(char *dst, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t		 n;

	while (*s != '\0') {
		if (*s == '\n' || *s == '\t') {
			*dst++ = '\\';
			*dst++ = *s++ == '\n' ? 'n' : 't';
		} else if (*s < 0x20 || *s == 0x7f ||
		    (n = conflex_utf8_len(s)) == 0) {
			snprintf(dst, 5, "\\x%02x", *s++);
			dst += 4;
		} else {
			memcpy(dst, s, n);
			dst += n;
			s += n;
		}
	}
	*dst = '\0';
}
