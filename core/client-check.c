/*
 * client-check.c - a client's record as a caseworker writes it: the
 * members API.md names, their forms, and the search keys derived from
 * the names. Nothing here talks to Redis.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"
#include "text-fold.h"

static const char *const sexes[] = { "female", "male", "other", "unknown", NULL };
static const char *const name_members[] = { "given_name", "family_name", NULL };

const struct bfield client_spec[] = {
	{ "registration_no", BF_STRING, BF_REQUIRED, 32, NULL, 0, 0, 0 },
	{ "given_name", BF_STRING, BF_REQUIRED, 100, NULL, 0, 0, 0 },
	{ "family_name", BF_STRING, BF_REQUIRED, 100, NULL, 0, 0, 0 },
	{ "birth_date", BF_DATE, BF_REQUIRED, 10, NULL, 0, 0, 0 },
	{ "sex", BF_STRING, 0, 10, sexes, 0, 0, 0 },
	{ "languages", BF_LIST, 0, 3, NULL, 0, 0, 16 },
	{ "needs_interpreter", BF_BOOL, 0, 0, NULL, 0, 0, 0 },
	{ "phone", BF_STRING, BF_NULLABLE, 32, NULL, 0, 0, 0 },
	{ "region", BF_STRING, BF_REQUIRED | BF_FIXED, 32, NULL, 0, 0, 0 },
	{ "vulnerabilities", BF_LIST, 0, 32, NULL, 0, 0, 16 },
	{ NULL, 0, 0, 0, NULL, 0, 0, 0 }
};

/* Registration numbers are compared without case, spaces or dashes:
 * "AZ-2026 0042" and "az20260042" are one case. Returns -1 when s is
 * not a registration number (letters, digits, '/', '-', ' '). */
int
regno_normalize(const char *s, char *out, size_t len)
{
	size_t o = 0;

	if (s == NULL)
		return -1;
	for (; *s; s++) {
		char c = *s;
		if (c == ' ' || c == '-')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/'))
			return -1;
		if (o + 1 >= len)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return o ? 0 : -1;
}

static int
phone_valid(const char *s)
{
	size_t digits = 0;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			digits++;
		else if (!strchr("+ ()-", *s))
			return 0;
	}
	return digits >= 3;
}

static int
slug_valid(const char *s, const char *alphabet)
{
	return s[0] && strspn(s, alphabet) == strlen(s);
}

/* Checks a client body (partial: a PATCH); returns the problems added. */
size_t
client_check(const json_t *body, int partial, const struct conf *conf, struct errlist *errs)
{
	size_t before = errs->n, i;
	const char *regno = json_string_value(json_object_get(body, "registration_no"));
	const char *region = json_string_value(json_object_get(body, "region"));
	const char *born = json_string_value(json_object_get(body, "birth_date"));
	const char *phone = json_string_value(json_object_get(body, "phone"));
	char norm[40], today[40];
	json_t *v;

	if (body_check(body, client_spec, partial, errs))
		return errs->n - before;
	/* A name of no-break spaces, tatweel or vowel marks alone passes
	 * body_check's blank test but has no search key: nobody could find
	 * the client by it. */
	for (i = 0; name_members[i]; i++) {
		const char *s = json_string_value(json_object_get(body, name_members[i]));
		char *folded = s ? text_fold(s, strlen(s)) : NULL;

		if (folded && folded[0] == '\0')
			errlist_add(errs, name_members[i], "must not be empty");
		free(folded);
	}
	if (regno && regno_normalize(regno, norm, sizeof(norm)) < 0)
		errlist_add(errs, "registration_no",
		    "must be letters, digits, '/', '-' or spaces, as on the registration document");
	if (region && !conf_region_known(conf, region))
		errlist_add(errs, "region", "is not a region of this korpu (see regions in korpud.conf)");
	/* Today where it is latest (UTC+14): a child born today in Baku
	 * before 04:00 is born "tomorrow" by UTC's calendar, and the future
	 * is only what has happened nowhere yet. */
	time_format_ms(wall_ms() + 14 * 3600 * 1000LL, today, sizeof(today));
	if (born && strncmp(born, today, 10) > 0)
		errlist_add(errs, "birth_date", "is in the future");
	if (phone && !phone_valid(phone))
		errlist_add(errs, "phone", "must be digits, spaces, +, ( ) and -");
	json_array_foreach(json_object_get(body, "languages"), i, v) {
		if (!slug_valid(json_string_value(v), "abcdefghijklmnopqrstuvwxyz") ||
		    json_string_length(v) < 2) {
			char where[32];
			snprintf(where, sizeof(where), "languages[%zu]", i);
			errlist_add(errs, where, "must be an ISO 639 code such as az, ru, ar");
		}
	}
	json_array_foreach(json_object_get(body, "vulnerabilities"), i, v) {
		if (!slug_valid(json_string_value(v), "abcdefghijklmnopqrstuvwxyz0123456789_")) {
			char where[40];
			snprintf(where, sizeof(where), "vulnerabilities[%zu]", i);
			errlist_add(errs, where, "must be a flag such as disability or single_parent");
		}
	}
	return errs->n - before;
}

static void
add_key(json_t *keys, const char *text, const char *id)
{
	char *folded = text_fold(text, strlen(text));
	char *member;

	if (folded && folded[0] && asprintf(&member, "%s\x1f%s", folded, id) >= 0) {
		size_t i;
		json_t *v;
		int dup = 0;
		json_array_foreach(keys, i, v)
			dup |= strcmp(json_string_value(v), member) == 0;
		if (!dup)
			json_array_append_new(keys, json_string(member));
		free(member);
	}
	free(folded);
}

/*
 * The members a client is found by in its region's name index (a sorted
 * set searched by prefix): each name alone, and both orders of the full
 * name, folded (text-fold.c), each followed by \x1f and the id.
 */
json_t *
client_name_keys(const json_t *client)
{
	const char *id = json_string_value(json_object_get(client, "id"));
	const char *given = json_string_value(json_object_get(client, "given_name"));
	const char *family = json_string_value(json_object_get(client, "family_name"));
	json_t *keys = json_array();
	char *both;

	if (id == NULL || given == NULL || family == NULL)
		return keys;
	add_key(keys, given, id);
	add_key(keys, family, id);
	if (asprintf(&both, "%s %s", given, family) >= 0) {
		add_key(keys, both, id);
		free(both);
	}
	if (asprintf(&both, "%s %s", family, given) >= 0) {
		add_key(keys, both, id);
		free(both);
	}
	return keys;
}
