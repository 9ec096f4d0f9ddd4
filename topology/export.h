/* SPDX-License-Identifier: MIT */
/*
 * Exports of the topology graph (the built, non-failed links and every site)
 * for other tools: GraphML (yEd, Gephi, igraph), DOT (Graphviz), GeoJSON
 * (RFC 7946, for GIS) and an SVG map. Formats: docs/topology.md.
 */
#ifndef SEGPLAN_EXPORT_H
#define SEGPLAN_EXPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "topology/topo.h"

enum export_format { EXPORT_GRAPHML, EXPORT_DOT, EXPORT_GEOJSON, EXPORT_SVG, EXPORT_FORMAT_COUNT };

extern const char *const export_format_names[EXPORT_FORMAT_COUNT];

/* Exact keyword; 0 or -EINVAL. */
int export_format_parse(const char *s, enum export_format *out);

/*
 * Each writer takes the resilience result of the same topo for the redundancy
 * class and single-point-of-failure marks (res may be NULL: left out).
 * They return 0 or a negative errno.
 */
int export_graphml(const struct topo *t, const struct topo_resilience *res, FILE *f);
int export_dot(const struct topo *t, const struct topo_resilience *res, FILE *f);
int export_geojson(const struct topo *t, const struct topo_resilience *res, FILE *f);
int export_svg(const struct topo *t, const struct topo_resilience *res, FILE *f);

/* How export_svg_opts draws the map for a host document (the HTML report). */
struct export_svg_opts {
	bool fragment; /* an inline <svg> element: no XML declaration, namespace or legend */
	/* Writes further attributes (" name=\"value\"") into site v's marker. */
	void (*site_attrs)(FILE *f, size_t site, void *ctx);
	/* Appends text (escaped with export_xml_text) to site v's tooltip. */
	void (*site_title)(FILE *f, size_t site, void *ctx);
	void *ctx;
};

/* export_svg with options (o NULL: export_svg's stand-alone file). */
int export_svg_opts(const struct topo *t, const struct topo_resilience *res,
		    const struct export_svg_opts *o, FILE *f);

/* Escapes XML character data and attribute values (also right for HTML). */
void export_xml_text(FILE *f, const char *s);

/* Writes one format to path atomically (nothing is left on failure). */
int export_write(const struct topo *t, const struct topo_resilience *res, enum export_format fmt,
		 const char *path);

#endif
