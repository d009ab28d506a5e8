/*
 * PHP's settings as fpmd hands them over, beside sapi.c: the messages PHP
 * gives while it reads php.ini and starts (in the prototype), and the
 * PHP_VALUE and PHP_ADMIN_VALUE params of each request (in a worker).
 */
#include <php.h>
#include <SAPI.h>
#include <php_ini.h>
#include <zend_ini.h>
#include <zend_ini_scanner.h>

#include <stdbool.h>
#include <string.h>

#include "fpmd.h"
#include "sapi_int.h"

bool	sapiini_logged;	/* the SAPI logged PHP's last message */

/*
 * PHP's messages while it starts reach fpmd's log even when php.ini sends
 * PHP's own log elsewhere (error_log = FILE) or error_reporting leaves
 * them out: whoever starts or reloads fpmd reads fpmd's log.  PHP's error
 * callback is wrapped from ini_defaults (called as PHP begins reading
 * php.ini, before the ini entries and extensions are loaded) to the end of
 * the start-up; a message PHP logged through the SAPI is not logged twice.
 * An extension that wraps the callback after us keeps ours in its chain:
 * it then only passes messages on.
 */
static void	(*startup_error_cb)(int, zend_string *, const uint32_t,
		    zend_string *);
static bool	startup_wrapped;

static void
sapi_startup_error(int type, zend_string *file, const uint32_t line,
    zend_string *msg)
{
	const char *what;
	enum log_level lvl;

	sapiini_logged = false;
	startup_error_cb(type, file, line, msg);
	if (!startup_wrapped || sapiini_logged)
		return;
	switch (type) {
	case E_ERROR: case E_CORE_ERROR: case E_COMPILE_ERROR:
	case E_USER_ERROR: case E_RECOVERABLE_ERROR: case E_PARSE:
		what = type == E_PARSE ? "Parse error" : "Fatal error";
		lvl = LOG_LVL_ERROR;
		break;
	case E_WARNING: case E_CORE_WARNING: case E_COMPILE_WARNING:
	case E_USER_WARNING:
		what = "Warning";
		lvl = LOG_LVL_WARNING;
		break;
	case E_DEPRECATED: case E_USER_DEPRECATED:
		what = "Deprecated";
		lvl = LOG_LVL_NOTICE;
		break;
	default:
		what = "Notice";
		lvl = LOG_LVL_NOTICE;
		break;
	}
	log_msg(lvl, "PHP message: PHP %s:  %s in %s on line %u", what,
	    ZSTR_VAL(msg), file != NULL ? ZSTR_VAL(file) : "Unknown",
	    (unsigned)line);
}

void
sapiini_defaults(HashTable *h)
{
	(void)h;
	if (startup_error_cb != NULL)
		return;
	startup_error_cb = zend_error_cb;
	zend_error_cb = sapi_startup_error;
	startup_wrapped = true;
}

/* The start-up is over: PHP's callback is PHP's own again. */
void
sapiini_startup_end(void)
{
	startup_wrapped = false;
	if (startup_error_cb != NULL && zend_error_cb == sapi_startup_error)
		zend_error_cb = startup_error_cb;
}

static void
ini_param_cb(zval *arg1, zval *arg2, zval *arg3, int type, void *arg)
{
	int mode = *(int *)arg, stage = ZEND_INI_STAGE_ACTIVATE;
	bool basedir;

	(void)arg3;
	if (type != ZEND_INI_PARSER_ENTRY || arg1 == NULL) {
		log_warnx("%s: only plain name=value entries are allowed",
		    mode == ZEND_INI_SYSTEM ? "PHP_ADMIN_VALUE" : "PHP_VALUE");
		return;
	}
	if (arg2 == NULL || Z_TYPE_P(arg2) != IS_STRING) {
		log_warnx("%s: no value for '%s'", mode == ZEND_INI_SYSTEM ?
		    "PHP_ADMIN_VALUE" : "PHP_VALUE", Z_STRVAL_P(arg1));
		return;
	}
	/*
	 * open_basedir at the runtime stage, where PHP's own check lets a
	 * new value only narrow the one in force (php.ini, php_value,
	 * php_admin_value); at the activate stage PHP takes any value, and
	 * PHP_ADMIN_VALUE could widen what the pool allows.
	 */
	basedir = zend_string_equals_literal(Z_STR_P(arg1), "open_basedir");
	if (basedir)
		stage = ZEND_INI_STAGE_RUNTIME;
	/*
	 * Through zend_alter_ini_entry the change is recorded and undone at
	 * the end of this request: it does not leak into the next one.
	 */
	if (zend_alter_ini_entry_chars(Z_STR_P(arg1), Z_STRVAL_P(arg2),
	    Z_STRLEN_P(arg2), mode, stage) == FAILURE)
		log_warnx("%s: cannot set '%s'%s", mode == ZEND_INI_SYSTEM ?
		    "PHP_ADMIN_VALUE" : "PHP_VALUE", Z_STRVAL_P(arg1),
		    basedir ? " (it can only narrow the pool's open_basedir, "
		    "and not one set by php_admin_value through PHP_VALUE)" :
		    "");
}

/*
 * The value v of the param name (PHP_VALUE or PHP_ADMIN_VALUE, or NULL),
 * for the request being served in pool pc, applied in mode.
 */
void
sapiini_params_apply(const struct pool_conf *pc, const char *name,
    const char *v, int mode)
{
	zend_string *s;
	int m = mode;

	if (v == NULL || *v == '\0')
		return;
	if (!pc->allow_php_value_param) {
		log_warnx("%s refused: php_value_params = no in pool %s",
		    name, pc->name);
		return;
	}
	s = zend_string_alloc(strlen(v) + 1, 0);
	memcpy(ZSTR_VAL(s), v, strlen(v));
	ZSTR_VAL(s)[strlen(v)] = '\n';
	ZSTR_VAL(s)[strlen(v) + 1] = '\0';
	zend_parse_ini_string(ZSTR_VAL(s), 1, ZEND_INI_SCANNER_NORMAL,
	    ini_param_cb, &m);
	zend_string_release(s);
}
