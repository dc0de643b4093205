/*
 * api-interpreters.c - POST /api/v1/interpreters (admin) and
 * GET /api/v1/interpreters?language=&region=: the interpreter pool.
 * Interpreters are booked with appointments, per language, within their
 * weekly hours (in their time zone); they live under their region's tag,
 * next to the bookings they join, so a booking takes one atomically.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"

static const struct bfield interpreter_spec[] = {
	{ "name", BF_STRING, BF_REQUIRED, 200, NULL, 0, 0, 0 },
	{ "languages", BF_LIST, BF_REQUIRED, 3, NULL, 0, 0, 16 },
	{ "region", BF_STRING, BF_REQUIRED, 32, NULL, 0, 0, 0 },
	{ "timezone", BF_STRING, 0, 64, NULL, 0, 0, 0 },
	{ "hours", BF_ARRAY, BF_REQUIRED, 0, NULL, 0, 0, 0 },
	{ "closed", BF_LIST, 0, 10, NULL, 0, 0, 366 },
	{ NULL, 0, 0, 0, NULL, 0, 0, 0 }
};

struct interpreter_create {
	struct request *r;
	json_t *doc;
};

static void
interpreter_created(const struct tx_result *res, void *arg)
{
	struct interpreter_create *c = arg;
	struct request *r = c->r;

	if (res->status == TX_OK) {
		audit_record(r->srv, r, r->uid, "interpreter.create", "ok",
		    json_pack("{s:O}", "interpreter_id", json_object_get(c->doc, "id")));
		reply_json(r, 201, json_incref(c->doc));
	} else {
		reply_unavailable(r, "redis: the interpreter could not be stored", 1);
	}
	json_decref(c->doc);
	free(c);
}

void
api_interpreter_create(struct request *r)
{
	struct errlist errs = { 0 };
	const char *region = json_string_value(json_object_get(r->body, "region"));
	const char *tz = json_string_value(json_object_get(r->body, "timezone"));
	struct interpreter_create *c;
	char id[ID_MAX], at[40], tag[48];
	struct tx *t;
	size_t i;
	json_t *v;
	int k;

	if (body_check(r->body, interpreter_spec, 0, &errs) == 0) {
		if (!conf_region_known(r->srv->conf, region))
			errlist_add(&errs, "region", "is not a region of this korpu");
		if (tz && !timezone_known(tz))
			errlist_add(&errs, "timezone", "is not an IANA time zone name (e.g. Asia/Baku)");
		if (json_array_size(json_object_get(r->body, "languages")) == 0)
			errlist_add(&errs, "languages", "must name at least one language");
		languages_check(json_object_get(r->body, "languages"), &errs);
		hours_check(json_object_get(r->body, "hours"), 5, &errs);
		json_array_foreach(json_object_get(r->body, "closed"), i, v)
			if (!date_valid(json_string_value(v))) {
				char where[32];
				snprintf(where, sizeof(where), "closed[%zu]", i);
				errlist_add(&errs, where, "must be a date written YYYY-MM-DD");
			}
	}
	if (errs.n) {
		reply_problem_errors(r, 422, "the interpreter is not valid", &errs);
		errlist_free(&errs);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || id_new(id, sizeof(id), region) < 0) {
		free(c);
		reply_problem(r, 500, "out of memory");
		return;
	}
	time_format_ms(wall_ms(), at, sizeof(at));
	c->r = r;
	c->doc = json_deep_copy(r->body);
	json_object_set_new(c->doc, "id", json_string(id));
	if (!tz)
		json_object_set_new(c->doc, "timezone", json_string(PROVIDER_TIMEZONE_DEFAULT));
	if (!json_object_get(c->doc, "closed"))
		json_object_set_new(c->doc, "closed", json_array());
	json_object_set_new(c->doc, "created_at", json_string(at));
	json_object_set_new(c->doc, "created_by", json_string(r->uid));
	snprintf(tag, sizeof(tag), "r:%s", region);
	t = tx_new(tag);
	k = tx_key(t, "interp:%s", id);
	tx_absent(t, k);
	tx_doc(t, k, c->doc);
	tx_zadd(t, tx_key(t, "interps"), 0, id);
	json_array_foreach(json_object_get(c->doc, "languages"), i, v)
		tx_zadd(t, tx_key(t, "interps:lang:%s", json_string_value(v)), 0, id);
	if (tx_run(t, r->srv, interpreter_created, c) < 0) {
		json_decref(c->doc);
		free(c);
		reply_unavailable(r, "redis: the interpreter could not be stored", 1);
	}
}

static void
interpreters_listed(struct doc *docs, size_t n, const char *next, void *arg)
{
	reply_page(arg, docs, n, next, "interpreters");
}

void
api_interpreter_list(struct request *r)
{
	static const char *const params[] = { "language", "region", "limit", "cursor", NULL };
	const char *lang, *region, *cursor;
	char index[64];
	long limit;
	int rc;

	if (query_parse(r, params) < 0 || query_list(r, &limit, &cursor) < 0)
		return;
	lang = query_get(r, "language");
	region = query_get(r, "region");
	if (region && !conf_region_known(r->srv->conf, region)) {
		reply_problem(r, 400, "region: not a region of this korpu");
		return;
	}
	if (lang && (strlen(lang) < 2 || strlen(lang) > 3 ||
	    strspn(lang, "abcdefghijklmnopqrstuvwxyz") != strlen(lang))) {
		reply_problem(r, 400, "language: an ISO 639 code such as ar or fa");
		return;
	}
	if (lang)
		snprintf(index, sizeof(index), "interps:lang:%s", lang);
	else
		snprintf(index, sizeof(index), "interps");
	rc = store_list_regions(r->srv, index, "interp", region, cursor, limit, NULL, NULL,
	    interpreters_listed, r);
	if (rc == -2)
		reply_problem(r, 400, "cursor is not one this server gave out");
	else if (rc < 0)
		reply_unavailable(r, "redis: interpreters cannot be read right now", 1);
}
