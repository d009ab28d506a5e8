/*
 * fpmctl, the control client of fpmd: what its files share.  fpmctl.c has
 * main, the options and the command table; client.c the unix socket
 * transport (connect, one line out, one line in, every step under a
 * deadline); show.c turns replies into text for people; confsock.c finds
 * control.socket in fpmd's configuration (for -c CONFIG); top.c the live
 * view (fpmctl top); sockpath.c the default socket path, shared with fpmd.
 */
#ifndef FPMCTL_H
#define FPMCTL_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Exit codes scripts may rely on; docs/fpmctl.md lists them too. */
#define FPMCTL_EXIT_OK		0	/* done */
#define FPMCTL_EXIT_REFUSED	1	/* fpmd said no, or made no sense */
#define FPMCTL_EXIT_USAGE	2	/* bad command line or -c file */
#define FPMCTL_EXIT_UNREACHABLE	3	/* no answer from fpmd */

#define FPMCTL_TIMEOUT		30	/* seconds, connect and reply */
#define FPMCTL_RELOAD_TIMEOUT	120	/* seconds, reload that waits */
#define FPMCTL_STOP_GRACE	5	/* seconds after stop's timeout */
#define FPMCTL_WIDTH		80	/* columns of human output */

/* client.c */

struct ctl_conn {
	int		 fd;
	char		*buf;		/* read, not yet handed out */
	size_t		 len;
	size_t		 cap;
};

/* Deadlines are CLOCK_MONOTONIC milliseconds; 0 means none. */
int64_t		 ctl_now_ms(void);
int64_t		 ctl_deadline(int64_t timeout_ms);
int		 ctl_connect(struct ctl_conn *c, const char *path,
		    int64_t deadline);
int		 ctl_send(struct ctl_conn *c, const char *line, size_t len,
		    int64_t deadline);
char		*ctl_recv_line(struct ctl_conn *c, size_t *lenp,
		    int64_t deadline);
void		 ctl_close(struct ctl_conn *c);
int		 ctl_probe(const char *path);
pid_t		 ctl_peer_pid(struct ctl_conn *c);
int		 ctl_pid_alive(pid_t pid);

/* confsock.c */

/*
 * Reads the configuration path as fpmd would, for control.socket alone.
 * Returns 0 with *sock (absolute, malloc'd; NULL when the files do not set
 * it) and *file (the configuration's absolute path, malloc'd), or -1 with
 * *errors, malloc'd "FILE:LINE: reason" lines.
 */
int		 confsock_read(const char *path, char **sock, char **file,
		    char **errors);

/* show.c: human output of successful replies */

void		 show_ping(json_t *reply);
void		 show_status(json_t *reply, bool full);
void		 show_reload(json_t *reply);
void		 show_stop(json_t *reply);
void		 show_scale(json_t *reply);
void		 show_config(json_t *reply);
void		 show_span(long long secs, char *buf, size_t len);
void		 show_duration(long long us, char *buf, size_t len);
void		 show_bytes(long long b, char *buf, size_t len);
/* A field as text for a terminal: control and non-ASCII bytes become '?'. */
void		 show_sanitize(char *s);
const char	*show_str(json_t *obj, const char *key);
bool		 show_int(json_t *obj, const char *key, long long *v);

/* top.c */

enum top_sort {
	TOP_SORT_DURATION,		/* busy first, longest request first */
	TOP_SORT_CPU,			/* last request's CPU, highest first */
	TOP_SORT_MEMORY,		/* last request's memory, largest first */
	TOP_SORT_PID
};

struct top_opts {
	int64_t		 interval_ms;	/* between two samples */
	long		 count;		/* stop after this many; 0: never */
	enum top_sort	 sort;
};

/*
 * Takes one sample: the replies to ping and to status with full.  Returns
 * 0 with both set, or an exit status after telling the user on stderr.
 */
typedef int	(*top_fetch_fn)(void *arg, json_t **ping, json_t **status);

int		 top_run(const struct top_opts *o, top_fetch_fn fetch,
		    void *arg);
const char	*top_sort_name(enum top_sort s);
int		 top_sort_parse(const char *s, enum top_sort *sp);

#endif /* FPMCTL_H */
