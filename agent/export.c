// SPDX-License-Identifier: MIT
#include "agent/export.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/atomic.h"
#include "core/proto.h"

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static exp_addr_fn addr_hook;
static const void *addr_hook_ctx;

void exp_set_addr_hook(exp_addr_fn fn, const void *ctx)
{
	addr_hook = fn;
	addr_hook_ctx = ctx;
}

const char *exp_addr(const uint8_t a[16], char *buf, size_t size)
{
	if (addr_hook)
		return addr_hook(addr_hook_ctx, a, buf, size);
	if (memcmp(a, v4_mapped, sizeof(v4_mapped)) == 0)
		return inet_ntop(AF_INET, a + 12, buf, (socklen_t)size);
	return inet_ntop(AF_INET6, a, buf, (socklen_t)size);
}

/* RFC 3339 UTC with nanoseconds: "2024-05-01T10:00:00.000000001Z". Records
 * come in bursts from the same second: its date part is kept. */
static json_t *time_json(uint64_t ns)
{
	static _Thread_local time_t cached_sec = -1;
	static _Thread_local char cached[32];
	static _Thread_local size_t cached_len;
	char buf[64];
	time_t sec = (time_t)(ns / 1000000000ull);
	if (sec != cached_sec) {
		struct tm tm;
		if (!gmtime_r(&sec, &tm))
			return json_null();
		cached_len = strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
		cached_sec = sec;
	}
	memcpy(buf, cached, cached_len);
	snprintf(buf + cached_len, sizeof(buf) - cached_len, ".%09lluZ",
		 (unsigned long long)(ns % 1000000000ull));
	return json_string(buf);
}

static int set(json_t *o, const char *k, json_t *v)
{
	return json_object_set_new_nocheck(o, k, v);
}

json_t *exp_flow_json(const struct flow *f, enum flow_end why)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	json_t *o = json_object();
	if (!o)
		return NULL;
	int bad = 0;
	bool v4 = memcmp(f->src, v4_mapped, sizeof(v4_mapped)) == 0;
	bad |= set(o, "ip_version", json_integer(v4 ? 4 : 6));
	bad |= set(o, "src", json_string(exp_addr(f->src, a, sizeof(a))));
	bad |= set(o, "dst", json_string(exp_addr(f->dst, b, sizeof(b))));
	bad |= set(o, "proto", json_integer(f->proto));
	if (proto_is_any_icmp(f->proto)) {
		bad |= set(o, "icmp_type", json_integer(f->icmp_type));
		bad |= set(o, "icmp_code", json_integer(f->icmp_code));
		bad |= set(o, "icmp_id", json_integer(f->icmp_id));
		if (f->related)
			bad |= set(o, "related", json_true());
		if (f->reply_first)
			bad |= set(o, "reply_first", json_true());
	} else if (proto_has_ports(f->proto)) {
		bad |= set(o, "src_port", json_integer(f->sport));
		bad |= set(o, "dst_port", json_integer(f->dport));
	}
	if (f->vlan)
		bad |= set(o, "vlan", json_integer(f->vlan));
	if (f->vlan_seen[0])
		bad |= set(o, "src_vlan", json_integer(f->vlan_seen[0]));
	if (f->vlan_seen[1])
		bad |= set(o, "dst_vlan", json_integer(f->vlan_seen[1]));
	bad |= set(o, "first", time_json(f->first_ns));
	bad |= set(o, "last", time_json(f->last_ns));
	bad |= set(o, "src_packets", json_integer((json_int_t)f->packets[0]));
	bad |= set(o, "src_bytes", json_integer((json_int_t)f->bytes[0]));
	bad |= set(o, "dst_packets", json_integer((json_int_t)f->packets[1]));
	bad |= set(o, "dst_bytes", json_integer((json_int_t)f->bytes[1]));
	if (f->proto == 6) {
		bad |= set(o, "src_tcp_flags", json_integer(f->tcp_flags[0]));
		bad |= set(o, "dst_tcp_flags", json_integer(f->tcp_flags[1]));
	}
	if (f->ifindex[0]) {
		json_t *ifs = json_array();
		for (int i = 0; ifs && i < FLOW_MAX_IFS && f->ifindex[i]; i++)
			bad |= json_array_append_new(ifs, json_integer(f->ifindex[i]));
		bad |= set(o, "interfaces", ifs);
	}
	bad |= set(o, "end_reason", json_string(flow_end_name(why)));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void exp_jsonl_write(struct exp_jsonl *w, const json_t *o)
{
	char line[1024];
	if (w->err)
		return;
	/* One write per record: jansson's stream dumper writes per token. */
	size_t n = json_dumpb(o, line, sizeof(line) - 1, JSON_COMPACT);
	char *big = NULL;
	const char *text = line;
	if (n >= sizeof(line) - 1) {
		big = json_dumps(o, JSON_COMPACT);
		text = big;
		n = big ? strlen(big) : 0;
	} else {
		line[n] = '\n';
	}
	if (!text || n == 0)
		w->err = -ENOMEM;
	else if (fwrite(text, 1, text == line ? n + 1 : n, w->f) != (text == line ? n + 1 : n) ||
		 (big && fputc('\n', w->f) == EOF))
		w->err = errno ? -errno : -EIO;
	else {
		w->lines++;
		w->bytes += n + 1;
	}
	free(big);
}

void exp_jsonl_sink(void *arg, const struct flow *f, enum flow_end why)
{
	struct exp_jsonl *w = arg;
	if (w->err)
		return;
	json_t *o = exp_flow_json(f, why);
	if (!o) {
		w->err = -ENOMEM;
		return;
	}
	exp_jsonl_write(w, o);
	json_decref(o);
}

struct exp_rotor {
	struct exp_rotor_config cfg;
	char *dir, *stem, *ext; /* dir/stem-<time>ext */
	struct atomic_file *af;
	struct exp_jsonl w;
	unsigned long long seg_start_bytes;
	uint64_t opened_ns;
	uint64_t pruned_ns;
	char *cur, *last;
};

static int rotor_next(struct exp_rotor *r, uint64_t now_ns)
{
	char stamp[32];
	struct tm tm;
	time_t sec = (time_t)(now_ns / 1000000000ull);
	if (!gmtime_r(&sec, &tm) || !strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm))
		return -EINVAL;
	char *path = NULL;
	struct stat st;
	for (int seq = 1; seq < 1000; seq++) {
		free(path);
		path = NULL;
		char suffix[8] = "";
		if (seq > 1)
			snprintf(suffix, sizeof(suffix), "-%d", seq);
		if (asprintf(&path, "%s/%s-%s%s%s", r->dir, r->stem, stamp, suffix, r->ext) < 0)
			return -ENOMEM;
		if (stat(path, &st) != 0 && (!r->last || strcmp(r->last, path) != 0))
			break;
	}
	int rc = atomic_file_open(path, &r->af);
	if (rc) {
		free(path);
		return rc;
	}
	free(r->cur);
	r->cur = path;
	r->w.f = atomic_file_stream(r->af);
	r->seg_start_bytes = r->w.bytes;
	r->opened_ns = now_ns;
	return 0;
}

static int rotor_commit(struct exp_rotor *r)
{
	int rc = r->w.err;
	if (rc) {
		atomic_file_abort(r->af);
	} else {
		rc = atomic_file_commit(r->af);
		if (!rc) {
			free(r->last);
			r->last = r->cur;
			r->cur = NULL;
		}
	}
	r->af = NULL;
	r->w.f = NULL;
	return rc;
}

/* Deletes closed segments (dir/stem-*ext, never a temporary file) whose
 * last write is older than the retention. */
static void rotor_prune(struct exp_rotor *r, uint64_t now_ns)
{
	if (!r->cfg.retain_ns)
		return;
	r->pruned_ns = now_ns;
	DIR *d = opendir(r->dir);
	if (!d)
		return;
	size_t nstem = strlen(r->stem), next = strlen(r->ext);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		size_t len = strlen(n);
		if (len <= nstem + 1 + next || strncmp(n, r->stem, nstem) != 0 || n[nstem] != '-' ||
		    strcmp(n + len - next, r->ext) != 0 || strstr(n, ".tmp."))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
			continue;
		uint64_t mtime =
		    (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
		if (mtime + r->cfg.retain_ns < now_ns)
			unlinkat(dirfd(d), n, 0);
	}
	closedir(d);
}

int exp_rotor_open(const struct exp_rotor_config *cfg, uint64_t now_ns, struct exp_rotor **out)
{
	*out = NULL;
	struct exp_rotor *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->cfg = *cfg;
	const char *slash = strrchr(cfg->path, '/');
	const char *base = slash ? slash + 1 : cfg->path;
	const char *dot = strrchr(base, '.');
	if (!dot || dot == base)
		dot = base + strlen(base);
	r->dir = slash ? strndup(cfg->path, (size_t)(slash - cfg->path)) : strdup(".");
	r->stem = strndup(base, (size_t)(dot - base));
	r->ext = strdup(dot);
	int rc = !r->dir || !r->stem || !r->ext ? -ENOMEM : *r->stem ? 0 : -EINVAL;
	if (!rc && !*r->dir) {
		free(r->dir);
		r->dir = strdup("/");
		rc = r->dir ? 0 : -ENOMEM;
	}
	if (!rc)
		rc = rotor_next(r, now_ns);
	if (rc) {
		exp_rotor_close(r);
		return rc;
	}
	rotor_prune(r, now_ns);
	*out = r;
	return 0;
}

struct exp_jsonl *exp_rotor_writer(struct exp_rotor *r)
{
	return &r->w;
}

int exp_rotor_tick(struct exp_rotor *r, uint64_t now_ns)
{
	bool full = r->cfg.max_bytes && r->w.bytes - r->seg_start_bytes >= r->cfg.max_bytes;
	bool old = r->cfg.max_age_ns && now_ns >= r->opened_ns + r->cfg.max_age_ns;
	int rc = 0;
	if (full || old || r->w.err) {
		rc = rotor_commit(r);
		r->w.err = 0;
		int rc2 = rotor_next(r, now_ns);
		if (!rc)
			rc = rc2;
	}
	/* A directory scan a minute is enough for retention in hours. */
	if (full || old || now_ns >= r->pruned_ns + 60000000000ull)
		rotor_prune(r, now_ns);
	return rc;
}

int exp_rotor_close(struct exp_rotor *r)
{
	if (!r)
		return 0;
	int rc = r->af ? rotor_commit(r) : 0;
	free(r->dir);
	free(r->stem);
	free(r->ext);
	free(r->cur);
	free(r->last);
	free(r);
	return rc;
}

const char *exp_rotor_last(const struct exp_rotor *r)
{
	return r->last ? r->last : "";
}

json_t *exp_stats_json(const struct dec_stats *ds, const struct flow_stats *fs, size_t flows_active,
		       size_t table_bytes)
{
	json_t *o = json_object();
	json_t *reasons = json_object();
	json_t *flows = json_object();
	int bad = !o || !reasons || !flows;
	uint64_t sum = 0;
	for (int r = 0; !bad && r < DEC_R_COUNT; r++) {
		bad |= set(reasons, dec_reason_name(r), json_integer((json_int_t)ds->reasons[r]));
		sum += ds->reasons[r];
	}
	if (!bad) {
		bad |= set(o, "packets_read", json_integer((json_int_t)ds->read));
		bad |= set(o, "packets_decoded", json_integer((json_int_t)ds->decoded));
		bad |= set(o, "packets_not_decoded", json_integer((json_int_t)sum));
		bad |= set(o, "packets_held", json_integer((json_int_t)ds->held));
		bad |= set(o, "reasons", reasons);
		reasons = NULL;
		bad |=
		    set(o, "fragment_cache_evictions", json_integer((json_int_t)ds->frag_evicted));
	}
	if (!bad && fs) {
		bad |= set(flows, "created", json_integer((json_int_t)fs->created));
		bad |= set(flows, "expired_idle", json_integer((json_int_t)fs->expired_idle));
		bad |= set(flows, "expired_active", json_integer((json_int_t)fs->expired_active));
		bad |= set(flows, "expired_end", json_integer((json_int_t)fs->expired_closed));
		bad |= set(flows, "evicted", json_integer((json_int_t)fs->evicted));
		bad |= set(flows, "flushed", json_integer((json_int_t)fs->flushed));
		bad |= set(flows, "records", json_integer((json_int_t)fs->records));
		bad |= set(flows, "active", json_integer((json_int_t)flows_active));
		bad |= set(flows, "peak", json_integer((json_int_t)fs->peak));
		bad |= set(flows, "table_bytes", json_integer((json_int_t)table_bytes));
		bad |= set(o, "flows", flows);
		flows = NULL;
	}
	json_decref(reasons);
	json_decref(flows);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
