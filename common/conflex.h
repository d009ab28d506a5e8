/*
 * The text of an fpmd configuration file, as fpmd reads it: the pre-pass
 * that blanks comments, a tokenizer that splits the rest exactly as
 * libconfuse 3.3's lexer does, and a walk over the tokens that knows the
 * grammar (NAME = VALUE, NAME [TITLE] { ... }).  fpmd uses the walk to find
 * what libconfuse cannot tell from a '}' (a file that ends inside a block,
 * or inside a string); fpmctl uses it to find control.socket without
 * linking the daemon's reader.
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

enum conflex_tok {
	CLX_EOF = 0,
	CLX_STR,		/* a word or a string; its value in lx_val */
	CLX_LBRACE,
	CLX_RBRACE,
	CLX_LPAREN,
	CLX_RPAREN,
	CLX_EQ,
	CLX_PLUSEQ,		/* += */
	CLX_COMMA,
	CLX_ERROR,		/* what libconfuse's lexer refuses: lx_msg */
	CLX_CUT,		/* a string or comment never ends: lx_msg */
	CLX_NOMEM
};

struct conflex {
	const char	*lx_p;
	const char	*lx_end;
	int		 lx_line;	/* counted by newlines, all of them */
	char		*lx_val;	/* CLX_STR: NUL-terminated */
	size_t		 lx_len;
	size_t		 lx_size;
	char		 lx_msg[256];
};

void		 conflex_init(struct conflex *lx, const char *text,
		    size_t len);
/* The next token; *line is where it starts. */
enum conflex_tok conflex_next(struct conflex *lx, int *line);
void		 conflex_free(struct conflex *lx);

enum conflex_problem {
	CLP_SYNTAX,		/* not NAME = VALUE or NAME [TITLE] { */
	CLP_LEXER,		/* libconfuse's lexer would stop here */
	CLP_CUT			/* the text ends inside a block or string */
};

struct conflex_walk {
	/*
	 * NAME = VALUE (or NAME += VALUE: append true); depth is the number
	 * of blocks around it, 0 at the top.  Returns 0, or -1 to stop.
	 */
	int	(*cw_assign)(void *arg, int depth, const char *name,
		    const char *value, bool append, int line);
	/* pool: the pool the problem is in, or NULL. */
	void	(*cw_problem)(void *arg, enum conflex_problem kind, int line,
		    const char *pool, const char *msg);
	void	*cw_arg;
};

/*
 * Walks prepared text (see conflex_prepare).  Every block still open at the
 * end is a CLP_CUT problem at the line where it opened, and so is a string
 * that does not end.  Only the first CLP_SYNTAX problem is told (libconfuse
 * stops there too); a CLP_LEXER problem ends the walk.  Returns 0 if
 * nothing was told, 1 if something was, -1 when out of memory or stopped
 * by cw_assign.
 */
int		 conflex_walk(const char *text, size_t len,
		    const struct conflex_walk *w);

/*
 * Messages quote what the file says, and a quoted value may hold newlines,
 * control characters or bytes that are not UTF-8.  conflex_vis writes src
 * with those as \n, \t or \xHH, so that every message stays one line of
 * valid UTF-8; dst has 4 * strlen(src) + 1 bytes.
 */
void		 conflex_vis(char *dst, const char *src);

/*
 * Appends "FILE:LINE: [pool NAME: ]msg\n" (LINE left out when 0), made
 * visible as above, to the NUL-terminated list *list of *len bytes: the
 * form of every configuration problem, fpmd's and fpmctl's alike.  -1
 * when out of memory (the list is left as it was).
 */
int		 conflex_errline(char **list, size_t *len, const char *file,
		    int line, const char *pool, const char *msg);

/*
 * php-fpm's INI syntax met in an fpmd file: a "[NAME]" line, or a ';'
 * comment (at the start of a line, or after a space), seen outside fpmd's
 * strings and comments in the raw text.  The first CONFLEX_INI_MAX are
 * kept, in order.
 */
#define CONFLEX_INI_MAX		16

struct conflex_ini_mark {
	int		 im_line;
	bool		 im_comment;	/* else a [NAME] line */
	char		 im_name[64];	/* NAME, cut if longer */
};

struct conflex_ini {
	struct conflex_ini_mark ci_marks[CONFLEX_INI_MAX];
	size_t		 ci_nmarks;
	size_t		 ci_more;	/* found past CONFLEX_INI_MAX */
	bool		 ci_section;	/* a [NAME] line among them */
	bool		 ci_brace;	/* a '{' of fpmd's syntax */
};

void		 conflex_ini_scan(const char *in, size_t len,
		    struct conflex_ini *ci);

#endif /* FPMD_CONFLEX_H */
