/*
 * run.h — a run whose cost fields and accessibility are given rather than computed:
 * careshed merge gives those its shards computed, and the rest (coverage tables,
 * facility statistics, patches, targets) is made as a run makes it.
 */
#ifndef CS_RUN_H
#define CS_RUN_H

#include "cover/result.h"

typedef struct cs_run_source {
    /* fill r's dist_m, nearest and ties of every kind and measure the study measures */
    cs_status (*fields)(cs_context *ctx, cs_result *r, void *data);
    /* fill r's access and fac_ratio of every kind with a load capacity, and their means
       (access/kinds.h: cs_access_kinds_begin, cs_access_area_means) */
    cs_status (*access)(cs_context *ctx, cs_result *r, void *data);
    void *data;
} cs_run_source;

/* Let go of what only the network's searches need once the outputs' service areas'
 * lines are made (cs_result_write_releasing): the graph, its index, the searches and
 * where the demand points attach. The facilities' attachments and the network report
 * stay. cs_result_free_attachments lets go only of what making those lines does not
 * need: the index, where the demand points attach and which facility is each node's
 * nearest (cs_net_field_keep_costs). Both hand the memory back (cs_memory_return). */
void cs_result_free_network(cs_result *r);
void cs_result_free_attachments(cs_result *r);

/* cs_run with the fields and accessibility from given (NULL: computed, as cs_run). */
cs_status cs_run_given(cs_context *ctx, const cs_study *study, const cs_run_source *given,
                       cs_result **out);

#endif
