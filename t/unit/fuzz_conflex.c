/*
 * libFuzzer target: common/conflex.c's tokenizer against libconfuse's own
 * lexer (cfg_yylex, exported by libconfuse 3.3 though not in confuse.h).
 * Both read the input, raw and after conflex_prepare(), and must give the
 * same tokens with the same values: fpmd relies on it to find the '{' and
 * the strings libconfuse sees, fpmctl to read control.socket as fpmd does.
 * libconfuse's comments are skipped (conflex skips them too); where
 * libconfuse quietly ends a string or comment at the end of the input,
 * conflex says CLX_CUT.  Lines are compared too up to the first comment
 * and when there is no ${NAME} (libconfuse miscounts lines in those).
 *
 * Build with `make fuzz_conflex`; seeds are in t/data/fuzz-config/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>

#include <confuse.h>

#include "conflex.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* libconfuse's lexer, from its lexer.l */
extern char	*cfg_yylval;
extern FILE	*cfg_yyout;
int		 cfg_yylex(cfg_t *);
int		 cfg_yylex_destroy(void);
void		 cfg_scan_fp_begin(FILE *);
void		 cfg_scan_fp_end(void);

static cfg_t	*cfg;
static FILE	*devnull;

static void
fuzz_errfunc(cfg_t *c, const char *fmt, va_list ap)
{
	(void)c;
	(void)fmt;
	(void)ap;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static cfg_opt_t opts[] = { CFG_END() };

	(void)argc;
	(void)argv;
	/* ${NAME} is looked up: one that is set, one with a brace in it */
	setenv("FPMD_FUZZ", "/run/x.sock", 1);
	setenv("FPMD_FUZZ_Q", "a\"b}c", 1);
	if ((cfg = cfg_init(opts, 0)) == NULL ||
	    (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	cfg_set_error_function(cfg, fuzz_errfunc);
	return 0;
}

static const char *
fuzz_name(int t)
{
	static char	 buf[16];

	switch (t) {
	case CLX_EOF: return "EOF";
	case CLX_STR: return "STR";
	case CLX_LBRACE: return "{";
	case CLX_RBRACE: return "}";
	case CLX_LPAREN: return "(";
	case CLX_RPAREN: return ")";
	case CLX_EQ: return "=";
	case CLX_PLUSEQ: return "+=";
	case CLX_COMMA: return ",";
	case CLX_ERROR: return "ERROR";
	case CLX_CUT: return "CUT";
	case CLX_NOMEM: return "NOMEM";
	}
	snprintf(buf, sizeof(buf), "%d", t);
	return buf;
}

/* libconfuse's token as conflex's; -1 for a comment. */
static int
fuzz_theirs(int tok)
{
	switch (tok) {
	case EOF: return CLX_EOF;
	case 0: return CLX_ERROR;
	case CFGT_STR: return CLX_STR;
	case CFGT_COMMENT: return -1;
	case '{': return CLX_LBRACE;
	case '}': return CLX_RBRACE;
	case '(': return CLX_LPAREN;
	case ')': return CLX_RPAREN;
	case '=': return CLX_EQ;
	case '+': return CLX_PLUSEQ;
	case ',': return CLX_COMMA;
	}
	fprintf(stderr, "unknown libconfuse token %d\n", tok);
	abort();
}

static void
fuzz_compare(const char *text, size_t len)
{
	struct conflex	 lx;
	FILE		*fp;
	int		 theirs, mine, line, n = 0;
	bool		 lines = memmem(text, len, "${", 2) == NULL;

	if (len == 0)
		return;
	if ((fp = fmemopen((void *)text, len, "r")) == NULL)
		abort();
	cfg_yyout = devnull;
	cfg->line = 1;
	cfg_scan_fp_begin(fp);
	conflex_init(&lx, text, len);
	for (;; n++) {
		/* libconfuse counts lines wrong after a comment */
		while ((theirs = fuzz_theirs(cfg_yylex(cfg))) == -1)
			lines = false;
		mine = conflex_next(&lx, &line);
		if (mine == CLX_NOMEM)
			abort();
		if (mine == CLX_CUT && (theirs == CLX_EOF ||
		    theirs == CLX_ERROR))
			break;
		if (mine != theirs) {
			fprintf(stderr, "token %d: libconfuse %s '%s', conflex "
			    "%s '%s' (%s)\n", n, fuzz_name(theirs),
			    theirs == CLX_STR ? cfg_yylval : "",
			    fuzz_name(mine), mine == CLX_STR ? lx.lx_val : "",
			    lx.lx_msg);
			abort();
		}
		if (mine == CLX_STR && strcmp(cfg_yylval, lx.lx_val) != 0) {
			fprintf(stderr, "token %d: libconfuse '%s', conflex "
			    "'%s'\n", n, cfg_yylval, lx.lx_val);
			abort();
		}
		/* both count up to the end of the token */
		if (lines && mine != CLX_ERROR && mine != CLX_EOF &&
		    lx.lx_line != cfg->line) {
			fprintf(stderr, "token %d (%s): libconfuse line %d, "
			    "conflex %d\n", n, fuzz_name(mine), cfg->line,
			    lx.lx_line);
			abort();
		}
		if (mine == CLX_EOF || mine == CLX_ERROR)
			break;
	}
	conflex_free(&lx);
	cfg_scan_fp_end();
	fclose(fp);
	/* a string or comment left open stays open in libconfuse: reset */
	cfg_yylex_destroy();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*text;
	size_t		 len;
	int		 line;
	const char	*msg;

	fuzz_compare((const char *)data, size);
	if (conflex_prepare((const char *)data, size, &text, &len, &line,
	    &msg) == 0) {
		fuzz_compare(text, len);
		free(text);
	} else if (msg == NULL)
		abort();
	return 0;
}
