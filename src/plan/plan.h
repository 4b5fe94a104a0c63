/*
 * plan.h — the plan stage: every target of the study judged at the district and in
 * every area, with the gap to close where it is missed.
 */
#ifndef CS_PLAN_H
#define CS_PLAN_H

#include "cover/result.h"

/* Every target at the district and every area (plan/targets.c). */
cs_status cs_plan_evaluate(cs_context *ctx, cs_result *r);

#endif
