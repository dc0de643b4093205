/*
 * slots.c - a provider's bookable slots, from its weekly opening rules in
 * its own time zone (libical's zone data), its closure dates and its slot
 * length. A slot is [start, end) in UTC milliseconds; its local start is
 * kept for display. Across a daylight-saving change the rules stay in
 * local time: 09:00 is 09:00 on both sides, and a local time that does
 * not exist that night (the spring gap) has no slot.
 *
 * Nothing here touches Redis: the bookings already held are counted
 * elsewhere (api-slots.c), per day.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

#include "korpud.h"

static const char *const day_names[] = { "su", "mo", "tu", "we", "th", "fr", "sa" };

static int
parse_date(const char *s, struct icaltimetype *t)
{
	if (s == NULL || !date_valid(s))
		return -1;
	*t = icaltime_null_time();
	t->year = atoi(s);
	t->month = atoi(s + 5);
	t->day = atoi(s + 8);
	t->is_date = 0;
	return 0;
}

/* Local wall time (date at minute m of the day) in tz -> UTC ms; -1 when
 * that local time does not exist (skipped by a daylight-saving change). */
static int64_t
local_to_utc(icaltimezone *tz, struct icaltimetype day, int m)
{
	struct icaltimetype t = day, back;
	time_t utc;

	t.hour = m / 60;
	t.minute = m % 60;
	t.second = 0;
	utc = icaltime_as_timet_with_zone(t, tz);
	back = icaltime_from_timet_with_zone(utc, 0, tz);
	if (back.hour != t.hour || back.minute != t.minute)
		return -1;
	return (int64_t)utc * 1000;
}

static int
cmp_slot(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;

	return x->start_ms < y->start_ms ? -1 : x->start_ms > y->start_ms;
}

static int
closed_on(const json_t *provider, const char *date)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(provider, "closed"), i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), date) == 0)
			return 1;
	return 0;
}

static int
rule_has_day(const json_t *rule, const char *day)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(rule, "days"), i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), day) == 0)
			return 1;
	return 0;
}

/*
 * The slots of provider on its local date (YYYY-MM-DD), in time order,
 * into out (at most max). Returns how many, or -1 when the provider's
 * zone or the date is unusable.
 */
int
slots_of_day(const json_t *provider, const char *date, struct slot *out, size_t max)
{
	const char *zone = json_string_value(json_object_get(provider, "timezone"));
	long long slot = json_integer_value(json_object_get(provider, "slot_minutes"));
	icaltimezone *tz = zone ? icaltimezone_get_builtin_timezone(zone) : NULL;
	struct icaltimetype day;
	const char *dname;
	size_t n = 0, i;
	json_t *rule;

	if (tz == NULL || slot <= 0 || parse_date(date, &day) < 0)
		return -1;
	if (closed_on(provider, date))
		return 0;
	dname = day_names[icaltime_day_of_week(day) - 1];
	json_array_foreach(json_object_get(provider, "hours"), i, rule) {
		int open = clock_minutes(json_string_value(json_object_get(rule, "open")));
		int close = clock_minutes(json_string_value(json_object_get(rule, "close")));

		if (open < 0 || close <= open || !rule_has_day(rule, dname))
			continue;
		for (int m = open; m + slot <= close && n < max; m += (int)slot) {
			int64_t start = local_to_utc(tz, day, m);
			if (start < 0)
				continue;	/* in the spring gap */
			/* A slot lasts its length, even the one a change cuts through. */
			out[n].start_ms = start;
			out[n].end_ms = start + slot * 60000;
			out[n].local_minute = m;
			n++;
		}
	}
	qsort(out, n, sizeof(*out), cmp_slot);
	return (int)n;
}

/* Is start_ms the start of one of the provider's slots? Fills *s. */
int
slot_find(const json_t *provider, int64_t start_ms, struct slot *s)
{
	const char *zone = json_string_value(json_object_get(provider, "timezone"));
	char date[11];
	struct slot day[SLOTS_PER_DAY_MAX];
	int n;

	if (local_date(start_ms, zone, date) < 0)
		return 0;
	n = slots_of_day(provider, date, day, SLOTS_PER_DAY_MAX);
	for (int i = 0; i < n; i++)
		if (day[i].start_ms == start_ms) {
			*s = day[i];
			return 1;
		}
	return 0;
}

/* The local date (YYYY-MM-DD) of a UTC instant in zone. */
int
local_date(int64_t ms, const char *zone, char out[11])
{
	icaltimezone *tz = zone ? icaltimezone_get_builtin_timezone(zone) : NULL;
	struct icaltimetype t;

	if (tz == NULL)
		return -1;
	t = icaltime_from_timet_with_zone((time_t)(ms / 1000), 0, tz);
	snprintf(out, 11, "%04d-%02d-%02d", t.year, t.month, t.day);
	return 0;
}

/* RFC 3339 in the zone's local time with its offset then:
 * 2026-12-01T09:30:00+04:00. */
int
time_format_local(int64_t ms, const char *zone, char *buf, size_t len)
{
	icaltimezone *tz = zone ? icaltimezone_get_builtin_timezone(zone) : NULL;
	struct icaltimetype t;
	int is_dst = 0, off;

	if (tz == NULL)
		return -1;
	t = icaltime_from_timet_with_zone((time_t)(ms / 1000), 0, tz);
	off = icaltimezone_get_utc_offset(tz, &t, &is_dst);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", t.year, t.month, t.day,
	    t.hour, t.minute, t.second, off < 0 ? '-' : '+', abs(off) / 3600, abs(off) % 3600 / 60);
	return 0;
}

/* date + days, as YYYY-MM-DD. */
int
date_add_days(const char *date, int days, char out[11])
{
	struct icaltimetype t;

	if (parse_date(date, &t) < 0)
		return -1;
	t.is_date = 1;
	icaltime_adjust(&t, days, 0, 0, 0);
	snprintf(out, 11, "%04d-%02d-%02d", t.year, t.month, t.day);
	return 0;
}

/*
 * Does doc (an interpreter: weekly hours, timezone, closed) work through
 * [start, end)? One opening rule of the local day must hold it whole.
 */
int
hours_cover(const json_t *doc, int64_t start_ms, int64_t end_ms)
{
	const char *zone = json_string_value(json_object_get(doc, "timezone"));
	icaltimezone *tz = zone ? icaltimezone_get_builtin_timezone(zone) : NULL;
	struct icaltimetype s, e;
	const char *dname;
	char date[11];
	int from, to;
	size_t i;
	json_t *rule;

	if (tz == NULL || end_ms <= start_ms)
		return 0;
	s = icaltime_from_timet_with_zone((time_t)(start_ms / 1000), 0, tz);
	e = icaltime_from_timet_with_zone((time_t)(end_ms / 1000), 0, tz);
	snprintf(date, sizeof(date), "%04d-%02d-%02d", s.year, s.month, s.day);
	if (closed_on(doc, date))
		return 0;
	from = s.hour * 60 + s.minute;
	to = e.hour * 60 + e.minute;
	if (e.day != s.day)		/* ends at midnight, or later */
		to = (e.hour == 0 && e.minute == 0 && end_ms - start_ms <= 86400000) ? 24 * 60 : -1;
	if (to <= from)
		return 0;
	dname = day_names[icaltime_day_of_week(s) - 1];
	json_array_foreach(json_object_get(doc, "hours"), i, rule) {
		int open = clock_minutes(json_string_value(json_object_get(rule, "open")));
		int close = clock_minutes(json_string_value(json_object_get(rule, "close")));
		if (rule_has_day(rule, dname) && open >= 0 && open <= from && to <= close)
			return 1;
	}
	return 0;
}

/* ---- courses: a series of sessions, by an iCalendar recurrence rule ---- */

#define COURSE_SESSIONS_MAX 200

/*
 * The sessions of a course of provider: {"id","title","first","rrule"},
 * first a local date-time ("2027-01-12T18:00") in the provider's zone,
 * rrule an RFC 5545 rule with COUNT or UNTIL ("FREQ=WEEKLY;BYDAY=TU,TH;
 * COUNT=16"), expanded by libical. Each session must be one of the
 * provider's slots. Returns how many sessions (into out, at most max), or
 * -1 with why in err.
 */
int
course_sessions(const json_t *provider, const json_t *course, struct slot *out, size_t max,
    char *err, size_t errlen)
{
	const char *zone = json_string_value(json_object_get(provider, "timezone"));
	const char *first = json_string_value(json_object_get(course, "first"));
	const char *rule = json_string_value(json_object_get(course, "rrule"));
	icaltimezone *tz = zone ? icaltimezone_get_builtin_timezone(zone) : NULL;
	struct icalrecurrencetype recur;
	struct icaltimetype start, t;
	icalrecur_iterator *it;
	size_t n = 0;
	char date[11];

	if (tz == NULL || first == NULL || rule == NULL || strlen(first) != 16 || first[10] != 'T') {
		snprintf(err, errlen, "first must be a local date and time such as 2027-01-12T18:00");
		return -1;
	}
	snprintf(date, sizeof(date), "%.10s", first);
	if (parse_date(date, &start) < 0 || clock_minutes(first + 11) < 0 ||
	    clock_minutes(first + 11) >= 24 * 60) {
		snprintf(err, errlen, "first must be a local date and time such as 2027-01-12T18:00");
		return -1;
	}
	start.hour = clock_minutes(first + 11) / 60;
	start.minute = clock_minutes(first + 11) % 60;
	icalerror_set_errno(ICAL_NO_ERROR);
	recur = icalrecurrencetype_from_string(rule);
	if (recur.freq == ICAL_NO_RECURRENCE || icalerrno != ICAL_NO_ERROR) {
		icalerror_set_errno(ICAL_NO_ERROR);
		snprintf(err, errlen, "rrule is not an iCalendar recurrence rule");
		return -1;
	}
	if (recur.count <= 0 && icaltime_is_null_time(recur.until)) {
		snprintf(err, errlen, "rrule must end: give COUNT or UNTIL");
		return -1;
	}
	if (recur.freq < ICAL_DAILY_RECURRENCE) {
		snprintf(err, errlen, "rrule must repeat daily, weekly, monthly or yearly");
		return -1;
	}
	it = icalrecur_iterator_new(recur, start);
	if (it == NULL) {
		snprintf(err, errlen, "rrule cannot be expanded from first");
		return -1;
	}
	while (!icaltime_is_null_time(t = icalrecur_iterator_next(it))) {
		int64_t ms;
		struct slot s;
		char when[40];

		if (n >= max || n >= COURSE_SESSIONS_MAX) {
			snprintf(err, errlen, "has more than %d sessions", COURSE_SESSIONS_MAX);
			icalrecur_iterator_free(it);
			return -1;
		}
		ms = local_to_utc(tz, t, t.hour * 60 + t.minute);
		if (ms < 0 || !slot_find(provider, ms, &s)) {
			snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d", t.year, t.month, t.day,
			    t.hour, t.minute);
			snprintf(err, errlen, "its session at %s is not one of the provider's slots", when);
			icalrecur_iterator_free(it);
			return -1;
		}
		out[n++] = s;
	}
	icalrecur_iterator_free(it);
	if (n == 0) {
		snprintf(err, errlen, "rrule gives no session");
		return -1;
	}
	return (int)n;
}

/*
 * Loads libical's zone index and the default zone now, before the loop
 * runs: the first zone asked for reads the index (zones.tab) and its own
 * file, up to 30 ms with a cold disk cache (0.5 ms warm, as measured),
 * which would otherwise land on the event loop in a request. Each further
 * zone reads one small file once, the first time a provider or
 * interpreter uses it (0.4 ms warm, 12 ms cold). Loading all ~400 at
 * start would cost 40 ms, and 0.7 s under valgrind at every start of the
 * test suite's korpuds, for zones most deployments never use.
 */
void
zones_preload(void)
{
	icaltimezone_get_component(icaltimezone_get_builtin_timezone(PROVIDER_TIMEZONE_DEFAULT));
}
