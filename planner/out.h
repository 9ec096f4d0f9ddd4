/* SPDX-License-Identifier: MIT */
/*
 * The one printing layer of the CLI: machine output (--json) goes through
 * out_json, diagnostics through out_diags, usage errors through out_usage.
 */
#ifndef SEGPLAN_OUT_H
#define SEGPLAN_OUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/diag.h"

/* Prints j to stdout (indented, keys in insertion order) and frees it. 0 or exit code 4. */
int out_json(json_t *j);
/* Writes j to path atomically; 0 or a negative errno. */
int out_json_file(const char *path, json_t *j);
/* Sorts and prints diagnostics to stderr, with a closing count line when errors. */
void out_diags(struct diag_list *dl);
/*
 * An error printed is an error obeyed: the exit code of a step that read input.
 * SEG_EXIT_INPUT when dl holds an error, whatever rc says, or when rc is -EINVAL
 * or -ENOENT; SEG_EXIT_SYSTEM for another negative rc; SEG_EXIT_OK otherwise.
 * Every command decides with it before it writes anything. Prints nothing.
 */
int out_input_code(const struct diag_list *dl, int rc);
/* Prints "segplan CMD: MSG" and the usage to stderr; returns SEG_EXIT_USAGE. */
int out_usage(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "segplan: MSG" to stderr and returns code. */
int out_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Helps: prints usage to stdout, returns 0. */
int out_help(const char *usage);
/*
 * getopt_long accepts unambiguous prefixes of long options; segplan takes
 * exact keywords only. Returns the first "--name" argument that is not
 * exactly one of longopts (call it before getopt_long), or NULL.
 */
struct option;
const char *out_inexact_option(int argc, char **argv, const struct option *longopts);

/* True when arg is -h or --help. */
bool out_is_help(const char *arg);

#endif
