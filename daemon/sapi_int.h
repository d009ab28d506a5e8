/*
 * What sapi.c shares with sapimod.c, the "cgi-fcgi" module, and
 * sapiini.c: they see PHP's headers, nothing else in fpmd includes this.
 */
#ifndef SAPI_INT_H
#define SAPI_INT_H

/* the module's ini entries, php-fpm's names: cgi.*, fastcgi.* */
typedef struct {
	bool	 fix_pathinfo;
	bool	 discard_path;
	bool	 rfc2616_headers;
	bool	 nph;
	bool	 logging;
	char	*error_header;
	char	*fpm_config;
} sapi_cgi_globals;

extern sapi_cgi_globals		 sapi_cgi;
extern zend_module_entry	 sapimod_module_entry;

struct fpmd_req		*sapi_request(void);
const struct pool_conf	*sapi_pool_conf(void);

/* sapiini.c: PHP's start-up messages, and PHP_VALUE per request */
extern bool		 sapiini_logged;
void			 sapiini_defaults(HashTable *h);
void			 sapiini_startup_end(void);
void			 sapiini_params_apply(const struct pool_conf *pc,
			    const char *name, const char *v, int mode);

#endif
