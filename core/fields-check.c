/*
 * fields-check.c - checks a referral's "fields" object against the area's
 * field table, the part of validation every area shares. The area's
 * plugin then checks its own rules on fields that are known to be well
 * typed. Every problem is reported, each under "fields.NAME".
 */
#include <stdio.h>
#include <string.h>

#include "korpud.h"

#define STRING_MAX_DEFAULT 1024

static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* A real calendar date written YYYY-MM-DD. */
int
date_valid(const char *s)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1900 || m < 1 || m > 12 || d < 1)
		return 0;
	return d <= days[m - 1] + (m == 2 && leap(y));
}

/* C0 controls other than tab and newline, DEL, and the C1 controls
 * (U+0080-U+009F, encoded C2 80-C2 9F): none belongs in a form field. */
static int
has_control_chars(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
			return 1;
		if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return 1;
	}
	return 0;
}

static const struct korpu_field *
field_find(const struct korpu_field *table, const char *name)
{
	for (const struct korpu_field *f = table; f && f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static void
check_one(const struct korpu_field *f, const json_t *v, struct errlist *errs)
{
	char where[96];
	long long max;

	snprintf(where, sizeof(where), "fields.%s", f->name);
	switch (f->type) {
	case KORPU_FIELD_STRING:
		max = f->max > 0 ? f->max : STRING_MAX_DEFAULT;
		if (!json_is_string(v))
			errlist_add(errs, where, "must be text");
		else if ((long long)json_string_length(v) > max)
			errlist_add(errs, where, "must be at most %lld bytes long", max);
		else if (has_control_chars(json_string_value(v)))
			errlist_add(errs, where, "must not contain control characters");
		else if (f->required && json_string_length(v) == 0)
			errlist_add(errs, where, "is required");
		return;
	case KORPU_FIELD_INTEGER:
		if (!json_is_integer(v))
			errlist_add(errs, where, "must be a whole number");
		else if (f->min < f->max && (json_integer_value(v) < f->min ||
		    json_integer_value(v) > f->max))
			errlist_add(errs, where, "must be between %lld and %lld", f->min, f->max);
		return;
	case KORPU_FIELD_BOOLEAN:
		if (!json_is_boolean(v))
			errlist_add(errs, where, "must be true or false");
		return;
	case KORPU_FIELD_DATE:
		if (!json_is_string(v) || !date_valid(json_string_value(v)))
			errlist_add(errs, where, "must be a date written YYYY-MM-DD");
		return;
	case KORPU_FIELD_ENUM:
		if (json_is_string(v))
			for (const char *const *e = f->enum_values; *e; e++)
				if (strcmp(*e, json_string_value(v)) == 0)
					return;
		{
			char allowed[512];
			size_t off = 0;
			allowed[0] = '\0';
			for (const char *const *e = f->enum_values; *e && off < sizeof(allowed); e++)
				off += (size_t)snprintf(allowed + off, sizeof(allowed) - off, "%s%s",
				    off ? ", " : "", *e);
			errlist_add(errs, where, "must be one of: %s", allowed);
		}
		return;
	}
}

/* Returns 0 when fields is valid, -1 after adding every problem. */
int
fields_check(const struct korpu_field *table, const json_t *fields, struct errlist *errs)
{
	const char *key;
	const json_t *v;
	size_t before = errs->n;
	char where[96];

	if (fields == NULL)
		fields = json_object();		/* absent: as if empty */
	else
		json_incref((json_t *)fields);
	if (!json_is_object(fields)) {
		errlist_add(errs, "fields", "must be an object");
		json_decref((json_t *)fields);
		return -1;
	}
	json_object_foreach((json_t *)fields, key, v) {
		if (field_find(table, key) == NULL) {
			snprintf(where, sizeof(where), "fields.%.*s",
			    (int)utf8_prefix_len(key, strlen(key), 80), key);
			errlist_add(errs, where, "is not a field of this area");
		}
	}
	for (const struct korpu_field *f = table; f && f->name; f++) {
		v = json_object_get(fields, f->name);
		if (v == NULL || json_is_null(v)) {
			if (f->required) {
				snprintf(where, sizeof(where), "fields.%s", f->name);
				errlist_add(errs, where, "is required");
			}
			continue;
		}
		check_one(f, v, errs);
	}
	json_decref((json_t *)fields);
	return errs->n > before ? -1 : 0;
}
