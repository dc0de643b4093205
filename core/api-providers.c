/*
 * api-providers.c - the service directory's providers: POST (admin),
 * GET /api/v1/providers?area=&region=&language=, GET /api/v1/providers/{id}.
 *
 * A provider lives under its region's tag, next to the bookings it
 * takes; it is listed in the region's indexes by area and by
 * organization, and in the area's load index (open referrals per
 * provider) that default routing reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"

static enum korpu_booking_model
model_of(const struct plugin_set *plugins, const json_t *doc)
{
	const struct plugin *p = plugins_find(plugins,
	    json_string_value(json_object_get(doc, "area")) ?: "");

	return p ? p->desc->booking_model : KORPU_BOOKING_SLOT;
}

/* A slot-model provider sees one client a slot: more places there are
 * more providers (or a session area). Returns the problems added. */
size_t
capacity_check(const struct plugin_set *plugins, const json_t *doc, struct errlist *errs)
{
	const json_t *cap = json_object_get(doc, "capacity");

	if (model_of(plugins, doc) == KORPU_BOOKING_SLOT && cap && json_integer_value(cap) != 1) {
		errlist_add(errs, "capacity", "must be 1: this area books one client a slot");
		return 1;
	}
	return 0;
}

/* Fills in the defaults of a new provider's description. */
static void
provider_defaults(json_t *doc, const struct plugin_set *plugins)
{
	/* Places a slot holds by the area's booking model: a group
	 * (session), else one client at a time. */
	if (!json_object_get(doc, "capacity"))
		json_object_set_new(doc, "capacity", json_integer(
		    model_of(plugins, doc) == KORPU_BOOKING_SESSION ? PROVIDER_SESSION_CAPACITY : 1));
	if (!json_object_get(doc, "address"))
		json_object_set_new(doc, "address", json_string(""));
	if (!json_object_get(doc, "languages"))
		json_object_set_new(doc, "languages", json_array());
	if (!json_object_get(doc, "timezone"))
		json_object_set_new(doc, "timezone", json_string(PROVIDER_TIMEZONE_DEFAULT));
	if (!json_object_get(doc, "slot_minutes"))
		json_object_set_new(doc, "slot_minutes", json_integer(30));
	if (!json_object_get(doc, "hours"))
		json_object_set_new(doc, "hours", json_array());
	if (!json_object_get(doc, "closed"))
		json_object_set_new(doc, "closed", json_array());
	if (!json_object_get(doc, "courses"))
		json_object_set_new(doc, "courses", json_array());
	if (!json_object_get(doc, "seats"))
		json_object_set_new(doc, "seats", json_array());
}

/* Adds the writes that store a new provider to t (tag r:REGION). */
void
provider_tx_create(struct tx *t, const json_t *doc)
{
	const char *id = json_string_value(json_object_get(doc, "id"));
	const char *area = json_string_value(json_object_get(doc, "area"));
	const char *org = json_string_value(json_object_get(doc, "organization"));
	int k = tx_key(t, "provider:%s", id);

	tx_absent(t, k);
	tx_doc(t, k, doc);
	tx_zadd(t, tx_key(t, "providers"), 0, id);
	tx_zadd(t, tx_key(t, "providers:area:%s", area), 0, id);
	tx_zadd(t, tx_key(t, "providers:org:%s", org), 0, id);
	tx_zadd(t, tx_key(t, "load:%s", area), 0, id);
}

/* ---- POST /api/v1/providers ---- */

struct provider_create {
	struct request *r;
	json_t *doc;
};

static void
provider_created(const struct tx_result *res, void *arg)
{
	struct provider_create *c = arg;
	struct request *r = c->r;

	if (res->status == TX_OK) {
		audit_record(r->srv, r, r->uid, "provider.create", "ok",
		    json_pack("{s:O}", "provider_id", json_object_get(c->doc, "id")));
		reply_json(r, 201, json_incref(c->doc));
	} else if (res->status == TX_CONFLICT) {
		reply_problem(r, 409, "a provider with this id exists; send the request again");
	} else {
		reply_unavailable(r, "redis: the provider could not be stored", 1);
	}
	json_decref(c->doc);
	free(c);
}

static void
provider_org_read(struct doc *docs, size_t n, void *arg)
{
	struct provider_create *c = arg;
	struct request *r = c->r;
	const char *region = json_string_value(json_object_get(c->doc, "region"));
	struct tx *t;

	(void)n;
	if (docs == NULL || docs[0].doc == NULL) {
		if (docs == NULL) {
			reply_unavailable(r, "redis: the organization cannot be read right now", 1);
		} else {
			struct errlist errs = { 0 };
			errlist_add(&errs, "organization", "is not an organization of the directory");
			reply_problem_errors(r, 422, "the provider is not valid", &errs);
			errlist_free(&errs);
		}
		json_decref(c->doc);
		free(c);
		return;
	}
	{
		char tag[48];
		snprintf(tag, sizeof(tag), "r:%s", region);
		t = tx_new(tag);
	}
	provider_tx_create(t, c->doc);
	if (tx_run(t, r->srv, provider_created, c) < 0) {
		json_decref(c->doc);
		free(c);
		reply_unavailable(r, "redis: the provider could not be stored", 1);
	}
}

void
api_provider_create(struct request *r)
{
	struct errlist errs = { 0 };
	struct provider_create *c;
	char id[ID_MAX], at[40], key[128];
	const char *keys[] = { key };
	const char *org = json_string_value(json_object_get(r->body, "organization"));

	provider_check(r->body, 0, r->srv->conf, &r->srv->plugins, &errs);
	if (errs.n == 0 && !id_valid(org, 0))
		errlist_add(&errs, "organization", "is not an organization of the directory");
	if (errs.n) {
		reply_problem_errors(r, 422, "the provider is not valid", &errs);
		errlist_free(&errs);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL ||
	    id_new(id, sizeof(id), json_string_value(json_object_get(r->body, "region"))) < 0) {
		free(c);
		reply_problem(r, 500, "out of memory");
		return;
	}
	time_format_ms(wall_ms(), at, sizeof(at));
	c->r = r;
	c->doc = json_deep_copy(r->body);
	json_object_set_new(c->doc, "id", json_string(id));
	json_object_set_new(c->doc, "created_at", json_string(at));
	json_object_set_new(c->doc, "created_by", json_string(r->uid));
	provider_defaults(c->doc, &r->srv->plugins);
	if (courses_check(c->doc, &errs) || capacity_check(&r->srv->plugins, c->doc, &errs)) {
		reply_problem_errors(r, 422, "the provider is not valid", &errs);
		errlist_free(&errs);
		json_decref(c->doc);
		free(c);
		return;
	}
	snprintf(key, sizeof(key), "korpu:{dir}:org:%s", org);
	if (store_fetch(r->srv, keys, 1, provider_org_read, c) < 0) {
		json_decref(c->doc);
		free(c);
		reply_unavailable(r, "redis: the organization cannot be read right now", 1);
	}
}

/* ---- GET /api/v1/providers ---- */

struct provider_filter {
	const char *language;
	const char *org_id;		/* a provider caller: only its own */
};

static int
provider_keep(const json_t *doc, void *arg)
{
	const struct provider_filter *f = arg;
	const char *org = json_string_value(json_object_get(doc, "organization"));
	size_t i;
	json_t *v;

	if (f->org_id && (org == NULL || strcmp(org, f->org_id) != 0))
		return 0;
	if (f->language == NULL)
		return 1;
	json_array_foreach(json_object_get(doc, "languages"), i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), f->language) == 0)
			return 1;
	return 0;
}

struct provider_list {
	struct request *r;
	struct provider_filter f;
};

static void
providers_listed(struct doc *docs, size_t n, const char *next, void *arg)
{
	struct provider_list *l = arg;
	struct request *r = l->r;

	free(l);
	reply_page(r, docs, n, next, "providers");
}

void
api_provider_list(struct request *r)
{
	static const char *const params[] = { "area", "region", "language", "limit", "cursor", NULL };
	const char *area, *region, *cursor;
	struct provider_list *l;
	char index[128];
	long limit;
	int rc;

	if (query_parse(r, params) < 0 || query_list(r, &limit, &cursor) < 0)
		return;
	area = query_get(r, "area");
	region = query_get(r, "region");
	if (area && plugins_find(&r->srv->plugins, area) == NULL) {
		reply_problem(r, 400, "area: not a service area of this korpu");
		return;
	}
	if (region && !conf_region_known(r->srv->conf, region)) {
		reply_problem(r, 400, "region: not a region of this korpu");
		return;
	}
	if (area)
		snprintf(index, sizeof(index), "providers:area:%s", area);
	else if (authz_org_scoped(r))
		snprintf(index, sizeof(index), "providers:org:%s",
		    r->org_id[0] ? r->org_id : "-");
	else
		snprintf(index, sizeof(index), "providers");
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	l->r = r;
	l->f.language = query_get(r, "language");
	l->f.org_id = authz_org_scoped(r) ? r->org_id : NULL;
	rc = store_list_regions(r->srv, index, "provider", region, cursor, limit,
	    provider_keep, &l->f, providers_listed, l);
	if (rc < 0) {
		free(l);
		if (rc == -2)
			reply_problem(r, 400, "cursor is not one this server gave out");
		else
			reply_unavailable(r, "redis: providers cannot be read right now", 1);
	}
}

/* ---- GET /api/v1/providers/{id} ---- */

static void
provider_fetched(struct doc *docs, size_t n, void *arg)
{
	struct request *r = arg;

	(void)n;
	if (docs == NULL)
		reply_unavailable(r, "redis: the provider cannot be read right now", 1);
	else if (docs[0].doc == NULL || !authz_org_visible(r,
	    json_string_value(json_object_get(docs[0].doc, "organization"))))
		reply_problem(r, 404, "no such provider");
	else
		reply_json(r, 200, json_incref(docs[0].doc));
}

/* The document key of a provider id that names a known region, or -1
 * having answered 404. */
int
provider_key(struct request *r, const char *id, char *key, size_t len)
{
	if (!id_valid(id, 1) || !conf_region_known(r->srv->conf, id_region(id))) {
		reply_problem(r, 404, "no such provider");
		return -1;
	}
	key_region(key, len, id_region(id), "provider", id);
	return 0;
}

void
api_provider_get(struct request *r)
{
	char key[160];
	const char *keys[] = { key };

	if (provider_key(r, request_param(r, "id"), key, sizeof(key)) < 0)
		return;
	if (store_fetch(r->srv, keys, 1, provider_fetched, r) < 0)
		reply_unavailable(r, "redis: the provider cannot be read right now", 1);
}

/* ---- PATCH /api/v1/providers/{id} (admin) ---- */

/*
 * Members sent replace the stored ones (area, organization and region
 * stay: they place the provider's keys). Bookings already made stay as
 * they are; the slots offered from now on follow the new hours. More
 * capacity or more hours may free places, so the waitlist is asked.
 */
struct provider_patch {
	struct request *r;
	json_t *after;
	int tries;
};

static void patch_read(struct doc *docs, size_t n, void *arg);

static void
patched(const struct tx_result *res, void *arg)
{
	struct provider_patch *pp = arg;
	struct request *r = pp->r;

	if (res->status == TX_OK) {
		struct server *srv = r->srv;	/* r is gone once answered */
		audit_record(srv, r, r->uid, "provider.update", "ok",
		    json_pack("{s:O}", "provider_id", json_object_get(pp->after, "id")));
		reply_json(r, 200, json_incref(pp->after));
		waitlist_offer(srv, json_string_value(json_object_get(pp->after, "id")));
	} else if (res->status == TX_CONFLICT && ++pp->tries < 5) {
		char key[160];
		const char *keys[] = { key };
		json_decref(pp->after);
		pp->after = NULL;
		key_region(key, sizeof(key), id_region(request_param(r, "id")), "provider",
		    request_param(r, "id"));
		if (store_fetch(r->srv, keys, 1, patch_read, pp) == 0)
			return;
		reply_unavailable(r, "redis: the provider could not be changed", 1);
	} else if (res->status == TX_CONFLICT) {
		reply_problem(r, 409, "the provider is being changed by others right now; retry");
	} else {
		reply_unavailable(r, "redis: the provider could not be changed", 1);
	}
	json_decref(pp->after);
	free(pp);
}

static void
patch_read(struct doc *docs, size_t n, void *arg)
{
	struct provider_patch *pp = arg;
	struct request *r = pp->r;
	struct errlist errs = { 0 };
	const char *key;
	json_t *v;
	char tag[48], at[40];
	struct tx *t;
	int k;

	(void)n;
	if (docs == NULL || docs[0].doc == NULL) {
		if (docs == NULL)
			reply_unavailable(r, "redis: the provider cannot be read right now", 1);
		else
			reply_problem(r, 404, "no such provider");
		free(pp);
		return;
	}
	pp->after = json_deep_copy(docs[0].doc);
	json_object_foreach(r->body, key, v)
		json_object_set(pp->after, key, v);
	/* The whole provider must still make sense (hours against the slot
	 * length, courses against the hours). */
	if (courses_check(pp->after, &errs) || capacity_check(&r->srv->plugins, pp->after, &errs) ||
	    hours_check(json_object_get(pp->after, "hours"),
	    (long)json_integer_value(json_object_get(pp->after, "slot_minutes")), &errs)) {
		reply_problem_errors(r, 422, "the change is not valid", &errs);
		errlist_free(&errs);
		json_decref(pp->after);
		free(pp);
		return;
	}
	time_format_ms(wall_ms(), at, sizeof(at));
	json_object_set_new(pp->after, "updated_at", json_string(at));
	json_object_set_new(pp->after, "updated_by", json_string(r->uid));
	snprintf(tag, sizeof(tag), "r:%s", json_string_value(json_object_get(pp->after, "region")));
	t = tx_new(tag);
	k = tx_key(t, "provider:%s", json_string_value(json_object_get(pp->after, "id")));
	tx_rev(t, k, docs[0].rev);
	tx_doc(t, k, pp->after);
	if (tx_run(t, r->srv, patched, pp) < 0) {
		reply_unavailable(r, "redis: the provider could not be changed", 1);
		json_decref(pp->after);
		free(pp);
	}
}

void
api_provider_patch(struct request *r)
{
	struct errlist errs = { 0 };
	struct provider_patch *pp;
	char key[160];
	const char *keys[] = { key };

	provider_check(r->body, 1, r->srv->conf, &r->srv->plugins, &errs);
	if (errs.n) {
		reply_problem_errors(r, 422, "the change is not valid", &errs);
		errlist_free(&errs);
		return;
	}
	if (provider_key(r, request_param(r, "id"), key, sizeof(key)) < 0)
		return;
	pp = calloc(1, sizeof(*pp));
	if (pp == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	pp->r = r;
	if (store_fetch(r->srv, keys, 1, patch_read, pp) < 0) {
		reply_unavailable(r, "redis: the provider cannot be read right now", 1);
		free(pp);
	}
}
