/*
 * The "cgi-fcgi" module, as php-fpm names it: the functions php-fpm gives
 * a script (fastcgi_finish_request(), fpm_get_status(),
 * apache_request_headers() and its alias getallheaders()) and the
 * cgi.* and fastcgi.* ini entries.  sapi.c starts PHP with it, reads the
 * entries' values from sapi_cgi and hands the functions the request being
 * served.
 */
#include <php.h>
#include <SAPI.h>
#include <php_output.h>
#include <php_ini.h>
#include <ext/standard/head.h>
#include <ext/standard/info.h>

#include <time.h>

#include "fpmd.h"
#include "sapi_int.h"

sapi_cgi_globals	sapi_cgi;

PHP_FUNCTION(fastcgi_finish_request)
{
	struct fpmd_req *cur = sapi_request();

	ZEND_PARSE_PARAMETERS_NONE();
	if (cur == NULL || cur->ended || cur->fd == -1)
		RETURN_FALSE;
	php_output_end_all();
	php_header();
	/*
	 * What the script writes from now on is dropped, and no error: it
	 * runs to its end, shutdown functions and all, as under php-fpm.
	 */
	conn_release(cur);
	RETURN_TRUE;
}

PHP_FUNCTION(apache_request_headers)
{
	struct fpmd_req *cur = sapi_request();
	const struct fcgi_param *p;
	size_t i;

	ZEND_PARSE_PARAMETERS_NONE();
	array_init(return_value);
	if (cur == NULL)
		return;
	/*
	 * Newest first, as php-fpm lists them; a name sent twice keeps its
	 * last value.
	 */
	for (i = cur->params.n; i-- > 0;) {
		p = &cur->params.v[i];
		if (fcgi_params_get(&cur->params, p->name, p->nlen) !=
		    p->value)
			continue;
		sapi_add_request_header(p->name, p->nlen, (char *)p->value,
		    p->vlen, return_value);
	}
}

/*
 * php-fpm's array, with its keys and types, from status.c's figures: the
 * ones the status page shows.
 */
PHP_FUNCTION(fpm_get_status)
{
	struct fpmd_req *cur = sapi_request();
	const struct pool_conf *pc = sapi_pool_conf();
	const struct scoreboard *sb;
	struct pool_status st;
	struct proc_status ps;
	zval procs, proc;
	time_t now = time(NULL);
	uint32_t i;

	ZEND_PARSE_PARAMETERS_NONE();
	if (cur == NULL || cur->sb == NULL)
		RETURN_FALSE;
	sb = cur->sb;
	status_pool(sb, cur->pool_index, cur->listen_fd, &st);
	array_init(return_value);
	add_assoc_string(return_value, "pool", pc->name);
	add_assoc_string(return_value, "process-manager",
	    (char *)conf_pm_name(pc->pm));
	add_assoc_long(return_value, "start-time", (zend_long)st.start);
	add_assoc_long(return_value, "start-since", (zend_long)(st.start > 0 &&
	    st.start <= now ? now - st.start : 0));
	add_assoc_long(return_value, "accepted-conn", (zend_long)st.accepted);
	add_assoc_long(return_value, "listen-queue", st.listen_queue);
	add_assoc_long(return_value, "max-listen-queue", st.max_listen_queue);
	add_assoc_long(return_value, "listen-queue-len", st.listen_queue_len);
	add_assoc_long(return_value, "idle-processes", st.idle);
	add_assoc_long(return_value, "active-processes", st.active);
	add_assoc_long(return_value, "total-processes", st.total);
	add_assoc_long(return_value, "max-active-processes", st.max_active);
	add_assoc_long(return_value, "max-children-reached",
	    st.max_children_reached);
	add_assoc_long(return_value, "slow-requests",
	    (zend_long)st.slow_requests);
	array_init(&procs);
	for (i = 0; i < sb->nslots; i++) {
		if (!status_proc(sb, cur->pool_index, i, &ps))
			continue;
		array_init(&proc);
		add_assoc_long(&proc, "pid", ps.pid);
		add_assoc_string(&proc, "state",
		    (char *)status_state_name(ps.state));
		add_assoc_long(&proc, "start-time", (zend_long)ps.start);
		add_assoc_long(&proc, "start-since",
		    (zend_long)ps.start_since);
		add_assoc_long(&proc, "requests", (zend_long)ps.requests);
		add_assoc_long(&proc, "request-duration",
		    (zend_long)ps.duration_us);
		add_assoc_string(&proc, "request-method", ps.method[0] ?
		    ps.method : "-");
		add_assoc_string(&proc, "request-uri", ps.uri);
		add_assoc_string(&proc, "query-string", ps.query);
		add_assoc_long(&proc, "request-length",
		    (zend_long)ps.content_length);
		add_assoc_string(&proc, "user", ps.user[0] ? ps.user : "-");
		add_assoc_string(&proc, "script", ps.script[0] ? ps.script :
		    "-");
		add_assoc_double(&proc, "last-request-cpu", ps.last_cpu);
		add_assoc_long(&proc, "last-request-memory",
		    (zend_long)ps.last_memory);
		add_next_index_zval(&procs, &proc);
	}
	add_assoc_zval(return_value, "procs", &procs);
}

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_fastcgi_finish_request, 0, 0,
    _IS_BOOL, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_apache_request_headers, 0, 0,
    IS_ARRAY, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_MASK_EX(arginfo_fpm_get_status, 0, 0,
    MAY_BE_ARRAY | MAY_BE_FALSE)
ZEND_END_ARG_INFO()

static const zend_function_entry sapimod_functions[] = {
	PHP_FE(fastcgi_finish_request, arginfo_fastcgi_finish_request)
	PHP_FE(fpm_get_status, arginfo_fpm_get_status)
	PHP_FE(apache_request_headers, arginfo_apache_request_headers)
	PHP_FALIAS(getallheaders, apache_request_headers,
	    arginfo_apache_request_headers)
	PHP_FE_END
};

PHP_INI_BEGIN()
	STD_PHP_INI_BOOLEAN("cgi.rfc2616_headers", "0", PHP_INI_ALL,
	    OnUpdateBool, rfc2616_headers, sapi_cgi_globals, sapi_cgi)
	STD_PHP_INI_BOOLEAN("cgi.nph", "0", PHP_INI_ALL,
	    OnUpdateBool, nph, sapi_cgi_globals, sapi_cgi)
	STD_PHP_INI_BOOLEAN("cgi.fix_pathinfo", "1", PHP_INI_SYSTEM,
	    OnUpdateBool, fix_pathinfo, sapi_cgi_globals, sapi_cgi)
	STD_PHP_INI_BOOLEAN("cgi.discard_path", "0", PHP_INI_SYSTEM,
	    OnUpdateBool, discard_path, sapi_cgi_globals, sapi_cgi)
	STD_PHP_INI_BOOLEAN("fastcgi.logging", "1", PHP_INI_SYSTEM,
	    OnUpdateBool, logging, sapi_cgi_globals, sapi_cgi)
	STD_PHP_INI_ENTRY("fastcgi.error_header", NULL, PHP_INI_SYSTEM,
	    OnUpdateString, error_header, sapi_cgi_globals, sapi_cgi)
	STD_PHP_INI_ENTRY("fpm.config", NULL, PHP_INI_SYSTEM,
	    OnUpdateString, fpm_config, sapi_cgi_globals, sapi_cgi)
PHP_INI_END()

static PHP_MINIT_FUNCTION(fpmd)
{
	REGISTER_INI_ENTRIES();
	return SUCCESS;
}

static PHP_MSHUTDOWN_FUNCTION(fpmd)
{
	UNREGISTER_INI_ENTRIES();
	return SUCCESS;
}

static PHP_MINFO_FUNCTION(fpmd)
{
	DISPLAY_INI_ENTRIES();
}

zend_module_entry sapimod_module_entry = {
	STANDARD_MODULE_HEADER,
	"cgi-fcgi",
	sapimod_functions,
	PHP_MINIT(fpmd),
	PHP_MSHUTDOWN(fpmd),
	NULL,
	NULL,
	PHP_MINFO(fpmd),
	PHP_VERSION,
	STANDARD_MODULE_PROPERTIES
};
