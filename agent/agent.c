// SPDX-License-Identifier: MIT
/* The running agent's state and what acts on it between packets. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/report.h"

uint64_t agent_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

bool agent_parent_passes(void *arg, const struct flow *f)
{
	struct agent *a = arg;
	struct sum_class c;
	sum_classify(a->pol, f, &c);
	return !c.classified || c.v.passes;
}

void agent_sink(void *arg, const struct flow *f, enum flow_end why)
{
	struct agent *a = arg;
	struct sum_class c;
	if (a->summarize)
		sum_add(a->sum, a->pol, f, why, &c);
	else
		sum_classify(a->pol, f, &c);
	if (!a->first_ns || f->first_ns < a->first_ns)
		a->first_ns = f->first_ns;
	if (f->last_ns > a->last_ns)
		a->last_ns = f->last_ns;
	if (a->ix)
		ipfix_export(a->ix, f, why);
	if (!a->w || a->w->err)
		return;
	json_t *o = exp_flow_json(f, why);
	if (!o || sum_class_to_json(a->pol, &c, o) != 0) {
		a->w->err = -ENOMEM;
		json_decref(o);
		return;
	}
	exp_jsonl_write(a->w, o);
	json_decref(o);
}

void agent_zone_of(const struct agent *a, const struct ip_addr *ad, const char **zone, bool *local)
{
	*zone = NULL;
	*local = false;
	if (!a->pol)
		return;
	struct pol_class c;
	pol_classify(a->pol, ad, &c);
	*zone = pol_table_zone_name(a->pol, c.zone);
	*local = c.local;
}

static void add_stats(struct cap_stats *t, const struct cap_stats *s)
{
	t->received += s->received;
	t->dropped += s->dropped;
	t->if_dropped += s->if_dropped;
}

struct cap_stats agent_iface_stats(struct iface *f)
{
	struct cap_stats t = f->closed, cur = {0};
	if (f->cap && cap_stats(f->cap, &cur) == 0)
		add_stats(&t, &cur);
	return t;
}

void agent_iface_close(struct iface *f)
{
	struct cap_stats cur = {0};
	if (!f->cap)
		return;
	if (cap_stats(f->cap, &cur) == 0)
		add_stats(&f->closed, &cur);
	cap_close(f->cap);
	f->cap = NULL;
}

void agent_record_event(struct agent *a, const char *what, const char *ifname, int ifindex,
			const char *addr, const char *zone)
{
	char when[32];
	if (json_array_size(a->events) >= MAX_EVENTS) {
		a->events_dropped++;
		return;
	}
	json_t *e = json_pack("{s:s,s:s,s:s?,s:i}", "time",
			      summary_time(agent_now_ns(), when, sizeof(when)), "event", what,
			      "interface", ifname && *ifname ? ifname : NULL, "ifindex", ifindex);
	if (e && addr) {
		json_object_set_new(e, "address", json_string(addr));
		json_object_set_new(e, "zone", zone ? json_string(zone) : json_null());
	}
	if (e)
		json_array_append_new(a->events, e);
}

void agent_flush_diags(struct agent *a)
{
	report_diags(a->dl);
	struct diag_list *fresh = diag_list_new();
	if (fresh) {
		diag_list_free(a->dl);
		a->dl = fresh;
	}
}

void agent_reload_policy(struct agent *a)
{
	struct pol_table *t = NULL;
	if (!a->o.policy) {
		report_log("SIGHUP: no --policy to reload");
		return;
	}
	int rc = pol_table_load(a->o.policy, a->dl, &t);
	if (rc) {
		a->reload_errors++;
		report_log("%s: reload failed, the previous policy stays", a->o.policy);
		agent_flush_diags(a);
		agent_record_event(a, "policy-reload-failed", NULL, 0, NULL, NULL);
		return;
	}
	pol_table_free(a->pol);
	a->pol = t;
	sum_policy_changed(a->sum);
	a->reloads++;
	a->policy_loaded_ns = agent_now_ns();
	struct pol_table_meta m;
	pol_table_get_meta(t, &m);
	report_log("%s: policy reloaded (%s, %s)", a->o.policy, m.hash ? m.hash : "no hash",
		   pol_mode_names[m.mode]);
	agent_record_event(a, "policy-reloaded", NULL, 0, NULL, NULL);
}
