/*
 * The text of an fpmd configuration file (see conflex.h).  The tokenizer
 * follows libconfuse 3.3's lexer rule by rule, longest match first and the
 * earlier rule on a tie, because fpmd's own reader hands the same text to
 * libconfuse: a '{' or a string seen here must be the one libconfuse sees.
 * Where libconfuse quietly takes the end of the text for the end of a
 * string or a comment, it is an error here.  Lines are counted by newlines,
 * all of them (libconfuse skips those inside ${NAME}).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conflex.h"

#define CONFLEX_CUT_MAX		8	/* unclosed blocks told one by one */

static const char *const cut_string_dq = "unterminated string: the \" "
    "opened here is not closed before the end of the file (add the closing "
    "\", or restore the file if it was cut short)";
static const char *const cut_string_sq = "unterminated string: the ' "
    "opened here is not closed before the end of the file (add the closing "
    "', or restore the file if it was cut short)";
static const char *const cut_comment = "unterminated comment: the /* "
    "opened here is not closed before the end of the file (add the closing "
    "*/, or restore the file if it was cut short)";

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
				*errmsg = quote == '"' ? cut_string_dq :
				    cut_string_sq;
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
				*errmsg = cut_comment;
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

void
conflex_init(struct conflex *lx, const char *text, size_t len)
{
	memset(lx, 0, sizeof(*lx));
	lx->lx_p = text;
	lx->lx_end = text + len;
	lx->lx_line = 1;
}

void
conflex_free(struct conflex *lx)
{
	free(lx->lx_val);
	lx->lx_val = NULL;
	lx->lx_len = lx->lx_size = 0;
}

/* Appends one byte to the value; -1 when out of memory. */
static int
conflex_put(struct conflex *lx, char c)
{
	char	*v;
	size_t	 size;

	if (lx->lx_len + 1 >= lx->lx_size) {
		size = lx->lx_size == 0 ? 64 : lx->lx_size * 2;
		if ((v = realloc(lx->lx_val, size)) == NULL)
			return -1;
		lx->lx_val = v;
		lx->lx_size = size;
	}
	lx->lx_val[lx->lx_len++] = c;
	lx->lx_val[lx->lx_len] = '\0';
	return 0;
}

static int
conflex_puts(struct conflex *lx, const char *s)
{
	for (; *s != '\0'; s++)
		if (conflex_put(lx, *s) == -1)
			return -1;
	return 0;
}

static void
conflex_reset(struct conflex *lx)
{
	lx->lx_len = 0;
	if (lx->lx_val != NULL)
		lx->lx_val[0] = '\0';
}

/* A byte of an unquoted word: libconfuse's [^ #"'\t\n\r={}()+,*]. */
static bool
conflex_word_char(char c)
{
	return c != '\0' ? strchr(" #\"'\t\n\r={}()+,*", c) == NULL : true;
}

static size_t
conflex_word_len(const char *p, const char *end)
{
	const char	*q = p;

	while (q < end && conflex_word_char(*q))
		q++;
	return q - p;
}

/*
 * ${NAME} or ${NAME:-default} at p, ending at the first '}' (which may be
 * lines away), as libconfuse expands it: its own string operations on the
 * text, so a NUL byte in it cuts it where it cuts libconfuse's.  Appends
 * the value (none if unset and without a default); -1 when out of memory.
 */
static int
conflex_env(struct conflex *lx, const char *p, const char *close)
{
	size_t		 n = close - p + 1;
	char		*tmp, *e;
	const char	*var;
	int		 rc;

	if ((tmp = malloc(n + 1)) == NULL)
		return -1;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	tmp[strlen(tmp) - 1] = '\0';
	e = strchr(tmp + 2, ':');
	if (e != NULL && e[1] == '-')
		*e = '\0';
	else
		e = NULL;
	var = getenv(tmp + 2);
	if (var == NULL && e != NULL)
		var = e + 2;
	rc = var != NULL ? conflex_puts(lx, var) : 0;
	free(tmp);
	return rc;
}

/* The first '}' after ${ at p, or NULL: then '$' is an ordinary byte. */
static const char *
conflex_env_end(const char *p, const char *end)
{
	if (end - p < 3 || p[0] != '$' || p[1] != '{')
		return NULL;
	return memchr(p + 2, '}', end - (p + 2));
}

static void
conflex_count_lines(struct conflex *lx, const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p == '\n')
			lx->lx_line++;
}

static unsigned int
conflex_hex(char c)
{
	return isdigit((unsigned char)c) ? (unsigned int)(c - '0') :
	    (unsigned int)(tolower((unsigned char)c) - 'a' + 10);
}

/* The byte \c stands for in a "string": \n and the like, else c. */
static char
conflex_escape(char c)
{
	switch (c) {
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 'b':
		return '\b';
	case 'f':
		return '\f';
	case 'a':
		return '\a';
	case 'e':
		return '\033';
	case 't':
		return '\t';
	case 'v':
		return '\v';
	}
	return c;
}

/* A "string"; lx_p is past the opening quote. */
static enum conflex_tok
conflex_dq(struct conflex *lx, int start)
{
	const char	*p, *end = lx->lx_end, *close;
	size_t		 d, o, i;
	unsigned int	 v;
	char		 c;

	for (;;) {
		p = lx->lx_p;
		if (p == end) {
			lx->lx_line = start;
			snprintf(lx->lx_msg, sizeof(lx->lx_msg), "%s",
			    cut_string_dq);
			return CLX_CUT;
		}
		c = *p;
		if (c == '"') {
			lx->lx_p++;
			return CLX_STR;
		}
		if ((close = conflex_env_end(p, end)) != NULL) {
			if (conflex_env(lx, p, close) == -1)
				return CLX_NOMEM;
			conflex_count_lines(lx, p, close);
			lx->lx_p = close + 1;
			continue;
		}
		if (c != '\\') {
			if (c == '\n')
				lx->lx_line++;
			if (conflex_put(lx, c) == -1)
				return CLX_NOMEM;
			lx->lx_p++;
			continue;
		}
		/* A backslash at the very end matches no rule at all. */
		if (p + 1 == end) {
			lx->lx_p = end;
			continue;
		}
		c = p[1];
		if (c == '\n') {
			lx->lx_line++;
			lx->lx_p += 2;
			continue;
		}
		if (isdigit((unsigned char)c)) {
			/* \[0-7]{1,3} against \[0-9]+: the longer wins */
			for (d = 0; p + 1 + d < end &&
			    isdigit((unsigned char)p[1 + d]); d++)
				;
			for (o = 0, v = 0; o < 3 && p + 1 + o < end &&
			    p[1 + o] >= '0' && p[1 + o] <= '7'; o++)
				v = v * 8 + (p[1 + o] - '0');
			if (o < d) {
				snprintf(lx->lx_msg, sizeof(lx->lx_msg),
				    "bad escape sequence '%.*s'",
				    (int)(d + 1 > 64 ? 64 : d + 1), p);
				return CLX_ERROR;
			}
			if (v > 0xff) {
				snprintf(lx->lx_msg, sizeof(lx->lx_msg),
				    "invalid octal number '%.*s'", (int)o + 1,
				    p);
				return CLX_ERROR;
			}
			if (conflex_put(lx, (char)v) == -1)
				return CLX_NOMEM;
			lx->lx_p += 1 + o;
			continue;
		}
		if (c == 'x' && p + 2 < end && isxdigit((unsigned char)p[2])) {
			v = conflex_hex(p[2]);
			i = 1;
			if (p + 3 < end && isxdigit((unsigned char)p[3])) {
				v = v * 16 + conflex_hex(p[3]);
				i = 2;
			}
			if (conflex_put(lx, (char)v) == -1)
				return CLX_NOMEM;
			lx->lx_p += 2 + i;
			continue;
		}
		if (conflex_put(lx, conflex_escape(c)) == -1)
			return CLX_NOMEM;
		lx->lx_p += 2;
	}
}

/* A 'string'; lx_p is past the opening quote.  No escapes but \\ and \'. */
static enum conflex_tok
conflex_sq(struct conflex *lx, int start)
{
	const char	*p, *end = lx->lx_end;
	char		 c;

	for (;;) {
		p = lx->lx_p;
		if (p == end || (p[0] == '\\' && p + 1 == end)) {
			lx->lx_line = start;
			snprintf(lx->lx_msg, sizeof(lx->lx_msg), "%s",
			    cut_string_sq);
			return CLX_CUT;
		}
		c = *p;
		if (c == '\'') {
			lx->lx_p++;
			return CLX_STR;
		}
		if (c == '\0') {
			/*
			 * libconfuse copies a run of plain bytes up to its
			 * first NUL and drops the rest of the run.
			 */
			while (lx->lx_p < end && *lx->lx_p != '\\' &&
			    *lx->lx_p != '\'' && *lx->lx_p != '\n')
				lx->lx_p++;
			continue;
		}
		if (c != '\\') {
			if (c == '\n')
				lx->lx_line++;
			if (conflex_put(lx, c) == -1)
				return CLX_NOMEM;
			lx->lx_p++;
			continue;
		}
		c = p[1];
		lx->lx_p += 2;
		if (c == '\n') {
			lx->lx_line++;
			continue;
		}
		if (c != '\\' && c != '\'' && conflex_put(lx, '\\') == -1)
			return CLX_NOMEM;
		if (conflex_put(lx, c) == -1)
			return CLX_NOMEM;
	}
}

enum conflex_tok
conflex_next(struct conflex *lx, int *line)
{
	const char	*p, *end = lx->lx_end, *q;
	size_t		 w, s;
	char		 c;
	int		 start;

	/* lx_val is a string (maybe "") whenever CLX_STR is returned */
	if (lx->lx_val == NULL && conflex_put(lx, '\0') == -1)
		return CLX_NOMEM;
	conflex_reset(lx);
	lx->lx_msg[0] = '\0';
	for (;;) {
		p = lx->lx_p;
		*line = lx->lx_line;
		if (p == end)
			return CLX_EOF;
		c = *p;
		switch (c) {
		case ' ':
		case '\t':
			lx->lx_p++;
			continue;
		case '\n':
			lx->lx_line++;
			lx->lx_p++;
			continue;
		case '#':
			q = memchr(p, '\n', end - p);
			lx->lx_p = q != NULL ? q : end;
			continue;
		case '{':
			lx->lx_p++;
			return CLX_LBRACE;
		case '}':
			lx->lx_p++;
			return CLX_RBRACE;
		case '(':
			lx->lx_p++;
			return CLX_LPAREN;
		case ')':
			lx->lx_p++;
			return CLX_RPAREN;
		case '=':
			lx->lx_p++;
			return CLX_EQ;
		case ',':
			lx->lx_p++;
			return CLX_COMMA;
		case '+':
			if (p + 1 < end && p[1] == '=') {
				lx->lx_p += 2;
				return CLX_PLUSEQ;
			}
			lx->lx_p++;		/* eaten, as libconfuse does */
			continue;
		case '"':
			lx->lx_p++;
			return conflex_dq(lx, *line);
		case '\'':
			lx->lx_p++;
			return conflex_sq(lx, *line);
		}
		if (c == '/' && p + 1 < end && p[1] == '*') {
			start = lx->lx_line;
			for (q = p + 2; q + 1 < end &&
			    !(q[0] == '*' && q[1] == '/'); q++)
				;
			if (q + 1 >= end) {
				lx->lx_line = start;
				*line = start;
				snprintf(lx->lx_msg, sizeof(lx->lx_msg), "%s",
				    cut_comment);
				return CLX_CUT;
			}
			conflex_count_lines(lx, p, q);
			lx->lx_p = q + 2;
			continue;
		}
		if (c == '/' && p + 1 < end && p[1] == '/') {
			/* to the end of the line: longer than any word */
			q = memchr(p, '\n', end - p);
			lx->lx_p = q != NULL ? q : end;
			continue;
		}
		if ((q = conflex_env_end(p, end)) != NULL) {
			if (conflex_env(lx, p, q) == -1)
				return CLX_NOMEM;
			conflex_count_lines(lx, p, q);
			lx->lx_p = q + 1;
			return CLX_STR;		/* unset: the empty string */
		}
		if ((w = conflex_word_len(p, end)) == 0) {
			lx->lx_p++;		/* '*', '\r': eaten */
			continue;
		}
		for (s = 0; s < w; s++)
			if (conflex_put(lx, p[s]) == -1)
				return CLX_NOMEM;
		lx->lx_p += w;
		return CLX_STR;
	}
}

/* ------------------------------------------------------------- the walk */

enum walk_state {
	WS_NAME,		/* expecting an option name, or '}' */
	WS_AFTER_NAME,		/* '=', '+=', '{' or a title */
	WS_VALUE,
	WS_TITLE		/* NAME TITLE: expecting '{' */
};

struct walk_block {
	int		 line;
	char		*label;		/* "pool www", "env", or NULL */
	const char	*pool;		/* the pool it is in (or is), or NULL */
	bool		 is_pool;
	bool		 is_list;
};

struct walk {
	const struct conflex_walk *w;
	struct walk_block *blocks;
	size_t		 nblocks, size;
	bool		 syntax_told;
	int		 told;
};

static const char *
walk_pool(const struct walk *wk)
{
	return wk->nblocks > 0 ? wk->blocks[wk->nblocks - 1].pool : NULL;
}

static void __attribute__((format(printf, 5, 6)))
walk_tell(struct walk *wk, enum conflex_problem kind, int line,
    const char *pool, const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;

	if (kind == CLP_SYNTAX) {
		if (wk->syntax_told)
			return;
		wk->syntax_told = true;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wk->told = 1;
	if (wk->w->cw_problem != NULL)
		wk->w->cw_problem(wk->w->cw_arg, kind, line, pool, msg);
}

static const char *
walk_tok_name(enum conflex_tok t)
{
	switch (t) {
	case CLX_LBRACE:
		return "{";
	case CLX_RBRACE:
		return "}";
	case CLX_LPAREN:
		return "(";
	case CLX_RPAREN:
		return ")";
	case CLX_EQ:
		return "=";
	case CLX_PLUSEQ:
		return "+=";
	case CLX_COMMA:
		return ",";
	default:
		return "?";
	}
}

static int
walk_push(struct walk *wk, int line, const char *name, const char *title,
    bool list)
{
	struct walk_block *b;
	size_t		 size;
	int		 n;

	if (wk->nblocks == wk->size) {
		size = wk->size == 0 ? 8 : wk->size * 2;
		b = reallocarray(wk->blocks, size, sizeof(*b));
		if (b == NULL)
			return -1;
		wk->blocks = b;
		wk->size = size;
	}
	b = &wk->blocks[wk->nblocks];
	memset(b, 0, sizeof(*b));
	b->line = line;
	b->is_list = list;
	b->pool = walk_pool(wk);
	if (name != NULL) {
		n = title != NULL ? asprintf(&b->label, "%s %s", name, title) :
		    asprintf(&b->label, "%s", name);
		if (n == -1) {
			b->label = NULL;
			return -1;
		}
		/* only a pool at the top is a pool: inside one it is unknown */
		if (title != NULL && wk->nblocks == 0 &&
		    strcmp(name, "pool") == 0) {
			b->is_pool = true;
			b->pool = b->label + 5;
		}
	}
	wk->nblocks++;
	return 0;
}

static void
walk_pop(struct walk *wk)
{
	free(wk->blocks[--wk->nblocks].label);
}

/* The blocks still open at the end, outermost first. */
static void
walk_unclosed(struct walk *wk)
{
	const struct walk_block *b;
	const char	*what;
	size_t		 i;

	for (i = 0; i < wk->nblocks && i < CONFLEX_CUT_MAX; i++) {
		b = &wk->blocks[i];
		what = b->is_list ? "list" : "section";
		if (b->is_pool || b->label == NULL)
			walk_tell(wk, CLP_CUT, b->line, b->pool, "the %s "
			    "opened here is not closed by '}' before the end "
			    "of the file (add the '}', or restore the file if "
			    "it was cut short)", b->label == NULL ? "'{'" :
			    what);
		else
			walk_tell(wk, CLP_CUT, b->line, b->pool, "%.64s: the "
			    "%s opened here is not closed by '}' before the "
			    "end of the file (add the '}', or restore the file "
			    "if it was cut short)", b->label, what);
	}
	if (wk->nblocks > CONFLEX_CUT_MAX)
		walk_tell(wk, CLP_CUT, wk->blocks[i].line, wk->blocks[i].pool,
		    "and %zu more sections opened from here on are not closed "
		    "either", wk->nblocks - CONFLEX_CUT_MAX);
}

int
conflex_walk(const char *text, size_t len, const struct conflex_walk *w)
{
	struct conflex	 lx;
	struct walk	 wk;
	enum walk_state	 st = WS_NAME;
	enum conflex_tok t;
	char		*name = NULL, *title = NULL;
	bool		 append = false;
	int		 line, name_line = 0, rc = -1;

	memset(&wk, 0, sizeof(wk));
	wk.w = w;
	conflex_init(&lx, text, len);
	for (;;) {
		t = conflex_next(&lx, &line);
		switch (t) {
		case CLX_NOMEM:
			goto done;
		case CLX_ERROR:
			walk_tell(&wk, CLP_LEXER, line, walk_pool(&wk), "%s",
			    lx.lx_msg);
			rc = wk.told;
			goto done;
		case CLX_CUT:
			walk_tell(&wk, CLP_CUT, line, walk_pool(&wk), "%s",
			    lx.lx_msg);
			rc = wk.told;
			goto done;
		case CLX_EOF:
			if (st != WS_NAME)
				walk_tell(&wk, CLP_SYNTAX, name_line,
				    walk_pool(&wk), "the file ends after "
				    "'%.64s'", name);
			walk_unclosed(&wk);
			rc = wk.told;
			goto done;
		case CLX_STR:
			if (st == WS_NAME || st == WS_TITLE) {
				if (st == WS_TITLE)
					walk_tell(&wk, CLP_SYNTAX, name_line,
					    walk_pool(&wk), "missing '=' after "
					    "'%.64s'", name);
				free(name);
				if ((name = strdup(lx.lx_val)) == NULL)
					goto done;
				name_line = line;
				st = WS_AFTER_NAME;
			} else if (st == WS_AFTER_NAME) {
				free(title);
				if ((title = strdup(lx.lx_val)) == NULL)
					goto done;
				st = WS_TITLE;
			} else {
				if (w->cw_assign != NULL &&
				    w->cw_assign(w->cw_arg, (int)wk.nblocks,
				    name, lx.lx_val, append, name_line) == -1)
					goto done;
				st = WS_NAME;
			}
			continue;
		case CLX_EQ:
		case CLX_PLUSEQ:
			if (st == WS_AFTER_NAME) {
				append = t == CLX_PLUSEQ;
				st = WS_VALUE;
				continue;
			}
			break;
		case CLX_LBRACE:
			if (st == WS_AFTER_NAME || st == WS_TITLE ||
			    st == WS_VALUE) {
				if (st == WS_VALUE)
					walk_tell(&wk, CLP_SYNTAX, line,
					    walk_pool(&wk), "'%.64s' takes a "
					    "value, not a list", name);
				if (walk_push(&wk, line, name, st == WS_TITLE ?
				    title : NULL, st == WS_VALUE) == -1)
					goto done;
				st = WS_NAME;
				continue;
			}
			walk_tell(&wk, CLP_SYNTAX, line, walk_pool(&wk),
			    "unexpected '{'");
			if (walk_push(&wk, line, NULL, NULL, false) == -1)
				goto done;
			st = WS_NAME;
			continue;
		case CLX_RBRACE:
			if (st != WS_NAME)
				break;
			if (wk.nblocks == 0) {
				walk_tell(&wk, CLP_SYNTAX, line, NULL, "'}' "
				    "closes no section");
				continue;
			}
			walk_pop(&wk);
			continue;
		default:
			break;
		}

		/* t does not fit st: say so, then go on as libconfuse cannot */
		switch (st) {
		case WS_AFTER_NAME:
			walk_tell(&wk, CLP_SYNTAX, line, walk_pool(&wk),
			    "missing '=' after '%.64s'", name);
			break;
		case WS_VALUE:
			walk_tell(&wk, CLP_SYNTAX, line, walk_pool(&wk),
			    "missing value after '%.64s ='", name);
			break;
		case WS_TITLE:
			/* NAME WORD, then no '{': far more often a lost '=' */
			walk_tell(&wk, CLP_SYNTAX, name_line, walk_pool(&wk),
			    "missing '=' after '%.64s'", name);
			break;
		case WS_NAME:
			walk_tell(&wk, CLP_SYNTAX, line, walk_pool(&wk),
			    "unexpected '%s'", walk_tok_name(t));
			break;
		}
		st = WS_NAME;
		if (t == CLX_RBRACE && wk.nblocks > 0)
			walk_pop(&wk);
	}
done:
	while (wk.nblocks > 0)
		walk_pop(&wk);
	free(wk.blocks);
	free(name);
	free(title);
	conflex_free(&lx);
	return rc;
}

/* ------------------------------------------------------------- messages */

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

int
conflex_errline(char **list, size_t *len, const char *file, int line,
    const char *pool, const char *msg)
{
	char	 head[512], body[1024], text[4 * (sizeof(head) +
		    sizeof(body))], *p;
	size_t	 hl, tl;

	if (line > 0)
		snprintf(head, sizeof(head), "%s:%d: ", file, line);
	else
		snprintf(head, sizeof(head), "%s: ", file);
	if (pool != NULL) {
		hl = strlen(head);
		snprintf(head + hl, sizeof(head) - hl, "pool %s: ", pool);
	}
	conflex_vis(text, head);
	hl = strlen(text);
	snprintf(body, sizeof(body), "%s", msg);
	conflex_vis(text + hl, body);
	tl = strlen(text);
	if ((p = realloc(*list, *len + tl + 2)) == NULL)
		return -1;
	*list = p;
	memcpy(p + *len, text, tl);
	*len += tl;
	p[(*len)++] = '\n';
	p[*len] = '\0';
	return 0;
}

/* ------------------------------------------------------ php-fpm's INI */

static void
conflex_ini_mark(struct conflex_ini *ci, int line, bool comment,
    const char *name, size_t nlen)
{
	struct conflex_ini_mark *m;

	if (!comment)
		ci->ci_section = true;
	if (ci->ci_nmarks == CONFLEX_INI_MAX) {
		ci->ci_more++;
		return;
	}
	m = &ci->ci_marks[ci->ci_nmarks++];
	m->im_line = line;
	m->im_comment = comment;
	if (nlen >= sizeof(m->im_name))
		nlen = sizeof(m->im_name) - 1;
	memcpy(m->im_name, name, nlen);
	m->im_name[nlen] = '\0';
}

/*
 * fpmd's strings and comments are skipped as conflex_prepare() skips them;
 * a ';' comment is skipped to the end of its line, as php-fpm reads it, so
 * that an apostrophe in it opens no string.  A string or comment that does
 * not end stops the scan: conflex_prepare() will say so.
 */
void
conflex_ini_scan(const char *in, size_t len, struct conflex_ini *ci)
{
	const char	*p = in, *end = in + len, *q, *r, *n0, *n1;
	int		 line = 1;
	bool		 bol = true, space = true;
	char		 quote;

	memset(ci, 0, sizeof(*ci));
	while (p < end) {
		if (*p == '\n') {
			line++;
			p++;
			bol = space = true;
			continue;
		}
		if (*p == ' ' || *p == '\t' || *p == '\r') {
			p++;
			space = true;
			continue;
		}
		if (*p == '"' || *p == '\'') {
			quote = *p++;
			while (p < end && *p != quote) {
				if (*p == '\\' && p + 1 < end)
					p++;
				if (*p == '\n')
					line++;
				p++;
			}
			if (p == end)
				return;
			p++;
			bol = space = false;
			continue;
		}
		if (*p == '/' && p + 1 < end && p[1] == '*') {
			for (p += 2; p + 1 < end && !(p[0] == '*' &&
			    p[1] == '/'); p++)
				if (*p == '\n')
					line++;
			if (p + 1 >= end)
				return;
			p += 2;
			bol = false;
			space = true;
			continue;
		}
		q = memchr(p, '\n', end - p);
		if (q == NULL)
			q = end;
		if (*p == '#' || (*p == '/' && p + 1 < end && p[1] == '/')) {
			p = q;
			continue;
		}
		if (*p == ';' && space) {
			conflex_ini_mark(ci, line, true, "", 0);
			p = q;
			continue;
		}
		if (*p == '[' && bol && (r = memchr(p, ']', q - p)) != NULL) {
			for (n0 = p + 1; n0 < r && (*n0 == ' ' || *n0 == '\t');
			    n0++)
				;
			for (n1 = r; n1 > n0 && (n1[-1] == ' ' ||
			    n1[-1] == '\t'); n1--)
				;
			for (r++; r < q && strchr(" \t\r", *r) != NULL; r++)
				;
			if (n1 > n0 && (r == q || *r == ';')) {
				conflex_ini_mark(ci, line, false, n0, n1 - n0);
				p = q;
				continue;
			}
		}
		if (*p == '{')
			ci->ci_brace = true;
		p++;
		bol = space = false;
	}
}
