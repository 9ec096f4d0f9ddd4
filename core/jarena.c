/* SPDX-License-Identifier: MIT */
#include "core/jarena.h"

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/*
 * The range is reserved, not committed (MAP_NORESERVE): pages are touched as
 * blocks are first used, and a released block is reused, so what stays
 * resident is the most that was ever current at once.
 */
#define RANGE ((size_t)1 << 30)
#define BLOCK ((size_t)512 << 10)
#define ALIGN ((size_t)16)
/* The block's head: the link to the next block of an arena or the pool. */
#define HEAD ALIGN
/* Larger requests come from malloc: a block holds at least eight. */
#define BIG ((BLOCK - HEAD) / 8)

static char *range;
static size_t carved; /* blocks handed out from the range so far, in bytes */
static void *pool;    /* released blocks, most recent first */
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static _Thread_local struct jarena *current;

static void *block_get(void)
{
	void *b = NULL;
	pthread_mutex_lock(&pool_mu);
	if (pool) {
		b = pool;
		UNPOISON(b, HEAD);
		pool = *(void **)b;
	} else if (carved + BLOCK <= RANGE) {
		b = range + carved;
		carved += BLOCK;
	}
	pthread_mutex_unlock(&pool_mu);
	return b;
}

static bool refill(struct jarena *a)
{
	char *b = block_get();
	if (!b)
		return false;
	POISON(b + HEAD, BLOCK - HEAD);
	*(void **)b = a->blocks;
	a->blocks = b;
	a->nblocks++;
	a->cur = b + HEAD;
	a->end = b + BLOCK;
	return true;
}

static void *ja_malloc(size_t n)
{
	struct jarena *a = current;
	if (!a || n > BIG)
		return malloc(n);
	n = n ? (n + ALIGN - 1) & ~(ALIGN - 1) : ALIGN;
	if ((size_t)(a->end - a->cur) < n && !refill(a))
		return malloc(n);
	void *p = a->cur;
	a->cur += n;
	UNPOISON(p, n);
	return p;
}

static void ja_free(void *p)
{
	if ((uintptr_t)p - (uintptr_t)range < RANGE)
		return; /* freed with its arena */
	free(p);
}

static void setup(void)
{
	void *r = mmap(NULL, RANGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED)
		return;
	range = r;
	json_set_alloc_funcs(ja_malloc, ja_free);
}

bool jarena_setup(void)
{
	pthread_once(&once, setup);
	return range != NULL;
}

void jarena_enter(struct jarena *a)
{
	current = range ? a : NULL;
}

void jarena_leave(void)
{
	current = NULL;
}

void jarena_release(struct jarena *a)
{
	void *b = a->blocks;
	while (b) {
		void *next = *(void **)b;
		POISON((char *)b + HEAD, BLOCK - HEAD);
		pthread_mutex_lock(&pool_mu);
		*(void **)b = pool;
		pool = b;
		POISON(b, HEAD);
		pthread_mutex_unlock(&pool_mu);
		b = next;
	}
	*a = (struct jarena){0};
}
