/*
 * fcgi-client: a raw FastCGI client for the black-box tests (t/protocol.bats).
 * It connects to a unix socket (a path with a '/') or HOST:PORT, runs a
 * small script that sends exact records or bytes, and prints what comes
 * back one record a line, so that a test can compare the exchange with what
 * it expects.  It encodes and parses with fpmd's own codec (daemon/fcgi.c),
 * which has its own unit tests; a test here checks the daemon, not the codec.
 *
 * Exit status: 0 the script ran to its end, 1 the exchange went otherwise
 * (connection closed or no answer before what a read command waits for, a
 * record that is not FastCGI), 2 usage or script error, 3 cannot connect.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fcgi.h"

#define IN_CAP		(2 * (FCGI_HEADER_LEN + FCGI_MAX_CONTENT + 255))

struct client {
	const char	*addr;
	int		 fd;
	bool		 wclosed;	/* a write failed: the server is gone */
	int		 timeout;	/* seconds, for each read and write */
	uint16_t	 id;		/* the request records are sent for */
	bool		 keep;		/* FCGI_KEEP_CONN in 'request' */
	uint8_t		 pad;		/* padding of the records sent */
	const char	*stdin_file;	/* body of 'request' */
	uint8_t		*params;	/* encoded pairs, sent by 'params' */
	size_t		 params_len, params_cap;
	bool		 body;		/* print STDOUT content at the end */
	FILE		*out;		/* STDOUT content, raw */
	char		*bodybuf;
	size_t		 body_len, body_cap;
	uint8_t		 in[IN_CAP];
	size_t		 in_off, in_len;
};

static const char *const type_names[] = {
	"", "BEGIN_REQUEST", "ABORT_REQUEST", "END_REQUEST", "PARAMS",
	"STDIN", "STDOUT", "STDERR", "DATA", "GET_VALUES",
	"GET_VALUES_RESULT", "UNKNOWN_TYPE"
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
"usage: fcgi-client [OPTIONS] ADDRESS [COMMAND...]  (options anywhere)\n"
"ADDRESS is a unix socket path (with a '/') or HOST:PORT.  Each COMMAND is\n"
"one argument; '-' reads commands from stdin, one a line.  Without commands:\n"
"'request' (and 'read-eof' unless --keep), --requests times.\n"
"options:\n"
"  -p NAME=VALUE   add a param      -k, --keep        FCGI_KEEP_CONN\n"
"  -i, --stdin F   request body     -n, --requests N  default script N times\n"
"  -b, --body      print STDOUT content before END_REQUEST (and EOF)\n"
"  -o, --out F     write STDOUT content to F\n"
"  -t, --timeout S seconds to wait for each read and write (default 10)\n"
"commands (TEXT and VALUE take \\n \\r \\t \\\\ \\xHH escapes):\n"
"  begin [ID] [ROLE] [keep]  BEGIN_REQUEST; ID (default 1) becomes current\n"
"  id ID                     records below are for request ID\n"
"  param NAME=VALUE          add a pair;  param-clear: drop them all\n"
"  params [SPLIT] [noend]    the pairs in records of at most SPLIT bytes,\n"
"                            then the empty PARAMS record unless noend\n"
"  params-end                the empty PARAMS record\n"
"  stdin TEXT                one STDIN record\n"
"  stdin-file FILE [SPLIT]   FILE in STDIN records;  stdin-end: empty STDIN\n"
"  abort                     ABORT_REQUEST\n"
"  get-values NAME...        GET_VALUES (id 0)\n"
"  record TYPE ID [HEX]      any record;  pad N: padding of records sent\n"
"  raw HEX | raw-file FILE   bytes as they are\n"
"  request                   begin, params, --stdin, stdin-end, read-end\n"
"  read [N] | read-end [ID] | read-eof   print N records | up to END_REQUEST\n"
"                            (of ID) | until the server closes\n"
"  shutdown | close | connect | sleep SECS | echo TEXT\n"
"output: STDOUT N bytes | STDERR \"TEXT\" | END_REQUEST id=I app=A proto=P |\n"
"  GET_VALUES_RESULT NAME=VALUE... | UNKNOWN_TYPE T |\n"
"  RECORD type=T id=I N bytes | EOF | TIMEOUT\n");
	exit(2);
}

static void *
grow(void *buf, size_t *cap, size_t need)
{
	size_t	 ncap = *cap > 0 ? *cap : 4096;

	while (ncap < need)
		ncap *= 2;
	if (ncap == *cap)
		return buf;
	if ((buf = realloc(buf, ncap)) == NULL)
		err(2, "realloc");
	*cap = ncap;
	return buf;
}

static unsigned long
number_base(const char *s, unsigned long max, int base)
{
	unsigned long	 v;
	char		*end;

	errno = 0;
	v = strtoul(s, &end, base);
	if (*s == '\0' || *end != '\0' || errno != 0 || v > max)
		errx(2, "bad number '%s' (at most %lu)", s, max);
	return v;
}

static unsigned long
number(const char *s, unsigned long max)
{
	return number_base(s, max, 10);
}

/* Decodes escapes in place; returns the new length. */
static size_t
unescape(char *s)
{
	char	*i = s, *o = s, hex[3] = { 0 };

	while (*i != '\0') {
		if (*i != '\\' || i[1] == '\0') {
			*o++ = *i++;
			continue;
		}
		switch (*++i) {
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'x':
			if (i[1] == '\0' || i[2] == '\0')
				errx(2, "bad \\x escape");
			hex[0] = i[1];
			hex[1] = i[2];
			*o++ = (char)number_base(hex, 255, 16);
			i += 2;
			break;
		default: *o++ = *i; break;
		}
		i++;
	}
	return (size_t)(o - s);
}

/* Hex digits (blanks between them are ignored) to bytes, in place. */
static size_t
unhex(char *s)
{
	char	*i, hex[3] = { 0 };
	size_t	 n = 0;

	for (i = s; *i != '\0'; i++) {
		if (*i == ' ' || *i == '\t')
			continue;
		if (hex[0] == '\0') {
			hex[0] = *i;
			continue;
		}
		hex[1] = *i;
		s[n++] = (char)number_base(hex, 255, 16);
		hex[0] = '\0';
	}
	if (hex[0] != '\0')
		errx(2, "odd number of hex digits");
	return n;
}

static void
print_escaped(const uint8_t *p, size_t len)
{
	size_t	 i;

	putchar('"');
	for (i = 0; i < len; i++) {
		if (p[i] == '\n')
			fputs("\\n", stdout);
		else if (p[i] == '"' || p[i] == '\\')
			printf("\\%c", p[i]);
		else if (p[i] < 0x20 || p[i] >= 0x7f)
			printf("\\x%02x", p[i]);
		else
			putchar(p[i]);
	}
	putchar('"');
}

static void
conn_open(struct client *c)
{
	struct sockaddr_un	 sun;
	struct addrinfo		 hints, *res, *ai;
	struct timeval		 tv = { c->timeout, 0 };
	char			 host[256], *port;
	int			 e;

	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->wclosed = false;
	c->in_off = c->in_len = 0;
	if (strchr(c->addr, '/') != NULL) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(c->addr) >= sizeof(sun.sun_path))
			errx(3, "%s: path too long", c->addr);
		strcpy(sun.sun_path, c->addr);
		if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0))
		    == -1 || connect(c->fd, (struct sockaddr *)&sun,
		    sizeof(sun)) == -1)
			err(3, "%s", c->addr);
	} else {
		if (strlen(c->addr) >= sizeof(host) ||
		    (port = strrchr(strcpy(host, c->addr), ':')) == NULL)
			errx(3, "%s: not a path nor HOST:PORT", c->addr);
		*port++ = '\0';
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		if ((e = getaddrinfo(host, port, &hints, &res)) != 0)
			errx(3, "%s: %s", c->addr, gai_strerror(e));
		for (ai = res; ai != NULL && c->fd == -1; ai = ai->ai_next) {
			c->fd = socket(ai->ai_family,
			    ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
			if (c->fd != -1 &&
			    connect(c->fd, ai->ai_addr, ai->ai_addrlen) == -1) {
				close(c->fd);
				c->fd = -1;
			}
		}
		freeaddrinfo(res);
		if (c->fd == -1)
			err(3, "%s", c->addr);
	}
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/*
 * A write to a server that has closed the connection is not an error here:
 * a test of bad input expects exactly that; the reads tell what happened.
 */
static void
send_bytes(struct client *c, const void *buf, size_t len)
{
	const uint8_t	*p = buf;
	ssize_t		 n;

	if (c->fd == -1)
		errx(2, "not connected");
	while (len > 0 && !c->wclosed) {
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			errx(1, "write blocked for %d s", c->timeout);
		if (n == -1 && errno != EPIPE && errno != ECONNRESET)
			err(1, "write");
		if (n == -1)
			c->wclosed = true;
		else {
			p += n;
			len -= (size_t)n;
		}
	}
}

static void
send_record(struct client *c, uint8_t type, uint16_t id, const void *content,
    size_t len)
{
	static const uint8_t	 zeros[255];
	uint8_t			 hdr[FCGI_HEADER_LEN];

	fcgi_header_encode(hdr, type, id, (uint16_t)len, c->pad);
	send_bytes(c, hdr, sizeof(hdr));
	send_bytes(c, content, len);
	send_bytes(c, zeros, c->pad);
}

/* data in records of at most split bytes; nothing when len is 0. */
static void
send_stream(struct client *c, uint8_t type, const uint8_t *data, size_t len,
    size_t split)
{
	size_t	 n;

	if (split == 0 || split > FCGI_MAX_CONTENT)
		split = FCGI_MAX_CONTENT;
	for (; len > 0; data += n, len -= n) {
		n = len < split ? len : split;
		send_record(c, type, c->id, data, n);
	}
}

static void
send_file(struct client *c, uint8_t type, const char *path, size_t split)
{
	uint8_t	*buf = NULL;
	size_t	 len = 0, cap = 0, n;
	FILE	*fp;

	if ((fp = fopen(path, "rb")) == NULL)
		err(2, "%s", path);
	do {
		buf = grow(buf, &cap, len + 65536);
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
	} while (n > 0);
	if (ferror(fp))
		err(2, "%s", path);
	fclose(fp);
	if (type == 0)
		send_bytes(c, buf, len);
	else
		send_stream(c, type, buf, len, split);
	free(buf);
}

static void
param_add(struct client *c, char *arg)
{
	char	*eq;
	size_t	 nlen, vlen, n;

	if ((eq = strchr(arg, '=')) == NULL)
		errx(2, "param: no '=' in '%s'", arg);
	*eq++ = '\0';
	nlen = unescape(arg);
	vlen = unescape(eq);
	c->params = grow(c->params, &c->params_cap, c->params_len + nlen +
	    vlen + 8);
	n = fcgi_pair_encode(c->params + c->params_len,
	    c->params_cap - c->params_len, arg, nlen, eq, vlen);
	if (n == 0)
		errx(2, "param: cannot encode");
	c->params_len += n;
}

static void
body_flush(struct client *c)
{
	if (!c->body || c->body_len == 0)
		return;
	fwrite(c->bodybuf, 1, c->body_len, stdout);
	if (c->bodybuf[c->body_len - 1] != '\n')
		putchar('\n');
	c->body_len = 0;
}

/* The next record: 1, or 0 at EOF (printed), -1 on timeout (printed). */
static int
read_record(struct client *c, struct fcgi_record *rec)
{
	struct pollfd	 pfd;
	ssize_t		 n;

	for (;;) {
		n = fcgi_record_parse(c->in + c->in_off, c->in_len - c->in_off,
		    rec);
		if (n < 0)
			errx(1, "the server sent a record of version %u",
			    c->in[c->in_off]);
		if (n > 0) {
			c->in_off += (size_t)n;
			return 1;
		}
		if (c->in_off > 0) {
			memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
			c->in_len -= c->in_off;
			c->in_off = 0;
		}
		if (c->fd == -1)
			errx(2, "not connected");
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		n = poll(&pfd, 1, c->timeout * 1000);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			err(1, "poll");
		if (n == 0) {
			body_flush(c);
			puts("TIMEOUT");
			return -1;
		}
		n = read(c->fd, c->in + c->in_len, IN_CAP - c->in_len);
		if (n == -1 && errno == EINTR)
			continue;
		/* A unix socket closed with our data unread says ECONNRESET. */
		if (n == -1 && errno != ECONNRESET)
			err(1, "read");
		if (n <= 0) {
			body_flush(c);
			if (c->in_len > 0)
				printf("TRUNCATED %zu bytes\n", c->in_len);
			puts("EOF");
			return 0;
		}
		c->in_len += (size_t)n;
	}
}

static void
print_record(struct client *c, const struct fcgi_record *rec)
{
	struct fcgi_params	 p;
	size_t			 i;

	switch (rec->type) {
	case FCGI_STDOUT:
		printf("STDOUT %u bytes\n", rec->clen);
		if (c->out != NULL)
			fwrite(rec->content, 1, rec->clen, c->out);
		if (c->body) {
			c->bodybuf = grow(c->bodybuf, &c->body_cap,
			    c->body_len + rec->clen);
			memcpy(c->bodybuf + c->body_len, rec->content,
			    rec->clen);
			c->body_len += rec->clen;
		}
		break;
	case FCGI_STDERR:
		fputs("STDERR ", stdout);
		print_escaped(rec->content, rec->clen);
		putchar('\n');
		break;
	case FCGI_END_REQUEST:
		body_flush(c);
		if (rec->clen < 8) {
			printf("END_REQUEST id=%u short\n", rec->id);
			break;
		}
		printf("END_REQUEST id=%u app=%u proto=%u\n", rec->id,
		    (unsigned)rec->content[0] << 24 | rec->content[1] << 16 |
		    rec->content[2] << 8 | rec->content[3], rec->content[4]);
		break;
	case FCGI_GET_VALUES_RESULT:
		memset(&p, 0, sizeof(p));
		fputs("GET_VALUES_RESULT", stdout);
		if (fcgi_params_append(&p, rec->content, rec->clen) == -1 ||
		    fcgi_params_decode(&p) == -1)
			fputs(" malformed", stdout);
		for (i = 0; i < p.n; i++)
			printf(" %s=%s", p.v[i].name, p.v[i].value);
		putchar('\n');
		fcgi_params_free(&p);
		break;
	case FCGI_UNKNOWN_TYPE:
		printf("UNKNOWN_TYPE %u\n", rec->clen > 0 ? rec->content[0] : 0);
		break;
	default:
		printf("RECORD type=%u id=%u %u bytes\n", rec->type, rec->id,
		    rec->clen);
		break;
	}
}

/* Prints records until one of type (and id unless -1), or n of them. */
static void
read_until(struct client *c, int type, long id, unsigned long n)
{
	struct fcgi_record	 rec;
	int			 r;

	for (; n > 0; n--) {
		if ((r = read_record(c, &rec)) == 0 && type == -2)
			return;		/* read-eof */
		if (r <= 0) {
			fflush(stdout);
			errx(1, r == 0 ? "connection closed by the server" :
			    "no answer within %d s", c->timeout);
		}
		print_record(c, &rec);
		if (rec.type == type && (id == -1 || rec.id == id))
			return;
	}
}

static uint8_t
type_parse(const char *s)
{
	size_t	 i;

	for (i = 1; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcasecmp(s, type_names[i]) == 0)
			return (uint8_t)i;
	return (uint8_t)number(s, 255);
}

static void
cmd_begin(struct client *c, char **av, int ac)
{
	uint8_t		 body[8] = { 0 };
	unsigned long	 role = FCGI_RESPONDER, nums = 0;
	bool		 keep = false;
	int		 i;

	c->id = 1;
	for (i = 0; i < ac; i++) {
		if (strcmp(av[i], "keep") == 0)
			keep = true;
		else if (strcmp(av[i], "responder") == 0)
			role = FCGI_RESPONDER;
		else if (strcmp(av[i], "authorizer") == 0)
			role = FCGI_AUTHORIZER;
		else if (strcmp(av[i], "filter") == 0)
			role = FCGI_FILTER;
		else if (nums++ == 0)
			c->id = (uint16_t)number(av[i], 65535);
		else
			role = number(av[i], 65535);
	}
	body[0] = (uint8_t)(role >> 8);
	body[1] = (uint8_t)role;
	body[2] = keep ? FCGI_KEEP_CONN : 0;
	send_record(c, FCGI_BEGIN_REQUEST, c->id, body, sizeof(body));
}

static void
cmd_get_values(struct client *c, char **av, int ac)
{
	uint8_t	 buf[FCGI_MAX_CONTENT];
	size_t	 len = 0, n;
	int	 i;

	for (i = 0; i < ac; i++) {
		n = fcgi_pair_encode(buf + len, sizeof(buf) - len, av[i],
		    strlen(av[i]), "", 0);
		if (n == 0)
			errx(2, "get-values: too many names");
		len += n;
	}
	send_record(c, FCGI_GET_VALUES, 0, buf, len);
}

static void
run_command(struct client *c, char *line)
{
	char		*av[64], *cmd, *rest, *save, buf[32];
	int		 ac = 0, i;
	size_t		 len, n;

	line[strcspn(line, "\r\n")] = '\0';
	cmd = line + strspn(line, " \t");
	if (*cmd == '\0' || *cmd == '#')
		return;
	rest = cmd + strcspn(cmd, " \t");
	if (*rest != '\0')
		*rest++ = '\0';
	/* param and stdin take the rest of the line as it is. */
	if (strcmp(cmd, "param") == 0) {
		param_add(c, rest);
		return;
	}
	if (strcmp(cmd, "echo") == 0) {
		puts(rest);
		fflush(stdout);
		return;
	}
	if (strcmp(cmd, "stdin") == 0) {
		len = unescape(rest);
		send_record(c, FCGI_STDIN, c->id, rest, len);
		return;
	}
	for (rest = strtok_r(rest, " \t", &save); rest != NULL && ac < 64;
	    rest = strtok_r(NULL, " \t", &save))
		av[ac++] = rest;

	if (strcmp(cmd, "begin") == 0)
		cmd_begin(c, av, ac);
	else if (strcmp(cmd, "id") == 0 && ac == 1)
		c->id = (uint16_t)number(av[0], 65535);
	else if (strcmp(cmd, "param-clear") == 0)
		c->params_len = 0;
	else if (strcmp(cmd, "params") == 0) {
		send_stream(c, FCGI_PARAMS, c->params, c->params_len,
		    ac > 0 && strcmp(av[0], "noend") != 0 ?
		    number(av[0], FCGI_MAX_CONTENT) : 0);
		if (ac == 0 || strcmp(av[ac - 1], "noend") != 0)
			send_record(c, FCGI_PARAMS, c->id, "", 0);
	} else if (strcmp(cmd, "params-end") == 0)
		send_record(c, FCGI_PARAMS, c->id, "", 0);
	else if (strcmp(cmd, "stdin-file") == 0 && (ac == 1 || ac == 2))
		send_file(c, FCGI_STDIN, av[0],
		    ac == 2 ? number(av[1], FCGI_MAX_CONTENT) : 0);
	else if (strcmp(cmd, "stdin-end") == 0)
		send_record(c, FCGI_STDIN, c->id, "", 0);
	else if (strcmp(cmd, "abort") == 0)
		send_record(c, FCGI_ABORT_REQUEST, c->id, "", 0);
	else if (strcmp(cmd, "get-values") == 0)
		cmd_get_values(c, av, ac);
	else if (strcmp(cmd, "record") == 0 && ac >= 2) {
		for (len = 0, i = 2; i < ac; i++) {
			n = unhex(av[i]);
			memmove(av[2] + len, av[i], n);
			len += n;
		}
		if (len > FCGI_MAX_CONTENT)
			errx(2, "record: content too long");
		send_record(c, type_parse(av[0]),
		    (uint16_t)number(av[1], 65535), ac > 2 ? av[2] : "", len);
	} else if (strcmp(cmd, "pad") == 0 && ac == 1)
		c->pad = (uint8_t)number(av[0], 255);
	else if (strcmp(cmd, "raw") == 0) {
		for (i = 0; i < ac; i++)
			send_bytes(c, av[i], unhex(av[i]));
	} else if (strcmp(cmd, "raw-file") == 0 && ac == 1)
		send_file(c, 0, av[0], 0);
	else if (strcmp(cmd, "request") == 0 && ac == 0) {
		snprintf(buf, sizeof(buf), "begin %u%s", c->id,
		    c->keep ? " keep" : "");
		run_command(c, buf);
		run_command(c, strcpy(buf, "params"));
		if (c->stdin_file != NULL)
			send_file(c, FCGI_STDIN, c->stdin_file, 0);
		send_record(c, FCGI_STDIN, c->id, "", 0);
		read_until(c, FCGI_END_REQUEST, c->id, ~0UL);
	} else if (strcmp(cmd, "read") == 0 && ac <= 1)
		read_until(c, -1, -1, ac == 1 ? number(av[0], ~0UL) : 1);
	else if (strcmp(cmd, "read-end") == 0 && ac <= 1)
		read_until(c, FCGI_END_REQUEST,
		    ac == 1 ? (long)number(av[0], 65535) : -1, ~0UL);
	else if (strcmp(cmd, "read-eof") == 0 && ac == 0)
		read_until(c, -2, -1, ~0UL);
	else if (strcmp(cmd, "shutdown") == 0 && ac == 0) {
		if (c->fd == -1 || shutdown(c->fd, SHUT_WR) == -1)
			warn("shutdown");
	} else if (strcmp(cmd, "close") == 0 && ac == 0) {
		if (c->fd != -1)
			close(c->fd);
		c->fd = -1;
	} else if (strcmp(cmd, "connect") == 0 && ac == 0)
		conn_open(c);
	else if (strcmp(cmd, "sleep") == 0 && ac == 1)
		usleep((useconds_t)(strtod(av[0], NULL) * 1e6));
	else
		errx(2, "unknown command or bad arguments: %s", cmd);
	fflush(stdout);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "body", no_argument, NULL, 'b' },
		{ "keep", no_argument, NULL, 'k' },
		{ "out", required_argument, NULL, 'o' },
		{ "requests", required_argument, NULL, 'n' },
		{ "stdin", required_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	static struct client cl;
	struct client *c = &cl;
	unsigned long requests = 1, i;
	char *line = NULL, buf[32];
	size_t cap = 0;
	int ch;

	c->fd = -1;
	c->id = 1;
	c->timeout = 10;
	while ((ch = getopt_long(argc, argv, "bkn:o:p:i:t:", longopts, NULL))
	    != -1) {
		switch (ch) {
		case 'b': c->body = true; break;
		case 'k': c->keep = true; break;
		case 'n': requests = number(optarg, 1000000); break;
		case 'i': c->stdin_file = optarg; break;
		case 't': c->timeout = (int)number(optarg, 3600); break;
		case 'p': param_add(c, optarg); break;
		case 'o':
			if ((c->out = fopen(optarg, "wb")) == NULL)
				err(2, "%s", optarg);
			break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();
	c->addr = argv[optind++];
	conn_open(c);
	if (optind == argc) {
		for (i = 0; i < requests; i++) {
			if (i > 0 && !c->keep)
				run_command(c, strcpy(buf, "connect"));
			run_command(c, strcpy(buf, "request"));
			if (!c->keep)
				run_command(c, strcpy(buf, "read-eof"));
		}
	}
	for (; optind < argc; optind++) {
		if (strcmp(argv[optind], "-") != 0) {
			run_command(c, argv[optind]);
			continue;
		}
		while (getline(&line, &cap, stdin) != -1)
			run_command(c, line);
	}
	free(line);
	if (c->out != NULL && fclose(c->out) == EOF)
		err(1, "write");
	return 0;
}
