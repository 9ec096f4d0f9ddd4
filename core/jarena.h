/* SPDX-License-Identifier: MIT */
/*
 * Arenas for the trees jansson builds. Parsing a large JSON document costs as
 * much in malloc and free as in lexing: one block per value, per object key,
 * per bucket array. While an arena is current on a thread, what jansson
 * allocates there comes from large blocks instead, and jarena_release gives
 * them back all at once.
 *
 * jarena_setup installs jansson's allocation functions for the whole process
 * (json_set_alloc_funcs), once. Outside a current arena they are malloc and
 * free, so values made before, after or on other threads are untouched.
 * Arena blocks lie in one reserved address range, and freeing a pointer into
 * it does nothing: json_decref of an arena tree is safe, and still needed, as
 * a value too large for a block comes from malloc.
 *
 * Rules: a tree built in an arena is used until its jarena_release, never
 * after; keep an arena current only around calls that build a tree to be
 * freed that way (json_loadb), never around one that returns memory for the
 * caller to free() (json_dumps). Under AddressSanitizer the unused and the
 * released parts of blocks are poisoned, so a use after release is reported.
 */
#ifndef SEGPLAN_JARENA_H
#define SEGPLAN_JARENA_H

#include <stdbool.h>
#include <stddef.h>

struct jarena {
	void *blocks; /* its blocks, newest first */
	char *cur, *end;
	size_t nblocks;
};

/* Installs the allocation functions; call before the threads that use
 * arenas start. false: no arenas here (the address range could not be
 * reserved); jarena_enter is then a no-op and jansson allocates as before. */
bool jarena_setup(void);
/* a (zeroed, or released) becomes current on this thread. */
void jarena_enter(struct jarena *a);
void jarena_leave(void);
/* Its blocks go back to the pool for the next arena; a is empty again. */
void jarena_release(struct jarena *a);

#endif
