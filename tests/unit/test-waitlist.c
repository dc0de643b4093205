/*
 * test-waitlist.c - the waitlist's queue key (waitlist-offer.c): ordering
 * by it is ordering by the score that grows as entries wait, at any time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "korpud.h"

#define DAY 86400000LL
#define T0 1800000000000LL	/* some time in 2027 */

/* Score at time now of an entry (points, per_day) made at created. */
static long long
score(long long points, long long per_day, long long created, long long now)
{
	return points + per_day * (now - created) / DAY;
}

static void
key_order_is_score_order_at_any_time(void **state)
{
	static const struct { long long p1, d1, c1, p2, d2, c2; } cases[] = {
		{ 20, 1, T0, 30, 1, T0 + 5 * DAY },		/* more points, later */
		{ 20, 1, T0, 30, 1, T0 + 20 * DAY },		/* waited long enough to lead */
		{ 50, 0, T0, 10, 0, T0 - DAY },		/* no growth: points only */
		{ 10, 2, T0, 10, 2, T0 + 1000 },		/* equal points: who waits longer */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double k1 = waitlist_key(cases[i].p1, cases[i].d1, cases[i].c1);
		double k2 = waitlist_key(cases[i].p2, cases[i].d2, cases[i].c2);
		/* at several later times, the smaller key has the higher score */
		for (long long now = T0 + 30 * DAY; now < T0 + 400 * DAY; now += 37 * DAY) {
			long long s1 = score(cases[i].p1, cases[i].d1, cases[i].c1, now);
			long long s2 = score(cases[i].p2, cases[i].d2, cases[i].c2, now);
			if (s1 != s2 && (k1 < k2) != (s1 > s2))
				fail_msg("case %zu at day %lld: keys %.0f/%.0f but scores %lld/%lld", i,
				    (now - T0) / DAY, k1, k2, s1, s2);
		}
	}
	/* the flip of case 1: the older entry leads after 20 days */
	assert_true(waitlist_key(20, 1, T0) < waitlist_key(30, 1, T0 + 20 * DAY));
	assert_true(waitlist_key(20, 1, T0) > waitlist_key(30, 1, T0 + 5 * DAY));
}

static void
keys_are_exact_in_a_double(void **state)
{
	(void)state;
	/* the largest: a 2100 timestamp times a big per-day weight */
	double k = waitlist_key(0, 1000, 4102444800000LL);
	assert_true(k < 9007199254740992.0);		/* 2^53 */
	assert_true(waitlist_key(1000000, 0, 0) > -9007199254740992.0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(key_order_is_score_order_at_any_time),
		cmocka_unit_test(keys_are_exact_in_a_double),
	};

	return cmocka_run_group_tests_name("waitlist", tests, NULL, NULL);
}
