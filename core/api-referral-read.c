/*
 * api-referral-read.c - GET /api/v1/referrals/{id} and
 * GET /api/v1/referrals?area=&status=&provider_id=&client_id=.
 *
 * A provider's staff see only referrals to their own organization
 * (others are 404, and are never listed); the client inside a referral
 * is shown as client-view.c allows for the reader and the area.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"

int
referral_key(struct request *r, const char *id, char *key, size_t len)
{
	if (!id_valid(id, 1) || !conf_region_known(r->srv->conf, id_region(id))) {
		reply_problem(r, 404, "no such referral");
		return -1;
	}
	key_region(key, len, id_region(id), "referral", id);
	return 0;
}

int
referral_visible(const struct request *r, const json_t *ref)
{
	return ref && authz_org_visible(r, json_string_value(json_object_get(ref, "organization")));
}

/* ---- one referral, with its client ---- */

struct referral_read {
	struct request *r;
	json_t *doc;
};

static void
referral_client_read(struct doc *docs, size_t n, void *arg)
{
	struct referral_read *rr = arg;
	struct request *r = rr->r;
	const char *area = json_string_value(json_object_get(rr->doc, "area"));

	(void)n;
	if (docs == NULL) {
		reply_unavailable(r, "redis: the client cannot be read right now", 1);
	} else {
		json_object_set_new(rr->doc, "client", docs[0].doc ?
		    client_view(docs[0].doc, authz_org_scoped(r), area) : json_null());
		audit_record(r->srv, r, r->uid, "referral.read", "ok",
		    json_pack("{s:O, s:O}", "referral_id", json_object_get(rr->doc, "id"),
		    "client_id", json_object_get(rr->doc, "client_id")));
		reply_json(r, 200, json_incref(rr->doc));
	}
	json_decref(rr->doc);
	free(rr);
}

static void
referral_fetched(struct doc *docs, size_t n, void *arg)
{
	struct request *r = arg;
	struct referral_read *rr;
	const char *client_id;
	char key[160];
	const char *keys[] = { key };

	(void)n;
	if (docs == NULL) {
		reply_unavailable(r, "redis: the referral cannot be read right now", 1);
		return;
	}
	if (!referral_visible(r, docs[0].doc)) {
		reply_problem(r, 404, "no such referral");
		return;
	}
	client_id = json_string_value(json_object_get(docs[0].doc, "client_id"));
	rr = calloc(1, sizeof(*rr));
	if (rr == NULL || !id_valid(client_id, 1)) {
		free(rr);
		reply_problem(r, 500, "the referral's client is unreadable");
		return;
	}
	rr->r = r;
	rr->doc = json_deep_copy(docs[0].doc);
	key_region(key, sizeof(key), id_region(client_id), "client", client_id);
	if (store_fetch(r->srv, keys, 1, referral_client_read, rr) < 0) {
		json_decref(rr->doc);
		free(rr);
		reply_unavailable(r, "redis: the client cannot be read right now", 1);
	}
}

void
api_referral_get(struct request *r)
{
	char key[160];
	const char *keys[] = { key };

	if (referral_key(r, request_param(r, "id"), key, sizeof(key)) < 0)
		return;
	if (store_fetch(r->srv, keys, 1, referral_fetched, r) < 0)
		reply_unavailable(r, "redis: the referral cannot be read right now", 1);
}

/* ---- lists ---- */

struct referral_filter {
	const char *area, *status, *provider_id, *client_id;
	const char *org_id;		/* a provider's staff: their organization only */
};

static int
eq(const json_t *doc, const char *name, const char *want)
{
	const char *v = json_string_value(json_object_get(doc, name));

	return want == NULL || (v && strcmp(v, want) == 0);
}

static int
referral_keep(const json_t *doc, void *arg)
{
	const struct referral_filter *f = arg;

	return eq(doc, "area", f->area) && eq(doc, "status", f->status) &&
	    eq(doc, "provider_id", f->provider_id) && eq(doc, "client_id", f->client_id) &&
	    eq(doc, "organization", f->org_id);
}

struct referral_list {
	struct request *r;
	struct referral_filter f;
};

static void
referrals_listed(struct doc *docs, size_t n, const char *next, void *arg)
{
	struct referral_list *l = arg;
	struct request *r = l->r;
	json_t *items, *ids;

	free(l);
	if (docs == NULL) {
		reply_unavailable(r, "redis: referrals cannot be read right now", 1);
		return;
	}
	items = json_array();
	ids = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append(items, docs[i].doc);
		json_array_append(ids, json_object_get(docs[i].doc, "id"));
	}
	audit_record(r->srv, r, r->uid, "referral.list", "ok",
	    json_pack("{s:o}", "referral_ids", ids));
	reply_json(r, 200, list_envelope(items, next));
}

void
api_referral_list(struct request *r)
{
	static const char *const params[] = { "area", "status", "provider_id", "client_id",
	    "limit", "cursor", NULL };
	struct referral_filter f = { 0 };
	struct referral_list *l;
	const char *cursor, *region = NULL;
	char index[160];
	long limit;
	int rc;

	if (query_parse(r, params) < 0 || query_list(r, &limit, &cursor) < 0)
		return;
	f.area = query_get(r, "area");
	f.status = query_get(r, "status");
	f.provider_id = query_get(r, "provider_id");
	f.client_id = query_get(r, "client_id");
	if (f.area && plugins_find(&r->srv->plugins, f.area) == NULL) {
		reply_problem(r, 400, "area: not a service area of this korpu");
		return;
	}
	if (f.status && !referral_state_known(f.status)) {
		reply_problem(r, 400, "status: not a referral status");
		return;
	}
	if ((f.provider_id && !id_valid(f.provider_id, 1)) ||
	    (f.client_id && !id_valid(f.client_id, 1))) {
		reply_problem(r, 400, "provider_id and client_id must be ids");
		return;
	}
	if (authz_org_scoped(r))
		f.org_id = r->org_id[0] ? r->org_id : "-";
	/* The narrowest index that holds every answer. */
	if (f.client_id) {
		region = id_region(f.client_id);
		snprintf(index, sizeof(index), "referrals:client:%s", f.client_id);
	} else if (f.provider_id) {
		region = id_region(f.provider_id);
		snprintf(index, sizeof(index), "referrals:provider:%s", f.provider_id);
	} else if (f.org_id) {
		snprintf(index, sizeof(index), "referrals:org:%s", f.org_id);
	} else if (f.area) {
		snprintf(index, sizeof(index), "referrals:area:%s", f.area);
	} else {
		snprintf(index, sizeof(index), "referrals");
	}
	if (region && !conf_region_known(r->srv->conf, region)) {
		reply_json(r, 200, list_envelope(json_array(), NULL));
		return;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	l->r = r;
	l->f = f;
	rc = store_list_regions(r->srv, index, "referral", region, cursor, limit,
	    referral_keep, &l->f, referrals_listed, l);
	if (rc < 0) {
		free(l);
		if (rc == -2)
			reply_problem(r, 400, "cursor is not one this server gave out");
		else
			reply_unavailable(r, "redis: referrals cannot be read right now", 1);
	}
}
