/*
 * fpmd's SAPI (with sapimod.c, sapiini.c, slowlog.c and userini.c, the
 * files that see PHP's headers).  It is named "fpm-fcgi" because opcache
 * only enables itself for a fixed list of SAPI names, and because
 * applications test php_sapi_name().
 *
 * The prototype calls sapi_proto_startup() once (module start-up with the
 * pool's php.ini and settings); each worker then calls sapi_handle() per
 * request.  What a script sees follows php-fpm: $_SERVER from the FastCGI
 * params, cgi.fix_pathinfo for SCRIPT_NAME/PATH_INFO/PHP_SELF, "Status:"
 * lines, 404 "File not found." and 403 "Access denied.", and
 * fastcgi_finish_request(), fpm_get_status(), getallheaders() and
 * apache_request_headers() (sapimod.c), .user.ini files (userini.c) and
 * REQUEST_BODY_FILE.  Unlike php-fpm, PHP_VALUE/PHP_ADMIN_VALUE params
 * last for one request, and neither can widen open_basedir.
 */
#include <php.h>
#include <SAPI.h>
#include <php_main.h>
#include <php_variables.h>
#include <php_ini.h>
#include <php_output.h>
#include <zend_ini.h>
#include <zend_signal.h>
#include <zend_ini_scanner.h>
#include <ext/standard/head.h>
#include <ext/standard/info.h>
#include <http_status_codes.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <syslog.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fpmd.h"
#include "sapi_int.h"

static struct fpmd_req		*cur;		/* the request being served */
static const struct pool_conf	*sapi_pool;
/* REQUEST_BODY_FILE, once opened; whether its failure was logged */
static int			 body_fd = -1;
static bool			 body_failed;

/*
 * Params the path logic rewrites (SCRIPT_FILENAME, PATH_INFO, ORIG_*):
 * they shadow the FastCGI params for $_SERVER and getenv().  value NULL
 * means removed.
 */
#define OVR_MAX	10
static struct {
	const char	*name;
	size_t		 nlen;
	char		*value;
} ovr[OVR_MAX];
static int novr;

static const char *
ovr_put(const char *name, const char *value)
{
	size_t nlen = strlen(name);
	int i;

	for (i = 0; i < novr; i++)
		if (ovr[i].nlen == nlen && memcmp(ovr[i].name, name, nlen) == 0)
			break;
	if (i == novr) {
		if (novr == OVR_MAX)
			return NULL;
		novr++;
		ovr[i].name = name;
		ovr[i].nlen = nlen;
	} else
		free(ovr[i].value);
	ovr[i].value = value ? strdup(value) : NULL;
	return ovr[i].value;
}

static int
ovr_find(const char *name, size_t nlen)
{
	int i;

	for (i = 0; i < novr; i++)
		if (ovr[i].nlen == nlen && memcmp(ovr[i].name, name, nlen) == 0)
			return i;
	return -1;
}

static void
ovr_reset(void)
{
	int i;

	for (i = 0; i < novr; i++)
		free(ovr[i].value);
	novr = 0;
}

static const char *
req_env(const char *name, size_t nlen)
{
	int i;

	if (cur == NULL)
		return NULL;
	if (novr > 0 && (i = ovr_find(name, nlen)) != -1)
		return ovr[i].value;
	/* php-fpm adds the role to the params; we only serve responders */
	if (nlen == sizeof("FCGI_ROLE") - 1 &&
	    memcmp(name, "FCGI_ROLE", nlen) == 0)
		return "RESPONDER";
	return fcgi_params_get(&cur->params, name, nlen);
}
#define ENV(lit)	req_env((lit), sizeof(lit) - 1)

/*
 * A param of r as PHP saw it, the path logic's rewrites included, for the
 * access log's %e once the request is done: what the SAPI rewrote stays
 * until its next request.  A request answered by statuspage.c has only
 * its params.
 */
const char *
sapi_request_env(const struct fpmd_req *r, const char *name, size_t nlen)
{
	int i;

	if (r->sapi_ran && novr > 0 && (i = ovr_find(name, nlen)) != -1)
		return ovr[i].value;
	if (nlen == sizeof("FCGI_ROLE") - 1 &&
	    memcmp(name, "FCGI_ROLE", nlen) == 0)
		return "RESPONDER";
	return fcgi_params_get(&r->params, name, nlen);
}

/* For sapimod.c: the request being served, and the pool. */
struct fpmd_req *
sapi_request(void)
{
	return cur;
}

const struct pool_conf *
sapi_pool_conf(void)
{
	return sapi_pool;
}

/* SAPI callbacks */

static size_t
sapi_fpmd_ub_write(const char *str, size_t len)
{
	if (cur == NULL) {
		/* start-up, preload: nobody to answer */
		return len;
	}
	if (conn_write(cur, str, len) == -1) {
		php_handle_aborted_connection();
		return 0;
	}
	return len;
}

static void
sapi_fpmd_flush(void *ctx)
{
	if (cur == NULL || ctx == NULL)
		return;
	if (!SG(headers_sent))
		sapi_send_headers();
	if (conn_flush(cur) == -1)
		php_handle_aborted_connection();
}

static char *
sapi_fpmd_getenv(const char *name, size_t nlen)
{
	return (char *)req_env(name, nlen);
}

static const char *
status_reason(int code)
{
	const http_response_status_code_pair *p;

	for (p = http_status_map; p->str != NULL; p++)
		if (p->code == code)
			return p->str;
	return NULL;
}

#define HDR_WRITE(s, n)	conn_write(cur, (s), (n))

static int
sapi_fpmd_send_headers(sapi_headers_struct *h)
{
	zend_llist_position pos;
	sapi_header_struct *hd;
	char buf[1024];
	const char *reason, *sp;
	bool ignore_status = false;
	int code = h->http_response_code, n;

	if (cur == NULL || SG(request_info).no_headers)
		return SAPI_HEADER_SENT_SUCCESSFULLY;
	cur->status = code;
	if (sapi_cgi.nph || code != 200) {
		n = 0;
		if (sapi_cgi.rfc2616_headers && h->http_status_line != NULL) {
			n = snprintf(buf, sizeof(buf), "%s",
			    h->http_status_line);
		} else if (h->http_status_line != NULL &&
		    (sp = strchr(h->http_status_line, ' ')) != NULL &&
		    sp - h->http_status_line >= 5 &&
		    strncasecmp(h->http_status_line, "HTTP/", 5) == 0) {
			n = snprintf(buf, sizeof(buf), "Status:%s", sp);
		} else {
			hd = zend_llist_get_first_ex(&h->headers, &pos);
			while (hd != NULL) {
				if (hd->header_len > 7 &&
				    strncasecmp(hd->header, "Status:", 7) == 0)
					break;
				hd = zend_llist_get_next_ex(&h->headers, &pos);
			}
			if (hd == NULL) {
				reason = status_reason(code);
				n = reason ? snprintf(buf, sizeof(buf),
				    "Status: %d %s", code, reason) :
				    snprintf(buf, sizeof(buf), "Status: %d",
				    code);
			}
		}
		if (n > 0) {
			if ((size_t)n >= sizeof(buf))
				n = sizeof(buf) - 1;
			HDR_WRITE(buf, (size_t)n);
			HDR_WRITE("\r\n", 2);
			ignore_status = true;
		}
	}
	hd = zend_llist_get_first_ex(&h->headers, &pos);
	while (hd != NULL) {
		if (hd->header_len == 0) {
			/* nothing: an empty line would end the headers */
		} else if (hd->header_len > 7 &&
		    strncasecmp(hd->header, "Status:", 7) == 0) {
			if (!ignore_status) {
				ignore_status = true;
				HDR_WRITE(hd->header, hd->header_len);
				HDR_WRITE("\r\n", 2);
			}
		} else if (code == 304 && hd->header_len > 13 &&
		    strncasecmp(hd->header, "Content-Type:", 13) == 0) {
			/* a 304 has no body to type */
		} else {
			HDR_WRITE(hd->header, hd->header_len);
			HDR_WRITE("\r\n", 2);
		}
		hd = zend_llist_get_next_ex(&h->headers, &pos);
	}
	HDR_WRITE("\r\n", 2);
	return SAPI_HEADER_SENT_SUCCESSFULLY;
}

/*
 * REQUEST_BODY_FILE (nginx's client_body_in_file_only and
 * fastcgi_pass_request_body off): the web server wrote the body to a file
 * and sends its name instead of the body.  A file that cannot be opened
 * gives an empty body and php-fpm's warning, tried again at each read as
 * php-fpm does, and one line in fpmd's log: the fault is the web
 * server's configuration, which the PHP warning may not reach.
 */
static ssize_t
body_file_read(const char *path, char *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;
	int e;

	if (body_fd == -1 &&
	    (body_fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		e = errno;
		if (!body_failed)
			log_warnx("REQUEST_BODY_FILE '%s' cannot be opened: %s "
			    "(the script gets an empty body; check the web "
			    "server's client_body_temp_path and the pool "
			    "user's rights)", path, strerror(e));
		body_failed = true;
		php_error(E_WARNING, "REQUEST_BODY_FILE: open('%s') failed: "
		    "%s (%d)", path, strerror(e), e);
		return 0;
	}
	while (done < len) {
		n = read(body_fd, buf + done, len - done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == -1 && !body_failed) {
				log_warn("REQUEST_BODY_FILE '%s'", path);
				body_failed = true;
			}
			break;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static size_t
sapi_fpmd_read_post(char *buf, size_t len)
{
	const char *file;
	size_t left;
	ssize_t n;

	if (cur == NULL)
		return 0;
	left = (size_t)(SG(request_info).content_length -
	    (zend_long)SG(read_post_bytes));
	if (SG(request_info).content_length <= 0)
		left = len;	/* no length given: read to the end */
	if (len > left)
		len = left;
	if ((file = ENV("REQUEST_BODY_FILE")) != NULL && *file != '\0')
		n = body_file_read(file, buf, len);
	else
		n = conn_read_body(cur, buf, len);
	return n < 0 ? 0 : (size_t)n;
}

static char *
sapi_fpmd_read_cookies(void)
{
	return (char *)ENV("HTTP_COOKIE");
}

static void
register_one(const char *name, const char *value, size_t vlen, zval *track)
{
	char *val = (char *)value;
	size_t new_len = vlen;

	if (sapi_module.input_filter(PARSE_SERVER, name, &val, vlen, &new_len))
		php_register_variable_safe(name, val, new_len, track);
}

/*
 * The request's params as PHP sees them (the path logic's rewrites), each
 * through reg: register_one for $_SERVER, php_register_variable_safe for
 * an array of a script's (the input filter only takes PHP's own arrays).
 */
static void
register_params(zval *track, void (*reg)(const char *, const char *, size_t,
    zval *))
{
	const struct fcgi_param *p;
	size_t i;
	int k;

	reg("FCGI_ROLE", "RESPONDER", sizeof("RESPONDER") - 1, track);
	for (i = 0; i < cur->params.n; i++) {
		p = &cur->params.v[i];
		if (novr > 0 && ovr_find(p->name, p->nlen) != -1)
			continue;
		reg(p->name, p->value, p->vlen, track);
	}
	for (k = 0; k < novr; k++)
		if (ovr[k].value != NULL)
			reg(ovr[k].name, ovr[k].value, strlen(ovr[k].value),
			    track);
}

/*
 * getenv() without a name, and $_ENV, have the request's params too, as
 * under php-fpm: a copy of $_ENV or $_SERVER when one is filled already,
 * else the environment and the params.
 */
static void	(*import_env_orig)(zval *);

static void
sapi_import_env(zval *array)
{
	static const int from[] = { TRACK_VARS_ENV, TRACK_VARS_SERVER };
	zval *g;
	size_t i;

	for (i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		g = &PG(http_globals)[from[i]];
		if (Z_TYPE_P(g) == IS_ARRAY && Z_ARR_P(array) != Z_ARR_P(g) &&
		    zend_hash_num_elements(Z_ARRVAL_P(g)) > 0) {
			zend_array_destroy(Z_ARR_P(array));
			Z_ARR_P(array) = zend_array_dup(Z_ARR_P(g));
			return;
		}
	}
	import_env_orig(array);
	if (cur != NULL)
		register_params(array, php_register_variable_safe);
}

static void
sapi_fpmd_register_variables(zval *track)
{
	const char *script_name, *path_info;
	char *self;
	size_t sl, pl;

	import_env_orig(track);
	if (cur == NULL)
		return;
	register_params(track, register_one);

	script_name = SG(request_info).request_uri;
	if (!sapi_cgi.fix_pathinfo) {
		register_one("PHP_SELF", script_name ? script_name : "",
		    script_name ? strlen(script_name) : 0, track);
		return;
	}
	path_info = ENV("PATH_INFO");
	sl = script_name ? strlen(script_name) : 0;
	pl = path_info ? strlen(path_info) : 0;
	self = emalloc(sl + pl + 1);
	if (sl)
		memcpy(self, script_name, sl);
	if (pl)
		memcpy(self + sl, path_info, pl);
	self[sl + pl] = '\0';
	register_one("PHP_SELF", self, sl + pl, track);
	efree(self);
}

/*
 * PHP tells the severity as syslog's (fatal and parse errors LOG_ERR,
 * warnings LOG_WARNING, notices, deprecations and error_log() below): the
 * line gets the matching level, so log_level = warning keeps fatal errors
 * (php-fpm logs them all at NOTICE).
 */
static enum log_level
sapi_log_level(int syslog_type)
{
	if (syslog_type <= LOG_ERR)
		return LOG_LVL_ERROR;
	if (syslog_type == LOG_WARNING)
		return LOG_LVL_WARNING;
	if (syslog_type == LOG_DEBUG)
		return LOG_LVL_DEBUG;
	return LOG_LVL_NOTICE;
}

static void
sapi_fpmd_log_message(const char *msg, int syslog_type)
{
	static const char pfx[] = "PHP message: ";
	size_t mlen = strlen(msg);
	char *line;

	sapiini_logged = true;
	if ((line = malloc(sizeof(pfx) + mlen + 1)) == NULL)
		return;
	memcpy(line, pfx, sizeof(pfx) - 1);
	memcpy(line + sizeof(pfx) - 1, msg, mlen);
	log_raw(sapi_log_level(syslog_type), line, sizeof(pfx) - 1 + mlen);
	if (cur != NULL && sapi_cgi.logging && cur->fd != -1 && !cur->ended) {
		line[sizeof(pfx) - 1 + mlen] = '\n';
		conn_stderr(cur, line, sizeof(pfx) + mlen);
	}
	free(line);
}

static zend_result
sapi_fpmd_get_request_time(double *t)
{
	if (cur == NULL)
		return FAILURE;
	*t = (double)cur->start.tv_sec + (double)cur->start.tv_nsec / 1e9;
	return SUCCESS;
}

/*
 * When the request starts, once its script is known: per-host and
 * per-directory settings, .user.ini files (userini.c).  This is where
 * php-fpm 8.2 applies them too: after PHP_VALUE and PHP_ADMIN_VALUE, and
 * after a urlencoded body was read.
 */
static int
sapi_fpmd_activate(void)
{
	if (cur == NULL || SG(request_info).path_translated == NULL)
		return SUCCESS;
	userini_activate(SG(request_info).path_translated,
	    ENV("DOCUMENT_ROOT"), ENV("SERVER_NAME"));
	return SUCCESS;
}

static int sapi_fpmd_startup(sapi_module_struct *sm);

static sapi_module_struct fpmd_sapi = {
	FPMD_SAPI_NAME,			/* name */
	"FPM/FastCGI",			/* pretty name */
	sapi_fpmd_startup,
	php_module_shutdown_wrapper,
	sapi_fpmd_activate,
	NULL,				/* deactivate */
	sapi_fpmd_ub_write,
	sapi_fpmd_flush,
	NULL,				/* get uid */
	sapi_fpmd_getenv,
	php_error,
	NULL,				/* header handler */
	sapi_fpmd_send_headers,
	NULL,				/* send header */
	sapi_fpmd_read_post,
	sapi_fpmd_read_cookies,
	sapi_fpmd_register_variables,
	sapi_fpmd_log_message,
	sapi_fpmd_get_request_time,
	NULL,				/* terminate process */
	STANDARD_SAPI_MODULE_PROPERTIES
};

static int
sapi_fpmd_startup(sapi_module_struct *sm)
{
	return php_module_startup(sm, &sapimod_module_entry);
}

/* Start-up, in the prototype */

/*
 * A value goes into the ini text unquoted when it is safe to, so that
 * constants and expressions ("E_ALL & ~E_NOTICE") are evaluated as they
 * would be in php.ini; anything else is quoted.
 */
static void
ini_append(char **buf, size_t *len, size_t *cap, const char *name,
    const char *value)
{
	size_t need = strlen(name) + 2 * strlen(value) + 8;
	const char *v;
	bool plain = true;
	char *nb, *o;

	for (v = value; *v; v++)
		if (strchr("\"'$;={}[]\\\n\r#`", *v) != NULL) {
			plain = false;
			break;
		}
	if (*len + need > *cap) {
		*cap = (*len + need) * 2;
		if ((nb = realloc(*buf, *cap)) == NULL)
			fatal("%s: realloc", __func__);
		*buf = nb;
	}
	o = *buf + *len;
	o += sprintf(o, "%s=", name);
	if (plain) {
		o += sprintf(o, "%s", value);
	} else {
		*o++ = '"';
		for (v = value; *v; v++) {
			if (*v == '"' || *v == '\\' || *v == '$')
				*o++ = '\\';
			*o++ = *v;
		}
		*o++ = '"';
	}
	*o++ = '\n';
	*o = '\0';
	*len = (size_t)(o - *buf);
}

static int
sapi_ini_lock(const struct php_setting *ps)
{
	zend_ini_entry *e;

	e = zend_hash_str_find_ptr(EG(ini_directives), ps->name,
	    strlen(ps->name));
	if (e == NULL)
		return -1;
	e->modifiable = ZEND_INI_SYSTEM;
	return 0;
}

static bool
pool_sets_env(const struct pool_conf *pc, const char *name)
{
	size_t i;

	if (!pc->clear_env)
		return true;	/* the whole environment is the app's */
	for (i = 0; i < pc->nenv; i++)
		if (strcmp(pc->env[i].key, name) == 0)
			return true;
	return false;
}

int
sapi_proto_startup(const struct fpmd_conf *conf, const struct pool_conf *pc,
    char *err, size_t errlen)
{
	const char *ini, *scan;
	char *dir = NULL, *tmp, *entries = NULL;
	size_t len = 0, cap = 0, i;
	bool scan_set = false;
	struct stat st;
	int rc;

	sapi_pool = pc;
	ini = pc->php_ini ? pc->php_ini : conf->php_ini;
	scan = pc->php_ini_scan_dir ? pc->php_ini_scan_dir :
	    conf->php_ini_scan_dir;
	if (ini != NULL && access(ini, R_OK) == -1) {
		snprintf(err, errlen, "php_ini '%s' cannot be read: %s", ini,
		    strerror(errno));
		return -1;
	}
	/*
	 * PHP's conf.d: php_ini_scan_dir if the config sets it, else
	 * PHP_INI_SCAN_DIR from fpmd's environment (as php-fpm honours it),
	 * else conf.d next to the php.ini, as php-fpm's packages lay it out.
	 */
	if (scan != NULL) {
		setenv("PHP_INI_SCAN_DIR", scan, 1);
		scan_set = true;
	} else if (getenv("PHP_INI_SCAN_DIR") != NULL) {
		scan_set = !pool_sets_env(pc, "PHP_INI_SCAN_DIR");
	} else if (ini != NULL && (tmp = strdup(ini)) != NULL) {
		if (asprintf(&dir, "%s/conf.d", dirname(tmp)) == -1)
			dir = NULL;
		free(tmp);
		if (dir != NULL && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
			setenv("PHP_INI_SCAN_DIR", dir, 1);
			scan_set = true;
		}
	}

	ini_append(&entries, &len, &cap, "fpm.config", conf->file);
	for (i = 0; i < pc->nphp; i++)
		ini_append(&entries, &len, &cap, pc->php[i].name,
		    pc->php[i].value);

	zend_signal_startup();
	sapi_startup(&fpmd_sapi);
	fpmd_sapi.php_ini_path_override = ini ? strdup(ini) : NULL;
	fpmd_sapi.php_ini_ignore_cwd = 1;
	fpmd_sapi.ini_entries = entries;
	fpmd_sapi.ini_defaults = sapiini_defaults;
	import_env_orig = php_import_environment_variables;
	php_import_environment_variables = sapi_import_env;
	rc = fpmd_sapi.startup(&fpmd_sapi);
	sapiini_startup_end();
	if (rc == FAILURE) {
		snprintf(err, errlen, "PHP start-up failed (see the messages "
		    "above)");
		free(dir);
		return -1;
	}
	if (scan_set)
		unsetenv("PHP_INI_SCAN_DIR");
	free(dir);
	for (i = 0; i < pc->nphp; i++) {
		if (strcmp(pc->php[i].name, "extension") == 0 ||
		    strcmp(pc->php[i].name, "zend_extension") == 0)
			continue;
		if (!zend_hash_str_exists(EG(ini_directives), pc->php[i].name,
		    strlen(pc->php[i].name)))
			log_warnx("%s: PHP has no setting '%s' (pool %s)",
			    pc->file, pc->php[i].name, pc->name);
		else if (pc->php[i].admin)
			sapi_ini_lock(&pc->php[i]);
	}
	log_debug("PHP %s started (opcache %s)", PHP_VERSION,
	    zend_hash_str_exists(&module_registry, "zend opcache",
	    sizeof("zend opcache") - 1) ? "loaded" : "not loaded");
	return 0;
}

const char *
sapi_php_version(void)
{
	return PHP_VERSION;
}

/* An ini setting's value in this process (for the status page's headers). */
const char *
sapi_ini_string(const char *name)
{
	bool exists = false;
	const char *v;

	v = zend_ini_string_ex(name, strlen(name), 0, &exists);
	return exists ? v : NULL;
}

bool
sapi_expose_php(void)
{
	return PG(expose_php);
}

/*
 * Zend snapshots signal handlers when it starts; the worker installed its
 * own since, so take the snapshot again or PHP's per-request handlers would
 * fall back to the defaults.
 */
void
sapi_worker_init(void)
{
	zend_signal_startup();
}

/* Per request */

/* No ".." segment: php-fpm refuses such a script path. */
static bool
path_is_valid(const char *path)
{
	const char *p = path, *seg;

	if (path == NULL)
		return false;
	while (*p) {
		seg = p;
		while (*p && *p != '/')
			p++;
		if (p - seg == 2 && seg[0] == '.' && seg[1] == '.')
			return false;
		if (*p == '/')
			p++;
	}
	return true;
}

static bool
path_exists(const char *path)
{
	char real[MAXPATHLEN];

	/* tsrm_realpath answers from PHP's realpath cache when it can. */
	return tsrm_realpath(path, real) != NULL;
}

static void
path_translated_put(const char *base, size_t blen, const char *path_info,
    const char *orig)
{
	char *tmp;

	if (asprintf(&tmp, "%.*s%s", (int)blen, base, path_info ? path_info :
	    "") == -1)
		return;
	if (orig != NULL)
		ovr_put("ORIG_PATH_TRANSLATED", orig);
	ovr_put("PATH_TRANSLATED", tmp);
	free(tmp);
}

/*
 * cgi.fix_pathinfo: when SCRIPT_FILENAME names no file, strip trailing path
 * components until one is a regular file, and move what was stripped into
 * PATH_INFO, fixing SCRIPT_NAME and PATH_TRANSLATED on the way, as
 * php-fpm does.  apache: SCRIPT_FILENAME came as an Apache proxy: URL,
 * which carries the path info and sends no PATH_INFO of its own.  Returns
 * the script path, or NULL (404).
 */
static const char *
path_fix(const char *spt, bool apache)
{
	const char *env_path_info = ENV("PATH_INFO");
	const char *env_script_name = ENV("SCRIPT_NAME");
	const char *env_path_translated = ENV("PATH_TRANSLATED");
	const char *env_docroot = ENV("DOCUMENT_ROOT");
	const char *orig_script_filename = ENV("SCRIPT_FILENAME");
	const char *orig_path_info = env_path_info;
	const char *orig_script_name = env_script_name;
	const char *path_info, *sn;
	char *pt, *sep, *tmp;
	size_t len = strlen(spt), ptlen, slen, pilen, snlen, l;
	struct stat st;
	bool moved;

	if (env_docroot == NULL && PG(doc_root) != NULL)
		env_docroot = ovr_put("DOCUMENT_ROOT", PG(doc_root));

	if (len == 0 || (spt[len - 1] != '/' && path_exists(spt))) {
		if (orig_script_filename == NULL ||
		    strcmp(spt, orig_script_filename) != 0) {
			if (orig_script_filename != NULL)
				ovr_put("ORIG_SCRIPT_FILENAME",
				    orig_script_filename);
			spt = ovr_put("SCRIPT_FILENAME", spt);
		}
		SG(request_info).request_uri = (char *)env_script_name;
		return spt;
	}

	if ((pt = strdup(spt)) == NULL)
		return NULL;
	for (;;) {
		if ((sep = strrchr(pt, '/')) == NULL &&
		    (sep = strrchr(pt, '\\')) == NULL)
			break;
		*sep = '\0';
		if (stat(pt, &st) != 0 || !S_ISREG(st.st_mode))
			continue;

		ptlen = strlen(pt);
		slen = len - ptlen;
		pilen = env_path_info ? strlen(env_path_info) : 0;
		if (apache) {
			/* the path info is what was stripped */
			path_info = spt + ptlen;
			moved = slen != 0 && (orig_path_info == NULL ||
			    strcmp(orig_path_info, path_info) != 0);
		} else {
			path_info = env_path_info && pilen > slen ?
			    env_path_info + pilen - slen : NULL;
			moved = path_info != NULL;
		}
		if (moved && orig_path_info != NULL) {
			ovr_put("ORIG_PATH_INFO", orig_path_info);
			/*
			 * SCRIPT_NAME: PATH_INFO less the path info found
			 * here.  In the Apache case that is a piece of
			 * SCRIPT_FILENAME, not of PATH_INFO: php-fpm then
			 * takes PATH_INFO whole.
			 */
			tmp = apache ? strdup(env_path_info) :
			    strndup(env_path_info, pilen - slen);
			if (tmp == NULL) {
				/* out of memory: leave SCRIPT_NAME be */
			} else if (orig_script_name == NULL ||
			    strcmp(orig_script_name, tmp) != 0) {
				if (orig_script_name != NULL)
					ovr_put("ORIG_SCRIPT_NAME",
					    orig_script_name);
				sn = ovr_put("SCRIPT_NAME", tmp);
				SG(request_info).request_uri = (char *)sn;
			} else {
				SG(request_info).request_uri =
				    (char *)orig_script_name;
			}
			free(tmp);
		} else if (moved && apache && env_script_name != NULL &&
		    (snlen = strlen(env_script_name)) > slen &&
		    strcmp(env_script_name + snlen - slen, path_info) == 0) {
			/* Apache put the path info in SCRIPT_NAME too */
			ovr_put("ORIG_SCRIPT_NAME", orig_script_name);
			if ((tmp = strndup(env_script_name, snlen - slen)) !=
			    NULL) {
				env_script_name = sn = ovr_put("SCRIPT_NAME",
				    tmp);
				SG(request_info).request_uri = (char *)sn;
				free(tmp);
			}
		}
		if (moved) {
			/* path_info may point into what ovr_put() frees */
			tmp = strdup(path_info);
			env_path_info = ovr_put("PATH_INFO", tmp);
			free(tmp);
		}
		if (orig_script_filename == NULL ||
		    strcmp(orig_script_filename, pt) != 0) {
			if (orig_script_filename != NULL)
				ovr_put("ORIG_SCRIPT_FILENAME",
				    orig_script_filename);
			spt = ovr_put("SCRIPT_FILENAME", pt);
		}
		/* PATH_TRANSLATED: the document root and PATH_INFO */
		if (env_docroot != NULL) {
			l = strlen(env_docroot);
			if (l > 0 && env_docroot[l - 1] == '/')
				l--;
			path_translated_put(env_docroot, l, env_path_info,
			    env_path_translated);
		} else if (env_script_name != NULL &&
		    strstr(pt, env_script_name) != NULL)
			path_translated_put(pt, strlen(pt) -
			    strlen(env_script_name), env_path_info,
			    env_path_translated);
		break;
	}
	if (sep == NULL) {
		if (orig_script_filename != NULL)
			ovr_put("ORIG_SCRIPT_FILENAME", orig_script_filename);
		ovr_put("SCRIPT_FILENAME", NULL);
		spt = NULL;
		SG(sapi_headers).http_response_code = 404;
	}
	if (SG(request_info).request_uri == NULL)
		SG(request_info).request_uri = (char *)orig_script_name;
	free(pt);
	return spt;
}

static bool
ext_allowed(const char *path)
{
	size_t i, plen = strlen(path), elen;

	if (sapi_pool->nlimit_extensions == 0)
		return true;
	for (i = 0; i < sapi_pool->nlimit_extensions; i++) {
		elen = strlen(sapi_pool->limit_extensions[i]);
		if (plen >= elen && strcmp(path + plen - elen,
		    sapi_pool->limit_extensions[i]) == 0)
			return true;
	}
	return false;
}

static void
sapi_answer(int code, const char *body)
{
	zend_try {
		SG(sapi_headers).http_response_code = code;
		PUTS(body);
	} zend_end_try();
}

/*
 * Apache's mod_proxy_fcgi sends "proxy:fcgi://host:port/path?query" as
 * SCRIPT_FILENAME: keep the path, as php-fpm does.  php-fpm rewrites the
 * param in place, so no ORIG_SCRIPT_FILENAME tells of it; nor here.
 * *apache: a path was found after the host.
 */
static const char *
path_unproxy(const char *spt, bool *apache)
{
	const char *p = strstr(spt, "://") + 3;
	char *path, *q;
	const char *r;

	p += strcspn(p, "/");
	*apache = *p != '\0';
	if ((path = strdup(*apache ? p : spt)) == NULL)
		return spt;
	if ((q = strchr(path, '?')) != NULL)
		*q = '\0';
	r = ovr_put("SCRIPT_FILENAME", path);
	free(path);
	return r ? r : spt;
}

static char *
request_info_init(void)
{
	const char *spt, *v;
	char *path = NULL;
	bool apache = false;

	SG(server_context) = cur;
	SG(request_info).path_translated = NULL;
	SG(request_info).request_method = ENV("REQUEST_METHOD");
	SG(request_info).proto_num = 1000;
	SG(request_info).query_string = NULL;
	SG(request_info).request_uri = NULL;
	SG(request_info).content_type = NULL;
	SG(request_info).content_length = 0;
	SG(sapi_headers).http_response_code = 200;

	spt = ENV("SCRIPT_FILENAME");
	if (spt != NULL && (strncasecmp(spt, "proxy:fcgi://", 13) == 0 ||
	    strncasecmp(spt, "proxy:balancer://", 17) == 0))
		spt = path_unproxy(spt, &apache);
	if (spt == NULL)
		spt = ENV("PATH_TRANSLATED");
	if (spt != NULL) {
		if (sapi_cgi.fix_pathinfo) {
			spt = path_fix(spt, apache);
		} else {
			v = ENV("PATH_INFO");
			SG(request_info).request_uri = (char *)(v ? v :
			    ENV("SCRIPT_NAME"));
			if (!sapi_cgi.discard_path && ENV("PATH_TRANSLATED"))
				spt = ENV("PATH_TRANSLATED");
		}
		if (spt != NULL && path_is_valid(spt))
			path = strdup(spt);
		SG(request_info).query_string = (char *)ENV("QUERY_STRING");
		v = ENV("CONTENT_TYPE");
		SG(request_info).content_type = v ? v : "";
		v = ENV("CONTENT_LENGTH");
		SG(request_info).content_length = v ? ZEND_STRTOL(v, NULL,
		    10) : 0;
		php_handle_auth_data(ENV("HTTP_AUTHORIZATION"));
	}
	SG(request_info).path_translated = path;
	/*
	 * PHP_VALUE sets what a pool's php_value may, as under php-fpm:
	 * per-directory settings too (upload_max_filesize, post_max_size),
	 * not those php_admin_value fixed (their mode is SYSTEM then).
	 */
	sapiini_params_apply(sapi_pool, "PHP_VALUE", ENV("PHP_VALUE"),
	    ZEND_INI_USER | ZEND_INI_PERDIR);
	sapiini_params_apply(sapi_pool, "PHP_ADMIN_VALUE",
	    ENV("PHP_ADMIN_VALUE"), ZEND_INI_SYSTEM);
	return path;
}

/*
 * Opens the primary script as php-fpm does: resolved, then opened through
 * PHP's streams with display_errors off.  With opcache, both steps answer
 * from its cache for a script it holds, without touching the file (no
 * open, no close, no stdio buffer per request).  On failure errno says
 * why (EACCES: 403).  fh is to be destroyed by the caller either way.
 */
static int
script_open(zend_file_handle *fh, const char *path)
{
	zend_string *name, *resolved;
	zend_result rc;
	bool display;
	int e;

	name = zend_string_init(path, strlen(path), 0);
	zend_stream_init_filename_ex(fh, name);
	fh->primary_script = 1;
	if ((resolved = zend_resolve_path(name)) == NULL) {
		e = errno;
		zend_string_release(name);
		errno = e;
		return -1;
	}
	zend_string_release(resolved);
	display = PG(display_errors);
	PG(display_errors) = 0;
	rc = zend_stream_open(fh);
	e = errno;
	PG(display_errors) = display;
	zend_string_release(name);
	errno = e;
	return rc == SUCCESS ? 0 : -1;
}

static void
sapi_run_script(char *path)
{
	zend_file_handle fh;
	sapi_header_line ctr;
	int e;

	if (path == NULL) {
		log_notice("Primary script unknown (SCRIPT_FILENAME '%s')",
		    ENV("SCRIPT_FILENAME") ? ENV("SCRIPT_FILENAME") :
		    (ENV("ORIG_SCRIPT_FILENAME") ?
		    ENV("ORIG_SCRIPT_FILENAME") : ""));
		if (sapi_cgi.logging)
			conn_stderr(cur, "Primary script unknown",
			    sizeof("Primary script unknown") - 1);
		sapi_answer(404, "File not found.\n");
		return;
	}
	if (!ext_allowed(path)) {
		log_notice("Access to the script '%s' has been denied (see "
		    "security.limit_extensions)", path);
		if (sapi_cgi.logging) {
			char msg[1024];
			int n = snprintf(msg, sizeof(msg), "Access to the "
			    "script '%s' has been denied (see "
			    "security.limit_extensions)", path);

			if (n > 0)
				conn_stderr(cur, msg, (size_t)n < sizeof(msg) ?
				    (size_t)n : sizeof(msg) - 1);
		}
		sapi_answer(403, "Access denied.\n");
		return;
	}
	if (script_open(&fh, path) == -1) {
		e = errno;
		log_notice("Unable to open primary script: %s (%s)", path,
		    strerror(e));
		if (e == EACCES)
			sapi_answer(403, "Access denied.\n");
		else
			sapi_answer(404, "No input file specified.\n");
		zend_destroy_file_handle(&fh);
		return;
	}
	cur->script = path;
	conn_set_state(cur, SLOT_RUNNING);
	EG(exit_status) = 0;
	php_execute_script(&fh);
	if (!fh.in_list)
		zend_destroy_file_handle(&fh);
	if (EG(exit_status) == 255 && sapi_cgi.error_header != NULL &&
	    *sapi_cgi.error_header != '\0' && !SG(headers_sent)) {
		memset(&ctr, 0, sizeof(ctr));
		ctr.line = sapi_cgi.error_header;
		ctr.line_len = strlen(sapi_cgi.error_header);
		sapi_header_op(SAPI_HEADER_REPLACE, &ctr);
	}
}

void
sapi_handle(struct fpmd_req *r)
{
	static char *kept;	/* the last script path, for the access log */
	char *volatile path = NULL;

	/* what the previous request left for its access log line goes */
	ovr_reset();
	free(kept);
	kept = NULL;
	cur = r;
	r->sapi_ran = true;
	body_fd = -1;
	body_failed = false;
	zend_first_try {
		path = request_info_init();
		r->req_uri = SG(request_info).request_uri;
		if (php_request_startup() == FAILURE) {
			log_errorx("PHP request start-up failed");
			cur->status = 500;
		} else {
			/*
			 * The first request installed Zend's handlers for the
			 * signals it defers; nothing replaces them behind its
			 * back in a worker (ours were set before
			 * sapi_worker_init(), pcntl goes through Zend and gives
			 * them back at its request shutdown), so re-reading
			 * each one at every request start-up (seven
			 * rt_sigaction calls that change nothing) is skipped.
			 */
			SIGG(reset) = false;
			/*
			 * proto_num stays at PHP's 1000, as under php-fpm:
			 * with 1001, header("Location: ...") after a POST
			 * would give 303 where php-fpm gives 302.
			 */
			if (SG(request_info).request_method != NULL)
				sapi_run_script(path);
			r->peak_memory = zend_memory_peak_usage(1);
			r->status = SG(sapi_headers).http_response_code;
			SG(post_read) = 1;	/* the worker skips the rest */
			php_request_shutdown(NULL);
		}
	} zend_catch {
		log_errorx("PHP bailed out of the request outside of a try");
	} zend_end_try();
	if (body_fd != -1)
		close(body_fd);
	body_fd = -1;
	kept = path;
	r->req_path = path;
	SG(request_info).path_translated = NULL;
	cur = NULL;
}
