/*
 * request_slowlog_timeout: the PHP backtrace of a request that runs too
 * long, written to the pool's slowlog in php-fpm's format, without ptrace,
 * without a capability and without stopping the request.
 *
 * Each worker runs a small watchdog thread, started after the fork.  The
 * main thread arms it when the script starts (conn_set_state() to
 * SLOT_RUNNING) with the time the request began, and disarms it when the
 * request ends or fastcgi_finish_request() answers it, as php-fpm stops
 * its clock there.  When the timeout passes while the same request still
 * runs, the thread counts the request (slow requests), logs php-fpm's
 * WARNING, and walks the main thread's PHP frames: EG(current_execute_data)
 * and the frames behind it, innermost first.  No signal reaches the script
 * and none of its system calls is interrupted.
 *
 * PHP is built without thread safety, so this thread never calls into it:
 * it takes the addresses of PHP's globals, which the linker fixed, and
 * reads what is there with process_vm_readv() on its own pid.  A pointer
 * the main thread has just freed or moved then gives EFAULT, never a
 * crash; a frame that changed while it was read is read again; every
 * string is cut.  Reading one's own memory needs neither the dumpable
 * flag nor ptrace rights (the kernel lets a process into its own memory
 * before any of those checks).  Where a container's seccomp profile
 * refuses process_vm_readv, a pipe does the same: write() from the address
 * also fails with EFAULT rather than fault.
 *
 * One entry is one datagram on the pool's slowlog socket: the master
 * writes it whole (relay.c, logwriter.c), never interleaved with
 * another worker's.
 *
 * Arming costs the request path one store and no system call: the thread
 * sleeps on a futex until the deadline of the request it last saw, and is
 * woken only when it waits with nothing armed.
 */
#include <php.h>
#include <SAPI.h>
#include <zend_compile.h>

#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <linux/futex.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fpmd.h"

#define SL_STR_MAX	1024		/* a name or a path, as php-fpm cuts
					   them (with its NUL) */
#define SL_ENTRY_MAX	(128 * 1024)	/* one datagram; the master takes
					   up to 256 KiB */
#define SL_LINE_MAX	(2 * SL_STR_MAX + 64)	/* one frame's line */
#define SL_TRIES	3		/* walks of a stack that moves */
#define SL_FRAME_TRIES	8		/* reads of a frame that moves */
#define SL_HOPS		1024		/* frames looked through for a caller */
#define SL_STACK	(256 * 1024)

/* What one frame gives: its address, its function, where it was called. */
struct sl_frame {
	uintptr_t	 addr;
	uintptr_t	 prev;
	bool		 top;		/* the main script: the walk ends */
	char		 name[SL_STR_MAX];
	char		 file[SL_STR_MAX];
	uint32_t	 line;
};

static struct {
	/* set by slowlog_start() before the thread starts, then read-only */
	bool		 on;
	int64_t		 timeout_us;
	int		 depth;
	int		 fd;
	pid_t		 pid;
	const char	*pool;
	const struct scoreboard *sb;
	int		 pool_index;
	uint32_t	 slot;
	struct sb_pool	*sbp;
	char		*buf;
	size_t		 len;
	int		 pipe[2];	/* the fallback reader; -1: none yet */
	bool		 use_pipe;

	/* the main thread writes these, the watchdog reads them */
	uint32_t	 seq;		/* futex word; odd while armed */
	uint32_t	 waiting;	/* the watchdog waits for seq to move */
	int64_t		 start_us;	/* REALTIME, of the armed request */
} sl = { .pipe = { -1, -1 } };

static int64_t
sl_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
sl_futex_wait(uint32_t val, int64_t us)
{
	struct timespec ts;

	ts.tv_sec = us / 1000000;
	ts.tv_nsec = (long)(us % 1000000) * 1000;
	syscall(SYS_futex, &sl.seq, FUTEX_WAIT_PRIVATE, val,
	    us >= 0 ? &ts : NULL, NULL, 0);
}

static void
sl_futex_wake(void)
{
	syscall(SYS_futex, &sl.seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/*
 * Main thread: the script starts.  start is when the request began (the
 * wait for it, as request_terminate_timeout counts).  seq's store and the
 * load of waiting pair with the watchdog's store of waiting and load of
 * seq: one of the two sees the other, so a wake is never lost.
 */
void
slowlog_arm(const struct timespec *start)
{
	uint32_t s;

	if (!sl.on)
		return;
	__atomic_store_n(&sl.start_us, (int64_t)start->tv_sec * 1000000 +
	    start->tv_nsec / 1000, __ATOMIC_RELAXED);
	s = __atomic_load_n(&sl.seq, __ATOMIC_RELAXED);
	__atomic_store_n(&sl.seq, s + ((s & 1) ? 2 : 1), __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&sl.waiting, __ATOMIC_SEQ_CST))
		sl_futex_wake();
}

/* Main thread: the request ended, or was answered. */
void
slowlog_disarm(void)
{
	uint32_t s;

	if (!sl.on)
		return;
	s = __atomic_load_n(&sl.seq, __ATOMIC_RELAXED);
	if ((s & 1) == 0)
		return;
	__atomic_store_n(&sl.seq, s + 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&sl.waiting, __ATOMIC_SEQ_CST))
		sl_futex_wake();
}

/*
 * Copies len bytes from addr, in this process, to dst; -1 when some of
 * them cannot be read.  A read that the kernel refuses outright (ENOSYS,
 * EPERM: seccomp) switches to the pipe for good.
 */
static int
sl_read(void *dst, uintptr_t addr, size_t len)
{
	struct iovec l = { dst, len }, r = { (void *)addr, len };
	ssize_t n;
	int e;

	if (len == 0)
		return 0;
	if (addr == 0)
		return -1;
	if (!sl.use_pipe) {
		n = process_vm_readv(sl.pid, &l, 1, &r, 1, 0);
		if (n == (ssize_t)len)
			return 0;
		if (n != -1 || (errno != ENOSYS && errno != EPERM))
			return -1;
		e = errno;
		if (pipe2(sl.pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
			sl.pipe[0] = sl.pipe[1] = -1;
			return -1;
		}
		sl.use_pipe = true;
		log_notice("slowlog: process_vm_readv refused (%s); reading "
		    "through a pipe", strerror(e));
	}
	if (sl.pipe[0] == -1)
		return -1;
	/*
	 * The system call itself, not libc's write(): a sanitizer's wrapper
	 * would check the bytes first, in user space, which is the fault this
	 * is here to leave to the kernel.
	 */
	n = syscall(SYS_write, sl.pipe[1], addr, len);
	if (n > 0 && syscall(SYS_read, sl.pipe[0], dst, (size_t)n) != n)
		return -1;	/* cannot happen: the pipe holds 64 KiB */
	return n == (ssize_t)len ? 0 : -1;
}

static int
sl_read_ptr(uintptr_t *dst, uintptr_t addr)
{
	return sl_read(dst, addr, sizeof(*dst));
}

/* php-fpm's test of a pointer before it follows it. */
static bool
sl_valid(uintptr_t p)
{
	return p != 0 && (p & (sizeof(long) - 1)) == 0;
}

/*
 * Bytes that would break the entry's lines, or the terminal of whoever
 * reads it, become '?': the name of a file is whatever its creator chose.
 */
static void
sl_clean(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			*s = '?';
}

/* The text of the zend_string at zs, cut to cap - 1 bytes. */
static int
sl_read_zstr(uintptr_t zs, char *out, size_t cap)
{
	size_t len;

	out[0] = '\0';
	if (!sl_valid(zs) ||
	    sl_read(&len, zs + offsetof(zend_string, len), sizeof(len)) == -1)
		return -1;
	if (len > cap - 1)
		len = cap - 1;
	if (sl_read(out, zs + offsetof(zend_string, val), len) == -1)
		return -1;
	out[len] = '\0';
	sl_clean(out);
	return 0;
}

/*
 * A C string at p, cut to cap - 1 bytes; read a page at a time, so that
 * a short string at the end of a mapping reads.
 */
static int
sl_read_cstr(uintptr_t p, char *out, size_t cap)
{
	size_t got = 0, n, page = 4096;

	out[0] = '\0';
	while (got < cap - 1) {
		n = page - ((p + got) & (page - 1));
		if (n > cap - 1 - got)
			n = cap - 1 - got;
		if (sl_read(out + got, p + got, n) == -1)
			return -1;
		if (memchr(out + got, '\0', n) != NULL)
			break;
		got += n;
	}
	out[cap - 1] = '\0';
	sl_clean(out);
	return 0;
}

/*
 * Where the frame behind ex was called from: the file and line of the
 * nearest caller that is PHP code (a C function has neither), as php-fpm
 * shows them.
 */
static int
sl_caller(uintptr_t p, struct sl_frame *f)
{
	zend_execute_data ex;
	uintptr_t func, fname, opline;
	zend_uchar type;
	int hops;

	f->file[0] = '\0';
	f->line = 0;
	for (hops = 0; p != 0 && hops < SL_HOPS; hops++) {
		if (sl_read(&ex, p, sizeof(ex)) == -1)
			return -1;
		func = (uintptr_t)ex.func;
		if (!sl_valid(func))
			return 0;
		if (sl_read(&type, func + offsetof(zend_function, type),
		    sizeof(type)) == -1)
			return -1;
		if (ZEND_USER_CODE(type)) {
			if (sl_read_ptr(&fname, func +
			    offsetof(zend_op_array, filename)) == -1 ||
			    sl_read_zstr(fname, f->file, sizeof(f->file)) == -1)
				return -1;
			opline = (uintptr_t)ex.opline;
			if (sl_valid(opline) && sl_read(&f->line, opline +
			    offsetof(zend_op, lineno), sizeof(f->line)) == -1)
				return -1;
			return 0;
		}
		p = (uintptr_t)ex.prev_execute_data;
	}
	return 0;
}

/*
 * One frame: its function's name ("???" when the frame has none, php-fpm's
 * "[INCLUDE_OR_EVAL]" for an include or eval), and where it was called
 * from.  The frame is read again at the end: if it moved meanwhile (the
 * function returned, another call took its place), all of it is read
 * anew.  0: read; 1: never still (f->prev is still its caller's frame);
 * -1: unreadable.
 */
static int
sl_frame(uintptr_t addr, struct sl_frame *f)
{
	zend_execute_data ex, again;
	uintptr_t func, fname;
	uint32_t kind;
	int tries;

	for (tries = 0; tries < SL_FRAME_TRIES; tries++) {
		memset(f, 0, offsetof(struct sl_frame, name));
		f->addr = addr;
		if (sl_read(&ex, addr, sizeof(ex)) == -1)
			return -1;
		f->prev = (uintptr_t)ex.prev_execute_data;
		func = (uintptr_t)ex.func;
		snprintf(f->name, sizeof(f->name), "???");
		fname = 0;
		if (sl_valid(func) && sl_read_ptr(&fname, func +
		    offsetof(zend_function, common.function_name)) == -1)
			return -1;
		kind = ZEND_CALL_KIND_EX(Z_TYPE_INFO(ex.This));
		if (fname != 0) {
			if (sl_read_zstr(fname, f->name, sizeof(f->name)) == -1)
				return -1;
		} else if (sl_valid(func) && kind == ZEND_CALL_TOP_CODE)
			f->top = true;
		else if (sl_valid(func) && kind == ZEND_CALL_NESTED_CODE)
			snprintf(f->name, sizeof(f->name), "[INCLUDE_OR_EVAL]");
		if (!f->top && sl_caller(f->prev, f) == -1)
			return -1;
		if (sl_read(&again, addr, sizeof(again)) == -1)
			return -1;
		if (again.func == ex.func &&
		    again.prev_execute_data == ex.prev_execute_data &&
		    Z_TYPE_INFO(again.This) == Z_TYPE_INFO(ex.This))
			return 0;
	}
	return 1;
}

static void
sl_append(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
sl_append(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sl.len >= SL_ENTRY_MAX)
		return;
	va_start(ap, fmt);
	n = vsnprintf(sl.buf + sl.len, SL_ENTRY_MAX - sl.len, fmt, ap);
	va_end(ap);
	if (n > 0)
		sl.len += (size_t)n < SL_ENTRY_MAX - sl.len ? (size_t)n :
		    SL_ENTRY_MAX - sl.len - 1;
}

/*
 * The frames from EG(current_execute_data) on, innermost first, at most
 * request_slowlog_trace_depth, up to the main script's.  0: done; 1: done,
 * but a function returned or was called meanwhile, so the lines may not
 * be one moment's stack; -1: cut short by a frame that could not be read.
 * A frame that never holds still is one a script in a loop of calls
 * enters and leaves all the time: it is left out, and its caller, which
 * is running, is the innermost frame shown.
 */
static int
sl_walk(void)
{
	struct sl_frame f;
	uintptr_t ex, top;
	int n, seen, rc = 0;

	if (sl_read_ptr(&top, (uintptr_t)&EG(current_execute_data)) == -1)
		return -1;
	for (ex = top, n = seen = 0; ex != 0 && n < sl.depth &&
	    seen < SL_HOPS; ex = f.prev, seen++) {
		if (sl.len + SL_LINE_MAX > SL_ENTRY_MAX)
			break;
		switch (sl_frame(ex, &f)) {
		case -1:
			return -1;
		case 1:
			rc = 1;
			continue;
		}
		if (f.top)
			break;
		sl_append("[0x%016lx] %s() %s:%u\n", (unsigned long)f.addr,
		    f.name, f.file[0] != '\0' ? f.file : "unknown", f.line);
		n++;
	}
	if (rc == 0 && (sl_read_ptr(&ex, (uintptr_t)&EG(current_execute_data))
	    == -1 || ex != top))
		rc = 1;
	return rc;
}

/*
 * The entry of the request armed as s: php-fpm's header, script_filename,
 * the frames.
 */
static void
sl_entry(uint32_t s)
{
	char when[64], script[SL_STR_MAX];
	struct timespec ts;
	struct tm tm;
	uintptr_t p;
	size_t n, head;
	int tries, rc = -1;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = strftime(when, sizeof(when), "[%d-%b-%Y %H:%M:%S", &tm);
	if (log_get_level() == LOG_LVL_DEBUG)
		snprintf(when + n, sizeof(when) - n, ".%06ld",
		    ts.tv_nsec / 1000);
	sl.len = 0;
	sl_append("\n%s]  [pool %s] pid %d\n", when, sl.pool, (int)sl.pid);
	if (sl_read_ptr(&p, (uintptr_t)&SG(request_info).path_translated) ==
	    -1 || sl_read_cstr(p, script, sizeof(script)) == -1)
		goto done;
	sl_append("script_filename = %s\n", script);
	/*
	 * A script that calls functions in a loop moves its stack all the
	 * time: after a few tries, a walk each of whose frames was read
	 * whole will do.
	 */
	head = sl.len;
	for (tries = 0; tries < SL_TRIES; tries++) {
		sl.len = head;
		if ((rc = sl_walk()) == 0)
			break;
	}
	/* the request ended under the walk: what it read is another's */
	if (__atomic_load_n(&sl.seq, __ATOMIC_ACQUIRE) != s) {
		sl.len = head;
		rc = -1;
	}
done:
	if (rc == -1)
		sl_append("+++ dump failed\n");
	if (send(sl.fd, sl.buf, sl.len, MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
		__atomic_add_fetch(&sl.sbp->log_dropped, 1, __ATOMIC_RELAXED);
}

/* php-fpm's: what is not printable ASCII shows as '.'. */
static void
sl_purify(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < ' ' || (unsigned char)*s > 0x7e)
			*s = '.';
}

/*
 * The request armed as s has run for elapsed_us, past the timeout.  The
 * slot tells what it is; if the request ended while the slot was read,
 * it ended before it was caught, and is not counted.  (The main thread
 * disarms before it writes the slot, so a slot that shows the next
 * request shows seq moved too.)
 */
static void
sl_fire(uint32_t s, int64_t elapsed_us)
{
	struct proc_status ps;

	if (!status_proc(sl.sb, sl.pool_index, sl.slot, &ps) ||
	    ps.state != SLOT_RUNNING)
		return;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&sl.seq, __ATOMIC_RELAXED) != s)
		return;
	__atomic_add_fetch(&sl.sbp->slow_requests, 1, __ATOMIC_RELAXED);
	sl_purify(ps.script);
	sl_purify(ps.method);
	sl_purify(ps.uri);
	sl_purify(ps.query);
	log_bare(LOG_LVL_WARNING, "[pool %s] child %d, script '%s' (request: "
	    "\"%s %s%s%s\") executing too slow (%d.%06d sec), logging",
	    sl.pool, (int)sl.pid, ps.script, ps.method, ps.uri,
	    ps.query[0] != '\0' ? "?" : "", ps.query,
	    (int)(elapsed_us / 1000000), (int)(elapsed_us % 1000000));
	sl_entry(s);
}

static void *
sl_main(void *arg)
{
	uint32_t s, done = 0;
	int64_t start, left;

	(void)arg;
	for (;;) {
		s = __atomic_load_n(&sl.seq, __ATOMIC_ACQUIRE);
		if ((s & 1) == 0 || s == done) {
			/* nothing armed, or this request logged: wait */
			__atomic_store_n(&sl.waiting, 1, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&sl.seq, __ATOMIC_SEQ_CST) == s)
				sl_futex_wait(s, -1);
			__atomic_store_n(&sl.waiting, 0, __ATOMIC_RELAXED);
			continue;
		}
		start = __atomic_load_n(&sl.start_us, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&sl.seq, __ATOMIC_RELAXED) != s)
			continue;
		left = start + sl.timeout_us - sl_now_us();
		if (left > 0) {
			/* no wake for a later request: its deadline is later */
			sl_futex_wait(s, left);
			continue;
		}
		done = s;
		sl_fire(s, -left + sl.timeout_us);
	}
	return NULL;
}

/*
 * In a new worker: start the watchdog when the pool has a slowlog.  The
 * thread blocks every signal, so the script's signals (max_execution_time's
 * SIGPROF among them) all reach the main thread.
 */
void
slowlog_start(const struct proto_args *pa, int slot)
{
	const struct pool_conf *pc = pa->pc;
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t t;
	int rc;

	if (pc->slowlog == NULL || pc->request_slowlog_timeout <= 0 ||
	    pa->slowlog_fd == -1)
		return;
	if ((sl.buf = malloc(SL_ENTRY_MAX)) == NULL) {
		log_error("slowlog: malloc");
		return;
	}
	sl.timeout_us = (int64_t)pc->request_slowlog_timeout * 1000000;
	sl.depth = pc->request_slowlog_trace_depth;
	sl.fd = pa->slowlog_fd;
	sl.pid = getpid();
	sl.pool = pc->name;
	sl.sb = pa->sb;
	sl.pool_index = pa->pool_index;
	sl.slot = (uint32_t)slot;
	sl.sbp = &pa->sb->pools[pa->pool_index];
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, SL_STACK);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t, &attr, sl_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		errno = rc;
		log_error("slowlog: pthread_create; no slowlog in this worker");
		free(sl.buf);
		sl.buf = NULL;
		return;
	}
	sl.on = true;
}
