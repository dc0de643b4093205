/*
 * api-orgs.c - organizations and their data-sharing agreements:
 * GET/POST /api/v1/organizations, GET /api/v1/organizations/{id},
 * PUT /api/v1/organizations/{id}/agreement.
 *
 * Organizations live under the {dir} tag. directory_name is the value of
 * ldap.organization_attribute that the organization's staff carry in the
 * staff directory: it is how a signed-in provider is tied to its
 * organization (authz.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"
#include "text-fold.h"

static const char *const kinds[] = { "government", "ngo", "agency", NULL };

static const struct bfield org_spec[] = {
	{ "name", BF_STRING, BF_REQUIRED, 200, NULL, 0, 0, 0 },
	{ "kind", BF_STRING, BF_REQUIRED, 0, kinds, 0, 0, 0 },
	{ "region", BF_STRING, BF_REQUIRED, 32, NULL, 0, 0, 0 },
	{ "directory_name", BF_STRING, 0, 128, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, 0, 0, 0 }
};

static const struct bfield agreement_spec[] = {
	{ "valid_from", BF_DATE, BF_REQUIRED, 10, NULL, 0, 0, 0 },
	{ "valid_to", BF_DATE, BF_REQUIRED, 10, NULL, 0, 0, 0 },
	{ "areas", BF_LIST, BF_REQUIRED, 32, NULL, 0, 0, 16 },
	{ NULL, 0, 0, 0, NULL, 0, 0, 0 }
};

/* The key of an organization's name, case-folded: two organizations may
 * not share a name however it is typed. */
static int
name_key(const char *name, char out[65])
{
	char *folded = text_fold(name, strlen(name));
	int rc = folded ? sha256_hex(folded, strlen(folded), out) : -1;

	free(folded);
	return rc;
}

/* The organization of the agreement valid today for area, or why not. */
const char *
org_agreement_problem(const json_t *org, const char *area, const char *today)
{
	const json_t *a = json_object_get(org, "agreement");
	const char *from = json_string_value(json_object_get(a, "valid_from"));
	const char *to = json_string_value(json_object_get(a, "valid_to"));
	size_t i;
	json_t *v;

	if (!json_is_object(a) || from == NULL || to == NULL)
		return "has no data-sharing agreement";
	if (strcmp(today, from) < 0 || strcmp(today, to) > 0)
		return "has no data-sharing agreement valid today";
	json_array_foreach(json_object_get(a, "areas"), i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), area) == 0)
			return NULL;
	return "has a data-sharing agreement that does not cover this area";
}

/* ---- POST /api/v1/organizations ---- */

struct org_create {
	struct request *r;
	json_t *doc;
	int k_name, k_dir;
};

static void
org_created(const struct tx_result *res, void *arg)
{
	struct org_create *c = arg;
	struct request *r = c->r;

	switch (res->status) {
	case TX_OK:
		audit_record(r->srv, r, r->uid, "organization.create", "ok",
		    json_pack("{s:O}", "organization_id", json_object_get(c->doc, "id")));
		reply_json(r, 201, json_incref(c->doc));
		break;
	case TX_CONFLICT:
		reply_problem(r, 409, res->key == c->k_dir ?
		    "directory_name: another organization already has this directory name" :
		    "name: an organization with this name exists");
		break;
	default:
		reply_unavailable(r, "redis: the organization could not be stored", 1);
	}
	json_decref(c->doc);
	free(c);
}

void
api_org_create(struct request *r)
{
	struct errlist errs = { 0 };
	const char *region = json_string_value(json_object_get(r->body, "region"));
	const char *dirname = json_string_value(json_object_get(r->body, "directory_name"));
	char id[ID_MAX], hash[65], at[40];
	struct org_create *c;
	struct tx *t;
	int k_org;

	body_check(r->body, org_spec, 0, &errs);
	if (region && errs.n == 0 && !conf_region_known(r->srv->conf, region))
		errlist_add(&errs, "region", "is not a region of this korpu (see regions in korpud.conf)");
	if (errs.n == 0 && name_key(json_string_value(json_object_get(r->body, "name")), hash) < 0)
		errlist_add(&errs, "name", "is not valid text");
	if (errs.n) {
		reply_problem_errors(r, 422, "the organization is not valid", &errs);
		errlist_free(&errs);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || id_new(id, sizeof(id), NULL) < 0) {
		free(c);
		reply_problem(r, 500, "out of memory");
		return;
	}
	time_format_ms(wall_ms(), at, sizeof(at));
	c->r = r;
	c->doc = json_deep_copy(r->body);
	json_object_set_new(c->doc, "id", json_string(id));
	json_object_set_new(c->doc, "agreement", json_null());
	json_object_set_new(c->doc, "created_at", json_string(at));
	json_object_set_new(c->doc, "created_by", json_string(r->uid));
	if (dirname == NULL)
		json_object_set_new(c->doc, "directory_name", json_null());

	t = tx_new("dir");
	k_org = tx_key(t, "org:%s", id);
	c->k_name = tx_key(t, "orgname:%s", hash);
	tx_absent(t, k_org);
	tx_absent(t, c->k_name);
	c->k_dir = -1;
	if (dirname) {
		c->k_dir = tx_key(t, "orgdir:%s", dirname);
		tx_absent(t, c->k_dir);
		tx_set(t, c->k_dir, id);
	}
	tx_doc(t, k_org, c->doc);
	tx_set(t, c->k_name, id);
	tx_zadd(t, tx_key(t, "orgs"), 0, id);
	if (tx_run(t, r->srv, org_created, c) < 0) {
		json_decref(c->doc);
		free(c);
		reply_unavailable(r, "redis: the organization could not be stored", 1);
	}
}

/* ---- GET /api/v1/organizations ---- */

static void
orgs_listed(struct doc *docs, size_t n, const char *next, void *arg)
{
	reply_page(arg, docs, n, next, "organizations");
}

void
api_org_list(struct request *r)
{
	static const char *const params[] = { "limit", "cursor", NULL };
	const char *cursor;
	long limit;

	if (query_parse(r, params) < 0 || query_list(r, &limit, &cursor) < 0)
		return;
	if (cursor && !id_valid(cursor, 0)) {
		reply_problem(r, 400, "cursor is not one this server gave out");
		return;
	}
	if (store_list(r->srv, "korpu:{dir}:orgs", "korpu:{dir}:org:", cursor, limit, 0,
	    orgs_listed, r) < 0)
		reply_unavailable(r, "redis: organizations cannot be read right now", 1);
}

/* ---- GET /api/v1/organizations/{id} and PUT .../agreement ---- */

static void
org_fetched(struct doc *docs, size_t n, void *arg)
{
	struct request *r = arg;

	(void)n;
	if (docs == NULL)
		reply_unavailable(r, "redis: the organization cannot be read right now", 1);
	else if (docs[0].doc == NULL)
		reply_problem(r, 404, "no such organization");
	else
		reply_json(r, 200, json_incref(docs[0].doc));
}

static int
org_key(struct request *r, char *key, size_t len)
{
	const char *id = request_param(r, "id");

	if (!id_valid(id, 0)) {
		reply_problem(r, 404, "no such organization");
		return -1;
	}
	snprintf(key, len, "korpu:{dir}:org:%s", id);
	return 0;
}

void
api_org_get(struct request *r)
{
	char key[128];
	const char *keys[] = { key };

	if (org_key(r, key, sizeof(key)) < 0)
		return;
	if (store_fetch(r->srv, keys, 1, org_fetched, r) < 0)
		reply_unavailable(r, "redis: the organization cannot be read right now", 1);
}

struct agreement_put {
	struct request *r;
	json_t *doc;
	int tries;
};

static void agreement_read(struct doc *docs, size_t n, void *arg);

static void
agreement_stored(const struct tx_result *res, void *arg)
{
	struct agreement_put *a = arg;
	struct request *r = a->r;

	if (res->status == TX_OK) {
		audit_record(r->srv, r, r->uid, "organization.agreement", "ok",
		    json_pack("{s:O}", "organization_id", json_object_get(a->doc, "id")));
		reply_json(r, 200, a->doc);
		free(a);
		return;
	}
	json_decref(a->doc);
	a->doc = NULL;
	if (res->status == TX_CONFLICT && ++a->tries < 5) {
		/* Changed meanwhile: read it again and reapply. */
		char key[128];
		const char *keys[] = { key };
		snprintf(key, sizeof(key), "korpu:{dir}:org:%s", request_param(r, "id"));
		if (store_fetch(r->srv, keys, 1, agreement_read, a) == 0)
			return;
	}
	reply_unavailable(r, "redis: the agreement could not be stored", 1);
	free(a);
}

static void
agreement_read(struct doc *docs, size_t n, void *arg)
{
	struct agreement_put *a = arg;
	struct request *r = a->r;
	json_t *agreement;
	struct tx *t;
	char at[40];
	int k;

	(void)n;
	if (docs == NULL || docs[0].doc == NULL) {
		if (docs == NULL)
			reply_unavailable(r, "redis: the organization cannot be read right now", 1);
		else
			reply_problem(r, 404, "no such organization");
		free(a);
		return;
	}
	time_format_ms(wall_ms(), at, sizeof(at));
	a->doc = json_deep_copy(docs[0].doc);
	agreement = json_deep_copy(r->body);
	json_object_set_new(agreement, "recorded_by", json_string(r->uid));
	json_object_set_new(agreement, "recorded_at", json_string(at));
	json_object_set_new(a->doc, "agreement", agreement);
	t = tx_new("dir");
	k = tx_key(t, "org:%s", request_param(r, "id"));
	tx_rev(t, k, docs[0].rev);
	tx_doc(t, k, a->doc);
	if (tx_run(t, r->srv, agreement_stored, a) < 0) {
		json_decref(a->doc);
		free(a);
		reply_unavailable(r, "redis: the agreement could not be stored", 1);
	}
}

void
api_org_agreement(struct request *r)
{
	struct errlist errs = { 0 };
	const char *from, *to;
	struct agreement_put *a;
	char key[128];
	const char *keys[] = { key };
	size_t i;
	json_t *v;

	if (org_key(r, key, sizeof(key)) < 0)
		return;
	body_check(r->body, agreement_spec, 0, &errs);
	from = json_string_value(json_object_get(r->body, "valid_from"));
	to = json_string_value(json_object_get(r->body, "valid_to"));
	if (errs.n == 0 && strcmp(from, to) > 0)
		errlist_add(&errs, "valid_to", "must not be before valid_from");
	json_array_foreach(json_object_get(r->body, "areas"), i, v) {
		if (json_is_string(v) && plugins_find(&r->srv->plugins, json_string_value(v)) == NULL) {
			char at[32];
			snprintf(at, sizeof(at), "areas[%zu]", i);
			errlist_add(&errs, at, "is not a service area of this korpu");
		}
	}
	if (errs.n) {
		reply_problem_errors(r, 422, "the agreement is not valid", &errs);
		errlist_free(&errs);
		return;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	a->r = r;
	if (store_fetch(r->srv, keys, 1, agreement_read, a) < 0) {
		free(a);
		reply_unavailable(r, "redis: the organization cannot be read right now", 1);
	}
}
