/*
 * test-session.c - the pure parts of sign-in: tokens and finding one in
 * request headers (token.c), SHA-256 (sha256.c), role lists (authz.c),
 * RFC 3339 times (timefmt.c), UTF-8 cutting and log escaping (text.c), and
 * how throttling folds user names (login-throttle.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "korpud.h"

static void
tokens_are_43_base64url_chars_and_differ(void **state)
{
	char a[44], b[44];

	assert_int_equal(token_new(a), 0);
	assert_int_equal(token_new(b), 0);
	assert_int_equal(strlen(a), 43);
	assert_true(token_valid(a));
	assert_true(token_valid(b));
	assert_string_not_equal(a, b);
}

static void
token_valid_refuses_other_shapes(void **state)
{
	char t[44];

	assert_int_equal(token_new(t), 0);
	assert_false(token_valid(NULL));
	assert_false(token_valid(""));
	assert_false(token_valid("abc"));
	t[10] = '+';			/* base64, not base64url */
	assert_false(token_valid(t));
	t[10] = 'A';
	assert_true(token_valid(t));
	assert_false(token_valid("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")); /* 44 */
}

static void
token_from_bearer_then_cookie(void **state)
{
	char t[44], buf[64], auth[80], cookie[120];

	assert_int_equal(token_new(t), 0);
	snprintf(auth, sizeof(auth), "Bearer %s", t);
	snprintf(cookie, sizeof(cookie), "lang=az; korpu_session=%s; theme=dark", t);
	assert_string_equal(session_token_parse(auth, NULL, buf, sizeof(buf)), t);
	snprintf(auth, sizeof(auth), "bearer   %s", t);
	assert_string_equal(session_token_parse(auth, NULL, buf, sizeof(buf)), t);
	assert_string_equal(session_token_parse(NULL, cookie, buf, sizeof(buf)), t);
	/* A malformed bearer is not rescued by a cookie. */
	assert_null(session_token_parse("Bearer nope", cookie, buf, sizeof(buf)));
	assert_null(session_token_parse("Basic dXNlcjpwYXNz", NULL, buf, sizeof(buf)));
	assert_null(session_token_parse(NULL, "korpu_session=short", buf, sizeof(buf)));
	assert_null(session_token_parse(NULL, "xkorpu_session=x; other=1", buf, sizeof(buf)));
	assert_null(session_token_parse(NULL, NULL, buf, sizeof(buf)));
}

static void
sha256_matches_the_standard_vector(void **state)
{
	char out[65];

	assert_int_equal(sha256_hex("abc", 3, out), 0);
	assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(sha256_hex("", 0, out), 0);
	assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void
roles_round_trip(void **state)
{
	json_t *a = authz_roles_json(ROLE_PROVIDER | ROLE_ADMIN);
	char *text = json_dumps(a, JSON_COMPACT);

	assert_string_equal(text, "[\"provider\",\"admin\"]");
	assert_int_equal(authz_roles_from_json(a), ROLE_PROVIDER | ROLE_ADMIN);
	free(text);
	json_decref(a);
	a = json_pack("[s, s, i]", "caseworker", "root", 7);
	assert_int_equal(authz_roles_from_json(a), ROLE_CASEWORKER);
	json_decref(a);
}

static void
times_parse_with_offsets(void **state)
{
	int64_t ms;
	char buf[40];

	assert_int_equal(time_parse("2026-12-01", &ms), 0);
	assert_int_equal(ms, 1796083200000LL);
	assert_int_equal(time_parse("2026-12-01T09:30:00+04:00", &ms), 0);
	assert_int_equal(ms, 1796083200000LL + 5 * 3600000LL + 30 * 60000LL);
	assert_int_equal(time_parse("2026-12-01T05:30:00.250Z", &ms), 0);
	assert_int_equal(ms, 1796083200000LL + 5 * 3600000LL + 30 * 60000LL + 250);
	time_format_ms(ms, buf, sizeof(buf));
	assert_string_equal(buf, "2026-12-01T05:30:00.250Z");
	time_format_s(1796083200, buf, sizeof(buf));
	assert_string_equal(buf, "2026-12-01T00:00:00Z");
}

static void
times_refuse_what_is_not_rfc3339(void **state)
{
	static const char *bad[] = {
		"", "2026", "2026-13-01", "2026-02-30", "2026-12-01 09:30:00Z",
		"2026-12-01T09:30:00", "2026-12-01T24:00:00Z", "2026-12-01T09:30:00+4:00",
		"2026-12-01T09:30:00Zjunk", "2026-12-01T09:30:00.Z", "2026-12-01x",
	};
	int64_t ms;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (time_parse(bad[i], &ms) == 0)
			fail_msg("\"%s\" was accepted", bad[i]);
}

static void
utf8_cuts_on_character_boundaries(void **state)
{
	char out[8];
	const char *az = "\xc9\x99\xc9\x99\xc9\x99\xc9\x99";	/* "əəəə", 8 bytes */

	assert_int_equal(utf8_prefix_len(az, 8, 8), 8);
	assert_int_equal(utf8_prefix_len(az, 8, 7), 6);	/* never half a "ə" */
	assert_int_equal(utf8_prefix_len(az, 8, 1), 0);
	utf8_copy(out, sizeof(out), az, 8);			/* room for 7 bytes */
	assert_string_equal(out, "\xc9\x99\xc9\x99\xc9\x99");
	utf8_copy(out, sizeof(out), "abc", 3);
	assert_string_equal(out, "abc");
}

static void
printable_escapes_control_bytes(void **state)
{
	char out[64];

	text_printable("/a\x1b[31m\bz\\", out, sizeof(out));
	assert_string_equal(out, "/a\\x1b[31m\\x08z\\x5c");
	text_printable("/\xc9\x99", out, sizeof(out));	/* letters stay letters */
	assert_string_equal(out, "/\xc9\x99");
}

static void
throttle_names_fold_case_and_spaces(void **state)
{
	char out[64];

	throttle_normalize("  LMammadova  ", out, sizeof(out));
	assert_string_equal(out, "lmammadova");
	throttle_normalize("a \t  b", out, sizeof(out));
	assert_string_equal(out, "a b");
	throttle_normalize("", out, sizeof(out));
	assert_string_equal(out, "");
}

static void
client_address_behind_trusted_proxies(void **state)
{
	char *proxies[] = { "127.0.0.1", "10.0.0.2" };
	struct strlist trusted = { proxies, 2 }, none = { NULL, 0 };
	char out[64];

	/* Not from a trusted proxy: the header is the client's own claim. */
	addr_client("198.51.100.9", "203.0.113.7", &trusted, out, sizeof(out));
	assert_string_equal(out, "198.51.100.9");
	addr_client("127.0.0.1", "203.0.113.7", &none, out, sizeof(out));
	assert_string_equal(out, "127.0.0.1");
	/* From one: the nearest address that is not a proxy of ours. */
	addr_client("127.0.0.1", "203.0.113.7", &trusted, out, sizeof(out));
	assert_string_equal(out, "203.0.113.7");
	addr_client("127.0.0.1", "203.0.113.7, 10.0.0.2", &trusted, out, sizeof(out));
	assert_string_equal(out, "203.0.113.7");
	addr_client("127.0.0.1", "1.2.3.4,203.0.113.7 ,  10.0.0.2", &trusted, out, sizeof(out));
	assert_string_equal(out, "203.0.113.7");	/* 1.2.3.4 is the client's own claim */
	addr_client("127.0.0.1", "2001:db8::1", &trusted, out, sizeof(out));
	assert_string_equal(out, "2001:db8::1");
	/* Garbage stops the walk where it is. */
	addr_client("127.0.0.1", "evil", &trusted, out, sizeof(out));
	assert_string_equal(out, "127.0.0.1");
	addr_client("127.0.0.1", "203.0.113.7, , 10.0.0.2", &trusted, out, sizeof(out));
	assert_string_equal(out, "10.0.0.2");
	addr_client("127.0.0.1", "", &trusted, out, sizeof(out));
	assert_string_equal(out, "127.0.0.1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tokens_are_43_base64url_chars_and_differ),
		cmocka_unit_test(token_valid_refuses_other_shapes),
		cmocka_unit_test(token_from_bearer_then_cookie),
		cmocka_unit_test(sha256_matches_the_standard_vector),
		cmocka_unit_test(roles_round_trip),
		cmocka_unit_test(times_parse_with_offsets),
		cmocka_unit_test(times_refuse_what_is_not_rfc3339),
		cmocka_unit_test(utf8_cuts_on_character_boundaries),
		cmocka_unit_test(printable_escapes_control_bytes),
		cmocka_unit_test(throttle_names_fold_case_and_spaces),
		cmocka_unit_test(client_address_behind_trusted_proxies),
	};

	return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
