/* fuzz-hsds.c - hsds_map() (hsds-map.c) on any JSON: it must not crash,
 * and what it maps must be what korpu's provider checks take. The input's
 * size picks the options (defaults or none, dates checked or not), so
 * every input is read as it is. Input: JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hsds-map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const areas[] = { "employment", "schools", "clinics", "housing",
    "integration" };
static const char *const regions[] = { "baku", "ganja" };

#define check(cond) do { if (!(cond)) abort(); } while (0)

static int
in(const char *s, const char *const *set, size_t n)
{
	size_t i;

	for (i = 0; s != NULL && i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return 1;
	return 0;
}

/* Text korpu stores: not empty or padded, no controls, at most max. */
static void
check_text(const json_t *v, size_t max, int may_be_empty)
{
	const unsigned char *s = (const unsigned char *)json_string_value(v);
	size_t len, i;

	check(s != NULL);
	len = json_string_length(v);
	check(strlen((const char *)s) == len && len <= max);
	check(may_be_empty || len > 0);
	if (len > 0)
		check(s[0] != ' ' && s[len - 1] != ' ');
	for (i = 0; i < len; i++) {
		check(s[i] >= 0x20 && s[i] != 0x7f);
		check(!(s[i] == 0xc2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f));
	}
}

/* An HSDS id, as it came (ids are not trimmed). */
static void
check_id(const json_t *v)
{
	const unsigned char *s = (const unsigned char *)json_string_value(v);
	size_t len = json_string_length(v), i;

	check(s != NULL && len > 0 && len <= HSDS_ID_MAX);
	for (i = 0; i < len; i++)
		check(s[i] >= 0x20 && s[i] != 0x7f);
}

/* "HH:MM" to minutes; 24:00 only as a close. */
static int
minutes(const json_t *v, int close)
{
	const char *s = json_string_value(v);
	int h, m;

	check(s != NULL && strlen(s) == 5 && s[2] == ':');
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	check(h >= 0 && m >= 0 && m < 60 && (h < 24 || (close && h == 24 && m == 0)));
	return h * 60 + m;
}

static void
check_hours(const json_t *hours, int slot)
{
	static const char *const days[] = { "mo", "tu", "we", "th", "fr", "sa", "su" };
	int open[7][8], close[7][8], n[7] = { 0 };
	const json_t *rule, *d;
	size_t i, j;

	check(json_is_array(hours));
	json_array_foreach(hours, i, rule) {
		int o = minutes(json_object_get(rule, "open"), 0);
		int c = minutes(json_object_get(rule, "close"), 1);
		int last = -1;

		check(json_object_size(rule) == 3);
		check(c > o && c - o >= slot);
		check(json_array_size(json_object_get(rule, "days")) > 0);
		json_array_foreach(json_object_get(rule, "days"), j, d) {
			int k;

			for (k = 0; k < 7 && !(json_string_value(d) &&
			    strcmp(json_string_value(d), days[k]) == 0); k++)
				;
			check(k < 7 && k > last);	/* a day, in week order, once */
			last = k;
			check(n[k] < 8);
			for (int x = 0; x < n[k]; x++)
				check(o >= close[k][x] || open[k][x] >= c);
			open[k][n[k]] = o;
			close[k][n[k]] = c;
			n[k]++;
		}
	}
}

static void
check_report(const json_t *list)
{
	const json_t *e;
	size_t i;

	check(json_is_array(list));
	json_array_foreach(list, i, e) {
		check(json_object_size(e) == 3);
		check(json_is_string(json_object_get(e, "table")));
		check(json_is_string(json_object_get(e, "id")) || json_is_null(json_object_get(e, "id")));
		check(json_string_length(json_object_get(e, "reason")) > 0);
	}
}

static void
check_output(const json_t *out, const struct hsds_options *o)
{
	const json_t *orgs = json_object_get(out, "organizations");
	const json_t *providers = json_object_get(out, "providers");
	const json_t *e, *f, *l;
	size_t i, j, k;
	char *text;

	check(json_object_size(out) == 4 && json_is_array(orgs) && json_is_array(providers));
	check_report(json_object_get(out, "skipped"));
	check_report(json_object_get(out, "warnings"));
	json_array_foreach(orgs, i, e) {
		const char *kinds[] = { "government", "ngo", "agency" };

		check(json_object_size(e) == 4);
		check_id(json_object_get(e, "source_id"));
		check_text(json_object_get(e, "name"), HSDS_NAME_MAX, 0);
		check(in(json_string_value(json_object_get(e, "kind")), kinds, 3));
		check(in(json_string_value(json_object_get(e, "region")), regions, 2));
		for (j = 0; j < i; j++)
			check(!json_equal(json_object_get(e, "source_id"),
			    json_object_get(json_array_get(orgs, j), "source_id")));
	}
	json_array_foreach(providers, i, e) {
		int found = 0;

		check(json_object_size(e) == 12);
		check(json_string_length(json_object_get(e, "source_id")) > 0);
		json_array_foreach(orgs, j, f)
			if (json_equal(json_object_get(f, "source_id"),
			    json_object_get(e, "organization_source_id")))
				found = 1;
		check(found);
		for (j = 0; j < i; j++)
			check(!json_equal(json_object_get(e, "source_id"),
			    json_object_get(json_array_get(providers, j), "source_id")));
		check_text(json_object_get(e, "name"), HSDS_NAME_MAX, 0);
		check_text(json_object_get(e, "address"), HSDS_ADDRESS_MAX, 1);
		check(in(json_string_value(json_object_get(e, "area")), areas, 5));
		check(in(json_string_value(json_object_get(e, "region")), regions, 2));
		check(strcmp(json_string_value(json_object_get(e, "timezone")), o->timezone) == 0);
		check(json_integer_value(json_object_get(e, "slot_minutes")) == o->slot_minutes);
		check(json_integer_value(json_object_get(e, "capacity")) == o->capacity);
		check(json_array_size(json_object_get(e, "closed")) == 0);
		check(json_is_array(json_object_get(e, "languages")));
		check(json_array_size(json_object_get(e, "languages")) <= HSDS_LANGUAGES_MAX);
		json_array_foreach(json_object_get(e, "languages"), j, l) {
			const char *s = json_string_value(l);

			check(s != NULL && strlen(s) >= 2 && strlen(s) <= 3 &&
			    strspn(s, "abcdefghijklmnopqrstuvwxyz") == strlen(s));
			for (k = 0; k < j; k++)
				check(!json_equal(l, json_array_get(json_object_get(e, "languages"), k)));
		}
		check_hours(json_object_get(e, "hours"), o->slot_minutes);
	}
	/* All of it is valid JSON text (valid UTF-8 strings). */
	text = json_dumps(out, JSON_COMPACT);
	check(text != NULL);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
	struct hsds_options o = {
		.areas = areas, .n_areas = 5, .regions = regions, .n_regions = 2,
		.default_area = (size & 1) ? "housing" : NULL,
		.default_region = (size & 1) ? "ganja" : NULL,
		.timezone = "Asia/Baku", .slot_minutes = (size & 4) ? 5 : 30, .capacity = 3,
		.today = (size & 2) ? "2026-06-15" : NULL,
	};
	json_t *out = NULL, *again = NULL;
	char err[256];

	if (doc == NULL)
		return 0;
	if (hsds_map(doc, &o, &out, err, sizeof err) == 0) {
		check(out != NULL);
		check_output(out, &o);
		/* The same input maps the same. */
		check(hsds_map(doc, &o, &again, err, sizeof err) == 0 && json_equal(out, again));
	} else {
		check(out == NULL && err[0] != '\0');
	}
	json_decref(again);
	json_decref(out);
	json_decref(doc);
	return 0;
}
