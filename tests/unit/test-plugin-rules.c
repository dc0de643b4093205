/*
 * test-plugin-rules.c - the area plugins' rules, table by table: ages at
 * the cut-off boundaries, the school year a referral is for, grade
 * placement, the clinics' urgency window, the housing priority score.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "rules.h"

static void
ages_turn_on_the_birthday(void **state)
{
	static const struct { const char *birth, *on; int age; } cases[] = {
		{ "2020-09-01", "2026-09-01", 6 },	/* six on the cut-off day */
		{ "2020-09-02", "2026-09-01", 5 },	/* a day short */
		{ "2020-08-31", "2026-09-01", 6 },
		{ "2009-09-01", "2026-09-01", 17 },
		{ "2009-08-31", "2026-09-01", 17 },
		{ "2008-09-01", "2026-09-01", 18 },
		{ "2012-02-29", "2026-02-28", 13 },	/* leap day: not yet */
		{ "2012-02-29", "2026-03-01", 14 },
		{ "2012-02-29", "2024-02-29", 12 },
		{ "2026-12-01", "2026-11-30", -1 },	/* not born yet */
		{ "not-a-date", "2026-11-30", -1 },
		{ "2011-11-30", "2026-11-30", 15 },	/* working age on the day */
		{ "2011-12-01", "2026-11-30", 14 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = age_on(cases[i].birth, cases[i].on);
		if (got != cases[i].age)
			fail_msg("age_on(%s, %s) = %d, want %d", cases[i].birth, cases[i].on, got,
			    cases[i].age);
	}
}

static void
a_referral_is_for_the_coming_school_year(void **state)
{
	static const struct { const char *today; const char *cutoff; } cases[] = {
		{ "2026-11-29", "2027-09-01" },
		{ "2026-08-31", "2026-09-01" },
		{ "2026-09-01", "2026-09-01" },		/* the day itself still counts */
		{ "2026-09-02", "2027-09-01" },
		{ "2026-01-01", "2026-09-01" },
	};
	char out[11];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		school_cutoff_for(cases[i].today, 9, 1, out);
		assert_string_equal(out, cases[i].cutoff);
	}
	school_cutoff_for("2026-06-15", 6, 30, out);
	assert_string_equal(out, "2026-06-30");
}

static void
grades_follow_the_last_completed_within_the_age(void **state)
{
	static const struct { int age, last, grade; } cases[] = {
		{ 6, 0, 1 },		/* starts school */
		{ 7, 1, 2 },
		{ 10, 4, 5 },		/* on track */
		{ 12, 3, 4 },		/* behind: continues where they left */
		{ 8, 5, 3 },		/* ahead of their age: the age's grade */
		{ 17, 11, 12 },
		{ 17, 12, 12 },		/* never above 12 */
		{ 5, 0, 1 },		/* never below 1 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = school_target_grade(cases[i].age, 6, cases[i].last);
		if (got != cases[i].grade)
			fail_msg("grade(age %d, last %d) = %d, want %d", cases[i].age, cases[i].last,
			    got, cases[i].grade);
	}
}

#define H 3600LL			/* an hour, in seconds */
#define DEF URGENT_WINDOW_HOURS_DEFAULT
#define T0 1800000000LL		/* when the referral was made: some time in 2027 */
#define NEVER (-1LL)		/* not booked */

static void
only_urgent_referrals_have_a_window(void **state)
{
	static const struct { const char *urgency; long long hours, seconds; } cases[] = {
		{ "urgent", DEF, 48 * H },	/* the default window is 48 hours */
		{ "urgent", 1, H },		/* the shortest the setting allows */
		{ "urgent", 336, 336 * H },	/* the longest: two weeks */
		{ "routine", DEF, 0 },		/* never escalated */
		{ "emergency", DEF, 0 },	/* never referred: refused with the number to call */
		{ "URGENT", DEF, 0 },		/* the field's enum is lower case */
		{ "", DEF, 0 },
		{ NULL, DEF, 0 },		/* no urgency (the area check without fields) */
		{ "urgent", 0, 0 },		/* no window: nothing to escalate */
	};

	(void)state;
	assert_int_equal(DEF, 48);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long got = urgency_escalate_after(cases[i].urgency, cases[i].hours);
		if (got != cases[i].seconds)
			fail_msg("escalate_after(%s, %lld h) = %lld s, want %lld s",
			    cases[i].urgency ? cases[i].urgency : "NULL", cases[i].hours, got,
			    cases[i].seconds);
	}
}

static void
an_urgent_referral_not_booked_in_its_window_is_escalated(void **state)
{
	/* booked and now: seconds after the referral was made (booked NEVER: not yet) */
	static const struct {
		const char *urgency;
		long long hours, booked, now;
		int escalated;
		const char *why;
	} cases[] = {
		{ "urgent", DEF, 48 * H - 1, 48 * H, 0, "booked just inside the window" },
		{ "urgent", DEF, 48 * H, 48 * H, 1, "booked exactly at its end: too late" },
		{ "urgent", DEF, 48 * H + 1, 48 * H + 1, 1, "booked just outside" },
		{ "urgent", DEF, 0, 30 * 24 * H, 0, "booked at once, looked at a month on" },
		{ "urgent", DEF, NEVER, 48 * H - 1, 0, "unbooked, a second before the end" },
		{ "urgent", DEF, NEVER, 48 * H, 1, "unbooked exactly at the end" },
		{ "urgent", DEF, NEVER, 48 * H + 1, 1, "unbooked just after the end" },
		{ "urgent", DEF, 50 * H, 49 * H, 1, "escalated at the end, before its late booking" },
		{ "urgent", 1, H - 1, H, 0, "a one-hour window, just inside" },
		{ "urgent", 1, H, H, 1, "a one-hour window, exactly at its end" },
		{ "urgent", 72, 48 * H + 1, 72 * H, 0, "a wider window set: 48 h + 1 s is in time" },
		{ "urgent", 72, NEVER, 72 * H - 1, 0, "a wider window, still open" },
		{ "urgent", 72, NEVER, 72 * H, 1, "a wider window, at its end" },
		{ "routine", DEF, NEVER, 48 * H, 0, "routine: never, at 48 h" },
		{ "routine", DEF, NEVER, 365 * 24 * H, 0, "routine: never, a year on" },
		{ "routine", DEF, 48 * H + 1, 48 * H + 1, 0, "routine: booked late is not late" },
		{ "emergency", DEF, NEVER, 48 * H, 0, "emergency: never referred, never escalated" },
		{ "emergency", DEF, NEVER, 48 * H + 1, 0, "emergency: just after the window" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long booked = cases[i].booked == NEVER ? NEVER : T0 + cases[i].booked;
		int got = urgency_escalated(cases[i].urgency, cases[i].hours, T0, booked,
		    T0 + cases[i].now);
		if (got != cases[i].escalated)
			fail_msg("case %zu (%s): escalated %d, want %d", i, cases[i].why, got,
			    cases[i].escalated);
	}
}

static void
lists_count_their_entries(void **state)
{
	static const struct { const char *list; int n; } cases[] = {
		{ NULL, 0 }, { "", 0 }, { " ", 0 }, { ",", 0 }, { "disability", 1 },
		{ "disability, single_parent", 2 }, { "a,,b", 2 }, { " a , b , c ", 3 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (list_count(cases[i].list) != cases[i].n)
			fail_msg("list_count(%s) = %d, want %d", cases[i].list ? cases[i].list : "NULL",
			    list_count(cases[i].list), cases[i].n);
}

/*
 * With the shipped weights (10 a person, 25 a vulnerability, 1 a day),
 * households rank by points, and days waited close the gap: korpud's
 * score now is points + weight_days_waiting * days.
 */
static void
housing_scores_rank_households(void **state)
{
	static const struct { const char *who; long long size; const char *vulns; long long days; }
	    ranked[] = {	/* highest score first */
		{ "six, one vulnerability, new", 6, "disability", 0 },		/* 85 */
		{ "three, two vulnerabilities, new", 3, "disability, single_parent", 0 },	/* 80 */
		{ "two, none, 45 days", 2, "", 45 },				/* 65 */
		{ "four, none, new", 4, NULL, 0 },				/* 40 */
		{ "one, none, 20 days", 1, "", 20 },				/* 30 */
		{ "one, none, new", 1, "", 0 },					/* 10 */
	};
	long long prev = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(ranked) / sizeof(ranked[0]); i++) {
		long long now = housing_points(ranked[i].size, list_count(ranked[i].vulns), 10, 25) +
		    1 * ranked[i].days;
		if (i > 0 && now >= prev)
			fail_msg("%s scores %lld, not below the one before (%lld)", ranked[i].who, now, prev);
		prev = now;
	}
	assert_int_equal(housing_points(3, 2, 10, 25), 80);
	assert_int_equal(housing_points(3, 2, 0, 0), 0);		/* weights set to 0 */
	assert_int_equal(housing_points(0, 0, 10, 25), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ages_turn_on_the_birthday),
		cmocka_unit_test(a_referral_is_for_the_coming_school_year),
		cmocka_unit_test(grades_follow_the_last_completed_within_the_age),
		cmocka_unit_test(only_urgent_referrals_have_a_window),
		cmocka_unit_test(an_urgent_referral_not_booked_in_its_window_is_escalated),
		cmocka_unit_test(lists_count_their_entries),
		cmocka_unit_test(housing_scores_rank_households),
	};

	return cmocka_run_group_tests_name("plugin-rules", tests, NULL, NULL);
}
