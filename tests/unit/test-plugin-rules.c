/*
 * test-plugin-rules.c - the area plugins' rules, table by table: ages at
 * the cut-off boundaries, the school year a referral is for, grade
 * placement.
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ages_turn_on_the_birthday),
		cmocka_unit_test(a_referral_is_for_the_coming_school_year),
		cmocka_unit_test(grades_follow_the_last_completed_within_the_age),
	};

	return cmocka_run_group_tests_name("plugin-rules", tests, NULL, NULL);
}
