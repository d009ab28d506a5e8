/*
 * fpmd: the structures every part of the daemon shares, grouped by the file
 * that owns them.  Only sapi.c (and the glue it exports) sees PHP's headers.
 */
#ifndef FPMD_H
#define FPMD_H

#include <sys/types.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "log.h"
#include "fcgi.h"

#define FPMD_VERSION		PACKAGE_VERSION
#define FPMD_SAPI_NAME		"fpm-fcgi"
#define FPMD_EXIT_SOFTWARE	70
#define FPMD_EXIT_CONFIG	78
#define FPMD_EXIT_USAGE		64
#define FPMD_SLOTS_DEFAULT	1024	/* scoreboard slots without process.max */
#define FPMD_ADDR_MAX		256
#define FPMD_PRIORITY_UNSET	64	/* process.priority unset, as php-fpm */

/* conf*.c: the configuration reader (see conf_int.h for its layers) */

enum pm_style {
	PM_STATIC = 0,
	PM_DYNAMIC,
	PM_ONDEMAND
};

struct listen_addr {
	int			 family;	/* AF_UNIX, AF_INET, AF_INET6;
						   AF_UNSPEC = any address */
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 text[FPMD_ADDR_MAX]; /* as written, normalised */
};

struct kv {
	char		*key;
	char		*value;
};

struct php_setting {
	char		*name;
	char		*value;		/* flags are "1" or "0" */
	bool		 admin;		/* php_admin_value / php_admin_flag */
	bool		 flag;
};

struct pool_conf {
	char			*name;
	char			*file;		/* where the pool section starts */
	int			 line;

	char			*listen;
	struct listen_addr	 addr;
	int			 listen_backlog;
	char			*listen_owner;
	char			*listen_group;
	uid_t			 listen_uid;	/* (uid_t)-1: unchanged */
	gid_t			 listen_gid;
	int			 listen_mode;
	char			*listen_allowed_clients;

	enum pm_style		 pm;
	int			 max_children;
	int			 start_servers;
	int			 min_spare_servers;
	int			 max_spare_servers;
	int			 max_spawn_rate;
	int			 process_idle_timeout;	/* seconds */
	int			 max_requests;

	char			*user;
	char			*group;
	uid_t			 uid;		/* resolved; (uid_t)-1 if unset */
	gid_t			 gid;
	char			*chdir;
	char			*chroot;
	bool			 clear_env;
	struct kv		*env;
	size_t			 nenv;

	char			*php_ini;	/* pool's, else the global one */
	char			*php_ini_scan_dir;
	struct php_setting	*php;
	size_t			 nphp;
	bool			 allow_php_value_param;	/* PHP_VALUE params */

	char		       **limit_extensions;
	size_t			 nlimit_extensions;	/* 0: allow all */
	bool			 catch_workers_output;
	bool			 decorate_workers_output;
	bool			 process_dumpable;
	int			 rlimit_files;	/* -1: unchanged */
	int			 rlimit_core;	/* -1: unchanged, -2: unlimited */

	int			 request_terminate_timeout;	/* seconds */
	int			 request_read_timeout;	/* seconds, 0: none */

	char			*status_path;	/* pm.status_path, or NULL */
	char			*ping_path;	/* ping.path, or NULL */
	char			*ping_response;	/* "pong" if ping_path is set */
	char			*status_listen;	/* pm.status_listen, or NULL */
	struct listen_addr	 status_addr;	/* the master answers there */
	char			*listen_acl_users;	/* as written, or NULL */
	char			*listen_acl_groups;
	uid_t			*acl_uids;	/* resolved */
	size_t			 nacl_uids;
	gid_t			*acl_gids;
	size_t			 nacl_gids;
	char			*access_log;	/* path, "stderr", or NULL: off */
	char			*access_format;	/* NULL: php-fpm's default */
	char		       **access_suppress;	/* access.suppress_path */
	size_t			 naccess_suppress;
	char			*slowlog;	/* path, "stderr", or NULL */
	int			 request_slowlog_timeout;	/* s, 0: off */
	int			 request_slowlog_trace_depth;
	int			 process_priority;	/* FPMD_PRIORITY_UNSET:
							   inherited */
	uint64_t		 max_memory;	/* bytes, 0: off */
	bool			 terminate_track_finished;
	char			*apparmor_hat;	/* as written, or NULL */
	char			*apparmor_change;	/* "PROFILE//HAT", found
							   by the master */
};

struct fpmd_conf {
	char			*file;		/* absolute path */
	enum log_level		 log_level;
	bool			 log_json;	/* log_format = json */
	char			*error_log;	/* NULL: stderr */
	char			*php_ini;
	char			*php_ini_scan_dir;
	int			 process_control_timeout;	/* seconds */
	int			 reload_timeout;	/* seconds */
	int			 process_max;	/* 0: no cap */
	int			 rlimit_files;
	int			 rlimit_core;

	char			*control_socket;
	int			 control_mode;
	char			*control_owner;
	char			*control_group;
	uid_t			 control_uid;	/* resolved; (uid_t)-1 if unset */
	gid_t			 control_gid;
	int			 emergency_threshold;	/* 0: off */
	int			 emergency_interval;	/* seconds, 0: off */
	int			 process_priority;	/* FPMD_PRIORITY_UNSET:
							   unchanged */

	int			 log_limit;	/* bytes of a log line */
	bool			 log_buffering;	/* worker output: whole lines */
	bool			 log_syslog;	/* error_log = syslog */
	char			*syslog_ident;	/* NULL: "fpmd" */
	int			 syslog_facility;	/* LOG_DAEMON, ... */

	char			*status_socket;	/* control.status_socket */
	int			 status_mode;
	char			*status_owner;
	char			*status_group;
	uid_t			 status_uid;	/* (uid_t)-1 if unset */
	gid_t			 status_gid;

	struct pool_conf	*pools;
	size_t			 npools;
};

#define CONF_ALLOW_ROOT		0x01	/* -R given */
#define CONF_AS_ROOT		0x02	/* check user/group as root would */
#define CONF_CHECK_LISTEN	0x04	/* fpmd -t: would each listen work? */

/*
 * Reads and checks the whole configuration.  On error returns NULL and sets
 * *errors to a malloc'd text of "FILE:LINE: reason" lines (the caller frees
 * it).  The result is never modified after it is returned.
 */
struct fpmd_conf *conf_load(const char *path, int flags, char **errors);
void		 conf_free(struct fpmd_conf *conf);
const char	*conf_pm_name(enum pm_style pm);
int		 conf_listen_parse(const char *text, struct listen_addr *addr,
		    char *err, size_t errlen);


/* ev.c: the master's event loop. */

struct ev {
	int		 fd;
	uint32_t	 events;
	void		(*cb)(struct ev *, uint32_t);	/* NULL: not watched */
	void		*arg;
};

struct ev_timer {
	int64_t		 at;		/* monotonic ms */
	void		(*cb)(void *);
	void		*arg;
	unsigned	 round;
	bool		 armed;
	struct ev_timer	*next;
};

int64_t		 now_ms(void);
int		 ev_init(void);
int		 ev_add(struct ev *e, int fd, uint32_t events,
		    void (*cb)(struct ev *, uint32_t), void *arg);
int		 ev_mod(struct ev *e, uint32_t events);
int		 ev_rearm(struct ev *e);
void		 ev_del(struct ev *e);
void		 ev_timer_set(struct ev_timer *t, int64_t at, void (*cb)(void *),
		    void *arg);
void		 ev_timer_stop(struct ev_timer *t);
int		 ev_free_later(void *p, void (*fn)(void *));
int		 ev_run(int max_ms);
void		 ev_close(void);

/*
 * scoreboard.c: one shared region made by the master before any fork, and
 * the master's own bookkeeping of its slots, which no child can touch.
 */

enum slot_state {
	SLOT_FREE = 0,
	SLOT_STARTING,		/* spawn asked, worker not yet up */
	SLOT_IDLE,		/* accepting */
	SLOT_READING,		/* reading the request headers */
	SLOT_RUNNING,
	SLOT_FINISHING
};

#define SB_POOL_NAME	32
#define SB_METHOD	16
#define SB_URI		128
#define SB_QUERY	512
#define SB_SCRIPT	256
#define SB_USER		32

/*
 * A worker writes its own slot; readers copy it and retry while seq is odd
 * or changed, so the request path takes no lock.
 */
struct sb_slot {
	volatile uint32_t	 seq;
	int32_t			 pool;		/* index in sb_pool[] */
	int32_t			 gen;
	pid_t			 pid;
	uint8_t			 state;
	time_t			 start;		/* worker start, epoch */
	uint64_t		 requests;
	struct timespec		 req_start;	/* CLOCK_REALTIME */
	uint64_t		 req_duration_us;
	uint64_t		 content_length;
	double			 last_cpu;
	uint64_t		 last_memory;
	char			 method[SB_METHOD];
	char			 uri[SB_URI];
	char			 query[SB_QUERY];
	char			 script[SB_SCRIPT];
	char			 user[SB_USER];
};

struct sb_pool {
	char			 name[SB_POOL_NAME];
	time_t			 start;
	int32_t			 used;
	int32_t			 max_listen_queue;	/* master only */
	volatile uint64_t	 accepted;	/* atomic adds by workers */
	volatile uint64_t	 slow_requests;
	volatile uint64_t	 log_dropped;	/* lines children could not send */
	volatile uint64_t	 access_dropped;	/* access log lines, too */
	int32_t			 max_active;
	int32_t			 max_children_reached;
	volatile uint64_t	 memory_recycled;	/* pm.max_memory */
};

struct gen;

/* What the master knows of a slot: children never see it change. */
struct mslot {
	struct gen		*gen;		/* NULL: free */
	pid_t			 pid;		/* 0: fork asked, not yet told */
	int64_t			 started;	/* monotonic ms */
	bool			 quitting;
	int32_t			 next_free;
};

/*
 * The descriptor lives in the master's private memory (children inherit a
 * copy): a worker scribbling over the shared pages cannot make the master
 * index past them.
 */
struct scoreboard {
	uint32_t		 nslots;
	uint32_t		 npools;
	struct sb_pool		*pools;		/* shared */
	struct sb_slot		*slots;		/* shared */
	struct mslot		*ms;		/* master only */
	bool			 master;	/* false in every child */
	bool			*pool_used;	/* master only */
	int32_t			 free_head;
	uint32_t		 nfree;
};

struct scoreboard *sb_create(uint32_t npools, uint32_t nslots);
int		 sb_pool_alloc(struct scoreboard *sb, const char *name);
void		 sb_pool_free(struct scoreboard *sb, int index);
int		 sb_slot_alloc(struct scoreboard *sb, struct gen *g, int pool,
		    int gen);
void		 sb_slot_free(struct scoreboard *sb, int slot);
void		 sb_slot_begin(struct sb_slot *s);
void		 sb_slot_commit(struct sb_slot *s);
void		 sb_slot_read(const struct sb_slot *s, struct sb_slot *copy);
void		 sb_slot_clear(struct sb_slot *s);
uint64_t	 sb_elapsed_us(const struct timespec *then,
		    const struct timespec *now);

/* listen.c: listening sockets, shared by the generations that use them. */

struct listener {
	int			 fd;
	struct listen_addr	 addr;
	int			 backlog;
	int			 mode;
	uid_t			 uid;
	gid_t			 gid;
	int			 refs;
	bool			 retired;	/* nobody serving listens here */
	bool			 inherited;	/* passed by the supervisor */
	bool			 acl;		/* listen.acl_users/acl_groups */
	bool			 master;	/* the master accepts here */
	bool			 shut;		/* graceful stop: no new ones */
	dev_t			 shut_dev;	/* the path's file when shut */
	ino_t			 shut_ino;
	struct ev		 ev;		/* ondemand pools only */
	struct listener		*next;
};

struct listener	*listen_get(const struct pool_conf *pc);
struct listener	*listen_get_at(const struct pool_conf *pc,
		    const struct listen_addr *a);
int		 listen_nonblock(struct listener *ls);
void		 listen_unref(struct listener *ls);
void		 listen_retire(struct listener *ls);
void		 listen_shut_all(void);
int		 listen_apply(struct listener *ls, const struct pool_conf *pc);
int		 listen_unix(const char *path, int mode, uid_t uid, gid_t gid,
		    int backlog, const char *what);
int		 listen_queue(const struct listener *ls, int *cur, int *max);
int		 listen_fd_queue(int fd, int *cur, int *max);

/* sockact.c: listening sockets passed by the supervisor (LISTEN_FDS). */
void		 sockact_init(void);
int		 sockact_take(const struct pool_conf *pc,
		    const struct listen_addr *a);
void		 sockact_close_unused(void);
void		 sockact_close(void);

/* notify.c: readiness and state for the supervisor (NOTIFY_SOCKET, -r). */
int		 notify_init(int ready_fd);
bool		 notify_wanted(void);
void		 notify_ready(const char *status);
void		 notify_reloading(const char *status);
void		 notify_reloaded(const char *status);
void		 notify_stopping(const char *status);
void		 notify_status(const char *status);
int64_t		 notify_watchdog_interval(void);
void		 notify_watchdog(void);
void		 notify_flush(void);
void		 notify_close(void);

/* logwriter.c: the pools' log files, written by a thread of the master. */

struct lw_file {
	char			*path;		/* or "stderr" */
	int			 fd;
	int			 users;		/* pools that name it */
	int			 refs;		/* lines queued for it */
	bool			 closing;
	volatile uint64_t	 lost;		/* lines dropped or not written */
	struct lw_file		*next;
};

struct lw_file	*lw_open(const char *path);
void		 lw_close(struct lw_file *f);
void		 lw_write(struct lw_file *f, const void *buf, size_t len);
int		 lw_reopen(void);
uint64_t	 lw_lost(const struct lw_file *f);
void		 lw_shutdown(void);

/* relay.c: children's log lines and output, to the master's log. */

struct relay {
	char			 name[SB_POOL_NAME];
	int			 log_rfd, log_wfd;
	int			 out_rfd, out_wfd;
	int			 err_rfd, err_wfd;
	int			 acc_rfd, acc_wfd;	/* access log lines */
	int			 slow_rfd, slow_wfd;	/* slowlog entries */
	struct ev		 ev_log, ev_out, ev_err, ev_acc, ev_slow;
	struct lw_file		*acc_file;	/* NULL: access.log unset */
	struct lw_file		*slow_file;
	bool			 decorate;	/* decorate_workers_output */
	bool			 json;		/* log_format = json */
	bool			 buffering;	/* log_buffering */
	struct relay_part	*parts;		/* lines begun, not ended */
};

int		 relay_open(struct relay *r, const char *name);
void		 relay_flush(struct relay *r, pid_t pid);
int		 relay_files(struct relay *r, const char *access_log,
		    const char *slowlog);
void		 relay_close(struct relay *r);

/* statuslisten.c: pm.status_listen, answered by the master itself. */

struct pool;

struct stlisten {
	struct listener		*ls;		/* NULL: none */
	struct ev		 ev;
	struct pool		*pool;
};

int		 stl_set(struct stlisten *stl, struct pool *p,
		    const struct pool_conf *pc);
void		 stl_close(struct stlisten *stl);

/*
 * gen.c: one generation of a pool: a prototype started with one
 * configuration, the messages to it, and its workers.  A reload starts a
 * new generation beside the serving one; the old one drains once the new
 * one serves.
 */

struct gen_msg;

struct gen {
	struct pool		*pool;
	struct fpmd_conf	*conf;		/* holds a reference */
	const struct pool_conf	*pc;
	struct listener		*ls;		/* holds a reference */
	int			 num;
	pid_t			 proto_pid;	/* 0: none */
	int			 ctl_fd;
	struct ev		 ev_ctl;
	struct gen_msg		*outq;		/* to the prototype, in order */
	struct gen_msg		**outq_tail;
	bool			 ready;		/* PHP started */
	bool			 draining;
	bool			 settled;	/* served once: later spawns are news */
	bool			 quit_told;	/* its workers accept no more */
	bool			 held;		/* no spawn until t_hold */
	int			 nworkers;	/* slots in use */
	int			 nrunning;	/* of which forked */
	int			 nquitting;	/* of which asked to go */
	int			 target;	/* workers wanted now */
	int			 max;		/* pm.max_children, or scaled */
	int			 spawn_rate;	/* dynamic: next burst */
	bool			 max_warned;	/* this episode */
	int			 fail_streak;
	int64_t			 unsettled_until; /* a worker died young */
	int			 restart_streak;
	int			 drain_step;	/* 0 asked, 1 TERM sent, 2 KILL */
	struct ev_timer		 t_hold;
	struct ev_timer		 t_restart;
	struct ev_timer		 t_drain;
	struct gen		*next;		/* in pool->old */
};

/* What a generation tells the process manager. */
struct gen_hooks {
	void	(*ready)(struct gen *);
	void	(*failed)(struct gen *, const char *why);
	void	(*spawned)(struct gen *, int slot, pid_t pid);
	/* told: the process manager asked it to go */
	void	(*worker_exited)(struct gen *, int slot, pid_t pid,
		    int status, int64_t lived, bool told);
	void	(*proto_exited)(struct gen *, int status);
	void	(*changed)(struct gen *);
};

void		 gen_set_hooks(const struct gen_hooks *hooks);
struct gen	*gen_new(struct pool *p, struct fpmd_conf *conf,
		    const struct pool_conf *pc, int num);
void		 gen_free(struct gen *g);
int		 gen_start(struct gen *g);
void		 gen_restart_later(struct gen *g, int64_t delay);
void		 gen_fill(struct gen *g);
void		 gen_hold(struct gen *g, int64_t delay);
int		 gen_kill_worker(struct gen *g, int slot, int sig);
void		 gen_drain(struct gen *g, int timeout);
void		 gen_abandon(struct gen *g);
void		 gen_stop(struct gen *g, bool graceful);
void		 gen_kill(struct gen *g);
void		 gen_proto_exited(struct gen *g, int status);
bool		 gen_serving(const struct gen *g);
int		 gen_up(const struct gen *g);
int		 gen_conf_ref(struct fpmd_conf *conf);
void		 gen_conf_unref(struct fpmd_conf *conf);

/* pm.c: pools and the policy that sizes their generations. */

struct pool {
	char			 name[SB_POOL_NAME];
	int			 index;		/* in the scoreboard */
	struct relay		 relay;
	struct stlisten		 stl;		/* pm.status_listen */
	struct gen		*cur;		/* serving */
	struct gen		*next_gen;	/* starting, during a reload */
	struct gen		*old;		/* draining */
	bool			 added;		/* by the reload in progress */
	bool			 removed;	/* drains, then goes */
	bool			 freed;
	struct ev_timer		 t_watch;	/* ondemand: look again */
	struct pool		*link;
	/* emergency_restart_*: the serving generation's crashes, a ring */
	int64_t			*crash_at;	/* monotonic ms */
	int			 crash_cap;	/* for this threshold */
	int			 crash_n;
	int			 crash_next;
	bool			 restart_wanted; /* after this reload */
	/* the drops status_report_drops() has told of */
	uint64_t		 told_log_dropped;
	uint64_t		 told_access_dropped;
};

int		 pm_start(struct fpmd_conf *conf);
void		 pm_on_ready(void (*ready)(void));
void		 pm_on_change(void (*watch)(const char *code,
		    const char *failure));
void		 pm_stop(bool graceful, int timeout);
bool		 pm_all_gone(void);
void		 pm_reaped(pid_t pid, int status);
void		 pm_close_all(void);
struct pool	*pm_pool_find(const char *name);
int		 pm_scale(const char *pool, int n, int *previous, char *err,
		    size_t errlen);
int		 pm_room(const struct fpmd_conf *conf, char *err,
		    size_t errlen);
int		 pm_prepare(struct fpmd_conf *conf, const struct pool_conf *pc,
		    int num, char *err, size_t errlen);
bool		 pm_prepared(char *why, size_t whylen);
bool		 pm_retired_quiet(void);
void		 pm_commit(struct fpmd_conf *conf);
void		 pm_abort(void);
int		 pm_restart_prepare(struct pool *p, int num, char *err,
		    size_t errlen);

/* crash.c: a worker's death: its log line, the emergency restart count. */
void		 crash_on_restart(void (*restart)(struct pool *));
void		 crash_note(struct gen *g, pid_t pid, int status, int64_t lived,
		    bool told);
void		 crash_forget(struct pool *p);

/* reload.c: a new configuration, brought in by a new generation. */

struct reload_result {
	bool		 ok;
	int		 generation;	/* serving after the reload */
	int64_t		 duration_ms;
	const char	*code;		/* on failure */
	const char	*message;
	const char	*errors;	/* config_invalid: FILE:LINE lines */
};

struct fpmd_conf *reload_conf_load(const char *path, int flags,
		    char **errors);
int		 reload_start(void (*done)(void *, const struct reload_result *),
		    void *arg, struct reload_result *now);
void		 reload_cancel(const char *code, const char *message);
void		 reload_on_commit(void (*apply)(const struct fpmd_conf *old,
		    const struct fpmd_conf *conf));
void		 reload_forget(void *arg);
void		 reload_on_progress(void (*progress)(
		    const struct reload_result *res));
bool		 reload_busy(void);
void		 reload_pool(struct pool *p);

/* errlog.c: the master's error log: stderr, a file, or syslog. */

int		 errlog_apply(const struct fpmd_conf *conf, bool reopen);
int		 errlog_reopen(const struct fpmd_conf *conf, const char **what);
void		 errlog_close(void);

/* control.c: the JSON control socket. */

int		 control_open(void);
void		 control_apply(const struct fpmd_conf *old,
		    const struct fpmd_conf *conf);
void		 control_close(void);

/*
 * status.c: the figures fpmctl, the status page and fpm_get_status() are
 * made of, computed from shared data only (the scoreboard and a listening
 * socket), so that the master and a worker get them from the same calls.
 */

struct pool_status {
	time_t		 start;
	uint64_t	 accepted;
	int		 idle;
	int		 active;
	int		 total;
	int		 listen_queue;
	int		 listen_queue_len;
	int		 max_listen_queue;
	int		 max_active;
	int		 max_children_reached;
	uint64_t	 slow_requests;
	uint64_t	 log_dropped;
	uint64_t	 access_dropped;	/* by workers; status_json adds
						   the master's */
	uint64_t	 memory_recycled;	/* workers past pm.max_memory */
};

/* One worker's row: what its slot says, bounded and terminated. */
struct proc_status {
	pid_t		 pid;		/* 0: not started yet */
	int		 gen;
	int		 state;		/* enum slot_state */
	time_t		 start;		/* 0: not started yet */
	time_t		 start_since;
	uint64_t	 requests;
	uint64_t	 duration_us;	/* of the request under way, else the
					   last one */
	uint64_t	 content_length;
	double		 last_cpu;	/* percent; 0 while in a request */
	uint64_t	 last_memory;	/* bytes; 0 while in a request */
	char		 method[SB_METHOD];
	char		 uri[SB_URI];	/* the path, without the query */
	char		 query[SB_QUERY];
	char		 script[SB_SCRIPT];
	char		 user[SB_USER];
};

void		 status_pool(const struct scoreboard *sb, int pool,
		    int listen_fd, struct pool_status *st);
bool		 status_proc(const struct scoreboard *sb, int pool,
		    uint32_t slot, struct proc_status *ps);
const char	*status_state_name(int state);
void		 status_sample(void);
void		 status_report_drops(struct pool *p);
struct json_t	*status_json(bool full, bool reloading);
struct json_t	*status_conf_json(const struct fpmd_conf *conf,
		    const char *ctl_path, bool hide_values);

/* fpmd.c: the master's root object. */

enum fpmd_state {
	FPMD_RUNNING = 0,
	FPMD_FINISHING,		/* graceful stop */
	FPMD_TERMINATING	/* fast stop */
};

#define FPMD_POOLS_MAX	256	/* scoreboard pool entries, all reloads */
#define FPMD_GENS_MAX	4	/* scoreboard slots per worker configured:
				   serving, starting and draining ones */

struct fpmd {
	struct fpmd_conf	*conf;		/* the serving configuration */
	char			*conf_path;
	int			 conf_flags;
	struct scoreboard	*sb;
	struct pool		*pools;		/* list, in config order */
	int			 generation;	/* last one started */
	enum fpmd_state		 state;
	int			 stop_timeout;	/* seconds, 0: none */
	int			 exit_code;
	time_t			 start_time;
	char			*ctl_path;	/* the control socket */
};

extern struct fpmd	*fpmd;

/* proc.c: process titles, child set-up, CPU time. */
void		 proc_title_init(int argc, char **argv);
void		 proc_title_set(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));
int		 proc_child_setup(int deathsig, pid_t parent,
		    const sigset_t *keep);
int		 proc_rlimit(int resource, int value, bool keep_hard,
		    const char *name, char *err, size_t errlen);
void		 proc_cpu(uint64_t *user_us, uint64_t *sys_us);

/*
 * prototype.c: master <-> prototype messages over a SOCK_SEQPACKET pair.
 */
enum proto_msg_type {
	PMSG_READY = 1,		/* proto -> master: PHP started */
	PMSG_FAILED,		/* proto -> master: PHP start-up failed; text */
	PMSG_SPAWN,		/* master -> proto: fork a worker in slot */
	PMSG_SPAWNED,		/* proto -> master: worker pid in slot */
	PMSG_EXITED,		/* proto -> master: worker pid, slot, status */
	PMSG_QUIT,		/* master -> proto: workers finish and exit */
	PMSG_TERM,		/* master -> proto: workers exit now */
	PMSG_KILL,		/* master -> proto: signal one worker */
	PMSG_QUITTING		/* proto -> master: every worker asked to go */
};

/* Sent with only as much text as it carries: most carry none. */
struct proto_msg {
	uint32_t		 type;
	int32_t			 slot;
	int32_t			 pid;
	int32_t			 status;
	char			 text[512];
};
#define PMSG_HDR	offsetof(struct proto_msg, text)

struct proto_args {
	const struct fpmd_conf	*conf;
	const struct pool_conf	*pc;
	int			 pool_index;
	int			 gen;
	int			 listen_fd;
	int			 ctl_fd;	/* our end of the pair */
	int			 log_fd;	/* datagrams to the master's log */
	int			 out_fd;	/* workers' stdout, or -1 */
	int			 err_fd;	/* workers' stderr, or -1 */
	int			 access_fd;	/* one datagram per line */
	int			 slowlog_fd;	/* one datagram per entry */
	struct scoreboard	*sb;
	pid_t			 master;
};

void		 proto_main(const struct proto_args *pa)
		    __attribute__((noreturn));
int		 proto_test(const struct fpmd_conf *conf,
		    const struct pool_conf *pc, char *err, size_t errlen);

/*
 * The worker side, one way down: worker.c (accept loop, signals, timeouts)
 * -> sapi.c (PHP) -> conn.c (one FastCGI connection) -> fcgi.c (codec).
 */

/* conn.c: one FastCGI connection: read a request, write its response. */

#define REQ_IN_CAP	(FCGI_HEADER_LEN + FCGI_MAX_CONTENT + 255)
#define REQ_OUT_CAP	(FCGI_MAX_CONTENT & ~7)
#define REQ_HDR_CAP	16384	/* response headers kept for %o */
/*
 * What of the input and output buffers stays resident for good; the rest
 * is given back after REQ_TRIM_AFTER requests in a row did not need it.
 */
#define REQ_TRIM_KEEP	4096
#define REQ_TRIM_AFTER	16

struct fpmd_req {
	int			 fd;
	uint16_t		 id;
	uint16_t		 role;
	bool			 keep_conn;
	bool			 in_request;	/* begun, not yet ended */
	bool			 stdin_eof;	/* empty STDIN record seen */
	bool			 ended;		/* END_REQUEST written: output
						   from now on is dropped */
	bool			 broken;	/* peer gone, protocol error */
	bool			 aborted;	/* ABORT_REQUEST received */
	bool			 timed_out;	/* request_read_timeout */
	bool			 quitting;	/* left on a graceful stop */
	struct fcgi_params	 params;
	struct timespec		 start;		/* REALTIME, BEGIN_REQUEST */
	uint64_t		 body_read;

	/* waiting for a request: since when, and until when (monotonic ms) */
	unsigned		 nreq;		/* requests it carried */
	int64_t			 wait_start;
	struct timespec		 wait_ts;	/* REALTIME, for the slot */
	int64_t			 head_deadline;	/* 0: none */

	/* input: a whole record always fits */
	uint8_t			*in;
	size_t			 in_off;
	size_t			 in_len;
	const uint8_t		*stdin_ptr;	/* unread part of STDIN */
	size_t			 stdin_left;

	/* output: STDOUT content waiting for its header */
	uint8_t			*out;
	size_t			 out_len;

	struct sb_slot		*slot;
	const struct pool_conf	*pc;
	uint64_t		 cpu_us;	/* CPU used when the request began */
	const volatile sig_atomic_t *quit;	/* set: a graceful stop */
	const sigset_t		*wait_mask;	/* lets SIGQUIT in */

	/* where the pool's figures are read (status page, fpm_get_status) */
	const struct scoreboard	*sb;
	int			 pool_index;
	int			 listen_fd;

	const char		*script;	/* set by the SAPI */
	uint64_t		 peak_memory;	/* set by the SAPI */
	int			 status;	/* HTTP status, by the SAPI */

	/* for the access log (accesslog.c): valid until the next request */
	struct sockaddr_storage	 peer;		/* the web server, from accept */
	const char		*req_uri;	/* PHP's request URI (SAPI) */
	const char		*req_path;	/* the script PHP was given, or
						   NULL (SAPI) */
	bool			 sapi_ran;	/* PHP had it, not statuspage.c */
	bool			 log_cpu;	/* take user and system CPU */
	uint64_t		 cpu_user0;	/* at the start, µs, with the */
	uint64_t		 cpu_sys0;	/* reaped children's */
	uint64_t		 cpu_user1;	/* at the end, the same */
	uint64_t		 cpu_sys1;
	char			*hdr;		/* the response's headers as
						   sent; NULL: not kept */
	size_t			 hdr_len;
	bool			 hdr_done;	/* the blank line came, or the
						   cap */
	/* buffer pages past REQ_TRIM_KEEP: resident, needed lately */
	bool			 buf_resident;
	bool			 buf_big;	/* this request wrote there */
	unsigned		 buf_small_run;	/* requests since one did */
	size_t			 peeked;	/* the last bytes of in, still
						   queued in the socket */
};

int		 conn_init(struct fpmd_req *r, const struct pool_conf *pc,
		    struct sb_slot *slot, const volatile sig_atomic_t *quit,
		    const sigset_t *wait_mask);
void		 conn_open(struct fpmd_req *r, int fd);
int		 conn_read_head(struct fpmd_req *r);
void		 conn_end_request(struct fpmd_req *r);
int		 conn_keep(struct fpmd_req *r);
void		 conn_close(struct fpmd_req *r);
ssize_t		 conn_read_body(struct fpmd_req *r, char *buf, size_t len);
int		 conn_write(struct fpmd_req *r, const char *buf, size_t len);
int		 conn_flush(struct fpmd_req *r);
int		 conn_stderr(struct fpmd_req *r, const char *buf, size_t len);
void		 conn_finish(struct fpmd_req *r);
void		 conn_release(struct fpmd_req *r);
void		 conn_set_state(struct fpmd_req *r, enum slot_state st);

/*
 * statuspage.c: pm.status_path and ping.path, answered without PHP by the
 * worker (statuspage_serve: false when the request is not for them), or by
 * the master on pm.status_listen (statuslisten.c).
 */
struct sp_ask {
	const struct pool_conf	*pc;
	const struct scoreboard	*sb;
	int			 pool_index;
	int			 listen_fd;	/* the pool's, for its queue */
	const char		*query;		/* QUERY_STRING, or NULL */
	bool			 head;
	const char		*charset;	/* default_charset */
	const char		*mimetype;	/* default_mimetype */
	const char		*argsep;	/* arg_separator.input */
	bool			 expose_php;
};

bool		 statuspage_match(const struct pool_conf *pc,
		    const struct fcgi_params *fp, bool *ping);
char		*statuspage_render(const struct sp_ask *a, bool ping,
		    size_t *len);
bool		 statuspage_serve(struct fpmd_req *r);

/*
 * accessfmt.c: access.format parsed into items, for the configuration
 * check and for the workers.  No I/O.
 */
#define ACC_FMT_MAX	4096	/* bytes of access.format */

enum acc_mod {
	ACC_MOD_NONE = 0,
	ACC_CPU_TOTAL, ACC_CPU_USER, ACC_CPU_SYSTEM,	/* %C */
	ACC_SEC, ACC_MSEC, ACC_USEC,			/* %d */
	ACC_BYTES, ACC_KB, ACC_MB			/* %M */
};

struct acc_item {
	char		 code;		/* 0: literal text */
	uint8_t		 mod;		/* enum acc_mod */
	char		*arg;		/* the text, or {...}; NULL: none */
	size_t		 len;		/* of arg */
};

struct acc_fmt {
	struct acc_item	*items;
	size_t		 n;
	bool		 json;		/* "json": items are only %e and %o */
	bool		 cpu;		/* needs the request's CPU times */
	bool		 headers;	/* needs the response's headers */
};

int		 accfmt_parse(const char *text, struct acc_fmt *f, char *err,
		    size_t errlen);
void		 accfmt_free(struct acc_fmt *f);

/*
 * accesslog.c: the worker's line for each request, made once the answer
 * is out and sent whole to the master (relay.c), which writes it.
 */
void		 accesslog_init(const struct proto_args *pa,
		    struct fpmd_req *r, const char *(*env)(
		    const struct fpmd_req *, const char *, size_t));
void		 accesslog_write(struct fpmd_req *r);

/* apparmor.c: apparmor_hat, checked by the master, entered by a worker. */
int		 apparmor_label(char *text);
int		 apparmor_check(const char *hat, char *change,
		    size_t changelen, char *err, size_t errlen);
int		 apparmor_enter(const char *change);

/* worker.c: the accept loop, signals and timeouts. */
void		 worker_main(const struct proto_args *pa, int slot)
		    __attribute__((noreturn));

/*
 * slowlog.c: request_slowlog_timeout, by a watchdog thread in each worker
 * (it reads PHP's globals: built with PHP's headers, beside sapi.c).
 */
void		 slowlog_start(const struct proto_args *pa, int slot);
void		 slowlog_arm(const struct timespec *start);
void		 slowlog_disarm(void);

/* sapi.c: the only file with PHP's headers. */
int		 sapi_proto_startup(const struct fpmd_conf *conf,
		    const struct pool_conf *pc, char *err, size_t errlen);
void		 sapi_worker_init(void);
void		 sapi_handle(struct fpmd_req *r);
const char	*sapi_php_version(void);
const char	*sapi_ini_string(const char *name);
bool		 sapi_expose_php(void);
const char	*sapi_request_env(const struct fpmd_req *r, const char *name,
		    size_t nlen);

/*
 * userini.c: php.ini's [HOST=]/[PATH=] sections and .user.ini files for
 * the request starting (sapi.c's helper, with PHP's headers).
 */
void		 userini_activate(const char *script, const char *docroot,
		    const char *server_name);

#endif /* FPMD_H */
