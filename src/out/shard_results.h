/*
 * shard_results.h — what the run of a shard (a study cut by careshed shard) writes
 * instead of the layers and tables, and careshed merge reads back: shard.bin, its own
 * residents' results to the last bit.
 *
 * For each of the shard's own demand points, in its whole study's order: its position,
 * and per kind and measure its cost to the nearest facility, which facility that is,
 * the facilities tied with it, and, for kinds with a load capacity, its accessibility;
 * for each of the shard's facilities its id and step one's ratio (2SFCA). Residents of
 * other shards, which the shard holds only because they compete for its facilities,
 * are left out.
 *
 * The file: "CSHARD\r\n", then little-endian unsigned 32-bit version (1) and the rest
 * as shard_results.c writes it (integers 64-bit, numbers IEEE 754 doubles, texts a
 * 32-bit length and their bytes). Numbers are kept as computed, never as text, so that
 * a merge gives the whole study's figures exactly.
 */
#ifndef CS_SHARD_RESULTS_H
#define CS_SHARD_RESULTS_H

#include "cover/result.h"

#define CS_SHARD_RESULTS_FILE "shard.bin"

typedef struct cs_shard_results {
    long part, parts;
    char *cut;           /* the cut's id (shard.cut): results of an older cut are refused */
    size_t K;            /* kinds, with their ids and measures (bits) */
    char **kind_id;
    unsigned *measures;
    bool *has_access;
    size_t F;            /* the shard's facilities, by id */
    char **fac_id;
    size_t n;            /* its own demand points */
    double *x, *y;
    /* per measure and kind (m * K + k; NULL where not measured so): */
    double **dist_m;
    long **nearest;      /* index into fac_id, -1 for none */
    cs_ties *ties;       /* points index x, facilities fac_id */
    double **access;     /* per kind with a load capacity: each own point's; else NULL */
    double **ratio;      /* and each facility's R_j (NaN for other kinds') */
} cs_shard_results;

/* Write a shard's results into the output folder out_dir (replacing its previous set,
 * as a run does). Errors: those of the output folder, CS_ERR_NOMEM. */
cs_status cs_shard_results_write(cs_context *ctx, const cs_result *r, const char *out_dir);

/* Read path into *out (cs_shard_results_free). Errors: CS_ERR_INPUT naming the file
 * when it cannot be read or is not a shard's results (damaged, cut short, another
 * version), CS_ERR_NOMEM. */
cs_status cs_shard_results_read(cs_context *ctx, const char *path, cs_shard_results *out);
void cs_shard_results_free(cs_shard_results *s);

#endif
