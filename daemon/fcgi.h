/*
 * FastCGI codec: bytes in, records out, and the few records a responder
 * writes.  No I/O, no allocation per record: the worker owns the buffers.
 * Unit tested in t/unit/test_fcgi.c and fuzzed by t/unit/fuzz_fcgi.c.
 */
#ifndef FPMD_FCGI_H
#define FPMD_FCGI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FCGI_VERSION_1		1
#define FCGI_HEADER_LEN		8
#define FCGI_MAX_CONTENT	65535
#define FCGI_PARAMS_MAX		(1024 * 1024)	/* all params of one request */

enum fcgi_type {
	FCGI_BEGIN_REQUEST = 1,
	FCGI_ABORT_REQUEST = 2,
	FCGI_END_REQUEST = 3,
	FCGI_PARAMS = 4,
	FCGI_STDIN = 5,
	FCGI_STDOUT = 6,
	FCGI_STDERR = 7,
	FCGI_DATA = 8,
	FCGI_GET_VALUES = 9,
	FCGI_GET_VALUES_RESULT = 10,
	FCGI_UNKNOWN_TYPE = 11
};

enum fcgi_role {
	FCGI_RESPONDER = 1,
	FCGI_AUTHORIZER = 2,
	FCGI_FILTER = 3
};

#define FCGI_KEEP_CONN		1

enum fcgi_protocol_status {
	FCGI_REQUEST_COMPLETE = 0,
	FCGI_CANT_MPX_CONN = 1,
	FCGI_OVERLOADED = 2,
	FCGI_UNKNOWN_ROLE = 3
};

struct fcgi_record {
	uint8_t		 type;
	uint16_t	 id;
	uint16_t	 clen;		/* content length */
	uint8_t		 plen;		/* padding length */
	const uint8_t	*content;	/* points into the parsed buffer */
};

/*
 * Looks at buf[0..len).  Returns the size of the first record (header,
 * content and padding) and fills rec when it is complete; 0 when more bytes
 * are needed; -1 when the bytes cannot be FastCGI (version is not 1).
 */
ssize_t	 fcgi_record_parse(const uint8_t *buf, size_t len,
	    struct fcgi_record *rec);

/* BEGIN_REQUEST body: -1 when the record is too short. */
int	 fcgi_begin_parse(const struct fcgi_record *rec, uint16_t *role,
	    uint8_t *flags);

/*
 * Name-value pairs.  PARAMS content is appended as it arrives (a pair may be
 * split across records), then decoded once, when the empty PARAMS record
 * ends the stream.  Decoded names and values are NUL-terminated copies in
 * arena; memory is kept across requests by fcgi_params_reset().
 */
struct fcgi_param {
	const char	*name;
	const char	*value;
	uint32_t	 nlen;
	uint32_t	 vlen;
};

struct fcgi_params {
	uint8_t			*raw;
	size_t			 raw_len;
	size_t			 raw_cap;
	char			*arena;
	size_t			 arena_cap;
	struct fcgi_param	*v;
	size_t			 n;
	size_t			 v_cap;
	/*
	 * An open-addressing index of the names, built by decode: slots
	 * hold an index into v plus one (0: empty).  idx_mask is the slot
	 * count minus one, 0 when there is no index (then a look-up scans).
	 */
	uint32_t		*idx;
	size_t			 idx_cap;
	size_t			 idx_mask;
};

/* -1 on allocation failure or when the total would pass FCGI_PARAMS_MAX. */
int	 fcgi_params_append(struct fcgi_params *p, const uint8_t *data,
	    size_t len);
/* -1 when a length runs past the data (the stream is malformed). */
int	 fcgi_params_decode(struct fcgi_params *p);
void	 fcgi_params_reset(struct fcgi_params *p);
void	 fcgi_params_free(struct fcgi_params *p);
/* The value of name (nlen bytes), or NULL. */
const char *fcgi_params_get(const struct fcgi_params *p, const char *name,
	    size_t nlen);
#define FCGI_PARAM(p, lit)	fcgi_params_get((p), (lit), sizeof(lit) - 1)

/*
 * Encodes one name-value pair into out (cap bytes); returns its size, or 0
 * when it does not fit.  Used for GET_VALUES_RESULT and by test clients.
 */
size_t	 fcgi_pair_encode(uint8_t *out, size_t cap, const char *name,
	    size_t nlen, const char *value, size_t vlen);

void	 fcgi_header_encode(uint8_t out[FCGI_HEADER_LEN], uint8_t type,
	    uint16_t id, uint16_t clen, uint8_t plen);
/* A whole END_REQUEST record: 16 bytes. */
void	 fcgi_end_request_encode(uint8_t out[16], uint16_t id,
	    uint32_t app_status, uint8_t protocol_status);
/* A whole UNKNOWN_TYPE record: 16 bytes. */
void	 fcgi_unknown_type_encode(uint8_t out[16], uint8_t type);
/*
 * Answers a GET_VALUES record: writes a whole GET_VALUES_RESULT record with
 * the variables asked for that fpmd knows (FCGI_MAX_CONNS, FCGI_MAX_REQS,
 * FCGI_MPXS_CONNS=0) into out.  Returns its size, or 0 when the query is
 * malformed or the answer does not fit in cap.
 */
size_t	 fcgi_get_values_answer(const struct fcgi_record *rec, uint8_t *out,
	    size_t cap, unsigned max_conns, unsigned max_reqs);

#endif /* FPMD_FCGI_H */
