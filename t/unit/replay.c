/*
 * Replays a fuzz corpus through a libFuzzer target without libFuzzer, so
 * that `make check` runs every seed and every crash found so far with the
 * ordinary compiler (and under the sanitizers when configured with them).
 * Linked with one fuzz_*.c: main() calls its LLVMFuzzerInitialize (if it
 * has one) once, then its LLVMFuzzerTestOneInput with the bytes of each
 * file, in one process and in name order, as `./fuzz_x CORPUS_DIR` replays
 * a directory.  The targets keep state from one input to the next on
 * purpose (fuzz_config checks that a load does not change the next one),
 * so no input gets a process of its own.
 *
 * A target says "bad" by crashing (abort(), or a sanitizer report); the
 * input that did it is named on stderr before the process dies, so a red
 * `make check` points at the file to run under a debugger.
 *
 * Usage: replay_x [-v] [DIR|FILE...]; without arguments, the corpus
 * directories compiled in (REPLAY_CORPUS, a colon-separated list).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef REPLAY_CORPUS
#error "REPLAY_CORPUS: the corpus directories to replay by default"
#endif

int	LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
/* There when built with ASan or UBSan, NULL otherwise. */
void	__sanitizer_set_death_callback(void (*)(void)) __attribute__((weak));
void	__asan_init(void) __attribute__((weak));

static const char	*prog;
static char		 current[PATH_MAX];	/* the input being run */
static int		 verbose;
static int		 ninputs, nerrors;

/* Names the input that crashed the target; async-signal-safe. */
static void
replay_blame(void)
{
	static const char	 pre[] = ": failed on input ";

	if (current[0] == '\0')
		return;
	(void)!write(STDERR_FILENO, prog, strlen(prog));
	(void)!write(STDERR_FILENO, pre, sizeof(pre) - 1);
	(void)!write(STDERR_FILENO, current, strlen(current));
	(void)!write(STDERR_FILENO, "\n", 1);
}

static void
replay_signal(int sig)
{
	replay_blame();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Reads all of path; NULL (and a message) if it cannot. */
static uint8_t *
replay_read(const char *path, size_t *lenp)
{
	uint8_t	*buf = NULL, *nbuf;
	size_t	 len = 0, cap = 0, n;
	FILE	*f;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((nbuf = realloc(buf, cap)) == NULL) {
				fprintf(stderr, "%s: %s: out of memory\n",
				    prog, path);
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nbuf;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: %s: read error\n", prog, path);
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*lenp = len;
	return buf;
}

static void
replay_file(const char *path)
{
	uint8_t	*data;
	size_t	 len;

	if ((data = replay_read(path, &len)) == NULL) {
		nerrors++;
		return;
	}
	snprintf(current, sizeof(current), "%s", path);
	if (verbose)
		printf("%s: %s (%zu bytes)\n", prog, path, len);
	LLVMFuzzerTestOneInput(data, len);
	current[0] = '\0';
	free(data);
	ninputs++;
}

/* A hidden file is an editor's or git's, not an input. */
static int
replay_visible(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static void
replay_path(const char *path)
{
	struct dirent	**names;
	struct stat	  st;
	char		  sub[PATH_MAX];
	int		  i, n;

	if (stat(path, &st) == -1) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		nerrors++;
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		replay_file(path);
		return;
	}
	if ((n = scandir(path, &names, replay_visible, alphasort)) == -1) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		nerrors++;
		return;
	}
	if (n == 0) {
		fprintf(stderr, "%s: %s: an empty corpus\n", prog, path);
		nerrors++;
	}
	for (i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", path, names[i]->d_name);
		if (stat(sub, &st) == 0 && S_ISREG(st.st_mode))
			replay_file(sub);
		free(names[i]);
	}
	free(names);
}

int
main(int argc, char *argv[])
{
	char	*dirs, *dir, *save;
	int	 i;

	prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		verbose = 1;
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	signal(SIGABRT, replay_signal);
	/* ASan reports a SIGSEGV itself, with the stack: leave it its own. */
	if (__asan_init == NULL) {
		signal(SIGSEGV, replay_signal);
		signal(SIGBUS, replay_signal);
		signal(SIGFPE, replay_signal);
	}
	/* A sanitizer report ends the process its own way. */
	if (__sanitizer_set_death_callback != NULL)
		__sanitizer_set_death_callback(replay_blame);
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);

	if (argc > 1) {
		for (i = 1; i < argc; i++)
			replay_path(argv[i]);
	} else {
		if ((dirs = strdup(REPLAY_CORPUS)) == NULL) {
			fprintf(stderr, "%s: out of memory\n", prog);
			return 1;
		}
		for (dir = strtok_r(dirs, ":", &save); dir != NULL;
		    dir = strtok_r(NULL, ":", &save))
			replay_path(dir);
		free(dirs);
	}
	/* The closing line that make check and CI read. */
	printf("%s: %d passed, %d failed\n", prog, ninputs, nerrors);
	return nerrors == 0 && ninputs > 0 ? 0 : 1;
}
