/*
 * The scoreboard: one shared anonymous mapping made by the master before it
 * forks anything, so every prototype and worker inherits it at the same
 * address.  It is sized once for the most workers fpmd may ever run, so
 * neither scaling nor a reload has to move it.  A worker writes only its own
 * slot; a reader copies a slot and retries while the sequence number says a
 * write was in progress.
 *
 * Which slot belongs to which generation, and which are free, the master
 * keeps in its own memory (struct mslot): the shared pages are writable by
 * every worker, so nothing the master relies on lives there.  The master
 * alone allocates and frees slots.
 */
#include <sys/mman.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fpmd.h"

struct scoreboard *
sb_create(uint32_t npools, uint32_t nslots)
{
	struct scoreboard *sb;
	size_t size;
	uint32_t i;
	void *p;

	size = npools * sizeof(struct sb_pool) +
	    (size_t)nslots * sizeof(struct sb_slot);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED) {
		log_error("%s: mmap of %zu bytes", __func__, size);
		return NULL;
	}
	if ((sb = calloc(1, sizeof(*sb))) == NULL ||
	    (sb->ms = calloc(nslots, sizeof(*sb->ms))) == NULL ||
	    (sb->pool_used = calloc(npools, sizeof(*sb->pool_used))) == NULL) {
		log_error("%s: calloc", __func__);
		if (sb != NULL)
			free(sb->ms);
		free(sb);
		munmap(p, size);
		return NULL;
	}
	sb->npools = npools;
	sb->nslots = nslots;
	sb->master = true;
	sb->pools = p;
	sb->slots = (struct sb_slot *)(sb->pools + npools);
	/* Lowest slots first, so a small pool's slots stay together. */
	for (i = 0; i < nslots; i++)
		sb->ms[i].next_free = i + 1 < nslots ? (int32_t)i + 1 : -1;
	sb->free_head = nslots > 0 ? 0 : -1;
	sb->nfree = nslots;
	log_debug("scoreboard: %zu bytes for %u pools and %u slots", size,
	    npools, nslots);
	return sb;
}

int
sb_pool_alloc(struct scoreboard *sb, const char *name)
{
	struct sb_pool *sp;
	uint32_t i;

	/* Which entries are taken is the master's to know, not the pages'. */
	for (i = 0; i < sb->npools; i++)
		if (!sb->pool_used[i])
			break;
	if (i == sb->npools)
		return -1;
	sb->pool_used[i] = true;
	sp = &sb->pools[i];
	memset(sp, 0, sizeof(*sp));
	sp->used = 1;
	snprintf(sp->name, sizeof(sp->name), "%s", name);
	sp->start = time(NULL);
	return (int)i;
}

void
sb_pool_free(struct scoreboard *sb, int index)
{
	if (index >= 0 && (uint32_t)index < sb->npools) {
		sb->pool_used[index] = false;
		sb->pools[index].used = 0;
	}
}

/* A free slot for a worker of g, marked Starting; -1 when none is left. */
int
sb_slot_alloc(struct scoreboard *sb, struct gen *g, int pool, int gen)
{
	struct mslot *ms;
	struct sb_slot *s;
	int32_t i;

	if ((i = sb->free_head) == -1)
		return -1;
	ms = &sb->ms[i];
	sb->free_head = ms->next_free;
	sb->nfree--;
	ms->gen = g;
	ms->pid = 0;
	ms->quitting = false;
	ms->started = now_ms();
	ms->next_free = -1;
	s = &sb->slots[i];
	sb_slot_clear(s);
	sb_slot_begin(s);
	s->pool = pool;
	s->gen = gen;
	s->state = SLOT_STARTING;
	sb_slot_commit(s);
	return (int)i;
}

/* The master alone frees a slot, once its worker is known to be gone. */
void
sb_slot_free(struct scoreboard *sb, int slot)
{
	struct mslot *ms;

	if (slot < 0 || (uint32_t)slot >= sb->nslots)
		return;
	ms = &sb->ms[slot];
	if (ms->gen == NULL)
		return;
	ms->gen = NULL;
	ms->pid = 0;
	ms->quitting = false;
	ms->next_free = sb->free_head;
	sb->free_head = slot;
	sb->nfree++;
	sb_slot_clear(&sb->slots[slot]);
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

/*
 * Microseconds from then to now (CLOCK_REALTIME, as workers write them);
 * 0 when then is no time before now: the clock stepped back, or a worker
 * scribbled over its slot, whose figures must not make the master compute
 * past the range of its integers.
 */
uint64_t
sb_elapsed_us(const struct timespec *then, const struct timespec *now)
{
	int64_t us;

	if (then->tv_sec < 0 || then->tv_sec > now->tv_sec ||
	    then->tv_nsec < 0 || then->tv_nsec >= 1000000000L)
		return 0;
	us = (int64_t)(now->tv_sec - then->tv_sec) * 1000000 +
	    (now->tv_nsec - then->tv_nsec) / 1000;
	return us > 0 ? (uint64_t)us : 0;
}
