/*
 * api-households.c - POST /api/v1/households, GET /api/v1/households/{id}:
 * several clients under one registration case, seen and referred
 * together. All members live in one region (one tag), so the household
 * and every member's household_id are written in one step, and a client
 * is never in two households.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"

#define HOUSEHOLD_MAX 20

static const struct bfield household_spec[] = {
	{ "members", BF_LIST, BF_REQUIRED, ID_MAX, NULL, 0, 0, HOUSEHOLD_MAX },
	{ NULL, 0, 0, 0, NULL, 0, 0, 0 }
};

struct household_create {
	struct request *r;
	char id[ID_MAX];
	char region[40];
	json_t *doc;
	json_t *members;		/* edited copies, in order */
	char **keys;
	size_t n;
};

static void
create_free(struct household_create *h)
{
	for (size_t i = 0; h->keys && i < h->n; i++)
		free(h->keys[i]);
	free(h->keys);
	json_decref(h->doc);
	json_decref(h->members);
	free(h);
}

static void
household_written(const struct tx_result *res, void *arg)
{
	struct household_create *h = arg;
	struct request *r = h->r;

	if (res->status == TX_OK) {
		audit_record(r->srv, r, r->uid, "household.create", "ok",
		    json_pack("{s:s, s:O}", "household_id", h->id, "client_ids",
		    json_object_get(h->doc, "members")));
		reply_json(r, 201, json_incref(h->doc));
	} else if (res->status == TX_CONFLICT) {
		reply_problem(r, 409, "a member changed meanwhile (perhaps joined another "
		    "household); look again and retry");
	} else {
		reply_unavailable(r, "redis: the household could not be stored", 1);
	}
	create_free(h);
}

static void
members_read(struct doc *docs, size_t n, void *arg)
{
	struct household_create *h = arg;
	struct request *r = h->r;
	struct errlist errs = { 0 };
	char tag[48], at[40];
	struct tx *t;
	int k;

	if (docs == NULL) {
		reply_unavailable(r, "redis: the clients cannot be read right now", 1);
		create_free(h);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char where[32];
		snprintf(where, sizeof(where), "members[%zu]", i);
		if (docs[i].doc == NULL)
			errlist_add(&errs, where, "is not a client");
		else if (!json_is_null(json_object_get(docs[i].doc, "household_id")))
			errlist_add(&errs, where, "already belongs to household %s",
			    json_string_value(json_object_get(docs[i].doc, "household_id")));
	}
	if (errs.n) {
		reply_problem_errors(r, 422, "the household cannot be formed", &errs);
		errlist_free(&errs);
		create_free(h);
		return;
	}
	time_format_ms(wall_ms(), at, sizeof(at));
	json_object_set_new(h->doc, "created_at", json_string(at));
	json_object_set_new(h->doc, "created_by", json_string(r->uid));
	snprintf(tag, sizeof(tag), "r:%s", h->region);
	t = tx_new(tag);
	k = tx_key(t, "household:%s", h->id);
	tx_absent(t, k);
	tx_doc(t, k, h->doc);
	for (size_t i = 0; i < n; i++) {
		json_t *m = json_deep_copy(docs[i].doc);
		int km = tx_key(t, "client:%s", json_string_value(json_object_get(m, "id")));
		json_object_set_new(m, "household_id", json_string(h->id));
		json_object_set_new(m, "updated_at", json_string(at));
		json_object_set_new(m, "updated_by", json_string(r->uid));
		tx_rev(t, km, docs[i].rev);
		tx_doc(t, km, m);
		json_decref(m);
	}
	if (tx_run(t, r->srv, household_written, h) < 0) {
		reply_unavailable(r, "redis: the household could not be stored", 1);
		create_free(h);
	}
}

void
api_household_create(struct request *r)
{
	struct errlist errs = { 0 };
	json_t *members = json_object_get(r->body, "members");
	struct household_create *h;
	const char *region = NULL;
	size_t i;
	json_t *v;

	body_check(r->body, household_spec, 0, &errs);
	if (errs.n == 0 && json_array_size(members) < 2)
		errlist_add(&errs, "members", "must name at least two clients");
	json_array_foreach(members, i, v) {
		const char *id = json_string_value(v);
		char where[32];
		snprintf(where, sizeof(where), "members[%zu]", i);
		if (errs.n)
			break;
		if (!id_valid(id, 1) || !conf_region_known(r->srv->conf, id_region(id)))
			errlist_add(&errs, where, "is not a client");
		else if (region && strcmp(region, id_region(id)) != 0)
			errlist_add(&errs, where, "is registered in another region; a household "
			    "lives in one region");
		else
			region = id_region(id);
	}
	if (errs.n) {
		reply_problem_errors(r, 422, "the household cannot be formed", &errs);
		errlist_free(&errs);
		return;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL || id_new(h->id, sizeof(h->id), region) < 0 ||
	    (h->keys = calloc(json_array_size(members), sizeof(char *))) == NULL) {
		if (h)
			create_free(h);
		reply_problem(r, 500, "out of memory");
		return;
	}
	h->r = r;
	snprintf(h->region, sizeof(h->region), "%s", region);
	h->doc = json_pack("{s:s, s:O}", "id", h->id, "members", members);
	json_array_foreach(members, i, v) {
		char key[160];
		key_region(key, sizeof(key), region, "client", json_string_value(v));
		h->keys[h->n++] = strdup(key);
	}
	if (store_fetch(r->srv, (const char *const *)h->keys, h->n, members_read, h) < 0) {
		reply_unavailable(r, "redis: the clients cannot be read right now", 1);
		create_free(h);
	}
}

/* ---- GET /api/v1/households/{id}: the household with its members ---- */

struct household_read {
	struct request *r;
	json_t *doc;
	char **keys;
	size_t n;
};

static void
read_free(struct household_read *h)
{
	for (size_t i = 0; h->keys && i < h->n; i++)
		free(h->keys[i]);
	free(h->keys);
	json_decref(h->doc);
	free(h);
}

static void
household_members_read(struct doc *docs, size_t n, void *arg)
{
	struct household_read *h = arg;
	struct request *r = h->r;
	json_t *clients = json_array();

	if (docs == NULL) {
		json_decref(clients);
		reply_unavailable(r, "redis: the clients cannot be read right now", 1);
		read_free(h);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (docs[i].doc)
			json_array_append(clients, docs[i].doc);
	json_object_set_new(h->doc, "clients", clients);
	audit_record(r->srv, r, r->uid, "household.read", "ok",
	    json_pack("{s:s, s:O}", "household_id", request_param(r, "id"),
	    "client_ids", json_object_get(h->doc, "members")));
	reply_json(r, 200, json_incref(h->doc));
	read_free(h);
}

static void
household_read(struct doc *docs, size_t n, void *arg)
{
	struct household_read *h = arg;
	struct request *r = h->r;
	json_t *members;
	size_t i;
	json_t *v;

	(void)n;
	if (docs == NULL || docs[0].doc == NULL) {
		if (docs == NULL)
			reply_unavailable(r, "redis: the household cannot be read right now", 1);
		else
			reply_problem(r, 404, "no such household");
		read_free(h);
		return;
	}
	h->doc = json_deep_copy(docs[0].doc);
	members = json_object_get(h->doc, "members");
	h->keys = calloc(json_array_size(members) + 1, sizeof(char *));
	json_array_foreach(members, i, v) {
		char key[160];
		const char *id = json_string_value(v);
		key_region(key, sizeof(key), id_region(id), "client", id);
		if (h->keys)
			h->keys[h->n++] = strdup(key);
	}
	if (h->keys == NULL ||
	    store_fetch(r->srv, (const char *const *)h->keys, h->n, household_members_read, h) < 0) {
		reply_unavailable(r, "redis: the clients cannot be read right now", 1);
		read_free(h);
	}
}

void
api_household_get(struct request *r)
{
	const char *id = request_param(r, "id");
	struct household_read *h;
	char key[160];
	const char *keys[] = { key };

	if (!id_valid(id, 1) || !conf_region_known(r->srv->conf, id_region(id))) {
		reply_problem(r, 404, "no such household");
		return;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	h->r = r;
	key_region(key, sizeof(key), id_region(id), "household", id);
	if (store_fetch(r->srv, keys, 1, household_read, h) < 0) {
		reply_unavailable(r, "redis: the household cannot be read right now", 1);
		read_free(h);
	}
}
