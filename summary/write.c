// SPDX-License-Identifier: MIT
#include "summary/summary.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/atomic.h"
#include "core/version.h"

int summary_envelope(json_t *j, const char *host, const char *site)
{
	int bad = json_object_set_new(j, "format", json_integer(SUMMARY_FORMAT));
	bad |= json_object_set_new(j, "kind", json_string(SUMMARY_KIND));
	bad |= json_object_set_new(j, "generator", json_string("segplan-agent " SEGPLAN_VERSION));
	bad |= json_object_set_new(j, "host", json_string(host));
	bad |= json_object_set_new(j, "site", site ? json_string(site) : json_null());
	return bad;
}

const char *summary_time(uint64_t ns, char *buf, size_t size)
{
	struct tm tm;
	time_t sec = (time_t)(ns / 1000000000ull);
	if (!gmtime_r(&sec, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "1970-01-01T00:00:00Z");
	return buf;
}

int summary_write(const char *path, const json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2));
	if (!text)
		return -ENOMEM;
	size_t n = strlen(text);
	text[n] = '\n'; /* json_dumps's terminator: the file has no NUL */
	int rc = atomic_write(path, text, n + 1);
	free(text);
	return rc;
}
