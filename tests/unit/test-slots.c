/*
 * test-slots.c - slots_of_day() and friends: weekly rules in the
 * provider's zone, across daylight-saving changes, closures; a course's
 * sessions from its recurrence rule (booked whole, or not at all).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"

static json_t *
provider(const char *zone, int slot, const char *open, const char *close)
{
	return json_pack("{s:s, s:i, s:[{s:[s,s,s,s,s,s,s], s:s, s:s}], s:[s]}",
	    "timezone", zone, "slot_minutes", slot,
	    "hours", "days", "mo", "tu", "we", "th", "fr", "sa", "su", "open", open, "close", close,
	    "closed", "2026-12-31");
}

static void
utc(int64_t ms, char *buf, size_t len)
{
	time_format_ms(ms, buf, len);
}

static void
check_starts(const json_t *p, const char *date, const char *const *want)
{
	struct slot s[64];
	int n = slots_of_day(p, date, s, 64), i;
	char got[40];

	for (i = 0; want[i]; i++) {
		assert_true(i < n);
		utc(s[i].start_ms, got, sizeof(got));
		assert_string_equal(got, want[i]);
	}
	assert_int_equal(n, i);
}

static void
baku_has_no_daylight_saving(void **state)
{
	json_t *p = provider("Asia/Baku", 60, "09:00", "12:00");
	const char *const want[] = { "2026-12-01T05:00:00.000Z", "2026-12-01T06:00:00.000Z",
	    "2026-12-01T07:00:00.000Z", NULL };
	const char *const june[] = { "2026-06-01T05:00:00.000Z", "2026-06-01T06:00:00.000Z",
	    "2026-06-01T07:00:00.000Z", NULL };

	(void)state;
	check_starts(p, "2026-12-01", want);
	check_starts(p, "2026-06-01", june);
	json_decref(p);
}

static void
berlin_keeps_local_hours_across_the_change(void **state)
{
	json_t *p = provider("Europe/Berlin", 60, "09:00", "10:00");
	const char *const before[] = { "2026-03-28T08:00:00.000Z", NULL };
	const char *const after[] = { "2026-03-30T07:00:00.000Z", NULL };
	const char *const autumn[] = { "2026-10-26T08:00:00.000Z", NULL };

	(void)state;
	check_starts(p, "2026-03-28", before);
	check_starts(p, "2026-03-30", after);
	check_starts(p, "2026-10-26", autumn);
	json_decref(p);
}

static void
the_spring_gap_has_no_slots(void **state)
{
	/* 29 March 2026: 02:00 local becomes 03:00 in Berlin. */
	json_t *p = provider("Europe/Berlin", 30, "01:00", "04:00");
	const char *const want[] = { "2026-03-29T00:00:00.000Z", "2026-03-29T00:30:00.000Z",
	    "2026-03-29T01:00:00.000Z", "2026-03-29T01:30:00.000Z", NULL };
	struct slot s[16];
	int n;

	(void)state;
	check_starts(p, "2026-03-29", want);
	n = slots_of_day(p, "2026-03-29", s, 16);
	assert_int_equal(s[2].local_minute, 180);	/* 03:00 local */
	assert_int_equal(s[1].end_ms - s[1].start_ms, 30 * 60 * 1000);
	(void)n;
	json_decref(p);
}

static void
closures_and_weekdays(void **state)
{
	json_t *p = provider("Asia/Baku", 30, "09:00", "10:00");
	json_t *weekdays = json_pack("{s:s, s:i, s:[{s:[s], s:s, s:s}], s:[]}",
	    "timezone", "Asia/Baku", "slot_minutes", 30,
	    "hours", "days", "mo", "open", "09:00", "close", "10:00", "closed");
	struct slot s[8];

	(void)state;
	assert_int_equal(slots_of_day(p, "2026-12-31", s, 8), 0);
	assert_int_equal(slots_of_day(p, "2026-12-30", s, 8), 2);
	assert_int_equal(slots_of_day(weekdays, "2026-11-30", s, 8), 2);	/* a Monday */
	assert_int_equal(slots_of_day(weekdays, "2026-12-01", s, 8), 0);
	assert_int_equal(slots_of_day(p, "2026-02-30", s, 8), -1);
	json_decref(p);
	json_decref(weekdays);
}

static void
a_slot_must_fit_before_closing(void **state)
{
	json_t *p = provider("Asia/Baku", 45, "09:00", "10:30");
	struct slot s[8], one;

	(void)state;
	assert_int_equal(slots_of_day(p, "2026-12-01", s, 8), 2);	/* 09:00, 09:45 */
	assert_true(slot_find(p, s[1].start_ms, &one));
	assert_int_equal(one.end_ms, s[1].end_ms);
	assert_false(slot_find(p, s[1].start_ms + 60000, &one));
	json_decref(p);
}

static void
midnight_closing(void **state)
{
	json_t *p = provider("Asia/Baku", 60, "22:00", "24:00");
	struct slot s[8];

	(void)state;
	assert_int_equal(slots_of_day(p, "2026-12-01", s, 8), 2);
	assert_int_equal(s[1].end_ms - s[1].start_ms, 3600 * 1000);
	json_decref(p);
}

static void
local_formats(void **state)
{
	char buf[40], date[11];
	int64_t ms = 1796101200000LL;	/* 2026-12-01T05:00:00Z */

	(void)state;
	assert_int_equal(time_format_local(ms, "Asia/Baku", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2026-12-01T09:00:00+04:00");
	assert_int_equal(time_format_local(ms, "Europe/Berlin", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2026-12-01T06:00:00+01:00");
	assert_int_equal(local_date(ms - 10 * 3600 * 1000, "Asia/Baku", date), 0);
	assert_string_equal(date, "2026-11-30");
	assert_int_equal(date_add_days("2026-12-31", 1, date), 0);
	assert_string_equal(date, "2027-01-01");
	assert_int_equal(date_add_days("2028-02-28", 1, date), 0);
	assert_string_equal(date, "2028-02-29");
	assert_int_equal(time_format_local(ms, "Nowhere/Else", buf, sizeof(buf)), -1);
}

/* A course expands to every session of its rule, each one of the
 * provider's slots, in the provider's zone; a rule that strays from the
 * hours, never ends or runs past the limit is refused as a whole. */
static void
courses_expand_whole_or_not_at_all(void **state)
{
	static const struct {
		const char *first, *rrule;
		int n;				/* sessions, or -1: refused */
		const char *first_utc, *last_utc;
	} cases[] = {
		{ "2027-01-12T18:00", "FREQ=DAILY;INTERVAL=2;COUNT=5", 5,
		  "2027-01-12T14:00:00.000Z", "2027-01-20T14:00:00.000Z" },
		{ "2027-01-12T18:00", "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=4", 4,
		  "2027-01-12T14:00:00.000Z", "2027-01-21T14:00:00.000Z" },
		{ "2027-01-12T19:30", "FREQ=WEEKLY;UNTIL=20270126T235959Z", 3,
		  "2027-01-12T15:30:00.000Z", "2027-01-26T15:30:00.000Z" },
		{ "2027-01-12T18:30", "FREQ=DAILY;COUNT=2", -1, NULL, NULL },	/* not a slot */
		{ "2027-01-12T18:00", "FREQ=DAILY", -1, NULL, NULL },		/* never ends */
		{ "2027-01-12T18:00", "FREQ=HOURLY;COUNT=3", -1, NULL, NULL },
		{ "2027-01-12T18:00", "FREQ=DAILY;COUNT=500", -1, NULL, NULL },	/* too many */
		{ "2027-01-12", "FREQ=DAILY;COUNT=2", -1, NULL, NULL },
	};
	json_t *p = provider("Asia/Baku", 90, "18:00", "21:00");
	struct slot s[256];
	char err[160], got[40];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *c = json_pack("{s:s, s:s, s:s, s:s}", "id", "c", "title", "A1",
		    "first", cases[i].first, "rrule", cases[i].rrule);
		int n = course_sessions(p, c, s, 256, err, sizeof(err));

		json_decref(c);
		if (n != cases[i].n)
			fail_msg("%s %s: %d sessions (%s), want %d", cases[i].first, cases[i].rrule, n,
			    n < 0 ? err : "", cases[i].n);
		if (n <= 0)
			continue;
		utc(s[0].start_ms, got, sizeof(got));
		assert_string_equal(got, cases[i].first_utc);
		utc(s[n - 1].start_ms, got, sizeof(got));
		assert_string_equal(got, cases[i].last_utc);
		assert_int_equal(s[0].end_ms - s[0].start_ms, 90 * 60000);
	}
	json_decref(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(baku_has_no_daylight_saving),
		cmocka_unit_test(berlin_keeps_local_hours_across_the_change),
		cmocka_unit_test(the_spring_gap_has_no_slots),
		cmocka_unit_test(closures_and_weekdays),
		cmocka_unit_test(a_slot_must_fit_before_closing),
		cmocka_unit_test(midnight_closing),
		cmocka_unit_test(local_formats),
		cmocka_unit_test(courses_expand_whole_or_not_at_all),
	};

	return cmocka_run_group_tests_name("slots", tests, NULL, NULL);
}
