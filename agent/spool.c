// SPDX-License-Identifier: MIT
/* The agent's spool: one chained file per window, size and age caps (spool.h). */
#include "agent/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/atomic.h"
#include "core/grow.h"
#include "core/timefmt.h"
#include "summary/chain.h"
#include "summary/merge.h"
#include "summary/read.h"
#include "summary/summary.h"

#define SPOOL_FILE_MAX (256ull << 20) /* a spool file larger than this is not read */
#define NS	       1000000000ll

enum sf_kind { SF_BAD = -1, SF_WINDOW, SF_MERGED, SF_GAP };

/* One file of this gateway in the spool. */
struct sfile {
	char *name;
	uint64_t seq, size;
	int64_t start, end; /* seconds; a gap marker's gap; a bad file's name time */
	enum sf_kind kind;
	bool tried; /* alone in its hour and policy: never merged */
	char sha256[SUMMARY_SHA256_TEXT];
	char *policy;	 /* windows: policy hash and mode, merged only with equal ones */
	json_t *refs;	 /* merged windows: their replaces; gap markers: their dropped */
	int64_t written; /* seconds: the file's modification time */
};

struct spool {
	char *dir, *host, *site, *gw; /* gw: the chain's gateway */
	char prefix[128];	      /* the gateway in file names, and "." */
	int dirfd;
	struct spool_caps caps;
	struct spool_env env;
	struct sfile *f;
	size_t n, cap;
	uint64_t head;
	char head_sha[SUMMARY_SHA256_TEXT];
	uint64_t bytes;
	unsigned tmpno;
	bool full_logged;
};

static void slog(struct spool *sp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void slog(struct spool *sp, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	if (!sp->env.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sp->env.log(sp->env.arg, msg);
}

static int64_t now_s(struct spool *sp)
{
	if (sp->env.now_ns)
		return (int64_t)(sp->env.now_ns(sp->env.arg) / NS);
	return (int64_t)time(NULL);
}

static void sfile_free(struct sfile *f)
{
	free(f->name);
	free(f->policy);
	json_decref(f->refs);
}

/* "YYYYmmddTHHMMSSZ" of a time in seconds. */
static void name_time(int64_t s, char *buf, size_t size)
{
	struct tm tm;
	time_t t = (time_t)s;
	if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y%m%dT%H%M%SZ", &tm) == 0)
		snprintf(buf, size, "19700101T000000Z");
}

/* RFC 3339 text of a time in seconds. */
static const char *rfc_time(int64_t s, char *buf, size_t size)
{
	return summary_time(s > 0 ? (uint64_t)s * (uint64_t)NS : 0, buf, size);
}

/* A whole file (at most SPOOL_FILE_MAX bytes) relative to the spool; NULL with errno. */
static char *read_at(int dirfd, const char *name, size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	char *buf = NULL;
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_size <= SPOOL_FILE_MAX &&
	    (buf = malloc((size_t)st.st_size + 1))) {
		size_t got = 0;
		ssize_t r = 1;
		while (got < (size_t)st.st_size &&
		       (r = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
			got += (size_t)r;
		if (r < 0 || got != (size_t)st.st_size) {
			free(buf);
			buf = NULL;
			errno = EIO;
		} else {
			buf[got] = '\0';
			*len = got;
		}
	} else if (!buf) {
		errno = errno ? errno : EFBIG;
	}
	close(fd);
	return buf;
}

/* Fills in a file's kind, times and policy from its document; false when it is not a valid
 * spool file of this gateway with this seq (why in msg). */
static bool classify(struct spool *sp, struct sfile *f, const json_t *j, char *msg, size_t size)
{
	struct diag_list *dl = diag_list_new();
	struct summary_reader r = {f->name, dl, 0};
	struct summary_chain ch = {0};
	int64_t a = 0, b = 0;
	bool ok = false;
	if (!dl)
		return false;
	free(f->policy);
	f->policy = NULL;
	json_decref(f->refs);
	f->refs = NULL;
	if (summary_kind(j) == 1) {
		struct summary_gap g;
		if (summary_read_gap(&r, j, &g) == 0 && rfc3339_parse(g.start, &a) &&
		    rfc3339_parse(g.end, &b)) {
			ch = g.chain;
			f->kind = SF_GAP;
			f->refs =
			    json_deep_copy(json_object_get(json_object_get(j, "gap"), "dropped"));
			ok = true;
		}
		summary_gap_free(&g);
	} else {
		struct summary_read s;
		if (summary_read(&r, j, &s) == 0 && !s.empty && rfc3339_parse(s.start, &a) &&
		    rfc3339_parse(s.end, &b)) {
			ch = s.chain;
			f->kind = s.nreplaces ? SF_MERGED : SF_WINDOW;
			if (asprintf(&f->policy, "%s|%s", s.hash ? s.hash : "",
				     s.mode ? s.mode : "") < 0)
				f->policy = NULL;
			if (s.nreplaces)
				f->refs = json_deep_copy(
				    json_object_get(json_object_get(j, "window"), "replaces"));
			ok = true;
		}
		summary_read_free(&s);
	}
	if (ok && (!ch.present || ch.seq != f->seq || strcmp(ch.gateway, sp->gw) != 0)) {
		snprintf(msg, size, "its chain is not seq %" PRIu64 " of gateway %s", f->seq,
			 sp->gw);
		ok = false;
	} else if (!ok) {
		const struct diag *d = diag_count(dl) ? diag_get(dl, 0) : NULL;
		if (d)
			diag_format(d, msg, size);
		else
			snprintf(msg, size, "not a spool file");
	}
	if (ok) {
		f->start = a / NS;
		f->end = b / NS;
	} else {
		f->kind = SF_BAD;
	}
	diag_list_free(dl);
	return ok;
}

/* The seq and start time of a file name of this gateway; false for other names. */
static bool parse_name(const struct spool *sp, const char *name, uint64_t *seq, int64_t *start)
{
	size_t pl = strlen(sp->prefix);
	if (strncmp(name, sp->prefix, pl) != 0)
		return false;
	const char *p = name + pl;
	char *end;
	if (*p < '0' || *p > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 10);
	if (errno || end - p < 10 || *end != '.' || v == 0)
		return false;
	int y, mo, d, h, mi, s;
	char tail[16];
	if (sscanf(end + 1, "%4d%2d%2dT%2d%2d%2dZ%15s", &y, &mo, &d, &h, &mi, &s, tail) != 7 ||
	    (strcmp(tail, ".json") != 0 && strcmp(tail, ".gap.json") != 0))
		return false;
	*seq = v;
	*start = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	return true;
}

static int cmp_seq(const void *a, const void *b)
{
	const struct sfile *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Reads the gateway's files: their kinds, times, sizes; the head's hash. */
static int scan(struct spool *sp)
{
	int fd = dup(sp->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	struct dirent *e;
	char tmp[160];
	snprintf(tmp, sizeof(tmp), ".%stmp.", sp->prefix);
	int rc = 0;
	while (!rc && (e = readdir(d))) {
		uint64_t seq;
		int64_t start;
		if (strncmp(e->d_name, tmp, strlen(tmp)) == 0) {
			/* a write cut short before its link: never a spool file */
			unlinkat(sp->dirfd, e->d_name, 0);
			continue;
		}
		if (!parse_name(sp, e->d_name, &seq, &start))
			continue;
		if (grow_array(&sp->f, &sp->cap, sp->n + 1, sizeof(*sp->f))) {
			rc = -ENOMEM;
			break;
		}
		struct sfile *f = &sp->f[sp->n];
		memset(f, 0, sizeof(*f));
		if (!(f->name = strdup(e->d_name))) {
			rc = -ENOMEM;
			break;
		}
		sp->n++;
		f->seq = seq;
		f->start = f->end = start;
		f->kind = SF_BAD;
		struct stat st;
		if (fstatat(sp->dirfd, f->name, &st, 0) == 0) {
			f->size = (uint64_t)st.st_size;
			f->written = (int64_t)st.st_mtime;
		}
		sp->bytes += f->size;
		size_t len = 0;
		char *text = read_at(sp->dirfd, f->name, &len);
		char msg[600] = "cannot be read";
		if (text) {
			summary_sha256(text, len, f->sha256);
			json_error_t je;
			json_t *j = json_loadb(text, len, 0, &je);
			if (!j)
				snprintf(msg, sizeof(msg), "not JSON: %s", je.text);
			else
				classify(sp, f, j, msg, sizeof(msg));
			json_decref(j);
			free(text);
		}
		if (f->kind == SF_BAD)
			slog(sp, "spool: %s: not a valid spool file (%s)", f->name, msg);
	}
	closedir(d);
	if (rc)
		return rc;
	if (sp->n)
		qsort(sp->f, sp->n, sizeof(*sp->f), cmp_seq);
	for (size_t i = 1; i < sp->n; i++)
		if (sp->f[i].seq == sp->f[i - 1].seq)
			slog(sp, "spool: %s and %s have the same seq", sp->f[i - 1].name,
			     sp->f[i].name);
	if (sp->n) {
		struct sfile *h = &sp->f[sp->n - 1];
		sp->head = h->seq;
		if (!h->sha256[0]) {
			/* unreadable: its hash cannot link the chain; say so and go on after it */
			slog(sp, "spool: %s: cannot be read: %s; the chain starts again after it",
			     h->name, strerror(errno));
			sp->head_sha[0] = '\0';
		} else {
			memcpy(sp->head_sha, h->sha256, sizeof(sp->head_sha));
			if (h->kind == SF_BAD)
				slog(sp,
				     "spool: %s is the last file; the chain continues after it "
				     "with the hash of its bytes",
				     h->name);
		}
	}
	return 0;
}

int spool_open(const char *dir, const char *host, const char *site, const struct spool_caps *caps,
	       const struct spool_env *env, struct spool **out)
{
	struct spool *sp = calloc(1, sizeof(*sp));
	*out = NULL;
	if (!sp)
		return -ENOMEM;
	sp->dirfd = -1;
	sp->caps = *caps;
	if (env)
		sp->env = *env;
	sp->dir = strdup(dir);
	sp->host = strdup(host ? host : "");
	sp->site = site ? strdup(site) : NULL;
	sp->gw = strdup(site ? site : host ? host : "");
	if (!sp->dir || !sp->host || !sp->gw || (site && !sp->site)) {
		spool_close(sp);
		return -ENOMEM;
	}
	/* the gateway in names: [A-Za-z0-9_-], any other character '_' */
	size_t k = 0;
	for (const char *c = sp->gw; *c && k + 2 < sizeof(sp->prefix); c++)
		sp->prefix[k++] = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
					  (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'
				      ? *c
				      : '_';
	if (!k)
		sp->prefix[k++] = '_';
	sp->prefix[k] = '.';
	int rc = mkdir_p(dir);
	if (!rc && (sp->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		rc = -errno;
	if (!rc)
		rc = scan(sp);
	if (rc) {
		spool_close(sp);
		return rc;
	}
	*out = sp;
	return 0;
}

void spool_close(struct spool *sp)
{
	if (!sp)
		return;
	for (size_t i = 0; i < sp->n; i++)
		sfile_free(&sp->f[i]);
	free(sp->f);
	if (sp->dirfd >= 0)
		close(sp->dirfd);
	free(sp->dir);
	free(sp->host);
	free(sp->site);
	free(sp->gw);
	free(sp);
}

uint64_t spool_head(const struct spool *sp)
{
	return sp->head;
}

uint64_t spool_bytes(const struct spool *sp)
{
	return sp->bytes;
}

/* Writes text as name: a temporary file (0640), fsync, link without replacing, unlink the
 * temporary, fsync the directory. 0, -EEXIST or a negative errno. */
static int put_bytes(struct spool *sp, const char *name, const char *text, size_t len)
{
	char tmp[200];
	snprintf(tmp, sizeof(tmp), ".%stmp.%ld.%u", sp->prefix, (long)getpid(), sp->tmpno++);
	int fd = openat(sp->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	int rc = fchmod(fd, 0640) ? -errno : 0;
	for (size_t off = 0; !rc && off < len;) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			rc = w < 0 ? -errno : -EIO;
		else
			off += (size_t)w;
	}
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && linkat(sp->dirfd, tmp, sp->dirfd, name, 0))
		rc = -errno;
	unlinkat(sp->dirfd, tmp, 0);
	if (!rc && fsync(sp->dirfd))
		rc = -errno;
	return rc;
}

/* Writes doc (a copy gets the chain) as the next file; on success it joins the list. */
static int put_file(struct spool *sp, const json_t *doc, int64_t start, int64_t end,
		    enum sf_kind kind, const char *policy, json_t *refs, char *name_out,
		    size_t name_size)
{
	char when[20], name[200];
	uint64_t seq = sp->head + 1;
	json_t *j = json_copy((json_t *)doc);
	if (!j)
		return -ENOMEM;
	int bad = json_object_set_new(j, "chain",
				      json_pack("{s:s,s:I,s:s?}", "gateway", sp->gw, "seq",
						(json_int_t)seq, "prev",
						sp->head && sp->head_sha[0] ? sp->head_sha : NULL));
	char *text = bad ? NULL : json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	if (!text)
		return -ENOMEM;
	size_t len = strlen(text);
	text[len++] = '\n'; /* json_dumps's terminator: the file has no NUL */
	name_time(start, when, sizeof(when));
	snprintf(name, sizeof(name), "%s%010" PRIu64 ".%s%s.json", sp->prefix, seq, when,
		 kind == SF_GAP ? ".gap" : "");
	if (name_out)
		snprintf(name_out, name_size, "%s", name);
	int rc = grow_array(&sp->f, &sp->cap, sp->n + 1, sizeof(*sp->f));
	if (!rc)
		rc = put_bytes(sp, name, text, len);
	if (!rc) {
		struct sfile *f = &sp->f[sp->n++];
		memset(f, 0, sizeof(*f));
		f->name = strdup(name);
		f->seq = seq;
		f->size = len;
		f->start = start;
		f->end = end;
		f->kind = f->name ? kind : SF_BAD;
		f->policy = policy ? strdup(policy) : NULL;
		f->refs = json_incref(refs);
		f->written = now_s(sp);
		summary_sha256(text, len, f->sha256);
		sp->head = seq;
		memcpy(sp->head_sha, f->sha256, sizeof(sp->head_sha));
		sp->bytes += len;
	}
	free(text);
	return rc;
}

/* Removes file i from the spool and the list. */
static void remove_file(struct spool *sp, size_t i)
{
	if (unlinkat(sp->dirfd, sp->f[i].name, 0) && errno != ENOENT)
		slog(sp, "spool: cannot remove %s: %s", sp->f[i].name, strerror(errno));
	sp->bytes -= sp->f[i].size < sp->bytes ? sp->f[i].size : sp->bytes;
	sfile_free(&sp->f[i]);
	memmove(sp->f + i, sp->f + i + 1, (sp->n - i - 1) * sizeof(*sp->f));
	sp->n--;
}

static size_t index_of(const struct spool *sp, uint64_t seq)
{
	for (size_t i = 0; i < sp->n; i++)
		if (sp->f[i].seq == seq)
			return i;
	return SIZE_MAX;
}

/* The hash of a file's bytes now (they may have changed since it was written: the
 * chain then shows it), else the one known. */
static void current_hash(struct spool *sp, struct sfile *f, char out[SUMMARY_SHA256_TEXT])
{
	size_t len;
	char *text = read_at(sp->dirfd, f->name, &len);
	if (text)
		summary_sha256(text, len, out);
	else
		memcpy(out, f->sha256, SUMMARY_SHA256_TEXT);
	if (text && f->sha256[0] && strcmp(out, f->sha256) != 0)
		slog(sp, "spool: %s changed since it was written (%s, now %s)", f->name, f->sha256,
		     out);
	free(text);
}

static json_t *ref_json(uint64_t seq, const char *sha, int64_t start, int64_t end)
{
	char a[32], b[32];
	return json_pack("{s:I,s:s,s:s,s:s}", "seq", (json_int_t)seq, "sha256", sha, "start",
			 rfc_time(start, a, sizeof(a)), "end", rfc_time(end, b, sizeof(b)));
}

/* Merges the windows seqs[0..n) (one hour, one policy) into one. 0, or a negative errno
 * (the originals stay). */
static int merge_run(struct spool *sp, const uint64_t *seqs, size_t n)
{
	json_t **docs = calloc(n, sizeof(*docs));
	json_t *refs = json_array();
	size_t nd = 0;
	int64_t start = INT64_MAX, end = 0;
	int rc = docs && refs ? 0 : -ENOMEM;
	char policy[256] = "";
	for (size_t k = 0; !rc && k < n; k++) {
		size_t i = index_of(sp, seqs[k]);
		struct sfile *f = &sp->f[i];
		size_t len;
		char *text = read_at(sp->dirfd, f->name, &len);
		json_t *j = text ? json_loadb(text, len, 0, NULL) : NULL;
		char sha[SUMMARY_SHA256_TEXT], msg[600];
		if (text)
			summary_sha256(text, len, sha);
		free(text);
		if (!j || !classify(sp, f, j, msg, sizeof(msg)) || f->kind != SF_WINDOW) {
			/* changed under us: left as it is, dropped in its turn */
			slog(sp, "spool: %s cannot be merged: %s", f->name,
			     j ? msg : "no longer readable JSON");
			f->kind = SF_BAD;
			json_decref(j);
			continue;
		}
		if (f->sha256[0] && strcmp(sha, f->sha256) != 0)
			slog(sp, "spool: %s changed since it was written (%s, now %s)", f->name,
			     f->sha256, sha);
		snprintf(policy, sizeof(policy), "%s", f->policy ? f->policy : "");
		docs[nd++] = j;
		rc = json_array_append_new(refs, ref_json(f->seq, sha, f->start, f->end)) ? -ENOMEM
											  : 0;
		start = f->start < start ? f->start : start;
		end = f->end > end ? f->end : end;
	}
	json_t *m = !rc && nd >= 2 ? summary_merge(docs, nd) : NULL;
	if (!rc && nd >= 2 && !m)
		rc = -ENOMEM;
	char name[200];
	if (m) {
		rc = json_object_set(json_object_get(m, "window"), "replaces", refs) ? -ENOMEM : 0;
		if (!rc)
			rc = put_file(sp, m, start, end, SF_MERGED, policy, refs, name,
				      sizeof(name));
	}
	if (m && !rc) {
		char a[32];
		slog(sp,
		     "spool: merged %zu windows of the hour from %s (seq %" PRIu64 " to %" PRIu64
		     ") into %s",
		     nd, rfc_time(start - start % 3600, a, sizeof(a)), seqs[0], seqs[n - 1], name);
		for (size_t k = 0; k < json_array_size(refs); k++) {
			size_t i = index_of(sp, (uint64_t)json_integer_value(json_object_get(
						    json_array_get(refs, k), "seq")));
			if (i != SIZE_MAX)
				remove_file(sp, i);
		}
	} else if (rc) {
		slog(sp, "spool: cannot merge the windows of seq %" PRIu64 " to %" PRIu64 ": %s",
		     seqs[0], seqs[n - 1], strerror(-rc));
	}
	for (size_t k = 0; k < nd; k++)
		json_decref(docs[k]);
	free(docs);
	json_decref(m);
	json_decref(refs);
	return rc;
}

/* Merges the oldest complete clock hour of plain windows: 1 when something was done (merged,
 * or windows alone in their run set aside), 0 when nothing is left to merge, <0 on error. */
static int merge_oldest_hour(struct spool *sp, int64_t now)
{
	int64_t hour = INT64_MAX;
	for (size_t i = 0; i < sp->n; i++) {
		const struct sfile *f = &sp->f[i];
		int64_t h = f->start - (f->start % 3600 + 3600) % 3600;
		if (f->kind == SF_WINDOW && !f->tried && h + 3600 <= now && h < hour)
			hour = h;
	}
	if (hour == INT64_MAX)
		return 0;
	uint64_t *seqs = calloc(sp->n, sizeof(*seqs));
	size_t m = 0;
	if (!seqs)
		return -ENOMEM;
	for (size_t i = 0; i < sp->n; i++) {
		const struct sfile *f = &sp->f[i];
		if (f->kind == SF_WINDOW && !f->tried && f->start >= hour && f->start < hour + 3600)
			seqs[m++] = f->seq; /* in seq order: the list is */
	}
	/* runs of one policy (hash and mode): a window is not merged with another policy's */
	int rc = 1;
	for (size_t a = 0; a < m && rc >= 0;) {
		size_t b = a + 1;
		const char *pa = sp->f[index_of(sp, seqs[a])].policy;
		while (b < m) {
			const char *pb = sp->f[index_of(sp, seqs[b])].policy;
			if (!pa || !pb || strcmp(pa, pb) != 0)
				break;
			b++;
		}
		if (b - a < 2) {
			sp->f[index_of(sp, seqs[a])].tried = true;
		} else if (merge_run(sp, seqs + a, b - a) < 0) {
			for (size_t k = a; k < b; k++) {
				size_t i = index_of(sp, seqs[k]);
				if (i != SIZE_MAX)
					sp->f[i].tried = true;
			}
			rc = -1;
		}
		a = b;
	}
	free(seqs);
	return rc < 0 ? rc : 1;
}

/* Drops the files seqs[0..n) after writing a gap marker that lists them (and what merged
 * windows among them replaced). 0 or a negative errno (then nothing is removed). */
static int drop(struct spool *sp, const uint64_t *seqs, size_t n, bool age)
{
	const char *reason = age ? "age-cap" : "size-cap";
	json_t *dropped = json_array();
	int64_t start = INT64_MAX, end = INT64_MIN;
	int bad = !dropped;
	for (size_t k = 0; !bad && k < n; k++) {
		struct sfile *f = &sp->f[index_of(sp, seqs[k])];
		char sha[SUMMARY_SHA256_TEXT];
		current_hash(sp, f, sha);
		if (!sha[0])
			snprintf(sha, sizeof(sha), "sha256:%064d", 0);
		bad |= json_array_append_new(dropped, ref_json(f->seq, sha, f->start, f->end));
		/* what a dropped merged window stood for goes with it, and what an
		 * earlier gap marker listed when markers are folded for the size cap */
		for (size_t r = 0; (f->kind == SF_MERGED || (f->kind == SF_GAP && !age)) &&
				   r < json_array_size(f->refs);
		     r++)
			bad |= json_array_append_new(dropped,
						     json_deep_copy(json_array_get(f->refs, r)));
		start = f->start < start ? f->start : start;
		end = f->end > end ? f->end : end;
	}
	char a[32], b[32], name[200] = "";
	json_t *g = bad ? NULL : json_object();
	bad |= !g || summary_envelope(g, sp->host, sp->site);
	if (!bad) {
		json_object_set_new(g, "kind", json_string(SUMMARY_GAP_KIND));
		bad |=
		    json_object_set_new(g, "gap",
					json_pack("{s:s,s:s,s:s,s:O}", "reason", reason, "start",
						  rfc_time(start, a, sizeof(a)), "end",
						  rfc_time(end, b, sizeof(b)), "dropped", dropped));
	}
	int rc =
	    bad ? -ENOMEM : put_file(sp, g, start, end, SF_GAP, NULL, dropped, name, sizeof(name));
	json_decref(g);
	json_decref(dropped);
	if (rc) {
		slog(sp,
		     "spool: cannot write the gap marker for %zu files (%s cap): %s; none dropped",
		     n, reason, strerror(-rc));
		return rc;
	}
	slog(sp,
	     "spool: dropped %zu files (seq %" PRIu64
	     " first) from %s to %s for the %s; gap marker %s",
	     n, seqs[0], a, b, age ? "age cap" : "size cap", name);
	for (size_t k = 0; k < n; k++) {
		size_t i = index_of(sp, seqs[k]);
		if (i != SIZE_MAX)
			remove_file(sp, i);
	}
	return 0;
}

/* Refs a file brings into a gap marker. */
static size_t nrefs(const struct sfile *f, bool age)
{
	return 1 +
	       (f->kind == SF_MERGED || (f->kind == SF_GAP && !age) ? json_array_size(f->refs) : 0);
}

static int cmp_start(const void *a, const void *b)
{
	const struct sfile *x = *(const struct sfile *const *)a,
			   *y = *(const struct sfile *const *)b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Files to drop, oldest first (never the newest file, which the chain goes on from): those
 * whose window ended before cutoff (age), or as many as bring the size under the cap. */
static void drop_oldest(struct spool *sp, bool age, int64_t cutoff)
{
	const struct sfile **v = calloc(sp->n ? sp->n : 1, sizeof(*v));
	uint64_t *seqs = calloc(sp->n ? sp->n : 1, sizeof(*seqs));
	size_t nv = 0, m = 0, refs = 0;
	if (!v || !seqs) {
		free(v);
		free(seqs);
		return;
	}
	for (size_t i = 0; i < sp->n; i++)
		if (sp->f[i].seq != sp->head)
			v[nv++] = &sp->f[i];
	qsort(v, nv, sizeof(*v), cmp_start);
	uint64_t freed = 0;
	for (size_t k = 0; k < nv; k++) {
		/* a gap marker's age counts from when it was written */
		if (age && (v[k]->kind == SF_GAP ? v[k]->written : v[k]->end) >= cutoff)
			continue;
		/* the marker: about 200 bytes per listed file */
		if (!age && sp->bytes - freed + 512 + 200 * refs <= sp->caps.max_bytes)
			break;
		if (refs + nrefs(v[k], age) > SUMMARY_MAX_REFS)
			break;
		seqs[m++] = v[k]->seq;
		refs += nrefs(v[k], age);
		freed += v[k]->size;
	}
	if (m)
		drop(sp, seqs, m, age);
	else if (!age && !sp->full_logged) {
		slog(sp,
		     "spool: %" PRIu64 " bytes, over the cap of %" PRIu64
		     " with nothing left to merge or drop",
		     sp->bytes, sp->caps.max_bytes);
		sp->full_logged = true;
	}
	free(v);
	free(seqs);
}

/* The caps, after each write: the age cap, then merges, then drops for the size cap. */
static void keep_caps(struct spool *sp)
{
	int64_t now = now_s(sp);
	if (sp->caps.max_age_s)
		drop_oldest(sp, true, now - (int64_t)sp->caps.max_age_s);
	while (sp->caps.max_bytes && sp->bytes > sp->caps.max_bytes) {
		int rc = merge_oldest_hour(sp, now);
		if (rc > 0)
			continue;
		uint64_t before = sp->bytes;
		drop_oldest(sp, false, 0);
		if (sp->bytes >= before)
			break;
	}
	if (sp->caps.max_bytes && sp->bytes <= sp->caps.max_bytes)
		sp->full_logged = false;
}

/* A file that took the name of the next one (another writer, a restored backup): it is never
 * overwritten; the chain goes on after it with the hash of its bytes. 0 or -EEXIST. */
static int adopt(struct spool *sp, const char *name)
{
	uint64_t seq;
	int64_t start;
	size_t len;
	if (!parse_name(sp, name, &seq, &start) ||
	    grow_array(&sp->f, &sp->cap, sp->n + 1, sizeof(*sp->f)))
		return -EEXIST;
	char *text = read_at(sp->dirfd, name, &len);
	struct sfile *f = &sp->f[sp->n];
	memset(f, 0, sizeof(*f));
	if (!text || !(f->name = strdup(name))) {
		slog(sp, "spool: %s exists already and cannot be read: not overwritten", name);
		free(text);
		return -EEXIST;
	}
	sp->n++;
	f->seq = seq;
	f->start = f->end = start;
	f->kind = SF_BAD;
	f->tried = true;
	f->size = len;
	summary_sha256(text, len, f->sha256);
	free(text);
	sp->bytes += len;
	sp->head = seq;
	memcpy(sp->head_sha, f->sha256, sizeof(sp->head_sha));
	slog(sp, "spool: %s exists already: not overwritten; the chain continues after it", name);
	return 0;
}

int spool_write(struct spool *sp, const json_t *summary, uint64_t start_ns, uint64_t end_ns)
{
	const json_t *pol = json_object_get(summary, "policy");
	char policy[256], name[200];
	const char *hash = json_string_value(json_object_get(pol, "hash"));
	const char *mode = json_string_value(json_object_get(pol, "mode"));
	snprintf(policy, sizeof(policy), "%s|%s", hash ? hash : "", mode ? mode : "");
	int rc = -EEXIST;
	for (int tries = 0; rc == -EEXIST && tries < 8; tries++) {
		rc = put_file(sp, summary, (int64_t)(start_ns / NS), (int64_t)(end_ns / NS),
			      SF_WINDOW, policy, NULL, name, sizeof(name));
		if (rc == -EEXIST && adopt(sp, name) != 0)
			break;
	}
	if (rc)
		return rc;
	/* an empty offline window has no hour to be merged into */
	if (json_is_true(json_object_get(json_object_get(summary, "window"), "empty")))
		sp->f[sp->n - 1].tried = true;
	keep_caps(sp);
	return 0;
}
