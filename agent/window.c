// SPDX-License-Identifier: MIT
/* A window's summary document, docs/summary.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>

#include "agent/report.h"
#include "agent/window.h"
#include "nftstate/nftstate.h"

static json_t *interfaces_json(struct agent *a)
{
	json_t *arr = json_array();
	for (int i = 0; arr && i < a->nifs; i++) {
		struct iface *f = &a->ifs[i];
		struct cap_stats t = agent_iface_stats(f);
		int ifindex = (int)f->ifindex;
		bool up = false;
		if (a->nm)
			nm_link(a->nm, f->name, &ifindex, &up);
		json_array_append_new(
		    arr, json_pack("{s:s,s:i,s:b,s:b,s:I,s:I,s:I,s:i}", "name", f->name, "ifindex",
				   ifindex, "up", up, "capturing", f->cap != NULL, "received",
				   (json_int_t)(t.received - f->window.received), "dropped",
				   (json_int_t)(t.dropped - f->window.dropped), "if_dropped",
				   (json_int_t)(t.if_dropped - f->window.if_dropped), "reopened",
				   f->reopened));
	}
	return arr;
}

static json_t *addresses_json(struct agent *a)
{
	struct nm_addr v[256];
	json_t *arr = json_array();
	size_t n = a->nm ? nm_addrs(a->nm, v, 256) : 0;
	for (size_t i = 0; arr && i < n && i < 256; i++) {
		char text[INET6_ADDRSTRLEN], ifn[IF_NAMESIZE];
		const char *zone;
		bool local;
		ip_addr_format(&v[i].addr, text, sizeof(text));
		agent_zone_of(a, &v[i].addr, &zone, &local);
		const char *name = nm_ifname(a->nm, v[i].ifindex, ifn);
		json_array_append_new(arr, json_pack("{s:s?,s:i,s:s,s:i,s:s?,s:b}", "interface",
						     name, "ifindex", v[i].ifindex, "address", text,
						     "prefix_len", v[i].prefix_len, "zone", zone,
						     "local", local));
	}
	return arr;
}

static json_t *decode_json(const struct dec_stats *now, const struct dec_stats *base)
{
	json_t *reasons = json_object();
	for (int r = 0; reasons && r < DEC_R_COUNT; r++)
		json_object_set_new(reasons, dec_reason_name(r),
				    json_integer((json_int_t)(now->reasons[r] - base->reasons[r])));
	return reasons;
}

static json_t *policy_json(const struct agent *a)
{
	char when[32];
	if (!a->pol)
		return json_null();
	struct pol_table_meta m;
	pol_table_get_meta(a->pol, &m);
	return json_pack("{s:s,s:s?,s:s?,s:s,s:s?,s:s,s:i,s:i}", "file", a->o.policy, "gateway",
			 m.gateway, "hash", m.hash, "mode", pol_mode_names[m.mode], "date", m.date,
			 "loaded_at", summary_time(a->policy_loaded_ns, when, sizeof(when)),
			 "reloads", a->reloads, "reload_errors", a->reload_errors);
}

static json_t *kernel_json(void)
{
	struct nfts *st = NULL;
	int rc = nfts_read("inet", "segplan", &st);
	json_t *j = sum_kernel_json(rc ? NULL : st, rc);
	nfts_free(st);
	return j;
}

int win_write_summary(struct agent *a, uint64_t end_ns, bool final, const char **failed)
{
	char t0[32], t1[32], host[256] = "";
	bool live = a->o.nifaces > 0;
	/* An offline capture without flows has no time span: no 1970 window. */
	bool empty = !live && !a->first_ns;
	uint64_t start = live ? a->win_start_ns : a->first_ns;
	if (!live)
		end_ns = a->last_ns;
	if (end_ns < start)
		end_ns = start;
	gethostname(host, sizeof(host) - 1);
	struct pol_table_meta m = {0};
	if (a->pol)
		pol_table_get_meta(a->pol, &m);
	const struct dec_stats *ds = dec_stats(a->dec);
	const struct flow_stats *fs = flow_table_stats(a->ft);
	json_t *j = json_object();
	int bad = !j;
	if (!bad) {
		bad |= summary_envelope(j, host, m.gateway);
		bad |= json_object_set_new(
		    j, "window",
		    json_pack("{s:s?,s:s?,s:f,s:b,s:s}", "start",
			      empty ? NULL : summary_time(start, t0, sizeof(t0)), "end",
			      empty ? NULL : summary_time(end_ns, t1, sizeof(t1)), "seconds",
			      (double)(end_ns - start) / 1e9, "final", final, "clock",
			      live ? "wall" : "capture"));
		if (empty)
			bad |=
			    json_object_set_new(json_object_get(j, "window"), "empty", json_true());
		bad |= json_object_set_new(j, "policy", policy_json(a));
		json_t *cap = json_pack(
		    "{s:s,s:s?,s:I,s:I,s:I,s:I,s:o,s:I}", "mode", live ? "live" : "offline", "file",
		    a->o.read, "packets_read", (json_int_t)(ds->read - a->dec_base.read),
		    "packets_decoded", (json_int_t)(ds->decoded - a->dec_base.decoded),
		    "packets_not_decoded",
		    (json_int_t)(report_not_decoded(ds) - report_not_decoded(&a->dec_base)),
		    "packets_held", (json_int_t)ds->held, "decode_errors",
		    decode_json(ds, &a->dec_base), "fragment_cache_evictions",
		    (json_int_t)(ds->frag_evicted - a->dec_base.frag_evicted));
		if (cap && live)
			json_object_set_new(cap, "interfaces", interfaces_json(a));
		if (cap && a->capture_error)
			json_object_set_new(cap, "error", json_string(a->capture_error));
		bad |= json_object_set_new(j, "capture", cap);
		bad |= json_object_set_new(
		    j, "flow_table",
		    json_pack("{s:I,s:I,s:I,s:I,s:I}", "created",
			      (json_int_t)(fs->created - a->flow_base.created), "evicted",
			      (json_int_t)(fs->evicted - a->flow_base.evicted), "active",
			      (json_int_t)flow_table_count(a->ft), "peak", (json_int_t)fs->peak,
			      "table_bytes", (json_int_t)flow_table_mem(a->ft)));
		bad |= sum_to_json(a->sum, a->pol, j);
		if (live) {
			bad |= json_object_set_new(
			    j, "gateway", json_pack("{s:o}", "addresses", addresses_json(a)));
			bad |= json_object_set_new(j, "events", json_copy(a->events));
			bad |= json_object_set_new(j, "events_dropped",
						   json_integer(a->events_dropped));
			bad |= json_object_set_new(j, "kernel", kernel_json());
		} else {
			bad |= json_object_set_new(j, "kernel", json_null());
		}
	}
	int rc = bad ? -ENOMEM : 0;
	*failed = a->o.summary ? a->o.summary : a->o.spool;
	if (!rc && a->o.summary)
		rc = summary_write(a->o.summary, j);
	if (!rc && a->spool) {
		/* an empty offline window is named by the time it was written */
		uint64_t now = agent_now_ns();
		*failed = a->o.spool;
		rc = spool_write(a->spool, j, empty ? now : start, empty ? now : end_ns);
	}
	json_decref(j);
	return rc;
}

void win_next(struct agent *a, uint64_t start_ns)
{
	a->win_start_ns = start_ns;
	a->dec_base = *dec_stats(a->dec);
	a->flow_base = *flow_table_stats(a->ft);
	for (int i = 0; i < a->nifs; i++)
		a->ifs[i].window = agent_iface_stats(&a->ifs[i]);
	json_array_clear(a->events);
	a->events_dropped = 0;
	sum_reset(a->sum);
}

void win_tick(struct agent *a, uint64_t now, bool final)
{
	const char *failed = NULL;
	if (!a->o.summary && !a->spool) {
		win_next(a, now);
		return;
	}
	int rc = win_write_summary(a, now, final, &failed);
	if (rc)
		report_log("%s: cannot write summary: %s", failed, strerror(-rc));
	win_next(a, now);
}
