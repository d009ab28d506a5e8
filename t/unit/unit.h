/*
 * A very small unit test harness: CHECK() records a failure with file:line
 * and goes on; unit_done() prints the closing line and returns the exit
 * status for main().
 */
#ifndef FPMD_UNIT_H
#define FPMD_UNIT_H

#include <stdio.h>
#include <string.h>

/*
 * One pair of counters per program: the file with main() defines
 * UNIT_MAIN before it includes this, a program's other files do not.
 */
#ifdef UNIT_MAIN
int unit_passed, unit_failed;
#else
extern int unit_passed, unit_failed;
#endif

#define CHECK(cond) do {						\
	if (cond) {							\
		unit_passed++;						\
	} else {							\
		unit_failed++;						\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
	}								\
} while (0)

#define CHECK_STR(a, b) do {						\
	const char *ua_ = (a), *ub_ = (b);				\
	if (ua_ != NULL && ub_ != NULL && strcmp(ua_, ub_) == 0) {	\
		unit_passed++;						\
	} else {							\
		unit_failed++;						\
		fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n",		\
		    __FILE__, __LINE__, ua_ ? ua_ : "(null)",		\
		    ub_ ? ub_ : "(null)");				\
	}								\
} while (0)

static inline int
unit_done(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, unit_passed, unit_failed);
	return unit_failed == 0 ? 0 : 1;
}

#endif /* FPMD_UNIT_H */
