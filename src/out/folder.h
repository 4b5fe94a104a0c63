/*
 * folder.h — an output folder that changes as one unit.
 *
 * careshed owns the folders it writes: a new set of files is written into a hidden
 * staging folder beside the output folder ("PARENT/.NAME.careshed-XXXXXX") and then
 * swapped with it in one atomic step (renameat2 RENAME_EXCHANGE), so that at any
 * instant, killed or not, the folder holds the complete previous set or the complete
 * new one. An flock on the folder keeps a second writer out; staging folders left by
 * killed runs are removed by the next writer.
 *
 * A folder is careshed's when it is new or empty, carries the marker file
 * ".careshed", or holds only names careshed writes (outputs of earlier versions); any
 * other folder of plain files only when the context allows overwriting. The marker is
 * the set's manifest: careshed's version and a line "file OWNER NAME" per careshed
 * file, sorted. Files of other commands (a run's layers beside a site's proposals)
 * and files careshed did not write are carried into the new set by hard link (the
 * latter named in a warning); the files of the same command, known by name or listed
 * in the previous marker, that the new set does not contain are dropped. Nothing in
 * the folder that the swap would drop may be a file the context has read as an input.
 */
#ifndef CS_FOLDER_H
#define CS_FOLDER_H

#include "core/core.h"

typedef struct cs_folder cs_folder;

/* The marker file that makes a folder careshed's. */
#define CS_FOLDER_MARKER ".careshed"

/*
 * Take the output folder dir for command owner ("run", "proposals", ...): create it
 * (and its parents) when missing, lock it, check that careshed owns it, remove what
 * killed runs left, and make the staging folder. *out is new (cs_folder_close).
 * Errors (CS_ERR_OUTPUT, naming the folder and what to do): dir is not a folder, is
 * not writable or its parent is not, another careshed is writing to it, it holds files
 * careshed did not write and no marker (naming the first three and how many; not with
 * ctx's overwrite), or a folder or special file; CS_ERR_NOMEM.
 */
cs_status cs_folder_open(cs_context *ctx, const char *dir, const char *owner, cs_folder **out);

/*
 * Would cs_folder_open take dir? Checks, changing nothing and taking no lock, that an
 * existing dir is a writable folder careshed owns (a missing one is fine: it is made
 * when written). Errors as cs_folder_open's.
 */
cs_status cs_folder_check(cs_context *ctx, const char *dir);

/* The staging folder new files are written into (borrowed, valid until close). */
const char *cs_folder_staging(const cs_folder *f);

/*
 * Make the staging folder the output folder: carry over the files the new set keeps
 * (everything but names[0..n-1] and the owner's other files), write the marker listing
 * names[] under the owner and the kept careshed files under theirs, swap
 * the two folders atomically and remove the previous set. Refuses, changing nothing,
 * when a file it would drop is an input the context has read.
 */
cs_status cs_folder_swap(cs_context *ctx, cs_folder *f, const char *const *names, size_t n);

/* Remove the staging folder unless swapped, unlock, free. NULL is ignored. */
void cs_folder_close(cs_folder *f);

/* mkdir -p dir. CS_ERR_OUTPUT naming the component that cannot be made, CS_ERR_NOMEM. */
cs_status cs_folder_make(cs_context *ctx, const char *dir);

/* Write all of data to fd, retrying short writes and interruptions. 0 or an errno. */
int cs_write_all(int fd, const char *data, size_t len);

/* fsync the folder itself, so renames in it are durable. Best effort: some file
 * systems refuse, and the files' contents are already on disk. */
void cs_folder_sync(const char *dir);

/* dir is a folder this process can write in; CS_ERR_OUTPUT with the reason otherwise. */
cs_status cs_folder_check_writable(cs_context *ctx, const char *dir);

/*
 * Which command writes the output file name ("run", "proposals", "suggestions"), or
 * NULL when careshed writes no file of that name. Defined by the writers (write.c).
 */
const char *cs_out_file_owner(const char *name);
/* The same for the site command's files (proposals.c). */
const char *cs_out_site_file_owner(const char *name);

#endif /* CS_FOLDER_H */
