/*
 * body-check.c - checks a request body against a table of its members,
 * so every handler validates the same way and every problem is named by
 * its field at once (422 with "errors"). Members not in the table are
 * errors too: a typo in a field name must not be silently dropped.
 */
#include <stdio.h>
#include <string.h>

#include "korpud.h"

/* C0 controls (tab and newline allowed only in long text), DEL, C1. */
static int
has_controls(const char *s, int multiline)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 && !(multiline && (*p == '\n' || *p == '\t')))
			return 1;
		if (*p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return 1;
	}
	return 0;
}

static int
in_choices(const char *const *choices, const char *s)
{
	for (; *choices; choices++)
		if (strcmp(*choices, s) == 0)
			return 1;
	return 0;
}

static void
check_string(const struct bfield *f, const json_t *v, const char *where, struct errlist *errs)
{
	const char *s = json_string_value(v);
	size_t max = f->max ? f->max : 200;

	if (s == NULL) {
		errlist_add(errs, where, "must be text");
		return;
	}
	if (json_string_length(v) > max)
		errlist_add(errs, where, "must be at most %zu bytes long", max);
	else if (has_controls(s, f->type == BF_TEXT))
		errlist_add(errs, where, "must not contain control characters");
	else if ((f->flags & BF_REQUIRED) && strspn(s, " \t\n") == strlen(s))
		errlist_add(errs, where, "must not be empty");
	else if (f->choices && !in_choices(f->choices, s))
		errlist_add(errs, where, "is not one of the accepted values");
	else if (f->type == BF_DATE && !date_valid(s))
		errlist_add(errs, where, "must be a date written YYYY-MM-DD");
}

static void
check_list(const struct bfield *f, const json_t *v, const char *where, struct errlist *errs)
{
	size_t i, maxn = f->max_items ? f->max_items : 32;
	json_t *e;
	char at[128];

	if (!json_is_array(v)) {
		errlist_add(errs, where, "must be a list of text");
		return;
	}
	if (json_array_size(v) > maxn) {
		errlist_add(errs, where, "must have at most %zu entries", maxn);
		return;
	}
	json_array_foreach(v, i, e) {
		struct bfield item = *f;
		snprintf(at, sizeof(at), "%s[%zu]", where, i);
		item.type = BF_STRING;
		item.flags = BF_REQUIRED;
		check_string(&item, e, at, errs);
		for (size_t k = 0; k < i; k++)
			if (json_equal(e, json_array_get(v, k))) {
				errlist_add(errs, at, "is listed twice");
				break;
			}
	}
}

static void
check_one(const struct bfield *f, const json_t *v, const char *where, struct errlist *errs)
{
	if (json_is_null(v) && (f->flags & BF_NULLABLE))
		return;
	switch (f->type) {
	case BF_STRING:
	case BF_TEXT:
	case BF_DATE:
		check_string(f, v, where, errs);
		break;
	case BF_INT:
		if (!json_is_integer(v))
			errlist_add(errs, where, "must be a whole number");
		else if (json_integer_value(v) < f->min || json_integer_value(v) > f->imax)
			errlist_add(errs, where, "must be from %lld to %lld", f->min, f->imax);
		break;
	case BF_BOOL:
		if (!json_is_boolean(v))
			errlist_add(errs, where, "must be true or false");
		break;
	case BF_LIST:
		check_list(f, v, where, errs);
		break;
	case BF_OBJECT:
		if (!json_is_object(v))
			errlist_add(errs, where, "must be an object");
		break;
	case BF_ARRAY:
		if (!json_is_array(v))
			errlist_add(errs, where, "must be a list");
		break;
	}
}

/*
 * Checks body against spec (NULL-name terminated). partial: a PATCH,
 * where required members may be absent. Returns the number of problems
 * added to errs.
 */
size_t
body_check(const json_t *body, const struct bfield *spec, int partial, struct errlist *errs)
{
	size_t before = errs->n;
	const char *key;
	json_t *v;

	if (!json_is_object(body)) {
		errlist_add(errs, "", "the body must be a JSON object");
		return 1;
	}
	json_object_foreach((json_t *)body, key, v) {
		const struct bfield *f = spec;
		while (f->name && strcmp(f->name, key) != 0)
			f++;
		if (f->name == NULL || (partial && (f->flags & BF_FIXED)))
			errlist_add(errs, key, f->name ? "cannot be changed" : "is not a known field");
	}
	for (const struct bfield *f = spec; f->name; f++) {
		v = json_object_get(body, f->name);
		if (v == NULL) {
			if ((f->flags & BF_REQUIRED) && !partial)
				errlist_add(errs, f->name, "is required");
			continue;
		}
		if (partial && (f->flags & BF_FIXED))
			continue;
		check_one(f, v, f->name, errs);
	}
	return errs->n - before;
}
