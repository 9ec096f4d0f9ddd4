// SPDX-License-Identifier: MIT
#include "report/reportdata.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "rollout/rollout_bound.h"
#include "rollout/rollout_heur.h"

/* The VPN model's Monte Carlo check, as `segplan vpn` runs it by default. */
#define VPN_SAMPLES 2000L
#define VPN_SEED    1ULL

struct report_data {
	struct inventory *inv;
	struct topo *topo;
	struct topo_resilience res;
	struct topo_capacity cap;
	bool have_res, have_cap;
	struct rollout_config rcfg;
	struct rollout_city *city;
	struct rollout_plan plan;
	struct report_rollout rollout;
	bool have_rollout;
	struct vpn_config *vcfg;
	struct vpn_result vres;
	struct report_vpn vpn;
	bool have_vpn;
	struct policy *policy;
	struct zm_matrix matrix;
	bool have_matrix;
	struct audit *audit;
	struct audit_report *areport;
};

void report_data_free(struct report_data *d)
{
	if (!d)
		return;
	audit_report_free(d->areport);
	audit_free(d->audit);
	zm_matrix_free(&d->matrix);
	policy_free(d->policy);
	if (d->have_vpn)
		vpn_result_free(&d->vres);
	vpn_config_free(d->vcfg);
	rollout_plan_clear(&d->plan);
	rollout_city_free(d->city);
	rollout_config_clear(&d->rcfg);
	if (d->have_cap)
		topo_capacity_free(&d->cap);
	if (d->have_res)
		topo_resilience_free(&d->res);
	topo_free(d->topo);
	inventory_free(d->inv);
	free(d);
}

/* DIR/FILE when it exists, else NULL; -ENOMEM in *err. */
static char *model_path(const char *dir, const char *file, int *err)
{
	char *p;
	if (asprintf(&p, "%s/%s", dir, file) < 0) {
		*err = -ENOMEM;
		return NULL;
	}
	if (access(p, F_OK) != 0) {
		free(p);
		return NULL;
	}
	return p;
}

/* Reads the models present. Input problems go to dl; returns 0 or -ENOMEM. */
static int load_models(struct report_data *d, const char *dir, const char *date,
		       struct diag_list *dl)
{
	int err = 0, r;
	char *path = model_path(dir, "rollout.yaml", &err);
	if (path) {
		r = rollout_config_load(path, NULL, dl, &d->rcfg);
		if (r == 0)
			r = rollout_city_build(d->inv, &d->rcfg, dl, &d->city);
		free(path);
		d->have_rollout = r == 0;
		if (r == -ENOMEM)
			return r;
	}
	if ((path = model_path(dir, "vpn.yaml", &err))) {
		r = vpn_load_file(path, NULL, dl, &d->vcfg);
		free(path);
		if (r == -ENOMEM)
			return r;
	}
	if ((path = model_path(dir, "policy.yaml", &err))) {
		r = policy_load(path, NULL, d->inv, date, dl, &d->policy);
		free(path);
		if (r == -ENOMEM)
			return r;
	}
	return err;
}

static int load_summaries(struct report_data *d, const char *dir, const struct report_data_opts *o,
			  struct diag_list *dl)
{
	if (!o->nsummaries)
		return 0;
	if (!d->policy) {
		diag_add(dl, DIAG_ERROR, dir, 0, 0,
			 "agent summaries are held against the policy, and there is no "
			 "policy.yaml here");
		return 0;
	}
	int r = audit_new(d->policy, d->inv, NULL, &d->audit);
	/* A malformed summary is an error of its own; the others are still read and checked. */
	if (r == 0 && (r = audit_add_files(d->audit, o->summaries, o->nsummaries, dl)) == -EINVAL)
		r = 0;
	if (r == 0)
		r = audit_report(d->audit, &d->areport);
	return r;
}

static int analyse(struct report_data *d, const struct report_data_opts *o)
{
	struct topo_capacity_opts co = {.threshold = o->threshold > 0 ? o->threshold : 0.8,
					.n1 = TOPO_N1_AUTO};
	int r = topo_new(d->inv, NULL, &d->topo);
	if (r < 0 || (r = topo_resilience(d->topo, &d->res)) < 0)
		return r;
	d->have_res = true;
	if ((r = topo_capacity(d->topo, &co, &d->cap)) < 0)
		return r;
	d->have_cap = true;
	if (d->have_rollout) {
		if ((r = rollout_plan_init(&d->plan, d->city->inst)) < 0 ||
		    (r = rollout_heuristic(d->city->inst, &d->plan)) < 0)
			return r;
		d->rollout = (struct report_rollout){.cfg = &d->rcfg,
						     .city = d->city,
						     .plan = &d->plan,
						     .bound = rollout_bound(d->city->inst)};
	}
	if (d->vcfg) {
		struct vpn_options vo = {.users = 0, .samples = VPN_SAMPLES, .seed = VPN_SEED};
		if ((r = vpn_compute(d->vcfg, &vo, &d->vres)) < 0)
			return r;
		d->have_vpn = true;
		d->vpn = (struct report_vpn){.cfg = d->vcfg, .res = &d->vres};
	}
	if (d->policy) {
		if ((r = zm_compute(d->policy, d->inv, &d->matrix)) < 0)
			return r;
		d->have_matrix = true;
	}
	return 0;
}

int report_data_load(const char *dir, const struct report_data_opts *o, struct diag_list *dl,
		     struct report_data **out)
{
	struct report_data *d = calloc(1, sizeof(*d));
	int r = -ENOMEM;
	*out = NULL;
	if (!d)
		return r;
	rollout_config_init(&d->rcfg);
	if ((r = inventory_load(dir, dl, &d->inv)) < 0)
		goto out;
	if ((r = load_models(d, dir, o->date, dl)) < 0)
		goto out;
	if ((r = load_summaries(d, dir, o, dl)) < 0)
		goto out;
	if (diag_errors(dl)) {
		r = -EINVAL;
		goto out;
	}
	r = analyse(d, o);
out:
	if (r < 0)
		report_data_free(d);
	else
		*out = d;
	return r;
}

void report_data_input(const struct report_data *d, struct report_input *in)
{
	in->topo = d->topo;
	in->res = &d->res;
	in->cap = &d->cap;
	in->rollout = d->have_rollout ? &d->rollout : NULL;
	in->vpn = d->have_vpn ? &d->vpn : NULL;
	in->policy = d->have_matrix ? d->policy : NULL;
	in->matrix = d->have_matrix ? &d->matrix : NULL;
	in->audit = d->areport;
}
