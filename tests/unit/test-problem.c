/*
 * test-problem.c - problem_new() documents (RFC 9457 with korpu's type
 * URNs), http_reason(), and the error list they are built from.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "korpud.h"

/* p must be a problem document with exactly these members. */
static void
assert_problem(const json_t *p, const char *slug, const char *title, int status,
    const char *detail)
{
	char type[128];

	snprintf(type, sizeof(type), "urn:korpu:problem:%s", slug);
	assert_non_null(p);
	assert_true(json_is_object(p));
	assert_string_equal(json_string_value(json_object_get(p, "type")), type);
	assert_string_equal(json_string_value(json_object_get(p, "title")), title);
	assert_true(json_is_integer(json_object_get(p, "status")));
	assert_int_equal(json_integer_value(json_object_get(p, "status")), status);
	assert_string_equal(json_string_value(json_object_get(p, "detail")), detail);
}

static void
problem_without_errors(void **state)
{
	json_t *p = problem_new(404, "there is no area named gardens", NULL);

	assert_problem(p, "not-found", "Not Found", 404, "there is no area named gardens");
	assert_int_equal(json_object_size(p), 4);
	assert_null(json_object_get(p, "errors"));
	json_decref(p);
}

static void
problem_empty_errlist_has_no_errors(void **state)
{
	struct errlist e = { 0 };
	json_t *p = problem_new(422, "nothing wrong after all", &e);

	assert_problem(p, "validation", "Unprocessable Content", 422, "nothing wrong after all");
	assert_null(json_object_get(p, "errors"));
	json_decref(p);
}

static void
problem_detail_defaults_to_reason(void **state)
{
	json_t *p = problem_new(503, NULL, NULL);

	assert_problem(p, "unavailable", "Service Unavailable", 503, "Service Unavailable");
	json_decref(p);
}

static void
problem_with_errors(void **state)
{
	struct errlist e = { 0 };
	const json_t *list, *item;
	json_t *p;

	errlist_add(&e, "fields.grade", "must be between %d and %d", 0, 12);
	errlist_add(&e, "client.birth_date", "must be a date written YYYY-MM-DD");
	errlist_add(&e, "fields.language", "is required");
	p = problem_new(422, "the referral has 3 problems", &e);
	errlist_free(&e);

	assert_problem(p, "validation", "Unprocessable Content", 422, "the referral has 3 problems");
	assert_int_equal(json_object_size(p), 5);
	list = json_object_get(p, "errors");
	assert_true(json_is_array(list));
	assert_int_equal(json_array_size(list), 3);

	item = json_array_get(list, 0);
	assert_int_equal(json_object_size(item), 2);
	assert_string_equal(json_string_value(json_object_get(item, "field")), "fields.grade");
	assert_string_equal(json_string_value(json_object_get(item, "message")),
	    "must be between 0 and 12");
	item = json_array_get(list, 1);
	assert_string_equal(json_string_value(json_object_get(item, "field")), "client.birth_date");
	item = json_array_get(list, 2);
	assert_string_equal(json_string_value(json_object_get(item, "field")), "fields.language");
	assert_string_equal(json_string_value(json_object_get(item, "message")), "is required");
	json_decref(p);
}

static void
problem_types(void **state)
{
	static const struct {
		int status;
		const char *slug, *title;
	} cases[] = {
		{ 400, "bad-request", "Bad Request" },
		{ 401, "unauthorized", "Unauthorized" },
		{ 403, "forbidden", "Forbidden" },
		{ 405, "method-not-allowed", "Method Not Allowed" },
		{ 409, "conflict", "Conflict" },
		{ 413, "body-too-large", "Content Too Large" },
		{ 415, "unsupported-media-type", "Unsupported Media Type" },
		{ 429, "too-many-requests", "Too Many Requests" },
		{ 500, "internal", "Internal Server Error" },
		{ 418, "internal", "Unknown" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *p = problem_new(cases[i].status, "d", NULL);
		assert_problem(p, cases[i].slug, cases[i].title, cases[i].status, "d");
		json_decref(p);
	}
}

static void
http_reason_texts(void **state)
{
	assert_string_equal(http_reason(200), "OK");
	assert_string_equal(http_reason(201), "Created");
	assert_string_equal(http_reason(204), "No Content");
	assert_string_equal(http_reason(404), "Not Found");
	assert_string_equal(http_reason(413), "Content Too Large");
	assert_string_equal(http_reason(422), "Unprocessable Content");
	assert_string_equal(http_reason(503), "Service Unavailable");
	assert_string_equal(http_reason(299), "Unknown");
	assert_string_equal(http_reason(0), "Unknown");
}

static void
errlist_keeps_order(void **state)
{
	struct errlist e = { 0 };
	char want[32];

	/* More than the first allocation holds. */
	for (int i = 0; i < 20; i++)
		errlist_add(&e, i % 2 ? "odd" : "even", "problem %d", i);
	assert_int_equal(e.n, 20);
	for (int i = 0; i < 20; i++) {
		snprintf(want, sizeof(want), "problem %d", i);
		assert_string_equal(e.v[i].where, i % 2 ? "odd" : "even");
		assert_string_equal(e.v[i].message, want);
	}
	errlist_free(&e);
	assert_int_equal(e.n, 0);
	assert_int_equal(e.cap, 0);
	assert_null(e.v);

	/* A freed list is ready for use again. */
	errlist_add(&e, NULL, "no place");
	assert_int_equal(e.n, 1);
	assert_string_equal(e.v[0].where, "");
	assert_string_equal(e.v[0].message, "no place");
	errlist_free(&e);
	errlist_free(&e);
	errlist_add(NULL, "x", "ignored");
}

static char printed[4][128];
static size_t n_printed;

static void
collect(const char *line)
{
	if (n_printed < 4)
		snprintf(printed[n_printed++], sizeof(printed[0]), "%s", line);
}

static void
errlist_print_lines(void **state)
{
	struct errlist e = { 0 };

	errlist_add(&e, "korpud.conf:3", "unknown key %s", "x");
	errlist_add(&e, "", "no place");
	n_printed = 0;
	errlist_print(&e, "korpud: ", collect);
	errlist_free(&e);
	assert_int_equal(n_printed, 2);
	assert_string_equal(printed[0], "korpud: korpud.conf:3: unknown key x");
	assert_string_equal(printed[1], "korpud: no place");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(problem_without_errors),
		cmocka_unit_test(problem_empty_errlist_has_no_errors),
		cmocka_unit_test(problem_detail_defaults_to_reason),
		cmocka_unit_test(problem_with_errors),
		cmocka_unit_test(problem_types),
		cmocka_unit_test(http_reason_texts),
		cmocka_unit_test(errlist_keeps_order),
		cmocka_unit_test(errlist_print_lines),
	};

	return cmocka_run_group_tests_name("problem", tests, NULL, NULL);
}
