/*
 * shard.h — a study in shards, and the shards' results merged back.
 *
 * careshed shard cuts a loaded study into plain studies, one per shard, each of whole
 * areas (never a street split) balanced by residents, with everything that can reach
 * them: the facilities within the largest threshold of its residents, and as context
 * the residents of other shards who compete for those facilities (2SFCA's step one).
 * Each shard is an ordinary `careshed run`; its run writes shard.bin
 * (out/shard_results.h). careshed merge loads the whole study again (without the
 * work), takes every resident's cost fields and accessibility from the shards, and
 * makes and writes everything else as a single run does, so that its outputs are the
 * single run's byte for byte.
 *
 * The folder: shards.json (the manifest), careshed.sbatch (a Slurm array running the
 * shards), and per shard NNNN/ with study.yaml, areas.geojson, facilities.csv,
 * population.csv and, along the network, network.geojson (all in the whole study's
 * working CRS, numbers to the last bit); each shard's run writes NNNN/out/.
 */
#ifndef CS_SHARD_H
#define CS_SHARD_H

#include "io/config.h"
#include "io/study.h"

#define CS_SHARD_MANIFEST "shards.json"
#define CS_SHARD_SBATCH "careshed.sbatch"

/* What the cut writes into the manifest for careshed merge to tell the inputs the shards
 * were cut from: the key, the input it names (its role), the study's digest of it and
 * what the merge says when the study's is another. */
typedef struct cs_shard_digest {
    const char *key, *role;
    uint64_t (*of)(const cs_study *s);
    const char *changed;
} cs_shard_digest;
#define CS_SHARD_DIGESTS 4
extern const cs_shard_digest cs_shard_digests[CS_SHARD_DIGESTS];
/* Digest d of study s as the manifest writes it (16 hexadecimal digits). */
void cs_shard_digest_text(const cs_shard_digest *d, const cs_study *s, char out[17]);
#define CS_SHARD_MAX_PARTS 100000

/* A number that reads back as the same double: whole numbers (most counts) as integers,
 * the rest with 17 significant digits; nothing for one that is not finite. */
void cs_shard_number(cs_buf *b, double v);

#endif
