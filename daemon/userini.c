/*
 * Per-directory PHP settings, applied when a request starts (the SAPI's
 * activate callback, where php-fpm 8.2 applies them too): php.ini's
 * [HOST=...] and [PATH=...] sections, then the .user.ini files
 * (user_ini.filename) from the document root down to the script's
 * directory, or the script's directory alone when it is not under the
 * document root.  A deeper file wins over a shallower one.
 *
 * The .user.ini entries go through PHP's own check at the HTACCESS stage
 * with PHP_INI_PERDIR rights: a PHP_INI_SYSTEM setting is ignored, so is
 * one the pool locked with php_admin_value (sapi.c makes those
 * PHP_INI_SYSTEM), and open_basedir can only be narrowed.  Like every
 * change made through zend_alter_ini_entry, they are undone when the
 * request ends.
 *
 * Parsing is cached per directory, in each worker, for user_ini.cache_ttl
 * seconds: one entry holds what all the files from the document root down
 * to that directory said together, so a file added or removed anywhere on
 * the way is seen when the entry expires.  The clock is the monotonic
 * one: setting the wall clock back must not freeze the cache.
 */
#include <php.h>
#include <SAPI.h>
#include <php_ini.h>
#include <zend_ini.h>

#include <sys/stat.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fpmd.h"

/*
 * A path that names no file still gets its directory cached (with
 * cgi.fix_pathinfo = 0 the script's path is the web server's to choose):
 * past this many directories the worker starts its cache afresh rather
 * than grow without a bound.
 */
#define USERINI_CACHE_MAX	1024

struct userini_dir {
	time_t		 expires;	/* monotonic seconds */
	HashTable	 config;	/* name -> value, persistent */
};

static HashTable	 userini_cache;
static bool		 userini_cache_ready;

static void
userini_dir_free(zval *zv)
{
	struct userini_dir *d = Z_PTR_P(zv);

	zend_hash_destroy(&d->config);
	pefree(d, 1);
}

static time_t
userini_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/*
 * PHP writes a syntax error of the file to the worker's stderr, which only
 * catch_workers_output keeps: say in fpmd's log which file it was.
 */
static void
userini_parse(const char *dir, HashTable *config)
{
	const char *name = PG(user_ini_filename);
	char path[MAXPATHLEN];
	struct stat st;

	if (php_parse_user_ini_file(dir, name, config) == SUCCESS)
		return;
	snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") == 0 ? "" :
	    dir, name);
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
		log_warnx("%s cannot be read or has a syntax error: its "
		    "settings from the error on are ignored "
		    "(catch_workers_output = yes logs PHP's message)", path);
}

/*
 * Read the files for dir (a path with a trailing slash, which is
 * scribbled on and put back): each directory from the document root
 * down, when dir is the root or under it; else dir alone.
 */
static void
userini_scan(char *dir, size_t dlen, const char *root, size_t rlen,
    HashTable *config)
{
	char *p;

	if (rlen < dlen && memcmp(dir, root, rlen) == 0 && dir[rlen] == '/') {
		for (p = dir + rlen; (p = strchr(p, '/')) != NULL; p++) {
			*p = '\0';
			userini_parse(*dir ? dir : "/", config);
			*p = '/';
		}
	} else {
		dir[dlen - 1] = '\0';
		userini_parse(*dir ? dir : "/", config);
		dir[dlen - 1] = '/';
	}
}

static void
userini_apply(char *dir, size_t dlen, const char *docroot)
{
	struct userini_dir *d, fresh;
	size_t rlen;
	time_t now = userini_now();

	if (!userini_cache_ready) {
		zend_hash_init(&userini_cache, 8, NULL, userini_dir_free, 1);
		userini_cache_ready = true;
	}
	if ((d = zend_hash_str_find_ptr(&userini_cache, dir, dlen)) == NULL) {
		if (zend_hash_num_elements(&userini_cache) >= USERINI_CACHE_MAX)
			zend_hash_clean(&userini_cache);
		memset(&fresh, 0, sizeof(fresh));
		d = zend_hash_str_add_mem(&userini_cache, dir, dlen, &fresh,
		    sizeof(fresh));
		zend_hash_init(&d->config, 8, NULL, config_zval_dtor, 1);
		d->expires = now - 1;	/* read below */
	}
	if (now > d->expires) {
		zend_hash_clean(&d->config);
		rlen = strlen(docroot);
		/* "/srv/www/" and "/srv/www" are one root */
		if (rlen > 0 && docroot[rlen - 1] == '/')
			rlen--;
		userini_scan(dir, dlen, docroot, rlen, &d->config);
		d->expires = now + (time_t)PG(user_ini_cache_ttl);
	}
	php_ini_activate_config(&d->config, PHP_INI_PERDIR,
	    PHP_INI_STAGE_HTACCESS);
}

void
userini_activate(const char *script, const char *docroot,
    const char *server_name)
{
	char real[MAXPATHLEN], *host, *dir, *slash;
	size_t len;
	bool user_ini;

	if (script == NULL)
		return;
	if (server_name != NULL && php_ini_has_per_host_config()) {
		/* [HOST=] sections are written in lower case */
		len = strlen(server_name);
		host = estrndup(server_name, len);
		zend_str_tolower(host, len);
		php_ini_activate_per_host_config(host, len);
		efree(host);
	}
	user_ini = PG(user_ini_filename) != NULL && *PG(user_ini_filename);
	if (!user_ini && !php_ini_has_per_dir_config())
		return;

	/* the script's directory, with a trailing slash */
	if (script[0] != '/') {
		if (tsrm_realpath(script, real) == NULL)
			return;
		script = real;
	}
	if ((slash = strrchr(script, '/')) == NULL)
		return;
	len = (size_t)(slash - script) + 1;
	dir = estrndup(script, len);

	/* [PATH=] sections, from the root down to the script's directory */
	php_ini_activate_per_dir_config(dir, len);
	if (user_ini && docroot != NULL)
		userini_apply(dir, len, docroot);
	efree(dir);
}
