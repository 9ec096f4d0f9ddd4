// SPDX-License-Identifier: MIT
/* Summaries read, parsed and checked by a pool of worker threads, counted in order (pool.h). */
#include "audit/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/model.h"
#include "core/jarena.h"

/* A read buffer that one thread reuses from file to file: a fresh block of a
 * summary's size per file made malloc consolidate its free lists every time. */
struct rbuf {
	char *p;
	size_t cap;
};

static bool rbuf_fit(struct rbuf *b, size_t need)
{
	if (need <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 1 << 16;
	while (cap < need)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p)
		return false;
	b->p = p;
	b->cap = cap;
	return true;
}

/*
 * The file parsed, with its problems located as json_load_file locates
 * them: it is read whole and handed to json_loadb, which parses a buffer
 * with the same lexer faster than json_load_file's byte-wise fgetc. A read
 * error ends the input as it ends fgetc's.
 */
static json_t *load_file(const char *path, struct diag_list *dl, struct rbuf *b)
{
	json_error_t err;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		/* jansson's own words, cut at its length, for the same diagnostic. */
		char text[JSON_ERROR_TEXT_LENGTH];
		snprintf(text, sizeof(text), "unable to open %s: %s", path, strerror(errno));
		diag_add(dl, DIAG_ERROR, path, 0, 0, "%s: summary skipped", text);
		return NULL;
	}
	size_t n = 0;
	json_t *j = NULL;
	bool stat_ok = fstat(fd, &st) == 0;
	if (stat_ok && S_ISDIR(st.st_mode)) {
		diag_add(dl, DIAG_ERROR, path, 0, 0, "is a directory, not a summary: skipped");
		close(fd);
		return NULL;
	}
	bool fits = rbuf_fit(
	    b, stat_ok && S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 1);
	while (fits) {
		ssize_t k = read(fd, b->p + n, b->cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
		if (n == b->cap)
			fits = rbuf_fit(b, b->cap * 2);
	}
	if (!fits)
		diag_add(dl, DIAG_ERROR, path, 0, 0, "out of memory: summary skipped");
	else if (!(j = json_loadb(b->p, n, JSON_REJECT_DUPLICATES, &err)))
		diag_add(dl, DIAG_ERROR, path, (unsigned)(err.line > 0 ? err.line : 0),
			 (unsigned)(err.column > 0 ? err.column : 0), "%s: summary skipped",
			 err.text);
	close(fd);
	return j;
}

int audit_add_file(struct audit *a, const char *path, struct diag_list *dl)
{
	return audit_add_files(a, &path, 1, dl);
}

/* ---- many files at once ---- */

/* One file of audit_add_files: parsed and checked by a worker, then counted
 * in order by the caller's thread. */
struct job {
	const char *path;
	json_t *j;	     /* the tree s points into */
	struct jarena arena; /* j's memory */
	struct summary_read s;
	struct diag_list *dl; /* its diagnostics until it is counted */
	bool ok;	      /* checked: to be counted */
	bool done;
	bool by_worker; /* the worker frees it, in the thread whose malloc arena holds it */
};

struct pool {
	const struct audit *a;
	struct job *jobs;
	size_t n;
	size_t next;   /* the first job no thread has taken */
	size_t merged; /* jobs counted */
	size_t window; /* jobs taken beyond merged at most */
	bool stop;
	pthread_mutex_t mu;
	pthread_cond_t ready; /* a job is done */
	pthread_cond_t room;  /* merged moved on */
};

static void run_job(const struct audit *a, struct job *jb, struct rbuf *b)
{
	jb->dl = diag_list_new();
	if (!jb->dl)
		return;
	jarena_enter(&jb->arena);
	jb->j = load_file(jb->path, jb->dl, b);
	jarena_leave();
	jb->ok = jb->j && audit_check_summary(a, jb->j, jb->path, jb->dl, &jb->s);
}

static void job_free(struct job *jb)
{
	summary_read_free(&jb->s);
	json_decref(jb->j);
	jarena_release(&jb->arena);
	diag_list_free(jb->dl);
	memset(&jb->s, 0, sizeof(jb->s));
	jb->j = NULL;
	jb->dl = NULL;
}

/*
 * Takes jobs in order while the window allows, and frees its own jobs once
 * they are counted: a tree freed by the thread that built it goes back to
 * that thread's malloc arena for the next file (freeing across threads cost
 * twice the parsing here, in fresh pages and arena locks).
 */
static void *worker(void *arg)
{
	enum { CAP = AUDIT_JOBS_AHEAD * AUDIT_MAX_WORKERS + 1 };
	struct pool *pl = arg;
	size_t mine[CAP], head = 0, tail = 0; /* its jobs not yet freed, oldest first */
	struct rbuf b = {0};
	pthread_mutex_lock(&pl->mu);
	for (;;) {
		if (head != tail && mine[head % CAP] < pl->merged) {
			struct job *jb = &pl->jobs[mine[head++ % CAP]];
			pthread_mutex_unlock(&pl->mu);
			job_free(jb);
			pthread_mutex_lock(&pl->mu);
			continue;
		}
		if (pl->stop || (pl->next >= pl->n && head == tail))
			break;
		if (pl->next >= pl->n || pl->next >= pl->merged + pl->window) {
			pthread_cond_wait(&pl->room, &pl->mu);
			continue;
		}
		struct job *jb = &pl->jobs[pl->next];
		jb->by_worker = true;
		mine[tail++ % CAP] = pl->next++;
		pthread_mutex_unlock(&pl->mu);
		run_job(pl->a, jb, &b);
		pthread_mutex_lock(&pl->mu);
		jb->done = true;
		pthread_cond_broadcast(&pl->ready);
	}
	pthread_mutex_unlock(&pl->mu);
	free(b.p);
	return NULL;
}

/* Job i, done: by a worker, or here when none has taken it yet. */
static void wait_job(struct pool *pl, size_t i, struct rbuf *b)
{
	pthread_mutex_lock(&pl->mu);
	while (!pl->jobs[i].done) {
		if (pl->next == i) {
			pl->next++;
			pthread_mutex_unlock(&pl->mu);
			run_job(pl->a, &pl->jobs[i], b);
			pthread_mutex_lock(&pl->mu);
			pl->jobs[i].done = true;
		} else {
			pthread_cond_wait(&pl->ready, &pl->mu);
		}
	}
	pthread_mutex_unlock(&pl->mu);
}

/* Job i's diagnostics and counts, as audit_add_file would have made them. */
static int merge_job(struct audit *a, struct job *jb, struct diag_list *dl)
{
	if (!jb->dl)
		return -ENOMEM;
	for (size_t k = 0; k < diag_count(jb->dl); k++) {
		const struct diag *d = diag_get(jb->dl, k);
		diag_add(dl, d->severity, d->file, d->line, d->col, "%s", d->msg);
	}
	if (!jb->ok) {
		a->skipped++;
		return -EINVAL;
	}
	return audit_count_summary(a, &jb->s, jb->path, dl);
}

int audit_add_files(struct audit *a, const char *const *paths, size_t n, struct diag_list *dl)
{
	struct pool pl = {.a = a, .n = n};
	struct rbuf b = {0};
	pthread_t th[AUDIT_MAX_WORKERS];
	size_t nth = 0, want = a->workers < n ? a->workers : n;
	int rc = 0;
	if (!n)
		return 0;
	pl.jobs = calloc(n, sizeof(*pl.jobs));
	if (!pl.jobs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		pl.jobs[i].path = paths[i];
	pl.window = AUDIT_JOBS_AHEAD * (want ? want : 1);
	pthread_mutex_init(&pl.mu, NULL);
	pthread_cond_init(&pl.ready, NULL);
	pthread_cond_init(&pl.room, NULL);
	/* jansson seeds its hash function on first use, which is not
	 * thread-safe: seed it before any thread parses. */
	if (want > 1)
		json_object_seed(0);
	/* Trees in arenas: a third less time for parsing than in malloc. */
	jarena_setup();
	/* With one worker, the caller's thread does it all; when threads
	 * cannot be started, it does what they would have. */
	for (size_t i = 0; want > 1 && i < want; i++)
		if (pthread_create(&th[nth], NULL, worker, &pl) == 0)
			nth++;
	for (size_t i = 0; i < n; i++) {
		wait_job(&pl, i, &b);
		int r = merge_job(a, &pl.jobs[i], dl);
		if (r == -ENOMEM || (r == -EINVAL && rc == 0))
			rc = r;
		if (!pl.jobs[i].by_worker)
			job_free(&pl.jobs[i]);
		pthread_mutex_lock(&pl.mu);
		pl.merged = i + 1;
		pl.stop = rc == -ENOMEM;
		pthread_cond_broadcast(&pl.room);
		pthread_mutex_unlock(&pl.mu);
		if (rc == -ENOMEM)
			break;
	}
	for (size_t i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	/* After a failure: what the workers left. */
	for (size_t i = 0; i < n; i++)
		job_free(&pl.jobs[i]);
	pthread_cond_destroy(&pl.room);
	pthread_cond_destroy(&pl.ready);
	pthread_mutex_destroy(&pl.mu);
	free(pl.jobs);
	free(b.p);
	return rc;
}
