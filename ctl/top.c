/*
 * fpmctl top: a live view of fpmd in the terminal, from the same replies as
 * "fpmctl status --full" (and ping, for the uptime), taken again every
 * interval.  Each frame has a header, a line per pool (with the accepted
 * connections per second: the difference between two samples over the time
 * between them) and the busiest workers, as many as the terminal has rows
 * for, every line cut to its width.
 *
 * It is plain ANSI, so it works over ssh with any terminal: home, clear to
 * end of line, clear to end of screen, cursor hidden while it runs, reverse
 * video for the headings; no curses.  When stdout is not a terminal it
 * prints plain frames, one after the other with a blank line between, and
 * no escape code, for scripts and logs.  Keys are read from stdin in raw
 * mode (no line buffering, no echo) with poll(), so a refresh never waits
 * for a key and a key never waits for a refresh; ^C and ^Z stay signals.
 *
 * Whatever ends it gives the terminal back as it was: q, an error, a
 * signal.  A sample may wait for fpmd up to --timeout, so the signals that
 * end fpmctl restore the terminal in their handler and then end it as they
 * would have; those that only ask for something (SIGWINCH, SIGTSTP,
 * SIGCONT) set a flag, and are blocked except while the loop waits in
 * ppoll(), which therefore never misses one.
 */
#include <sys/ioctl.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "fpmctl.h"

#define TOP_COLS_MAX	1024	/* wider terminals get 1024 columns */
#define TOP_ROWS_MAX	1000
#define TOP_CELL	32	/* a table cell but the URI */
#define TOP_NAME_MAX	16	/* pool names are cut there */
#define TOP_URI_ELLIPSIS 8	/* cut URIs end in "..." from this width */
#define TOP_URI_MIN	24	/* the pool names shrink to leave this */

#define TOP_HIDE	"\033[?25l"
#define TOP_SHOW	"\033[?25h"
#define TOP_HOME	"\033[H"
#define TOP_CLEAR	"\033[2J"
#define TOP_EOL		"\033[K"
#define TOP_EOS		"\033[J"
#define TOP_REV		"\033[7m"
#define TOP_NORMAL	"\033[0m"

enum top_ev {
	TOP_NONE,			/* nothing to do yet */
	TOP_TICK,			/* time for a sample */
	TOP_REDRAW,			/* the same sample again */
	TOP_QUIT,
	TOP_ERROR			/* errno says why */
};

struct top {
	top_fetch_fn	 fetch;
	void		*arg;
	enum top_sort	 sort;
	bool		 tty;		/* stdout is a terminal: draw in place */
	bool		 keys;		/* stdin too: read keys in raw mode */
	int		 cols, rows;
	sigset_t	 waitmask;	/* the mask while in ppoll() */
	json_t		*ping;		/* the last ping reply */
	json_t		*cur;		/* the last status reply */
	json_t		*prev;		/* the one before, for the rates */
	int64_t		 cur_at, prev_at;	/* when they came, ms */
	char		*buf;		/* the frame being built */
	size_t		 len, cap;
	bool		 nomem;
	int		 nlines;	/* lines in the frame so far */
	int		 budget;	/* lines it may have */
	long		 frames;	/* samples shown */
};

struct top_proc {
	json_t		*p;		/* in the reply: strings read from it */
	const char	*pool;
	long long	 pid, gen, dur, mem;
	double		 cpu;
	bool		 busy;
};

/* Set by the handlers; the loop reads and clears them. */
static volatile sig_atomic_t	 top_winch, top_tstp, top_cont;
/* What the handlers need to give the terminal back. */
static volatile sig_atomic_t	 top_raw, top_hidden;
static struct termios		 top_saved;

static const char *const top_sort_names[] = {
	[TOP_SORT_DURATION] = "duration",
	[TOP_SORT_CPU] = "cpu",
	[TOP_SORT_MEMORY] = "memory",
	[TOP_SORT_PID] = "pid"
};

const char *
top_sort_name(enum top_sort s)
{
	return top_sort_names[s];
}

/* "duration", "cpu", "memory", "pid", or their first letter. */
int
top_sort_parse(const char *s, enum top_sort *sp)
{
	size_t	 i;

	for (i = 0; i < sizeof(top_sort_names) / sizeof(top_sort_names[0]);
	    i++) {
		if (strcmp(s, top_sort_names[i]) == 0 ||
		    (s[0] == top_sort_names[i][0] && s[1] == '\0')) {
			*sp = (enum top_sort)i;
			return 0;
		}
	}
	return -1;
}

/* write() all of it; safe in a signal handler. */
static int
top_write(const char *s, size_t len)
{
	struct pollfd	 pfd;
	ssize_t		 n;

	while (len > 0) {
		n = write(STDOUT_FILENO, s, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			/* the reader is a person's terminal: ^C still ends us */
			pfd.fd = STDOUT_FILENO;
			pfd.events = POLLOUT;
			(void)poll(&pfd, 1, -1);
			continue;
		}
		if (n == -1)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The terminal as it was; safe in a signal handler, and idempotent. */
static void
top_restore(void)
{
	if (top_hidden) {
		top_hidden = 0;
		(void)top_write(TOP_NORMAL TOP_SHOW,
		    sizeof(TOP_NORMAL TOP_SHOW) - 1);
	}
	if (top_raw) {
		top_raw = 0;
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &top_saved);
	}
}

static void
top_on_signal(int sig)
{
	int	 err = errno;

	switch (sig) {
	case SIGWINCH:
		top_winch = 1;
		break;
	case SIGTSTP:
		top_tstp = 1;
		break;
	case SIGCONT:
		top_cont = 1;
		break;
	default:
		/*
		 * INT, TERM, HUP, QUIT: the loop may be waiting for fpmd for
		 * a while; give the terminal back now and end as the signal
		 * would have (it is blocked until this handler returns).
		 */
		top_restore();
		signal(sig, SIG_DFL);
		raise(sig);
		break;
	}
	errno = err;
}

static void
top_signals(struct top *t)
{
	static const int quit[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	static const int flag[] = { SIGWINCH, SIGTSTP, SIGCONT };
	struct sigaction sa;
	sigset_t	 block;
	size_t		 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = top_on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (i = 0; i < sizeof(flag) / sizeof(flag[0]); i++) {
		sigaddset(&block, flag[i]);
		sigaddset(&sa.sa_mask, flag[i]);
	}
	sigprocmask(SIG_BLOCK, &block, &t->waitmask);
	for (i = 0; i < sizeof(quit) / sizeof(quit[0]); i++)
		sigaction(quit[i], &sa, NULL);
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < sizeof(flag) / sizeof(flag[0]); i++)
		sigaction(flag[i], &sa, NULL);
}

/* Raw keys, hidden cursor, clear screen; again after a suspension. */
static void
top_tty_enter(struct top *t)
{
	struct termios	 raw;

	if (t->keys) {
		raw = top_saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | IEXTEN);
		raw.c_iflag &= ~(tcflag_t)(IXON | ICRNL);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		/* flag first: a signal in between restores what is there */
		top_raw = 1;
		if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == -1) {
			top_raw = 0;
			t->keys = false;
		}
	}
	top_hidden = 1;
	(void)top_write(TOP_HIDE TOP_HOME TOP_CLEAR,
	    sizeof(TOP_HIDE TOP_HOME TOP_CLEAR) - 1);
}

/* ^Z: the terminal back to the shell, stop, and take it again after. */
static void
top_suspend(struct top *t)
{
	struct sigaction sa, old;
	sigset_t	 s;

	top_restore();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTSTP, &sa, &old);
	sigemptyset(&s);
	sigaddset(&s, SIGTSTP);
	raise(SIGTSTP);
	sigprocmask(SIG_UNBLOCK, &s, NULL);	/* stops here */
	sigprocmask(SIG_BLOCK, &s, NULL);
	sigaction(SIGTSTP, &old, NULL);
	top_tty_enter(t);
}

/* The terminal's size, again at every frame: SIGWINCH only wakes us. */
static void
top_measure(struct top *t)
{
	struct winsize	 ws;
	const char	*s;
	long		 v;

	t->cols = FPMCTL_WIDTH;
	t->rows = 24;
	if (t->tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col > 0 && ws.ws_row > 0) {
		t->cols = ws.ws_col;
		t->rows = ws.ws_row;
	} else {
		if ((s = getenv("COLUMNS")) != NULL && (v = atol(s)) > 0)
			t->cols = v > TOP_COLS_MAX ? TOP_COLS_MAX : (int)v;
		if ((s = getenv("LINES")) != NULL && (v = atol(s)) > 0)
			t->rows = v > TOP_ROWS_MAX ? TOP_ROWS_MAX : (int)v;
	}
	if (t->cols > TOP_COLS_MAX)
		t->cols = TOP_COLS_MAX;
	if (t->rows > TOP_ROWS_MAX)
		t->rows = TOP_ROWS_MAX;
}

static void
top_add(struct top *t, const char *s, size_t len)
{
	size_t	 cap;
	char	*p;

	if (t->nomem)
		return;
	if (t->cap - t->len < len + 1) {
		cap = t->cap > 0 ? t->cap : 8192;
		while (cap - t->len < len + 1)
			cap *= 2;
		if ((p = realloc(t->buf, cap)) == NULL) {
			t->nomem = true;
			return;
		}
		t->buf = p;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, s, len);
	t->len += len;
}

/*
 * One line of the frame, cut to the width, if the frame has room for it.
 * Headings are in reverse video across the whole width on a terminal.  The
 * last row of the screen is left free: the cursor waits there, so that a
 * message fpmctl prints as it ends does not overwrite the frame.
 */
static void __attribute__((format(printf, 3, 4)))
top_line(struct top *t, bool heading, const char *fmt, ...)
{
	char	 line[TOP_COLS_MAX + 1];
	va_list	 ap;
	size_t	 n;

	if (t->nlines >= t->budget)
		return;
	t->nlines++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = strlen(line);
	if (n > (size_t)t->cols)
		n = (size_t)t->cols;
	/* what a cut or an empty last column leaves */
	while (!heading && n > 0 && line[n - 1] == ' ')
		n--;
	if (!t->tty) {
		top_add(t, line, n);
		top_add(t, "\n", 1);
		return;
	}
	if (heading) {
		memset(line + n, ' ', (size_t)t->cols - n);
		top_add(t, TOP_REV, sizeof(TOP_REV) - 1);
		top_add(t, line, (size_t)t->cols);
		top_add(t, TOP_NORMAL, sizeof(TOP_NORMAL) - 1);
	} else {
		top_add(t, line, n);
		/* not after a full line: the cursor is on its last cell */
		if (n < (size_t)t->cols)
			top_add(t, TOP_EOL, sizeof(TOP_EOL) - 1);
	}
	top_add(t, "\r\n", 2);
}

/* A string of the reply as a cell: "-" if missing, sanitized, cut. */
static void
top_cell(char *dst, size_t len, const char *src, size_t max)
{
	snprintf(dst, len, "%s", src != NULL && *src != '\0' ? src : "-");
	show_sanitize(dst);
	if (max > 0 && strlen(dst) > max)
		dst[max] = '\0';
}

static long long
top_int(json_t *o, const char *key, long long missing)
{
	long long	 v;

	return show_int(o, key, &v) ? v : missing;
}

static json_t *
top_pool_find(json_t *status, const char *name)
{
	json_t		*p;
	const char	*n;
	size_t		 i;

	json_array_foreach(json_object_get(status, "pools"), i, p) {
		n = show_str(p, "pool");
		if (n != NULL && strcmp(n, name) == 0)
			return p;
	}
	return NULL;
}

/* An integer member as a cell, "-" when it is missing. */
static void
top_icell(char *dst, json_t *o, const char *key)
{
	long long	 v;

	if (show_int(o, key, &v))
		snprintf(dst, TOP_CELL, "%lld", v);
	else
		strcpy(dst, "-");
}

static void
top_header(struct top *t)
{
	char		 left[256], pid[TOP_CELL], gen[TOP_CELL], up[32];
	char		 clock[16], *st = NULL;
	const char	*state;
	long long	 secs;
	time_t		 now;
	struct tm	 tm;
	int		 pad;

	top_icell(pid, t->cur, "pid");
	top_icell(gen, t->cur, "generation");
	secs = top_int(t->ping, "uptime", -1);
	if (secs < 0)
		snprintf(up, sizeof(up), "-");
	else if (secs < 60)
		snprintf(up, sizeof(up), "%llds", secs);
	else
		show_span(secs, up, sizeof(up));
	state = show_str(t->cur, "state");
	if (state != NULL && strcmp(state, "running") != 0 &&
	    (st = strdup(state)) != NULL)
		show_sanitize(st);
	snprintf(left, sizeof(left), "fpmd pid %s, generation %s, up %s%s%s",
	    pid, gen, up, st != NULL ? ", " : "", st != NULL ? st : "");
	free(st);
	now = time(NULL);
	clock[0] = '\0';
	if (localtime_r(&now, &tm) != NULL)
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	pad = t->cols - (int)strlen(left) - (int)strlen(clock);
	if (pad >= 2)
		top_line(t, false, "%s%*s%s", left, pad, "", clock);
	else
		top_line(t, false, "%s", left);
}

#define TOP_PCOLS	7

static const struct {
	const char	*head;
	bool		 right;
} top_pcols[TOP_PCOLS] = {
	{ "POOL", false },
	{ "CONN/S", true },
	{ "ACTIVE", true },
	{ "IDLE", true },
	{ "TOTAL", true },
	{ "QUEUE/LEN", true },
	{ "MAXREACHED", true }
};

/* Accepted connections per second since the sample before, if known. */
static void
top_rate(struct top *t, json_t *p, char *dst)
{
	json_t		*old;
	const char	*name = show_str(p, "pool");
	long long	 acc, was;
	double		 dt = (t->cur_at - t->prev_at) / 1e3, r;

	strcpy(dst, "-");
	/* the same fpmd, the same pool, a counter that did not go back */
	if (name == NULL || t->prev == NULL || dt <= 0 ||
	    top_int(t->prev, "pid", -1) != top_int(t->cur, "pid", -2) ||
	    (old = top_pool_find(t->prev, name)) == NULL ||
	    !show_int(p, "accepted_conn", &acc) ||
	    !show_int(old, "accepted_conn", &was) || acc < was)
		return;
	r = (acc - was) / dt;
	snprintf(dst, TOP_CELL, r < 1000 ? "%.1f" : "%.0f", r);
}

static void
top_prow(struct top *t, bool heading, const int w[TOP_PCOLS], int gap,
    char cell[TOP_PCOLS][TOP_CELL])
{
	char	 line[TOP_COLS_MAX + 1];
	size_t	 j;
	int	 off = 0;

	for (j = 0; j < TOP_PCOLS; j++)
		off += snprintf(line + off, sizeof(line) - off,
		    top_pcols[j].right ? "%*.*s%*s" : "%-*.*s%*s", w[j],
		    w[j], heading ? top_pcols[j].head : cell[j],
		    j + 1 < TOP_PCOLS ? gap : 0, "");
	top_line(t, heading, "%s", line);
}

/* The pools' table: a line per pool, in the reply's order. */
static void
top_pools(struct top *t)
{
	json_t		*pools, *p;
	char		(*cells)[TOP_PCOLS][TOP_CELL], q[TOP_CELL], ql[TOP_CELL];
	int		 w[TOP_PCOLS], gap, width;
	size_t		 n, i, j;

	pools = json_object_get(t->cur, "pools");
	n = json_array_size(pools);
	if ((cells = calloc(n + 1, sizeof(*cells))) == NULL) {
		t->nomem = true;
		return;
	}
	for (j = 0; j < TOP_PCOLS; j++)
		w[j] = (int)strlen(top_pcols[j].head);
	json_array_foreach(pools, i, p) {
		top_cell(cells[i][0], TOP_CELL, show_str(p, "pool"),
		    TOP_NAME_MAX);
		top_rate(t, p, cells[i][1]);
		top_icell(cells[i][2], p, "active_processes");
		top_icell(cells[i][3], p, "idle_processes");
		top_icell(cells[i][4], p, "total_processes");
		top_icell(q, p, "listen_queue");
		top_icell(ql, p, "listen_queue_len");
		snprintf(cells[i][5], TOP_CELL, "%.15s/%.15s", q, ql);
		top_icell(cells[i][6], p, "max_children_reached");
		for (j = 0; j < TOP_PCOLS; j++)
			if ((int)strlen(cells[i][j]) > w[j])
				w[j] = (int)strlen(cells[i][j]);
	}
	/* two spaces between the columns if they fit, else one */
	width = 2 * (TOP_PCOLS - 1);
	for (j = 0; j < TOP_PCOLS; j++)
		width += w[j];
	gap = width <= t->cols ? 2 : 1;
	/* still too wide: the pool names give way first */
	width -= (2 - gap) * (TOP_PCOLS - 1);
	if (width > t->cols)
		w[0] = w[0] - (width - t->cols) > 4 ? w[0] -
		    (width - t->cols) : 4;
	top_prow(t, true, w, gap, NULL);
	for (i = 0; i < n; i++)
		top_prow(t, false, w, gap, cells[i]);
	free(cells);
}

static int
top_cmp(const void *a, const void *b, void *arg)
{
	const struct top_proc *x = a, *y = b;
	enum top_sort	 s = *(enum top_sort *)arg;

#define TOP_CMP(u, v)	do { if ((u) != (v)) return (u) < (v) ? -1 : 1; } \
	while (0)
	switch (s) {
	case TOP_SORT_CPU:
		TOP_CMP(y->cpu, x->cpu);
		break;
	case TOP_SORT_MEMORY:
		TOP_CMP(y->mem, x->mem);
		break;
	case TOP_SORT_PID:
		TOP_CMP(x->pid, y->pid);
		return 0;
	case TOP_SORT_DURATION:
		break;
	}
	/* busy workers first, the longest request first */
	TOP_CMP(y->busy, x->busy);
	TOP_CMP(y->dur, x->dur);
	TOP_CMP(x->pid, y->pid);
#undef TOP_CMP
	return 0;
}

static bool
top_busy(const char *state)
{
	return state != NULL && (strcmp(state, "Running") == 0 ||
	    strcmp(state, "Reading headers") == 0 ||
	    strcmp(state, "Finishing") == 0);
}

/* Every worker of every pool, sorted; *nbusy of them in a request. */
static struct top_proc *
top_procs(struct top *t, size_t *np, size_t *nbusy)
{
	json_t		*pools, *pool, *procs, *p, *cpu;
	struct top_proc	*v, *q;
	size_t		 n = 0, i, k;

	*np = *nbusy = 0;
	pools = json_object_get(t->cur, "pools");
	json_array_foreach(pools, i, pool)
		n += json_array_size(json_object_get(pool, "processes"));
	if ((v = calloc(n + 1, sizeof(*v))) == NULL) {
		t->nomem = true;
		return NULL;
	}
	json_array_foreach(pools, i, pool) {
		procs = json_object_get(pool, "processes");
		json_array_foreach(procs, k, p) {
			if (!json_is_object(p) || *np == n)
				continue;
			q = &v[(*np)++];
			q->p = p;
			q->pool = show_str(pool, "pool");
			q->pid = top_int(p, "pid", 0);
			q->gen = top_int(p, "generation", -1);
			q->dur = top_int(p, "request_duration", -1);
			q->mem = top_int(p, "last_request_memory", -1);
			cpu = json_object_get(p, "last_request_cpu");
			q->cpu = json_is_number(cpu) ? json_number_value(cpu) :
			    -1;
			q->busy = top_busy(show_str(p, "state"));
			if (q->busy)
				(*nbusy)++;
		}
	}
	qsort_r(v, *np, sizeof(*v), top_cmp, &t->sort);
	return v;
}

#define TOP_WCOLS	9

static const struct {
	const char	*head;
	bool		 right;
	size_t		 max;		/* widest a cell may be */
} top_wcols[TOP_WCOLS] = {
	{ "PID", true, 10 },
	{ "POOL", false, TOP_NAME_MAX },
	{ "GEN", true, 6 },
	{ "STATE", false, 15 },
	{ "DURATION", true, 9 },
	{ "CPU", true, 7 },
	{ "MEM", true, 7 },
	{ "METHOD", false, 7 },
	{ "URI", false, 0 }		/* the rest of the line */
};

static void
top_wrow(struct top_proc *q, char cell[TOP_WCOLS - 1][TOP_CELL])
{
	size_t	 j;

	for (j = 0; j < TOP_WCOLS - 1; j++)
		strcpy(cell[j], "-");
	if (q->pid > 0)
		snprintf(cell[0], TOP_CELL, "%lld", q->pid);
	top_cell(cell[1], TOP_CELL, q->pool, 0);
	if (q->gen >= 0)
		snprintf(cell[2], TOP_CELL, "%lld", q->gen);
	top_cell(cell[3], TOP_CELL, show_str(q->p, "state"), 0);
	if (q->dur >= 0)
		show_duration(q->dur, cell[4], TOP_CELL);
	if (q->cpu >= 0)
		snprintf(cell[5], TOP_CELL, "%.1f%%", q->cpu);
	if (q->mem >= 0)
		show_bytes(q->mem, cell[6], TOP_CELL);
	top_cell(cell[7], TOP_CELL, show_str(q->p, "request_method"), 0);
	for (j = 0; j < TOP_WCOLS - 1; j++)
		if (top_wcols[j].max > 0 && strlen(cell[j]) > top_wcols[j].max)
			cell[j][top_wcols[j].max] = '\0';
}

/* The workers' summary, heading and as many rows as there is room for. */
static void
top_workers(struct top *t)
{
	struct top_proc	*v;
	char		(*cells)[TOP_WCOLS - 1][TOP_CELL] = NULL;
	char		 line[TOP_COLS_MAX + 1], uri[TOP_COLS_MAX + 1];
	const char	*s;
	size_t		 n, nbusy, shown, i, j;
	int		 w[TOP_WCOLS], off, uw;

	if ((v = top_procs(t, &n, &nbusy)) == NULL)
		return;
	top_line(t, false, "%zu worker%s, %zu busy; sorted by %s%s", n,
	    n == 1 ? "" : "s", nbusy, top_sort_name(t->sort),
	    t->keys ? " (keys d c m p: sort, q: quit)" : "");
	shown = t->budget - t->nlines > 1 ? (size_t)(t->budget - t->nlines -
	    1) : 0;
	if (shown > n)
		shown = n;
	if ((cells = calloc(shown + 1, sizeof(*cells))) == NULL) {
		t->nomem = true;
		goto done;
	}
	for (j = 0; j < TOP_WCOLS; j++)
		w[j] = (int)strlen(top_wcols[j].head);
	for (i = 0; i < shown; i++) {
		top_wrow(&v[i], cells[i]);
		for (j = 0; j < TOP_WCOLS - 1; j++)
			if ((int)strlen(cells[i][j]) > w[j])
				w[j] = (int)strlen(cells[i][j]);
	}
	off = 0;
	for (j = 0; j < TOP_WCOLS - 1; j++)
		off += w[j] + 1;
	/* too narrow for the URI: the pool names give way first */
	if ((uw = t->cols - off) < TOP_URI_MIN) {
		j = w[1] - 4 < TOP_URI_MIN - uw ? (size_t)w[1] - 4 :
		    (size_t)(TOP_URI_MIN - uw);
		w[1] -= (int)j;
		uw += (int)j;
	}
	for (i = 0; i <= shown; i++) {
		off = 0;
		for (j = 0; j < TOP_WCOLS - 1; j++)
			off += snprintf(line + off, sizeof(line) - off,
			    top_wcols[j].right ? "%*.*s " : "%-*.*s ", w[j],
			    w[j], i == 0 ? top_wcols[j].head :
			    cells[i - 1][j]);
		if (i == 0)
			s = top_wcols[TOP_WCOLS - 1].head;
		else {
			top_cell(uri, sizeof(uri),
			    show_str(v[i - 1].p, "request_uri"), 0);
			if (uw >= TOP_URI_ELLIPSIS && (int)strlen(uri) > uw)
				strcpy(uri + uw - 3, "...");
			s = uri;
		}
		/* what does not fit is cut by top_line */
		snprintf(line + off, sizeof(line) - off, "%s", s);
		top_line(t, i == 0, "%s", line);
	}
done:
	free(cells);
	free(v);
}

/* A frame from the last sample, in one write. */
static int
top_draw(struct top *t)
{
	top_measure(t);
	t->len = 0;
	t->nlines = 0;
	t->budget = t->rows > 1 ? t->rows - 1 : 1;
	if (t->tty)
		top_add(t, TOP_HOME, sizeof(TOP_HOME) - 1);
	else if (t->frames > 0)
		top_add(t, "\n", 1);
	top_header(t);
	top_line(t, false, "%s", "");
	top_pools(t);
	top_line(t, false, "%s", "");
	top_workers(t);
	if (t->tty)
		top_add(t, TOP_EOS, sizeof(TOP_EOS) - 1);
	if (t->nomem) {
		errno = ENOMEM;
		return -1;
	}
	return top_write(t->buf, t->len);
}

static int
top_sample(struct top *t)
{
	json_t	*ping, *status;
	int	 rc;

	if ((rc = t->fetch(t->arg, &ping, &status)) != 0)
		return rc;
	json_decref(t->prev);
	t->prev = t->cur;
	t->prev_at = t->cur_at;
	t->cur = status;
	t->cur_at = ctl_now_ms();
	json_decref(t->ping);
	t->ping = ping;
	return 0;
}

/* Keys waiting on stdin; an escape sequence (arrows...) is skipped. */
static enum top_ev
top_keys(struct top *t)
{
	enum top_ev	 ev = TOP_NONE;
	enum top_sort	 s;
	char		 buf[64];
	ssize_t		 n, i;

	n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return TOP_NONE;
	if (n <= 0)
		return TOP_QUIT;	/* the terminal is gone */
	for (i = 0; i < n && buf[i] != '\033'; i++) {
		switch (buf[i]) {
		case 'q':
		case 'Q':
		case 0x03:		/* ^C, should ISIG be off */
			return TOP_QUIT;
		case ' ':
			ev = TOP_TICK;
			continue;
		case 0x0c:		/* ^L: the whole screen again */
			(void)top_write(TOP_CLEAR, sizeof(TOP_CLEAR) - 1);
			if (ev == TOP_NONE)
				ev = TOP_REDRAW;
			continue;
		case 'd':
			s = TOP_SORT_DURATION;
			break;
		case 'c':
			s = TOP_SORT_CPU;
			break;
		case 'm':
			s = TOP_SORT_MEMORY;
			break;
		case 'p':
			s = TOP_SORT_PID;
			break;
		default:
			continue;
		}
		if (s != t->sort && ev == TOP_NONE)
			ev = TOP_REDRAW;
		t->sort = s;
	}
	return ev;
}

/* Waits for the next sample, a key or a signal. */
static enum top_ev
top_wait(struct top *t, int64_t next)
{
	struct pollfd	 pfd;
	struct timespec	 ts;
	enum top_ev	 ev;
	int64_t		 left;
	int		 n;

	for (;;) {
		if (top_tstp) {
			top_tstp = 0;
			top_suspend(t);
			return TOP_REDRAW;
		}
		if (top_cont) {
			/* stopped and continued by someone else: take it back */
			top_cont = 0;
			top_tty_enter(t);
			return TOP_REDRAW;
		}
		if (top_winch) {
			top_winch = 0;
			return TOP_REDRAW;
		}
		if ((left = next - ctl_now_ms()) <= 0)
			return TOP_TICK;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = left % 1000 * 1000000;
		pfd.fd = STDIN_FILENO;
		pfd.events = POLLIN;
		pfd.revents = 0;
		n = ppoll(&pfd, t->keys ? 1 : 0, &ts, &t->waitmask);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return TOP_ERROR;
		if (n == 0)
			continue;
		if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL))
			return TOP_QUIT;	/* the terminal is gone */
		if ((ev = top_keys(t)) != TOP_NONE)
			return ev;
	}
}

/*
 * The loop.  The first sample is taken before the terminal is touched, so
 * that an fpmd that is not there leaves the screen as it was.
 */
int
top_run(const struct top_opts *o, top_fetch_fn fetch, void *arg)
{
	struct top	 t;
	enum top_ev	 ev = TOP_TICK;
	int64_t		 next;
	int		 rc;

	memset(&t, 0, sizeof(t));
	t.fetch = fetch;
	t.arg = arg;
	t.sort = o->sort;
	sigprocmask(SIG_SETMASK, NULL, &t.waitmask);
	t.tty = isatty(STDOUT_FILENO);
	t.keys = t.tty && isatty(STDIN_FILENO) &&
	    tcgetattr(STDIN_FILENO, &top_saved) == 0;
	if ((rc = top_sample(&t)) != 0)
		goto done;
	next = t.cur_at + o->interval_ms;
	if (t.tty) {
		top_signals(&t);
		top_tty_enter(&t);
	}
	for (;;) {
		if (top_draw(&t) == -1) {
			top_restore();
			fprintf(stderr, "fpmctl: top: writing the output: %s\n",
			    strerror(errno));
			rc = FPMCTL_EXIT_REFUSED;
			goto done;
		}
		if (ev == TOP_TICK)
			t.frames++;
		if (o->count > 0 && t.frames >= o->count)
			break;
		ev = top_wait(&t, next);
		if (ev == TOP_QUIT)
			break;
		if (ev == TOP_ERROR) {
			top_restore();
			fprintf(stderr, "fpmctl: top: waiting for a key: %s\n",
			    strerror(errno));
			rc = FPMCTL_EXIT_REFUSED;
			goto done;
		}
		if (ev != TOP_TICK)
			continue;
		if ((rc = top_sample(&t)) != 0)
			goto done;
		/*
		 * A steady beat; but a full interval after a refresh asked for
		 * with space, and never a burst after a slow sample.
		 */
		if (t.cur_at < next)
			next = t.cur_at + o->interval_ms;
		else if ((next += o->interval_ms) < t.cur_at)
			next = t.cur_at + o->interval_ms;
	}
	rc = FPMCTL_EXIT_OK;
done:
	/* fetch() has told what went wrong, below the last frame */
	top_restore();
	json_decref(t.ping);
	json_decref(t.cur);
	json_decref(t.prev);
	free(t.buf);
	return rc;
}
