/*
 * hsds-map.h - the pure part of POST /api/v1/directory/import: an Open
 * Referral HSDS 3.0 dataset (parsed JSON) in, korpu organizations and
 * providers out, with a report of every row that was left out and why.
 * No Redis, no HTTP, no clock, no locale: the same dataset and options
 * always give the same output (json_equal), in input order.
 *
 * INPUT SHAPES
 *
 * (a) Tabular: an object of tables, each an array of rows linked by ids.
 *     Table names, each also accepted with a ".csv" suffix as in the HSDS
 *     tabular.json example: organizations, services, locations,
 *     service_at_locations and service_at_location, schedules, addresses
 *     and physical_addresses, languages, attributes, taxonomy_terms.
 *     Links: organization_id, service_id, location_id,
 *     service_at_location_id, and for attributes link_id + link_entity +
 *     taxonomy_term_id. Other tables (phones, contacts, ...) are ignored.
 *     The object must have no "id" and at least one of organizations,
 *     services or service_at_location(s).
 * (b) Nested: one record object with an "id" or an array of them, or a
 *     paged list {"contents":[...]} as served by HSDS APIs. A record with a
 *     "service" or "location" object is a service_at_location
 *     (service_at_location_full.json); one with an "organization" object,
 *     a "status" or "service_at_locations" is a service
 *     (service_full.json); anything else is an organization
 *     (organization_full.json). Nested records are flattened into the
 *     tables of (a): organization.services/locations,
 *     service.organization/service_at_locations/schedules/languages/
 *     attributes, location.addresses/physical_addresses/schedules/
 *     languages, service_at_location.service/location/schedules/
 *     attributes, attribute.taxonomy_term. A nested record takes its
 *     parent's id as its link unless it names one itself. Nesting deeper
 *     than HSDS_DEPTH_MAX records is cut off (reported).
 *     Rows of (a) may carry nested children too; the same rules apply.
 *
 * IDS. Every row needs an "id": a string of 1..HSDS_ID_MAX bytes of UTF-8
 * without control characters (links likewise; a link that is missing,
 * null or "" is absent). Ids are unique per table: a second row with an
 * id already seen is skipped ("duplicate id"), except that a record
 * repeated inside a nested document with identical content (HSDS nests
 * the same location under organization.locations and under each
 * service_at_location.location) is the same row: its links are merged.
 * source_id is the HSDS id, so importing the same dataset twice yields the
 * same source_ids.
 *
 * ORGANIZATIONS: every valid organization row, in input order, whether or
 * not it has providers: {"source_id","name","kind","region"}.
 * - name: trimmed; tab/CR/LF inside become spaces; other control
 *   characters, invalid UTF-8, empty, or more than HSDS_NAME_MAX bytes:
 *   skipped. The same text rule holds for every string copied out.
 * - kind: a "kind" field already equal to government/ngo/agency wins;
 *   else words in legal_status, then tax_status (whole words, any case):
 *   non-profit, nonprofit, not-for-profit, non-governmental, ngo, charity,
 *   charitable, association, foundation -> "ngo"; agency -> "agency";
 *   government, governmental, ministry, municipal, municipality, public
 *   body, public authority, local authority, state body -> "government";
 *   checked in that order, so "government agency" is "agency" and
 *   "non-governmental organisation" is "ngo". Default "ngo". These hint
 *   fields are ignored when not strings.
 * - region: that of its first provider (input order); else the first of
 *   its own locations (organization_id) whose address maps to a region;
 *   else default_region; else skipped "no korpu region".
 *
 * PROVIDERS: one per service_at_location row, in input order, then one per
 * service that has no service_at_location row at all and whose
 * organization has exactly one location (source_id "SERVICE_ID@LOCATION_ID";
 * with zero or several locations the service is skipped, table
 * "services"). A provider needs:
 * - a valid service (name as for organizations; status, when given, not
 *   "inactive" or "defunct"; "temporarily closed" is imported), with an
 *   organization_id naming a valid organization;
 * - a valid location (its name, when given, as for names);
 * - name: the service's name, followed by " (LOCATION NAME)" when the
 *   location has a name other than the service's and the whole fits in
 *   HSDS_NAME_MAX bytes;
 * - area: the first attribute of the service_at_location, then of the
 *   service (input order), whose value or taxonomy term code/name/term
 *   equals one of opt->areas (ASCII case-insensitive, trimmed); else
 *   opt->default_area; else skipped "no korpu service area". Attributes
 *   are linked by nesting, or by link_id with link_entity absent,
 *   "service(s)" or "service_at_location(s)"; the term is the nested
 *   taxonomy_term or the taxonomy_terms row named by taxonomy_term_id.
 * - address: of the location's first address with address_type
 *   "physical", else its first address: address_1, address_2 and city
 *   joined by ", " (at most HSDS_ADDRESS_MAX bytes, else that address row
 *   is skipped); "" when the location has none (e.g. virtual).
 * - region: that address's region, state_province, then city, trimmed and
 *   ASCII-lower-cased, equal to one of opt->regions; else default_region;
 *   else skipped "no korpu region".
 * - languages: the codes of the service's languages rows, then the
 *   location's: trimmed, cut at the first '-' or '_' ("en-GB" -> "en"),
 *   lower-cased, must then be 2 or 3 letters a-z (else that language row
 *   is skipped); duplicates dropped. Languages linked only to a phone are
 *   not a provider's.
 * - timezone: opt->timezone. HSDS schedule.timezone is a bare UTC offset,
 *   not a zone, so it is not used; times are read as local wall-clock time.
 * - slot_minutes, capacity: from opt. closed: always [] (HSDS has no
 *   holiday list).
 * - hours: from the schedules of the service_at_location; if it has none,
 *   of the location (those with no service_id or this one's); if none,
 *   of the service. The first of these with any schedule row is used even
 *   when none of its rows is usable, so a location's hours never stand in
 *   for a service's own, unusable, ones. A schedule row is linked to the
 *   most specific link it names (service_at_location, else location, else
 *   service). Each usable row gives one rule
 *   {"days":["mo",...],"open":"HH:MM","close":"HH:MM"} (days in week
 *   order). Usable means: freq absent or WEEKLY (DAILY: byday or every
 *   day); interval absent or 1; no count, bymonthday, byyearday or
 *   byweekno; byday plain two-letter days (a WEEKLY row without byday
 *   uses the weekday of dtstart); opens_at and closes_at given as H:MM or
 *   HH:MM, optionally :SS and .fraction (dropped) and a zone suffix Z,
 *   +HH, +HHMM or +HH:MM (ignored); close after open on the same day;
 *   and, if opt->today is set, valid_from/dtstart not after today and
 *   valid_to/until not before it (dates YYYY-MM-DD or YYYYMMDD, a time may
 *   follow). Other rows are skipped (table "schedules") and the provider
 *   keeps the rest. Days that repeat an earlier rule exactly are dropped
 *   silently; days that overlap one otherwise are dropped and reported
 *   (table "schedules", naming the provider).
 * - A provider left with no rule is still imported, with "hours": [] (it
 *   has no slots until hours are added); it is listed in "warnings", not
 *   in "skipped".
 *
 * REPORT. "skipped": rows not imported, {"table","id","reason"}, id null
 * when the row has no usable id (the reason then says where it was).
 * Tables named: organizations, services, locations, service_at_location,
 * schedules, addresses, languages. A provider skip names the
 * service_at_location (or, for the one-location case, the service). A
 * skipped service, location or organization is reported once, and again
 * in each provider it takes down. "warnings": imported with a caveat, same
 * shape. Malformed rows of other tables, and attributes, are not reported.
 * Wrong JSON types anywhere give a skip, never an abort.
 */
#ifndef HSDS_MAP_H
#define HSDS_MAP_H

#include <stddef.h>

#include <jansson.h>

#define HSDS_NAME_MAX		200	/* bytes, names of organizations and providers */
#define HSDS_ADDRESS_MAX	300	/* bytes, a provider's address */
#define HSDS_ID_MAX		128	/* bytes, any HSDS id */
#define HSDS_DEPTH_MAX		8	/* records nested in records */

struct hsds_options {
	const char *const *areas;	/* korpu service areas loaded, e.g. "employment" */
	size_t n_areas;
	const char *const *regions;	/* configured region slugs, lower case, e.g. "baku" */
	size_t n_regions;
	const char *default_area;	/* one of areas, or NULL */
	const char *default_region;	/* one of regions, or NULL */
	const char *timezone;		/* IANA zone of every provider, e.g. "Asia/Baku" */
	int slot_minutes;		/* 1..1440 */
	int capacity;			/* >= 1 */
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
 * dataset is not an HSDS document at all (not an object or array, no
 * organizations/services/service_at_location(s) table, an array or list
 * with no object in it), when the options are unusable (NULL, no
 * timezone, slot_minutes or capacity out of range, a default not among
 * areas/regions, a malformed today), or when memory runs out.
 */
int hsds_map(const json_t *dataset, const struct hsds_options *opt, json_t **out,
    char *err, size_t errlen);

#endif /* HSDS_MAP_H */
