// SPDX-License-Identifier: MIT
#include "report/report.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic.h"
#include "topology/export.h"

/* Broadband colours, shared by the map and its legend. */
static const char *const bb_css[BB_COUNT] = {"#2e7d32", "#1565c0", "#ef6c00", "#c62828"};
static const char *const bb_label[BB_COUNT] = {"fibre", "interim line", "DSL", "none"};

static const char *const verdict_label[ZM_VERDICT_COUNT] = {"·", "none", "some", "scoped", "all"};
static const char *const verdict_text[ZM_VERDICT_COUNT] = {
    "no gateway sees these packets", "denied", "some services, everywhere",
    "accepted only in part of the places (scope, site exceptions)", "every service, everywhere"};

static const char *const state_text[VPN_STATE_COUNT] = {"normal", "one gateway lost",
							"one uplink lost"};
static const char *const resource_text[VPN_RESOURCE_COUNT] = {"tunnels", "gateway throughput",
							      "uplink throughput"};

/* Year codes of the map: 0 on fibre (or not part of the rollout), 1..T, -1 not planned. */
#define YEAR_NOT_PLANNED (-1)

static const char css[] =
    ":root{--ink:#1f2933;--muted:#616e7c;--line:#e4e7eb;--bg:#f3f5f8;--head:#102a43}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font:14px/1.45 \"DejaVu Sans\",\"Segoe UI\",Roboto,Helvetica,Arial,"
    "sans-serif;color:var(--ink);background:var(--bg)}\n"
    "header{background:var(--head);color:#fff;padding:22px 32px 14px}\n"
    "header h1{margin:0;font-size:24px;font-weight:600}\n"
    "header p{margin:4px 0 0;color:#bcccdc;font-size:13px}\n"
    "nav{display:flex;flex-wrap:wrap;gap:18px;margin-top:14px}\n"
    "nav a{color:#d9e2ec;text-decoration:none;font-size:13px}\n"
    "nav a:hover{color:#fff;text-decoration:underline}\n"
    "main{max-width:1240px;margin:0 auto;padding:24px 32px}\n"
    "section{background:#fff;border:1px solid var(--line);border-radius:8px;"
    "padding:20px 24px;margin-bottom:24px}\n"
    "h2{margin:0 0 4px;font-size:18px}\n"
    "h3{margin:18px 0 6px;font-size:14px}\n"
    ".lead{margin:0 0 14px;color:var(--muted)}\n"
    ".note{color:var(--muted);font-size:12px;margin:8px 0 0}\n"
    ".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(175px,1fr));gap:12px;"
    "background:none;border:0;padding:0}\n"
    ".card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 16px;"
    "border-top:4px solid var(--c,#486581)}\n"
    ".card .k{font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}\n"
    ".card .v{font-size:24px;font-weight:600;margin-top:2px}\n"
    ".card .s{font-size:12px;color:var(--muted)}\n"
    "table{border-collapse:collapse;width:100%;font-size:13px}\n"
    "th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:left;"
    "vertical-align:middle}\n"
    "th{font-weight:600;color:var(--muted);font-size:12px}\n"
    ".n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    ".bar{display:inline-flex;width:100%;min-width:120px;height:11px;background:#e4e7eb;"
    "border-radius:6px;overflow:hidden;vertical-align:middle}\n"
    ".bar>span{display:block;height:100%}\n"
    ".ok{background:#2e7d32}.warn{background:#f0a30a}.bad{background:#c62828}"
    ".info{background:#1565c0}.gain{background:#81c784}\n"
    ".two{display:grid;grid-template-columns:1fr 1fr;gap:24px}\n"
    "@media (max-width:900px){.two{grid-template-columns:1fr}}\n"
    ".view{position:absolute;opacity:0;pointer-events:none}\n"
    ".toggle{display:flex;gap:8px;margin-bottom:10px}\n"
    ".toggle label{padding:4px 14px;border:1px solid #bcccdc;border-radius:16px;cursor:pointer;"
    "font-size:13px;user-select:none}\n"
    "#v-bb:checked~.toggle label[for=v-bb],#v-year:checked~.toggle label[for=v-year]"
    "{background:var(--head);border-color:var(--head);color:#fff}\n"
    ".mapbox svg{width:100%;height:auto;max-height:860px;display:block;"
    "border:1px solid var(--line);"
    "border-radius:6px}\n"
    ".site{cursor:pointer}.site:hover{stroke:#000;stroke-width:2}\n"
    /* Half the links of a city are bridges to single sites: thinner, or they hide the sites. */
    "svg.map line[stroke=\"#d50000\"]{stroke-width:1.6}\n"
    ".legend{display:flex;flex-wrap:wrap;gap:6px 16px;margin-top:10px;font-size:12px;"
    "color:var(--muted)}\n"
    ".legend i{display:inline-block;width:11px;height:11px;border-radius:50%;"
    "margin-right:5px;vertical-align:-1px}\n"
    ".legend i.ring{background:#fff;border:2px solid #d50000}\n"
    ".legend i.ln{border-radius:0;height:0;width:22px;border-top:2px solid #607d8b}\n"
    ".legend i.ln.rent{border-top:1px dashed #90a4ae}\n"
    ".legend i.ln.spof{border-top:2px solid #d50000}\n"
    ".legend-year{display:none}\n"
    "#v-year:checked~.mapbox .legend-year{display:flex}\n"
    "#v-year:checked~.mapbox .legend-bb{display:none}\n"
    ".info-line{min-height:1.5em;margin:8px 0 0;font-size:13px}\n"
    ".mx-wrap{overflow-x:auto}\n"
    "table.matrix{width:auto;border-collapse:separate;border-spacing:2px}\n"
    "table.matrix th,table.matrix td{border:0;padding:0}\n"
    "table.matrix th.colh{height:110px;vertical-align:bottom;text-align:center}\n"
    "table.matrix th.colh span{writing-mode:vertical-rl;transform:rotate(180deg);"
    "white-space:nowrap;padding:4px 0}\n"
    "table.matrix th.rowh{text-align:right;padding-right:8px;white-space:nowrap}\n"
    "table.matrix th.corner{vertical-align:bottom;text-align:right;padding:0 8px 4px 0;"
    "font-weight:normal}\n"
    "td.cell{width:54px;height:30px;text-align:center;font-size:11px;border-radius:3px;"
    "cursor:default;position:relative}\n"
    "td.cell:hover{outline:2px solid var(--head)}\n"
    ".c-allowed{background:#2e7d32;color:#fff}.c-partly{background:#a5d6a7}"
    ".c-scoped{background:#ffe082}.c-denied{background:#eceff1;color:#90a4ae}"
    ".c-never{background:#fafafa;color:#cfd8dc}\n"
    "td.cell.obs{box-shadow:inset 0 0 0 2px #c62828}\n"
    "td.cell b.obs{color:#c62828}\n"
    ".chip.obs{background:#fff;box-shadow:inset 0 0 0 2px #c62828}\n"
    ".chip{display:inline-block;width:22px;height:13px;border-radius:3px;margin-right:5px;"
    "vertical-align:-2px}\n"
    "footer{color:var(--muted);font-size:12px;text-align:center;padding:0 0 28px}\n"
    "@media print{header{background:#fff;color:#000}nav,.toggle{display:none}"
    "section{break-inside:avoid}}\n";

/* Shows the title of the site or cell the pointer is on in the section's info line. */
static const char script[] =
    "(function(){\n"
    "document.querySelectorAll('[data-info]').forEach(function(box){\n"
    "var out=document.getElementById(box.getAttribute('data-info'));\n"
    "if(!out)return;\n"
    "box.addEventListener('mouseover',function(e){\n"
    "var el=e.target.closest('.site,.cell');if(!el)return;\n"
    "var t=el.querySelector('title');\n"
    "out.textContent=t?t.textContent:(el.getAttribute('title')||'');});});\n"
    "document.documentElement.setAttribute('data-script','ok');\n"
    "})();\n";

void report_html_text(FILE *f, const char *s)
{
	export_xml_text(f, s);
}

/* 1234567.8 with 0 decimals -> "1,234,568". */
static const char *num(char *buf, size_t size, double v, int decimals)
{
	char digits[64];
	if (!isfinite(v)) {
		snprintf(buf, size, "%s", isnan(v) ? "n/a" : v > 0 ? "∞" : "-∞");
		return buf;
	}
	snprintf(digits, sizeof(digits), "%.*f", decimals, fabs(v));
	size_t n = strcspn(digits, "."), o = 0;
	bool neg = v < 0 && strspn(digits, "0.") != strlen(digits);
	if (neg && o + 1 < size)
		buf[o++] = '-';
	for (size_t i = 0; digits[i] && o + 2 < size; i++) {
		if (i && i < n && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

static double clamp01(double x)
{
	return isfinite(x) ? fmin(1, fmax(0, x)) : 0;
}

/* A bar of one or two parts, fractions of the whole width. */
static void bar2(FILE *f, double a, const char *ca, double b, const char *cb)
{
	a = clamp01(a);
	b = fmin(clamp01(b), 1 - a);
	fprintf(f, "<span class=\"bar\"><span class=\"%s\" style=\"width:%.1f%%\"></span>", ca,
		100 * a);
	if (cb && b > 0)
		fprintf(f, "<span class=\"%s\" style=\"width:%.1f%%\"></span>", cb, 100 * b);
	fputs("</span>", f);
}

/* The colour of rollout year t of T: indigo early to lime late. */
static void year_colour(int t, int horizon, char out[8])
{
	static const unsigned char anchor[][3] = {{0x28, 0x35, 0x93},
						  {0x1e, 0x88, 0xe5},
						  {0x00, 0xac, 0xc1},
						  {0x43, 0xa0, 0x47},
						  {0xc0, 0xca, 0x33}};
	const int na = sizeof(anchor) / sizeof(anchor[0]);
	double x = horizon > 1 ? (double)(t - 1) / (horizon - 1) * (na - 1) : 0;
	int i = (int)fmin(floor(x), na - 2);
	double u = x - i;
	unsigned rgb[3];
	for (int k = 0; k < 3; k++)
		rgb[k] = (unsigned)lround(anchor[i][k] + (anchor[i + 1][k] - anchor[i][k]) * u);
	snprintf(out, 8, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

struct ctx {
	const struct report_input *in;
	const struct inventory *inv;
	int *year; /* per site: a year code */
	int first_year;
};

static int calendar(const struct ctx *c, int t)
{
	return c->first_year + t - 1;
}

static void site_attrs(FILE *f, size_t v, void *arg)
{
	struct ctx *c = arg;
	const struct site *s = &c->inv->sites[v];
	fprintf(f, " class=\"site bb-%d\" data-id=\"", (int)s->broadband);
	report_html_text(f, s->id);
	if (c->year[v] == YEAR_NOT_PLANNED)
		fputs("\" data-y=\"n\"", f);
	else
		fprintf(f, "\" data-y=\"%d\"", c->year[v]);
}

static void site_title(FILE *f, size_t v, void *arg)
{
	struct ctx *c = arg;
	const struct site *s = &c->inv->sites[v];
	if (s->district >= 0 && (size_t)s->district < c->inv->ndistricts) {
		fputs(", ", f);
		report_html_text(f, c->inv->districts[s->district].name);
	}
	if (!c->in->rollout)
		return;
	if (c->year[v] > 0)
		fprintf(f, ", fibre in %d", calendar(c, c->year[v]));
	else if (c->year[v] == YEAR_NOT_PLANNED)
		fputs(", not in the rollout plan", f);
}

/* ---- header and summary ---- */

static void card(FILE *f, const char *colour, const char *key, const char *value)
{
	fprintf(f,
		"<div class=\"card\" style=\"--c:%s\"><div class=\"k\">%s</div><div class=\"v\">",
		colour, key);
	report_html_text(f, value);
	fputs("</div><div class=\"s\">", f);
}

static size_t covered(const struct report_rollout *r, int t)
{
	size_t k = r->city->fibre;
	for (int v = 1; v <= r->city->inst->n; v++)
		k += r->plan->year[v] >= 1 && r->plan->year[v] <= t;
	return k;
}

static double share(const struct report_rollout *r, size_t k)
{
	return r->city->sites ? (double)k / (double)r->city->sites : 1;
}

static void summary(FILE *f, struct ctx *c)
{
	const struct report_input *in = c->in;
	const struct inventory *inv = c->inv;
	char b1[64], b2[64];
	fputs("<section class=\"cards\" id=\"summary\">\n", f);
	card(f, "#486581", "Sites", num(b1, sizeof(b1), (double)inv->nsites, 0));
	fprintf(f, "%zu districts, %zu links</div></div>\n", inv->ndistricts, inv->nlinks);
	if (in->rollout) {
		const struct report_rollout *r = in->rollout;
		int T = r->city->inst->horizon;
		snprintf(b1, sizeof(b1), "%.0f%%", 100 * share(r, r->city->fibre));
		card(f, bb_css[BB_FIBRE], "On fibre now", b1);
		fprintf(f, "%.0f%% by the end of %d</div></div>\n", 100 * share(r, covered(r, T)),
			calendar(c, T));
	}
	if (in->res) {
		card(f, "#d50000", "Single points of failure",
		     num(b1, sizeof(b1), (double)in->res->nspof, 0));
		fprintf(f, "%zu sites, %zu links; %s sites single-homed</div></div>\n",
			in->res->nspof_sites, in->res->nspof_links,
			num(b2, sizeof(b2), (double)in->res->class_count[TOPO_CLASS_SINGLE], 0));
	}
	if (in->vpn) {
		const struct vpn_result *v = in->vpn->res;
		double h = v->now.cell[v->worst_state][v->worst_resource].headroom;
		if (isnan(h))
			snprintf(b1, sizeof(b1), "none");
		else
			snprintf(b1, sizeof(b1), "%.0f%%", 100 * h);
		card(f,
		     isnan(h) || h < 0 ? "#c62828"
		     : h < 0.2	       ? "#f0a30a"
				       : "#2e7d32",
		     "VPN headroom", b1);
		fprintf(f, "least: %s, %s</div></div>\n", resource_text[v->worst_resource],
			state_text[v->worst_state]);
	}
	if (in->policy) {
		size_t exc = 0;
		for (size_t i = 0; i < in->policy->nrules; i++)
			exc += in->policy->rules[i].site >= 0;
		card(f, "#6a1b9a", "Policy zones",
		     num(b1, sizeof(b1), (double)in->matrix->nzones, 0));
		fprintf(f, "%zu rules, %zu of them site exceptions</div></div>\n",
			in->policy->nrules, exc);
	}
	if (in->audit) {
		const struct audit_report *au = in->audit;
		card(f, au->denied.flows ? "#c62828" : "#2e7d32", "Denied but observed",
		     num(b1, sizeof(b1), (double)au->denied.flows, 0));
		fprintf(f, "connections in %zu summar%s; %zu rules without a hit</div></div>\n",
			au->nsummaries, au->nsummaries == 1 ? "y" : "ies", au->unused);
	}
	fputs("</section>\n", f);
}

/* ---- the map ---- */

static void map_section(FILE *f, struct ctx *c)
{
	const struct report_input *in = c->in;
	fputs("<section id=\"map\">\n<h2>Sites and links</h2>\n"
	      "<p class=\"lead\">Every site at its coordinates and every built link; links and "
	      "sites whose single failure cuts others off from both data centres are marked "
	      "red.</p>\n"
	      "<input class=\"view\" type=\"radio\" name=\"view\" id=\"v-bb\" checked>\n",
	      f);
	if (in->rollout)
		fputs("<input class=\"view\" type=\"radio\" name=\"view\" id=\"v-year\">\n", f);
	fputs("<div class=\"toggle\"><label for=\"v-bb\">Broadband now</label>", f);
	if (in->rollout)
		fputs("<label for=\"v-year\">Rollout year</label>", f);
	fputs("</div>\n<div class=\"mapbox\" data-info=\"site-info\">\n", f);
}

static int map_body(FILE *f, struct ctx *c)
{
	const struct report_input *in = c->in;
	struct export_svg_opts o = {
	    .fragment = true, .site_attrs = site_attrs, .site_title = site_title, .ctx = c};
	int r = export_svg_opts(in->topo, in->res, &o, f);
	if (r < 0)
		return r;
	fputs("<div class=\"legend legend-bb\">", f);
	for (int b = 0; b < BB_COUNT; b++)
		fprintf(f, "<span><i style=\"background:%s\"></i>%s</span>", bb_css[b],
			bb_label[b]);
	fputs("</div>\n<div class=\"legend legend-year\"><span><i style=\"background:#c5ccd3\"></i>"
	      "on fibre already</span>",
	      f);
	if (in->rollout) {
		int T = in->rollout->city->inst->horizon;
		char col[8];
		for (int t = 1; t <= T; t++) {
			year_colour(t, T, col);
			fprintf(f, "<span><i style=\"background:%s\"></i>%d</span>", col,
				calendar(c, t));
		}
		fputs("<span><i style=\"background:#e53935\"></i>not in the plan</span>", f);
	}
	fputs("</div>\n<div class=\"legend\"><span><i class=\"ln\"></i>own fibre</span>"
	      "<span><i class=\"ln rent\"></i>rented line, DSL, radio</span>"
	      "<span><i class=\"ln spof\"></i>link that is a single point of failure</span>"
	      "<span><i class=\"ring\"></i>site that is a single point of failure</span>"
	      "<span>large marker: hub or data centre</span></div>\n"
	      "<p class=\"info-line\" id=\"site-info\">Point at a site for its details.</p>\n"
	      "</div>\n</section>\n",
	      f);
	return 0;
}

/* The map's colours by view, so that the legend and the markers share one table. */
static void map_css(FILE *f, const struct ctx *c)
{
	for (int b = 0; b < BB_COUNT; b++)
		fprintf(f, ".site.bb-%d{fill:%s}\n", b, bb_css[b]);
	if (!c->in->rollout)
		return;
	int T = c->in->rollout->city->inst->horizon;
	char col[8];
	fputs("#v-year:checked~.mapbox .site[data-y=\"0\"]{fill:#c5ccd3}\n"
	      "#v-year:checked~.mapbox .site[data-y=\"n\"]{fill:#e53935}\n",
	      f);
	for (int t = 1; t <= T; t++) {
		year_colour(t, T, col);
		fprintf(f, "#v-year:checked~.mapbox .site[data-y=\"%d\"]{fill:%s}\n", t, col);
	}
}

/* ---- rollout ---- */

static void rollout_section(FILE *f, struct ctx *c)
{
	const struct report_rollout *r = c->in->rollout;
	char b1[64], b2[64], b3[64];
	fputs("<section id=\"rollout\">\n<h2>Broadband rollout</h2>\n", f);
	if (!r) {
		fputs("<p class=\"lead\">No rollout plan: the inventory has no rollout.yaml.</p>\n"
		      "</section>\n",
		      f);
		return;
	}
	const struct rollout_inst *inst = r->city->inst;
	const struct rollout_plan *p = r->plan;
	int T = inst->horizon;
	fprintf(f,
		"<p class=\"lead\">Sites connected to the city's fibre each year within the "
		"budget, by priority; coverage counts the %zu sites that need broadband (data "
		"centres excluded).</p>\n"
		"<table class=\"timeline\">\n<thead><tr><th>Year</th><th class=\"n\">Sites</th>"
		"<th style=\"width:28%%\">Spent of the budget</th><th class=\"n\">EUR</th>"
		"<th style=\"width:28%%\">Fibre coverage at the end of the year</th>"
		"<th class=\"n\">Coverage</th></tr></thead>\n<tbody>\n",
		r->city->sites);
	size_t k0 = r->city->fibre;
	fputs("<tr class=\"now\"><td>now</td><td class=\"n\"></td><td></td><td></td><td>", f);
	bar2(f, share(r, k0), "ok", 0, NULL);
	fprintf(f, "</td><td class=\"n\">%.1f%% (%zu/%zu)</td></tr>\n", 100 * share(r, k0), k0,
		r->city->sites);
	size_t prev = k0;
	for (int t = 1; t <= T; t++) {
		int n = 0;
		for (int v = 1; v <= inst->n; v++)
			n += p->year[v] == t;
		size_t k = covered(r, t);
		double budget = inst->budget[t];
		fprintf(
		    f, "<tr class=\"year\" data-year=\"%d\"><td>%d</td><td class=\"n\">%d</td><td>",
		    calendar(c, t), calendar(c, t), n);
		bar2(f, budget > 0 ? p->spent[t] / budget : 0,
		     p->spent[t] > budget + 0.5 ? "bad" : "info", 0, NULL);
		fprintf(f, "</td><td class=\"n\">%s of %s</td><td>",
			num(b1, sizeof(b1), p->spent[t], 0), num(b2, sizeof(b2), budget, 0));
		bar2(f, share(r, prev), "ok", share(r, k) - share(r, prev), "gain");
		fprintf(f, "</td><td class=\"n\">%.1f%% (%zu/%zu)</td></tr>\n", 100 * share(r, k),
			k, r->city->sites);
		prev = k;
	}
	fputs("</tbody></table>\n", f);

	size_t unplanned = 0, urgent = 0, urgent_late = 0;
	double rent = 0;
	for (int v = 1; v <= inst->n; v++) {
		unplanned += p->year[v] == 0;
		if (!r->city->urgent[v])
			continue;
		urgent++;
		urgent_late += p->year[v] == 0;
		rent += rollout_city_rent(r->cfg, p->year[v], T);
	}
	double gap = r->bound > 0 ? (r->bound - p->value) / r->bound : 0;
	if (unplanned)
		fprintf(f, "<p class=\"note\">%s sites are still to connect after %d. ",
			num(b1, sizeof(b1), (double)unplanned, 0), calendar(c, T));
	else
		fprintf(f, "<p class=\"note\">Every site is on fibre by the end of %d. ",
			calendar(c, T));
	fprintf(f,
		"%zu urgent sites (under-served schools, critical infrastructure) pay %s EUR "
		"interim rent in total%s. Plan value %s, within %.2f%% of the upper bound %s.",
		urgent, num(b1, sizeof(b1), rent, 0),
		urgent_late ? ", some of them beyond the horizon" : "",
		num(b2, sizeof(b2), p->value, 1), 100 * gap, num(b3, sizeof(b3), r->bound, 1));
	if (r->city->excluded || r->city->unreachable)
		fprintf(f, " Left out: %zu excluded, %zu without a candidate trench.",
			r->city->excluded, r->city->unreachable);
	fputs("</p>\n</section>\n", f);
}

/* ---- VPN ---- */

static void vpn_section(FILE *f, const struct ctx *c)
{
	const struct report_vpn *vp = c->in->vpn;
	char b1[64], b2[64];
	fputs("<section id=\"vpn\">\n<h2>VPN headroom</h2>\n", f);
	if (!vp) {
		fputs("<p class=\"lead\">No VPN model: the inventory has no "
		      "vpn.yaml.</p>\n</section>\n",
		      f);
		return;
	}
	const struct vpn_config *cfg = vp->cfg;
	const struct vpn_result *r = vp->res;
	fprintf(f,
		"<p class=\"lead\">The busy hour of %s accounts against %ld gateways and %ld "
		"uplinks: concurrent tunnels (at most %g%% of users refused) and throughput (the "
		"%g%% percentile), in normal state and with one gateway or one uplink lost.</p>\n"
		"<table class=\"vpn\">\n<thead><tr><th>Resource</th><th>State</th>"
		"<th class=\"n\">Need</th><th class=\"n\">Capacity</th>"
		"<th style=\"width:34%%\">Utilisation</th><th class=\"n\">Headroom</th></tr>"
		"</thead>\n<tbody>\n",
		num(b1, sizeof(b1), (double)r->now.accounts, 0), cfg->gateways, cfg->uplinks,
		cfg->refusal * 100, cfg->percentile * 100);
	for (int k = 0; k < VPN_RESOURCE_COUNT; k++)
		for (int s = 0; s < VPN_STATE_COUNT; s++) {
			const struct vpn_cell *cell = &r->now.cell[s][k];
			int dec = k == VPN_TUNNELS ? 0 : 1;
			const char *unit = k == VPN_TUNNELS ? "" : " Mbit/s";
			double h = cell->headroom;
			fprintf(f, "<tr class=\"vpnrow\" data-resource=\"%s\" data-state=\"%s\">",
				vpn_resource_names[k], vpn_state_names[s]);
			if (s == 0)
				fprintf(f, "<td rowspan=\"%d\">%s</td>", VPN_STATE_COUNT,
					resource_text[k]);
			fprintf(f,
				"<td>%s</td><td class=\"n\">%s%s</td><td class=\"n\">%s%s</td><td>",
				state_text[s], num(b1, sizeof(b1), cell->need, dec), unit,
				num(b2, sizeof(b2), cell->capacity, dec), unit);
			bar2(f, cell->capacity > 0 ? cell->need / cell->capacity : 1,
			     isnan(h) || h < 0 ? "bad"
			     : h < 0.2	       ? "warn"
					       : "ok",
			     0, NULL);
			if (isnan(h))
				fputs("</td><td class=\"n\">none</td></tr>\n", f);
			else
				fprintf(f, "</td><td class=\"n\">%.1f%%</td></tr>\n", 100 * h);
		}
	fputs("</tbody></table>\n<p class=\"note\">Largest user count carried: ", f);
	if (r->max_users[VPN_NORMAL] < 0)
		fprintf(f, "at least %s", num(b1, sizeof(b1), (double)VPN_USERS_LIMIT, 0));
	else
		fputs(num(b1, sizeof(b1), (double)r->max_users[VPN_NORMAL], 0), f);
	fputs(" in normal state, ", f);
	if (r->max_users_n1 < 0)
		fprintf(f, "at least %s", num(b1, sizeof(b1), (double)VPN_USERS_LIMIT, 0));
	else
		fputs(num(b1, sizeof(b1), (double)r->max_users_n1, 0), f);
	fprintf(f, " with the worst single failure (%s). At %g%% growth a year ",
		state_text[r->n1_state], cfg->growth * 100);
	if (isfinite(r->years_n1))
		fprintf(f, "the N-1 headroom is gone in %.1f years", r->years_n1);
	else
		fputs("the N-1 headroom lasts", f);
	fprintf(f,
		"; in %ld years N-1 needs %ld gateways and %ld uplinks (now %ld and %ld).</p>\n"
		"</section>\n",
		cfg->horizon_years, r->gateways_needed, r->uplinks_needed, cfg->gateways,
		cfg->uplinks);
}

/* ---- policy ---- */

static void rule_text(FILE *f, const struct policy *p, int ri)
{
	const struct pol_rule *r = &p->rules[ri];
	report_html_text(f, r->id);
	fputs(" (", f);
	if (r->svc_any)
		fputs("any service", f);
	for (size_t i = 0; i < r->nservices; i++) {
		if (i)
			fputs(", ", f);
		report_html_text(f, p->services[r->services[i]].name);
	}
	if (r->scope != POL_SCOPE_ANY)
		fprintf(f, "; %s", pol_scope_names[r->scope]);
	if (r->site >= 0)
		fputs("; site exception", f);
	fputs(")", f);
}

/* The audit's denials on the matrix: per cell, the flows and the largest denials. */
struct observed {
	uint64_t flows;
	size_t top[3]; /* indices into the denials, by flows descending */
	size_t ntop;
	size_t ndenials;
};

static int matrix_row(const struct policy *p, const struct zm_matrix *m, const char *zone)
{
	for (size_t i = 0; zone && i < m->nzones; i++)
		if (strcmp(p->zones[m->zones[i]].name, zone) == 0)
			return (int)i;
	return -1;
}

static struct observed *observe(const struct policy *p, const struct zm_matrix *m,
				const struct audit_report *au, uint64_t *outside)
{
	struct observed *o = calloc(m->nzones * m->nzones + 1, sizeof(*o));
	*outside = 0;
	for (size_t i = 0; o && i < au->ndenials; i++) {
		const struct audit_denial *d = &au->denials[i];
		int r = matrix_row(p, m, d->from), k = matrix_row(p, m, d->to);
		if (r < 0 || k < 0) {
			*outside += d->c.flows;
			continue;
		}
		struct observed *x = &o[(size_t)r * m->nzones + (size_t)k];
		x->flows += d->c.flows;
		x->ndenials++;
		if (x->ntop < 3)
			x->top[x->ntop++] = i;
	}
	return o;
}

static int policy_section(FILE *f, const struct ctx *c)
{
	const struct policy *p = c->in->policy;
	const struct zm_matrix *m = c->in->matrix;
	const struct audit_report *au = c->in->audit;
	struct observed *obs = NULL;
	uint64_t outside = 0;
	char b1[64];
	fputs("<section id=\"policy\">\n<h2>Segment policy: who may talk to whom</h2>\n", f);
	if (!p || !m) {
		fputs("<p class=\"lead\">No policy: the inventory has no policy.yaml.</p>\n"
		      "</section>\n",
		      f);
		return 0;
	}
	if (au && !(obs = observe(p, m, au, &outside)))
		return -ENOMEM;
	fprintf(
	    f,
	    "<p class=\"lead\">What the gateways' rules accept from each zone (row) to each "
	    "zone (column), computed exactly over every gateway's view (%zu rule lists).%s</p>\n"
	    "<div class=\"mx-wrap\" data-info=\"cell-info\">\n<table class=\"matrix\">\n"
	    "<thead><tr><th class=\"corner\">from ↓ to →</th>",
	    m->views,
	    au ? " A red frame and number: connections the agents observed that the policy "
		 "denies."
	       : "");
	for (size_t j = 0; j < m->nzones; j++) {
		fputs("<th class=\"colh\"><span>", f);
		report_html_text(f, p->zones[m->zones[j]].name);
		fputs("</span></th>", f);
	}
	fputs("</tr></thead>\n<tbody>\n", f);
	for (size_t i = 0; i < m->nzones; i++) {
		const char *from = p->zones[m->zones[i]].name;
		fputs("<tr><th class=\"rowh\">", f);
		report_html_text(f, from);
		fputs("</th>", f);
		for (size_t j = 0; j < m->nzones; j++) {
			const struct zm_cell *cell = &m->cells[i * m->nzones + j];
			const char *to = p->zones[m->zones[j]].name;
			const struct observed *ob = obs ? &obs[i * m->nzones + j] : NULL;
			fprintf(f, "<td class=\"cell c-%s%s\" data-from=\"",
				zm_verdict_names[cell->verdict], ob && ob->flows ? " obs" : "");
			report_html_text(f, from);
			fputs("\" data-to=\"", f);
			report_html_text(f, to);
			fputs("\" title=\"", f);
			report_html_text(f, from);
			fputs(" → ", f);
			report_html_text(f, to);
			fprintf(f, ": %s.", verdict_text[cell->verdict]);
			for (size_t k = 0; k < cell->nrules; k++) {
				fputs(k ? ", " : " Accepted by ", f);
				rule_text(f, p, cell->rules[k]);
			}
			if (cell->exceptions)
				fputs(". Site exceptions decide part of it", f);
			if (ob && ob->flows) {
				fprintf(f, ". Denied but observed: %s connections (",
					num(b1, sizeof(b1), (double)ob->flows, 0));
				for (size_t k = 0; k < ob->ntop; k++) {
					const struct audit_denial *d = &au->denials[ob->top[k]];
					audit_svc_text(&d->svc, b1, sizeof(b1));
					fprintf(f, "%s%s %llu", k ? ", " : "", b1,
						(unsigned long long)d->c.flows);
				}
				fputs(ob->ndenials > ob->ntop ? ", ...)" : ")", f);
			}
			if (ob && ob->flows)
				fprintf(f, ".\"><b class=\"obs\">%s</b>",
					num(b1, sizeof(b1), (double)ob->flows, 0));
			else
				fprintf(f, ".\">%s", verdict_label[cell->verdict]);
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table>\n</div>\n<div class=\"legend\">", f);
	static const int order[] = {ZM_ALLOWED, ZM_PARTLY, ZM_SCOPED, ZM_DENIED, ZM_NEVER};
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++)
		fprintf(f, "<span><span class=\"chip c-%s\"></span>%s: %s</span>",
			zm_verdict_names[order[k]], verdict_label[order[k]],
			verdict_text[order[k]]);
	if (au)
		fputs("<span><span class=\"chip obs\"></span>denied, yet observed: connections "
		      "seen</span>",
		      f);
	fputs("</div>\n", f);
	if (outside)
		fprintf(
		    f,
		    "<p class=\"note\">%s denied connections observed with an end in no zone of "
		    "the matrix.</p>\n",
		    num(b1, sizeof(b1), (double)outside, 0));
	fputs("<p class=\"info-line\" id=\"cell-info\">Point at a cell for the rules behind "
	      "it.</p>\n</section>\n",
	      f);
	free(obs);
	return 0;
}

/* ---- weak spots ---- */

static void site_name(FILE *f, const struct inventory *inv, int v)
{
	report_html_text(f, inv->sites[v].id);
	fputs(" ", f);
	report_html_text(f, inv->sites[v].name);
}

static void link_ends(FILE *f, const struct inventory *inv, int l)
{
	const struct link *k = &inv->links[l];
	report_html_text(f, inv->sites[k->a].id);
	fputs(" – ", f);
	report_html_text(f, inv->sites[k->b].id);
}

static void spof_table(FILE *f, const struct ctx *c)
{
	const struct topo_resilience *res = c->in->res;
	const struct inventory *inv = c->inv;
	size_t top = c->in->top ? c->in->top : 10;
	char b1[64];
	size_t total = 0;
	for (int k = 0; k < 4; k++)
		total += res->class_count[k];
	static const struct {
		int cls;
		const char *name, *colour;
	} classes[] = {{TOPO_CLASS_REDUNDANT, "redundant", "ok"},
		       {TOPO_CLASS_SINGLE, "single-homed", "warn"},
		       {TOPO_CLASS_CUT_OFF, "cut off", "bad"},
		       {TOPO_CLASS_FAILED, "failed", "info"}};
	fputs("<h3>Redundancy of the sites towards the data centres</h3>\n<table class=\"classes\">"
	      "<tbody>\n",
	      f);
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		size_t n = res->class_count[classes[i].cls];
		if (classes[i].cls == TOPO_CLASS_FAILED && !n)
			continue;
		fprintf(f, "<tr><td>%s</td><td class=\"n\">%s</td><td style=\"width:60%%\">",
			classes[i].name, num(b1, sizeof(b1), (double)n, 0));
		bar2(f, total ? (double)n / (double)total : 0, classes[i].colour, 0, NULL);
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n<h3>Single points of failure, by what they cut off</h3>\n", f);
	if (!res->nspof) {
		fputs("<p class=\"note\">None: every site survives any single failure.</p>\n", f);
		return;
	}
	fputs("<table class=\"spof\">\n<thead><tr><th>Element</th><th>What</th>"
	      "<th class=\"n\">Sites cut off</th><th class=\"n\">Demand</th><th>Among them</th>"
	      "</tr></thead>\n<tbody>\n",
	      f);
	size_t shown = res->nspof < top ? res->nspof : top;
	for (size_t i = 0; i < shown; i++) {
		const struct topo_spof *s = &res->spof[i];
		fprintf(f, "<tr class=\"spof-row\"><td>%s</td><td>",
			s->kind == TOPO_SITE ? "site" : "link");
		if (s->kind == TOPO_SITE) {
			site_name(f, inv, s->index);
		} else {
			report_html_text(f, inv->links[s->index].id);
			fputs(" (", f);
			link_ends(f, inv, s->index);
			fprintf(f, ", %s)", link_kind_names[inv->links[s->index].kind]);
		}
		fprintf(f, "</td><td class=\"n\">%zu</td><td class=\"n\">%s Mbit/s</td><td>",
			s->ncut, num(b1, sizeof(b1), s->cut_demand_mbps, 0));
		for (size_t k = 0; k < s->ncut && k < 3; k++) {
			if (k)
				fputs(", ", f);
			report_html_text(f, inv->sites[s->cut[k]].name);
		}
		if (s->ncut > 3)
			fprintf(f, " and %zu more", s->ncut - 3);
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
	if (res->nspof > shown) {
		size_t ones = 0;
		for (size_t i = shown; i < res->nspof; i++)
			ones += res->spof[i].ncut == 1;
		fprintf(f,
			"<p class=\"note\">%zu more, %zu of them cutting off one site each.</p>\n",
			res->nspof - shown, ones);
	}
}

struct util_key {
	int link;
	double util;
};

static int by_util_desc(const void *a, const void *b)
{
	const struct util_key *x = a, *y = b;
	if (x->util != y->util)
		return x->util < y->util ? 1 : -1;
	return (x->link > y->link) - (x->link < y->link);
}

/* load_row's cause for the normal state's table, which has no cause column. */
#define NO_CAUSE_COLUMN (-2)

static void load_row(FILE *f, const struct inventory *inv, int l, double load, double util,
		     double threshold, int cause)
{
	char b1[64], b2[64];
	fputs("<tr class=\"load-row\"><td>", f);
	report_html_text(f, inv->links[l].id);
	fputs("<br><small>", f);
	link_ends(f, inv, l);
	fprintf(f, "</small></td><td class=\"n\">%s / %s</td><td style=\"width:32%%\">",
		num(b1, sizeof(b1), load, 0), num(b2, sizeof(b2), inv->links[l].capacity_mbps, 0));
	bar2(f, util, util > 1 ? "bad" : util > threshold ? "warn" : "info", 0, NULL);
	fprintf(f, "</td><td class=\"n\">%.0f%%</td>", 100 * util);
	if (cause != NO_CAUSE_COLUMN) {
		fputs("<td>", f);
		if (cause >= 0)
			report_html_text(f, inv->links[cause].id);
		else
			fputs("–", f);
		fputs("</td>", f);
	}
	fputs("</tr>\n", f);
}

static int load_tables(FILE *f, const struct ctx *c)
{
	const struct topo_capacity *cap = c->in->cap;
	const struct inventory *inv = c->inv;
	size_t top = c->in->top ? c->in->top : 10;
	fputs("<div class=\"two\">\n<div><h3>Most loaded links, normal state</h3>\n"
	      "<table class=\"load\"><thead><tr><th>Link</th><th class=\"n\">Mbit/s</th>"
	      "<th>Utilisation</th><th class=\"n\"></th></tr></thead><tbody>\n",
	      f);
	for (size_t i = 0; i < cap->nby_load && i < top; i++) {
		int l = cap->by_load[i];
		load_row(f, inv, l, cap->links[l].load_mbps, cap->links[l].util, cap->threshold,
			 NO_CAUSE_COLUMN);
	}
	fputs("</tbody></table></div>\n<div><h3>Most loaded links after one link failure "
	      "(N-1)</h3>\n",
	      f);
	if (cap->n1_set == TOPO_N1_NONE) {
		fputs("<p class=\"note\">Not computed.</p></div>\n</div>\n", f);
		return 0;
	}
	struct util_key *k = calloc(cap->nlinks + 1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	size_t n = 0;
	for (size_t l = 0; l < cap->nlinks; l++)
		if (cap->links[l].in_graph)
			k[n++] = (struct util_key){(int)l, cap->links[l].worst_util};
	qsort(k, n, sizeof(*k), by_util_desc);
	fputs("<table class=\"load\"><thead><tr><th>Link</th><th class=\"n\">Mbit/s</th>"
	      "<th>Utilisation</th><th class=\"n\"></th><th>When this fails</th></tr></thead>"
	      "<tbody>\n",
	      f);
	for (size_t i = 0; i < n && i < top; i++) {
		const struct topo_link_load *ll = &cap->links[k[i].link];
		load_row(f, inv, k[i].link, ll->worst_load_mbps, ll->worst_util, cap->threshold,
			 ll->worst_cause);
	}
	free(k);
	fputs("</tbody></table></div>\n</div>\n", f);
	return 0;
}

static int weak_section(FILE *f, const struct ctx *c)
{
	fputs("<section id=\"weak\">\n<h2>Weak spots of the network</h2>\n"
	      "<p class=\"lead\">Which single failure cuts which sites off from both data "
	      "centres, and which links carry the most towards them (shortest paths).</p>\n",
	      f);
	if (c->in->res)
		spof_table(f, c);
	int r = c->in->cap ? load_tables(f, c) : 0;
	fputs("</section>\n", f);
	return r;
}

/* ---- the document ---- */

static int year_codes(struct ctx *c)
{
	const struct inventory *inv = c->inv;
	c->year = calloc(inv->nsites + 1, sizeof(int));
	if (!c->year)
		return -ENOMEM;
	const struct report_rollout *r = c->in->rollout;
	if (!r)
		return 0;
	c->first_year = r->cfg->start_year;
	for (size_t v = 0; v < inv->nsites; v++) {
		const struct site *s = &inv->sites[v];
		int node = r->city->site_node[v];
		if (node > 0)
			c->year[v] = r->plan->year[node] ? r->plan->year[node] : YEAR_NOT_PLANNED;
		else if (s->broadband != BB_FIBRE && s->type != SITE_DATA_CENTRE)
			c->year[v] = YEAR_NOT_PLANNED;
	}
	return 0;
}

int report_write(const struct report_input *in, FILE *f)
{
	if (!in->topo || (!in->policy) != (!in->matrix) ||
	    (in->rollout && (!in->rollout->city || !in->rollout->plan || !in->rollout->cfg)) ||
	    (in->vpn && (!in->vpn->cfg || !in->vpn->res)) || (in->audit && !in->matrix))
		return -EINVAL;
	struct ctx c = {.in = in, .inv = topo_inventory(in->topo)};
	const char *title = in->title ? in->title : "Network report";
	int r = year_codes(&c);
	if (r < 0)
		return r;
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"segplan\">\n<title>",
	      f);
	report_html_text(f, title);
	fprintf(f, "</title>\n<style>\n%s", css);
	map_css(f, &c);
	fputs("</style>\n</head>\n<body>\n<header>\n<h1>", f);
	report_html_text(f, title);
	fputs("</h1>\n<p>", f);
	if (in->source) {
		fputs("Inventory ", f);
		report_html_text(f, in->source);
	}
	if (in->generated) {
		fputs(in->source ? ", generated " : "Generated ", f);
		report_html_text(f, in->generated);
	}
	if (in->audit)
		fprintf(f, "%s%zu agent summar%s", in->source || in->generated ? "; " : "",
			in->audit->nsummaries, in->audit->nsummaries == 1 ? "y" : "ies");
	fputs("</p>\n<nav><a href=\"#map\">Map</a><a href=\"#rollout\">Rollout</a>"
	      "<a href=\"#vpn\">VPN</a><a href=\"#policy\">Policy</a>"
	      "<a href=\"#weak\">Weak spots</a></nav>\n</header>\n<main>\n",
	      f);
	summary(f, &c);
	map_section(f, &c);
	if ((r = map_body(f, &c)) < 0)
		goto out;
	rollout_section(f, &c);
	vpn_section(f, &c);
	if ((r = policy_section(f, &c)) < 0 || (r = weak_section(f, &c)) < 0)
		goto out;
	fprintf(f,
		"</main>\n<footer>Made by segplan from the inventory and its models; the formats "
		"are described in docs/report.md.</footer>\n<script>\n%s</script>\n</body>\n"
		"</html>\n",
		script);
	r = ferror(f) ? -EIO : 0;
out:
	free(c.year);
	return r;
}

int report_write_file(const struct report_input *in, const char *path)
{
	struct atomic_file *af;
	int r = atomic_file_open(path, &af);
	if (r < 0)
		return r;
	if ((r = report_write(in, atomic_file_stream(af))) < 0) {
		atomic_file_abort(af);
		return r;
	}
	return atomic_file_commit(af);
}
