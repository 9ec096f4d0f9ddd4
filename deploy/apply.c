// SPDX-License-Identifier: MIT
#include "deploy/apply.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "core/atomic.h"

#define MARK_PREFIX "segplan applied-at="
/* The idiom of docs/deploy.md: create the table when missing, so that the
 * delete always succeeds, then (in the saved text) define it anew. */
#define RESTORE_PREFIX                                                                             \
	"table " APPLY_FAMILY " " APPLY_TABLE "\ndelete table " APPLY_FAMILY " " APPLY_TABLE "\n"
#define PENDING_FILE  "pending.json"
#define SAVED_FILE    "rollback.nft"
#define ROLLBACK_FILE "rollback.json"
#define LOCK_FILE     "lock"

/* ---- libnftables ------------------------------------------------------ */

/* Runs cmd (one transaction) with output and errors captured, never
 * printed. 0 or -1; *err gets a copy of the error text when asked. */
static int nft_run(const char *cmd, bool dry, char **out, char **err)
{
	int r = -1;
	if (out)
		*out = NULL;
	if (err)
		*err = NULL;
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return -1;
	if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0)
		goto out;
	nft_ctx_set_dry_run(ctx, dry);
	r = nft_run_cmd_from_buffer(ctx, cmd) == 0 ? 0 : -1;
	if (out && r == 0)
		*out = strdup(nft_ctx_get_output_buffer(ctx));
	if (err && r != 0)
		*err = strdup(nft_ctx_get_error_buffer(ctx));
out:
	nft_ctx_free(ctx);
	return r;
}

static int nft_run_file(const char *path, char **err)
{
	*err = NULL;
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return -1;
	int r = -1;
	if (nft_ctx_buffer_output(ctx) == 0 && nft_ctx_buffer_error(ctx) == 0) {
		r = nft_run_cmd_from_filename(ctx, path) == 0 ? 0 : -1;
		if (r != 0)
			*err = strdup(nft_ctx_get_error_buffer(ctx));
	}
	nft_ctx_free(ctx);
	return r;
}

static bool parse_uint(const char *s, size_t len, unsigned *v)
{
	unsigned long x = 0;
	if (len == 0 || len > 9)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (unsigned long)(s[i] - '0');
	}
	*v = (unsigned)x;
	return true;
}

/* "FILE:LINE:COL" or "FILE:LINE:COL-COL" (nftables src/erec.c): splits off
 * line and column from the right, since FILE may hold colons. */
static bool parse_location(const char *loc, size_t len, size_t *flen, unsigned *line, unsigned *col)
{
	const char *end = loc + len;
	const char *c = memrchr(loc, ':', len);
	if (!c)
		return false;
	const char *dash = memchr(c, '-', (size_t)(end - c));
	if (!parse_uint(c + 1, (size_t)((dash ? dash : end) - c - 1), col))
		return false;
	const char *l = memrchr(loc, ':', (size_t)(c - loc));
	if (!l || !parse_uint(l + 1, (size_t)(c - l - 1), line))
		return false;
	*flen = (size_t)(l - loc);
	return true;
}

/* Turns libnftables' error text into located diagnostics. Each error is a
 * line "LOCATION: Error: MSG" (or "Error: MSG" when it has none) followed by
 * the source line and a ^^^ marker line; errors in an included file are
 * preceded by "In file included from ...". Locations in `real` (the path
 * given to include) are shown as `shown`; those in our own command text
 * have no useful line and name `shown` as a whole. Returns -EPERM when the
 * kernel refused us, -EINVAL otherwise. */
static int errors_to_diags(const char *text, const char *real, const char *shown,
			   struct diag_list *dl)
{
	int r = -EINVAL;
	bool any = false;
	const char *p = text ? text : "";
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line = strndup(p, len);
		p += len + (nl ? 1 : 0);
		if (!line)
			return -ENOMEM;
		if (strstr(line, "Operation not permitted"))
			r = -EPERM;
		const char *tag = NULL;
		enum diag_severity sev = DIAG_ERROR;
		char *e = strstr(line, ": Error: ");
		if (e) {
			tag = e + strlen(": Error: ");
		} else if ((e = strstr(line, ": Warning: "))) {
			tag = e + strlen(": Warning: ");
			sev = DIAG_WARNING;
		}
		size_t flen;
		unsigned ln, col;
		if (strncmp(line, "In file included from ", 22) == 0) {
			/* the include chain: our own wrapper */
		} else if (tag && parse_location(line, (size_t)(e - line), &flen, &ln, &col)) {
			line[flen] = '\0';
			if (strcmp(line, real) == 0)
				diag_add(dl, sev, shown, ln, col, "%s", tag);
			else if (line[0] == '<')
				diag_add(dl, sev, shown, 0, 0, "%s", tag);
			else
				diag_add(dl, sev, line, ln, col, "%s", tag);
			any |= sev == DIAG_ERROR;
		} else if (strncmp(line, "Error: ", 7) == 0) {
			diag_add(dl, DIAG_ERROR, shown, 0, 0, "%s", line + 7);
			any = true;
		}
		free(line);
	}
	if (!any)
		diag_add(dl, DIAG_ERROR, shown, 0, 0, "nftables rejected the ruleset");
	return r;
}

/* ---- the transaction -------------------------------------------------- */

struct source {
	const char *shown; /* as the user gave it */
	char real[PATH_MAX];
	char label[64]; /* basename, reduced to characters safe in a comment */
};

/* include is how the ruleset and our marker become one transaction while
 * errors keep the file's own line numbers. nft reads an include path with
 * `*?[` as a glob pattern and has no escape for quotes, so such names are
 * refused rather than half-matched. */
static int source_init(struct source *src, const char *path, struct diag_list *dl)
{
	struct stat st;
	memset(src, 0, sizeof(*src));
	src->shown = path;
	if (!realpath(path, src->real) || stat(src->real, &st) != 0) {
		int e = -errno;
		diag_add(dl, DIAG_ERROR, path, 0, 0, "cannot read: %s", strerror(-e));
		return -EINVAL;
	}
	if (!S_ISREG(st.st_mode)) {
		diag_add(dl, DIAG_ERROR, path, 0, 0, "not a regular file");
		return -EINVAL;
	}
	if (strpbrk(src->real, "\"*?[\\\n")) {
		diag_add(dl, DIAG_ERROR, path, 0, 0,
			 "the path contains one of \" * ? [ \\ or a newline, which nft's include "
			 "cannot take literally; rename the file");
		return -EINVAL;
	}
	const char *base = strrchr(src->real, '/');
	base = base ? base + 1 : src->real;
	size_t i = 0;
	for (; base[i] && i + 1 < sizeof(src->label); i++) {
		char c = base[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
		src->label[i] = ok ? c : '_';
	}
	src->label[i] = '\0';
	return 0;
}

static char *transaction(const struct source *src, bool mark, time_t now)
{
	char *cmd = NULL;
	int n;
	if (!mark)
		n = asprintf(&cmd, "include \"%s\"\n", src->real);
	else
		n = asprintf(&cmd,
			     "include \"%s\"\n"
			     "add chain %s %s %s\n"
			     "delete chain %s %s %s\n"
			     "add chain %s %s %s { comment \"" MARK_PREFIX "%lld file=%s\"; }\n",
			     src->real, APPLY_FAMILY, APPLY_TABLE, APPLY_MARK_CHAIN, APPLY_FAMILY,
			     APPLY_TABLE, APPLY_MARK_CHAIN, APPLY_FAMILY, APPLY_TABLE,
			     APPLY_MARK_CHAIN, (long long)now, src->label);
	return n < 0 ? NULL : cmd;
}

/* Runs the ruleset alone, then with the marker; a failure of the second
 * means the file does not define our table. */
static int run_checked(const struct source *src, bool dry, time_t now, struct diag_list *dl)
{
	char *cmd = NULL, *err = NULL;
	int r = -ENOMEM;
	if (!(cmd = transaction(src, false, now)))
		goto out;
	if (nft_run(cmd, true, NULL, &err) != 0) {
		r = errors_to_diags(err, src->real, src->shown, dl);
		goto out;
	}
	free(cmd);
	if (!(cmd = transaction(src, true, now)))
		goto out;
	r = 0;
	if (nft_run(cmd, true, NULL, &err) != 0) {
		r = errors_to_diags(err, src->real, src->shown, dl);
		if (r == -EINVAL)
			diag_add(dl, DIAG_ERROR, src->shown, 0, 0,
				 "the ruleset must define table %s %s", APPLY_FAMILY, APPLY_TABLE);
		goto out;
	}
	if (!dry && nft_run(cmd, false, NULL, &err) != 0)
		r = errors_to_diags(err, src->real, src->shown, dl);
out:
	free(cmd);
	free(err);
	return r;
}

int apply_check(const char *path, struct diag_list *dl)
{
	struct source src;
	int r = source_init(&src, path, dl);
	return r < 0 ? r : run_checked(&src, true, time(NULL), dl);
}

int apply_file(const char *path, time_t now, struct diag_list *dl)
{
	struct source src;
	int r = source_init(&src, path, dl);
	return r < 0 ? r : run_checked(&src, false, now, dl);
}

int apply_mark_get(const struct nfts *s, struct apply_mark *m)
{
	const struct nfts_chain *c = nfts_chain_find(s, APPLY_MARK_CHAIN);
	memset(m, 0, sizeof(*m));
	if (!c || !c->comment || strncmp(c->comment, MARK_PREFIX, strlen(MARK_PREFIX)) != 0)
		return -ENOENT;
	char *end;
	long long t = strtoll(c->comment + strlen(MARK_PREFIX), &end, 10);
	if (end == c->comment + strlen(MARK_PREFIX) || t < 0)
		return -ENOENT;
	m->applied = (time_t)t;
	if (strncmp(end, " file=", 6) == 0)
		snprintf(m->file, sizeof(m->file), "%s", end + 6);
	return 0;
}

/* ---- namespaces ------------------------------------------------------- */

static bool plain_name(const char *name)
{
	return name && *name && !strchr(name, '/') && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0 && strlen(name) < NAME_MAX;
}

int apply_enter_netns(const char *name)
{
	char path[PATH_MAX];
	if (!plain_name(name))
		return -EINVAL;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = setns(fd, CLONE_NEWNET) == 0 ? 0 : -errno;
	close(fd);
	return r;
}

int apply_netns_label(const char *name, char *buf, size_t size)
{
	struct stat self, init;
	int n;
	if (name) {
		if (!plain_name(name) || strcmp(name, "default") == 0)
			return -EINVAL;
		n = snprintf(buf, size, "%s", name);
		return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
	}
	if (stat("/proc/self/ns/net", &self) != 0 || stat("/proc/1/ns/net", &init) != 0 ||
	    (self.st_dev == init.st_dev && self.st_ino == init.st_ino)) {
		n = snprintf(buf, size, "default");
		return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
	}
	DIR *d = opendir("/run/netns");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char p[PATH_MAX];
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/run/netns/%s", de->d_name);
		if (stat(p, &st) == 0 && st.st_dev == self.st_dev && st.st_ino == self.st_ino) {
			n = snprintf(buf, size, "%s", de->d_name);
			closedir(d);
			return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
		}
	}
	if (d)
		closedir(d);
	n = snprintf(buf, size, "netns-%llu", (unsigned long long)self.st_ino);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int apply_state_dir(const char *label, char *buf, size_t size)
{
	const char *base = getenv("SEGPLAN_RUN_DIR");
	if (!base || !*base)
		base = APPLY_RUN_DIR;
	int n = snprintf(buf, size, "%s/%s", base, label);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int apply_read_file(const char *path, struct diag_list *dl, struct nfts **out)
{
	struct source src;
	char *cmd = NULL, *err = NULL;
	*out = NULL;
	int r = source_init(&src, path, dl);
	if (r < 0)
		return r;
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	if (unshare(CLONE_NEWNET) != 0) {
		r = -errno;
		goto out;
	}
	if (!(cmd = transaction(&src, false, 0))) {
		r = -ENOMEM;
	} else if (nft_run(cmd, false, NULL, &err) != 0) {
		r = errors_to_diags(err, src.real, src.shown, dl);
	} else {
		r = nfts_read(APPLY_FAMILY, APPLY_TABLE, out);
		if (r == -ENOENT)
			diag_add(dl, DIAG_ERROR, path, 0, 0, "defines no table %s %s", APPLY_FAMILY,
				 APPLY_TABLE);
	}
	/* The scratch namespace goes away with its last reference. */
	if (setns(self, CLONE_NEWNET) != 0 && r == 0) {
		r = -errno;
		nfts_free(*out);
		*out = NULL;
	}
out:
	close(self);
	free(cmd);
	free(err);
	return r;
}

/* ---- confirm windows -------------------------------------------------- */

static int state_path(char *buf, size_t size, const char *dir, const char *file)
{
	int n = snprintf(buf, size, "%s/%s", dir, file);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* An exclusive flock on statedir/lock serialises apply, confirm and the
 * watchdog's rollback. Returns the descriptor or a negative errno. */
static int lock_state(const char *dir)
{
	char p[PATH_MAX];
	int r = mkdir_p(dir);
	if (r < 0)
		return r;
	if ((r = state_path(p, sizeof(p), dir, LOCK_FILE)) < 0)
		return r;
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			r = -errno;
			close(fd);
			return r;
		}
	}
	return fd;
}

/* Field 22 of /proc/PID/stat (proc(5)): with the pid it names one process
 * even after the pid is reused. -ESRCH for a gone or zombie process. */
static int proc_starttime(pid_t pid, unsigned long long *st)
{
	char p[64], buf[1024];
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(p, "re");
	if (!f)
		return -ESRCH;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *q = strrchr(buf, ')');
	if (!q || q[1] != ' ' || q[2] == 'Z' || q[2] == 'X')
		return -ESRCH;
	q += 2;
	for (int field = 3; field < 22; field++) {
		q = strchr(q, ' ');
		if (!q)
			return -ESRCH;
		q++;
	}
	*st = strtoull(q, NULL, 10);
	return 0;
}

int apply_pending_get(const char *dir, struct apply_pending *out)
{
	char p[PATH_MAX];
	json_int_t pid = 0, applied = 0, deadline = 0;
	json_int_t start = 0;
	const char *file = "";
	memset(out, 0, sizeof(*out));
	int r = state_path(p, sizeof(p), dir, PENDING_FILE);
	if (r < 0)
		return r;
	json_t *j = json_load_file(p, 0, NULL);
	if (!j)
		return access(p, F_OK) == 0 ? -EIO : -ENOENT;
	if (json_unpack(j, "{s:I, s:I, s:I, s:I, s?s}", "pid", &pid, "starttime", &start,
			"applied_at", &applied, "deadline", &deadline, "file", &file) != 0) {
		json_decref(j);
		return -EIO;
	}
	unsigned long long now_start = 0;
	out->pid = (pid_t)pid;
	out->starttime = (unsigned long long)start;
	out->applied = (time_t)applied;
	out->deadline = (time_t)deadline;
	snprintf(out->file, sizeof(out->file), "%s", file);
	out->alive =
	    pid > 0 && proc_starttime(out->pid, &now_start) == 0 && now_start == out->starttime;
	json_decref(j);
	return 0;
}

int apply_rollback_get(const char *dir, struct apply_rollback *out)
{
	char p[PATH_MAX];
	json_int_t at = 0, applied = 0;
	int ok = 0;
	const char *file = "", *error = "";
	memset(out, 0, sizeof(*out));
	int r = state_path(p, sizeof(p), dir, ROLLBACK_FILE);
	if (r < 0)
		return r;
	json_t *j = json_load_file(p, 0, NULL);
	if (!j)
		return access(p, F_OK) == 0 ? -EIO : -ENOENT;
	r = json_unpack(j, "{s:I, s:I, s:b, s?s, s?s}", "at", &at, "applied_at", &applied, "ok",
			&ok, "file", &file, "error", &error) == 0
		? 0
		: -EIO;
	out->at = (time_t)at;
	out->applied = (time_t)applied;
	out->ok = ok;
	snprintf(out->file, sizeof(out->file), "%s", file);
	snprintf(out->error, sizeof(out->error), "%s", error);
	json_decref(j);
	return r;
}

static int write_json(const char *dir, const char *file, json_t *j)
{
	char p[PATH_MAX];
	int r = -ENOMEM;
	char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	if (text && (r = state_path(p, sizeof(p), dir, file)) == 0)
		r = atomic_write(p, text, strlen(text));
	free(text);
	return r;
}

static void remove_state(const char *dir, const char *file)
{
	char p[PATH_MAX];
	if (state_path(p, sizeof(p), dir, file) == 0)
		unlink(p);
}

/* Stops a watchdog, but only the process that was started as it. */
static void stop_watchdog(const struct apply_pending *pd)
{
	unsigned long long st = 0;
	if (pd->pid > 0 && proc_starttime(pd->pid, &st) == 0 && st == pd->starttime)
		kill(pd->pid, SIGTERM);
}

/* Puts the saved table back (statedir/rollback.nft) and records the outcome
 * for `status` and `confirm`. Called with the lock held. */
static void rollback_now(const char *dir, const struct apply_pending *pd)
{
	char p[PATH_MAX], *err = NULL;
	bool ok = false;
	if (state_path(p, sizeof(p), dir, SAVED_FILE) == 0)
		ok = nft_run_file(p, &err) == 0;
	json_t *j =
	    json_pack("{s:I, s:I, s:b, s:s, s:s}", "at", (json_int_t)time(NULL), "applied_at",
		      (json_int_t)pd->applied, "ok", ok, "file", pd->file, "error",
		      ok    ? ""
		      : err ? err
			    : "rollback failed");
	write_json(dir, ROLLBACK_FILE, j);
	free(err);
	/* A failed rollback keeps the saved table for a person to load. */
	if (ok)
		remove_state(dir, SAVED_FILE);
	remove_state(dir, PENDING_FILE);
}

/* The watchdog: a detached process in the same network namespace that waits
 * out the window and rolls back unless the window was confirmed (the
 * pending file is gone) or handed to a newer watchdog (it names another
 * pid). It never returns. */
static void watchdog(const char *dir, unsigned seconds)
{
	struct timespec t;
	int fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	prctl(PR_SET_NAME, "segplan-confirm");
	if (chdir("/") != 0) {
		/* only keeps no directory busy */
	}
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += seconds;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		;
	int lock = lock_state(dir);
	struct apply_pending pd;
	if (lock >= 0 && apply_pending_get(dir, &pd) == 0 && pd.pid == getpid())
		rollback_now(dir, &pd);
	_exit(0);
}

/* Double fork so that the watchdog is nobody's child (it outlives the
 * command and is never left a zombie of ours), in its own session, with no
 * descriptor of the caller (a test's pipe would otherwise stay open). */
static int spawn_watchdog(const char *dir, unsigned seconds, pid_t *pid)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return -errno;
	pid_t a = fork();
	if (a < 0) {
		int e = -errno;
		close(p[0]);
		close(p[1]);
		return e;
	}
	if (a == 0) {
		close(p[0]);
		setsid();
		pid_t b = fork();
		if (b != 0)
			_exit(b < 0 ? 1 : 0);
		pid_t me = getpid();
		if (write(p[1], &me, sizeof(me)) != (ssize_t)sizeof(me))
			_exit(1);
		close(p[1]);
		close_range(3, ~0U, 0);
		watchdog(dir, seconds);
	}
	close(p[1]);
	int status = 0;
	while (waitpid(a, &status, 0) < 0 && errno == EINTR)
		;
	ssize_t n = read(p[0], pid, sizeof(*pid));
	close(p[0]);
	return n == (ssize_t)sizeof(*pid) ? 0 : -ECHILD;
}

/* Saves the live table as a script that restores it in one transaction (or
 * only deletes ours when there was none), after checking that it loads. */
static int save_previous(const char *dir, struct diag_list *dl)
{
	char p[PATH_MAX], *saved = NULL, *err = NULL, *script = NULL;
	int r = state_path(p, sizeof(p), dir, SAVED_FILE);
	if (r < 0)
		return r;
	if (nft_run("list table " APPLY_FAMILY " " APPLY_TABLE, false, &saved, &err) != 0) {
		if (!err || !strstr(err, "No such file or directory")) {
			r = err && strstr(err, "Operation not permitted") ? -EPERM : -EIO;
			diag_add(dl, DIAG_ERROR, NULL, 0, 0, "cannot save the live table: %s",
				 err ? err : "libnftables failed");
			goto out;
		}
	}
	r = -ENOMEM;
	if (asprintf(&script, "%s%s", RESTORE_PREFIX, saved ? saved : "") < 0) {
		script = NULL;
		goto out;
	}
	free(err);
	err = NULL;
	if (nft_run(script, true, NULL, &err) != 0) {
		r = -EIO;
		diag_add(dl, DIAG_ERROR, NULL, 0, 0,
			 "the live table would not load again, so it cannot be the rollback: %s",
			 err ? err : "libnftables failed");
		goto out;
	}
	r = atomic_write(p, script, strlen(script));
out:
	free(saved);
	free(err);
	free(script);
	return r;
}

int apply_confirmed(const char *path, const char *dir, unsigned seconds, time_t now,
		    struct diag_list *dl, struct apply_pending *out)
{
	struct apply_pending old;
	bool have_old = false;
	memset(out, 0, sizeof(*out));
	int lock = lock_state(dir);
	if (lock < 0)
		return lock;
	int r = apply_pending_get(dir, &old);
	have_old = r == 0 && old.alive;
	if (!have_old) {
		/* A window whose watchdog is gone protects nothing: start over. */
		remove_state(dir, PENDING_FILE);
		r = save_previous(dir, dl);
		if (r < 0)
			goto out;
	}
	r = apply_file(path, now, dl);
	if (r < 0) {
		if (!have_old)
			remove_state(dir, SAVED_FILE);
		goto out;
	}
	if (have_old)
		stop_watchdog(&old);
	pid_t pid = 0;
	r = spawn_watchdog(dir, seconds, &pid);
	if (r == 0) {
		out->pid = pid;
		out->alive = true;
		out->applied = now;
		out->deadline = now + (time_t)seconds;
		snprintf(out->file, sizeof(out->file), "%s", path);
		r = proc_starttime(pid, &out->starttime);
	}
	if (r == 0)
		r = write_json(dir, PENDING_FILE,
			       json_pack("{s:I, s:I, s:I, s:I, s:s}", "pid", (json_int_t)pid,
					 "starttime", (json_int_t)out->starttime, "applied_at",
					 (json_int_t)now, "deadline", (json_int_t)out->deadline,
					 "file", path));
	if (r < 0) {
		/* Without a watchdog there is no safety net: undo at once. */
		if (pid > 0)
			kill(pid, SIGTERM);
		rollback_now(dir, out);
		diag_add(
		    dl, DIAG_ERROR, path, 0, 0,
		    "could not start the confirm watchdog (%s); the previous table was put back",
		    strerror(-r));
	}
out:
	close(lock);
	return r;
}

int apply_confirm(const char *dir, struct apply_pending *out)
{
	char p[PATH_MAX];
	int r = state_path(p, sizeof(p), dir, LOCK_FILE);
	if (r < 0)
		return r;
	if (access(dir, F_OK) != 0) {
		memset(out, 0, sizeof(*out));
		return -ENOENT;
	}
	int lock = lock_state(dir);
	if (lock < 0)
		return lock;
	r = apply_pending_get(dir, out);
	if (r == 0) {
		stop_watchdog(out);
		remove_state(dir, PENDING_FILE);
		remove_state(dir, SAVED_FILE);
	}
	close(lock);
	return r;
}
