// SPDX-License-Identifier: MIT
/* The live event loop and the offline read. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "agent/loop.h"
#include "agent/privs.h"
#include "agent/report.h"
#include "agent/window.h"
#include "core/exitcodes.h"

/* Opens the capture of an interface. 0, or a negative errno (diagnostics
 * in a->dl). */
static int iface_open(struct agent *a, struct iface *f)
{
	struct cap_live_config cfg = {
	    .ifname = f->name,
	    .buffer_mb = (unsigned)a->o.buffer_mb,
	    .snaplen = (unsigned)a->o.snaplen,
	    .filter = a->o.filter,
	};
	int rc = cap_open_live(&cfg, a->dl, &f->cap);
	if (rc)
		return rc;
	f->ifindex = cap_ifindex(f->cap);
	if (f->opened_once) {
		f->reopened++;
		report_log("capture on %s reopened (ifindex %" PRIu32 ")", f->name, f->ifindex);
		agent_record_event(a, "capture-reopened", f->name, (int)f->ifindex, NULL, NULL);
	}
	f->opened_once = true;
	return 0;
}

/* Reopens closed captures whose interface is there and up (netlink said
 * so, or the periodic check after a missed event). */
static void reopen_captures(struct agent *a)
{
	for (int i = 0; i < a->nifs; i++) {
		struct iface *f = &a->ifs[i];
		int ifindex;
		bool up;
		if (!a->nm || nm_link(a->nm, f->name, &ifindex, &up) != 0) {
			agent_iface_close(f);
			continue;
		}
		if (f->cap && (uint32_t)ifindex != f->ifindex) {
			/* Deleted and created again between two looks. */
			agent_iface_close(f);
		}
		if (!f->cap && up) {
			int rc = iface_open(a, f);
			/* Tried every second: say it once per new reason. */
			if (rc && rc != -ENODEV && rc != f->last_err) {
				report_log("cannot capture on %s: %s", f->name, strerror(-rc));
				agent_flush_diags(a);
			}
			f->last_err = rc;
		}
	}
	if (diag_count(a->dl) && !diag_errors(a->dl))
		agent_flush_diags(a);
	else if (diag_count(a->dl)) {
		/* Repeated failures: their diagnostics were shown once. */
		struct diag_list *fresh = diag_list_new();
		if (fresh) {
			diag_list_free(a->dl);
			a->dl = fresh;
		}
	}
}

static void on_netlink(void *arg, const struct nm_event *e)
{
	struct agent *a = arg;
	const char *what = nm_event_names[e->kind];
	if (e->kind == NM_ADDR_NEW || e->kind == NM_ADDR_DEL) {
		char text[INET6_ADDRSTRLEN + 8];
		const char *zone;
		bool local;
		ip_addr_format(&e->addr, text, sizeof(text));
		agent_zone_of(a, &e->addr, &zone, &local);
		report_log("address %s/%d %s on %s: zone %s%s", text, e->prefix_len,
			   e->kind == NM_ADDR_NEW ? "added" : "removed",
			   e->ifname[0] ? e->ifname : "?", zone ? zone : "unknown (no policy)",
			   local ? ", local segment" : "");
		agent_record_event(a, what, e->ifname, e->ifindex, text, zone);
		return;
	}
	if (e->kind == NM_RESYNC)
		report_log("netlink notifications were lost: links and addresses read again");
	else
		report_log("link %s (ifindex %d) %s", e->ifname[0] ? e->ifname : "?", e->ifindex,
			   e->kind == NM_LINK_NEW   ? "appeared"
			   : e->kind == NM_LINK_DEL ? "deleted"
			   : e->kind == NM_LINK_UP  ? "up"
						    : "down");
	agent_record_event(a, what, e->ifname, e->ifindex, NULL, NULL);
	for (int i = 0; i < a->nifs; i++)
		if (a->ifs[i].cap && e->kind == NM_LINK_DEL &&
		    (uint32_t)e->ifindex == a->ifs[i].ifindex)
			agent_iface_close(&a->ifs[i]);
}

static int setup_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -errno;
	int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

int loop_run_live(struct agent *a)
{
	int code = SEG_EXIT_OK, rc;
	int sfd = setup_signals();
	if (sfd < 0)
		return report_fail(SEG_EXIT_SYSTEM, "signalfd", sfd);
	rc = nm_new(on_netlink, a, &a->nm);
	if (rc) {
		close(sfd);
		return report_fail(SEG_EXIT_SYSTEM, "netlink", rc);
	}
	for (int i = 0; i < a->nifs; i++) {
		struct iface *f = &a->ifs[i];
		int ifindex;
		bool up;
		if (nm_link(a->nm, f->name, &ifindex, &up) != 0) {
			/* A typo, not an interface that comes later. */
			report_error("no interface '%s'", f->name);
			code = SEG_EXIT_INPUT;
			goto out;
		}
		rc = up ? iface_open(a, f) : 0;
		if (!up)
			report_log("%s is down: capturing once it comes up", f->name);
		if (rc == -ENODEV) {
			report_log("%s cannot be captured yet: waiting for it", f->name);
		} else if (rc) {
			report_diags(a->dl);
			code = rc == -EINVAL  ? SEG_EXIT_USAGE
			       : rc == -EPERM ? report_fail(SEG_EXIT_SYSTEM, f->name, rc)
					      : SEG_EXIT_SYSTEM;
			goto out;
		}
	}
	agent_flush_diags(a);
	rc = a->o.user ? privs_drop(a->o.user) : 0;
	if (rc == -ENOENT) {
		report_error("no user '%s'", a->o.user);
		code = SEG_EXIT_INPUT;
		goto out;
	} else if (rc) {
		code = report_fail(SEG_EXIT_SYSTEM, "dropping privileges", rc);
		goto out;
	}
	uint64_t now = agent_now_ns();
	uint64_t interval = (a->o.interval_s ? a->o.interval_s : DEFAULT_IVAL_S) * SEC;
	uint64_t next_summary = now + interval, next_tick = now + SEC;
	win_next(a, now);
	report_log("capturing on %d interface%s%s%s", a->nifs, a->nifs == 1 ? "" : "s",
		   a->pol ? ", policy " : "", a->pol ? a->o.policy : "");
	bool stop = false;
	while (!stop) {
		struct pollfd pfd[MAX_IFACES + 2];
		struct iface *owner[MAX_IFACES + 2];
		int n = 0;
		pfd[n] = (struct pollfd){.fd = sfd, .events = POLLIN};
		owner[n++] = NULL;
		pfd[n] = (struct pollfd){.fd = nm_fd(a->nm), .events = POLLIN};
		owner[n++] = NULL;
		for (int i = 0; i < a->nifs; i++)
			if (a->ifs[i].cap && cap_fd(a->ifs[i].cap) >= 0) {
				pfd[n] =
				    (struct pollfd){.fd = cap_fd(a->ifs[i].cap), .events = POLLIN};
				owner[n++] = &a->ifs[i];
			}
		now = agent_now_ns();
		uint64_t until = next_tick < next_summary ? next_tick : next_summary;
		int wait_ms = until > now ? (int)((until - now + 999999) / 1000000) : 0;
		if (poll(pfd, (nfds_t)n, wait_ms) < 0 && errno != EINTR) {
			code = report_fail(SEG_EXIT_SYSTEM, "poll", -errno);
			break;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
					stop = true;
				else if (si.ssi_signo == SIGHUP)
					agent_reload_policy(a);
				else if (si.ssi_signo == SIGUSR1)
					report_live_stats(a);
			}
		}
		if (pfd[1].revents & POLLIN) {
			rc = nm_process(a->nm);
			if (rc)
				report_log("netlink: %s", strerror(-rc));
			reopen_captures(a);
		}
		for (int k = 2; k < n; k++) {
			if (!(pfd[k].revents & (POLLIN | POLLERR | POLLHUP)) || !owner[k]->cap)
				continue;
			rc = cap_dispatch(owner[k]->cap, a->dec, a->ft, 0, a->dl);
			if (rc < 0) {
				agent_flush_diags(a);
				agent_iface_close(owner[k]);
				report_log(
				    "capture on %s closed: reopened when the interface is back",
				    owner[k]->name);
				agent_record_event(a, "capture-closed", owner[k]->name,
						   (int)owner[k]->ifindex, NULL, NULL);
			}
		}
		now = agent_now_ns();
		if (now >= next_tick) {
			flow_table_expire(a->ft, now);
			if (a->ix)
				ipfix_poll(a->ix);
			if (a->rot && (rc = exp_rotor_tick(a->rot, now)) != 0)
				report_log("%s: %s", a->o.flows_out, strerror(-rc));
			reopen_captures(a);
			next_tick = now + SEC;
		}
		if (now >= next_summary) {
			win_tick(a, now, false);
			next_summary += interval;
			if (next_summary <= now)
				next_summary = now + interval;
		}
	}
	/* Nothing lost: what the rings still hold, then every open flow. */
	for (int i = 0; i < a->nifs; i++)
		if (a->ifs[i].cap)
			cap_dispatch(a->ifs[i].cap, a->dec, a->ft, 0, a->dl);
	dec_flush(a->dec);
	flow_table_flush(a->ft);
	if (a->ix)
		ipfix_flush(a->ix);
	now = agent_now_ns();
	win_tick(a, now, true);
	report_log("stopped: %" PRIu64 " packets, %" PRIu64 " flow records",
		   dec_stats(a->dec)->read, flow_table_stats(a->ft)->records);
out:
	close(sfd);
	return code;
}

int loop_run_offline(struct agent *a, struct cap *cap)
{
	int code = SEG_EXIT_OK;
	int rc = cap_run(cap, a->dec, a->ft, a->dl);
	dec_flush(a->dec);
	flow_table_flush(a->ft);
	if (a->ix)
		ipfix_flush(a->ix);
	if (rc) {
		/* The file is refused part-way: report, and write no flows. */
		report_diags(a->dl);
		a->capture_error = "the capture was refused part-way";
		code = SEG_EXIT_INPUT;
	} else if (a->w && a->w->err) {
		code = report_fail(SEG_EXIT_SYSTEM, a->o.flows_out, a->w->err);
	} else if (a->af) {
		rc = atomic_file_commit(a->af);
		a->af = NULL;
		if (rc)
			code = report_fail(SEG_EXIT_SYSTEM, a->o.flows_out, rc);
	}
	const char *failed = NULL;
	if ((a->o.summary || a->spool) && (rc = win_write_summary(a, 0, true, &failed)) != 0 &&
	    code == SEG_EXIT_OK)
		code = report_fail(SEG_EXIT_SYSTEM, failed, rc);

	if (a->o.stats_json) {
		json_t *j = exp_stats_json(dec_stats(a->dec), flow_table_stats(a->ft),
					   flow_table_count(a->ft), flow_table_mem(a->ft));
		if (j) {
			json_object_set_new(j, "file", json_string(a->o.read));
			json_object_set_new(j, "linktype", json_string(cap_linktype_name(cap)));
			json_object_set_new(j, "complete", json_boolean(code == SEG_EXIT_OK));
		}
		if (!j || report_stats_json(j) != 0) {
			if (code == SEG_EXIT_OK)
				code = report_fail(SEG_EXIT_SYSTEM, "stats", -ENOMEM);
		}
		json_decref(j);
	} else {
		report_stats_text(a->o.read, dec_stats(a->dec), flow_table_stats(a->ft));
	}
	return code;
}
