/*
 * kinds.h — accessibility (2SFCA) of a run's kinds: the stage between coverage and the
 * targets, over the plain-array method of access/access.h.
 */
#ifndef CS_ACCESS_KINDS_H
#define CS_ACCESS_KINDS_H

#include "cover/result.h"

/* Accessibility (2SFCA) of every kind with a capacity (access/kinds.c), and the
 * settings of kind k's (its catchment, decay, weights and unit). */
cs_status cs_access_kinds(cs_context *ctx, cs_result *r);
/* Their parts, for a run given its points' accessibility (careshed merge): room for
 * every kind's (access, fac_ratio, access_mean: NaN), then an area's mean of kind k
 * from access[k] once it is filled. */
cs_status cs_access_kinds_begin(cs_context *ctx, cs_result *r);
void cs_access_area_means(cs_result *r, size_t k);
struct cs_access_spec;
void cs_access_kind_spec(const cs_kind *k, struct cs_access_spec *spec);

#endif
