/*
 * route-soonest.c - routing by the soonest free slot: of the providers
 * given (the area's, in the client's region, whose organization may
 * receive the referral), the one whose next free place comes first,
 * looking ROUTE_HORIZON_DAYS ahead. Areas ask for it with the
 * KORPU_AREA_ROUTE_SOONEST flag (employment: a job seeker is seen soon,
 * wherever). The places taken are read from the per-day hashes, one per
 * provider and day, all in one round.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"

#define ROUTE_HORIZON_DAYS 14

struct soonest {
	struct server *srv;
	json_t *providers;
	soonest_cb cb;
	void *arg;
	char **keys;
	size_t nkeys;
	char from[ROUTE_CANDIDATES_MAX][11];
};

static void
soonest_free_all(struct soonest *s)
{
	for (size_t i = 0; s->keys && i < s->nkeys; i++)
		free(s->keys[i]);
	free(s->keys);
	json_decref(s->providers);
	free(s);
}

/* The first free slot of provider p (index i) from the counts, or 0. */
static int64_t
first_free(struct soonest *s, size_t i, const json_t *p, json_t *hashes)
{
	struct slot *day = calloc(SLOTS_PER_DAY_MAX, sizeof(*day));
	long long cap = provider_capacity(p);
	int64_t now = wall_ms(), found = 0;
	char date[11], field[24];

	for (int d = 0; day && d < ROUTE_HORIZON_DAYS && !found; d++) {
		json_t *taken = json_array_get(hashes, i * ROUTE_HORIZON_DAYS + (size_t)d);
		int n;
		date_add_days(s->from[i], d, date);
		n = slots_of_day(p, date, day, SLOTS_PER_DAY_MAX);
		for (int k = 0; k < n && !found; k++) {
			snprintf(field, sizeof(field), "%lld", (long long)day[k].start_ms);
			if (day[k].start_ms > now &&
			    json_integer_value(json_object_get(taken, field)) < cap)
				found = day[k].start_ms;
		}
	}
	free(day);
	return found;
}

static void
counts_read(json_t *hashes, void *arg)
{
	struct soonest *s = arg;
	const char *best = NULL;
	int64_t best_at = 0;
	size_t i;
	json_t *p;

	if (hashes == NULL) {
		s->cb(NULL, -1, s->arg);
		soonest_free_all(s);
		return;
	}
	json_array_foreach(s->providers, i, p) {
		int64_t at = first_free(s, i, p, hashes);
		if (at && (best == NULL || at < best_at)) {
			best = json_string_value(json_object_get(p, "id"));
			best_at = at;
		}
	}
	s->cb(best, 0, s->arg);
	soonest_free_all(s);
}

/*
 * Calls cb(provider_id, 0, arg) with the provider of providers (documents,
 * at most ROUTE_CANDIDATES_MAX) whose next free place comes first, NULL
 * when none has one in the horizon; cb(NULL, -1, arg) when Redis did not
 * answer. Takes a reference to providers.
 */
int
route_soonest(struct server *srv, json_t *providers, soonest_cb cb, void *arg)
{
	struct soonest *s = calloc(1, sizeof(*s));
	size_t n = json_array_size(providers), i;
	json_t *p;

	if (s == NULL || n > ROUTE_CANDIDATES_MAX ||
	    (s->keys = calloc(n * ROUTE_HORIZON_DAYS + 1, sizeof(char *))) == NULL) {
		free(s);
		return -1;
	}
	s->srv = srv;
	s->providers = json_incref(providers);
	s->cb = cb;
	s->arg = arg;
	json_array_foreach(providers, i, p) {
		const char *zone = json_string_value(json_object_get(p, "timezone"));
		if (local_date(wall_ms(), zone, s->from[i]) < 0)
			local_date(wall_ms(), PROVIDER_TIMEZONE_DEFAULT, s->from[i]);
		for (int d = 0; d < ROUTE_HORIZON_DAYS; d++) {
			char date[11];
			date_add_days(s->from[i], d, date);
			if (asprintf(&s->keys[s->nkeys], "korpu:{r:%s}:taken:%s:%s",
			    json_string_value(json_object_get(p, "region")),
			    json_string_value(json_object_get(p, "id")), date) < 0) {
				soonest_free_all(s);
				return -1;
			}
			s->nkeys++;
		}
	}
	if (store_hashes(srv, (const char *const *)s->keys, s->nkeys, counts_read, s) < 0) {
		soonest_free_all(s);
		return -1;
	}
	return 0;
}
