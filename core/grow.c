/* SPDX-License-Identifier: MIT */
#include "core/grow.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int grow_array(void *arrp, size_t *cap, size_t n, size_t sz)
{
	void **v = arrp;
	if (n <= *cap)
		return 0;
	size_t c = *cap ? *cap : 16;
	while (c < n) {
		if (c > SIZE_MAX / 2 / sz)
			return -ENOMEM;
		c *= 2;
	}
	void *p = realloc(*v, c * sz);
	if (!p)
		return -ENOMEM;
	memset((char *)p + *cap * sz, 0, (c - *cap) * sz);
	*v = p;
	*cap = c;
	return 0;
}
