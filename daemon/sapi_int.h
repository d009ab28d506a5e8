/*
 * What sapi.c shares with sapimod.c, the "cgi-fcgi" module's functions:
 * both see PHP's headers, nothing else in fpmd includes this.
 */
#ifndef SAPI_INT_H
#define SAPI_INT_H

extern const zend_function_entry sapimod_functions[];

struct fpmd_req		*sapi_request(void);
const struct pool_conf	*sapi_pool_conf(void);

#endif
