/*
 * files.h — output-file plumbing: SHA-256 of files (for run manifests) and the
 * atomic multi-file writer every output goes through.
 *
 * The writer keeps a run's outputs all-or-nothing as far as POSIX allows: each file
 * is written and fsync'ed to a hidden temporary file beside its final name, and only
 * when all have been written are they renamed into place. A failed run leaves the
 * output folder as it was (apart from folders it created). It never touches any file
 * other than its own temporaries and the final names it was given.
 */
#ifndef CS_FILES_H
#define CS_FILES_H

#include "core/core.h"

/*
 * The SHA-256 of a file's bytes as 64 lowercase hex digits and a NUL in hex_out.
 * Errors: CS_ERR_ARGUMENT (NULL path or hex_out), CS_ERR_INPUT naming the file when it
 * cannot be opened or read, CS_ERR_NOMEM, CS_ERR_INTERNAL if OpenSSL fails.
 * hex_out is the empty string on failure.
 */
cs_status cs_sha256_file(cs_context *ctx, const char *path, char hex_out[65]);

typedef struct cs_outset cs_outset;

/*
 * Start a set of output files in folder dir, creating it and any missing parents
 * (like mkdir -p) and checking that it is writable.
 * *out is new (free with cs_outset_destroy), NULL on failure.
 * Errors: CS_ERR_ARGUMENT (NULL/empty dir or NULL out), CS_ERR_OUTPUT naming the
 * folder and the system's reason, with a hint to choose another folder, CS_ERR_NOMEM.
 */
cs_status cs_outset_begin(cs_context *ctx, const char *dir, cs_outset **out);

/*
 * Write len bytes of data as the future file dir/name: into a hidden temporary
 * "dir/.name.tmp-XXXXXX", flushed to disk, pending until commit. name is a plain file
 * name (no '/', not "." or "..") not already added to this set.
 * Errors: CS_ERR_ARGUMENT (bad name, duplicate, set already committed), CS_ERR_OUTPUT
 * naming the file and the reason (disk full, I/O error, folder gone); the temporary
 * is removed and the set can no longer be committed. CS_ERR_NOMEM.
 */
cs_status cs_outset_add(cs_context *ctx, cs_outset *set, const char *name, const char *data,
                        size_t len);

/*
 * Move every pending file into place (replacing files of the same names), then flush
 * the folder. Refuses (CS_ERR_OUTPUT, nothing renamed) when an add failed or when a
 * final name is an existing folder. If a rename still fails part-way, the error names
 * the file and lists the files already replaced. On any failure the remaining
 * temporaries are removed, so the folder never keeps temporary files. CS_ERR_ARGUMENT
 * when the set was already committed. After any commit the set holds nothing pending
 * and only cs_outset_destroy remains useful.
 */
cs_status cs_outset_commit(cs_context *ctx, cs_outset *set);

/* Remove all pending temporary files; the final names are never touched. NULL is
 * ignored. */
void cs_outset_abort(cs_outset *set);

/* Abort what is still pending and free the set. NULL is ignored. */
void cs_outset_destroy(cs_outset *set);

#endif /* CS_FILES_H */
