/*
 * Unit tests of the FastCGI codec (daemon/fcgi.c): records cut at every
 * length, params with both length forms and split across chunks, malformed
 * and oversized input, the records a responder writes (byte for byte), and
 * a long run over seeded random bytes that must never read or write out of
 * bounds (run it under ASan and UBSan).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi.h"
#define UNIT_MAIN
#include "unit.h"

#define RANDOM_RUNS	100000

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: the same sequence on every run and every libc. */
static uint32_t
rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

/* A whole record in out; returns its size. */
static size_t
record_make(uint8_t *out, uint8_t type, uint16_t id, const void *content,
    uint16_t clen, uint8_t plen)
{
	fcgi_header_encode(out, type, id, clen, plen);
	if (clen > 0)
		memcpy(out + FCGI_HEADER_LEN, content, clen);
	memset(out + FCGI_HEADER_LEN + clen, 0xee, plen);
	return FCGI_HEADER_LEN + (size_t)clen + plen;
}

/* Appends one pair to a params stream being built in buf. */
static void
stream_add(uint8_t *buf, size_t cap, size_t *len, const char *name,
    const char *value)
{
	size_t	 n;

	n = fcgi_pair_encode(buf + *len, cap - *len, name, strlen(name),
	    value, strlen(value));
	CHECK(n > 0);
	*len += n;
}

static int
params_from(struct fcgi_params *p, const void *raw, size_t len)
{
	fcgi_params_reset(p);
	if (fcgi_params_append(p, raw, len) == -1)
		return -1;
	return fcgi_params_decode(p);
}

static void
test_record_prefixes(void)
{
	uint8_t			 buf[64];
	struct fcgi_record	 rec;
	size_t			 total, i;
	int			 bad = 0;

	total = record_make(buf, FCGI_STDIN, 0x1234, "hello", 5, 3);
	CHECK(total == 16);
	for (i = 0; i < total; i++) {
		memset(&rec, 0x5a, sizeof(rec));
		if (fcgi_record_parse(buf, i, &rec) != 0)
			bad++;
		/* rec is left alone until the record is whole. */
		if (rec.type != 0x5a || rec.clen != 0x5a5a)
			bad++;
	}
	CHECK(bad == 0);
	CHECK(fcgi_record_parse(buf, total, &rec) == 16);
	CHECK(rec.type == FCGI_STDIN);
	CHECK(rec.id == 0x1234);
	CHECK(rec.clen == 5);
	CHECK(rec.plen == 3);
	CHECK(rec.content == buf + FCGI_HEADER_LEN);
	CHECK(memcmp(rec.content, "hello", 5) == 0);

	/* Bytes of the next record do not change the answer. */
	total += record_make(buf + total, FCGI_STDIN, 0x1234, NULL, 0, 0);
	CHECK(fcgi_record_parse(buf, total, &rec) == 16);
	CHECK(fcgi_record_parse(buf + 16, total - 16, &rec) == 8);
	CHECK(rec.clen == 0 && rec.plen == 0 && rec.type == FCGI_STDIN);

	/* An unknown type is still a record: the caller answers it. */
	record_make(buf, 200, 1, NULL, 0, 0);
	CHECK(fcgi_record_parse(buf, 8, &rec) == 8);
	CHECK(rec.type == 200);
}

static void
test_record_version(void)
{
	uint8_t			 buf[16];
	struct fcgi_record	 rec;
	size_t			 i;

	record_make(buf, FCGI_BEGIN_REQUEST, 1, "\0\1\0\0\0\0\0\0", 8, 0);
	buf[0] = 0;
	CHECK(fcgi_record_parse(buf, 16, &rec) == -1);
	buf[0] = 2;
	CHECK(fcgi_record_parse(buf, 16, &rec) == -1);
	/* Garbage is refused on its first byte. */
	for (i = 1; i < 16; i++)
		CHECK(fcgi_record_parse(buf, i, &rec) == -1);
	buf[0] = 0xff;
	CHECK(fcgi_record_parse(buf, 1, &rec) == -1);
	memcpy(buf, "GET / HT", 8);
	CHECK(fcgi_record_parse(buf, 8, &rec) == -1);
	buf[0] = FCGI_VERSION_1;
	CHECK(fcgi_record_parse(buf, 0, &rec) == 0);
}

static void
test_record_padding(void)
{
	uint8_t			 buf[8 + 255];
	struct fcgi_record	 rec;

	record_make(buf, FCGI_PARAMS, 7, NULL, 0, 255);
	CHECK(fcgi_record_parse(buf, 8, &rec) == 0);
	CHECK(fcgi_record_parse(buf, 262, &rec) == 0);
	CHECK(fcgi_record_parse(buf, 263, &rec) == 263);
	CHECK(rec.clen == 0 && rec.plen == 255 && rec.id == 7);

	record_make(buf, FCGI_STDOUT, 7, "abc", 3, 5);
	CHECK(fcgi_record_parse(buf, 11, &rec) == 0);
	CHECK(fcgi_record_parse(buf, 15, &rec) == 0);
	CHECK(fcgi_record_parse(buf, 16, &rec) == 16);
}

static void
test_record_max(void)
{
	size_t			 total = 8 + 65535 + 255;
	uint8_t			*buf;
	struct fcgi_record	 rec;

	if ((buf = malloc(total)) == NULL) {
		CHECK(buf != NULL);
		return;
	}
	memset(buf, 'x', total);
	fcgi_header_encode(buf, FCGI_STDIN, 0xffff, FCGI_MAX_CONTENT, 255);
	CHECK(buf[4] == 0xff && buf[5] == 0xff);
	CHECK(fcgi_record_parse(buf, 8, &rec) == 0);
	CHECK(fcgi_record_parse(buf, 8 + 65535, &rec) == 0);
	CHECK(fcgi_record_parse(buf, total - 1, &rec) == 0);
	CHECK(fcgi_record_parse(buf, total, &rec) == (ssize_t)total);
	CHECK(rec.clen == 65535 && rec.plen == 255 && rec.id == 0xffff);
	free(buf);
}

static void
test_begin(void)
{
	uint8_t			 buf[32];
	struct fcgi_record	 rec;
	uint16_t		 role = 0;
	uint8_t			 flags = 0;

	record_make(buf, FCGI_BEGIN_REQUEST, 1, "\0\1\1\0\0\0\0\0", 8, 0);
	CHECK(fcgi_record_parse(buf, 16, &rec) == 16);
	CHECK(fcgi_begin_parse(&rec, &role, &flags) == 0);
	CHECK(role == FCGI_RESPONDER);
	CHECK(flags == FCGI_KEEP_CONN);

	record_make(buf, FCGI_BEGIN_REQUEST, 1, "\1\3\0\0\0\0\0\0", 8, 0);
	fcgi_record_parse(buf, 16, &rec);
	CHECK(fcgi_begin_parse(&rec, &role, &flags) == 0);
	CHECK(role == 0x0103);
	CHECK(flags == 0);

	/* Too short a body, the rest of the buffer notwithstanding. */
	record_make(buf, FCGI_BEGIN_REQUEST, 1, "\0\1\1\0\0\0\0", 7, 1);
	CHECK(fcgi_record_parse(buf, 16, &rec) == 16);
	role = 9;
	CHECK(fcgi_begin_parse(&rec, &role, &flags) == -1);
	CHECK(role == 9);
	record_make(buf, FCGI_BEGIN_REQUEST, 1, NULL, 0, 0);
	fcgi_record_parse(buf, 8, &rec);
	CHECK(fcgi_begin_parse(&rec, &role, &flags) == -1);
}

static void
test_params_basic(void)
{
	struct fcgi_params	 p;
	uint8_t			 raw[512];
	size_t			 len = 0;

	memset(&p, 0, sizeof(p));
	CHECK(FCGI_PARAM(&p, "SCRIPT_FILENAME") == NULL);
	CHECK(fcgi_params_decode(&p) == 0);
	CHECK(p.n == 0);

	stream_add(raw, sizeof(raw), &len, "SCRIPT_FILENAME", "/srv/i.php");
	stream_add(raw, sizeof(raw), &len, "QUERY_STRING", "");
	stream_add(raw, sizeof(raw), &len, "REQUEST_METHOD", "GET");
	stream_add(raw, sizeof(raw), &len, "", "anonymous");
	CHECK(params_from(&p, raw, len) == 0);
	CHECK(p.n == 4);
	CHECK_STR(FCGI_PARAM(&p, "SCRIPT_FILENAME"), "/srv/i.php");
	CHECK_STR(FCGI_PARAM(&p, "QUERY_STRING"), "");
	CHECK_STR(FCGI_PARAM(&p, "REQUEST_METHOD"), "GET");
	/* An empty name is kept, as php-fpm does. */
	CHECK_STR(fcgi_params_get(&p, "", 0), "anonymous");
	CHECK(FCGI_PARAM(&p, "REQUEST_METHO") == NULL);
	CHECK(FCGI_PARAM(&p, "REQUEST_METHODS") == NULL);
	CHECK(FCGI_PARAM(&p, "request_method") == NULL);
	CHECK(p.v[0].nlen == 15 && p.v[0].vlen == 10);
	CHECK(p.v[1].vlen == 0 && p.v[1].value[0] == '\0');
	CHECK(p.v[3].nlen == 0 && p.v[3].name[0] == '\0');
	/* Lookup is by bytes: the name need not be NUL-terminated. */
	CHECK_STR(fcgi_params_get(&p, "QUERY_STRING_XX", 12), "");

	/* Decoding again gives the same pairs. */
	CHECK(fcgi_params_decode(&p) == 0);
	CHECK(p.n == 4);
	CHECK_STR(FCGI_PARAM(&p, "REQUEST_METHOD"), "GET");
	fcgi_params_free(&p);
	CHECK(p.raw == NULL && p.n == 0 && p.raw_len == 0);
}

static void
test_params_binary(void)
{
	struct fcgi_params	 p;
	/* NUL inside a value, and a name with a byte >= 0x80. */
	static const uint8_t	 raw[] = {
		2, 3, 'A', 0xe9, 'x', '\0', 'y',
		1, 0, 'Z'
	};

	memset(&p, 0, sizeof(p));
	CHECK(params_from(&p, raw, sizeof(raw)) == 0);
	CHECK(p.n == 2);
	CHECK(p.v[0].vlen == 3);
	CHECK(memcmp(p.v[0].value, "x\0y", 4) == 0);
	CHECK(fcgi_params_get(&p, "A\xe9", 2) == p.v[0].value);
	CHECK_STR(FCGI_PARAM(&p, "Z"), "");
	fcgi_params_free(&p);
}

static void
test_params_long(void)
{
	struct fcgi_params	 p;
	static uint8_t		 raw[4096];
	char			 n127[128], n128[129], n200[201], v300[301];
	char			 v70k_name[] = "BIG";
	char			*v70k;
	size_t			 len = 0, n;
	uint8_t			 enc[16];

	memset(&p, 0, sizeof(p));
	memset(n127, 'a', 127);
	n127[127] = '\0';
	memset(n128, 'b', 128);
	n128[128] = '\0';
	memset(n200, 'c', 200);
	n200[200] = '\0';
	memset(v300, 'd', 300);
	v300[300] = '\0';

	/* 127 is the longest 1-byte length, 128 the shortest 4-byte one. */
	n = fcgi_pair_encode(enc, sizeof(enc), n127, 127, "", 0);
	CHECK(n == 0);
	n = fcgi_pair_encode(raw, sizeof(raw), n127, 127, n128, 128);
	CHECK(n == 1 + 4 + 127 + 128);
	CHECK(raw[0] == 127);
	CHECK(raw[1] == 0x80 && raw[2] == 0 && raw[3] == 0 && raw[4] == 128);
	len = n;
	stream_add(raw, sizeof(raw), &len, n200, v300);
	CHECK(raw[len - 300 - 200 - 8] == 0x80 &&
	    raw[len - 300 - 200 - 5] == 200);
	stream_add(raw, sizeof(raw), &len, "SHORT", v300);
	stream_add(raw, sizeof(raw), &len, n128, "v");
	CHECK(params_from(&p, raw, len) == 0);
	CHECK(p.n == 4);
	CHECK_STR(fcgi_params_get(&p, n127, 127), n128);
	CHECK_STR(fcgi_params_get(&p, n200, 200), v300);
	CHECK_STR(FCGI_PARAM(&p, "SHORT"), v300);
	CHECK_STR(fcgi_params_get(&p, n128, 128), "v");
	CHECK(p.v[1].nlen == 200 && p.v[1].vlen == 300);

	/* A 4-byte length is accepted for a short string too. */
	{
		static const uint8_t	 odd[] = {
			0x80, 0, 0, 1, 0x80, 0, 0, 3, 'K', 'a', 'b', 'c'
		};

		CHECK(params_from(&p, odd, sizeof(odd)) == 0);
		CHECK(p.n == 1);
		CHECK_STR(FCGI_PARAM(&p, "K"), "abc");
	}

	/* A value longer than one record's content. */
	if ((v70k = malloc(70001)) != NULL) {
		uint8_t	*big = malloc(70016);

		memset(v70k, 'e', 70000);
		v70k[70000] = '\0';
		n = big ? fcgi_pair_encode(big, 70016, v70k_name, 3, v70k,
		    70000) : 0;
		CHECK(n == 1 + 4 + 3 + 70000);
		CHECK(params_from(&p, big, n) == 0);
		CHECK_STR(FCGI_PARAM(&p, "BIG"), v70k);
		CHECK(p.v[0].vlen == 70000);
		free(big);
		free(v70k);
	}
	fcgi_params_free(&p);
}

static void
test_params_split(void)
{
	struct fcgi_params	 p;
	uint8_t			 raw[1024];
	char			 longv[200];
	size_t			 len = 0, cut;
	int			 bad = 0;

	memset(&p, 0, sizeof(p));
	memset(longv, 'L', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	stream_add(raw, sizeof(raw), &len, "DOCUMENT_ROOT", "/srv/www");
	stream_add(raw, sizeof(raw), &len, "HTTP_COOKIE", longv);
	stream_add(raw, sizeof(raw), &len, "HTTPS", "on");

	/* The stream cut anywhere, even inside a 4-byte length. */
	for (cut = 0; cut <= len; cut++) {
		fcgi_params_reset(&p);
		if (fcgi_params_append(&p, raw, cut) == -1 ||
		    fcgi_params_append(&p, raw + cut, len - cut) == -1 ||
		    fcgi_params_decode(&p) == -1) {
			bad++;
			continue;
		}
		if (p.n != 3 ||
		    strcmp(FCGI_PARAM(&p, "DOCUMENT_ROOT"), "/srv/www") != 0 ||
		    strcmp(FCGI_PARAM(&p, "HTTP_COOKIE"), longv) != 0 ||
		    strcmp(FCGI_PARAM(&p, "HTTPS"), "on") != 0)
			bad++;
	}
	CHECK(bad == 0);

	/* Byte by byte. */
	fcgi_params_reset(&p);
	for (cut = 0; cut < len; cut++)
		CHECK(fcgi_params_append(&p, raw + cut, 1) == 0);
	CHECK(fcgi_params_append(&p, NULL, 0) == 0);
	CHECK(fcgi_params_decode(&p) == 0);
	CHECK(p.n == 3);
	CHECK_STR(FCGI_PARAM(&p, "HTTP_COOKIE"), longv);
	fcgi_params_free(&p);
}

static void
test_params_malformed(void)
{
	static const struct {
		const char	*raw;
		size_t		 len;
	} bad[] = {
		{ "\x80", 1 },			/* 4-byte length cut short */
		{ "\x80\x00\x00", 3 },
		{ "\x01", 1 },			/* no value length */
		{ "\x01\x80\x00", 3 },
		{ "\x02\x00" "A", 3 },		/* name runs past the end */
		{ "\x01\x02" "AB", 4 },		/* value runs past the end */
		{ "\x01\x01" "AB" "\x05", 5 },	/* a good pair, then junk */
		{ "\xff\xff\xff\xff\x00", 5 },	/* 2^31 - 1 */
		{ "\x00\xff\xff\xff\xff", 5 },
		{ "\x00\xff\xff\xff\xf8" "abcdefgh", 13 },
		{ "\x80\x00\x00\x02\x00" "A", 6 },
	};
	struct fcgi_params	 p;
	size_t			 i;

	memset(&p, 0, sizeof(p));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(params_from(&p, bad[i].raw, bad[i].len) == -1);
		CHECK(p.n == 0);
		CHECK(FCGI_PARAM(&p, "A") == NULL);
	}
	/* The same buffers serve a good request afterwards. */
	CHECK(params_from(&p, "\x01\x01" "AB", 4) == 0);
	CHECK_STR(FCGI_PARAM(&p, "A"), "B");
	fcgi_params_free(&p);
}

static void
test_params_limit(void)
{
	struct fcgi_params	 p;
	uint8_t			*buf, *pair;
	size_t			 n;

	memset(&p, 0, sizeof(p));
	if ((buf = calloc(1, FCGI_PARAMS_MAX + 1)) == NULL) {
		CHECK(buf != NULL);
		return;
	}
	CHECK(fcgi_params_append(&p, buf, FCGI_PARAMS_MAX + 1) == -1);
	CHECK(p.raw_len == 0);
	CHECK(fcgi_params_append(&p, buf, SIZE_MAX) == -1);
	CHECK(fcgi_params_append(&p, buf, FCGI_PARAMS_MAX - 10) == 0);
	CHECK(fcgi_params_append(&p, buf, 11) == -1);
	CHECK(p.raw_len == FCGI_PARAMS_MAX - 10);
	CHECK(fcgi_params_append(&p, buf, 10) == 0);
	CHECK(p.raw_len == FCGI_PARAMS_MAX);
	CHECK(fcgi_params_append(&p, buf, 1) == -1);
	CHECK(fcgi_params_append(&p, buf, 0) == 0);
	/* All zero bytes: the most pairs there can be, each name and value
	 * empty; the arena of raw_len bytes must hold them all. */
	CHECK(fcgi_params_decode(&p) == 0);
	CHECK(p.n == FCGI_PARAMS_MAX / 2);
	CHECK(p.v[p.n - 1].nlen == 0 && p.v[p.n - 1].name[0] == '\0');
	CHECK(p.v[p.n - 1].value[0] == '\0');

	/* After a reset the whole allowance is there again. */
	fcgi_params_reset(&p);
	if ((pair = malloc(FCGI_PARAMS_MAX)) == NULL) {
		CHECK(pair != NULL);
		goto done;
	}
	n = fcgi_pair_encode(pair, FCGI_PARAMS_MAX, "N", 1, (char *)buf,
	    FCGI_PARAMS_MAX - 6);
	CHECK(n == FCGI_PARAMS_MAX);
	CHECK(fcgi_params_append(&p, pair, n) == 0);
	free(pair);
	CHECK(fcgi_params_decode(&p) == 0);
	CHECK(p.n == 1 && p.v[0].vlen == FCGI_PARAMS_MAX - 6);
	fcgi_params_reset(&p);
	CHECK(params_from(&p, "\x01\x01" "ab", 4) == 0);
	CHECK_STR(FCGI_PARAM(&p, "a"), "b");
done:
	fcgi_params_free(&p);
	free(buf);
}

static void
test_params_duplicates(void)
{
	struct fcgi_params	 p;
	uint8_t			 raw[256];
	size_t			 len = 0;

	memset(&p, 0, sizeof(p));
	stream_add(raw, sizeof(raw), &len, "HTTP_HOST", "first");
	stream_add(raw, sizeof(raw), &len, "SCRIPT_NAME", "/a.php");
	stream_add(raw, sizeof(raw), &len, "HTTP_HOST", "second");
	stream_add(raw, sizeof(raw), &len, "HTTP_HOST", "last");
	stream_add(raw, sizeof(raw), &len, "HTTP_HOSTX", "other");
	CHECK(params_from(&p, raw, len) == 0);
	CHECK(p.n == 5);
	CHECK(p.idx_mask != 0);		/* indexed */
	CHECK_STR(FCGI_PARAM(&p, "HTTP_HOST"), "last");
	CHECK_STR(FCGI_PARAM(&p, "SCRIPT_NAME"), "/a.php");
	CHECK(FCGI_PARAM(&p, "HTTP_HOS") == NULL);
	fcgi_params_free(&p);
}

/* What fcgi_params_get() must answer: the last pair of that name. */
static const char *
params_scan(const struct fcgi_params *p, const char *name, size_t nlen)
{
	size_t	 i;

	for (i = p->n; i-- > 0;)
		if (p->v[i].nlen == nlen &&
		    memcmp(p->v[i].name, name, nlen) == 0)
			return p->v[i].value;
	return NULL;
}

/*
 * The names index answers as a scan would: names that crowd one slot
 * (same length, same first, middle and last bytes), more params than it
 * indexes, and random sets of short names with duplicates.
 */
static void
test_params_index(void)
{
	struct fcgi_params	 p;
	static uint8_t		 raw[256 * 1024];
	char			 name[32], value[32];
	size_t			 len, i, r, n, nl;
	int			 bad = 0;

	memset(&p, 0, sizeof(p));
	/* 40 names alike but for their second byte: crowded, scanned */
	len = 0;
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "A%cCDEFGHIJZZ",
		    'a' + (int)(i % 26));
		name[2] = (char)('0' + i / 26);
		snprintf(value, sizeof(value), "v%zu", i);
		stream_add(raw, sizeof(raw), &len, name, value);
	}
	CHECK(params_from(&p, raw, len) == 0);
	CHECK(p.n == 40);
	CHECK(p.idx_mask == 0);		/* no index: they crowd */
	for (i = 0; i < 40; i++)
		if (fcgi_params_get(&p, p.v[i].name, p.v[i].nlen) !=
		    params_scan(&p, p.v[i].name, p.v[i].nlen))
			bad++;
	CHECK(FCGI_PARAM(&p, "AaXDEFGHIJZZ") == NULL);
	/* more params than the index takes */
	len = 0;
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "N%zu", i % 4500);
		snprintf(value, sizeof(value), "%zu", i);
		stream_add(raw, sizeof(raw), &len, name, value);
	}
	CHECK(params_from(&p, raw, len) == 0);
	CHECK(p.idx_mask == 0);
	CHECK_STR(FCGI_PARAM(&p, "N7"), "4507");
	CHECK_STR(FCGI_PARAM(&p, "N4499"), "4499");
	CHECK(FCGI_PARAM(&p, "N4500") == NULL);
	/* random sets: 1 to 200 names of 1 to 4 letters from "ABC_" */
	for (r = 0; r < 2000; r++) {
		len = 0;
		n = 1 + rng_next() % 200;
		for (i = 0; i < n; i++) {
			nl = 1 + rng_next() % 4;
			for (size_t k = 0; k < nl; k++)
				name[k] = "ABC_"[rng_next() % 4];
			name[nl] = '\0';
			snprintf(value, sizeof(value), "%zu", i);
			stream_add(raw, sizeof(raw), &len, name, value);
		}
		if (params_from(&p, raw, len) != 0) {
			bad++;
			continue;
		}
		for (i = 0; i < 20; i++) {
			nl = 1 + rng_next() % 4;
			for (size_t k = 0; k < nl; k++)
				name[k] = "ABC_"[rng_next() % 4];
			if (fcgi_params_get(&p, name, nl) !=
			    params_scan(&p, name, nl))
				bad++;
		}
	}
	CHECK(bad == 0);
	fcgi_params_free(&p);
	CHECK(p.idx == NULL);
}

static void
test_params_requests(void)
{
	struct fcgi_params	 p;
	uint8_t			 raw[8192];
	char			 name[32], value[64];
	size_t			 len;
	int			 req, i, bad = 0;

	memset(&p, 0, sizeof(p));
	/* A worker's life: one params struct, many requests of all sizes. */
	for (req = 0; req < 200; req++) {
		len = 0;
		fcgi_params_reset(&p);
		for (i = 0; i < req % 50 + 1; i++) {
			snprintf(name, sizeof(name), "R%d_N%d", req, i);
			snprintf(value, sizeof(value), "value %d of %d", i,
			    req);
			stream_add(raw, sizeof(raw), &len, name, value);
		}
		if (fcgi_params_append(&p, raw, len) == -1 ||
		    fcgi_params_decode(&p) == -1) {
			bad++;
			continue;
		}
		if (p.n != (size_t)(req % 50 + 1))
			bad++;
		snprintf(name, sizeof(name), "R%d_N%d", req, req % 50);
		snprintf(value, sizeof(value), "value %d of %d", req % 50,
		    req);
		if (fcgi_params_get(&p, name, strlen(name)) == NULL ||
		    strcmp(fcgi_params_get(&p, name, strlen(name)), value))
			bad++;
		/* Nothing of the previous request shows through. */
		if (req > 0) {
			snprintf(name, sizeof(name), "R%d_N0", req - 1);
			if (fcgi_params_get(&p, name, strlen(name)) != NULL)
				bad++;
		}
	}
	CHECK(bad == 0);

	/* A reset with nothing appended decodes to nothing. */
	fcgi_params_reset(&p);
	CHECK(fcgi_params_decode(&p) == 0);
	CHECK(p.n == 0);
	CHECK(FCGI_PARAM(&p, "R0_N0") == NULL);
	fcgi_params_free(&p);
	/* Free twice, and reset after free, are harmless. */
	fcgi_params_free(&p);
	fcgi_params_reset(&p);
	CHECK(params_from(&p, "\x01\x00" "x", 3) == 0);
	CHECK_STR(FCGI_PARAM(&p, "x"), "");
	fcgi_params_free(&p);
}

static void
test_pair_encode(void)
{
	static const size_t	 sizes[][2] = {
		{ 0, 0 }, { 1, 0 }, { 0, 1 }, { 127, 127 }, { 127, 128 },
		{ 128, 127 }, { 128, 128 }, { 1000, 5 }, { 3, 70000 },
	};
	struct fcgi_params	 p;
	uint8_t			*out;
	char			*name, *value;
	size_t			 i, n, want, cap;
	int			 bad = 0;

	memset(&p, 0, sizeof(p));
	out = malloc(80000);
	name = malloc(80000);
	value = malloc(80000);
	if (out == NULL || name == NULL || value == NULL) {
		CHECK(0);
		goto done;
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t	 nl = sizes[i][0], vl = sizes[i][1];

		memset(name, 'n', nl);
		memset(value, 'v', vl);
		want = (nl < 128 ? 1 : 4) + (vl < 128 ? 1 : 4) + nl + vl;
		n = fcgi_pair_encode(out, 80000, name, nl, value, vl);
		CHECK(n == want);
		CHECK(params_from(&p, out, n) == 0);
		CHECK(p.n == 1);
		CHECK(p.v[0].nlen == nl && p.v[0].vlen == vl);
		CHECK(memcmp(p.v[0].name, name, nl) == 0);
		CHECK(memcmp(p.v[0].value, value, vl) == 0);
		CHECK(p.v[0].name[nl] == '\0' && p.v[0].value[vl] == '\0');
		/* Every smaller room is refused, and nothing is written
		 * past it. */
		for (cap = 0; cap < want; cap++) {
			memset(out, 0xaa, want);
			if (fcgi_pair_encode(out, cap, name, nl, value,
			    vl) != 0)
				bad++;
			if (out[cap] != 0xaa)
				bad++;
		}
	}
	CHECK(bad == 0);
	/* Lengths a 31-bit field cannot carry. */
	CHECK(fcgi_pair_encode(out, 16, name, (size_t)0x80000000U, value,
	    0) == 0);
	CHECK(fcgi_pair_encode(out, 16, name, 0, value,
	    (size_t)0x80000000U) == 0);
	CHECK(fcgi_pair_encode(out, 16, name, SIZE_MAX, value, SIZE_MAX) == 0);
	CHECK(fcgi_pair_encode(out, SIZE_MAX, name, 1, value, SIZE_MAX) == 0);
	CHECK(fcgi_pair_encode(out, 2, NULL, 0, NULL, 0) == 2);
	CHECK(out[0] == 0 && out[1] == 0);
done:
	fcgi_params_free(&p);
	free(out);
	free(name);
	free(value);
}

static void
test_encoders(void)
{
	uint8_t			 out[16];
	struct fcgi_record	 rec;

	fcgi_header_encode(out, FCGI_STDOUT, 0xbeef, 0x1234, 0x56);
	CHECK(memcmp(out, "\x01\x06\xbe\xef\x12\x34\x56\x00", 8) == 0);

	memset(out, 0xaa, sizeof(out));
	fcgi_end_request_encode(out, 0x0102, 0xdeadbeef, FCGI_OVERLOADED);
	CHECK(memcmp(out, "\x01\x03\x01\x02\x00\x08\x00\x00"
	    "\xde\xad\xbe\xef\x02\x00\x00\x00", 16) == 0);
	CHECK(fcgi_record_parse(out, 16, &rec) == 16);
	CHECK(rec.type == FCGI_END_REQUEST && rec.id == 0x0102);

	memset(out, 0xaa, sizeof(out));
	fcgi_end_request_encode(out, 1, 0, FCGI_REQUEST_COMPLETE);
	CHECK(memcmp(out, "\x01\x03\x00\x01\x00\x08\x00\x00"
	    "\x00\x00\x00\x00\x00\x00\x00\x00", 16) == 0);

	memset(out, 0xaa, sizeof(out));
	fcgi_unknown_type_encode(out, 200);
	CHECK(memcmp(out, "\x01\x0b\x00\x00\x00\x08\x00\x00"
	    "\xc8\x00\x00\x00\x00\x00\x00\x00", 16) == 0);
}

static size_t
get_values(const void *query, uint16_t qlen, uint8_t *out, size_t cap,
    unsigned conns, unsigned reqs)
{
	uint8_t			 buf[512];
	struct fcgi_record	 rec;
	size_t			 n;

	n = record_make(buf, FCGI_GET_VALUES, 0, query, qlen, -qlen & 7);
	if (fcgi_record_parse(buf, n, &rec) != (ssize_t)n)
		return 0;
	return fcgi_get_values_answer(&rec, out, cap, conns, reqs);
}

static void
test_get_values(void)
{
	static const char	 q[] =
	    "\x0f\x00" "FCGI_MPXS_CONNS"
	    "\x0e\x00" "FCGI_MAX_CONNS"
	    "\x03\x00" "FOO"
	    "\x0d\x00" "FCGI_MAX_REQS"
	    "\x0e\x00" "FCGI_MAX_CONNS"		/* asked twice: answered once */
	    "\x0e\x00" "FCGI_MAX_CONNs";
	static const char	 want[] =
	    "\x01\x0a\x00\x00\x00\x35\x03\x00"
	    "\x0f\x01" "FCGI_MPXS_CONNS" "0"
	    "\x0e\x02" "FCGI_MAX_CONNS" "10"
	    "\x0d\x02" "FCGI_MAX_REQS" "50"
	    "\x00\x00\x00";
	uint8_t			 out[256], buf[64];
	struct fcgi_record	 rec;
	size_t			 n, cap;
	int			 bad = 0;

	CHECK(sizeof(want) - 1 == 64);
	memset(out, 0xaa, sizeof(out));
	n = get_values(q, sizeof(q) - 1, out, sizeof(out), 10, 50);
	CHECK(n == 64);
	CHECK(memcmp(out, want, 64) == 0);
	CHECK(out[64] == 0xaa);
	CHECK(fcgi_record_parse(out, n, &rec) == 64);
	CHECK(rec.type == FCGI_GET_VALUES_RESULT && rec.id == 0);

	/* Too little room, down to none at all. */
	for (cap = 0; cap < 64; cap++)
		if (get_values(q, sizeof(q) - 1, out, cap, 10, 50) != 0)
			bad++;
	CHECK(bad == 0);
	CHECK(get_values(q, sizeof(q) - 1, out, 64, 10, 50) == 64);

	/* Big numbers; a value sent with a name is ignored. */
	n = get_values("\x0d\x03" "FCGI_MAX_REQSabc", 18, out, sizeof(out),
	    0, 4294967295U);
	CHECK(n == 40);
	CHECK(memcmp(out, "\x01\x0a\x00\x00\x00\x19\x07\x00"
	    "\x0d\x0a" "FCGI_MAX_REQS" "4294967295"
	    "\x00\x00\x00\x00\x00\x00\x00", 40) == 0);

	/* Nothing known, or nothing asked: an empty answer. */
	n = get_values("\x03\x00" "FOO", 5, out, sizeof(out), 1, 1);
	CHECK(n == 8);
	CHECK(memcmp(out, "\x01\x0a\x00\x00\x00\x00\x00\x00", 8) == 0);
	CHECK(get_values(NULL, 0, out, sizeof(out), 1, 1) == 8);
	CHECK(get_values(NULL, 0, out, 7, 1, 1) == 0);

	/* Malformed queries. */
	CHECK(get_values("\x0e", 1, out, sizeof(out), 1, 1) == 0);
	CHECK(get_values("\x0e\x00" "FCGI_MAX_CONN", 15, out, sizeof(out),
	    1, 1) == 0);
	CHECK(get_values("\x0e\x00" "FCGI_MAX_CONNS" "\x80\x00", 18, out,
	    sizeof(out), 1, 1) == 0);
	CHECK(get_values("\xff\xff\xff\xff\x00", 5, out, sizeof(out), 1,
	    1) == 0);

	/* Only a GET_VALUES record is answered. */
	n = record_make(buf, FCGI_PARAMS, 0, "\x0e\x00" "FCGI_MAX_CONNS", 16,
	    0);
	fcgi_record_parse(buf, n, &rec);
	CHECK(fcgi_get_values_answer(&rec, out, sizeof(out), 1, 1) == 0);
}

/* Sanity of a decoded set: every string is where its length says. */
static int
params_sane(const struct fcgi_params *p)
{
	size_t	 i;

	if (p->n > p->raw_len / 2)
		return 0;
	for (i = 0; i < p->n; i++) {
		const struct fcgi_param	*v = &p->v[i];

		if (v->name < p->arena || v->value < p->arena ||
		    v->value + v->vlen >= p->arena + p->arena_cap ||
		    v->name[v->nlen] != '\0' || v->value[v->vlen] != '\0')
			return 0;
	}
	return 1;
}

static void
test_random(void)
{
	struct fcgi_params	 p;
	struct fcgi_record	 rec;
	uint8_t			*buf, out[128];
	uint16_t		 role;
	uint8_t			 flags;
	size_t			 len, off, i;
	ssize_t			 r;
	int			 run, bad = 0, decoded = 0, records = 0;

	memset(&p, 0, sizeof(p));
	for (run = 0; run < RANDOM_RUNS; run++) {
		len = rng_next() % 600;
		/* Exactly len bytes, so ASan sees any read past them. */
		if ((buf = malloc(len ? len : 1)) == NULL) {
			bad++;
			break;
		}
		for (i = 0; i < len; i++) {
			buf[i] = (uint8_t)rng_next();
			/* Mostly small numbers: more pairs and records get
			 * through, so more of the code is exercised. */
			if (run % 3 == 1)
				buf[i] &= 0x87;
			else if (run % 3 == 2)
				buf[i] &= 0x07;
		}
		if (len > 0 && (run & 2))
			buf[0] = FCGI_VERSION_1;

		/* As a stream of records. */
		off = 0;
		while ((r = fcgi_record_parse(buf + off, len - off,
		    &rec)) > 0) {
			records++;
			if ((size_t)r > len - off || r < FCGI_HEADER_LEN ||
			    (size_t)r != FCGI_HEADER_LEN + (size_t)rec.clen + rec.plen)
				bad++;
			(void)fcgi_begin_parse(&rec, &role, &flags);
			rec.type = FCGI_GET_VALUES;
			if (fcgi_get_values_answer(&rec, out, sizeof(out),
			    rng_next(), rng_next()) % 8 != 0)
				bad++;
			off += (size_t)r;
			if (off < len && (run & 4))
				buf[off] = FCGI_VERSION_1;
		}

		/* As a params stream, in two chunks. */
		off = len ? rng_next() % len : 0;
		fcgi_params_reset(&p);
		if (fcgi_params_append(&p, buf, off) == -1 ||
		    fcgi_params_append(&p, buf + off, len - off) == -1)
			bad++;
		if (fcgi_params_decode(&p) == 0) {
			decoded++;
			if (!params_sane(&p))
				bad++;
			if (p.n > 0 && fcgi_params_get(&p, p.v[0].name,
			    p.v[0].nlen) == NULL)
				bad++;
		} else if (p.n != 0)
			bad++;
		(void)FCGI_PARAM(&p, "SCRIPT_FILENAME");
		free(buf);
	}
	CHECK(bad == 0);
	/* The runs got somewhere: some decoded, some records found. */
	CHECK(decoded > RANDOM_RUNS / 100);
	CHECK(records > RANDOM_RUNS / 100);
	fcgi_params_free(&p);
}

int
main(void)
{
	test_record_prefixes();
	test_record_version();
	test_record_padding();
	test_record_max();
	test_begin();
	test_params_basic();
	test_params_binary();
	test_params_long();
	test_params_split();
	test_params_malformed();
	test_params_limit();
	test_params_duplicates();
	test_params_index();
	test_params_requests();
	test_pair_encode();
	test_encoders();
	test_get_values();
	test_random();
	return unit_done("test_fcgi");
}
