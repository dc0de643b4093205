/*
 * provider-check.c - is a provider's description one korpu can schedule
 * from? Known area and region, a real IANA time zone, weekly opening
 * rules that make sense (open before close, at least one slot long, no
 * two rules overlapping on a day) and real closure dates. Every problem
 * is named by its field; nothing here talks to Redis.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

#include "korpud.h"

static const char *const day_names[] = { "mo", "tu", "we", "th", "fr", "sa", "su", NULL };

static const struct bfield provider_spec[] = {
	{ "name", BF_STRING, BF_REQUIRED, 200, NULL, 0, 0, 0 },
	{ "area", BF_STRING, BF_REQUIRED | BF_FIXED, 32, NULL, 0, 0, 0 },
	{ "organization", BF_STRING, BF_REQUIRED | BF_FIXED, ID_MAX, NULL, 0, 0, 0 },
	{ "region", BF_STRING, BF_REQUIRED | BF_FIXED, 32, NULL, 0, 0, 0 },
	{ "address", BF_STRING, 0, 300, NULL, 0, 0, 0 },
	{ "languages", BF_LIST, 0, 3, NULL, 0, 0, 16 },
	{ "timezone", BF_STRING, 0, 64, NULL, 0, 0, 0 },
	{ "slot_minutes", BF_INT, 0, 0, NULL, 5, 480, 0 },
	{ "capacity", BF_INT, 0, 0, NULL, 1, 1000, 0 },
	{ "hours", BF_ARRAY, 0, 0, NULL, 0, 0, 0 },
	{ "closed", BF_LIST, 0, 10, NULL, 0, 0, 366 },
	{ "courses", BF_ARRAY, 0, 0, NULL, 0, 0, 0 },
	{ "seats", BF_ARRAY, 0, 0, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, 0, 0, 0 }
};

/* "HH:MM" -> minutes after midnight, or -1. 24:00 closes at midnight. */
int
clock_minutes(const char *s)
{
	int h, m;

	if (s == NULL || strlen(s) != 5 || s[2] != ':' ||
	    s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' ||
	    s[3] < '0' || s[3] > '5' || s[4] < '0' || s[4] > '9')
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 24 || (h == 24 && m != 0))
		return -1;
	return h * 60 + m;
}

int
timezone_known(const char *tz)
{
	/* libical knows the zones of its bundled tzdata, by plain IANA name. */
	return tz && tz[0] && strlen(tz) < 64 && strstr(tz, "..") == NULL &&
	    icaltimezone_get_builtin_timezone(tz) != NULL;
}

static int
day_index(const char *d)
{
	for (int i = 0; day_names[i]; i++)
		if (strcmp(day_names[i], d) == 0)
			return i;
	return -1;
}

static void
check_rule(const json_t *rule, size_t i, long slot, struct errlist *errs, int open_at[7][8],
    int close_at[7][8], int count[7])
{
	char where[96];
	const json_t *days = json_object_get(rule, "days");
	int o = clock_minutes(json_string_value(json_object_get(rule, "open")));
	int c = clock_minutes(json_string_value(json_object_get(rule, "close")));
	const char *key;
	json_t *v;
	size_t k;

	snprintf(where, sizeof(where), "hours[%zu]", i);
	if (!json_is_object(rule)) {
		errlist_add(errs, where, "must be an object {\"days\",\"open\",\"close\"}");
		return;
	}
	json_object_foreach((json_t *)rule, key, v)
		if (strcmp(key, "days") && strcmp(key, "open") && strcmp(key, "close")) {
			char at[160];
			snprintf(at, sizeof(at), "%s.%.30s", where, key);
			errlist_add(errs, at, "is not a known field");
		}
	if (!json_is_array(days) || json_array_size(days) == 0 || json_array_size(days) > 7) {
		snprintf(where, sizeof(where), "hours[%zu].days", i);
		errlist_add(errs, where, "must list days: mo tu we th fr sa su");
		return;
	}
	if (o < 0 || o >= 24 * 60) {
		snprintf(where, sizeof(where), "hours[%zu].open", i);
		errlist_add(errs, where, "must be a time HH:MM");
		return;
	}
	if (c < 0) {
		snprintf(where, sizeof(where), "hours[%zu].close", i);
		errlist_add(errs, where, "must be a time HH:MM");
		return;
	}
	if (c <= o) {
		snprintf(where, sizeof(where), "hours[%zu].close", i);
		errlist_add(errs, where, "must be after open");
		return;
	}
	if (c - o < slot) {
		snprintf(where, sizeof(where), "hours[%zu].close", i);
		errlist_add(errs, where, "leaves less than one slot (%ld minutes) open", slot);
		return;
	}
	json_array_foreach(days, k, v) {
		int d = day_index(json_string_value(v) ? json_string_value(v) : "");
		snprintf(where, sizeof(where), "hours[%zu].days[%zu]", i, k);
		if (d < 0) {
			errlist_add(errs, where, "must be one of mo tu we th fr sa su");
			continue;
		}
		for (int x = 0; x < count[d]; x++)
			if (o < close_at[d][x] && open_at[d][x] < c) {
				errlist_add(errs, where, "overlaps another opening rule on %s", day_names[d]);
				break;
			}
		if (count[d] < 8) {
			open_at[d][count[d]] = o;
			close_at[d][count[d]] = c;
			count[d]++;
		} else {
			errlist_add(errs, where, "has more than 8 opening rules on %s", day_names[d]);
		}
	}
}

/* ISO 639 codes, lower case. */
void
languages_check(const json_t *languages, struct errlist *errs)
{
	size_t i;
	json_t *v;

	json_array_foreach(languages, i, v) {
		const char *l = json_string_value(v);
		if (l == NULL || strlen(l) < 2 || strspn(l, "abcdefghijklmnopqrstuvwxyz") != strlen(l)) {
			char where[32];
			snprintf(where, sizeof(where), "languages[%zu]", i);
			errlist_add(errs, where, "must be an ISO 639 code such as az, ru, ar");
		}
	}
}

/*
 * Checks a provider body (partial: a PATCH). Returns the number of
 * problems added. The organization's existence is checked by the caller.
 */
size_t
provider_check(const json_t *body, int partial, const struct conf *conf,
    const struct plugin_set *plugins, struct errlist *errs)
{
	size_t before = errs->n;
	const char *area = json_string_value(json_object_get(body, "area"));
	const char *region = json_string_value(json_object_get(body, "region"));
	const char *tz = json_string_value(json_object_get(body, "timezone"));
	const json_t *slot = json_object_get(body, "slot_minutes");
	const json_t *hours = json_object_get(body, "hours");
	size_t i;
	json_t *v;

	if (body_check(body, provider_spec, partial, errs))
		return errs->n - before;
	if (area && plugins_find(plugins, area) == NULL)
		errlist_add(errs, "area", "is not a service area of this korpu");
	if (region && !conf_region_known(conf, region))
		errlist_add(errs, "region", "is not a region of this korpu (see regions in korpud.conf)");
	if (tz && !timezone_known(tz))
		errlist_add(errs, "timezone", "is not an IANA time zone name (e.g. Asia/Baku)");
	languages_check(json_object_get(body, "languages"), errs);
	json_array_foreach(json_object_get(body, "closed"), i, v) {
		if (!date_valid(json_string_value(v))) {
			char where[32];
			snprintf(where, sizeof(where), "closed[%zu]", i);
			errlist_add(errs, where, "must be a date written YYYY-MM-DD");
		}
	}
	hours_check(hours, slot ? (long)json_integer_value(slot) : 30, errs);
	seats_check(json_object_get(body, "seats"), errs);
	return errs->n - before;
}

/* Weekly opening rules ("hours"): each at least slot minutes long, none
 * overlapping another on a day. Returns the problems added. */
size_t
hours_check(const json_t *hours, long slot, struct errlist *errs)
{
	int open_at[7][8], close_at[7][8], count[7] = { 0 };
	size_t before = errs->n, i;
	json_t *v;

	if (json_array_size(hours) > 64)
		errlist_add(errs, "hours", "must have at most 64 rules");
	else
		json_array_foreach(hours, i, v)
			check_rule(v, i, slot, errs, open_at, close_at, count);
	return errs->n - before;
}

/*
 * A provider's courses (series of sessions booked as a whole): each
 * {"id","title","first","rrule"}, ids unique, every session one of the
 * provider's slots. doc is the provider with its defaults filled in.
 */
size_t
courses_check(const json_t *doc, struct errlist *errs)
{
	const json_t *courses = json_object_get(doc, "courses");
	struct slot *s = calloc(200, sizeof(*s));
	size_t before = errs->n, i;
	json_t *c;

	if (json_array_size(courses) > 32)
		errlist_add(errs, "courses", "must have at most 32 courses");
	json_array_foreach(courses, i, c) {
		const char *id = json_string_value(json_object_get(c, "id"));
		const char *title = json_string_value(json_object_get(c, "title"));
		char where[48], why[160];
		const char *key;
		json_t *v;

		snprintf(where, sizeof(where), "courses[%zu]", i);
		if (!json_is_object(c)) {
			errlist_add(errs, where, "must be {\"id\",\"title\",\"first\",\"rrule\"}");
			continue;
		}
		json_object_foreach((json_t *)c, key, v)
			if (strcmp(key, "id") && strcmp(key, "title") && strcmp(key, "first") &&
			    strcmp(key, "rrule"))
				errlist_add(errs, where, "has an unknown member %.30s", key);
		if (id == NULL || strlen(id) == 0 || strlen(id) > 32 ||
		    strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(id))
			errlist_add(errs, where, "id must be a-z, 0-9 and '-', at most 32");
		if (title == NULL || strlen(title) == 0 || strlen(title) > 200)
			errlist_add(errs, where, "title must be text of at most 200 bytes");
		for (size_t k = 0; id && k < i; k++)
			if (json_equal(json_object_get(json_array_get(courses, k), "id"),
			    json_object_get(c, "id")))
				errlist_add(errs, where, "id is used by another course");
		if (s && course_sessions(doc, c, s, 200, why, sizeof(why)) < 0)
			errlist_add(errs, where, "%s", why);
	}
	free(s);
	return errs->n - before;
}

/* "2026/2027": a school year, the second year the first plus one. */
int
school_year_valid(const char *s)
{
	int a, b;

	if (s == NULL || strlen(s) != 9 || s[4] != '/' ||
	    strspn(s, "0123456789") != 4 || strspn(s + 5, "0123456789") != 4)
		return 0;
	a = atoi(s);
	b = atoi(s + 5);
	return a >= 2000 && a <= 2100 && b == a + 1;
}

/*
 * A school's places per school year and grade (seat model):
 * [{"school_year":"2026/2027","grade":1,"places":25}, ...], one entry per
 * year and grade.
 */
size_t
seats_check(const json_t *seats, struct errlist *errs)
{
	size_t before = errs->n, i;
	json_t *e;

	if (json_array_size(seats) > 200)
		errlist_add(errs, "seats", "must have at most 200 entries");
	json_array_foreach(seats, i, e) {
		const json_t *grade = json_object_get(e, "grade"), *places = json_object_get(e, "places");
		const char *year = json_string_value(json_object_get(e, "school_year"));
		char where[32];

		snprintf(where, sizeof(where), "seats[%zu]", i);
		if (!json_is_object(e) || json_object_size(e) != 3) {
			errlist_add(errs, where, "must be {\"school_year\",\"grade\",\"places\"}");
			continue;
		}
		if (!school_year_valid(year))
			errlist_add(errs, where, "school_year must be written 2026/2027");
		if (!json_is_integer(grade) || json_integer_value(grade) < 0 ||
		    json_integer_value(grade) > 12)
			errlist_add(errs, where, "grade must be a whole number from 0 to 12");
		if (!json_is_integer(places) || json_integer_value(places) < 0 ||
		    json_integer_value(places) > 5000)
			errlist_add(errs, where, "places must be a whole number from 0 to 5000");
		for (size_t k = 0; k < i; k++) {
			const json_t *o = json_array_get(seats, k);
			if (json_equal(json_object_get(o, "school_year"), json_object_get(e, "school_year")) &&
			    json_equal(json_object_get(o, "grade"), grade))
				errlist_add(errs, where, "repeats the places of another entry");
		}
	}
	return errs->n - before;
}
