/*
 * api-reports.c - GET /api/v1/reports/summary?from=DATE&to=DATE: per
 * area, referrals made in the range by their status now, the median days
 * from referral to first appointment, and the attendance and no-show
 * rates of the appointments in the range. JSON, or CSV for
 * `Accept: text/csv`. Read from the day counters of stats.c, one hash per
 * region, area and day (UTC): never a scan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "korpud.h"

#define REPORT_DAYS_MAX 366

struct report {
	struct request *r;
	char from[11];
	int days;
	int csv;
	char **keys;
	size_t nkeys;
};

static void
report_free(struct report *rp)
{
	for (size_t i = 0; rp->keys && i < rp->nkeys; i++)
		free(rp->keys[i]);
	free(rp->keys);
	free(rp);
}

#define DAYS_BUCKETS (366 * 3)	/* longer waits count in the last bucket */

/* The value at 0-based position k of a histogram of counts per day. */
static int
nth(const long long *counts, int buckets, long long k)
{
	for (int d = 0; d < buckets; d++) {
		if (k < counts[d])
			return d;
		k -= counts[d];
	}
	return buckets - 1;
}

/* The median of a histogram {"N": count of N days}, or -1 when empty. */
static double
median_days(const json_t *hist)
{
	static long long counts[DAYS_BUCKETS];
	long long total = 0;
	const char *key;
	json_t *v;

	memset(counts, 0, sizeof(counts));
	json_object_foreach((json_t *)hist, key, v) {
		int d = atoi(key);
		if (d < 0 || d >= DAYS_BUCKETS)
			d = DAYS_BUCKETS - 1;
		counts[d] += json_integer_value(v);
		total += json_integer_value(v);
	}
	if (total <= 0)
		return -1;
	if (total % 2)
		return nth(counts, DAYS_BUCKETS, total / 2);
	return (nth(counts, DAYS_BUCKETS, total / 2 - 1) + nth(counts, DAYS_BUCKETS, total / 2)) / 2.0;
}

static json_t *
area_summary(const char *area, json_t *sum)
{
	json_t *by_status = json_object(), *hist = json_object();
	long long fulfilled = 0, noshow = 0, booked = 0, referrals = 0;
	const char *key;
	json_t *v;
	double med;

	for (const char *const *s = referral_states(); *s; s++)
		json_object_set_new(by_status, *s, json_integer(0));
	json_object_foreach(sum, key, v) {
		long long n = json_integer_value(v);
		if (strcmp(key, "referrals") == 0)
			referrals = n;
		else if (strncmp(key, "status:", 7) == 0 && json_object_get(by_status, key + 7))
			json_object_set_new(by_status, key + 7, json_integer(n));
		else if (strncmp(key, "first_days:", 11) == 0)
			json_object_set_new(hist, key + 11, json_integer(n));
		else if (strcmp(key, "appt:fulfilled") == 0)
			fulfilled = n;
		else if (strcmp(key, "appt:noshow") == 0)
			noshow = n;
		else if (strcmp(key, "appt:booked") == 0)
			booked = n;
	}
	med = median_days(hist);
	json_decref(hist);
	return json_pack("{s:s, s:{s:I, s:o}, s:o, s:{s:I, s:I, s:I}, s:o, s:o}",
	    "area", area, "referrals", "total", (json_int_t)referrals, "by_status", by_status,
	    "median_days_to_first_appointment", med < 0 ? json_null() : json_real(med),
	    "appointments", "booked", (json_int_t)booked, "fulfilled", (json_int_t)fulfilled,
	    "noshow", (json_int_t)noshow,
	    "attendance_rate", fulfilled + noshow ? json_real((double)fulfilled /
	    (double)(fulfilled + noshow)) : json_null(),
	    "no_show_rate", fulfilled + noshow ? json_real((double)noshow /
	    (double)(fulfilled + noshow)) : json_null());
}

static char *
as_csv(const json_t *areas)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	size_t i;
	json_t *a;

	if (f == NULL)
		return NULL;
	fprintf(f, "area,referrals");
	for (const char *const *s = referral_states(); *s; s++)
		fprintf(f, ",%s", *s);
	fprintf(f, ",median_days_to_first_appointment,appointments_booked,fulfilled,noshow,"
	    "attendance_rate,no_show_rate\r\n");
	json_array_foreach(areas, i, a) {
		const json_t *ref = json_object_get(a, "referrals");
		const json_t *ap = json_object_get(a, "appointments");
		const json_t *med = json_object_get(a, "median_days_to_first_appointment");
		const json_t *att = json_object_get(a, "attendance_rate");
		const json_t *ns = json_object_get(a, "no_show_rate");

		fprintf(f, "%s,%lld", json_string_value(json_object_get(a, "area")),
		    (long long)json_integer_value(json_object_get(ref, "total")));
		for (const char *const *s = referral_states(); *s; s++)
			fprintf(f, ",%lld", (long long)json_integer_value(
			    json_object_get(json_object_get(ref, "by_status"), *s)));
		if (json_is_real(med))
			fprintf(f, ",%.1f", json_real_value(med));
		else
			fprintf(f, ",");
		fprintf(f, ",%lld,%lld,%lld", (long long)json_integer_value(json_object_get(ap, "booked")),
		    (long long)json_integer_value(json_object_get(ap, "fulfilled")),
		    (long long)json_integer_value(json_object_get(ap, "noshow")));
		if (json_is_real(att))
			fprintf(f, ",%.3f,%.3f\r\n", json_real_value(att), json_real_value(ns));
		else
			fprintf(f, ",,\r\n");
	}
	fclose(f);
	return out;
}

static void
counts_read(json_t *hashes, void *arg)
{
	struct report *rp = arg;
	struct request *r = rp->r;
	const struct strlist *regions = &r->srv->conf->regions;
	const struct plugin_set *plugins = &r->srv->plugins;
	json_t *areas, *out;
	char to[11];
	size_t i = 0;

	if (hashes == NULL) {
		reply_unavailable(r, "redis: the report's counts cannot be read right now", 1);
		report_free(rp);
		return;
	}
	areas = json_array();
	for (size_t p = 0; p < plugins->n; p++) {
		json_t *sum = json_object();
		const char *key;
		json_t *v;
		for (size_t g = 0; g < regions->n; g++)
			for (int d = 0; d < rp->days; d++, i++)
				json_object_foreach(json_array_get(hashes, i), key, v)
					json_object_set_new(sum, key, json_integer(
					    json_integer_value(json_object_get(sum, key)) +
					    json_integer_value(v)));
		json_array_append_new(areas, area_summary(plugins->v[p].name, sum));
		json_decref(sum);
	}
	date_add_days(rp->from, rp->days - 1, to);
	if (rp->csv) {
		char *text = as_csv(areas);
		char disposition[96];
		snprintf(disposition, sizeof(disposition),
		    "attachment; filename=\"korpu-summary-%s-%s.csv\"", rp->from, to);
		json_decref(areas);
		if (text == NULL) {
			reply_problem(r, 500, "out of memory");
		} else {
			evhttp_add_header(evhttp_request_get_output_headers(r->req),
			    "Content-Disposition", disposition);
			reply_bytes(r, 200, "text/csv; charset=utf-8", text, strlen(text));
			free(text);
		}
	} else {
		out = json_pack("{s:s, s:s, s:o}", "from", rp->from, "to", to, "areas", areas);
		reply_json(r, 200, out);
	}
	report_free(rp);
}

void
api_report_summary(struct request *r)
{
	static const char *const params[] = { "from", "to", NULL };
	const struct strlist *regions = &r->srv->conf->regions;
	const struct plugin_set *plugins = &r->srv->plugins;
	const char *from, *to, *accept = request_header(r, "Accept");
	char today[40], dfrom[11], dto[11], d[11];
	struct report *rp;
	int span = -1;

	if (query_parse(r, params) < 0)
		return;
	time_format_ms(wall_ms(), today, sizeof(today));
	today[10] = '\0';
	from = query_get(r, "from");
	to = query_get(r, "to");
	if ((from && !date_valid(from)) || (to && !date_valid(to))) {
		reply_problem(r, 400, "from and to must be dates written YYYY-MM-DD");
		return;
	}
	/* date_valid: exactly ten characters */
	memcpy(dto, to ? to : today, 10);
	dto[10] = '\0';
	if (from) {
		memcpy(dfrom, from, 10);
		dfrom[10] = '\0';
	} else {
		date_add_days(dto, -29, dfrom);
	}
	for (int n = 0; n < REPORT_DAYS_MAX && strcmp(dfrom, dto) <= 0; n++) {
		date_add_days(dfrom, n, d);
		if (strcmp(d, dto) == 0) {
			span = n + 1;
			break;
		}
	}
	if (span < 0) {
		reply_problem(r, 400, "to must be on or after from, and at most 366 days later");
		return;
	}
	rp = calloc(1, sizeof(*rp));
	if (rp == NULL || (rp->keys = calloc(plugins->n * regions->n * (size_t)span + 1,
	    sizeof(char *))) == NULL) {
		free(rp);
		reply_problem(r, 500, "out of memory");
		return;
	}
	rp->r = r;
	snprintf(rp->from, sizeof(rp->from), "%s", dfrom);
	rp->days = span;
	rp->csv = accept && strstr(accept, "text/csv") != NULL;
	for (size_t p = 0; p < plugins->n; p++)
		for (size_t g = 0; g < regions->n; g++)
			for (int n = 0; n < span; n++) {
				date_add_days(dfrom, n, d);
				if (asprintf(&rp->keys[rp->nkeys], "korpu:{r:%s}:stats:%s:%s",
				    regions->v[g], plugins->v[p].name, d) < 0) {
					report_free(rp);
					reply_problem(r, 500, "out of memory");
					return;
				}
				rp->nkeys++;
			}
	audit_record(r->srv, r, r->uid, "report.summary", "ok",
	    json_pack("{s:s, s:s}", "from", dfrom, "to", dto));
	if (store_hashes(r->srv, (const char *const *)rp->keys, rp->nkeys, counts_read, rp) < 0) {
		reply_unavailable(r, "redis: the report's counts cannot be read right now", 1);
		report_free(rp);
	}
}
