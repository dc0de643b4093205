/*
 * stats.c - the counters the summary report reads (api-reports.c), kept
 * as the data changes, in the same transaction as the change: one hash
 * per region, area and UTC day, korpu:{r:REGION}:stats:AREA:DATE.
 *
 *   referrals             referrals made that day
 *   status:STATUS         of those, how many are in STATUS now
 *   first_days:N          of those, how many had their first appointment
 *                         N days after they were made
 *   appt:booked / appt:fulfilled / appt:noshow
 *                         appointments starting that day, by outcome
 *
 * A report over a range reads one hash per region, area and day: its cost
 * follows the range, never the number of referrals.
 */
#include <stdio.h>
#include <string.h>

#include "korpud.h"

/* The day (UTC) of an RFC 3339 time, "" if unreadable. */
static void
day_of(const char *when, char out[11])
{
	int64_t ms;

	out[0] = '\0';
	if (when && time_parse(when, &ms) == 0) {
		char at[40];
		time_format_ms(ms, at, sizeof(at));
		snprintf(out, 11, "%.10s", at);
	}
}

static void
count(struct tx *t, const char *area, const char *day, const char *field, long long by)
{
	if (area && day[0])
		tx_hincrby(t, tx_key(t, "stats:%s:%s", area, day), field, by);
}

/* A referral made: counted on its day, as sent. */
void
stats_referral_made(struct tx *t, const json_t *ref)
{
	char day[11];

	day_of(json_string_value(json_object_get(ref, "created_at")), day);
	count(t, json_string_value(json_object_get(ref, "area")), day, "referrals", 1);
	count(t, json_string_value(json_object_get(ref, "area")), day, "status:sent", 1);
}

/* A referral moved from one status to another. */
void
stats_referral_moved(struct tx *t, const json_t *before, const char *to)
{
	const char *area = json_string_value(json_object_get(before, "area"));
	const char *from = json_string_value(json_object_get(before, "status"));
	char day[11], field[48];

	day_of(json_string_value(json_object_get(before, "created_at")), day);
	snprintf(field, sizeof(field), "status:%s", from ? from : "?");
	count(t, area, day, field, -1);
	snprintf(field, sizeof(field), "status:%s", to);
	count(t, area, day, field, 1);
}

/* The referral's first appointment, starting at start_ms. */
void
stats_first_appointment(struct tx *t, const json_t *ref, int64_t start_ms)
{
	int64_t made = 0;
	char day[11], field[48];

	if (time_parse(json_string_value(json_object_get(ref, "created_at")) ?: "", &made) < 0)
		return;
	day_of(json_string_value(json_object_get(ref, "created_at")), day);
	snprintf(field, sizeof(field), "first_days:%lld",
	    (long long)((start_ms > made ? start_ms - made : 0) / 86400000));
	count(t, json_string_value(json_object_get(ref, "area")), day, field, 1);
}

/* An appointment's outcome ("booked", "fulfilled", "noshow"), on its day. */
void
stats_appointment(struct tx *t, const char *area, int64_t start_ms, const char *outcome)
{
	char at[40], day[11], field[32];

	time_format_ms(start_ms, at, sizeof(at));
	snprintf(day, sizeof(day), "%.10s", at);
	snprintf(field, sizeof(field), "appt:%s", outcome);
	count(t, area, day, field, 1);
}
