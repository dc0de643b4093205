/*
 * test-hsds.c - hsds_map(): Open Referral HSDS datasets to korpu
 * organizations and providers. The HSDS 3.0 examples (read from
 * HSDS_EXAMPLES), then one small dataset per rule and per reason a row is
 * skipped, then determinism.
 *
 * Datasets are written with ' for " to stay readable (J()); none of them
 * needs an apostrophe.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsds-map.h"

/* The HSDS 3.0 examples: the build passes the copies in
 * tests/fixtures/hsds by absolute path; by hand from the repository root,
 * the reference material beside it is read. */
#ifndef HSDS_EXAMPLES
#define HSDS_EXAMPLES "../shared/data/hsds/specification/examples"
#endif

#define UNUSED __attribute__((unused))	/* a test's cmocka state */

static const char *const areas[] = { "employment", "schools", "clinics", "housing",
    "integration" };
static const char *const regions[] = { "baku", "ganja", "sumqayit" };

/* Options of most tests: no defaults, no date checks. */
static struct hsds_options
options(void)
{
	struct hsds_options o = {
		.areas = areas, .n_areas = 5, .regions = regions, .n_regions = 3,
		.default_area = NULL, .default_region = NULL, .timezone = "Asia/Baku",
		.slot_minutes = 30, .capacity = 2, .today = NULL,
	};
	return o;
}

/* text with every ' made a ", parsed. */
static json_t *
J(const char *text)
{
	char *s = strdup(text);
	json_error_t jerr;
	json_t *v;
	char *p;

	assert_non_null(s);
	for (p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	v = json_loads(s, JSON_DECODE_ANY, &jerr);
	if (v == NULL)
		fail_msg("bad test JSON at %d: %s: %s", jerr.position, jerr.text, s);
	free(s);
	return v;
}

static char *
dump(const json_t *v)
{
	return json_dumps(v, JSON_INDENT(1) | JSON_ENCODE_ANY);
}

/* hsds_map must succeed; returns its output. */
static json_t *
map(const json_t *doc, const struct hsds_options *o)
{
	char err[256] = "";
	json_t *out = (json_t *)1;
	int rc = hsds_map(doc, o, &out, err, sizeof err);

	if (rc != 0 || out == NULL)
		fail_msg("hsds_map failed: %s", err);
	return out;
}

static json_t *
map_text(const char *text, const struct hsds_options *o)
{
	json_t *doc = J(text), *out = map(doc, o);

	json_decref(doc);
	return out;
}

/* v must equal the JSON in expected (with ' for "). */
static void
assert_json(const json_t *v, const char *expected)
{
	json_t *want = J(expected);

	if (!json_equal(v, want)) {
		char *a = dump(v), *b = dump(want);
		fail_msg("got\n%s\nwant\n%s", a, b);
	}
	json_decref(want);
}

/* out[list] must have an entry for table/id (id NULL: null) whose reason
 * contains needle. */
static void
assert_listed(const json_t *out, const char *list, const char *table, const char *id,
    const char *needle)
{
	const json_t *e;
	size_t i;

	json_array_foreach(json_object_get(out, list), i, e) {
		const json_t *eid = json_object_get(e, "id");
		const char *reason = json_string_value(json_object_get(e, "reason"));

		if (strcmp(json_string_value(json_object_get(e, "table")), table) != 0)
			continue;
		if (id == NULL ? !json_is_null(eid) : !json_is_string(eid) ||
		    strcmp(json_string_value(eid), id) != 0)
			continue;
		if (reason != NULL && strstr(reason, needle) != NULL)
			return;
	}
	fail_msg("no %s entry %s %s \"%s\" in\n%s", list, table, id ? id : "null", needle,
	    dump(json_object_get(out, list)));
}

#define assert_skipped(out, table, id, needle) \
	assert_listed(out, "skipped", table, id, needle)

static size_t
count(const json_t *out, const char *list)
{
	return json_array_size(json_object_get(out, list));
}

/* The provider with source_id, or a failure. */
static json_t *
provider(const json_t *out, const char *source_id)
{
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(out, "providers"), i, p)
		if (strcmp(json_string_value(json_object_get(p, "source_id")), source_id) == 0)
			return p;
	fail_msg("no provider %s in\n%s", source_id, dump(out));
	return NULL;
}

static const char *
field(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (s == NULL)
		fail_msg("no string %s in %s", key, dump(o));
	return s;
}

/* ---- the base dataset: one organization, service, location and
 * service_at_location, with everything a provider takes */

static const char base_text[] =
    "{'organizations': [{'id': 'o1', 'name': '  Yasamal Employment Centre ',"
    "   'legal_status': 'State agency'}],"
    " 'services': [{'id': 's1', 'organization_id': 'o1', 'name': 'Job counselling',"
    "   'status': 'active'}],"
    " 'locations': [{'id': 'l1', 'organization_id': 'o1', 'name': 'Yasamal office',"
    "   'location_type': 'physical'}],"
    " 'service_at_locations': [{'id': 'sal1', 'service_id': 's1', 'location_id': 'l1'}],"
    " 'addresses': [{'id': 'a1', 'location_id': 'l1', 'address_1': '12 Sharifzade St',"
    "   'city': 'Baku', 'state_province': 'Absheron', 'postal_code': 'AZ1000',"
    "   'country': 'AZ', 'address_type': 'physical'}],"
    " 'languages': [{'id': 'g1', 'service_id': 's1', 'code': 'AZ'},"
    "   {'id': 'g2', 'location_id': 'l1', 'code': 'ru'},"
    "   {'id': 'g3', 'service_id': 's1', 'code': 'az'}],"
    " 'schedules': [{'id': 'h1', 'service_at_location_id': 'sal1', 'freq': 'WEEKLY',"
    "   'byday': 'MO,TU,WE,TH,FR', 'opens_at': '09:00', 'closes_at': '13:00'},"
    "  {'id': 'h2', 'service_at_location_id': 'sal1', 'freq': 'WEEKLY', 'byday': 'MO,WE',"
    "   'opens_at': '14:00:00', 'closes_at': '17:30:00+04:00', 'timezone': 4}],"
    " 'attributes': [{'id': 'at1', 'link_id': 's1', 'link_entity': 'service',"
    "   'taxonomy_term_id': 't1'}],"
    " 'taxonomy_terms': [{'id': 't1', 'code': 'EMPLOYMENT', 'name': 'Employment services'}]}";

static const char base_expected[] =
    "{'organizations': [{'source_id': 'o1', 'name': 'Yasamal Employment Centre',"
    "   'kind': 'agency', 'region': 'baku'}],"
    " 'providers': [{'source_id': 'sal1', 'organization_source_id': 'o1',"
    "   'name': 'Job counselling (Yasamal office)', 'area': 'employment', 'region': 'baku',"
    "   'address': '12 Sharifzade St, Baku', 'languages': ['az', 'ru'],"
    "   'timezone': 'Asia/Baku', 'slot_minutes': 30, 'capacity': 2,"
    "   'hours': [{'days': ['mo', 'tu', 'we', 'th', 'fr'], 'open': '09:00', 'close': '13:00'},"
    "     {'days': ['mo', 'we'], 'open': '14:00', 'close': '17:30'}],"
    "   'closed': []}],"
    " 'skipped': [], 'warnings': []}";

/* The same dataset, nested as organization_full.json nests it. */
static const char base_nested[] =
    "{'id': 'o1', 'name': '  Yasamal Employment Centre ', 'legal_status': 'State agency',"
    " 'locations': [{'id': 'l1', 'name': 'Yasamal office', 'location_type': 'physical',"
    "   'addresses': [{'id': 'a1', 'address_1': '12 Sharifzade St', 'city': 'Baku',"
    "     'state_province': 'Absheron', 'postal_code': 'AZ1000', 'country': 'AZ',"
    "     'address_type': 'physical'}],"
    "   'languages': [{'id': 'g2', 'code': 'ru'}]}],"
    " 'services': [{'id': 's1', 'name': 'Job counselling', 'status': 'active',"
    "   'languages': [{'id': 'g1', 'code': 'AZ'}, {'id': 'g3', 'code': 'az'}],"
    "   'attributes': [{'id': 'at1', 'taxonomy_term': {'id': 't1', 'code': 'EMPLOYMENT',"
    "     'name': 'Employment services'}}],"
    "   'service_at_locations': [{'id': 'sal1',"
    "     'location': {'id': 'l1', 'name': 'Yasamal office', 'location_type': 'physical',"
    "       'addresses': [{'id': 'a1', 'address_1': '12 Sharifzade St', 'city': 'Baku',"
    "         'state_province': 'Absheron', 'postal_code': 'AZ1000', 'country': 'AZ',"
    "         'address_type': 'physical'}],"
    "       'languages': [{'id': 'g2', 'code': 'ru'}]},"
    "     'schedules': [{'id': 'h1', 'freq': 'WEEKLY', 'byday': 'MO,TU,WE,TH,FR',"
    "       'opens_at': '09:00', 'closes_at': '13:00'},"
    "      {'id': 'h2', 'freq': 'WEEKLY', 'byday': 'MO,WE', 'opens_at': '14:00:00',"
    "       'closes_at': '17:30:00+04:00', 'timezone': 4}]}]}]}";

static json_t *
base(void)
{
	return J(base_text);
}

/* Row i of table in doc, to change it. */
static json_t *
row(json_t *doc, const char *table, size_t i)
{
	json_t *r = json_array_get(json_object_get(doc, table), i);

	if (r == NULL)
		fail_msg("no %s[%zu]", table, i);
	return r;
}

/* Sets key of row i of table to the JSON value text. */
static void
set(json_t *doc, const char *table, size_t i, const char *key, const char *text)
{
	json_object_set_new(row(doc, table, i), key, J(text));
}

static void
add_row(json_t *doc, const char *table, const char *text)
{
	json_t *a = json_object_get(doc, table);

	if (a == NULL) {
		a = json_array();
		json_object_set_new(doc, table, a);
	}
	json_array_append_new(a, J(text));
}

/* ---- the whole mapping */

static void
base_maps_exactly(void **state UNUSED)
{
	struct hsds_options o = options();
	json_t *out = map_text(base_text, &o);

	assert_json(out, base_expected);
	json_decref(out);
}

static void
nested_maps_like_tabular(void **state UNUSED)
{
	struct hsds_options o = options();
	json_t *out = map_text(base_nested, &o);
	char *wrapped;

	/* The location under organization.locations and the one under
	 * service_at_location.location are the same row: nothing reported. */
	assert_json(out, base_expected);
	json_decref(out);

	/* An array of organizations, and a paged list of them, alike. */
	wrapped = malloc(strlen(base_nested) + 32);
	sprintf(wrapped, "[%s]", base_nested);
	out = map_text(wrapped, &o);
	assert_json(out, base_expected);
	json_decref(out);
	sprintf(wrapped, "{'contents': [%s]}", base_nested);
	out = map_text(wrapped, &o);
	assert_json(out, base_expected);
	json_decref(out);
	free(wrapped);
}

static void
tabular_names_with_csv_and_singular(void **state UNUSED)
{
	struct hsds_options o = options();
	json_t *doc = base(), *out;
	static const char *const keys[] = { "organizations", "services", "locations",
	    "addresses", "languages", "schedules", "attributes", "taxonomy_terms" };
	size_t i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		char csv[64];

		snprintf(csv, sizeof csv, "%s.csv", keys[i]);
		json_object_set(doc, csv, json_object_get(doc, keys[i]));
		json_object_del(doc, keys[i]);
	}
	json_object_set(doc, "service_at_location", json_object_get(doc, "service_at_locations"));
	json_object_del(doc, "service_at_locations");
	out = map(doc, &o);
	assert_json(out, base_expected);
	json_decref(out);
	json_decref(doc);
}

/* ---- the shipped HSDS 3.0 examples */

static json_t *
example(const char *name)
{
	char path[1024];
	json_error_t jerr;
	json_t *v;

	snprintf(path, sizeof path, "%s/%s", HSDS_EXAMPLES, name);
	if ((v = json_load_file(path, 0, &jerr)) == NULL)
		fail_msg("cannot read %s (set -DHSDS_EXAMPLES): %s", path, jerr.text);
	return v;
}

static json_t *
map_example(const char *name, const struct hsds_options *o)
{
	json_t *doc = example(name), *out = map(doc, o);

	json_decref(doc);
	return out;
}

static void
examples_agree_in_every_shape(void **state UNUSED)
{
	struct hsds_options o = options();
	static const char *const same[] = { "service_at_location_full.json",
	    "service_full.json", "tabular.json" };
	json_t *out, *p, *other;
	size_t i;

	o.default_area = "clinics";
	o.default_region = "baku";
	out = map_example("organization_full.json", &o);
	assert_int_equal(count(out, "organizations"), 1);
	assert_json(json_array_get(json_object_get(out, "organizations"), 0),
	    "{'source_id': 'd9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610',"
	    " 'name': 'Example Organization Inc.', 'kind': 'ngo', 'region': 'baku'}");
	assert_int_equal(count(out, "providers"), 1);
	p = provider(out, "e94c9f38-1e8f-4564-91d4-d53501ab1765");
	assert_json(p, "{'source_id': 'e94c9f38-1e8f-4564-91d4-d53501ab1765',"
	    " 'organization_source_id': 'd9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610',"
	    " 'name': 'Community Counselling (MyCity Civic Center)', 'area': 'clinics',"
	    " 'region': 'baku', 'address': '1-30 Main Street, MyVillage, MyCity',"
	    " 'languages': ['ur'], 'timezone': 'Asia/Baku', 'slot_minutes': 30, 'capacity': 2,"
	    " 'hours': [], 'closed': []}");
	/* Its one schedule (the same id nested four times) is a WEEKLY rule
	 * limited by count and bymonthday: not weekly hours. */
	assert_int_equal(count(out, "skipped"), 1);
	assert_skipped(out, "schedules", "48102e86-bb50-41c4-8f1e-e269368c41d1", "count");
	assert_int_equal(count(out, "warnings"), 1);
	assert_listed(out, "warnings", "service_at_location",
	    "e94c9f38-1e8f-4564-91d4-d53501ab1765", "no usable opening hours");

	/* The same data served as a service_at_location, a service and
	 * tabular.json (keys "organizations.csv", ...) maps the same. */
	for (i = 0; i < sizeof same / sizeof same[0]; i++) {
		other = map_example(same[i], &o);
		if (!json_equal(out, other))
			fail_msg("%s maps otherwise:\n%s", same[i], dump(other));
		json_decref(other);
	}
	json_decref(out);

	/* Regions come from the address: region, then state_province, then city. */
	{
		static const char *const mine[] = { "myregion", "mystate", "mycity" };
		static const char *const two[] = { "mystate", "mycity" };

		o = options();
		o.default_area = "clinics";
		o.regions = mine;
		o.n_regions = 3;
		out = map_example("organization_full.json", &o);
		assert_string_equal(field(provider(out, "e94c9f38-1e8f-4564-91d4-d53501ab1765"),
		    "region"), "myregion");
		json_decref(out);
		o.regions = two;
		o.n_regions = 2;
		out = map_example("tabular.json", &o);
		assert_string_equal(field(provider(out, "e94c9f38-1e8f-4564-91d4-d53501ab1765"),
		    "region"), "mystate");
		json_decref(out);
	}
}

static void
examples_lists_and_other_records(void **state UNUSED)
{
	struct hsds_options o = options();
	char err[256];
	json_t *out, *doc;

	o.default_region = "ganja";
	/* Organizations without services are imported all the same. */
	out = map_example("organization_list.json", &o);
	assert_int_equal(count(out, "organizations"), 1);
	assert_int_equal(count(out, "providers"), 0);
	json_decref(out);

	/* A service with no service_at_location and no location. */
	out = map_example("service_list.json", &o);
	assert_int_equal(count(out, "providers"), 0);
	assert_skipped(out, "services", "ac148810-d857-441c-9679-408f346de14b", "0 locations");
	json_decref(out);

	/* A service_at_location with its service and location, no area. */
	out = map_example("service_at_location_list.json", &o);
	assert_int_equal(count(out, "providers"), 0);
	assert_skipped(out, "service_at_location", "e94c9f38-1e8f-4564-91d4-d53501ab1765",
	    "no korpu service area");
	assert_int_equal(count(out, "organizations"), 1);
	json_decref(out);

	/* A location alone: nothing to import, its schedule reported. */
	out = map_example("location.json", &o);
	assert_int_equal(count(out, "organizations"), 0);
	assert_int_equal(count(out, "providers"), 0);
	json_decref(out);

	/* Taxonomy terms in a list are no records of ours. */
	out = map_example("taxonomy_term_list.json", &o);
	assert_int_equal(count(out, "organizations"), 0);
	assert_skipped(out, "records", NULL, "contents[0]: not an organization");
	json_decref(out);

	/* base.json and a taxonomy are not datasets at all. */
	doc = example("base.json");
	out = (json_t *)1;
	assert_int_equal(hsds_map(doc, &o, &out, err, sizeof err), -1);
	assert_null(out);
	assert_non_null(strstr(err, "not an HSDS dataset"));
	json_decref(doc);
	doc = example("taxonomy.json");
	assert_int_equal(hsds_map(doc, &o, &out, err, sizeof err), -1);
	assert_non_null(strstr(err, "not an organization"));
	json_decref(doc);
}

/* ---- area */

static void
area_rules(void **state UNUSED)
{
	struct hsds_options o = options();
	json_t *doc, *out;

	/* An attribute of the service_at_location beats the service's; the
	 * value counts, any case, trimmed. */
	doc = base();
	add_row(doc, "attributes", "{'id': 'at2', 'link_id': 'sal1',"
	    " 'link_entity': 'service_at_location', 'value': ' Housing '}");
	out = map(doc, &o);
	assert_string_equal(field(provider(out, "sal1"), "area"), "housing");
	json_decref(out);
	json_decref(doc);

	/* A nested term's name; link_entity absent matches either. */
	doc = base();
	json_object_del(doc, "attributes");
	add_row(doc, "attributes", "{'id': 'at3', 'link_id': 's1',"
	    " 'taxonomy_term': {'id': 't9', 'name': 'Clinics'}}");
	out = map(doc, &o);
	assert_string_equal(field(provider(out, "sal1"), "area"), "clinics");
	json_decref(out);
	json_decref(doc);

	/* An attribute of something else, and terms that only contain an
	 * area's name, do not count; the default does. */
	doc = base();
	set(doc, "attributes", 0, "link_entity", "'organization'");
	add_row(doc, "attributes", "{'id': 'at4', 'link_id': 's1', 'value': 'employment services'}");
	o.default_area = "integration";
	out = map(doc, &o);
	assert_string_equal(field(provider(out, "sal1"), "area"), "integration");
	json_decref(out);

	/* No area and no default: the provider is skipped, its organization
	 * still imported (region from its own location). */
	o.default_area = NULL;
	out = map(doc, &o);
	assert_int_equal(count(out, "providers"), 0);
	assert_skipped(out, "service_at_location", "sal1", "no korpu service area");
	assert_json(json_object_get(out, "organizations"), "[{'source_id': 'o1',"
	    " 'name': 'Yasamal Employment Centre', 'kind': 'agency', 'region': 'baku'}]");
	json_decref(out);
	json_decref(doc);
}

/* A provider's capacity is its area's when the options give one per area. */
static void
capacity_by_area(void **state UNUSED)
{
	static const int by_area[] = { 1, 1, 1, 1, 12 };
	struct hsds_options o = options();
	json_t *doc = base(), *out;

	o.area_capacity = by_area;
	out = map(doc, &o);		/* base's provider is in employment */
	assert_int_equal(json_integer_value(json_object_get(provider(out, "sal1"), "capacity")), 1);
	json_decref(out);
	json_object_del(doc, "attributes");
	o.default_area = "integration";
	out = map(doc, &o);
	assert_string_equal(field(provider(out, "sal1"), "area"), "integration");
	assert_int_equal(json_integer_value(json_object_get(provider(out, "sal1"), "capacity")), 12);
	json_decref(out);
	o.area_capacity = NULL;		/* without: the one capacity for all */
	out = map(doc, &o);
	assert_int_equal(json_integer_value(json_object_get(provider(out, "sal1"), "capacity")), 2);
	json_decref(out);
	json_decref(doc);
}

/* ---- region and address */

static void
region_rules(void **state UNUSED)
{
	struct hsds_options o = options();
	json_t *doc, *out;

	/* region beats state_province beats city. */
	doc = base();
	set(doc, "addresses", 0, "region", "' GANJA '");
	out = map(doc, &o);
	assert_string_equal(field(provider(out, "sal1"), "region"), "ganja");
	json_decref(out);
	set(doc, "addresses", 0, "region", "'Nowhere'");
	set(doc, "addresses", 0, "state_province", "'Sumqayit'");
	out = map(doc, &o);
	assert_string_equal(field(provider(out, "sal1"), "region"), "sumqayit");
	json_decref(out);

	/* None configured: the default, else skipped, and the organization
	 * with it. */
	set(doc, "addresses", 0, "state_province", "null");
	set(doc, "addresses", 0, "city", "'Shusha'");
	o.default_region = "ganja";
	out = map(doc, &o);
	assert_string_equal(field(provider(out, "sal1"), "region"), "ganja");
	assert_string_equal(field(json_array_get(json_object_get(out, "organizations"), 0),
	    "region"), "ganja");
	json_decref(out);
	o.default_region = NULL;
	out = map(doc, &o);
	assert_int_equal(count(out, "providers"), 0);
	assert_int_equal(count(out, "organizations"), 0);
	assert_skipped(out, "service_at_location", "sal1", "no korpu region");
	assert_skipped(out, "organizations", "o1", "no korpu region");
	json_decref(out);
	json_decref(doc);

	/* A physical address beats a postal one listed first. */
	doc = base();
	json_object_set_new(doc, "addresses", J("[{'id': 'a0', 'location_id': 'l1',"
	    " 'address_1': 'PO Box 7', 'city': 'Ganja', 'address_type': 'postal'},"
	    " {'id': 'a1', 'location_id': 'l1', 'address_1': '3 Nizami St',"
	    "  'address_2': ' 2nd floor ', 'city': 'Baku', 'address_type': 'Physical'},"
	    " {'id': 'a2', 'location_id': 'l1', 'address_1': ' ', 'address_2': 'Only line',"
	    "  'address_type': 'physical'}]"));
	out = map(doc, &o);
	assert_string_equal(field(provider(out, "sal1"), "address"), "3 Nizami St, 2nd floor, Baku");
	assert_string_equal(field(provider(out, "sal1"), "region"), "baku");
	json_decref(out);
	json_decref(doc);
}

static void
address_rules(void **state UNUSED)
{
	struct hsds_options o = options();
	char long_street[320];
	json_t *doc, *out;

	o.default_region = "ganja";
	/* No address (a virtual location): "" and the default region. */
	doc = base();
	json_object_del(doc, "addresses");
	out = map(doc, &o);
	assert_string_equal(field(provider(out, "sal1"), "address"), "");
	assert_string_equal(field(provider(out, "sal1"), "region"), "ganja");
	json_decref(out);
	json_decref(doc);

	/* Too long joined: that address row is skipped. 296 + ", Baku". */
	memset(long_street, 'x', 296);
	long_street[296] = '\0';
	doc = base();
	json_object_set_new(row(doc, "addresses", 0), "address_1", json_string(long_street));
	out = map(doc, &o);
	assert_skipped(out, "addresses", "a1", "longer than 300 bytes");
	assert_string_equal(field(provider(out, "sal1"), "address"), "");
	json_decref(out);
	/* 294 bytes fit. */
	long_street[288] = '\0';
	json_object_set_new(row(doc, "addresses", 0), "address_1", json_string(long_street));
	out = map(doc, &o);
	assert_int_equal(strlen(field(provider(out, "sal1"), "address")), 294);
	json_decref(out);
	json_decref(doc);

	/* Wrong types and controls, and addresses that belong nowhere. */
	doc = base();
	set(doc, "addresses", 0, "city", "5");
	add_row(doc, "addresses", "{'id': 'a2', 'location_id': 'l1', 'address_1': 'a\\u0007b'}");
	add_row(doc, "addresses", "{'id': 'a3', 'address_1': 'x'}");
	add_row(doc, "addresses", "{'id': 'a4', 'location_id': 'zz', 'address_1': 'x'}");
	out = map(doc, &o);
	assert_skipped(out, "addresses", "a1", "city is not a string");
	assert_skipped(out, "addresses", "a2", "address_1 contains control characters");
	assert_skipped(out, "addresses", "a3", "no location_id");
	assert_skipped(out, "addresses", "a4", "location zz not found");
	assert_string_equal(field(provider(out, "sal1"), "address"), "");
	json_decref(out);
	json_decref(doc);
}

/* ---- organizations */

static const char *
kind_of(const char *org_fields)
{
	static char kind[16];
	struct hsds_options o = options();
	char text[512];
	json_t *out;

	o.default_region = "baku";
	snprintf(text, sizeof text, "{'organizations': [{'id': 'o1', 'name': 'N'%s}]}", org_fields);
	out = map_text(text, &o);
	snprintf(kind, sizeof kind, "%s",
	    field(json_array_get(json_object_get(out, "organizations"), 0), "kind"));
	json_decref(out);
	return kind;
}

static void
organization_kind(void **state UNUSED)
{
	assert_string_equal(kind_of(""), "ngo");
	assert_string_equal(kind_of(", 'legal_status': 'Limited Company'"), "ngo");
	assert_string_equal(kind_of(", 'legal_status': 'Ministry of Labour'"), "government");
	assert_string_equal(kind_of(", 'legal_status': 'MUNICIPALITY'"), "government");
	assert_string_equal(kind_of(", 'legal_status': 'Local authority'"), "government");
	assert_string_equal(kind_of(", 'legal_status': 'Government agency'"), "agency");
	assert_string_equal(kind_of(", 'legal_status': 'Non-governmental organisation'"), "ngo");
	assert_string_equal(kind_of(", 'legal_status': 'Registered charity'"), "ngo");
	/* Whole words only: Congo is not an NGO, an agent not an agency. */
	assert_string_equal(kind_of(", 'legal_status': 'Congo Agents Ltd, governmentality'"), "ngo");
	assert_string_equal(kind_of(", 'tax_status': 'public body'"), "government");
	assert_string_equal(kind_of(", 'legal_status': 5, 'tax_status': 'agency'"), "agency");
	assert_string_equal(kind_of(", 'kind': 'Government', 'legal_status': 'charity'"),
	    "government");
	assert_string_equal(kind_of(", 'kind': 'club', 'legal_status': 'agency'"), "agency");
	/* Only the first 200 bytes are read. */
	assert_string_equal(kind_of(", 'legal_status': '"
	    "..................................................................................."
	    "..................................................................................."
	    "................................... agency'"), "ngo");
}

static void
organization_region_from_location(void **state UNUSED)
{
	struct hsds_options o = options();
	json_t *doc = base(), *out;

	/* Its provider skipped, o1 takes the region of its own location;
	 * o2 has neither and there is no default. */
	json_object_del(doc, "attributes");
	add_row(doc, "organizations", "{'id': 'o2', 'name': 'Other'}");
	out = map(doc, &o);
	assert_json(json_object_get(out, "organizations"), "[{'source_id': 'o1',"
	    " 'name': 'Yasamal Employment Centre', 'kind': 'agency', 'region': 'baku'}]");
	assert_skipped(out, "organizations", "o2", "no korpu region");
	json_decref(out);
	json_decref(doc);
}

/* ---- names and text */

static void
names(void **state UNUSED)
{
	struct hsds_options o = options();
	char name[HSDS_NAME_MAX + 2];
	json_t *doc, *out;

	o.default_region = "baku";
	doc = J("{'organizations': [{'id': 'o1', 'name': ' two\\nlines\\tand tab '},"
	    " {'id': 'o2', 'name': ''}, {'id': 'o3', 'name': '  \\t '}, {'id': 'o4'},"
	    " {'id': 'o5', 'name': 5}, {'id': 'o6', 'name': 'bell\\u0007'},"
	    " {'id': 'o7', 'name': 'csi\\u009b'}, {'id': 'o8', 'name': 'G\\u0259nc\\u0259 \\u20ac \\ud83d\\ude42'}]}");
	memset(name, 'n', sizeof name);
	name[HSDS_NAME_MAX + 1] = '\0';
	json_array_append_new(json_object_get(doc, "organizations"),
	    json_pack("{s:s, s:s}", "id", "o9", "name", name));
	name[HSDS_NAME_MAX] = '\0';
	json_array_append_new(json_object_get(doc, "organizations"),
	    json_pack("{s:s, s:s}", "id", "o10", "name", name));
	out = map(doc, &o);
	assert_int_equal(count(out, "organizations"), 3);
	assert_string_equal(field(json_array_get(json_object_get(out, "organizations"), 0), "name"),
	    "two lines and tab");
	assert_string_equal(field(json_array_get(json_object_get(out, "organizations"), 1), "name"),
	    "G\xc9\x99nc\xc9\x99 \xe2\x82\xac \xf0\x9f\x99\x82");
	assert_string_equal(field(json_array_get(json_object_get(out, "organizations"), 2), "name"),
	    name);
	assert_skipped(out, "organizations", "o2", "no name");
	assert_skipped(out, "organizations", "o3", "name is empty");
	assert_skipped(out, "organizations", "o4", "no name");
	assert_skipped(out, "organizations", "o5", "name is not a string");
	assert_skipped(out, "organizations", "o6", "name contains control characters");
	assert_skipped(out, "organizations", "o7", "name contains control characters");
	assert_skipped(out, "organizations", "o9", "name is longer than 200 bytes");
	json_decref(out);
	json_decref(doc);

	/* The provider's name: the location's only when it adds something
	 * and fits. */
	doc = base();
	set(doc, "locations", 0, "name", "'Job counselling'");
	out = map(doc, &o);
	assert_string_equal(field(provider(out, "sal1"), "name"), "Job counselling");
	json_decref(out);
	json_object_del(row(doc, "locations", 0), "name");
	out = map(doc, &o);
	assert_string_equal(field(provider(out, "sal1"), "name"), "Job counselling");
	json_decref(out);
	memset(name, 'l', 190);
	name[190] = '\0';
	json_object_set_new(row(doc, "locations", 0), "name", json_string(name));
	out = map(doc, &o);
	assert_string_equal(field(provider(out, "sal1"), "name"), "Job counselling");
	json_decref(out);
	/* A bad location name takes the location, and its provider, out. */
	set(doc, "locations", 0, "name", "['x']");
	out = map(doc, &o);
	assert_skipped(out, "locations", "l1", "name is not a string");
	assert_skipped(out, "service_at_location", "sal1", "location l1 was skipped");
	json_decref(out);
	json_decref(doc);
}

/* ---- ids and structure */

static void
ids(void **state UNUSED)
{
	struct hsds_options o = options();
	char long_id[HSDS_ID_MAX + 2];
	json_t *doc, *out;

	o.default_region = "baku";
	memset(long_id, 'i', sizeof long_id);
	long_id[HSDS_ID_MAX + 1] = '\0';
	doc = J("{'organizations': [{'name': 'no id'}, {'id': 7, 'name': 'number'},"
	    " {'id': '', 'name': 'empty'}, {'id': 'o1', 'name': 'first'},"
	    " {'id': 'o1', 'name': 'second'}, {'id': 'o\\u0001', 'name': 'control'}],"
	    " 'services': [{'id': 's1', 'organization_id': 5, 'name': 'S'}]}");
	json_array_append_new(json_object_get(doc, "organizations"),
	    json_pack("{s:s, s:s}", "id", long_id, "name", "long"));
	out = map(doc, &o);
	assert_json(json_object_get(out, "organizations"),
	    "[{'source_id': 'o1', 'name': 'first', 'kind': 'ngo', 'region': 'baku'}]");
	assert_skipped(out, "organizations", NULL, "organizations[0]: id missing");
	assert_skipped(out, "organizations", NULL, "organizations[1]: id is not a string");
	assert_skipped(out, "organizations", NULL, "organizations[2]: id missing");
	assert_skipped(out, "organizations", "o1", "organizations[4]: duplicate id");
	assert_skipped(out, "organizations", NULL, "organizations[5]: id contains control");
	assert_skipped(out, "organizations", NULL, "organizations[6]: id is longer than 128");
	assert_skipped(out, "services", "s1", "organization_id is not a string");
	json_decref(out);
	json_decref(doc);

	/* A nested record repeated with other content is a duplicate: the
	 * first is used. */
	doc = J(base_nested);
	json_object_set_new(json_object_get(json_array_get(json_object_get(json_array_get(
	    json_object_get(doc, "services"), 0), "service_at_locations"), 0), "location"),
	    "name", json_string("Renamed"));
	out = map(doc, &o);
	assert_skipped(out, "locations", "l1", "duplicate id");
	assert_string_equal(field(provider(out, "sal1"), "name"), "Job counselling (Yasamal office)");
	json_decref(out);
	json_decref(doc);

	/* The same record nested under two services: the first has it. */
	out = map_text("{'id': 'o1', 'name': 'O', 'services': ["
	    " {'id': 's1', 'name': 'S1', 'schedules': [{'id': 'hx', 'byday': 'MO',"
	    "   'opens_at': '09:00', 'closes_at': '10:00'}]},"
	    " {'id': 's2', 'name': 'S2', 'schedules': [{'id': 'hx', 'byday': 'MO',"
	    "   'opens_at': '09:00', 'closes_at': '10:00'}]}]}", &o);
	assert_skipped(out, "schedules", "hx", "organization.services[1].schedules[0]: the same"
	    " record under another parent");
	json_decref(out);
}

static void
wrong_types_anywhere(void **state UNUSED)
{
	struct hsds_options o = options();
	json_t *out;

	o.default_region = "baku";
	o.default_area = "housing";
	out = map_text("{'organizations': [{'id': 'o1', 'name': 'O', 'services': 5,"
	    "   'locations': [3, null, {'id': 'l1', 'addresses': {'id': 'x'}}]}],"
	    " 'services': 'many', 'locations': null, 'schedules': {},"
	    " 'service_at_locations': [[], {'id': 'sal1', 'service_id': 's9', 'location': 'l1'},"
	    "   {'id': 'sal2', 'location_id': 'l1'}, {'id': 'sal3', 'service': {'id': 's2',"
	    "   'name': 'S2', 'organization_id': 'o1', 'status': 7}, 'location_id': 'l1'},"
	    "   {'id': 'sal4', 'service': {'id': 's3', 'name': 'S3', 'organization_id': 'o1',"
	    "   'status': 'Defunct'}, 'location_id': 'l1'}, {'id': 'sal5', 'service': {'id': 's4',"
	    "   'name': 'S4', 'organization_id': 'o1', 'status': 'temporarily closed'},"
	    "   'location_id': 'l404'}, {'id': 'sal6', 'service': {'id': 's5', 'name': 'S5',"
	    "   'organization_id': 'o404'}, 'location_id': 'l1'}, {'id': 'sal7', 'service':"
	    "   {'id': 's6', 'name': 'S6', 'organization_id': 'o1', 'status': 'temporarily closed'},"
	    "   'location_id': 'l1'}], 'services.csv': [{'id': 's7', 'name': 'S7'},"
	    " {'id': 's8', 'name': 'S8', 'organization_id': 'o2'}],"
	    " 'organizations.csv': [{'id': 'o2', 'name': ' '}]}", &o);
	assert_skipped(out, "services", NULL, "organizations[0].services: not an array");
	assert_skipped(out, "locations", NULL, "organizations[0].locations[0]: not an object");
	assert_skipped(out, "locations", NULL, "organizations[0].locations[1]: not an object");
	assert_skipped(out, "addresses", NULL, "organizations[0].locations[2].addresses: not an array");
	assert_skipped(out, "services", NULL, "services: not an array");
	assert_skipped(out, "schedules", NULL, "schedules: not an array");
	assert_skipped(out, "service_at_location", NULL, "service_at_locations[0]: not an object");
	assert_skipped(out, "locations", NULL, "service_at_locations[1].location: not an object");
	assert_skipped(out, "service_at_location", "sal1", "service s9 not found");
	assert_skipped(out, "service_at_location", "sal2", "no service_id");
	assert_skipped(out, "services", "s2", "status is not a string");
	assert_skipped(out, "service_at_location", "sal3", "service s2 was skipped");
	assert_skipped(out, "services", "s3", "status is Defunct");
	assert_skipped(out, "service_at_location", "sal5", "location l404 not found");
	assert_skipped(out, "services", "s5", "organization o404 not found");
	assert_skipped(out, "services", "s7", "no organization_id");
	assert_skipped(out, "services", "s8", "organization o2 was skipped");
	/* "temporarily closed" is imported. */
	assert_int_equal(count(out, "providers"), 1);
	assert_string_equal(field(provider(out, "sal7"), "name"), "S6");
	json_decref(out);
}

static void
nesting_depth_is_bounded(void **state UNUSED)
{
	struct hsds_options o = options();
	/* organization > service > organization > ... */
	char text[4096] = "", tail[1024] = "";
	json_t *out;
	int i;

	o.default_region = "baku";
	for (i = 0; i < 6; i++) {
		char part[128];

		snprintf(part, sizeof part, "{'id': 'o%d', 'name': 'O', 'services': [{'id': 's%d',"
		    " 'name': 'S', 'organization': ", i, i);
		strcat(text, part);
		strcat(tail, "}]}");
	}
	strcat(text, "{'id': 'deep', 'name': 'D'}");
	strcat(text, tail);
	out = map_text(text, &o);
	/* 6 organizations and 6 services are 12 levels: o0..o3 and s0..s3
	 * are within HSDS_DEPTH_MAX (8), the rest is cut off. */
	assert_int_equal(count(out, "organizations"), 4);
	assert_skipped(out, "organizations", NULL, "nested more than 8 deep");
	json_decref(out);
}

/* ---- languages */

static void
languages(void **state UNUSED)
{
	struct hsds_options o = options();
	json_t *doc, *out, *want;
	size_t i;

	doc = base();
	json_object_set_new(doc, "languages", J("[{'id': 'g1', 'service_id': 's1', 'code': 'en-GB'},"
	    " {'id': 'g2', 'location_id': 'l1', 'code': ' URD '},"
	    " {'id': 'g3', 'service_id': 's1', 'location_id': 'l1', 'code': 'en_US'},"
	    " {'id': 'g4', 'service_id': 's1', 'code': 'english'},"
	    " {'id': 'g5', 'service_id': 's1', 'code': 5},"
	    " {'id': 'g6', 'service_id': 's1', 'name': 'Azerbaijani'},"
	    " {'id': 'g7', 'service_id': 's1', 'code': 'e1'},"
	    " {'id': 'g8', 'phone_id': 'p1', 'code': 'not a code'},"
	    " {'id': 'g9', 'service_id': 'zz', 'code': 'fa'},"
	    " {'id': 'g10', 'service_id': 's1', 'code': 'ar'}]"));
	out = map(doc, &o);
	assert_json(json_object_get(provider(out, "sal1"), "languages"), "['en', 'ar', 'urd']");
	assert_skipped(out, "languages", "g4", "code 'english' is not an ISO 639");
	assert_skipped(out, "languages", "g5", "code is not a string");
	assert_skipped(out, "languages", "g6", "no code");
	assert_skipped(out, "languages", "g7", "code 'e1'");
	assert_skipped(out, "languages", "g9", "service zz not found");
	/* g8 is a phone's: not reported. */
	assert_int_equal(count(out, "skipped"), 5);
	json_decref(out);

	/* At most 16: the rest dropped, with a warning. */
	json_object_set_new(doc, "languages", json_array());
	want = json_array();
	for (i = 0; i < 20; i++) {
		char id[8], code[4] = { (char)('a' + i), 'x', '\0' };

		snprintf(id, sizeof id, "g%zu", i);
		json_array_append_new(json_object_get(doc, "languages"),
		    json_pack("{s:s, s:s, s:s}", "id", id, "service_id", "s1", "code", code));
		if (i < 16)
			json_array_append_new(want, json_string(code));
	}
	out = map(doc, &o);
	assert_true(json_equal(json_object_get(provider(out, "sal1"), "languages"), want));
	assert_listed(out, "warnings", "service_at_location", "sal1", "more than 16 languages");
	json_decref(out);
	json_decref(want);
	json_decref(doc);
}

/* ---- schedules */

/* Maps the base dataset with its schedules replaced by one made of
 * fields (for sal1); returns the output. */
static json_t *
with_schedule(const char *fields, const struct hsds_options *o)
{
	char text[1024];
	json_t *doc = base(), *out;

	snprintf(text, sizeof text, "[{'id': 'h1', 'service_at_location_id': 'sal1'%s%s}]",
	    *fields ? ", " : "", fields);
	json_object_set_new(doc, "schedules", J(text));
	out = map(doc, o);
	json_decref(doc);
	return out;
}

/* The one schedule in fields must give the rule want. */
static void
rule_is(const char *fields, const char *want)
{
	struct hsds_options o = options();
	json_t *out = with_schedule(fields, &o);
	char expected[256];

	snprintf(expected, sizeof expected, "[%s]", want);
	if (count(out, "skipped") != 0)
		fail_msg("%s: skipped: %s", fields, dump(json_object_get(out, "skipped")));
	assert_json(json_object_get(provider(out, "sal1"), "hours"), expected);
	json_decref(out);
}

/* The one schedule in fields must be skipped for needle, and the
 * provider imported without hours (with a warning). */
static void
rule_skipped(const char *fields, const char *needle, const char *today)
{
	struct hsds_options o = options();
	json_t *out;

	o.today = today;
	out = with_schedule(fields, &o);
	assert_skipped(out, "schedules", "h1", needle);
	assert_json(json_object_get(provider(out, "sal1"), "hours"), "[]");
	assert_listed(out, "warnings", "service_at_location", "sal1", "no usable opening hours");
	json_decref(out);
}

static void
schedule_times_and_days(void **state UNUSED)
{
	rule_is("'byday': 'mo, Tu', 'opens_at': '9:00', 'closes_at': '10:30:59'",
	    "{'days': ['mo', 'tu'], 'open': '09:00', 'close': '10:30'}");
	rule_is("'freq': 'weekly', 'byday': 'SU,MO,', 'opens_at': '08:00:00Z',"
	    " 'closes_at': '12:00:00.000+0400'",
	    "{'days': ['mo', 'su'], 'open': '08:00', 'close': '12:00'}");
	rule_is("'byday': 'FR', 'opens_at': ' 08:15 -05 ', 'closes_at': '09:45 +04:30'",
	    "{'days': ['fr'], 'open': '08:15', 'close': '09:45'}");
	rule_is("'byday': 'SA', 'opens_at': '18:00', 'closes_at': '24:00'",
	    "{'days': ['sa'], 'open': '18:00', 'close': '24:00'}");
	rule_is("'byday': 'SA', 'opens_at': '18:00', 'closes_at': '00:00:00'",
	    "{'days': ['sa'], 'open': '18:00', 'close': '24:00'}");
	rule_is("'freq': 'DAILY', 'opens_at': '10:00', 'closes_at': '11:00'",
	    "{'days': ['mo', 'tu', 'we', 'th', 'fr', 'sa', 'su'], 'open': '10:00', 'close': '11:00'}");
	rule_is("'freq': 'DAILY', 'byday': 'TH', 'opens_at': '10:00', 'closes_at': '11:00'",
	    "{'days': ['th'], 'open': '10:00', 'close': '11:00'}");
	/* WEEKLY without byday repeats dtstart's weekday (a Monday, a Thursday). */
	rule_is("'freq': 'WEEKLY', 'dtstart': '2026-11-30', 'opens_at': '10:00', 'closes_at': '11:00'",
	    "{'days': ['mo'], 'open': '10:00', 'close': '11:00'}");
	rule_is("'dtstart': '20240229T090000', 'opens_at': '10:00', 'closes_at': '11:00'",
	    "{'days': ['th'], 'open': '10:00', 'close': '11:00'}");
	/* Empty and null RRULE parts are absent; interval 1 in any form. */
	rule_is("'byday': 'MO', 'opens_at': '10:00', 'closes_at': '11:00', 'interval': '1',"
	    " 'count': null, 'bymonthday': '', 'byweekno': null, 'until': null",
	    "{'days': ['mo'], 'open': '10:00', 'close': '11:00'}");
	rule_is("'byday': 'MO', 'opens_at': '10:00', 'closes_at': '11:00', 'interval': 1.0",
	    "{'days': ['mo'], 'open': '10:00', 'close': '11:00'}");
	/* Without opt->today, dates are not looked at. */
	rule_is("'byday': 'MO', 'opens_at': '10:00', 'closes_at': '11:00', 'valid_to': '2005-01-01'",
	    "{'days': ['mo'], 'open': '10:00', 'close': '11:00'}");
}

static void
schedule_skip_reasons(void **state UNUSED)
{
	const char *t = "'opens_at': '10:00', 'closes_at': '11:00'";
	char f[256];

#define WITH(extra) (snprintf(f, sizeof f, "%s, %s", t, extra), f)
	rule_skipped(WITH("'freq': 'MONTHLY', 'byday': '1SA'"), "freq MONTHLY cannot", NULL);
	rule_skipped(WITH("'freq': 'YEARLY'"), "freq YEARLY", NULL);
	rule_skipped(WITH("'freq': 7, 'byday': 'MO'"), "freq is not a string", NULL);
	rule_skipped(WITH("'byday': 'MO', 'interval': 2"), "interval 2", NULL);
	rule_skipped(WITH("'byday': 'MO', 'interval': 'x'"), "interval is not a number", NULL);
	rule_skipped(WITH("'byday': 'MO', 'interval': 1.5"), "interval is not a number", NULL);
	rule_skipped(WITH("'byday': 'MO', 'interval': 1e20"), "interval is not a number", NULL);
	rule_skipped(WITH("'byday': 'MO', 'interval': '0000000000000001'"), "interval is not a number",
	    NULL);
	rule_skipped(WITH("'byday': 'MO', 'interval': ' 2 '"), "interval 2", NULL);
	rule_skipped(WITH("'byday': 'MO', 'count': 3"), "count cannot", NULL);
	rule_skipped(WITH("'byday': 'MO', 'bymonthday': '2,3'"), "bymonthday cannot", NULL);
	rule_skipped(WITH("'byday': 'MO', 'byyearday': 4"), "byyearday cannot", NULL);
	rule_skipped(WITH("'byday': 'MO', 'byweekno': '41'"), "byweekno cannot", NULL);
	rule_skipped(WITH("'byday': '1SA'"), "byday 1SA names a day's position", NULL);
	rule_skipped(WITH("'byday': 'MO,-1FR'"), "byday -1FR", NULL);
	rule_skipped(WITH("'byday': 'MO,XX'"), "unknown day 'XX'", NULL);
	rule_skipped(WITH("'byday': ' , '"), "byday names no day", NULL);
	rule_skipped(WITH("'byday': ['MO']"), "byday is not a string", NULL);
	rule_skipped(t, "no byday, and no dtstart", NULL);
	rule_skipped("'byday': 'MO', 'closes_at': '11:00'", "no opens_at", NULL);
	rule_skipped("'byday': 'MO', 'opens_at': '10:00', 'closes_at': 11", "closes_at is not a string",
	    NULL);
	rule_skipped("'byday': 'MO', 'opens_at': '10am', 'closes_at': '11:00'",
	    "opens_at '10am' is not a time", NULL);
	rule_skipped("'byday': 'MO', 'opens_at': '25:00', 'closes_at': '26:00'", "not a time", NULL);
	rule_skipped("'byday': 'MO', 'opens_at': '09:00', 'closes_at': '5pm'",
	    "closes_at '5pm' is not a time", NULL);
	/* Quoted values are cut at 40 bytes. */
	rule_skipped("'byday': 'MO', 'opens_at': '0123456789012345678901234567890123456789TAIL',"
	    " 'closes_at': '10:00'", "opens_at '0123456789012345678901234567890123456789'"
	    " is not a time", NULL);
	rule_skipped("'byday': 'MO', 'opens_at': '09:60', 'closes_at': '11:00'", "not a time", NULL);
	rule_skipped("'byday': 'MO', 'opens_at': '09:00+', 'closes_at': '11:00'", "not a time", NULL);
	rule_skipped("'byday': 'MO', 'opens_at': '09:00+04:', 'closes_at': '11:00'", "not a time",
	    NULL);
	rule_skipped("'byday': 'MO', 'opens_at': '24:00', 'closes_at': '24:00'", "end of the day",
	    NULL);
	rule_skipped("'byday': 'MO', 'opens_at': '13:00', 'closes_at': '09:00'",
	    "closes_at 09:00 is not after opens_at 13:00", NULL);
	rule_skipped("'byday': 'MO', 'opens_at': '22:00', 'closes_at': '02:00'", "across midnight",
	    NULL);
	rule_skipped("'byday': 'MO', 'opens_at': '09:00', 'closes_at': '09:20'",
	    "open 20 minutes, less than one slot (30 minutes)", NULL);

	/* Dates, against opt->today. */
	rule_skipped(WITH("'byday': 'MO', 'valid_to': '2026-06-14'"), "expired: valid_to is 2026-06-14",
	    "2026-06-15");
	rule_skipped(WITH("'byday': 'MO', 'until': '20260101T000000Z'"), "expired: until",
	    "2026-06-15");
	rule_skipped(WITH("'byday': 'MO', 'valid_from': '2026-07-01'"), "not valid yet", "2026-06-15");
	rule_skipped(WITH("'byday': 'MO', 'dtstart': '2026-06-16T09:00:00'"), "not valid yet: dtstart",
	    "2026-06-15");
	rule_skipped(WITH("'byday': 'MO', 'valid_to': 'soon'"), "valid_to soon is not a date",
	    "2026-06-15");
	rule_skipped(WITH("'byday': 'MO', 'valid_to': '2026-02-30'"), "is not a date", "2026-06-15");
	rule_skipped(WITH("'byday': 'MO', 'valid_from': 20260101"), "valid_from (not a string)",
	    "2026-06-15");
#undef WITH
	{
		struct hsds_options o = options();
		json_t *out;

		o.today = "2026-06-15";
		out = with_schedule("'byday': 'MO', 'opens_at': '10:00', 'closes_at': '11:00',"
		    " 'valid_from': '2026-06-15', 'valid_to': '2026-06-15', 'dtstart': '20260615'", &o);
		assert_int_equal(json_array_size(json_object_get(provider(out, "sal1"), "hours")), 1);
		json_decref(out);
	}
}

static void
schedule_links(void **state UNUSED)
{
	struct hsds_options o = options();
	json_t *doc, *out;

	doc = base();
	add_row(doc, "schedules", "{'id': 'h3', 'service_at_location_id': 'sal404', 'byday': 'SA',"
	    " 'opens_at': '10:00', 'closes_at': '11:00'}");
	add_row(doc, "schedules", "{'id': 'h4', 'byday': 'SA', 'opens_at': '10:00',"
	    " 'closes_at': '11:00'}");
	add_row(doc, "schedules", "{'id': 'h5', 'location_id': 'l404', 'service_id': 's1',"
	    " 'byday': 'SA', 'opens_at': '10:00', 'closes_at': '11:00'}");
	out = map(doc, &o);
	assert_skipped(out, "schedules", "h3", "service_at_location sal404 not found");
	assert_skipped(out, "schedules", "h4", "not linked to a service, location or");
	assert_skipped(out, "schedules", "h5", "locations l404 not found");
	assert_int_equal(json_array_size(json_object_get(provider(out, "sal1"), "hours")), 2);
	json_decref(out);
	json_decref(doc);
}

/* Hours come from the service_at_location, else the location, else the
 * service: the first that has any schedule row. */
static void
schedule_tiers(void **state UNUSED)
{
	struct hsds_options o = options();
	json_t *doc, *out;

	doc = base();
	json_object_set_new(doc, "schedules", J("["
	    "{'id': 'loc-any', 'location_id': 'l1', 'byday': 'TU', 'opens_at': '10:00',"
	    " 'closes_at': '12:00'},"
	    "{'id': 'loc-other', 'location_id': 'l1', 'service_id': 's9', 'byday': 'WE',"
	    " 'opens_at': '10:00', 'closes_at': '12:00'},"
	    "{'id': 'loc-mine', 'location_id': 'l1', 'service_id': 's1', 'byday': 'TH',"
	    " 'opens_at': '10:00', 'closes_at': '12:00'},"
	    "{'id': 'svc', 'service_id': 's1', 'byday': 'FR', 'opens_at': '10:00',"
	    " 'closes_at': '12:00'}]"));
	out = map(doc, &o);
	assert_json(json_object_get(provider(out, "sal1"), "hours"),
	    "[{'days': ['tu'], 'open': '10:00', 'close': '12:00'},"
	    " {'days': ['th'], 'open': '10:00', 'close': '12:00'}]");
	json_decref(out);

	/* Without location schedules for it: the service's. */
	json_array_remove(json_object_get(doc, "schedules"), 2);
	json_array_remove(json_object_get(doc, "schedules"), 0);
	out = map(doc, &o);
	assert_json(json_object_get(provider(out, "sal1"), "hours"),
	    "[{'days': ['fr'], 'open': '10:00', 'close': '12:00'}]");
	json_decref(out);

	/* A service_at_location's own unusable schedule wins all the same. */
	add_row(doc, "schedules", "{'id': 'mine', 'service_at_location_id': 'sal1',"
	    " 'freq': 'MONTHLY', 'byday': '1MO', 'opens_at': '10:00', 'closes_at': '12:00'}");
	out = map(doc, &o);
	assert_json(json_object_get(provider(out, "sal1"), "hours"), "[]");
	assert_skipped(out, "schedules", "mine", "MONTHLY");
	assert_listed(out, "warnings", "service_at_location", "sal1", "no usable opening hours");
	json_decref(out);
	json_decref(doc);
}

static void
schedule_overlaps(void **state UNUSED)
{
	struct hsds_options o = options();
	json_t *doc, *out;
	char text[256];
	int i;

	doc = base();
	/* h1 is MO-FR 09:00-13:00. An exact repeat is dropped silently; an
	 * overlap on some days loses those days, reported. */
	add_row(doc, "schedules", "{'id': 'h3', 'service_at_location_id': 'sal1', 'byday': 'TU,WE',"
	    " 'opens_at': '09:00', 'closes_at': '13:00'}");
	add_row(doc, "schedules", "{'id': 'h4', 'service_at_location_id': 'sal1', 'byday': 'TU,SA',"
	    " 'opens_at': '12:00', 'closes_at': '14:00'}");
	add_row(doc, "schedules", "{'id': 'h5', 'service_at_location_id': 'sal1', 'byday': 'TU,TH',"
	    " 'opens_at': '12:30', 'closes_at': '13:30'}");
	add_row(doc, "schedules", "{'id': 'h6', 'service_at_location_id': 'sal1', 'byday': 'TH',"
	    " 'opens_at': '13:00', 'closes_at': '14:00'}");
	out = map(doc, &o);
	assert_json(json_object_get(provider(out, "sal1"), "hours"),
	    "[{'days': ['mo', 'tu', 'we', 'th', 'fr'], 'open': '09:00', 'close': '13:00'},"
	    " {'days': ['mo', 'we'], 'open': '14:00', 'close': '17:30'},"
	    " {'days': ['sa'], 'open': '12:00', 'close': '14:00'},"
	    " {'days': ['th'], 'open': '13:00', 'close': '14:00'}]");
	assert_skipped(out, "schedules", "h4", "overlaps an earlier schedule of provider sal1 on tu");
	assert_skipped(out, "schedules", "h5", "on tu,th; dropped there");
	assert_int_equal(count(out, "skipped"), 2);
	json_decref(out);
	json_decref(doc);

	/* At most 8 rules a day. */
	doc = base();
	json_object_set_new(doc, "schedules", json_array());
	for (i = 0; i < 9; i++) {
		snprintf(text, sizeof text, "{'id': 'r%d', 'service_at_location_id': 'sal1',"
		    " 'byday': 'MO,TU', 'opens_at': '%02d:00', 'closes_at': '%02d:30'}", i, 8 + i, 8 + i);
		add_row(doc, "schedules", text);
	}
	add_row(doc, "schedules", "{'id': 'r9', 'service_at_location_id': 'sal1', 'byday': 'MO',"
	    " 'opens_at': '20:00', 'closes_at': '21:00'}");
	out = map(doc, &o);
	assert_int_equal(json_array_size(json_object_get(provider(out, "sal1"), "hours")), 8);
	assert_skipped(out, "schedules", "r8", "8 opening rules on mo");
	assert_skipped(out, "schedules", "r8", "8 opening rules on tu");
	assert_skipped(out, "schedules", "r9", "8 opening rules on mo");
	json_decref(out);
	json_decref(doc);
}

/* ---- services without a service_at_location */

static void
service_without_service_at_location(void **state UNUSED)
{
	struct hsds_options o = options();
	json_t *doc, *out, *p;

	o.default_area = "integration";
	doc = base();
	add_row(doc, "services", "{'id': 's2', 'organization_id': 'o1', 'name': 'Language course'}");
	add_row(doc, "schedules", "{'id': 'h9', 'service_id': 's2', 'byday': 'SA',"
	    " 'opens_at': '10:00', 'closes_at': '12:00'}");
	out = map(doc, &o);
	p = provider(out, "s2@l1");
	assert_string_equal(field(p, "name"), "Language course (Yasamal office)");
	assert_string_equal(field(p, "area"), "integration");
	assert_json(json_object_get(p, "hours"), "[{'days': ['sa'], 'open': '10:00', 'close': '12:00'}]");
	/* After the service_at_location ones. */
	assert_string_equal(field(json_array_get(json_object_get(out, "providers"), 0), "source_id"),
	    "sal1");
	json_decref(out);

	/* Its one location unusable; its made-up source_id taken. */
	set(doc, "locations", 0, "name", "7");
	out = map(doc, &o);
	assert_skipped(out, "services", "s2", "location l1 was skipped");
	json_decref(out);
	set(doc, "locations", 0, "name", "'Yasamal office'");
	add_row(doc, "service_at_locations", "{'id': 's2@l1', 'service_id': 's404',"
	    " 'location_id': 'l1'}");
	out = map(doc, &o);
	assert_skipped(out, "services", "s2", "its source_id s2@l1 is a service_at_location's");
	json_decref(out);
	json_array_remove(json_object_get(doc, "service_at_locations"), 1);

	add_row(doc, "locations", "{'id': 'l2', 'organization_id': 'o1'}");
	out = map(doc, &o);
	assert_int_equal(count(out, "providers"), 1);
	assert_skipped(out, "services", "s2", "its organization has 2 locations, not one");
	json_decref(out);
	json_decref(doc);

	/* A service without a name is reported once, and makes no provider. */
	doc = base();
	json_object_del(row(doc, "services", 0), "name");
	out = map(doc, &o);
	assert_skipped(out, "services", "s1", "no name");
	assert_skipped(out, "service_at_location", "sal1", "service s1 was skipped");
	assert_int_equal(count(out, "skipped"), 2);
	json_decref(out);
	json_decref(doc);
}

/* ---- not HSDS, options */

static void
not_hsds(void **state UNUSED)
{
	static const char *const bad[] = { "null", "5", "'text'", "[]", "[1, 'x', null]", "{}",
	    "{'foo': 1}", "{'contents': []}", "{'contents': 5, 'total': 0}",
	    "{'schedules': [], 'languages': []}", "{'id': 'x', 'code': 'EMP', 'name': 'term'}" };
	struct hsds_options o = options();
	char err[128];
	json_t *out, *doc;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		doc = J(bad[i]);
		out = (json_t *)1;
		strcpy(err, "");
		if (hsds_map(doc, &o, &out, err, sizeof err) != -1 || out != NULL)
			fail_msg("%s taken for a dataset", bad[i]);
		if (strstr(err, "not an HSDS dataset") == NULL)
			fail_msg("%s: %s", bad[i], err);
		json_decref(doc);
	}
	assert_int_equal(hsds_map(NULL, &o, &out, err, sizeof err), -1);
	/* err may be NULL; a short err is cut. */
	doc = J("5");
	assert_int_equal(hsds_map(doc, &o, &out, NULL, 0), -1);
	assert_int_equal(hsds_map(doc, &o, &out, err, 4), -1);
	assert_string_equal(err, "not");
	json_decref(doc);

	/* Things in a list that are not records are reported. */
	o.default_region = "baku";
	out = map_text("[1, {'id': 'o1', 'name': 'O'}]", &o);
	assert_int_equal(count(out, "organizations"), 1);
	assert_skipped(out, "records", NULL, "[0]: not an object");
	json_decref(out);
	o.default_region = NULL;

	/* Empty tables, or tables of nothing usable, are a dataset. */
	out = map_text("{'organizations': []}", &o);
	assert_json(out, "{'organizations': [], 'providers': [], 'skipped': [], 'warnings': []}");
	json_decref(out);
	out = map_text("{'services': null}", &o);
	assert_int_equal(count(out, "skipped"), 0);
	json_decref(out);
}

static void
bad_options(void **state UNUSED)
{
	static const char *const none[] = { NULL };
	static const int zero_for_schools[] = { 1, 0, 1, 1, 12 };
	struct hsds_options o;
	char err[128];
	json_t *doc = J("{'organizations': []}"), *out;

#define REFUSED(change, needle) do {						\
		o = options();							\
		change;								\
		out = (json_t *)1;						\
		assert_int_equal(hsds_map(doc, &o, &out, err, sizeof err), -1);	\
		assert_null(out);						\
		if (strstr(err, needle) == NULL)				\
			fail_msg("%s: %s", #change, err);			\
	} while (0)
	out = (json_t *)1;
	assert_int_equal(hsds_map(doc, NULL, &out, err, sizeof err), -1);
	assert_null(out);
	assert_string_equal(err, "no options");
	REFUSED(o.timezone = NULL, "no timezone");
	REFUSED(o.timezone = "", "no timezone");
	REFUSED(o.slot_minutes = 0, "slot_minutes");
	REFUSED(o.slot_minutes = 481, "slot_minutes");
	REFUSED(o.capacity = 0, "capacity");
	REFUSED(o.capacity = 1001, "capacity");
	REFUSED(o.area_capacity = zero_for_schools, "capacity of area schools");
	REFUSED(o.default_area = "cooking", "default_area");
	REFUSED(o.default_region = "paris", "default_region");
	REFUSED((o.regions = none, o.n_regions = 1), "region 0 is NULL");
	REFUSED((o.areas = none, o.n_areas = 1), "area 0 is NULL");
	REFUSED(o.areas = NULL, "areas or regions missing");
	REFUSED(o.today = "2026-13-01", "today");
	REFUSED(o.today = "2026-1-1", "today");
	REFUSED(o.today = "2026-01-01T00:00", "today");
#undef REFUSED
	assert_int_equal(hsds_map(doc, &o, NULL, err, sizeof err), -1);
	json_decref(doc);

	/* No areas or regions at all is allowed: everything is skipped. */
	o = options();
	o.n_areas = 0;
	o.areas = NULL;
	out = map_text(base_text, &o);
	assert_skipped(out, "service_at_location", "sal1", "no korpu service area");
	json_decref(out);
}

/* ---- determinism */

static void
deterministic_and_read_only(void **state UNUSED)
{
	static const char *const files[] = { "organization_full.json", "tabular.json",
	    "service_at_location_full.json" };
	struct hsds_options o = options();
	json_t *doc, *copy, *a, *b;
	size_t i;

	o.default_area = "clinics";
	o.default_region = "baku";
	for (i = 0; i < 4; i++) {
		doc = i < 3 ? example(files[i]) : J(base_nested);
		copy = json_deep_copy(doc);
		a = map(doc, &o);
		b = map(doc, &o);
		if (!json_equal(a, b))
			fail_msg("%s maps two ways", i < 3 ? files[i] : "base_nested");
		/* The dataset is only read. */
		assert_true(json_equal(doc, copy));
		json_decref(a);
		json_decref(b);
		json_decref(copy);
		json_decref(doc);
	}
	/* Output order is input order. */
	doc = base();
	add_row(doc, "organizations", "{'id': 'o0', 'name': 'Zeta'}");
	add_row(doc, "organizations", "{'id': 'o9', 'name': 'Alpha'}");
	add_row(doc, "services", "{'id': 's0', 'organization_id': 'o1', 'name': 'Z'}");
	add_row(doc, "service_at_locations", "{'id': 'a0', 'service_id': 's0', 'location_id': 'l1'}");
	o.default_area = "housing";
	a = map(doc, &o);
	assert_string_equal(field(json_array_get(json_object_get(a, "organizations"), 1), "source_id"),
	    "o0");
	assert_string_equal(field(json_array_get(json_object_get(a, "organizations"), 2), "source_id"),
	    "o9");
	assert_string_equal(field(json_array_get(json_object_get(a, "providers"), 1), "source_id"),
	    "a0");
	json_decref(a);
	json_decref(doc);
}

/* ---- out of memory */

static long fail_at;	/* the allocation to fail, counting down; < 0: none */
static long allocations;

static void *
failing_malloc(size_t n)
{
	allocations++;
	if (fail_at >= 0 && fail_at-- == 0)
		return NULL;
	return malloc(n);
}

/* Each allocation jansson makes for hsds_map failing in turn: it returns
 * -1 "out of memory", or 0 with the whole answer; never a part of it. */
static void
out_of_memory(void **state UNUSED)
{
	struct hsds_options o = options();
	json_t *docs[2], *want, *out;
	char err[128];
	size_t d;
	long i, total;
	int rc;

	docs[0] = J(base_nested);
	docs[1] = example("organization_full.json");
	o.default_region = "baku";
	o.default_area = "housing";
	for (d = 0; d < 2; d++) {
		want = map(docs[d], &o);
		fail_at = -1;
		allocations = 0;
		json_set_alloc_funcs(failing_malloc, free);
		rc = hsds_map(docs[d], &o, &out, err, sizeof err);
		json_set_alloc_funcs(malloc, free);
		assert_int_equal(rc, 0);
		json_decref(out);
		total = allocations;
		assert_true(total > 50);
		for (i = 0; i < total; i++) {
			fail_at = i;
			json_set_alloc_funcs(failing_malloc, free);
			rc = hsds_map(docs[d], &o, &out, err, sizeof err);
			json_set_alloc_funcs(malloc, free);
			if (rc == 0 && !json_equal(out, want))
				fail_msg("allocation %ld failing gave a partial answer", i);
			if (rc != 0 && (out != NULL || strcmp(err, "out of memory") != 0))
				fail_msg("allocation %ld failing: %d %s", i, rc, err);
			json_decref(out);
		}
		json_decref(want);
		json_decref(docs[d]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(base_maps_exactly),
		cmocka_unit_test(nested_maps_like_tabular),
		cmocka_unit_test(tabular_names_with_csv_and_singular),
		cmocka_unit_test(examples_agree_in_every_shape),
		cmocka_unit_test(examples_lists_and_other_records),
		cmocka_unit_test(area_rules),
		cmocka_unit_test(capacity_by_area),
		cmocka_unit_test(region_rules),
		cmocka_unit_test(address_rules),
		cmocka_unit_test(organization_kind),
		cmocka_unit_test(organization_region_from_location),
		cmocka_unit_test(names),
		cmocka_unit_test(ids),
		cmocka_unit_test(wrong_types_anywhere),
		cmocka_unit_test(nesting_depth_is_bounded),
		cmocka_unit_test(languages),
		cmocka_unit_test(schedule_times_and_days),
		cmocka_unit_test(schedule_skip_reasons),
		cmocka_unit_test(schedule_links),
		cmocka_unit_test(schedule_tiers),
		cmocka_unit_test(schedule_overlaps),
		cmocka_unit_test(service_without_service_at_location),
		cmocka_unit_test(not_hsds),
		cmocka_unit_test(bad_options),
		cmocka_unit_test(deterministic_and_read_only),
		cmocka_unit_test(out_of_memory),
	};

	return cmocka_run_group_tests_name("hsds", tests, NULL, NULL);
}
