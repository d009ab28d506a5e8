/*
 * The scoreboard: one shared anonymous mapping made by the master before it
 * forks anything, so every prototype and worker inherits it at the same
 * address.  It is sized once for the most workers fpmd may ever run, so
 * neither scaling nor a reload has to move it.  A worker writes only its own
 * slot; a reader copies a slot and retries while the sequence number says a
 * write was in progress.  The master alone frees a slot.
 */
#include <sys/mman.h>

#include <string.h>

#include "fpmd.h"

struct scoreboard *
sb_create(uint32_t npools, uint32_t nslots)
{
	struct scoreboard *sb;
	size_t size;
	void *p;

	size = sizeof(*sb) + npools * sizeof(struct sb_pool) +
	    (size_t)nslots * sizeof(struct sb_slot);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED) {
		log_error("%s: mmap of %zu bytes", __func__, size);
		return NULL;
	}
	sb = p;
	sb->npools = npools;
	sb->nslots = nslots;
	sb->pools = (struct sb_pool *)(sb + 1);
	sb->slots = (struct sb_slot *)(sb->pools + npools);
	log_debug("scoreboard: %zu bytes for %u pools and %u slots", size,
	    npools, nslots);
	return sb;
}

void
sb_slot_begin(struct sb_slot *s)
{
	s->seq++;
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

void
sb_slot_commit(struct sb_slot *s)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
	s->seq++;
}

void
sb_slot_read(const struct sb_slot *s, struct sb_slot *copy)
{
	uint32_t seq;
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		if (seq & 1)
			continue;
		memcpy(copy, (const void *)s, sizeof(*copy));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) == seq)
			return;
	}
	/* A writer died mid-update: the copy may be torn, but is bounded. */
	memcpy(copy, (const void *)s, sizeof(*copy));
}

void
sb_slot_clear(struct sb_slot *s)
{
	uint32_t seq = s->seq;

	memset((void *)s, 0, sizeof(*s));
	s->seq = seq + 2 - (seq & 1);
}
