/*
 * libFuzzer target for the FastCGI codec: the input is what a web server
 * (or anyone who can reach the socket) writes to a worker.  It is cut into
 * records the way the worker does and each record is handed to the decoder
 * for its type, with the params buffers reused across the requests of the
 * connection.  Besides the sanitizers, a few properties are checked: record
 * sizes add up, decoded strings are terminated where their lengths say, and
 * decoded pairs encode back to a stream that decodes to the same pairs.
 * Build with `make fuzz`; seeds are in t/data/fuzz-fcgi/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct fcgi_params	 params, again;

/* Re-encodes the decoded pairs and checks they decode to the same. */
static void
fuzz_roundtrip(const struct fcgi_params *p)
{
	static uint8_t	 buf[FCGI_PARAMS_MAX];
	size_t		 len = 0, n, i;

	for (i = 0; i < p->n; i++) {
		n = fcgi_pair_encode(buf + len, sizeof(buf) - len,
		    p->v[i].name, p->v[i].nlen, p->v[i].value, p->v[i].vlen);
		/* Re-encoded with the shortest lengths: never longer. */
		if (n == 0)
			abort();
		len += n;
	}
	if (len > p->raw_len)
		abort();
	fcgi_params_reset(&again);
	if (fcgi_params_append(&again, buf, len) == -1 ||
	    fcgi_params_decode(&again) == -1 || again.n != p->n)
		abort();
	for (i = 0; i < p->n; i++) {
		if (again.v[i].nlen != p->v[i].nlen ||
		    again.v[i].vlen != p->v[i].vlen ||
		    memcmp(again.v[i].name, p->v[i].name,
		    p->v[i].nlen + 1) != 0 ||
		    memcmp(again.v[i].value, p->v[i].value,
		    p->v[i].vlen + 1) != 0)
			abort();
	}
}

static void
fuzz_params(struct fcgi_params *p)
{
	const char	*v;
	size_t		 i;

	if (fcgi_params_decode(p) == -1) {
		if (p->n != 0)
			abort();
		return;
	}
	for (i = 0; i < p->n; i++) {
		if (p->v[i].name[p->v[i].nlen] != '\0' ||
		    p->v[i].value[p->v[i].vlen] != '\0')
			abort();
		/* What a name finds is its own value or a later one's. */
		v = fcgi_params_get(p, p->v[i].name, p->v[i].nlen);
		if (v == NULL)
			abort();
	}
	(void)FCGI_PARAM(p, "SCRIPT_FILENAME");
	(void)FCGI_PARAM(p, "");
	fuzz_roundtrip(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fcgi_record	 rec;
	uint8_t			 out[256];
	uint16_t		 role;
	uint8_t			 flags;
	size_t			 off = 0, n;
	ssize_t			 r;
	int			 in_params = 0;

	fcgi_params_reset(&params);
	while ((r = fcgi_record_parse(data + off, size - off, &rec)) > 0) {
		if ((size_t)r > size - off ||
		    (size_t)r != FCGI_HEADER_LEN + (size_t)rec.clen + rec.plen ||
		    rec.content != data + off + FCGI_HEADER_LEN)
			abort();
		off += (size_t)r;
		switch (rec.type) {
		case FCGI_BEGIN_REQUEST:
			/* A new request on the connection. */
			fcgi_params_reset(&params);
			in_params = fcgi_begin_parse(&rec, &role, &flags) == 0;
			break;
		case FCGI_PARAMS:
			if (!in_params)
				break;
			if (rec.clen == 0) {
				fuzz_params(&params);
				in_params = 0;
			} else if (fcgi_params_append(&params, rec.content,
			    rec.clen) == -1)
				in_params = 0;
			break;
		case FCGI_GET_VALUES:
			n = fcgi_get_values_answer(&rec, out, sizeof(out),
			    rec.id, 0xffffffffU);
			if (n % 8 != 0 || n > sizeof(out))
				abort();
			if (n > 0 && fcgi_record_parse(out, n, &rec) !=
			    (ssize_t)n)
				abort();
			break;
		case FCGI_ABORT_REQUEST:
			fcgi_params_reset(&params);
			in_params = 0;
			break;
		case FCGI_STDIN:
		case FCGI_DATA:
			break;
		default:
			fcgi_unknown_type_encode(out, rec.type);
			fcgi_end_request_encode(out, rec.id, 0,
			    FCGI_UNKNOWN_ROLE);
			break;
		}
	}
	/* Whatever is left is an unfinished request: decode what came. */
	if (in_params)
		fuzz_params(&params);
	return 0;
}
