/*
 * errlist.c - collects every problem found, not just the first: an
 * administrator fixing a config file, or a caseworker fixing a form,
 * wants the whole list at once.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"

void
errlist_add(struct errlist *e, const char *where, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	if (e == NULL)
		return;
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 8;
		struct errent *v = realloc(e->v, cap * sizeof(*v));
		if (v == NULL)
			return;
		e->v = v;
		e->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg == NULL)
		return;
	e->v[e->n].where = strdup(where ? where : "");
	e->v[e->n].message = msg;
	e->n++;
}

void
errlist_free(struct errlist *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].where);
		free(e->v[i].message);
	}
	free(e->v);
	memset(e, 0, sizeof(*e));
}

/* Hands each entry as one "prefix where: message" line to out. */
void
errlist_print(const struct errlist *e, const char *prefix,
    void (*out)(const char *line))
{
	char line[1024];

	for (size_t i = 0; i < e->n; i++) {
		snprintf(line, sizeof(line), "%s%s%s%s", prefix ? prefix : "",
		    e->v[i].where, *e->v[i].where ? ": " : "", e->v[i].message);
		out(line);
	}
}
