/*
 * test-fields.c - fields_check() of a referral's "fields" object against
 * a field table of our own, and date_valid().
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

static const char *const colours[] = { "red", "green", "blue", NULL };

static const struct korpu_field table[] = {
	{ "name", "Name", KORPU_FIELD_STRING, 1, NULL, 0, 10 },
	{ "note", "Note", KORPU_FIELD_STRING, 0, NULL, 0, 0 },	/* max 1024 */
	{ "age", "Age", KORPU_FIELD_INTEGER, 1, NULL, 0, 120 },
	{ "consent", "Consent", KORPU_FIELD_BOOLEAN, 0, NULL, 0, 0 },
	{ "born", "Born", KORPU_FIELD_DATE, 0, NULL, 0, 0 },
	{ "colour", "Colour", KORPU_FIELD_ENUM, 0, colours, 0, 0 },
	{ NULL, NULL, 0, 0, NULL, 0, 0 }
};

/* Checks the JSON text against the table; errs collects the problems. */
static int
check(const char *text, struct errlist *errs)
{
	json_error_t jerr;
	json_t *fields = json_loads(text, JSON_DECODE_ANY, &jerr);
	int rc;

	if (fields == NULL)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	rc = fields_check(table, fields, errs);
	json_decref(fields);
	return rc;
}

/* text must pass, with no error added. */
static void
assert_valid(const char *text)
{
	struct errlist errs = { 0 };

	if (check(text, &errs) != 0 || errs.n != 0)
		fail_msg("%s refused: %s: %s", text, errs.n ? errs.v[0].where : "?",
		    errs.n ? errs.v[0].message : "no error listed");
	errlist_free(&errs);
}

/* text must fail with exactly one error, at where, containing needle. */
static void
assert_invalid(const char *text, const char *where, const char *needle)
{
	struct errlist errs = { 0 };

	assert_int_equal(check(text, &errs), -1);
	if (errs.n != 1 || strcmp(errs.v[0].where, where) != 0 ||
	    strstr(errs.v[0].message, needle) == NULL)
		fail_msg("%s: want one error %s \"%s\", got %zu, first %s: %s", text,
		    where, needle, errs.n, errs.n ? errs.v[0].where : "-",
		    errs.n ? errs.v[0].message : "-");
	errlist_free(&errs);
}

static void
fields_valid(void **state)
{
	assert_valid("{\"name\": \"Leyla\", \"age\": 30}");
	assert_valid("{\"name\": \"Leyla\", \"age\": 30, \"note\": \"two\\nlines\\tand a tab\","
	    " \"consent\": false, \"born\": \"1994-05-17\", \"colour\": \"green\"}");
}

static void
fields_unknown(void **state)
{
	assert_invalid("{\"name\": \"Leyla\", \"age\": 30, \"shoe_size\": 38}",
	    "fields.shoe_size", "is not a field of this area");
	assert_invalid("{\"name\": \"Leyla\", \"age\": 30, \"Name\": \"x\"}",
	    "fields.Name", "is not a field");
}

static void
fields_missing_required(void **state)
{
	struct errlist errs = { 0 };

	assert_invalid("{\"age\": 30}", "fields.name", "is required");
	assert_invalid("{\"name\": \"Leyla\"}", "fields.age", "is required");
	/* An empty required string is as good as missing. */
	assert_invalid("{\"name\": \"\", \"age\": 30}", "fields.name", "is required");

	assert_int_equal(check("{}", &errs), -1);
	assert_int_equal(errs.n, 2);
	assert_string_equal(errs.v[0].where, "fields.name");
	assert_string_equal(errs.v[1].where, "fields.age");
	errlist_free(&errs);

	/* No "fields" at all: as if empty. */
	assert_int_equal(fields_check(table, NULL, &errs), -1);
	assert_int_equal(errs.n, 2);
	errlist_free(&errs);
}

static void
fields_null_is_missing(void **state)
{
	assert_invalid("{\"name\": null, \"age\": 30}", "fields.name", "is required");
	assert_invalid("{\"name\": \"Leyla\", \"age\": null}", "fields.age", "is required");
	assert_valid("{\"name\": \"Leyla\", \"age\": 30, \"note\": null, \"consent\": null,"
	    " \"born\": null, \"colour\": null}");
}

static void
fields_wrong_types(void **state)
{
	assert_invalid("{\"name\": 5, \"age\": 30}", "fields.name", "must be text");
	assert_invalid("{\"name\": \"L\", \"age\": \"30\"}", "fields.age", "must be a whole number");
	assert_invalid("{\"name\": \"L\", \"age\": 30.0}", "fields.age", "must be a whole number");
	assert_invalid("{\"name\": \"L\", \"age\": true}", "fields.age", "must be a whole number");
	assert_invalid("{\"name\": \"L\", \"age\": 30, \"consent\": \"yes\"}",
	    "fields.consent", "must be true or false");
	assert_invalid("{\"name\": \"L\", \"age\": 30, \"consent\": 1}",
	    "fields.consent", "must be true or false");
	assert_invalid("{\"name\": \"L\", \"age\": 30, \"born\": 20240101}",
	    "fields.born", "YYYY-MM-DD");
	assert_invalid("{\"name\": \"L\", \"age\": 30, \"colour\": 1}",
	    "fields.colour", "must be one of");
	assert_invalid("{\"name\": [\"L\"], \"age\": 30}", "fields.name", "must be text");
}

static void
fields_integer_range(void **state)
{
	assert_valid("{\"name\": \"L\", \"age\": 0}");
	assert_valid("{\"name\": \"L\", \"age\": 120}");
	assert_invalid("{\"name\": \"L\", \"age\": -1}", "fields.age", "must be between 0 and 120");
	assert_invalid("{\"name\": \"L\", \"age\": 121}", "fields.age", "must be between 0 and 120");
	assert_invalid("{\"name\": \"L\", \"age\": 9223372036854775807}", "fields.age",
	    "must be between");
}

/* {"name": "L", "age": 1, FIELD: "<n times x>"} */
static char *
with_string(const char *field, size_t n)
{
	char *text = NULL, *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, 'x', n);
	s[n] = '\0';
	assert_true(asprintf(&text, "{\"name\": \"L\", \"age\": 1, \"%s\": \"%s\"}", field, s) > 0);
	free(s);
	return text;
}

static void
fields_string_length(void **state)
{
	char *text;

	assert_valid("{\"name\": \"0123456789\", \"age\": 1}");
	assert_invalid("{\"name\": \"0123456789A\", \"age\": 1}", "fields.name",
	    "must be at most 10 bytes long");
	/* Bytes, not characters: five two-byte letters are ten bytes. */
	assert_valid("{\"name\": \"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\", \"age\": 1}");
	assert_invalid("{\"name\": \"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9x\", \"age\": 1}",
	    "fields.name", "at most 10 bytes");

	/* max 0 means the default, 1024. */
	text = with_string("note", 1024);
	assert_valid(text);
	free(text);
	text = with_string("note", 1025);
	assert_invalid(text, "fields.note", "must be at most 1024 bytes long");
	free(text);
}

static void
fields_control_characters(void **state)
{
	assert_invalid("{\"name\": \"a\\u0001b\", \"age\": 1}", "fields.name",
	    "must not contain control characters");
	assert_invalid("{\"name\": \"L\", \"age\": 1, \"note\": \"bell\\u0007\"}", "fields.note",
	    "control characters");
	assert_invalid("{\"name\": \"L\", \"age\": 1, \"note\": \"cr\\r\\n\"}", "fields.note",
	    "control characters");
	assert_invalid("{\"name\": \"L\", \"age\": 1, \"note\": \"\\u001b[31m\"}", "fields.note",
	    "control characters");
	assert_invalid("{\"name\": \"L\", \"age\": 1, \"note\": \"del\\u007f\"}", "fields.note",
	    "control characters");
	assert_invalid("{\"name\": \"L\", \"age\": 1, \"note\": \"c1\\u0085\"}", "fields.note",
	    "control characters");
	/* Newlines and tabs belong in free text, and so does any letter. */
	assert_valid("{\"name\": \"L\", \"age\": 1, \"note\": \"a\\nb\\tc\"}");
	assert_valid("{\"name\": \"Ş\u0259hla\", \"age\": 1, \"note\": \"\u0645\u0631\u06cc\u0645 \u041c\u0430\u0440\u0438\u044f\"}");
}

/* A long unknown name is shortened on a character boundary, so the error
 * still becomes valid UTF-8 JSON and is never dropped from the 422. */
static void
fields_long_unknown_name_stays_utf8(void **state)
{
	char text[256];
	struct errlist errs = { 0 };
	json_t *problem, *list;

	snprintf(text, sizeof(text), "{\"%.79s\u00e9\": 1, \"name\": \"L\", \"age\": 1}",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(check(text, &errs), -1);
	assert_int_equal(errs.n, 1);
	problem = problem_new(422, "invalid", &errs);
	list = json_object_get(problem, "errors");
	assert_int_equal(json_array_size(list), 1);
	assert_non_null(json_string_value(json_object_get(json_array_get(list, 0), "field")));
	json_decref(problem);
	errlist_free(&errs);
}

static void
fields_enum_membership(void **state)
{
	assert_valid("{\"name\": \"L\", \"age\": 1, \"colour\": \"red\"}");
	assert_valid("{\"name\": \"L\", \"age\": 1, \"colour\": \"blue\"}");
	assert_invalid("{\"name\": \"L\", \"age\": 1, \"colour\": \"purple\"}", "fields.colour",
	    "must be one of: red, green, blue");
	assert_invalid("{\"name\": \"L\", \"age\": 1, \"colour\": \"Red\"}", "fields.colour",
	    "must be one of: red, green, blue");
	assert_invalid("{\"name\": \"L\", \"age\": 1, \"colour\": \"\"}", "fields.colour",
	    "must be one of");
}

static void
fields_dates(void **state)
{
	assert_valid("{\"name\": \"L\", \"age\": 1, \"born\": \"2024-02-29\"}");
	assert_invalid("{\"name\": \"L\", \"age\": 1, \"born\": \"2023-02-29\"}", "fields.born",
	    "must be a date written YYYY-MM-DD");
	assert_invalid("{\"name\": \"L\", \"age\": 1, \"born\": \"2026-13-01\"}", "fields.born",
	    "YYYY-MM-DD");
	assert_invalid("{\"name\": \"L\", \"age\": 1, \"born\": \"2026-1-01\"}", "fields.born",
	    "YYYY-MM-DD");
}

static void
date_valid_calendar(void **state)
{
	assert_true(date_valid("2024-02-29"));
	assert_true(date_valid("2000-02-29"));
	assert_true(date_valid("2026-12-31"));
	assert_true(date_valid("2026-01-01"));
	assert_true(date_valid("2026-04-30"));
	assert_false(date_valid("2023-02-29"));
	assert_false(date_valid("1900-02-29"));
	assert_false(date_valid("2026-13-01"));
	assert_false(date_valid("2026-00-10"));
	assert_false(date_valid("2026-01-00"));
	assert_false(date_valid("2026-01-32"));
	assert_false(date_valid("2026-04-31"));
	assert_false(date_valid("2026-1-01"));
	assert_false(date_valid("2026-01-1"));
	assert_false(date_valid("26-01-01"));
	assert_false(date_valid("2026/01/01"));
	assert_false(date_valid("2026-01-01T00:00"));
	assert_false(date_valid("2026-0a-01"));
	assert_false(date_valid("+026-01-01"));
	assert_false(date_valid(""));
}

static void
fields_not_an_object(void **state)
{
	assert_invalid("[1, 2]", "fields", "must be an object");
	assert_invalid("\"name\"", "fields", "must be an object");
	assert_invalid("42", "fields", "must be an object");
}

static void
fields_every_problem_reported(void **state)
{
	struct errlist errs = { 0 };

	assert_int_equal(check("{\"age\": 500, \"consent\": \"no\", \"colour\": \"pink\","
	    " \"born\": \"yesterday\", \"extra\": 1}", &errs), -1);
	assert_int_equal(errs.n, 6);
	assert_string_equal(errs.v[0].where, "fields.extra");
	assert_string_equal(errs.v[1].where, "fields.name");
	assert_string_equal(errs.v[2].where, "fields.age");
	assert_string_equal(errs.v[3].where, "fields.consent");
	assert_string_equal(errs.v[4].where, "fields.born");
	assert_string_equal(errs.v[5].where, "fields.colour");
	errlist_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fields_valid),
		cmocka_unit_test(fields_unknown),
		cmocka_unit_test(fields_missing_required),
		cmocka_unit_test(fields_null_is_missing),
		cmocka_unit_test(fields_wrong_types),
		cmocka_unit_test(fields_integer_range),
		cmocka_unit_test(fields_string_length),
		cmocka_unit_test(fields_control_characters),
		cmocka_unit_test(fields_long_unknown_name_stays_utf8),
		cmocka_unit_test(fields_enum_membership),
		cmocka_unit_test(fields_dates),
		cmocka_unit_test(date_valid_calendar),
		cmocka_unit_test(fields_not_an_object),
		cmocka_unit_test(fields_every_problem_reported),
	};

	return cmocka_run_group_tests_name("fields", tests, NULL, NULL);
}
