/*
 * test-http-body.c - body_parse_json() and body_content_type_is_json():
 * 413 before anything else, then 415, then 400, else a JSON object.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "korpud.h"

#define MAX 1024

/* Parses a NUL-terminated body; on failure err says why. */
static json_t *
parse(const char *ct, const char *body, struct body_error *err)
{
	memset(err, 0, sizeof(*err));
	return body_parse_json(ct, body, strlen(body), MAX, err);
}

/* body must be refused with status, and a detail containing needle. */
static void
assert_refused(const char *ct, const char *body, int status, const char *needle)
{
	struct body_error err;

	assert_null(parse(ct, body, &err));
	assert_int_equal(err.status, status);
	if (strstr(err.detail, needle) == NULL)
		fail_msg("detail \"%s\" lacks \"%s\"", err.detail, needle);
}

static void
body_too_large_first(void **state)
{
	char big[MAX + 2];
	struct body_error err;
	json_t *doc;

	/* Too large wins over a missing type and over bad JSON. */
	memset(big, '{', sizeof(big));
	big[MAX + 1] = '\0';
	assert_refused(NULL, big, 413, "1025 bytes");
	assert_refused("text/plain", big, 413, "at most 1024");
	assert_refused("application/json", big, 413, "1025");

	/* Exactly max is accepted. */
	memset(big, ' ', MAX);
	big[0] = '{';
	big[MAX - 1] = '}';
	big[MAX] = '\0';
	doc = parse("application/json", big, &err);
	assert_non_null(doc);
	json_decref(doc);
}

static void
body_content_type_refused(void **state)
{
	assert_refused(NULL, "{}", 415, "no Content-Type");
	assert_refused("text/plain", "{}", 415, "application/json");
	assert_refused("application/jsonx", "{}", 415, "another media type");
	assert_refused("application/json; charset=latin1", "{}", 415, "application/json");

	assert_false(body_content_type_is_json(NULL));
	assert_false(body_content_type_is_json(""));
	assert_false(body_content_type_is_json("json"));
	assert_false(body_content_type_is_json("text/plain"));
	assert_false(body_content_type_is_json("text/json"));
	assert_false(body_content_type_is_json("application/jsonx"));
	assert_false(body_content_type_is_json("application/xjson"));
	assert_false(body_content_type_is_json("application/"));
	assert_false(body_content_type_is_json("application/+json"));
	assert_false(body_content_type_is_json("application/x-www-form-urlencoded"));
	assert_false(body_content_type_is_json("multipart/form-data+json"));
	assert_false(body_content_type_is_json("application/json; charset=latin1"));
	assert_false(body_content_type_is_json("application/json; charset=utf-16"));
	assert_false(body_content_type_is_json("application/json; charset=utf-8x"));
	assert_false(body_content_type_is_json("application/json; charset=\"iso-8859-1\""));
	assert_false(body_content_type_is_json("application/json; a=b; charset=latin1"));
}

static void
body_content_type_accepted(void **state)
{
	assert_true(body_content_type_is_json("application/json"));
	assert_true(body_content_type_is_json("application/json; charset=utf-8"));
	assert_true(body_content_type_is_json("Application/JSON;charset=\"UTF-8\""));
	assert_true(body_content_type_is_json("application/merge-patch+json"));
	assert_true(body_content_type_is_json("application/problem+json; charset=utf-8"));
	assert_true(body_content_type_is_json(" application/json "));
	assert_true(body_content_type_is_json("application/json;charset=UTF-8; foo=bar"));
}

static void
body_empty(void **state)
{
	struct body_error err;

	assert_null(body_parse_json("application/json", "", 0, MAX, &err));
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.detail, "required"));
}

static void
body_bad_json(void **state)
{
	assert_refused("application/json", "{", 400, "not valid JSON");
	assert_refused("application/json", "{\"a\": 1,\n\n}", 400, "(line 3, column 1)");
	assert_refused("application/json", "{\"a\": tru}", 400, "line 1, column");
	assert_refused("application/json", "{} {}", 400, "not valid JSON");
}

static void
body_not_an_object(void **state)
{
	assert_refused("application/json", "[1, 2]", 400, "must be a JSON object");
	assert_refused("application/json", "[]", 400, "must be a JSON object");
	/* jansson refuses a scalar at the top while parsing: 400 all the same. */
	assert_refused("application/json", "\"text\"", 400, "JSON");
	assert_refused("application/json", "42", 400, "JSON");
	assert_refused("application/json", "null", 400, "JSON");
}

static void
body_duplicate_keys(void **state)
{
	assert_refused("application/json", "{\"a\": 1, \"a\": 2}", 400, "duplicate");
	assert_refused("application/json", "{\"o\": {\"k\": 1, \"k\": 1}}", 400, "duplicate");
}

static void
body_valid_object(void **state)
{
	struct body_error err;
	const char data[] = "{\"area\": \"schools\", \"n\": 3}trailing";
	json_t *doc;

	/* Only len bytes are the body. */
	memset(&err, 0, sizeof(err));
	doc = body_parse_json("application/json; charset=utf-8", data,
	    strlen(data) - strlen("trailing"), MAX, &err);
	assert_non_null(doc);
	assert_int_equal(err.status, 0);
	assert_true(json_is_object(doc));
	assert_string_equal(json_string_value(json_object_get(doc, "area")), "schools");
	assert_int_equal(json_integer_value(json_object_get(doc, "n")), 3);
	json_decref(doc);

	doc = parse("application/merge-patch+json", "{}", &err);
	assert_non_null(doc);
	assert_int_equal(json_object_size(doc), 0);
	json_decref(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(body_too_large_first),
		cmocka_unit_test(body_content_type_refused),
		cmocka_unit_test(body_content_type_accepted),
		cmocka_unit_test(body_empty),
		cmocka_unit_test(body_bad_json),
		cmocka_unit_test(body_not_an_object),
		cmocka_unit_test(body_duplicate_keys),
		cmocka_unit_test(body_valid_object),
	};

	return cmocka_run_group_tests_name("http-body", tests, NULL, NULL);
}
