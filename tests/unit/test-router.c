/*
 * test-router.c - router_match() over a small table of our own,
 * router_allow_header() and router_percent_decode().
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <event2/http.h>

#include "korpud.h"

static void
handler(struct request *r)
{
}

enum {
	R_HEALTH, R_AREAS, R_AREA_NEW, R_AREA, R_CHECK, R_SLOT, R_ICS,
	R_NOTE_PUT, R_NOTE_DELETE, R_COUNT
};

static const struct route table[R_COUNT] = {
	[R_HEALTH] = { EVHTTP_REQ_GET, "/health", handler, 0 },
	[R_AREAS] = { EVHTTP_REQ_GET, "/api/v1/areas", handler, 0 },
	[R_AREA_NEW] = { EVHTTP_REQ_GET, "/api/v1/areas/new", handler, 0 },
	[R_AREA] = { EVHTTP_REQ_GET, "/api/v1/areas/{name}", handler, 0 },
	[R_CHECK] = { EVHTTP_REQ_POST, "/api/v1/areas/{name}/check", handler, ROUTE_JSON_BODY },
	[R_SLOT] = { EVHTTP_REQ_GET, "/api/v1/areas/{name}/slots/{id}", handler, 0 },
	[R_ICS] = { EVHTTP_REQ_GET, "/calendar/{id}.ics", handler, 0 },
	[R_NOTE_PUT] = { EVHTTP_REQ_PUT, "/api/v1/notes/{id}", handler, 0 },
	[R_NOTE_DELETE] = { EVHTTP_REQ_DELETE, "/api/v1/notes/{id}", handler, 0 },
};

static enum route_result
match(int method, const char *path, struct route_match *m)
{
	return router_match(table, R_COUNT, method, path, m);
}

/* path must be found, as route `want`, with n_params parameters. */
static void
assert_found(int method, const char *path, int want, size_t n_params, struct route_match *m)
{
	assert_int_equal(match(method, path, m), ROUTE_FOUND);
	assert_ptr_equal(m->route, &table[want]);
	assert_int_equal(m->n_params, n_params);
}

static void
assert_param(const struct route_match *m, size_t i, const char *name, const char *value)
{
	assert_true(i < m->n_params);
	assert_int_equal(m->params[i].name_len, strlen(name));
	assert_memory_equal(m->params[i].name, name, strlen(name));
	assert_string_equal(m->params[i].value, value);
}

static void
assert_not_found(int method, const char *path)
{
	struct route_match m;

	if (match(method, path, &m) != ROUTE_NOT_FOUND)
		fail_msg("%s matched", path);
	assert_null(m.route);
	assert_int_equal(m.allowed, 0);
}

static void
router_literal(void **state)
{
	struct route_match m;

	assert_found(EVHTTP_REQ_GET, "/health", R_HEALTH, 0, &m);
	assert_found(EVHTTP_REQ_GET, "/api/v1/areas", R_AREAS, 0, &m);
	/* A literal route wins over a {param} one of the same shape. */
	assert_found(EVHTTP_REQ_GET, "/api/v1/areas/new", R_AREA_NEW, 0, &m);
}

static void
router_params(void **state)
{
	struct route_match m;

	assert_found(EVHTTP_REQ_GET, "/api/v1/areas/schools", R_AREA, 1, &m);
	assert_param(&m, 0, "name", "schools");

	assert_found(EVHTTP_REQ_POST, "/api/v1/areas/clinics/check", R_CHECK, 1, &m);
	assert_param(&m, 0, "name", "clinics");
	assert_int_equal(m.route->flags, ROUTE_JSON_BODY);

	assert_found(EVHTTP_REQ_GET, "/api/v1/areas/housing/slots/42", R_SLOT, 2, &m);
	assert_param(&m, 0, "name", "housing");
	assert_param(&m, 1, "id", "42");
}

static void
router_params_percent_decoded(void **state)
{
	struct route_match m;

	assert_found(EVHTTP_REQ_GET, "/api/v1/areas/caf%C3%A9%20bar", R_AREA, 1, &m);
	assert_param(&m, 0, "name", "caf\xc3\xa9 bar");

	assert_found(EVHTTP_REQ_GET, "/api/v1/areas/a%2bb/slots/%7e1", R_SLOT, 2, &m);
	assert_param(&m, 0, "name", "a+b");
	assert_param(&m, 1, "id", "~1");

	/* What cannot be decoded does not match at all. */
	assert_not_found(EVHTTP_REQ_GET, "/api/v1/areas/a%2Fb");
	assert_not_found(EVHTTP_REQ_GET, "/api/v1/areas/a%00b");
	assert_not_found(EVHTTP_REQ_GET, "/api/v1/areas/a%zzb");
	assert_not_found(EVHTTP_REQ_GET, "/api/v1/areas/a%2");
}

static void
router_suffix_param(void **state)
{
	struct route_match m;

	assert_found(EVHTTP_REQ_GET, "/calendar/abc-123.ics", R_ICS, 1, &m);
	assert_param(&m, 0, "id", "abc-123");
	assert_found(EVHTTP_REQ_GET, "/calendar/a.b.ics", R_ICS, 1, &m);
	assert_param(&m, 0, "id", "a.b");
	assert_found(EVHTTP_REQ_GET, "/calendar/x%20y.ics", R_ICS, 1, &m);
	assert_param(&m, 0, "id", "x y");

	assert_not_found(EVHTTP_REQ_GET, "/calendar/.ics");
	assert_not_found(EVHTTP_REQ_GET, "/calendar/abc");
	assert_not_found(EVHTTP_REQ_GET, "/calendar/abc.ical");
	assert_not_found(EVHTTP_REQ_GET, "/calendar/abc.ics.txt");
	assert_not_found(EVHTTP_REQ_GET, "/calendar/ics");
}

static void
router_not_found(void **state)
{
	assert_not_found(EVHTTP_REQ_GET, "/nothing");
	assert_not_found(EVHTTP_REQ_GET, "/");
	assert_not_found(EVHTTP_REQ_GET, "");
	assert_not_found(EVHTTP_REQ_GET, "health");
	assert_not_found(EVHTTP_REQ_GET, "/healthz");
	assert_not_found(EVHTTP_REQ_GET, "/Health");
	/* Trailing slash. */
	assert_not_found(EVHTTP_REQ_GET, "/health/");
	assert_not_found(EVHTTP_REQ_GET, "/api/v1/areas/");
	assert_not_found(EVHTTP_REQ_GET, "/api/v1/areas/schools/");
	/* Empty segment. */
	assert_not_found(EVHTTP_REQ_GET, "//health");
	assert_not_found(EVHTTP_REQ_GET, "/api//v1/areas");
	assert_not_found(EVHTTP_REQ_GET, "/api/v1/areas//check");
	assert_not_found(EVHTTP_REQ_GET, "/api/v1/areas/schools/slots/");
	/* Extra or missing segments. */
	assert_not_found(EVHTTP_REQ_GET, "/health/more");
	assert_not_found(EVHTTP_REQ_GET, "/api/v1/areas/schools/slots/42/more");
	assert_not_found(EVHTTP_REQ_GET, "/api/v1/areas/schools/slots");
	assert_not_found(EVHTTP_REQ_GET, "/api/v1");
}

static void
router_param_too_long(void **state)
{
	char path[300], ok[300];
	struct route_match m;

	/* ROUTE_PARAM_MAX - 1 bytes fit; one more does not. */
	snprintf(ok, sizeof(ok), "/api/v1/areas/%0*d", ROUTE_PARAM_MAX - 1, 7);
	assert_found(EVHTTP_REQ_GET, ok, R_AREA, 1, &m);
	assert_int_equal(strlen(m.params[0].value), ROUTE_PARAM_MAX - 1);
	snprintf(path, sizeof(path), "/api/v1/areas/%0*d", ROUTE_PARAM_MAX, 7);
	assert_not_found(EVHTTP_REQ_GET, path);
}

static void
router_bad_method(void **state)
{
	struct route_match m;
	char allow[64];

	assert_int_equal(match(EVHTTP_REQ_POST, "/health", &m), ROUTE_BAD_METHOD);
	assert_null(m.route);
	assert_int_equal(m.allowed, EVHTTP_REQ_GET);
	router_allow_header(m.allowed, allow, sizeof(allow));
	assert_string_equal(allow, "GET, HEAD");

	assert_int_equal(match(EVHTTP_REQ_GET, "/api/v1/areas/x/check", &m), ROUTE_BAD_METHOD);
	assert_int_equal(m.allowed, EVHTTP_REQ_POST);
	router_allow_header(m.allowed, allow, sizeof(allow));
	assert_string_equal(allow, "POST");

	assert_int_equal(match(EVHTTP_REQ_PATCH, "/api/v1/notes/7", &m), ROUTE_BAD_METHOD);
	assert_int_equal(m.allowed, EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	router_allow_header(m.allowed, allow, sizeof(allow));
	assert_string_equal(allow, "PUT, DELETE");

	/* "new" is both the literal route and a {name}: both are GET. */
	assert_int_equal(match(EVHTTP_REQ_DELETE, "/api/v1/areas/new", &m), ROUTE_BAD_METHOD);
	assert_int_equal(m.allowed, EVHTTP_REQ_GET);
}

static void
router_two_methods_one_path(void **state)
{
	struct route_match m;

	assert_found(EVHTTP_REQ_PUT, "/api/v1/notes/7", R_NOTE_PUT, 1, &m);
	assert_param(&m, 0, "id", "7");
	assert_found(EVHTTP_REQ_DELETE, "/api/v1/notes/8", R_NOTE_DELETE, 1, &m);
	assert_param(&m, 0, "id", "8");
}

static void
router_head_is_get(void **state)
{
	struct route_match m;

	assert_found(EVHTTP_REQ_HEAD, "/health", R_HEALTH, 0, &m);
	assert_found(EVHTTP_REQ_HEAD, "/api/v1/areas/schools", R_AREA, 1, &m);
	assert_param(&m, 0, "name", "schools");
	/* HEAD does not reach routes that are not GET. */
	assert_int_equal(match(EVHTTP_REQ_HEAD, "/api/v1/notes/7", &m), ROUTE_BAD_METHOD);
	assert_int_equal(m.allowed, EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
}

static void
router_allow_header_text(void **state)
{
	char buf[64];

	router_allow_header(0, buf, sizeof(buf));
	assert_string_equal(buf, "");
	router_allow_header(EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE, buf, sizeof(buf));
	assert_string_equal(buf, "GET, HEAD, POST, PUT, PATCH, DELETE");
	router_allow_header(EVHTTP_REQ_DELETE | EVHTTP_REQ_POST, buf, sizeof(buf));
	assert_string_equal(buf, "POST, DELETE");

	/* A short buffer is truncated, never overrun. */
	memset(buf, 'x', sizeof(buf));
	router_allow_header(EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE, buf, 6);
	assert_string_equal(buf, "GET, ");
	for (size_t i = 6; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 'x');
}

/* Decodes in (all of it) into a ROUTE_PARAM_MAX buffer. */
static int
decode(const char *in, char *out)
{
	return router_percent_decode(in, strlen(in), out, ROUTE_PARAM_MAX);
}

static void
router_percent_decode_values(void **state)
{
	char out[ROUTE_PARAM_MAX];

	assert_int_equal(decode("plain", out), 5);
	assert_string_equal(out, "plain");
	assert_int_equal(decode("%41%62c", out), 3);
	assert_string_equal(out, "Abc");
	assert_int_equal(decode("a%2bb%2B", out), 4);
	assert_string_equal(out, "a+b+");
	assert_int_equal(decode("%C3%A9", out), 2);
	assert_string_equal(out, "\xc3\xa9");
	assert_int_equal(decode("", out), 0);
	assert_string_equal(out, "");
	/* Only len bytes are read. */
	assert_int_equal(router_percent_decode("ab%41", 2, out, sizeof(out)), 2);
	assert_string_equal(out, "ab");
}

static void
router_percent_decode_rejects(void **state)
{
	char out[ROUTE_PARAM_MAX];

	assert_int_equal(decode("a%2Fb", out), -1);
	assert_int_equal(decode("a%2fb", out), -1);
	assert_int_equal(decode("%00", out), -1);
	assert_int_equal(decode("%", out), -1);
	assert_int_equal(decode("a%", out), -1);
	assert_int_equal(decode("a%4", out), -1);
	assert_int_equal(decode("%zz", out), -1);
	assert_int_equal(decode("%4g", out), -1);
	assert_int_equal(decode("%g4", out), -1);
	assert_int_equal(decode("% 41", out), -1);
	/* An escape cut off by len is malformed too. */
	assert_int_equal(router_percent_decode("%41", 2, out, sizeof(out)), -1);
}

static void
router_percent_decode_too_long(void **state)
{
	char in[ROUTE_PARAM_MAX + 1], out[ROUTE_PARAM_MAX], small[4];

	memset(in, 'a', sizeof(in));
	in[ROUTE_PARAM_MAX] = '\0';
	assert_int_equal(router_percent_decode(in, ROUTE_PARAM_MAX - 1, out, sizeof(out)),
	    ROUTE_PARAM_MAX - 1);
	assert_int_equal(router_percent_decode(in, ROUTE_PARAM_MAX, out, sizeof(out)), -1);

	/* The limit is on the decoded bytes: three escapes fit in four. */
	assert_int_equal(router_percent_decode("%41%42%43", 9, small, sizeof(small)), 3);
	assert_string_equal(small, "ABC");
	assert_int_equal(router_percent_decode("%41%42%43%44", 12, small, sizeof(small)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(router_literal),
		cmocka_unit_test(router_params),
		cmocka_unit_test(router_params_percent_decoded),
		cmocka_unit_test(router_suffix_param),
		cmocka_unit_test(router_not_found),
		cmocka_unit_test(router_param_too_long),
		cmocka_unit_test(router_bad_method),
		cmocka_unit_test(router_two_methods_one_path),
		cmocka_unit_test(router_head_is_get),
		cmocka_unit_test(router_allow_header_text),
		cmocka_unit_test(router_percent_decode_values),
		cmocka_unit_test(router_percent_decode_rejects),
		cmocka_unit_test(router_percent_decode_too_long),
	};

	return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
