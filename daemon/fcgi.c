/*
 * FastCGI codec.  Splits a byte stream into records, decodes BEGIN_REQUEST
 * bodies and name-value pairs, and encodes the few records a responder
 * writes.  The peer (nginx, or anything that can reach the socket) is
 * treated as hostile: every length is checked against what is there, and
 * sums are compared by subtraction so that nothing overflows.  No I/O and
 * no allocation per record; only the params buffers grow, and they are kept
 * across the requests a worker serves.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi.h"

#define FCGI_LEN_MAX		0x7fffffffU	/* a 4-byte pair length */
#define FCGI_GROW_MIN		4096	/* bytes: what nginx sends, and more */
/* Buffers bigger than this are freed at reset rather than pinned. */
#define FCGI_PARAMS_KEEP	(64 * 1024)
/*
 * The names index: at least twice the slots of the params, and at most
 * FCGI_IDX_PROBES slots from a name's home to where it sits.  A request
 * whose names crowd more than that (or that has more than FCGI_IDX_MAX
 * params) is looked up by scanning, so no set of names makes the index
 * cost more than a bounded amount per param.
 */
#define FCGI_IDX_MIN		64
#define FCGI_IDX_MAX		4096
#define FCGI_IDX_PROBES		16

ssize_t
fcgi_record_parse(const uint8_t *buf, size_t len, struct fcgi_record *rec)
{
	size_t	 total;

	if (len == 0)
		return 0;
	/* Reject garbage on its first byte rather than wait for a header. */
	if (buf[0] != FCGI_VERSION_1)
		return -1;
	if (len < FCGI_HEADER_LEN)
		return 0;
	total = FCGI_HEADER_LEN + ((size_t)buf[4] << 8 | buf[5]) + buf[6];
	if (len < total)
		return 0;
	rec->type = buf[1];
	rec->id = (uint16_t)(buf[2] << 8 | buf[3]);
	rec->clen = (uint16_t)(buf[4] << 8 | buf[5]);
	rec->plen = buf[6];
	rec->content = buf + FCGI_HEADER_LEN;
	return (ssize_t)total;
}

int
fcgi_begin_parse(const struct fcgi_record *rec, uint16_t *role,
    uint8_t *flags)
{
	if (rec->clen < 8)
		return -1;
	*role = (uint16_t)(rec->content[0] << 8 | rec->content[1]);
	*flags = rec->content[2];
	return 0;
}

/* Reads the pair length at *pos; -1 when it runs past len. */
static int
fcgi_len_read(const uint8_t *b, size_t len, size_t *pos, size_t *out)
{
	size_t	 i = *pos;

	if (i >= len)
		return -1;
	if ((b[i] & 0x80) == 0) {
		*out = b[i];
		*pos = i + 1;
		return 0;
	}
	if (len - i < 4)
		return -1;
	*out = (size_t)(b[i] & 0x7f) << 24 | (size_t)b[i + 1] << 16 |
	    (size_t)b[i + 2] << 8 | b[i + 3];
	*pos = i + 4;
	return 0;
}

/*
 * Steps over the pair at *pos: the name is at b + *noff, the value right
 * after it.  -1 when a length or the bytes it announces run past len.
 */
static int
fcgi_pair_next(const uint8_t *b, size_t len, size_t *pos, size_t *noff,
    size_t *nlen, size_t *vlen)
{
	size_t	 i = *pos;

	if (fcgi_len_read(b, len, &i, nlen) == -1 ||
	    fcgi_len_read(b, len, &i, vlen) == -1)
		return -1;
	if (*nlen > len - i || *vlen > len - i - *nlen)
		return -1;
	*noff = i;
	*pos = i + *nlen + *vlen;
	return 0;
}

static uint8_t *
fcgi_len_write(uint8_t *out, size_t n)
{
	if (n < 0x80) {
		*out++ = (uint8_t)n;
		return out;
	}
	*out++ = (uint8_t)(n >> 24 | 0x80);
	*out++ = (uint8_t)(n >> 16);
	*out++ = (uint8_t)(n >> 8);
	*out++ = (uint8_t)n;
	return out;
}

/*
 * Makes room for need elements of size bytes, doubling so that a worker
 * settles on its buffers after its first few requests.  Returns the new
 * buffer, or NULL (the old one is left alone).
 */
static void *
fcgi_grow(void *buf, size_t *capp, size_t need, size_t size)
{
	size_t	 cap;
	void	*nbuf;

	cap = *capp > 0 ? *capp : (FCGI_GROW_MIN + size - 1) / size;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			goto fail;
		cap *= 2;
	}
	if (cap > SIZE_MAX / size)
		goto fail;
	if ((nbuf = realloc(buf, cap * size)) == NULL)
		return NULL;
	*capp = cap;
	return nbuf;
fail:
	errno = ENOMEM;
	return NULL;
}

int
fcgi_params_append(struct fcgi_params *p, const uint8_t *data, size_t len)
{
	uint8_t	*nraw;

	if (len > FCGI_PARAMS_MAX - p->raw_len)
		return -1;
	if (len == 0)
		return 0;
	if (p->raw_len + len > p->raw_cap) {
		nraw = fcgi_grow(p->raw, &p->raw_cap, p->raw_len + len, 1);
		if (nraw == NULL)
			return -1;
		p->raw = nraw;
	}
	memcpy(p->raw + p->raw_len, data, len);
	p->raw_len += len;
	return 0;
}

/*
 * Cheap, and enough for the names web servers send: the length, the last
 * bytes (HTTP_ names share their first five) and one from the middle.
 * Collisions cost probes, never a wrong answer.
 */
static size_t
fcgi_name_hash(const char *name, size_t nlen)
{
	const uint8_t	*n = (const uint8_t *)name;
	uint32_t	 h;

	h = (uint32_t)nlen * 0x9e3779b1u;
	h ^= n[nlen - 1] | (uint32_t)n[nlen / 2] << 8 | (uint32_t)n[0] << 16;
	if (nlen >= 2)
		h ^= (uint32_t)n[nlen - 2] << 24;
	h *= 0x85ebca6bu;
	return h ^ h >> 15;
}

/*
 * Builds the names index over p->v; a name sent twice ends with its last
 * value, as a scan backwards finds.  Without memory, or when names crowd,
 * there is no index and look-ups scan: the answers are the same.
 */
static void
fcgi_params_index(struct fcgi_params *p)
{
	const struct fcgi_param	*q, *o;
	uint32_t		*idx;
	size_t			 slots, mask, i, h, k;

	p->idx_mask = 0;
	if (p->n == 0 || p->n > FCGI_IDX_MAX)
		return;
	for (slots = FCGI_IDX_MIN; slots < p->n * 2; slots *= 2)
		;
	if (slots > p->idx_cap) {
		/* its own size, not fcgi_grow()'s 4 KB: a worker's USS */
		if ((idx = realloc(p->idx, slots * sizeof(*idx))) == NULL)
			return;
		p->idx = idx;
		p->idx_cap = slots;
	}
	mask = slots - 1;
	memset(p->idx, 0, slots * sizeof(*p->idx));
	for (i = 0; i < p->n; i++) {
		q = &p->v[i];
		if (q->nlen == 0)
			continue;	/* empty: look-ups scan for it */
		h = fcgi_name_hash(q->name, q->nlen);
		for (k = 0;; k++) {
			if (k == FCGI_IDX_PROBES)
				return;		/* crowded: no index */
			if (p->idx[(h + k) & mask] == 0) {
				p->idx[(h + k) & mask] = (uint32_t)i + 1;
				break;
			}
			o = &p->v[p->idx[(h + k) & mask] - 1];
			if (o->nlen == q->nlen &&
			    memcmp(o->name, q->name, q->nlen) == 0) {
				p->idx[(h + k) & mask] = (uint32_t)i + 1;
				break;
			}
		}
	}
	p->idx_mask = mask;
}

int
fcgi_params_decode(struct fcgi_params *p)
{
	struct fcgi_param	*v;
	char			*a, *na;
	size_t			 pos, noff, nlen, vlen;

	p->n = 0;
	if (p->raw_len == 0)
		return 0;
	/*
	 * Each pair takes at least two length bytes and its copies need two
	 * NULs, so raw_len bytes of arena always hold them all.
	 */
	if (p->raw_len > p->arena_cap) {
		na = fcgi_grow(p->arena, &p->arena_cap, p->raw_len, 1);
		if (na == NULL)
			return -1;
		p->arena = na;
	}
	a = p->arena;
	pos = 0;
	while (pos < p->raw_len) {
		if (fcgi_pair_next(p->raw, p->raw_len, &pos, &noff, &nlen,
		    &vlen) == -1)
			goto fail;
		if (p->n == p->v_cap) {
			v = fcgi_grow(p->v, &p->v_cap, p->n + 1, sizeof(*v));
			if (v == NULL)
				goto fail;
			p->v = v;
		}
		v = &p->v[p->n++];
		memcpy(a, p->raw + noff, nlen);
		a[nlen] = '\0';
		v->name = a;
		v->nlen = (uint32_t)nlen;
		a += nlen + 1;
		memcpy(a, p->raw + noff + nlen, vlen);
		a[vlen] = '\0';
		v->value = a;
		v->vlen = (uint32_t)vlen;
		a += vlen + 1;
	}
	fcgi_params_index(p);
	return 0;
fail:
	p->n = 0;
	p->idx_mask = 0;
	return -1;
}

void
fcgi_params_reset(struct fcgi_params *p)
{
	/* A rare huge request gives its memory back rather than pin it. */
	if (p->raw_cap > FCGI_PARAMS_KEEP ||
	    p->v_cap > FCGI_PARAMS_KEEP / sizeof(*p->v))
		fcgi_params_free(p);
	p->raw_len = 0;
	p->n = 0;
	p->idx_mask = 0;
}

void
fcgi_params_free(struct fcgi_params *p)
{
	free(p->raw);
	free(p->arena);
	free(p->v);
	free(p->idx);
	memset(p, 0, sizeof(*p));
}

const char *
fcgi_params_get(const struct fcgi_params *p, const char *name, size_t nlen)
{
	const struct fcgi_param	*q;
	size_t			 i, h, k;
	uint32_t		 j;

	if (nlen > 0 && p->idx_mask != 0) {
		/* every name sits within FCGI_IDX_PROBES of its home */
		h = fcgi_name_hash(name, nlen);
		for (k = 0; k < FCGI_IDX_PROBES; k++) {
			if ((j = p->idx[(h + k) & p->idx_mask]) == 0)
				return NULL;
			q = &p->v[j - 1];
			if (q->nlen == nlen && q->name[nlen - 1] ==
			    name[nlen - 1] && memcmp(q->name, name, nlen) == 0)
				return q->value;
		}
		return NULL;
	}
	if (nlen == 0) {
		for (i = p->n; i-- > 0;)
			if (p->v[i].nlen == 0)
				return p->v[i].value;
		return NULL;
	}
	/*
	 * Backwards: a name sent twice takes its last value, as in php-fpm.
	 * The last byte first: names of one length (SCRIPT_NAME and
	 * SERVER_NAME, the HTTP_ ones) tend to share their first bytes, and
	 * the SAPI asks a dozen names per request.
	 */
	for (i = p->n; i-- > 0;) {
		if (p->v[i].nlen == nlen &&
		    p->v[i].name[nlen - 1] == name[nlen - 1] &&
		    memcmp(p->v[i].name, name, nlen) == 0)
			return p->v[i].value;
	}
	return NULL;
}

size_t
fcgi_pair_encode(uint8_t *out, size_t cap, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	size_t	 hlen;
	uint8_t	*o;

	if (nlen > FCGI_LEN_MAX || vlen > FCGI_LEN_MAX)
		return 0;
	hlen = (nlen < 0x80 ? 1U : 4U) + (vlen < 0x80 ? 1U : 4U);
	if (cap < hlen || cap - hlen < nlen || cap - hlen - nlen < vlen)
		return 0;
	o = fcgi_len_write(out, nlen);
	o = fcgi_len_write(o, vlen);
	if (nlen > 0)
		memcpy(o, name, nlen);
	if (vlen > 0)
		memcpy(o + nlen, value, vlen);
	return hlen + nlen + vlen;
}

void
fcgi_header_encode(uint8_t out[FCGI_HEADER_LEN], uint8_t type, uint16_t id,
    uint16_t clen, uint8_t plen)
{
	out[0] = FCGI_VERSION_1;
	out[1] = type;
	out[2] = (uint8_t)(id >> 8);
	out[3] = (uint8_t)id;
	out[4] = (uint8_t)(clen >> 8);
	out[5] = (uint8_t)clen;
	out[6] = plen;
	out[7] = 0;
}

void
fcgi_end_request_encode(uint8_t out[16], uint16_t id, uint32_t app_status,
    uint8_t protocol_status)
{
	fcgi_header_encode(out, FCGI_END_REQUEST, id, 8, 0);
	out[8] = (uint8_t)(app_status >> 24);
	out[9] = (uint8_t)(app_status >> 16);
	out[10] = (uint8_t)(app_status >> 8);
	out[11] = (uint8_t)app_status;
	out[12] = protocol_status;
	out[13] = out[14] = out[15] = 0;
}

void
fcgi_unknown_type_encode(uint8_t out[16], uint8_t type)
{
	fcgi_header_encode(out, FCGI_UNKNOWN_TYPE, 0, 8, 0);
	out[8] = type;
	memset(out + 9, 0, 7);
}

/* Writes v in decimal into buf (big enough for any unsigned). */
static size_t
fcgi_utoa(char *buf, unsigned v)
{
	char	 tmp[3 * sizeof(v)];
	size_t	 n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

size_t
fcgi_get_values_answer(const struct fcgi_record *rec, uint8_t *out,
    size_t cap, unsigned max_conns, unsigned max_reqs)
{
	static const struct {
		const char	*name;
		size_t		 len;
	} known[] = {
		{ "FCGI_MAX_CONNS", sizeof("FCGI_MAX_CONNS") - 1 },
		{ "FCGI_MAX_REQS", sizeof("FCGI_MAX_REQS") - 1 },
		{ "FCGI_MPXS_CONNS", sizeof("FCGI_MPXS_CONNS") - 1 },
	};
	char		 val[3][3 * sizeof(unsigned)];
	size_t		 vlen[3];
	size_t		 pos, noff, nlen, qvlen, clen, plen, n, i;
	unsigned	 answered = 0;

	if (rec->type != FCGI_GET_VALUES || cap < FCGI_HEADER_LEN)
		return 0;
	vlen[0] = fcgi_utoa(val[0], max_conns);
	vlen[1] = fcgi_utoa(val[1], max_reqs);
	vlen[2] = fcgi_utoa(val[2], 0);	/* one request per connection */

	clen = 0;
	pos = 0;
	while (pos < rec->clen) {
		if (fcgi_pair_next(rec->content, rec->clen, &pos, &noff, &nlen,
		    &qvlen) == -1)
			return 0;
		for (i = 0; i < 3; i++) {
			if (nlen != known[i].len ||
			    memcmp(rec->content + noff, known[i].name,
			    nlen) != 0)
				continue;
			/* Once each, so the answer stays small whatever asked. */
			if (answered & (1U << i))
				break;
			answered |= 1U << i;
			n = fcgi_pair_encode(out + FCGI_HEADER_LEN + clen,
			    cap - FCGI_HEADER_LEN - clen, known[i].name,
			    known[i].len, val[i], vlen[i]);
			if (n == 0)
				return 0;
			clen += n;
			break;
		}
	}
	plen = -clen & 7;
	if (cap - FCGI_HEADER_LEN - clen < plen)
		return 0;
	memset(out + FCGI_HEADER_LEN + clen, 0, plen);
	fcgi_header_encode(out, FCGI_GET_VALUES_RESULT, 0, (uint16_t)clen,
	    (uint8_t)plen);
	return FCGI_HEADER_LEN + clen + plen;
}
