/*
 * hsds-map.h - the pure part of POST /api/v1/directory/import: an Open
 * Referral HSDS 3.0 dataset (parsed JSON) in, korpu organizations and
 * providers out, with a report of every row left out and why. No Redis,
 * no HTTP, no clock, no locale: the same dataset and options always give
 * the same output (json_equal), in input order. The dataset is only read.
 * What comes out passes provider-check.c and the organization checks
 * (lengths, controls, at most 16 languages, 8 rules a day, no overlaps,
 * no rule shorter than a slot), given valid options.
 *
 * INPUT SHAPES
 *
 * (a) Tabular: an object of tables, each an array of rows linked by ids.
 *     Tables read, each also under its name + ".csv" as in the HSDS
 *     tabular.json example: organizations, services, locations,
 *     service_at_locations and service_at_location, schedules, addresses
 *     and physical_addresses, languages, attributes, taxonomy_terms.
 *     Links: organization_id, service_id, location_id,
 *     service_at_location_id; attributes: link_id, link_entity,
 *     taxonomy_term_id. Other tables (phones, contacts, ...) are ignored.
 *     The object has no "id" (or a null one) and has at least one of
 *     organizations, services or service_at_location(s) (even if null).
 * (b) Nested: one record (an object with a non-null "id"), an array of records,
 *     or a paged list {"contents":[records]} as HSDS APIs serve them. A
 *     record with a "service" or "location" object is a
 *     service_at_location (service_at_location_full.json); else one with
 *     an "organization" object, a "status" or "service_at_locations" is a
 *     service (service_full.json); else one with "location_type" a
 *     location; else one with a field only taxonomies, terms, attributes,
 *     schedules or metadata have (code, parent_id, version, freq, ...) is
 *     none of ours: a single one is not a dataset (-1), one in a list is
 *     reported (table "records"); anything else is an organization
 *     (organization_full.json). Nested records are flattened into the
 *     tables of (a): organization.services/locations;
 *     service.organization/service_at_locations/schedules/languages/
 *     attributes; location.addresses/physical_addresses/schedules/
 *     languages; service_at_location.service/location/schedules/
 *     attributes; attribute.taxonomy_term. A record in an array takes its
 *     parent's id as its link unless it names one itself; a record in an
 *     object member gives its id to its parent the same way. Records
 *     nested more than HSDS_DEPTH_MAX deep are reported and left out. Rows
 *     of (a) may carry nested records too.
 *
 * IDS. Every row needs an "id": a string of 1..HSDS_ID_MAX bytes of UTF-8
 * without control characters; links likewise (a link missing, null or ""
 * is absent; a bad one takes the row out). Ids are unique per table: a
 * second row with an id already seen is skipped ("duplicate id"), except
 * that a record repeated inside a nested document with identical content
 * (HSDS nests the same location under organization.locations and under
 * service_at_location.location) is the same row, its links merged; unless
 * the two name different rows for one link (the same schedule under two
 * services), which is a duplicate again. source_id is the HSDS id, so
 * importing a dataset twice yields the same source_ids.
 *
 * TEXT copied out (names, addresses): trimmed; tab, CR and LF inside
 * become spaces; other C0/C1 controls, DEL or bad UTF-8 take the row out;
 * lengths are in bytes.
 *
 * ORGANIZATIONS: every valid organization row, in input order, whether or
 * not it has providers: {"source_id","name","kind","region"}.
 * - name: required, at most HSDS_NAME_MAX bytes.
 * - kind: a "kind" field already government/ngo/agency wins; else whole
 *   words of legal_status, then tax_status, any case: non-profit,
 *   nonprofit, not-for-profit, non-governmental, nongovernmental, ngo,
 *   charity, charitable, association, foundation -> "ngo"; agency ->
 *   "agency"; government, governmental, ministry, municipal,
 *   municipality, public body, public authority, local authority, state
 *   body -> "government"; tried in that order, so "government agency" is
 *   an agency and a "non-governmental organisation" an ngo. Default "ngo".
 *   These hints are ignored when they are not strings.
 * - region: that of its first provider (input order); else that of the
 *   first of its own locations (organization_id) whose address names a
 *   configured region; else default_region; else skipped "no korpu region".
 *
 * PROVIDERS: one per service_at_location row, in input order; then one per
 * service without any service_at_location row whose organization has
 * exactly one location, source_id "SERVICE_ID@LOCATION_ID" (with zero or
 * several locations, or if that is some service_at_location's id, the
 * service is skipped, table "services"). source_ids are unique. Each needs:
 * - a valid service: name as above; status, when given, a string and not
 *   "inactive" or "defunct" ("temporarily closed" is imported); an
 *   organization_id naming a valid organization;
 * - a valid location (its name, when given, as above);
 * - name: the service's name, then " (LOCATION NAME)" when the location
 *   has a name other than the service's and it all fits HSDS_NAME_MAX;
 * - area: the first attribute of the service_at_location, then of the
 *   service, whose value, or taxonomy term's code, name or term, equals
 *   one of opt->areas (ASCII case-insensitive, trimmed); else
 *   opt->default_area; else skipped "no korpu service area". Attributes
 *   link by nesting, or by link_id with link_entity absent, "service(s)"
 *   or "service_at_location(s)"; the term is the nested taxonomy_term or
 *   the taxonomy_terms row named by taxonomy_term_id.
 * - address: the location's first address with address_type "physical",
 *   else its first address: address_1, address_2, city joined by ", ", at
 *   most HSDS_ADDRESS_MAX bytes (else that address row is skipped); ""
 *   when the location has none (a virtual one, say).
 * - region: that address's region, state_province, then city, equal (ASCII
 *   case-insensitive, trimmed) to one of opt->regions; else
 *   default_region; else skipped "no korpu region".
 * - languages: the codes of the service's languages rows, then the
 *   location's: trimmed, cut at '-' or '_' ("en-GB" -> "en"), lower-cased,
 *   then 2 or 3 letters a-z or that language row is skipped; no
 *   duplicates; at most HSDS_LANGUAGES_MAX (more: a warning). Languages
 *   linked only to a phone are nobody's here and not reported.
 * - timezone: opt->timezone. HSDS schedule.timezone is a bare UTC offset,
 *   not a zone, and is not used: times are read as local wall-clock time.
 * - slot_minutes, capacity: from opt. closed: [] (HSDS lists no holidays).
 * - hours: from the schedules of the service_at_location; if it has none,
 *   of the location (those with no service_id or this service's); if none,
 *   of the service. The first of these that has schedule rows is used
 *   even when none of them is usable, so a location's hours never stand
 *   in for a service's own, unusable, ones. A schedule row belongs to the
 *   most specific link it names (service_at_location, else location, else
 *   service); one naming an unknown row or none is skipped. Each usable
 *   row gives one rule {"days":["mo",...],"open":"HH:MM","close":"HH:MM"},
 *   days in week order. Usable: freq absent or WEEKLY (or DAILY: byday,
 *   else every day); interval absent or 1; no count, bymonthday,
 *   byyearday or byweekno; byday of plain two-letter days, any case (a
 *   WEEKLY row without byday takes dtstart's weekday); opens_at and
 *   closes_at as H:MM or HH:MM, optionally :SS and .fraction (dropped) and
 *   a zone Z, +HH, +HHMM or +HH:MM (ignored); closes_at 24:00, or 00:00
 *   after a later opening, is midnight; close after open on the same day
 *   and at least slot_minutes later; and, when opt->today is set,
 *   valid_from and dtstart not after it and valid_to and until not before
 *   it (dates YYYY-MM-DD or YYYYMMDD, a time may follow). Other rows are
 *   skipped (table "schedules") and the provider keeps the rest. Days on
 *   which a rule repeats an earlier one exactly are dropped silently; days
 *   on which it overlaps one, or that have HSDS_DAY_RULES_MAX rules, are
 *   dropped and reported (table "schedules", naming the provider).
 * - A provider left without rules is imported with "hours": [] (no slots
 *   until hours are added) and listed in "warnings", not "skipped".
 *
 * REPORT. "skipped": rows not imported, {"table","id","reason"}, in the
 * order found (collecting, then table by table, then providers, then
 * organizations); id is null when the row has no usable id, and the
 * reason then says where it is ("services.csv[3]: id missing",
 * "organization.locations[0].addresses: not an array"). Tables named:
 * organizations, services, locations, service_at_location, schedules,
 * addresses, languages, attributes and taxonomy_terms (only when not
 * records at all: no id, a duplicate, not an object), and records. A
 * provider's skip names its service_at_location (the service, for the
 * one-location case). A skipped organization, service or location is
 * reported once, and again by each provider it takes down. "warnings":
 * imported with a caveat, same shape. Tables not read are never looked
 * at. Wrong JSON types anywhere give a skip, never an abort.
 */
#ifndef HSDS_MAP_H
#define HSDS_MAP_H

#include <stddef.h>

#include <jansson.h>

#define HSDS_NAME_MAX		200	/* bytes, names of organizations and providers */
#define HSDS_ADDRESS_MAX	300	/* bytes, a provider's address */
#define HSDS_ID_MAX		128	/* bytes, any HSDS id */
#define HSDS_DEPTH_MAX		8	/* records nested in records */
#define HSDS_LANGUAGES_MAX	16	/* a provider's languages (provider-check.c) */
#define HSDS_DAY_RULES_MAX	8	/* a provider's rules on one day (provider-check.c);
					 * so at most 56 rules, under its 64 */

struct hsds_options {
	const char *const *areas;	/* korpu service areas loaded, e.g. "employment" */
	size_t n_areas;
	const char *const *regions;	/* configured region slugs, lower case, e.g. "baku" */
	size_t n_regions;
	const char *default_area;	/* one of areas, or NULL */
	const char *default_region;	/* one of regions, or NULL */
	const char *timezone;		/* IANA zone of every provider, e.g. "Asia/Baku" */
	int slot_minutes;		/* 5..480 */
	int capacity;			/* 1..1000 */
	const int *area_capacity;	/* NULL, or one per area (1..1000): the
					 * capacity of that area's providers */
	const char *today;		/* "YYYY-MM-DD" to drop expired and future
					 * schedules, or NULL to ignore their dates */
};

/*
 * Maps an HSDS dataset (rules above). On success returns 0 and sets *out to
 * a new object the caller must json_decref:
 *   {"organizations":[{"source_id","name","kind","region"}],
 *    "providers":[{"source_id","organization_source_id","name","area",
 *      "region","address","languages":[..],"timezone","slot_minutes",
 *      "capacity","hours":[{"days":[..],"open","close"}],"closed":[]}],
 *    "skipped":[{"table","id","reason"}],
 *    "warnings":[{"table","id","reason"}]}
 * Returns -1, *out NULL and a reason in err (if err is not NULL) when the
 * dataset is not an HSDS document at all (not an object or array; an
 * object with neither an "id" nor an organizations, services or
 * service_at_location(s) table nor "contents"; a single record that is
 * none of ours; an array or list with no object in it), when the options are unusable (NULL, no
 * timezone, slot_minutes or capacity out of range, a default not among
 * areas/regions, a malformed today), or when memory runs out.
 */
int hsds_map(const json_t *dataset, const struct hsds_options *opt, json_t **out,
    char *err, size_t errlen);

#endif /* HSDS_MAP_H */
