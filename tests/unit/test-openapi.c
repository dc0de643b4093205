/*
 * test-openapi.c - every route korpud serves (routes[], core/routes.c) is
 * documented in the OpenAPI document it serves (core/openapi.json,
 * compiled in as embedded_openapi_json): paths[pattern][method].
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/http.h>

#include "korpud.h"

/* The OpenAPI operation key of an EVHTTP_REQ_* method. */
static const char *
method_key(int method)
{
	switch (method) {
	case EVHTTP_REQ_GET: return "get";
	case EVHTTP_REQ_POST: return "post";
	case EVHTTP_REQ_HEAD: return "head";
	case EVHTTP_REQ_PUT: return "put";
	case EVHTTP_REQ_DELETE: return "delete";
	case EVHTTP_REQ_OPTIONS: return "options";
	case EVHTTP_REQ_TRACE: return "trace";
	case EVHTTP_REQ_PATCH: return "patch";
	}
	return NULL;
}

static int
setup(void **state)
{
	json_error_t err;
	json_t *doc = json_loads(embedded_openapi_json, JSON_REJECT_DUPLICATES, &err);

	if (doc == NULL) {
		print_error("core/openapi.json:%d:%d: %s\n", err.line, err.column, err.text);
		return -1;
	}
	*state = doc;
	return 0;
}

static int
teardown(void **state)
{
	json_decref(*state);
	return 0;
}

static void
openapi_is_a_document(void **state)
{
	const json_t *doc = *state;

	assert_true(json_is_object(doc));
	assert_true(json_is_object(json_object_get(doc, "paths")));
}

static void
openapi_documents_every_route(void **state)
{
	const json_t *paths = json_object_get(*state, "paths");
	size_t missing = 0;

	assert_true(routes_count > 0);
	for (size_t i = 0; i < routes_count; i++) {
		const char *key = method_key(routes[i].method);
		const json_t *item = json_object_get(paths, routes[i].pattern);

		assert_non_null(key);
		if (!json_is_object(json_object_get(item, key))) {
			print_error("not in core/openapi.json: paths[\"%s\"].%s\n",
			    routes[i].pattern, key);
			missing++;
		}
	}
	assert_int_equal(missing, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(openapi_is_a_document),
		cmocka_unit_test(openapi_documents_every_route),
	};

	return cmocka_run_group_tests_name("openapi", tests, setup, teardown);
}
