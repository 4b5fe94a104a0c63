/*
 * print.h — the results table the careshed command prints on stdout (print.c).
 */
#ifndef CS_CLI_PRINT_H
#define CS_CLI_PRINT_H

#include <stddef.h>

#include "careshed/careshed.h"

/* "1 error", "2 errors": the noun for n, singular or plural. */
const char *cli_noun(size_t n, const char *one, const char *many);

/* The walking network's report: edges, length, components, what is off it. */
void cli_print_network(const cs_network_report *n);

/* The short results table of a run: counts, coverage per kind, under-served patches,
 * accessibility, targets, and the files written in out_dir. */
void cli_print_results(const cs_study *s, const cs_result *r, const char *out_dir);

#endif
