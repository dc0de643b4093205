/*
 * api-slots.c - GET /api/v1/providers/{id}/slots?from=DATE&to=DATE: the
 * provider's free capacity, [{"start","end","remaining"}], in its local
 * time with offsets.
 *
 * Why this stays fast with a year of bookings: the places taken are
 * counted per provider and local day, in one small hash per day
 * (korpu:{r:REGION}:taken:PROVIDER:DATE, field = slot start in ms, value
 * = places taken), written by the booking that takes a place. An answer
 * reads one hash per day asked for, all in one round of pipelined
 * commands, and computes the slots of those days from the opening rules:
 * its cost grows with the range asked for, never with the bookings held
 * on other days.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"

#define SLOTS_RANGE_DAYS_MAX 92

struct slots_query {
	struct request *r;
	json_t *provider;
	char from[11];
	int days;
	char **keys;
};

static void
slots_query_free(struct slots_query *q)
{
	for (int i = 0; q->keys && i < q->days; i++)
		free(q->keys[i]);
	free(q->keys);
	json_decref(q->provider);
	free(q);
}

/* Places a provider's slot holds (capacity, per the area's model). */
long long
provider_capacity(const json_t *provider)
{
	long long cap = json_integer_value(json_object_get(provider, "capacity"));

	return cap > 0 ? cap : 1;
}

static void
taken_read(json_t *hashes, void *arg)
{
	struct slots_query *q = arg;
	struct request *r = q->r;
	const char *zone = json_string_value(json_object_get(q->provider, "timezone"));
	long long cap = provider_capacity(q->provider);
	int64_t now = wall_ms();
	struct slot *s = calloc(SLOTS_PER_DAY_MAX, sizeof(*s));
	json_t *out;
	char date[11];

	if (hashes == NULL || s == NULL) {
		free(s);
		reply_unavailable(r, "redis: bookings cannot be read right now", 1);
		slots_query_free(q);
		return;
	}
	out = json_array();
	for (int d = 0; d < q->days; d++) {
		json_t *taken = json_array_get(hashes, (size_t)d);
		int n;

		date_add_days(q->from, d, date);
		n = slots_of_day(q->provider, date, s, SLOTS_PER_DAY_MAX);
		for (int i = 0; i < n; i++) {
			char field[24], start[40], end[40];
			long long left;

			if (s[i].start_ms < now)
				continue;
			snprintf(field, sizeof(field), "%lld", (long long)s[i].start_ms);
			left = cap - json_integer_value(json_object_get(taken, field));
			if (left <= 0)
				continue;
			time_format_local(s[i].start_ms, zone, start, sizeof(start));
			time_format_local(s[i].end_ms, zone, end, sizeof(end));
			json_array_append_new(out, json_pack("{s:s, s:s, s:I}", "start", start,
			    "end", end, "remaining", (json_int_t)left));
		}
	}
	free(s);
	reply_json(r, 200, out);
	slots_query_free(q);
}

static void
provider_read(struct doc *docs, size_t n, void *arg)
{
	struct slots_query *q = arg;
	struct request *r = q->r;
	const char *id = request_param(r, "id");
	char date[11];

	(void)n;
	if (docs == NULL) {
		reply_unavailable(r, "redis: the provider cannot be read right now", 1);
		slots_query_free(q);
		return;
	}
	if (docs[0].doc == NULL || !authz_org_visible(r,
	    json_string_value(json_object_get(docs[0].doc, "organization")))) {
		reply_problem(r, 404, "no such provider");
		slots_query_free(q);
		return;
	}
	q->provider = json_incref(docs[0].doc);
	q->keys = calloc((size_t)q->days, sizeof(char *));
	for (int d = 0; q->keys && d < q->days; d++) {
		date_add_days(q->from, d, date);
		if (asprintf(&q->keys[d], "korpu:{r:%s}:taken:%s:%s", id_region(id), id, date) < 0)
			q->keys[d] = NULL;
	}
	for (int d = 0; q->keys && d < q->days; d++)
		if (q->keys[d] == NULL) {
			reply_problem(r, 500, "out of memory");
			slots_query_free(q);
			return;
		}
	if (q->keys == NULL ||
	    store_hashes(r->srv, (const char *const *)q->keys, (size_t)q->days, taken_read, q) < 0) {
		reply_unavailable(r, "redis: bookings cannot be read right now", 1);
		slots_query_free(q);
	}
}

/* Days from a to b (dates), or -1. */
static int
days_between(const char *a, const char *b)
{
	char d[11];

	for (int n = 0; n <= SLOTS_RANGE_DAYS_MAX; n++) {
		if (date_add_days(a, n, d) < 0)
			return -1;
		if (strcmp(d, b) == 0)
			return n;
	}
	return -1;
}

void
api_provider_slots(struct request *r)
{
	static const char *const params[] = { "from", "to", NULL };
	const char *from, *to;
	struct slots_query *q;
	char key[160];
	const char *keys[] = { key };
	int span;

	if (query_parse(r, params) < 0)
		return;
	from = query_get(r, "from");
	to = query_get(r, "to");
	if (from == NULL || to == NULL || !date_valid(from) || !date_valid(to)) {
		reply_problem(r, 400, "from and to must be dates written YYYY-MM-DD");
		return;
	}
	span = strcmp(from, to) <= 0 ? days_between(from, to) : -1;
	if (span < 0) {
		reply_problem(r, 400, "to must be on or after from, and at most 92 days later");
		return;
	}
	if (provider_key(r, request_param(r, "id"), key, sizeof(key)) < 0)
		return;
	q = calloc(1, sizeof(*q));
	if (q == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	q->r = r;
	snprintf(q->from, sizeof(q->from), "%s", from);
	q->days = span + 1;
	if (store_fetch(r->srv, keys, 1, provider_read, q) < 0) {
		reply_unavailable(r, "redis: the provider cannot be read right now", 1);
		slots_query_free(q);
	}
}
