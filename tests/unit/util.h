/*
 * util.h - helpers shared by the unit tests that need files on disk
 * (test-conf, test-plugin-load) and look for one error among many.
 */
#ifndef TESTS_UNIT_UTIL_H
#define TESTS_UNIT_UTIL_H

#include "korpud.h"

/* A new empty folder under $TMPDIR (or /tmp); free it with tmpdir_remove. */
char *tmpdir_new(void);
/* Removes dir and everything in it, then frees the string. NULL is fine. */
void tmpdir_remove(char *dir);
/* "dir/name", malloc'd. */
char *path_join(const char *dir, const char *name);
/* Creates the folder dir/name. */
void tmp_mkdir(const char *dir, const char *name);
/* Writes text to dir/name (replacing it) and returns that path, malloc'd. */
char *tmp_write(const char *dir, const char *name, const char *text);

/* Whether errs holds an entry at where (exactly; NULL: anywhere) whose
 * message contains needle. Prints the whole list when it does not. */
int errlist_has(const struct errlist *errs, const char *where, const char *needle);

#define assert_error(errs, where, needle) do { \
	if (!errlist_has((errs), (where), (needle))) \
		fail_msg("no error at %s containing \"%s\"", \
		    (where) ? (where) : "(anywhere)", (needle)); \
} while (0)

#endif /* TESTS_UNIT_UTIL_H */
