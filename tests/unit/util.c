/*
 * util.c - temporary folders and files for the unit tests, and a search
 * through an error list.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

char *
tmpdir_new(void)
{
	const char *base = getenv("TMPDIR");
	char *dir = NULL;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	assert_true(asprintf(&dir, "%s/korpu-test-XXXXXX", base) > 0);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void
tmpdir_remove(char *dir)
{
	if (dir == NULL)
		return;
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

char *
path_join(const char *dir, const char *name)
{
	char *p = NULL;

	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

void
tmp_mkdir(const char *dir, const char *name)
{
	char *p = path_join(dir, name);

	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
}

char *
tmp_write(const char *dir, const char *name, const char *text)
{
	char *p = path_join(dir, name);
	FILE *f = fopen(p, "w");
	size_t len = strlen(text);

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return p;
}

int
errlist_has(const struct errlist *errs, const char *where, const char *needle)
{
	for (size_t i = 0; i < errs->n; i++)
		if ((where == NULL || strcmp(errs->v[i].where, where) == 0) &&
		    strstr(errs->v[i].message, needle) != NULL)
			return 1;
	print_message("%zu error(s):\n", errs->n);
	for (size_t i = 0; i < errs->n; i++)
		print_message("  %s: %s\n", errs->v[i].where, errs->v[i].message);
	return 0;
}
