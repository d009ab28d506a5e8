/*
 * Human output of fpmctl: successful replies turned into lines that fit 80
 * columns.  Replies come from a peer, so no field is trusted to be there or
 * to have the expected type: a missing one prints as "-".  Strings that a
 * web client chose (URIs, methods) are sanitized before they reach the
 * terminal, so a request cannot send escape sequences to an admin's screen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fpmctl.h"

#define SHOW_LABEL	22	/* "max children reached: " */
#define SHOW_NCOLS	9
#define SHOW_URI_MIN	12
#define SHOW_CELL	32	/* a table cell but the URI */
#define SHOW_KEY_MAX	40	/* config keys wider than this are not padded */

const char *
show_str(json_t *obj, const char *key)
{
	json_t	*v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

bool
show_int(json_t *obj, const char *key, long long *v)
{
	json_t	*j = json_object_get(obj, key);

	if (json_is_integer(j)) {
		*v = json_integer_value(j);
		return true;
	}
	if (json_is_real(j)) {
		*v = (long long)json_real_value(j);
		return true;
	}
	return false;
}

static bool
show_num(json_t *obj, const char *key, double *v)
{
	json_t	*j = json_object_get(obj, key);

	if (!json_is_number(j))
		return false;
	*v = json_number_value(j);
	return true;
}

void
show_sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

/* "3d 4h", "2h 5m", "5m 3s": the two largest units of a span. */
void
show_span(long long secs, char *buf, size_t len)
{
	if (secs >= 86400)
		snprintf(buf, len, "%lldd %lldh", secs / 86400,
		    secs % 86400 / 3600);
	else if (secs >= 3600)
		snprintf(buf, len, "%lldh %lldm", secs / 3600, secs % 3600 / 60);
	else
		snprintf(buf, len, "%lldm %llds", secs / 60, secs % 60);
}

void
show_ping(json_t *reply)
{
	const char	*version, *php;
	long long	 pid, up;
	char		 span[32];

	version = show_str(reply, "version");
	php = show_str(reply, "php");
	printf("fpmd %s (PHP %s)", version != NULL ? version : "?",
	    php != NULL ? php : "?");
	if (show_int(reply, "pid", &pid))
		printf(", pid %lld", pid);
	if (show_int(reply, "uptime", &up)) {
		printf(", up %lld s", up);
		if (up >= 60) {
			show_span(up, span, sizeof(span));
			printf(" (%s)", span);
		}
	}
	printf("\n");
}

static void
show_kv(const char *label, const char *value)
{
	char	*v;

	if ((v = strdup(value != NULL ? value : "-")) == NULL)
		return;
	show_sanitize(v);
	printf("%-*s%s\n", SHOW_LABEL, label, v);
	free(v);
}

static void
show_kv_int(const char *label, json_t *obj, const char *key)
{
	long long	 v;
	char		 buf[32];

	if (!show_int(obj, key, &v)) {
		show_kv(label, NULL);
		return;
	}
	snprintf(buf, sizeof(buf), "%lld", v);
	show_kv(label, buf);
}

/* php-fpm's status page date, local time: 26/Nov/2026:22:10:00 +0100 */
static void
show_kv_time(const char *label, json_t *obj, const char *key)
{
	long long	 v;
	time_t		 t;
	struct tm	 tm;
	char		 buf[64];

	if (!show_int(obj, key, &v)) {
		show_kv(label, NULL);
		return;
	}
	t = (time_t)v;
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%d/%b/%Y:%H:%M:%S %z", &tm) == 0)
		snprintf(buf, sizeof(buf), "%lld", v);
	show_kv(label, buf);
}

static void
show_kv_since(const char *label, json_t *obj, const char *key)
{
	long long	 v;
	char		 buf[64], span[32];

	if (!show_int(obj, key, &v)) {
		show_kv(label, NULL);
		return;
	}
	if (v >= 60) {
		show_span(v, span, sizeof(span));
		snprintf(buf, sizeof(buf), "%lld (%s)", v, span);
	} else
		snprintf(buf, sizeof(buf), "%lld", v);
	show_kv(label, buf);
}

/* Microseconds as 850us, 12.3ms, 1.25s, 1m01s, 2h05m. */
void
show_duration(long long us, char *buf, size_t len)
{
	if (us < 0)
		snprintf(buf, len, "-");
	else if (us < 1000)
		snprintf(buf, len, "%lldus", us);
	else if (us < 1000000)
		snprintf(buf, len, "%.1fms", us / 1e3);
	else if (us < 60000000)
		snprintf(buf, len, "%.2fs", us / 1e6);
	else if (us < 3600000000LL)
		snprintf(buf, len, "%lldm%02llds", us / 60000000,
		    us / 1000000 % 60);
	else
		snprintf(buf, len, "%lldh%02lldm", us / 3600000000LL,
		    us / 60000000 % 60);
}

/* Bytes in powers of 1024: 512B, 12K, 1.5M, 2.0G. */
void
show_bytes(long long b, char *buf, size_t len)
{
	if (b < 0)
		snprintf(buf, len, "-");
	else if (b < 1024)
		snprintf(buf, len, "%lldB", b);
	else if (b < 1024 * 1024)
		snprintf(buf, len, "%.0fK", b / 1024.0);
	else if (b < 1024LL * 1024 * 1024)
		snprintf(buf, len, "%.1fM", b / (1024.0 * 1024));
	else
		snprintf(buf, len, "%.1fG", b / (1024.0 * 1024 * 1024));
}

static const char *
show_state(const char *s)
{
	return s != NULL ? s : "-";
}

static const struct {
	const char	*head;
	bool		 right;
	int		 max;		/* widest a cell may be */
} show_cols[SHOW_NCOLS] = {
	{ "PID", true, 10 },
	{ "GEN", true, 6 },
	{ "STATE", false, 15 },
	{ "REQS", true, 10 },
	{ "DURATION", true, 9 },
	{ "CPU", true, 7 },
	{ "MEM", true, 7 },
	{ "METHOD", false, 7 },
	{ "URI", false, 0 }		/* the rest of the line */
};

static void
show_cell(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src != NULL && *src != '\0' ? src : "-");
	show_sanitize(dst);
}

static void
show_row(json_t *p, char cell[SHOW_NCOLS][SHOW_CELL],
    char **uri)
{
	long long	 v;
	double		 d;
	const char	*s;
	size_t		 i;

	for (i = 0; i < SHOW_NCOLS - 1; i++)
		strcpy(cell[i], "-");
	if (show_int(p, "pid", &v))
		snprintf(cell[0], SHOW_CELL, "%lld", v);
	if (show_int(p, "generation", &v))
		snprintf(cell[1], SHOW_CELL, "%lld", v);
	show_cell(cell[2], SHOW_CELL, show_state(show_str(p, "state")));
	if (show_int(p, "requests", &v))
		snprintf(cell[3], SHOW_CELL, "%lld", v);
	if (show_int(p, "request_duration", &v))
		show_duration(v, cell[4], SHOW_CELL);
	if (show_num(p, "last_request_cpu", &d))
		snprintf(cell[5], SHOW_CELL, "%.1f%%", d);
	if (show_int(p, "last_request_memory", &v))
		show_bytes(v, cell[6], SHOW_CELL);
	show_cell(cell[7], SHOW_CELL, show_str(p, "request_method"));
	for (i = 0; i < SHOW_NCOLS - 1; i++)
		if (show_cols[i].max > 0 &&
		    strlen(cell[i]) > (size_t)show_cols[i].max)
			cell[i][show_cols[i].max] = '\0';
	s = show_str(p, "request_uri");
	*uri = strdup(s != NULL && *s != '\0' ? s : "-");
	if (*uri != NULL)
		show_sanitize(*uri);
}

static void
show_procs(json_t *procs)
{
	char		(*cells)[SHOW_NCOLS][SHOW_CELL];
	char		**uris;
	int		 w[SHOW_NCOLS], used, uw;
	size_t		 n, i, j;
	const char	*s;

	n = json_array_size(procs);
	cells = calloc(n + 1, sizeof(*cells));
	uris = calloc(n + 1, sizeof(*uris));
	if (cells == NULL || uris == NULL)
		goto done;
	for (j = 0; j < SHOW_NCOLS; j++)
		w[j] = (int)strlen(show_cols[j].head);
	for (i = 0; i < n; i++) {
		show_row(json_array_get(procs, i), cells[i], &uris[i]);
		for (j = 0; j < SHOW_NCOLS - 1; j++)
			if ((int)strlen(cells[i][j]) > w[j])
				w[j] = (int)strlen(cells[i][j]);
	}
	used = 0;
	for (j = 0; j < SHOW_NCOLS - 1; j++)
		used += w[j] + 1;
	uw = FPMCTL_WIDTH - used;
	if (uw < SHOW_URI_MIN)
		uw = SHOW_URI_MIN;

	for (j = 0; j < SHOW_NCOLS - 1; j++)
		printf(show_cols[j].right ? "%*s " : "%-*s ", w[j],
		    show_cols[j].head);
	printf("%s\n", show_cols[SHOW_NCOLS - 1].head);
	for (i = 0; i < n; i++) {
		for (j = 0; j < SHOW_NCOLS - 1; j++)
			printf(show_cols[j].right ? "%*s " : "%-*s ", w[j],
			    cells[i][j]);
		s = uris[i] != NULL ? uris[i] : "-";
		if ((int)strlen(s) > uw)
			printf("%.*s...\n", uw - 3, s);
		else
			printf("%s\n", s);
	}
done:
	for (i = 0; uris != NULL && i < n; i++)
		free(uris[i]);
	free(uris);
	free(cells);
}

static void
show_pool(json_t *p, bool full)
{
	json_t	*procs;

	show_kv("pool:", show_str(p, "pool"));
	show_kv("process manager:", show_str(p, "process_manager"));
	show_kv_int("generation:", p, "generation");
	show_kv("listen:", show_str(p, "listen"));
	show_kv_time("start time:", p, "start_time");
	show_kv_since("start since:", p, "start_since");
	show_kv_int("accepted conn:", p, "accepted_conn");
	show_kv_int("listen queue:", p, "listen_queue");
	show_kv_int("max listen queue:", p, "max_listen_queue");
	show_kv_int("listen queue len:", p, "listen_queue_len");
	show_kv_int("idle processes:", p, "idle_processes");
	show_kv_int("active processes:", p, "active_processes");
	show_kv_int("total processes:", p, "total_processes");
	show_kv_int("max active processes:", p, "max_active_processes");
	show_kv_int("max children reached:", p, "max_children_reached");
	show_kv_int("slow requests:", p, "slow_requests");
	show_kv_int("max children:", p, "max_children");
	if (json_object_get(p, "memory_recycled") != NULL)
		show_kv_int("memory recycled:", p, "memory_recycled");
	procs = json_object_get(p, "processes");
	if (full && json_is_array(procs)) {
		printf("\n");
		show_procs(procs);
	}
}

void
show_status(json_t *reply, bool full)
{
	json_t		*pools, *p;
	const char	*state;
	char		*st;
	long long	 v;
	size_t		 i, n;

	pools = json_object_get(reply, "pools");
	n = json_array_size(pools);
	printf("fpmd");
	if (show_int(reply, "pid", &v))
		printf(" pid %lld", v);
	if (show_int(reply, "generation", &v))
		printf(", generation %lld", v);
	printf(", %zu pool%s", n, n == 1 ? "" : "s");
	if ((state = show_str(reply, "state")) != NULL &&
	    strcmp(state, "running") != 0 && (st = strdup(state)) != NULL) {
		show_sanitize(st);
		printf(", %s", st);
		free(st);
	}
	printf("\n");
	json_array_foreach(pools, i, p) {
		printf("\n");
		if (json_is_object(p))
			show_pool(p, full);
	}
}

void
show_reload(json_t *reply)
{
	long long	 gen, ms;
	json_t		*pending = json_object_get(reply, "pending");

	if (json_is_true(pending)) {
		if (show_int(reply, "generation", &gen))
			printf("reload started: generation %lld\n", gen);
		else
			printf("reload started; 'fpmctl status' shows the "
			    "generation\n");
		return;
	}
	if (!show_int(reply, "generation", &gen)) {
		printf("reloaded\n");
		return;
	}
	if (show_int(reply, "duration_ms", &ms))
		printf("reloaded: generation %lld in %lld ms\n", gen, ms);
	else
		printf("reloaded: generation %lld\n", gen);
}

void
show_stop(json_t *reply)
{
	const char	*how = show_str(reply, "stopping");
	char		*h;

	if (how == NULL || (h = strdup(how)) == NULL) {
		printf("fpmd is stopping\n");
		return;
	}
	show_sanitize(h);
	printf("fpmd is stopping (%s)\n", h);
	free(h);
}

void
show_scale(json_t *reply)
{
	const char	*pool = show_str(reply, "pool");
	long long	 now, prev;
	char		*p;

	if ((p = strdup(pool != NULL ? pool : "?")) == NULL)
		return;
	show_sanitize(p);
	printf("pool %s: max_children ", p);
	if (show_int(reply, "previous", &prev))
		printf("%lld -> ", prev);
	if (show_int(reply, "max_children", &now))
		printf("%lld\n", now);
	else
		printf("?\n");
	free(p);
}

/*
 * The effective config, one "key = value" line per setting, with nested
 * objects flattened into dotted keys and array items keyed by their "name"
 * (or "pool") member when they have one, else by their index:
 *   pools.www.pm.max_children = 4
 * so that grep finds any setting.  Strings with spaces, quotes or nothing
 * in them are printed in JSON quotes.
 */
struct show_flat {
	char		**keys;
	char		**vals;
	size_t		 n, cap;
};

static int
show_flat_add(struct show_flat *f, const char *key, json_t *v)
{
	char		**k, **x, *val;
	const char	*s, *m;
	size_t		 cap;

	if (f->n == f->cap) {
		cap = f->cap ? f->cap * 2 : 64;
		if ((k = realloc(f->keys, cap * sizeof(*k))) == NULL)
			return -1;
		f->keys = k;
		if ((x = realloc(f->vals, cap * sizeof(*x))) == NULL)
			return -1;
		f->vals = x;
		f->cap = cap;
	}
	s = json_is_string(v) ? json_string_value(v) : NULL;
	m = strrchr(key, '.');
	m = m != NULL ? m + 1 : key;
	if (s != NULL && *s != '\0' && strcspn(s, " \t\"\\#") == strlen(s))
		val = strdup(s);
	else if (json_is_integer(v) && strcmp(m, "mode") == 0 &&
	    json_integer_value(v) >= 0 && json_integer_value(v) <= 07777) {
		/* a file mode reads best the way it is written: 0660 */
		if (asprintf(&val, "%04llo",
		    (unsigned long long)json_integer_value(v)) == -1)
			val = NULL;
	} else
		val = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	if (val == NULL)
		return -1;
	if ((f->keys[f->n] = strdup(key)) == NULL) {
		free(val);
		return -1;
	}
	show_sanitize(f->keys[f->n]);
	show_sanitize(val);
	f->vals[f->n++] = val;
	return 0;
}

static int
show_flatten(struct show_flat *f, const char *prefix, json_t *v)
{
	const char	*k, *name;
	json_t		*item;
	size_t		 i;
	char		*key;
	int		 rc = 0;

	if (json_is_object(v) && json_object_size(v) > 0) {
		json_object_foreach(v, k, item) {
			if (asprintf(&key, "%s%s%s", prefix,
			    *prefix != '\0' ? "." : "", k) == -1)
				return -1;
			rc = show_flatten(f, key, item);
			free(key);
			if (rc == -1)
				return -1;
		}
		return 0;
	}
	if (json_is_array(v) && json_array_size(v) > 0 &&
	    json_is_object(json_array_get(v, 0))) {
		json_array_foreach(v, i, item) {
			if ((name = show_str(item, "name")) == NULL)
				name = show_str(item, "pool");
			if (name != NULL)
				rc = asprintf(&key, "%s.%s", prefix, name);
			else
				rc = asprintf(&key, "%s[%zu]", prefix, i);
			if (rc == -1)
				return -1;
			rc = show_flatten(f, key, item);
			free(key);
			if (rc == -1)
				return -1;
		}
		return 0;
	}
	return show_flat_add(f, *prefix != '\0' ? prefix : "config", v);
}

void
show_config(json_t *reply)
{
	struct show_flat f;
	size_t		 i, w;

	memset(&f, 0, sizeof(f));
	if (show_flatten(&f, "", json_object_get(reply, "config")) == -1)
		fprintf(stderr, "fpmctl: config: out of memory\n");
	w = 0;
	for (i = 0; i < f.n; i++)
		if (strlen(f.keys[i]) > w && strlen(f.keys[i]) <= SHOW_KEY_MAX)
			w = strlen(f.keys[i]);
	for (i = 0; i < f.n; i++) {
		printf("%-*s = %s\n", (int)w, f.keys[i], f.vals[i]);
		free(f.keys[i]);
		free(f.vals[i]);
	}
	free(f.keys);
	free(f.vals);
}
