/*
 * files.h — output-file plumbing: SHA-256 of files (for run manifests) and the
 * atomic multi-file writer every output goes through.
 *
 * Two kinds of set. A folder of careshed's own (cs_outset_begin_folder: a run's
 * layers, a site's proposals) is replaced as one unit: the files are written into a
 * staging folder beside it that is swapped in atomically (folder.h), so the folder
 * always holds a complete set. Single files in any folder (cs_outset_begin: a report)
 * are each written to a hidden temporary beside their final name and, when all have
 * been written and flushed to disk (fsync), renamed into place. Either way a failed run leaves
 * things as they were, and no output ever replaces a file the context read as an
 * input, a folder, or a device, pipe or socket.
 */
#ifndef CS_FILES_H
#define CS_FILES_H

#include "core/core.h"

#include <stdint.h>

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
 * Start replacing folder dir as a whole, as command owner ("run", "proposals",
 * "suggestions": the owner's earlier files that the new set lacks are dropped, other
 * files kept). *out is new (cs_outset_destroy), NULL on failure. Errors: those of
 * cs_folder_open (folder.h): not a folder, not writable, locked by another careshed,
 * holding files careshed did not write; CS_ERR_ARGUMENT, CS_ERR_NOMEM.
 */
cs_status cs_outset_begin_folder(cs_context *ctx, const char *dir, const char *owner,
                                 cs_outset **out);

/*
 * Write len bytes of data as the future file dir/name: into a hidden temporary
 * "dir/.name.tmp-XXXXXX" (or the staging folder), pending until commit. Its writing to
 * disk starts at once; commit waits for it, so the disk works while the caller builds
 * the next file. From 8 MB on it is written as an unbuffered file is (below). name is
 * a plain file name (no '/', not "." or "..") not already added to this set.
 * Errors: CS_ERR_ARGUMENT (bad name, duplicate, set already committed), CS_ERR_OUTPUT
 * naming the file and the reason (disk full, I/O error, folder gone); the temporary
 * is removed and the set can no longer be committed. CS_ERR_NOMEM.
 */
cs_status cs_outset_add(cs_context *ctx, cs_outset *set, const char *name, const char *data,
                        size_t len);

/*
 * A pending file written piece by piece, for an output too large to build in memory:
 * cs_outset_open creates dir/name's temporary (as cs_outset_add does) and gives its
 * number in *file; cs_outset_write_at writes len bytes at offset (pieces in any order;
 * what was never written reads as zeros). Errors as cs_outset_add's; after a write
 * error the temporary is removed, later writes return CS_ERR_OUTPUT, and the set can
 * no longer be committed. cs_outset_sync waits for the file to be on disk now, so
 * that the commit has less to wait for (errors as a write's).
 *
 * Threads: one thread opens and adds files; a file it opened may be written and
 * synced by another thread at the same time (each with its own context, one writer a
 * file). Commit, abort and destroy come after all writers are done.
 */
cs_status cs_outset_open(cs_context *ctx, cs_outset *set, const char *name, size_t *file);
/* As cs_outset_open, for a file of hundreds of megabytes written in long pieces: their
 * whole 4 kB blocks are written past the page cache (O_DIRECT) where the file system
 * allows it, which costs the processor far less, by a thread of the file's own while
 * the caller builds the next piece; otherwise as any file. One thread at a time writes
 * it. A write that fails on that thread is reported by the next cs_outset_write_at,
 * by cs_outset_sync or by the commit. */
cs_status cs_outset_open_unbuffered(cs_context *ctx, cs_outset *set, const char *name,
                                    size_t *file);
cs_status cs_outset_write_at(cs_context *ctx, cs_outset *set, size_t file, const void *data,
                             size_t len, uint64_t offset);
/*
 * A pending file of a folder's set that another library writes in place by its path
 * (SQLite, for the GeoPackage: a package of hundreds of megabytes is then never held
 * in memory): its name is taken as cs_outset_open takes it, and *path is where the
 * library is to create it in the staging folder (the set's, valid until it is
 * destroyed). It is not written through the set; the commit flushes it to disk before
 * the set is swapped in, and refuses when it is missing. Errors as cs_outset_open's, and
 * CS_ERR_ARGUMENT for a set of single files.
 */
cs_status cs_outset_open_path(cs_context *ctx, cs_outset *set, const char *name,
                              const char **path);
cs_status cs_outset_sync(cs_context *ctx, cs_outset *set, size_t file);

/*
 * Wait for every pending file to be on disk (fsync), move them into place (replacing
 * files of the same names), then flush the folder. Refuses (CS_ERR_OUTPUT, nothing
 * renamed) when an add failed, when a file cannot be flushed (naming it), or when a
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
