// SPDX-License-Identifier: MIT
/* segplan-agent: flows from packets, classified against the gateway's
 * policy, summarised per segment pair. Offline reading of capture files,
 * live capture on the gateway's interfaces (docs/agent.md, docs/summary.md).
 * This file wires the modules: options.c (command line and config file),
 * agent.c (the running agent's state and flow sink), loop.c (the live event
 * loop and the offline read), window.c (summary windows), privs.c
 * (privilege drop), report.c (everything the agent prints). */
#include <errno.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/loop.h"
#include "agent/options.h"
#include "agent/report.h"
#include "core/exitcodes.h"

/* The spool's log lines go where every line of the agent goes. */
static void spool_log(void *arg, const char *msg)
{
	(void)arg;
	report_log("%s", msg);
}

/* --spool: the chain's gateway is the policy's site id, else the host name. */
static int open_spool(struct agent *a)
{
	char host[256] = "";
	struct pol_table_meta m = {0};
	gethostname(host, sizeof(host) - 1);
	if (a->pol)
		pol_table_get_meta(a->pol, &m);
	struct spool_caps caps = {(a->o.spool_max_mb ? a->o.spool_max_mb : DEFAULT_SPOOL_MB) << 20,
				  (a->o.spool_max_days ? a->o.spool_max_days : DEFAULT_SPOOL_DAYS) *
				      86400};
	struct spool_env env = {NULL, spool_log, NULL};
	return spool_open(a->o.spool, host, m.gateway, &caps, &env, &a->spool);
}

int main(int argc, char **argv)
{
	struct agent a = {0};
	char **args = NULL;
	int nalloc = 0;
	struct cap *cap = NULL;
	int code = SEG_EXIT_OK, rc;
	a.dl = diag_list_new();
	a.events = json_array();
	if (!a.dl || !a.events) {
		code = report_fail(SEG_EXIT_SYSTEM, "setup", -ENOMEM);
		goto out;
	}
	rc = opt_load(argc, argv, a.dl, &a.o, &args, &nalloc);
	if (rc >= 0) {
		code = rc;
		goto out;
	}
	if (a.o.pseudonymise) {
		rc = pseudo_open(a.o.pseudonymise, a.dl, &a.ps);
		if (rc) {
			report_diags(a.dl);
			code = rc == -EINVAL ? SEG_EXIT_INPUT
					     : report_fail(SEG_EXIT_SYSTEM, "setup", rc);
			goto out;
		}
		/* From here on no output holds a raw host address. */
		exp_set_addr_hook(pseudo_addr_hook, a.ps);
	}
	if (a.o.ipfix) {
		struct ipfix_config ic = {.pseudo = a.ps};
		a.ix = ipfix_exporter_new(a.o.ipfix, (uint32_t)a.o.ipfix_domain, &ic, &rc);
		if (!a.ix) {
			code = rc == -EINVAL
				   ? opt_usage_error("--ipfix wants HOST:PORT or [IPV6]:PORT, "
						     "not '%s'",
						     a.o.ipfix)
			       : rc == -ENOENT
				   ? (report_log("%s: cannot resolve", a.o.ipfix), SEG_EXIT_INPUT)
				   : report_fail(SEG_EXIT_SYSTEM, a.o.ipfix, rc);
			goto out;
		}
	}
	/* Reading a file for its flows only costs nothing per record. */
	a.summarize = a.o.nifaces > 0 || a.o.summary || a.o.spool;
	struct flow_config fc = {
	    .max_flows = (size_t)a.o.max_flows,
	    .timeouts = a.o.timeouts,
	    .sink = a.summarize || a.o.flows_out || a.ix ? agent_sink : NULL,
	    .sink_arg = &a,
	    .parent_passes = agent_parent_passes,
	    .parent_arg = &a,
	};
	rc = flow_table_new(&fc, &a.ft);
	a.dec = dec_new(NULL);
	if (rc || !a.dec || sum_new(&a.sum)) {
		code = report_fail(SEG_EXIT_SYSTEM, "setup", rc ? rc : -ENOMEM);
		goto out;
	}
	if (a.o.vlan_key && (rc = opt_apply_vlan_key(a.ft, a.o.vlan_key)) != 0) {
		code = rc == -EINVAL ? opt_usage_error("--vlan-key wants VLAN ids 0-4095, not '%s'",
						       a.o.vlan_key)
				     : report_fail(SEG_EXIT_SYSTEM, "setup", rc);
		goto out;
	}
	if (a.o.policy) {
		rc = pol_table_load(a.o.policy, a.dl, &a.pol);
		if (rc) {
			report_diags(a.dl);
			code = rc == -ENOMEM ? report_fail(SEG_EXIT_SYSTEM, a.o.policy, rc)
					     : SEG_EXIT_INPUT;
			goto out;
		}
		a.policy_loaded_ns = agent_now_ns();
	}
	if (a.o.spool && (rc = open_spool(&a)) != 0) {
		code = report_fail(SEG_EXIT_SYSTEM, a.o.spool, rc);
		goto out;
	}
	if (a.o.filter && cap_filter_check(a.o.filter, a.dl) != 0) {
		report_diags(a.dl);
		code = SEG_EXIT_USAGE;
		goto out;
	}
	if (a.o.read) {
		rc = cap_open_offline(a.o.read, a.dl, &cap);
		if (rc) {
			report_diags(a.dl);
			code = rc == -EINVAL ? SEG_EXIT_INPUT
					     : report_fail(SEG_EXIT_SYSTEM, a.o.read, rc);
			goto out;
		}
		if (a.o.flows_out) {
			rc = atomic_file_open(a.o.flows_out, &a.af);
			if (rc) {
				code = report_fail(SEG_EXIT_SYSTEM, a.o.flows_out, rc);
				goto out;
			}
			a.offline_w.f = atomic_file_stream(a.af);
			a.w = &a.offline_w;
		}
		code = loop_run_offline(&a, cap);
		goto out;
	}
	for (int i = 0; i < a.o.nifaces; i++)
		a.ifs[a.nifs++].name = a.o.ifaces[i];
	if (a.o.flows_out) {
		struct exp_rotor_config rc_cfg = {
		    .path = a.o.flows_out,
		    .max_bytes = (a.o.rotate_mb ? a.o.rotate_mb : DEFAULT_ROT_MB) << 20,
		    .max_age_ns = (a.o.rotate_s ? a.o.rotate_s : DEFAULT_ROT_S) * SEC,
		    .retain_ns = (a.o.retain_set ? a.o.retain_h : DEFAULT_KEEP_H) * 3600 * SEC,
		};
		rc = exp_rotor_open(&rc_cfg, agent_now_ns(), &a.rot);
		if (rc) {
			code = report_fail(SEG_EXIT_SYSTEM, a.o.flows_out, rc);
			goto out;
		}
		a.w = exp_rotor_writer(a.rot);
	}
	code = loop_run_live(&a);
	rc = exp_rotor_close(a.rot);
	a.rot = NULL;
	if (rc && code == SEG_EXIT_OK)
		code = report_fail(SEG_EXIT_SYSTEM, a.o.flows_out, rc);
out:
	for (int i = 0; i < a.nifs; i++)
		agent_iface_close(&a.ifs[i]);
	exp_rotor_close(a.rot);
	nm_free(a.nm);
	atomic_file_abort(a.af);
	cap_close(cap);
	flow_table_free(a.ft);
	dec_free(a.dec);
	sum_free(a.sum);
	ipfix_exporter_free(a.ix);
	exp_set_addr_hook(NULL, NULL);
	pseudo_free(a.ps);
	pol_table_free(a.pol);
	spool_close(a.spool);
	json_decref(a.events);
	diag_list_free(a.dl);
	opt_free_args(args, nalloc);
	return code;
}
