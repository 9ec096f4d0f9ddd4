// SPDX-License-Identifier: MIT
#include "topology/export.h"

#include <errno.h>
#include <igraph.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic.h"

const char *const export_format_names[EXPORT_FORMAT_COUNT] = {"graphml", "dot", "geojson", "svg"};

int export_format_parse(const char *s, enum export_format *out)
{
	for (int i = 0; i < EXPORT_FORMAT_COUNT; i++)
		if (strcmp(s, export_format_names[i]) == 0) {
			*out = (enum export_format)i;
			return 0;
		}
	return -EINVAL;
}

/* Per-site and per-link single-point-of-failure marks from a resilience result. */
struct marks {
	unsigned char *site_spof, *link_bridge;
};

static void marks_free(struct marks *m)
{
	free(m->site_spof);
	free(m->link_bridge);
}

static int marks_init(const struct topo *t, const struct topo_resilience *res, struct marks *m)
{
	const struct inventory *inv = topo_inventory(t);
	m->site_spof = calloc(inv->nsites + 1, 1);
	m->link_bridge = calloc(inv->nlinks + 1, 1);
	if (!m->site_spof || !m->link_bridge) {
		marks_free(m);
		return -ENOMEM;
	}
	for (size_t i = 0; res && i < res->nspof; i++) {
		if (res->spof[i].kind == TOPO_SITE)
			m->site_spof[res->spof[i].index] = 1;
		else
			m->link_bridge[res->spof[i].index] = 1;
	}
	return 0;
}

static int ig_err(igraph_error_t e)
{
	if (e == IGRAPH_SUCCESS)
		return 0;
	if (e == IGRAPH_ENOMEM)
		return -ENOMEM;
	return e == IGRAPH_EFILE ? -EIO : -EINVAL;
}

/* Flags as the ';'-separated keywords of sites.csv. */
static void flags_text(unsigned flags, char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (int i = 0; i < SITE_FLAG_COUNT; i++) {
		if (!(flags & (1u << i)))
			continue;
		int k = snprintf(buf + len, size - len, "%s%s", len ? ";" : "", site_flag_names[i]);
		if (k < 0 || (size_t)k >= size - len)
			break;
		len += (size_t)k;
	}
}

/* ---- GraphML (igraph's writer: it escapes XML and keeps UTF-8) ---- */

static igraph_error_t graphml_attrs(const struct topo *t, const struct topo_resilience *res,
				    const struct marks *m, igraph_t *g)
{
	const struct inventory *inv = topo_inventory(t);
	char flags[128];
	for (size_t v = 0; v < inv->nsites; v++) {
		const struct site *s = &inv->sites[v];
		igraph_integer_t id = (igraph_integer_t)v;
		flags_text(s->flags, flags, sizeof(flags));
		IGRAPH_CHECK(SETVAS(g, "site", id, s->id));
		IGRAPH_CHECK(SETVAS(g, "label", id, s->name ? s->name : ""));
		IGRAPH_CHECK(SETVAS(g, "district", id,
				    s->district >= 0 && (size_t)s->district < inv->ndistricts
					? inv->districts[s->district].name
					: ""));
		IGRAPH_CHECK(SETVAS(g, "type", id, site_type_names[s->type]));
		IGRAPH_CHECK(SETVAS(g, "broadband", id, broadband_names[s->broadband]));
		IGRAPH_CHECK(SETVAS(g, "flags", id, flags));
		IGRAPH_CHECK(SETVAN(g, "lat", id, s->lat));
		IGRAPH_CHECK(SETVAN(g, "lon", id, s->lon));
		IGRAPH_CHECK(SETVAN(g, "staff", id, (double)s->staff));
		IGRAPH_CHECK(SETVAN(g, "current_mbps", id, s->current_mbps));
		IGRAPH_CHECK(SETVAN(g, "required_mbps", id, s->required_mbps));
		IGRAPH_CHECK(SETVAB(g, "failed", id, topo_site_failed(t, v)));
		if (res) {
			IGRAPH_CHECK(SETVAN(g, "redundancy_class", id, res->cls[v]));
			IGRAPH_CHECK(SETVAB(g, "spof", id, m->site_spof[v] != 0));
		}
	}
	igraph_integer_t e = 0;
	for (size_t l = 0; l < inv->nlinks; l++) {
		const struct link *k = &inv->links[l];
		if (!topo_link_in_graph(t, l))
			continue;
		IGRAPH_CHECK(SETEAS(g, "link", e, k->id));
		IGRAPH_CHECK(SETEAS(g, "kind", e, link_kind_names[k->kind]));
		IGRAPH_CHECK(SETEAN(g, "capacity_mbps", e, k->capacity_mbps));
		IGRAPH_CHECK(SETEAN(g, "length_m", e, k->length_m));
		if (res)
			IGRAPH_CHECK(SETEAB(g, "bridge", e, m->link_bridge[l] != 0));
		e++;
	}
	return IGRAPH_SUCCESS;
}

int export_graphml(const struct topo *t, const struct topo_resilience *res, FILE *f)
{
	const struct inventory *inv = topo_inventory(t);
	igraph_vector_int_t ev;
	igraph_t g;
	struct marks m = {0};
	bool have_ev = false, have_g = false;
	int r;

	topo_igraph_init();
	if ((r = marks_init(t, res, &m)) < 0)
		return r;
	if ((r = ig_err(igraph_vector_int_init(&ev, 0))) < 0)
		goto out;
	have_ev = true;
	for (size_t l = 0; l < inv->nlinks; l++) {
		if (!topo_link_in_graph(t, l))
			continue;
		if ((r = ig_err(igraph_vector_int_push_back(&ev, inv->links[l].a))) < 0 ||
		    (r = ig_err(igraph_vector_int_push_back(&ev, inv->links[l].b))) < 0)
			goto out;
	}
	if ((r = ig_err(igraph_create(&g, &ev, (igraph_integer_t)inv->nsites, IGRAPH_UNDIRECTED))) <
	    0)
		goto out;
	have_g = true;
	if ((r = ig_err(graphml_attrs(t, res, &m, &g))) < 0)
		goto out;
	r = ig_err(igraph_write_graph_graphml(&g, f, true));
out:
	if (have_g)
		igraph_destroy(&g);
	if (have_ev)
		igraph_vector_int_destroy(&ev);
	marks_free(&m);
	return r;
}

/* ---- DOT (Graphviz) ---- */

/* A DOT double-quoted string: only the quote needs escaping; backslashes and
 * line breaks are written as their escapes so that labels read as given. */
static void dot_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
	fputc('"', f);
}

static const char *const bb_colour[BB_COUNT] = {"#2e7d32", "#1565c0", "#ef6c00", "#c62828"};

int export_dot(const struct topo *t, const struct topo_resilience *res, FILE *f)
{
	const struct inventory *inv = topo_inventory(t);
	struct marks m = {0};
	char label[512];
	int r = marks_init(t, res, &m);
	if (r < 0)
		return r;
	fputs("graph segplan {\n\tnode [shape=circle, style=filled, fontsize=9];\n", f);
	for (size_t v = 0; v < inv->nsites; v++) {
		const struct site *s = &inv->sites[v];
		fputc('\t', f);
		dot_string(f, s->id);
		snprintf(label, sizeof(label), "%s\n%s", s->id, s->name ? s->name : "");
		fputs(" [label=", f);
		dot_string(f, label);
		fprintf(f, ", fillcolor=\"%s\"", bb_colour[s->broadband]);
		if (m.site_spof[v])
			fputs(", color=\"#d50000\", penwidth=3", f);
		if (topo_site_failed(t, v))
			fputs(", style=dashed", f);
		fputs("];\n", f);
	}
	for (size_t l = 0; l < inv->nlinks; l++) {
		const struct link *k = &inv->links[l];
		if (!topo_link_in_graph(t, l))
			continue;
		fputc('\t', f);
		dot_string(f, inv->sites[k->a].id);
		fputs(" -- ", f);
		dot_string(f, inv->sites[k->b].id);
		snprintf(label, sizeof(label), "%s %s %.0f Mbit/s", k->id, link_kind_names[k->kind],
			 k->capacity_mbps);
		fputs(" [label=", f);
		dot_string(f, label);
		if (k->kind != LINK_FIBRE)
			fputs(", style=dashed", f);
		if (m.link_bridge[l])
			fputs(", color=\"#d50000\", penwidth=2", f);
		fputs("];\n", f);
	}
	fputs("}\n", f);
	marks_free(&m);
	return ferror(f) ? -EIO : 0;
}

/* ---- GeoJSON (RFC 7946) ---- */

/* RFC 7946 section 3.1.1: a position is [longitude, latitude]. */
static json_t *position(double lat, double lon)
{
	return json_pack("[f, f]", lon, lat);
}

static json_t *site_feature(const struct topo *t, const struct topo_resilience *res,
			    const struct marks *m, size_t v)
{
	const struct inventory *inv = topo_inventory(t);
	const struct site *s = &inv->sites[v];
	json_t *flags = json_array();
	for (int i = 0; flags && i < SITE_FLAG_COUNT; i++)
		if (s->flags & (1u << i))
			json_array_append_new(flags, json_string(site_flag_names[i]));
	json_t *props = json_pack(
	    "{s:s, s:s, s:s?, s:s, s:s, s:I, s:f, s:f, s:o, s:b}", "id", s->id, "name",
	    s->name ? s->name : "", "district",
	    s->district >= 0 && (size_t)s->district < inv->ndistricts
		? inv->districts[s->district].name
		: NULL,
	    "type", site_type_names[s->type], "broadband", broadband_names[s->broadband], "staff",
	    (json_int_t)s->staff, "current_mbps", s->current_mbps, "required_mbps",
	    s->required_mbps, "flags", flags, "failed", topo_site_failed(t, v));
	if (props && res) {
		json_object_set_new(props, "redundancy_class", json_integer(res->cls[v]));
		json_object_set_new(props, "spof", json_boolean(m->site_spof[v]));
	}
	return json_pack("{s:s, s:{s:s, s:o}, s:o}", "type", "Feature", "geometry", "type", "Point",
			 "coordinates", position(s->lat, s->lon), "properties", props);
}

static json_t *link_feature(const struct topo *t, const struct topo_resilience *res,
			    const struct marks *m, size_t l)
{
	const struct inventory *inv = topo_inventory(t);
	const struct link *k = &inv->links[l];
	const struct site *a = &inv->sites[k->a], *b = &inv->sites[k->b];
	json_t *props = json_pack("{s:s, s:s, s:s, s:s, s:f, s:f}", "id", k->id, "kind",
				  link_kind_names[k->kind], "a", a->id, "b", b->id, "capacity_mbps",
				  k->capacity_mbps, "length_m", k->length_m);
	if (props && res)
		json_object_set_new(props, "bridge", json_boolean(m->link_bridge[l]));
	return json_pack("{s:s, s:{s:s, s:[o, o]}, s:o}", "type", "Feature", "geometry", "type",
			 "LineString", "coordinates", position(a->lat, a->lon),
			 position(b->lat, b->lon), "properties", props);
}

int export_geojson(const struct topo *t, const struct topo_resilience *res, FILE *f)
{
	const struct inventory *inv = topo_inventory(t);
	struct marks m = {0};
	json_t *fc = NULL, *features;
	int r = marks_init(t, res, &m);
	if (r < 0)
		return r;
	features = json_array();
	fc = json_pack("{s:s, s:o}", "type", "FeatureCollection", "features", features);
	if (!fc) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t v = 0; v < inv->nsites; v++)
		if (json_array_append_new(features, site_feature(t, res, &m, v)) < 0) {
			r = -ENOMEM;
			goto out;
		}
	for (size_t l = 0; l < inv->nlinks; l++)
		if (topo_link_in_graph(t, l) &&
		    json_array_append_new(features, link_feature(t, res, &m, l)) < 0) {
			r = -ENOMEM;
			goto out;
		}
	if (json_dumpf(fc, f, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) != 0 ||
	    fputc('\n', f) == EOF)
		r = -EIO;
out:
	json_decref(fc);
	marks_free(&m);
	return r;
}

/* ---- SVG map ---- */

/* XML character data and attribute values (XML 1.0 section 2.4). */
static void xml_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

void export_xml_text(FILE *f, const char *s)
{
	xml_text(f, s);
}

/*
 * An equirectangular projection around the mean latitude: x = lon * cos(lat0),
 * y = -lat, which keeps a city's shape (a few kilometres) within a fraction
 * of a percent.
 */
struct proj {
	double lon0, lat1, k, kx, margin;
};

static double px(const struct proj *p, double lon)
{
	return p->margin + (lon - p->lon0) * p->kx;
}

static double py(const struct proj *p, double lat)
{
	return p->margin + (p->lat1 - lat) * p->k;
}

int export_svg(const struct topo *t, const struct topo_resilience *res, FILE *f)
{
	return export_svg_opts(t, res, NULL, f);
}

int export_svg_opts(const struct topo *t, const struct topo_resilience *res,
		    const struct export_svg_opts *o, FILE *f)
{
	const struct inventory *inv = topo_inventory(t);
	bool frag = o && o->fragment;
	static const char *const bb_label[BB_COUNT] = {"fibre", "interim (rented line)", "DSL",
						       "none"};
	struct marks m = {0};
	int r = marks_init(t, res, &m);
	if (r < 0)
		return r;

	double lat0 = 0, lat1 = -90, latmin = 90, lonmin = 180, lonmax = -180;
	for (size_t v = 0; v < inv->nsites; v++) {
		const struct site *s = &inv->sites[v];
		lat0 += s->lat / (double)inv->nsites;
		lat1 = fmax(lat1, s->lat);
		latmin = fmin(latmin, s->lat);
		lonmin = fmin(lonmin, s->lon);
		lonmax = fmax(lonmax, s->lon);
	}
	if (!inv->nsites) {
		lat1 = latmin = lonmin = lonmax = 0;
	}
	double c = cos(lat0 * M_PI / 180.0);
	double wdeg = fmax((lonmax - lonmin) * c, 1e-6), hdeg = fmax(lat1 - latmin, 1e-6);
	/* k: pixels per degree of latitude; a degree of longitude is c times as long. */
	const double width = 1000, margin = 20, legend_h = frag ? 0 : 130;
	struct proj p = {
	    .lon0 = lonmin, .lat1 = lat1, .k = (width - 2 * margin) / wdeg, .margin = margin};
	double height = hdeg * p.k + 2 * margin + legend_h;
	p.kx = p.k * c;

	/* HTML puts an inline <svg> into the SVG namespace by itself. */
	if (!frag)
		fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		      "<svg xmlns=\"http://www.w3.org/2000/svg\"",
		      f);
	else
		fputs("<svg class=\"map\"", f);
	fprintf(f,
		" width=\"%.0f\" height=\"%.0f\" "
		"viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
		"<title>segplan topology</title>\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n<g id=\"links\">\n",
		width, height, width, height);
	for (size_t l = 0; l < inv->nlinks; l++) {
		const struct link *k = &inv->links[l];
		if (!topo_link_in_graph(t, l))
			continue;
		const struct site *a = &inv->sites[k->a], *b = &inv->sites[k->b];
		const char *style = k->kind == LINK_FIBRE
					? "stroke=\"#607d8b\" stroke-width=\"1\""
					: "stroke=\"#b0bec5\" stroke-width=\"0.8\" "
					  "stroke-dasharray=\"3 2\"";
		if (m.link_bridge[l])
			style = "stroke=\"#d50000\" stroke-width=\"2.5\"";
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" %s><title>",
			px(&p, a->lon), py(&p, a->lat), px(&p, b->lon), py(&p, b->lat), style);
		xml_text(f, k->id);
		fprintf(f, " %s %.0f Mbit/s%s</title></line>\n", link_kind_names[k->kind],
			k->capacity_mbps, m.link_bridge[l] ? " (single point of failure)" : "");
	}
	fputs("</g>\n<g id=\"sites\">\n", f);
	for (size_t v = 0; v < inv->nsites; v++) {
		const struct site *s = &inv->sites[v];
		bool big = s->type == SITE_DATA_CENTRE || (s->flags & SITE_F_HUB);
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\"", px(&p, s->lon),
			py(&p, s->lat), big ? "6" : "3", bb_colour[s->broadband]);
		if (m.site_spof[v])
			fputs(" stroke=\"#d50000\" stroke-width=\"2\"", f);
		else if (topo_site_failed(t, v))
			fputs(" stroke=\"#000000\" stroke-dasharray=\"1 1\"", f);
		if (o && o->site_attrs)
			o->site_attrs(f, v, o->ctx);
		fputs("><title>", f);
		xml_text(f, s->id);
		fputs(" ", f);
		xml_text(f, s->name);
		fprintf(f, " (%s)%s", broadband_names[s->broadband],
			m.site_spof[v] ? " single point of failure" : "");
		if (o && o->site_title)
			o->site_title(f, v, o->ctx);
		fputs("</title></circle>\n", f);
	}
	if (frag) {
		fputs("</g>\n</svg>\n", f);
		marks_free(&m);
		return ferror(f) ? -EIO : 0;
	}
	double ly = height - legend_h + 10;
	fprintf(f,
		"</g>\n<g id=\"legend\">\n<text x=\"%.0f\" y=\"%.0f\" font-weight=\"bold\">"
		"Broadband</text>\n",
		margin, ly);
	for (int i = 0; i < BB_COUNT; i++) {
		double y = ly + 12 + 18 * i;
		fprintf(f,
			"<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\" fill=\"%s\"/>"
			"<text x=\"%.0f\" y=\"%.0f\">%s</text>\n",
			margin, y, bb_colour[i], margin + 16, y + 9, bb_label[i]);
	}
	double lx = margin + 260;
	fprintf(f,
		"<text x=\"%.0f\" y=\"%.0f\" font-weight=\"bold\">Links</text>\n"
		"<path d=\"M%.0f %.0f h24\" stroke=\"#607d8b\" stroke-width=\"1\"/>"
		"<text x=\"%.0f\" y=\"%.0f\">own fibre</text>\n"
		"<path d=\"M%.0f %.0f h24\" stroke=\"#b0bec5\" stroke-dasharray=\"3 2\"/>"
		"<text x=\"%.0f\" y=\"%.0f\">rented line, DSL, radio</text>\n"
		"<path d=\"M%.0f %.0f h24\" stroke=\"#d50000\" stroke-width=\"2.5\"/>"
		"<text x=\"%.0f\" y=\"%.0f\">link that is a single point of failure</text>\n"
		"<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\" fill=\"none\" "
		"stroke=\"#d50000\" stroke-width=\"2\"/>"
		"<text x=\"%.0f\" y=\"%.0f\">site that is a single point of failure "
		"(large: hub or data centre)</text>\n</g>\n</svg>\n",
		lx, ly, lx, ly + 17, lx + 30, ly + 21, lx, ly + 35, lx + 30, ly + 39, lx, ly + 53,
		lx + 30, ly + 57, lx + 7, ly + 66, lx + 30, ly + 75);
	marks_free(&m);
	return ferror(f) ? -EIO : 0;
}

int export_write(const struct topo *t, const struct topo_resilience *res, enum export_format fmt,
		 const char *path)
{
	struct atomic_file *af;
	int r = atomic_file_open(path, &af);
	if (r < 0)
		return r;
	FILE *f = atomic_file_stream(af);
	switch (fmt) {
	case EXPORT_GRAPHML:
		r = export_graphml(t, res, f);
		break;
	case EXPORT_DOT:
		r = export_dot(t, res, f);
		break;
	case EXPORT_GEOJSON:
		r = export_geojson(t, res, f);
		break;
	case EXPORT_SVG:
		r = export_svg(t, res, f);
		break;
	default:
		r = -EINVAL;
	}
	if (r < 0) {
		atomic_file_abort(af);
		return r;
	}
	return atomic_file_commit(af);
}
