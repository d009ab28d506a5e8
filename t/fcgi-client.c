/*
 * fcgi-client: a raw FastCGI client for the black-box tests (t/protocol.bats).
 * It connects to a unix socket (a path with a '/') or HOST:PORT, runs a
 * small script that sends exact records or bytes, and prints what comes
 * back one record a line, so that a test can compare the exchange with what
 * it expects.  It encodes and parses with fpmd's own codec (daemon/fcgi.c),
 * which has unit tests of its own: a test here checks the daemon.
 *
 * Commands (usage() lists them, with the output lines):
 *   begin [ID] [ROLE] [keep]	BEGIN_REQUEST for ID (default 1), which becomes
 *				the current id; ROLE responder, authorizer,
 *				filter or a number
 *   id ID			later records are for request ID
 *   param NAME=VALUE		add a pair to the params, which -p starts and
 *				'params' sends (each time, kept)
 *   params [SPLIT] [noend]	the params in PARAMS records of at most SPLIT
 *				bytes (default 65535), then the empty PARAMS
 *				record unless noend;  params-end: that one
 *   stdin TEXT, stdin-file FILE [SPLIT], stdin-end, abort
 *   get-values NAME...		GET_VALUES (id 0) asking for NAMEs
 *   record TYPE ID [HEX...]	any record; TYPE a number or a name (PARAMS)
 *   pad N			padding of every record sent from now on
 *   raw HEX..., raw-file FILE	bytes as they are, records or not
 *   request			begin, params, --stdin, stdin-end, read-end
 *   read [N]			print N records (default 1)
 *   read-end [ID]		print records up to END_REQUEST (for ID)
 *   read-eof			print records up to the end of the connection
 *   shutdown, close, connect	of the write side, of the connection; anew
 *   sleep SECS, echo TEXT	for tests that run the client in background
 * TEXT, NAME and VALUE take \n \r \t \\ \xHH escapes.  --body prints the
 * STDOUT content of a request before its END_REQUEST line (or EOF).
 *
 * Each record goes out in one write.  Writes to a server that has closed
 * the connection are dropped silently: tests of bad input expect that, and
 * the reads tell what happened.  The client sends before it reads, so a
 * server that answers a large body before reading it stalls it (--timeout).
 *
 * Exit status: 0 the script ran to its end, 1 the exchange went otherwise
 * (the connection closed or nothing came before what a read command waits
 * for, the server's bytes are not FastCGI), 2 usage or script error,
 * 3 cannot connect.
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

#define RECORD_MAX	(FCGI_HEADER_LEN + FCGI_MAX_CONTENT + 255)
#define IN_CAP		(2 * RECORD_MAX)
#define READ_EOF	-2	/* read_until: up to the end of the connection */

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
	bool		 body;		/* print STDOUT content */
	char		*bodybuf;
	size_t		 body_len, body_cap;
	FILE		*out;		/* STDOUT content, raw */
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
	fputs(
"usage: fcgi-client [OPTIONS] ADDRESS [COMMAND...]   (options anywhere)\n"
"ADDRESS: a unix socket path (with a '/') or HOST:PORT.  A COMMAND is one\n"
"argument; '-' reads them from stdin, one a line.  No command: 'request'\n"
"(and 'read-eof' unless --keep), --requests times.\n"
"  -p NAME=VALUE  add a param     -k, --keep  FCGI_KEEP_CONN in 'request'\n"
"  -i, --stdin F  request body    -n, --requests N    -t, --timeout SECS\n"
"  -b, --body     print STDOUT content   -o, --out F  write it to F\n"
"commands (TEXT, NAME, VALUE take \\n \\r \\t \\\\ \\xHH escapes):\n"
"  begin [ID] [ROLE] [keep] | id ID      (ID: the records below are for it)\n"
"  param NAME=VALUE | params [SPLIT] [noend] | params-end\n"
"  stdin TEXT | stdin-file FILE [SPLIT] | stdin-end | abort\n"
"  get-values NAME... | record TYPE ID [HEX...] | pad N\n"
"  raw HEX... | raw-file FILE | request\n"
"  read [N] | read-end [ID] | read-eof\n"
"  shutdown | close | connect | sleep SECS | echo TEXT\n"
"prints: STDOUT N bytes | STDERR \"TEXT\" | END_REQUEST id=I app=A proto=P\n"
"  | GET_VALUES_RESULT NAME=VALUE... | UNKNOWN_TYPE T\n"
"  | RECORD type=T id=I N bytes | TRUNCATED N bytes | EOF | TIMEOUT\n",
	    stderr);
	exit(2);
}

static void *
grow(void *buf, size_t *cap, size_t need)
{
	size_t	 ncap = *cap > 0 ? *cap : 4096;

	while (ncap < need)
		ncap *= 2;
	if (ncap != *cap && (buf = realloc(buf, ncap)) == NULL)
		err(2, "realloc");
	*cap = ncap;
	return buf;
}

static unsigned long
number(const char *s, unsigned long max)
{
	unsigned long	 v;
	char		*end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v > max)
		errx(2, "bad number '%s' (at most %lu)", s, max);
	return v;
}

static char
hexbyte(const char *s)
{
	static const char	 digits[] = "0123456789abcdef";
	const char		*h, *l;

	if (s[0] == '\0' || (h = strchr(digits, s[0] | 0x20)) == NULL ||
	    s[1] == '\0' || (l = strchr(digits, s[1] | 0x20)) == NULL)
		errx(2, "bad hex byte '%.2s'", s);
	return (char)((h - digits) << 4 | (l - digits));
}

/* Decodes escapes in place; returns the new length. */
static size_t
unescape(char *s)
{
	char	*i = s, *o = s;

	while (*i != '\0') {
		if (*i != '\\' || i[1] == '\0') {
			*o++ = *i++;
			continue;
		}
		switch (*++i) {
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'x': *o++ = hexbyte(i + 1); i += 2; break;
		default: *o++ = *i; break;
		}
		i++;
	}
	return (size_t)(o - s);
}

/* Hex digits to bytes, in place; returns the count. */
static size_t
unhex(char *s)
{
	size_t	 n;

	for (n = 0; s[2 * n] != '\0'; n++)
		s[n] = hexbyte(s + 2 * n);
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
	puts("\"");
}

static void
conn_open(struct client *c)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	struct addrinfo		 hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo		*res, *ai;
	struct timeval		 tv = { c->timeout, 0 };
	char			 host[256], *port;
	int			 e;

	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->wclosed = false;
	c->in_off = c->in_len = 0;
	if (strchr(c->addr, '/') != NULL) {
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
			errx(3, "%s: neither a path nor HOST:PORT", c->addr);
		*port++ = '\0';
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

static void
send_bytes(struct client *c, const void *buf, size_t len)
{
	const uint8_t	*p = buf;
	ssize_t		 n;

	if (c->fd == -1)
		errx(2, "not connected");
	while (len > 0 && !c->wclosed) {
		if ((n = send(c->fd, p, len, MSG_NOSIGNAL)) >= 0) {
			p += n;
			len -= (size_t)n;
		} else if (errno == EPIPE || errno == ECONNRESET)
			c->wclosed = true;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			errx(1, "write blocked for %d s", c->timeout);
		else if (errno != EINTR)
			err(1, "write");
	}
}

static void
send_record(struct client *c, uint8_t type, uint16_t id, const void *content,
    size_t len)
{
	static uint8_t	 rec[RECORD_MAX];

	if (len > FCGI_MAX_CONTENT)
		errx(2, "record content of %zu bytes", len);
	fcgi_header_encode(rec, type, id, (uint16_t)len, c->pad);
	memcpy(rec + FCGI_HEADER_LEN, content, len);
	memset(rec + FCGI_HEADER_LEN + len, 0, c->pad);
	send_bytes(c, rec, FCGI_HEADER_LEN + len + c->pad);
}

/* data in records of at most split bytes; nothing when len is 0. */
static void
send_stream(struct client *c, uint8_t type, const uint8_t *data, size_t len,
    size_t split)
{
	size_t	 n;

	for (; len > 0; data += n, len -= n) {
		n = len < split ? len : split;
		send_record(c, type, c->id, data, n);
	}
}

/* A file in records of type (0: as it is), at most split bytes each. */
static void
send_file(struct client *c, uint8_t type, const char *path, size_t split)
{
	static uint8_t	 buf[FCGI_MAX_CONTENT];
	size_t		 n;
	FILE		*fp;

	if ((fp = fopen(path, "rb")) == NULL)
		err(2, "%s", path);
	while ((n = fread(buf, 1, split, fp)) > 0) {
		if (type == 0)
			send_bytes(c, buf, n);
		else
			send_record(c, type, c->id, buf, n);
	}
	if (ferror(fp))
		err(2, "%s", path);
	fclose(fp);
}

static size_t
split_arg(const char *s)
{
	size_t	 n = s == NULL ? FCGI_MAX_CONTENT : number(s, FCGI_MAX_CONTENT);

	if (n == 0)
		errx(2, "a split of 0 bytes");
	return n;
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
	if (c->body_len == 0)
		return;
	fwrite(c->bodybuf, 1, c->body_len, stdout);
	if (c->bodybuf[c->body_len - 1] != '\n')
		putchar('\n');
	c->body_len = 0;
}

/* The next record: 1, or 0 at EOF, -1 on timeout (both printed). */
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
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
		if (c->fd == -1)
			errx(2, "not connected");
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		if ((n = poll(&pfd, 1, c->timeout * 1000)) == 0) {
			body_flush(c);
			puts("TIMEOUT");
			return -1;
		}
		if (n > 0)
			n = read(c->fd, c->in + c->in_len, IN_CAP - c->in_len);
		if (n > 0) {
			c->in_len += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		/* A unix socket closed with our data unread says ECONNRESET. */
		if (n == -1 && errno != ECONNRESET)
			err(1, "read");
		body_flush(c);
		if (c->in_len > 0)
			printf("TRUNCATED %zu bytes\n", c->in_len);
		puts("EOF");
		return 0;
	}
}

static void
print_record(struct client *c, const struct fcgi_record *rec)
{
	struct fcgi_params	 p = { 0 };
	const uint8_t		*b = rec->content;
	size_t			 i;

	switch (rec->type) {
	case FCGI_STDOUT:
		printf("STDOUT %u bytes\n", rec->clen);
		if (c->out != NULL)
			fwrite(b, 1, rec->clen, c->out);
		if (c->body) {
			c->bodybuf = grow(c->bodybuf, &c->body_cap,
			    c->body_len + rec->clen);
			memcpy(c->bodybuf + c->body_len, b, rec->clen);
			c->body_len += rec->clen;
		}
		break;
	case FCGI_STDERR:
		fputs("STDERR ", stdout);
		print_escaped(b, rec->clen);
		break;
	case FCGI_END_REQUEST:
		body_flush(c);
		if (rec->clen < 8)
			printf("END_REQUEST id=%u short\n", rec->id);
		else
			printf("END_REQUEST id=%u app=%u proto=%u\n", rec->id,
			    (unsigned)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3],
			    b[4]);
		break;
	case FCGI_GET_VALUES_RESULT:
		fputs("GET_VALUES_RESULT", stdout);
		if (fcgi_params_append(&p, b, rec->clen) == -1 ||
		    fcgi_params_decode(&p) == -1)
			fputs(" malformed", stdout);
		for (i = 0; i < p.n; i++)
			printf(" %s=%s", p.v[i].name, p.v[i].value);
		putchar('\n');
		fcgi_params_free(&p);
		break;
	case FCGI_UNKNOWN_TYPE:
		printf("UNKNOWN_TYPE %u\n", rec->clen > 0 ? b[0] : 0);
		break;
	default:
		printf("RECORD type=%u id=%u %u bytes\n", rec->type, rec->id,
		    rec->clen);
		break;
	}
}

/* Prints records up to one of type (for id unless -1), or n of them. */
static void
read_until(struct client *c, int type, long id, unsigned long n)
{
	struct fcgi_record	 rec;
	int			 r;

	for (; n > 0; n--) {
		if ((r = read_record(c, &rec)) == 0 && type == READ_EOF)
			return;
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

static void
cmd_begin(struct client *c, char **av, int ac)
{
	uint8_t		 body[8] = { 0 };
	unsigned long	 role = FCGI_RESPONDER, nums = 0;
	int		 i;

	c->id = 1;
	for (i = 0; i < ac; i++) {
		if (strcmp(av[i], "keep") == 0)
			body[2] = FCGI_KEEP_CONN;
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
	send_record(c, FCGI_BEGIN_REQUEST, c->id, body, sizeof(body));
}

static void
cmd_get_values(struct client *c, char **av, int ac)
{
	static uint8_t	 buf[FCGI_MAX_CONTENT];
	size_t		 len = 0, n;
	int		 i;

	for (i = 0; i < ac; i++, len += n) {
		n = fcgi_pair_encode(buf + len, sizeof(buf) - len, av[i],
		    strlen(av[i]), "", 0);
		if (n == 0)
			errx(2, "get-values: too many names");
	}
	send_record(c, FCGI_GET_VALUES, 0, buf, len);
}

/* record TYPE ID HEX...: the hex words are joined in place into av[2]. */
static void
cmd_record(struct client *c, char **av, int ac)
{
	uint8_t	 type = 0;
	size_t	 len = 0, n;
	int	 i;

	for (i = 1; i < (int)(sizeof(type_names) / sizeof(type_names[0])); i++)
		if (strcasecmp(av[0], type_names[i]) == 0)
			type = (uint8_t)i;
	if (type == 0)
		type = (uint8_t)number(av[0], 255);
	for (i = 2; i < ac; i++, len += n) {
		n = unhex(av[i]);
		memmove(av[2] + len, av[i], n);
	}
	send_record(c, type, (uint16_t)number(av[1], 65535),
	    ac > 2 ? av[2] : "", len);
}

static void
run_command(struct client *c, char *line)
{
	char	*av[65], *cmd, *rest, *save, buf[32];
	int	 ac = 0, i;
	size_t	 len;

	line[strcspn(line, "\r\n")] = '\0';
	cmd = line + strspn(line, " \t");
	if (*cmd == '\0' || *cmd == '#')
		return;
	rest = cmd + strcspn(cmd, " \t");
	if (*rest != '\0')
		*rest++ = '\0';
	/* These take the rest of the line as it is. */
	if (strcmp(cmd, "param") == 0) {
		param_add(c, rest);
		return;
	} else if (strcmp(cmd, "stdin") == 0) {
		len = unescape(rest);
		send_record(c, FCGI_STDIN, c->id, rest, len);
		return;
	} else if (strcmp(cmd, "echo") == 0) {
		puts(rest);
		fflush(stdout);
		return;
	}
	for (rest = strtok_r(rest, " \t", &save); rest != NULL;
	    rest = strtok_r(NULL, " \t", &save)) {
		if (ac == 64)
			errx(2, "%s: too many arguments", cmd);
		av[ac++] = rest;
	}
	av[ac] = NULL;

	if (strcmp(cmd, "begin") == 0)
		cmd_begin(c, av, ac);
	else if (strcmp(cmd, "id") == 0 && ac == 1)
		c->id = (uint16_t)number(av[0], 65535);
	else if (strcmp(cmd, "params") == 0 && ac <= 2) {
		i = ac > 0 && strcmp(av[ac - 1], "noend") == 0;
		send_stream(c, FCGI_PARAMS, c->params, c->params_len,
		    split_arg(ac > i ? av[0] : NULL));
		if (!i)
			send_record(c, FCGI_PARAMS, c->id, "", 0);
	} else if (strcmp(cmd, "params-end") == 0 && ac == 0)
		send_record(c, FCGI_PARAMS, c->id, "", 0);
	else if (strcmp(cmd, "stdin-file") == 0 && (ac == 1 || ac == 2))
		send_file(c, FCGI_STDIN, av[0], split_arg(av[1]));
	else if (strcmp(cmd, "stdin-end") == 0 && ac == 0)
		send_record(c, FCGI_STDIN, c->id, "", 0);
	else if (strcmp(cmd, "abort") == 0 && ac == 0)
		send_record(c, FCGI_ABORT_REQUEST, c->id, "", 0);
	else if (strcmp(cmd, "get-values") == 0)
		cmd_get_values(c, av, ac);
	else if (strcmp(cmd, "record") == 0 && ac >= 2)
		cmd_record(c, av, ac);
	else if (strcmp(cmd, "pad") == 0 && ac == 1)
		c->pad = (uint8_t)number(av[0], 255);
	else if (strcmp(cmd, "raw") == 0) {
		for (i = 0; i < ac; i++)
			send_bytes(c, av[i], unhex(av[i]));
	} else if (strcmp(cmd, "raw-file") == 0 && ac == 1)
		send_file(c, 0, av[0], FCGI_MAX_CONTENT);
	else if (strcmp(cmd, "request") == 0 && ac == 0) {
		snprintf(buf, sizeof(buf), "begin %u%s", c->id,
		    c->keep ? " keep" : "");
		run_command(c, buf);
		run_command(c, strcpy(buf, "params"));
		if (c->stdin_file != NULL)
			send_file(c, FCGI_STDIN, c->stdin_file,
			    FCGI_MAX_CONTENT);
		send_record(c, FCGI_STDIN, c->id, "", 0);
		read_until(c, FCGI_END_REQUEST, c->id, ~0UL);
	} else if (strcmp(cmd, "read") == 0 && ac <= 1)
		read_until(c, -1, -1, ac == 1 ? number(av[0], ~0UL) : 1);
	else if (strcmp(cmd, "read-end") == 0 && ac <= 1)
		read_until(c, FCGI_END_REQUEST,
		    ac == 1 ? (long)number(av[0], 65535) : -1, ~0UL);
	else if (strcmp(cmd, "read-eof") == 0 && ac == 0)
		read_until(c, READ_EOF, -1, ~0UL);
	else if (strcmp(cmd, "shutdown") == 0 && ac == 0) {
		if (c->fd == -1 || shutdown(c->fd, SHUT_WR) == -1)
			err(1, "shutdown");
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
	static struct client cl = { .fd = -1, .id = 1, .timeout = 10 };
	struct client *c = &cl;
	unsigned long requests = 1, i;
	char *line = NULL, buf[32];
	size_t cap = 0;
	int ch;

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
	for (i = 0; optind == argc && i < requests; i++) {
		if (i > 0 && !c->keep)
			run_command(c, strcpy(buf, "connect"));
		run_command(c, strcpy(buf, "request"));
		if (!c->keep)
			run_command(c, strcpy(buf, "read-eof"));
	}
	for (; optind < argc; optind++) {
		if (strcmp(argv[optind], "-") != 0)
			run_command(c, argv[optind]);
		else
			while (getline(&line, &cap, stdin) != -1)
				run_command(c, line);
	}
	free(line);
	if (c->out != NULL && fclose(c->out) == EOF)
		err(1, "write");
	return 0;
}
