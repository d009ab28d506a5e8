/*
 * The libconfuse glue.  libconfuse does the tokenising and the nesting;
 * fpmd does everything else.  Every option is declared as a string and
 * converted by our own validate callback, which runs right after the value
 * is read: that is the only moment libconfuse 3.3 knows the option's line,
 * and a callback that never fails lets the parse go on past a bad value.
 * Root and pool sections are CFGF_KEYSTRVAL so that an unknown option is
 * reported (through the error function) and skipped instead of ending the
 * parse.  libconfuse 3.3 also miscounts lines after comments, so it only
 * ever sees text whose comments common/conflex.c has blanked out.
 */
#include <ctype.h>
#include <libintl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <confuse.h>

#include "conf_int.h"

/*
 * A sub-section of every pool that nobody writes: libconfuse creates it when
 * the pool's '{' is read and copies the line and file into it, which is the
 * only record of where the pool starts (the pool's own line field moves on
 * with the parse).
 */
#define CONF_OPEN_SEC		" open"

/* The free-form pool sections, in the order their settings are applied. */
static const struct {
	const char	*name;
	bool		 admin;
	bool		 flag;
} php_secs[] = {
	{ "php_value", false, false },
	{ "php_flag", false, true },
	{ "php_admin_value", true, false },
	{ "php_admin_flag", true, true },
};

/*
 * php-fpm directives fpmd has no equivalent for, so that a migrated file
 * gets a reason rather than a bare "unknown option".
 */
static const struct {
	const char	*name;
	const char	*why;		/* NULL: nothing to add */
} fpm_only[] = {
	{ "pid", "fpmd writes no pid file" },
	{ "daemonize", "fpmd always runs in the foreground" },
	{ "events.mechanism", "fpmd always uses epoll" },
	{ "systemd_interval", "fpmd tells systemd its status when it "
	    "changes" },
	{ "prefix", "relative paths start at the config file's directory" },
	{ "listen.setfib", "FreeBSD's routing tables have none on Linux "
	    "(use ip rule or a network namespace)" },
};

/*
 * libconfuse's callbacks carry no user pointer; conf_load() is not
 * reentrant anyway, since the lexer underneath keeps global state.
 */
static struct conf_load *conf_cur;

static bool
conf_pool_name_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("._-", *s) == NULL)
			return false;
	return true;
}

/* The pool whose section sec is, made when its first option is read. */
static struct conf_pool *
conf_pool_get(struct conf_load *cl, cfg_t *sec)
{
	struct conf_pool *cp, *tmp;
	struct pool_conf *pc;
	cfg_t		*open;
	const char	*name = sec->title;
	size_t		 i;

	if (cl->open_sec == sec)
		return &cl->pools[cl->npools - 1];
	if ((open = cfg_getsec(sec, CONF_OPEN_SEC)) == NULL)
		return NULL;
	tmp = reallocarray(cl->pools, cl->npools + 1, sizeof(*cl->pools));
	if (tmp == NULL)
		return NULL;
	cl->pools = tmp;
	cp = &cl->pools[cl->npools];
	memset(cp, 0, sizeof(*cp));
	pc = &cp->pc;
	pc->listen_backlog = CONF_BACKLOG;
	pc->listen_uid = (uid_t)-1;
	pc->listen_gid = (gid_t)-1;
	pc->listen_mode = CONF_MODE;
	pc->max_spawn_rate = CONF_SPAWN_RATE;
	pc->process_idle_timeout = CONF_IDLE_TIMEOUT;
	pc->request_read_timeout = CONF_READ_TIMEOUT;
	pc->request_slowlog_trace_depth = CONF_SLOWLOG_DEPTH;
	pc->uid = (uid_t)-1;
	pc->gid = (gid_t)-1;
	pc->clear_env = true;
	pc->allow_php_value_param = true;
	pc->decorate_workers_output = true;
	pc->rlimit_files = -1;
	pc->rlimit_core = -1;
	pc->process_priority = FPMD_PRIORITY_UNSET;
	pc->line = open->line;
	pc->name = strdup(name);
	pc->file = strdup(open->filename);
	cl->npools++;
	cl->open_sec = sec;
	if (pc->name == NULL || pc->file == NULL ||
	    conf_exts(pc, CONF_EXTENSIONS) == -1) {
		cl->oom = true;
		return NULL;
	}

	if (*name == '\0' || !conf_pool_name_ok(name))
		conf_err(cl, pc->file, pc->line, NULL, "pool name '%s' may "
		    "only have letters, digits, '.', '_' and '-'", name);
	else if (strlen(name) > CONF_POOL_NAME_MAX)
		conf_err(cl, pc->file, pc->line, NULL, "pool name '%s' is "
		    "longer than %d characters", name, CONF_POOL_NAME_MAX);
	for (i = 0; i + 1 < cl->npools; i++) {
		if (strcmp(cl->pools[i].pc.name, name) == 0) {
			conf_err(cl, pc->file, pc->line, NULL, "pool '%s' is "
			    "already defined at %s:%d", name,
			    cl->pools[i].pc.file, cl->pools[i].pc.line);
			break;
		}
	}
	return cp;
}

/* Validate callback of every declared option: convert, check, store. */
static int
conf_cb_option(cfg_t *sec, cfg_opt_t *opt)
{
	struct conf_load	*cl = conf_cur;
	struct conf_pool	*cp = NULL;
	const struct conf_opt	*o;
	const char		*raw = cfg_opt_getnstr(opt, 0);
	const char		*file = sec->filename;
	char			*v;
	size_t			 i, n;

	/* Out of memory, a half-made pool may be about: stop right here. */
	if (cl->oom)
		return -1;
	if (raw == NULL)
		raw = "";
	if (strcmp(sec->name, "pool") == 0) {
		if ((cp = conf_pool_get(cl, sec)) == NULL) {
			cl->oom = true;
			return -1;
		}
		o = conf_pool_opts;
		n = PO_COUNT;
	} else {
		o = conf_global_opts;
		n = GO_COUNT;
	}
	for (i = 0; i < n; i++)
		if (strcmp(o[i].name, opt->name) == 0)
			break;
	if (i == n)
		return 0;
	if (cp != NULL) {
		cp->line[i] = sec->line;
		v = conf_expand(raw, cp->pc.name);
	} else {
		cl->gfile[i] = file;
		cl->gline[i] = sec->line;
		if (strstr(raw, "$pool") != NULL) {
			conf_err(cl, file, sec->line, NULL, "%s: '$pool' can "
			    "only be used inside a pool", o[i].name);
			return 0;
		}
		v = strdup(raw);
	}
	if (v == NULL) {
		cl->oom = true;
		return -1;
	}
	conf_store(cl, cp, &o[i], v, file, sec->line);
	free(v);
	/* An include whose lexer got stuck ends the including files too. */
	return cl->lexer_stuck || cl->oom ? -1 : 0;
}

static int
conf_key_line(struct conf_load *cl, cfg_t *sec, const char *key)
{
	size_t	 i;

	for (i = 0; i < cl->nkeys; i++)
		if (cl->keys[i].sec == sec && strcmp(cl->keys[i].key, key) == 0)
			return cl->keys[i].line;
	return sec->line;
}

static void
conf_keys_clear(struct conf_load *cl)
{
	size_t	 i;

	for (i = 0; i < cl->nkeys; i++)
		free(cl->keys[i].key);
	free(cl->keys);
	cl->keys = NULL;
	cl->nkeys = 0;
}

/* Copies a pool's free-form sections once its '}' has been read. */
static void
conf_pool_harvest(struct conf_load *cl, struct conf_pool *cp, cfg_t *sec)
{
	struct pool_conf	*pc = &cp->pc;
	cfg_t			*kv;
	cfg_opt_t		*opt;
	struct php_setting	*php;
	struct kv		*env;
	const char		*val;
	char			*v;
	unsigned int		 i, n;
	size_t			 s;
	bool			 b = false;

	kv = cfg_getsec(sec, "env");
	n = cfg_num(kv);
	if (n > 0 && (pc->env = calloc(n, sizeof(*pc->env))) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		opt = cfg_getnopt(kv, i);
		if ((val = cfg_opt_getnstr(opt, 0)) == NULL)
			val = "";
		if (*val == '\0')
			conf_err(cl, pc->file, conf_key_line(cl, kv, opt->name),
			    pc->name, "env %s: empty value", opt->name);
		env = &pc->env[pc->nenv++];
		if ((env->key = strdup(opt->name)) == NULL ||
		    (env->value = conf_expand(val, pc->name)) == NULL)
			goto oom;
	}

	for (s = 0; s < sizeof(php_secs) / sizeof(php_secs[0]); s++) {
		kv = cfg_getsec(sec, php_secs[s].name);
		if ((n = cfg_num(kv)) == 0)
			continue;
		php = reallocarray(pc->php, pc->nphp + n, sizeof(*pc->php));
		if (php == NULL)
			goto oom;
		pc->php = php;
		for (i = 0; i < n; i++) {
			opt = cfg_getnopt(kv, i);
			if ((val = cfg_opt_getnstr(opt, 0)) == NULL)
				val = "";
			php = &pc->php[pc->nphp++];
			memset(php, 0, sizeof(*php));
			php->admin = php_secs[s].admin;
			php->flag = php_secs[s].flag;
			if ((php->name = strdup(opt->name)) == NULL ||
			    (v = conf_expand(val, pc->name)) == NULL)
				goto oom;
			if (!php->flag) {
				php->value = v;
				continue;
			}
			if (conf_bool(v, &b) == -1)
				conf_err(cl, pc->file, conf_key_line(cl, kv,
				    opt->name), pc->name, "%s %s: '%s' is not "
				    "on or off", php_secs[s].name, opt->name, v);
			free(v);
			if ((php->value = strdup(b ? "1" : "0")) == NULL)
				goto oom;
		}
	}
	return;
oom:
	cl->oom = true;
}

/* Validate callback of the pool section: called after its '}'. */
static int
conf_cb_pool(cfg_t *parent, cfg_opt_t *opt)
{
	struct conf_load	*cl = conf_cur;
	struct conf_pool	*cp;
	cfg_t			*sec = cfg_opt_getnsec(opt, 0);

	if (cl->oom || (cp = conf_pool_get(cl, sec)) == NULL) {
		cl->oom = true;
		return -1;
	}
	conf_pool_harvest(cl, cp, sec);
	cl->open_sec = NULL;
	conf_keys_clear(cl);
	/*
	 * Drop the section: a second "pool www" then makes a fresh one
	 * (instead of libconfuse quietly replacing the first) and our
	 * duplicate check can name both places.
	 */
	cfg_opt_rmnsec(opt, 0);
	return cl->oom ? -1 : 0;
}

static bool
conf_is_freeform(cfg_t *sec)
{
	size_t	 i;

	if (strcmp(sec->name, "env") == 0)
		return true;
	for (i = 0; i < sizeof(php_secs) / sizeof(php_secs[0]); i++)
		if (strcmp(sec->name, php_secs[i].name) == 0)
			return true;
	return false;
}

/*
 * The edit distance of a and b, case aside, with a swap of two neighbours
 * one edit (pm.max_chlidren); SIZE_MAX past CONF_SUGGEST_LEN.
 */
#define CONF_SUGGEST_LEN	64

static size_t
conf_distance(const char *a, const char *b)
{
	size_t	 d[CONF_SUGGEST_LEN + 1][CONF_SUGGEST_LEN + 1];
	size_t	 la = strlen(a), lb = strlen(b), i, j, c, v;

	if (la > CONF_SUGGEST_LEN || lb > CONF_SUGGEST_LEN)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			c = tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]);
			v = d[i - 1][j - 1] + c;
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

/*
 * The option of opts that name most likely misspells, or -1: the nearest,
 * if it is near enough for its length (one edit up to 4 letters, two up
 * to 10, three beyond) and no other is as near.
 */
static int
conf_suggest(const char *name, const struct conf_opt *opts, size_t n)
{
	size_t	 i, d, best = SIZE_MAX, len = strlen(name), most;
	int	 which = -1;
	bool	 tie = false;

	most = len <= 4 ? 1 : len <= 10 ? 2 : 3;
	for (i = 0; i < n; i++) {
		d = conf_distance(name, opts[i].name);
		if (d < best) {
			best = d;
			which = (int)i;
			tie = false;
		} else if (d == best)
			tie = true;
	}
	return best <= most && !tie ? which : -1;
}

static void
conf_unknown(struct conf_load *cl, cfg_t *sec, const char *name)
{
	struct conf_pool *cp;
	int		 s;
	const char	*pool = NULL, *br;
	size_t		 i;

	if (strcmp(sec->name, "pool") == 0)
		pool = sec->title;
	cl->unknown_file = cl->files.cs_cur;
	cl->unknown_line = sec->line;
	for (i = 0; i < sizeof(fpm_only) / sizeof(fpm_only[0]); i++) {
		if (strcmp(name, fpm_only[i].name) != 0)
			continue;
		conf_err(cl, sec->filename, sec->line, pool, "php-fpm's '%s' "
		    "has no fpmd equivalent%s%s", name,
		    fpm_only[i].why != NULL ? ": " : "",
		    fpm_only[i].why != NULL ? fpm_only[i].why : "");
		return;
	}
	if (strncmp(name, "access.suppress_path[", 21) == 0) {
		conf_err(cl, sec->filename, sec->line, pool, "unknown option "
		    "'%s' (write access.suppress_path = \"/ping /health\": "
		    "one line, the paths separated by spaces)", name);
		return;
	}
	if ((br = strchr(name, '[')) != NULL) {
		conf_err(cl, sec->filename, sec->line, pool, "unknown option "
		    "'%s' (write %.*s { KEY = VALUE })", name,
		    (int)(br - name), name);
		return;
	}
	if (pool != NULL && strcmp(name, "include") == 0) {
		conf_err(cl, sec->filename, sec->line, pool, "include is only "
		    "allowed outside pool sections");
		return;
	}
	for (i = 0; pool == NULL && i < PO_COUNT; i++) {
		if (strcmp(name, conf_pool_opts[i].name) == 0) {
			conf_err(cl, sec->filename, sec->line, NULL, "'%s' is a "
			    "pool option: put it inside pool NAME { ... }",
			    name);
			return;
		}
	}
	for (i = 0; pool != NULL && i < GO_COUNT; i++) {
		if (strcmp(name, conf_global_opts[i].name) == 0) {
			conf_err(cl, sec->filename, sec->line, pool, "'%s' is a "
			    "global option: put it outside the pool", name);
			return;
		}
	}
	if (pool != NULL &&
	    (s = conf_suggest(name, conf_pool_opts, PO_COUNT)) != -1) {
		if ((cp = conf_pool_get(cl, sec)) == NULL) {
			cl->oom = true;
			return;
		}
		cp->meant[s] = true;
		conf_err(cl, sec->filename, sec->line, pool, "unknown option "
		    "'%s' (did you mean '%s'?)", name, conf_pool_opts[s].name);
		return;
	}
	if (pool == NULL &&
	    (s = conf_suggest(name, conf_global_opts, GO_COUNT)) != -1) {
		conf_err(cl, sec->filename, sec->line, pool, "unknown option "
		    "'%s' (did you mean '%s'?)", name, conf_global_opts[s].name);
		return;
	}
	conf_err(cl, sec->filename, sec->line, pool, "unknown option '%s'",
	    name);
}

/* Is fmt libconfuse's message msgid, translated or not? */
static bool
conf_msg_is(const char *fmt, const char *msgid)
{
	return strcmp(fmt, msgid) == 0 ||
	    strcmp(fmt, dgettext("confuse", msgid)) == 0;
}

/*
 * libconfuse's error function.  In a CFGF_KEYSTRVAL section libconfuse 3.3
 * reports "no such option" for every new key before it adds the key: in the
 * free-form sections that is no error (but tells us the key's line); in the
 * root and pool sections it is an unknown option.
 *
 * The lexer's errors inside a string leave its global state inside the
 * string, so whatever file included this one cannot be read on reliably.
 */
static void __attribute__((format(printf, 2, 0)))
conf_cb_error(cfg_t *sec, const char *fmt, va_list ap)
{
	struct conf_load	*cl = conf_cur;
	struct conf_key		*k;
	const char		*name;
	char			 msg[512];
	va_list			 aq;

	if (conf_msg_is(fmt, "bad escape sequence '%s'") ||
	    conf_msg_is(fmt, "invalid octal number '%s'") ||
	    conf_msg_is(fmt, "unterminated string constant"))
		cl->lexer_stuck = true;
	if (conf_msg_is(fmt, "no such option '%s'")) {
		va_copy(aq, ap);
		name = va_arg(aq, const char *);
		va_end(aq);
		if (!conf_is_freeform(sec)) {
			conf_unknown(cl, sec, name);
			return;
		}
		k = reallocarray(cl->keys, cl->nkeys + 1, sizeof(*cl->keys));
		if (k == NULL) {
			cl->oom = true;
			return;
		}
		cl->keys = k;
		k = &cl->keys[cl->nkeys];
		if ((k->key = strdup(name)) == NULL) {
			cl->oom = true;
			return;
		}
		k->sec = sec;
		k->line = sec->line;
		cl->nkeys++;
		return;
	}
	cl->broken = true;
	/* "missing equal sign after option 'x'" right after "unknown 'x'" */
	if (cl->unknown_file == cl->files.cs_cur &&
	    cl->unknown_line == sec->line)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	conf_err(cl, sec->filename != NULL ? sec->filename :
	    cl->files.cs_cur->cf_name, sec->line, NULL, "%s", msg);
}

/* Builds libconfuse's option tables: every option a string, see above. */
int
conf_confuse_init(struct conf_load *cl)
{
	static cfg_opt_t	 kv_opts[] = { CFG_END() };
	static cfg_opt_t	 open_opts[] = { CFG_END() };
	cfg_opt_t		*o;
	size_t			 i, n;

	n = PO_COUNT + 1 + sizeof(php_secs) / sizeof(php_secs[0]) + 1;
	if ((cl->pool_opts = calloc(n + 1, sizeof(cfg_opt_t))) == NULL)
		return -1;
	o = cl->pool_opts;
	for (i = 0; i < PO_COUNT; i++, o++) {
		o->name = conf_pool_opts[i].name;
		o->type = CFGT_STR;
		o->validcb = conf_cb_option;
	}
	o->name = "env";
	o->type = CFGT_SEC;
	o->flags = CFGF_KEYSTRVAL;
	o->subopts = kv_opts;
	o++;
	for (i = 0; i < sizeof(php_secs) / sizeof(php_secs[0]); i++, o++) {
		o->name = php_secs[i].name;
		o->type = CFGT_SEC;
		o->flags = CFGF_KEYSTRVAL;
		o->subopts = kv_opts;
	}
	o->name = CONF_OPEN_SEC;
	o->type = CFGT_SEC;
	o->subopts = open_opts;

	if ((cl->root_opts = calloc(GO_COUNT + 2, sizeof(cfg_opt_t))) == NULL)
		return -1;
	o = cl->root_opts;
	for (i = 0; i < GO_COUNT; i++, o++) {
		o->name = conf_global_opts[i].name;
		o->type = CFGT_STR;
		o->validcb = conf_cb_option;
	}
	o->name = "pool";
	o->type = CFGT_SEC;
	o->flags = CFGF_MULTI | CFGF_TITLE;
	o->subopts = cl->pool_opts;
	o->validcb = conf_cb_pool;
	return 0;
}

/*
 * Has libconfuse read text, the prepared text of the file name (which is
 * files.cs_cur), with our tables and callbacks.  Its cfg is kept until the
 * end of the load: see conf_confuse_free().
 */
void
conf_confuse_parse(struct conf_load *cl, const char *name, char *text,
    size_t len)
{
	struct conf_load *prev = conf_cur;
	cfg_t		**cfgs, *cfg;
	size_t		 errlen;
	FILE		*fp;
	int		 rc;

	cfgs = reallocarray(cl->cfgs, cl->ncfgs + 1, sizeof(*cl->cfgs));
	if (cfgs == NULL)
		goto oom;
	cl->cfgs = cfgs;
	if ((cfg = cfg_init(cl->root_opts, CFGF_KEYSTRVAL)) == NULL)
		goto oom;
	cl->cfgs[cl->ncfgs++] = cfg;
	cfg_set_error_function(cfg, conf_cb_error);
	if ((cfg->filename = strdup(name)) == NULL)
		goto oom;
	if ((fp = fmemopen(text, len, "r")) == NULL)
		goto oom;

	conf_cur = cl;
	errlen = cl->errlen;
	rc = cfg_parse_fp(cfg, fp);
	conf_cur = prev;
	fclose(fp);
	if (rc != CFG_SUCCESS) {
		cl->broken = true;
		if (cl->errlen == errlen)
			conf_err(cl, name, cfg->line, NULL, "syntax error");
	}
	return;
oom:
	cl->oom = true;
}

/*
 * Only now: cfg_free() of a root cfg resets libconfuse's lexer, which an
 * included file's cfg would do in the middle of reading the including one.
 */
void
conf_confuse_free(struct conf_load *cl)
{
	size_t	 i;

	for (i = 0; i < cl->ncfgs; i++)
		cfg_free(cl->cfgs[i]);
	free(cl->cfgs);
	cl->cfgs = NULL;
	cl->ncfgs = 0;
	conf_keys_clear(cl);
	free(cl->pool_opts);
	free(cl->root_opts);
	cl->pool_opts = cl->root_opts = NULL;
}
