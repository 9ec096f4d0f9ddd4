/* SPDX-License-Identifier: MIT */
/* Growing arrays: one helper for every module that appends to its own. */
#ifndef SEGPLAN_GROW_H
#define SEGPLAN_GROW_H

#include <stddef.h>

/*
 * Makes the array at *(void **)arrp (of *cap elements of size sz) hold at
 * least n, doubling from 16, the new elements zero-filled. 0, or -ENOMEM
 * with the array unchanged.
 */
int grow_array(void *arrp, size_t *cap, size_t n, size_t sz);

#endif
