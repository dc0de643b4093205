/*
 * api-referrals.c - POST /api/v1/referrals: a caseworker refers a client
 * to a service area. In order:
 *
 *   1. the body, and the area's field table (fields-check.c);
 *   2. the client: it exists, and consented to this area's service and
 *      to sharing their data with its provider;
 *   3. the area's plugin: its own rules on the fields and the client's
 *      eligibility (422 with every problem at once);
 *   4. the provider: the one named, or the one routing picks (the
 *      plugin's route hook, else the provider of the area in the client's
 *      region with the fewest open referrals);
 *   5. the provider's organization has a data-sharing agreement valid
 *      today for the area (409 otherwise: nothing is queued);
 *   6. one atomic write: the referral, its indexes, the provider's load,
 *      the answer deadline and the partner event; it also checks that the
 *      client's record (its consent) did not change since step 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "korpud.h"
#include "plugin-host.h"

#define ROUTE_CANDIDATES ROUTE_CANDIDATES_MAX

static const char *const priorities[] = { "routine", "urgent", NULL };

static const struct bfield referral_spec[] = {
	{ "client_id", BF_STRING, BF_REQUIRED, ID_MAX, NULL, 0, 0, 0 },
	{ "area", BF_STRING, BF_REQUIRED, 32, NULL, 0, 0, 0 },
	{ "provider_id", BF_STRING, BF_NULLABLE, ID_MAX, NULL, 0, 0, 0 },
	{ "priority", BF_STRING, 0, 10, priorities, 0, 0, 0 },
	{ "reason", BF_TEXT, BF_REQUIRED, 2000, NULL, 0, 0, 0 },
	{ "fields", BF_OBJECT, 0, 0, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, 0, 0, 0 }
};

static const struct bfield household_referral_spec[] = {
	{ "household_id", BF_STRING, BF_REQUIRED, ID_MAX, NULL, 0, 0, 0 },
	{ "area", BF_STRING, BF_REQUIRED, 32, NULL, 0, 0, 0 },
	{ "provider_id", BF_STRING, BF_NULLABLE, ID_MAX, NULL, 0, 0, 0 },
	{ "priority", BF_STRING, 0, 10, priorities, 0, 0, 0 },
	{ "reason", BF_TEXT, BF_REQUIRED, 2000, NULL, 0, 0, 0 },
	{ "fields", BF_OBJECT, 0, 0, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, 0, 0, 0 }
};

struct referral_create {
	struct request *r;
	const struct plugin *plugin;
	int household;			/* POST /api/v1/referrals/household */
	json_t *clients;		/* the client, or the household's members */
	long long *revs;		/* each client's revision as read */
	json_t *client;			/* the first of clients (routing, audit) */
	json_t *docs;			/* the referrals written */
	json_t *provider;
	char region[40];
	char provider_id[ID_MAX];
	long long escalate_s;		/* the area's escalation time, or 0 */
	json_t *candidates;		/* default routing: provider docs, least loaded first */
	size_t candidate;
	long route_offset;		/* default routing: where this batch starts */
	int route_more;			/* default routing: the batch was full */
	char **keys;
	size_t nkeys;
};

static void route_default(struct referral_create *c);

static void
keys_free(struct referral_create *c)
{
	for (size_t i = 0; c->keys && i < c->nkeys; i++)
		free(c->keys[i]);
	free(c->keys);
	c->keys = NULL;
	c->nkeys = 0;
}

static void
create_free(struct referral_create *c)
{
	keys_free(c);
	json_decref(c->clients);
	free(c->revs);
	json_decref(c->docs);
	json_decref(c->provider);
	json_decref(c->candidates);
	free(c);
}

static void
fail_unavailable(struct referral_create *c, const char *what)
{
	reply_unavailable(c->r, what, 1);
	create_free(c);
}

static void
fail_422(struct referral_create *c, const char *field, const char *message)
{
	struct errlist errs = { 0 };

	errlist_add(&errs, field, "%s", message);
	reply_problem_errors(c->r, 422, "the referral cannot be made", &errs);
	errlist_free(&errs);
	create_free(c);
}

static void
today(char out[11])
{
	char at[40];

	time_format_ms(wall_ms(), at, sizeof(at));
	snprintf(out, 11, "%.10s", at);
}

/* ---- 6. the write ---- */

static void
referral_written(const struct tx_result *res, void *arg)
{
	struct referral_create *c = arg;
	struct request *r = c->r;

	if (res->status == TX_OK) {
		size_t i;
		json_t *d;
		json_array_foreach(c->docs, i, d)
			audit_record(r->srv, r, r->uid, "referral.create", "ok",
			    json_pack("{s:O, s:O}", "referral_id", json_object_get(d, "id"),
			    "client_id", json_object_get(d, "client_id")));
		events_kick(r->srv);
		if (c->household)
			reply_json(r, 201, json_pack("{s:O}", "referrals", c->docs));
		else
			reply_json(r, 201, json_incref(json_array_get(c->docs, 0)));
	} else if (res->status == TX_CONFLICT) {
		reply_problem(r, 409, "a client's record changed while the referral was made "
		    "(perhaps their consent); look again and retry");
	} else {
		reply_unavailable(r, "redis: the referral could not be stored", 1);
	}
	create_free(c);
}

/* One referral of client (read at revision rev) into t. */
static json_t *
referral_add(struct referral_create *c, struct tx *t, const json_t *client, long long rev,
    int64_t now)
{
	struct request *r = c->r;
	const char *area = c->plugin->name;
	const char *client_id = json_string_value(json_object_get(client, "id"));
	const char *org = json_string_value(json_object_get(c->provider, "organization"));
	const json_t *hh = json_object_get(client, "household_id");
	const json_t *fields = json_object_get(r->body, "fields");
	int64_t due = now + conf_answer_deadline_hours(r->srv->conf, area) * 3600 * 1000;
	char id[ID_MAX], at[40], deadline[40];
	json_t *doc;
	int k;

	if (id_new(id, sizeof(id), c->region) < 0)
		return NULL;
	time_format_ms(now, at, sizeof(at));
	time_format_ms(due, deadline, sizeof(deadline));
	doc = json_pack("{s:s, s:s, s:O, s:s, s:s, s:s, s:s, s:s, s:O, s:o, s:s,"
	    " s:s, s:s, s:s, s:s, s:[{s:n, s:s, s:s, s:s, s:n}]}",
	    "id", id, "client_id", client_id, "household_id", hh ? hh : json_null(),
	    "area", area, "provider_id", c->provider_id, "organization", org ? org : "",
	    "region", c->region,
	    "priority", json_string_value(json_object_get(r->body, "priority")) ?: "routine",
	    "reason", json_object_get(r->body, "reason"),
	    "fields", fields ? json_deep_copy(fields) : json_object(),
	    "status", "sent", "created_at", at, "created_by", r->uid, "updated_at", at,
	    "deadline_at", deadline,
	    "history", "from", "to", "sent", "at", at, "actor", r->uid, "note");
	if (doc == NULL)
		return NULL;
	k = tx_key(t, "referral:%s", id);
	tx_rev(t, tx_key(t, "client:%s", client_id), rev);
	tx_absent(t, k);
	tx_doc(t, k, doc);
	tx_zadd(t, tx_key(t, "referrals"), 0, id);
	tx_zadd(t, tx_key(t, "referrals:client:%s", client_id), 0, id);
	tx_zadd(t, tx_key(t, "referrals:provider:%s", c->provider_id), 0, id);
	tx_zadd(t, tx_key(t, "referrals:org:%s", org ? org : ""), 0, id);
	tx_zadd(t, tx_key(t, "referrals:area:%s", area), 0, id);
	tx_zincrby(t, tx_key(t, "load:%s", area), 1, c->provider_id);
	tx_zadd(t, tx_key(t, "deadlines"), (double)due, id);
	stats_referral_made(t, doc);
	if (c->escalate_s > 0) {
		char job[ID_MAX + 16];
		snprintf(job, sizeof(job), "escalate:%s", id);
		tx_zadd(t, tx_key(t, "jobs"), (double)(now + c->escalate_s * 1000), job);
	}
	tx_event(t, "referral.sent", id, area, c->provider_id);
	return doc;
}

/* Every referral (one per client) in one transaction: all or none. */
static void
referral_write(struct referral_create *c)
{
	int64_t now = wall_ms();
	char tag[48];
	struct tx *t;
	size_t i;
	json_t *client;

	snprintf(tag, sizeof(tag), "r:%s", c->region);
	t = tx_new(tag);
	c->docs = json_array();
	json_array_foreach(c->clients, i, client) {
		json_t *doc = referral_add(c, t, client, c->revs[i], now);
		if (doc == NULL) {
			tx_free(t);
			fail_unavailable(c, "out of memory");
			return;
		}
		json_array_append_new(c->docs, doc);
	}
	if (tx_run(t, c->r->srv, referral_written, c) < 0)
		fail_unavailable(c, "redis: the referral could not be stored");
}

/* ---- 4 and 5. the provider and its organization's agreement ---- */

static void
org_read(struct doc *docs, size_t n, void *arg)
{
	struct referral_create *c = arg;
	const char *why;
	char day[11], msg[200];

	(void)n;
	keys_free(c);
	if (docs == NULL) {
		fail_unavailable(c, "redis: the provider's organization cannot be read right now");
		return;
	}
	today(day);
	why = docs[0].doc ? org_agreement_problem(docs[0].doc, c->plugin->name, day) :
	    "does not exist";
	if (why) {
		snprintf(msg, sizeof(msg), "provider_id: the provider's organization %s; "
		    "no referral or client data is sent to it", why);
		audit_record(c->r->srv, c->r, c->r->uid, "referral.create", "no_agreement",
		    json_pack("{s:O, s:s}", "client_id", json_object_get(c->client, "id"),
		    "provider_id", c->provider_id));
		reply_problem(c->r, 409, msg);
		create_free(c);
		return;
	}
	referral_write(c);
}

static void
provider_read(struct doc *docs, size_t n, void *arg)
{
	struct referral_create *c = arg;
	const char *area, *region, *org;
	char key[160];
	const char *keys[] = { key };

	(void)n;
	keys_free(c);
	if (docs == NULL) {
		fail_unavailable(c, "redis: the provider cannot be read right now");
		return;
	}
	if (docs[0].doc == NULL) {
		fail_422(c, "provider_id", "is not a provider of the directory");
		return;
	}
	area = json_string_value(json_object_get(docs[0].doc, "area"));
	region = json_string_value(json_object_get(docs[0].doc, "region"));
	org = json_string_value(json_object_get(docs[0].doc, "organization"));
	if (area == NULL || strcmp(area, c->plugin->name) != 0) {
		fail_422(c, "provider_id", "provides another service area");
		return;
	}
	if (region == NULL || strcmp(region, c->region) != 0) {
		fail_422(c, "provider_id", "is in another region than the client; clients are "
		    "referred within their region");
		return;
	}
	c->provider = json_incref(docs[0].doc);
	snprintf(key, sizeof(key), "korpu:{dir}:org:%s", org ? org : "-");
	if (store_fetch(c->r->srv, keys, 1, org_read, c) < 0)
		fail_unavailable(c, "redis: the provider's organization cannot be read right now");
}

static void
provider_chosen(struct referral_create *c, const char *provider_id)
{
	char key[160];
	const char *keys[] = { key };

	if (provider_id == NULL || !id_valid(provider_id, 1) ||
	    strcmp(id_region(provider_id), c->region) != 0) {
		if (provider_id)
			fail_422(c, "provider_id", "is not a provider in the client's region");
		else
			fail_422(c, "provider_id", "no provider of this area in the client's region "
			    "can take the referral; name one");
		return;
	}
	snprintf(c->provider_id, sizeof(c->provider_id), "%s", provider_id);
	key_region(key, sizeof(key), c->region, "provider", provider_id);
	if (store_fetch(c->r->srv, keys, 1, provider_read, c) < 0)
		fail_unavailable(c, "redis: the provider cannot be read right now");
}

/* Default routing: the least loaded provider whose organization has an
 * agreement for the area. Candidates are read ROUTE_CANDIDATES at a time,
 * their organizations together; when none of a batch qualifies, the next
 * batch is read, so many providers without an agreement never hide one
 * with an agreement. */
/* The soonest free slot decided; none in the horizon: the least loaded. */
static void
soonest_chosen(const char *provider_id, int failed, void *arg)
{
	struct referral_create *c = arg;

	if (failed) {
		fail_unavailable(c, "redis: providers cannot be read right now");
		return;
	}
	provider_chosen(c, provider_id ? provider_id :
	    json_string_value(json_object_get(json_array_get(c->candidates, 0), "id")));
}

static void
candidate_orgs_read(struct doc *docs, size_t n, void *arg)
{
	struct referral_create *c = arg;
	char day[11];

	keys_free(c);
	if (docs == NULL) {
		fail_unavailable(c, "redis: providers cannot be read right now");
		return;
	}
	today(day);
	if (PLUGIN_FIELD(c->plugin->desc, flags, 0u) & KORPU_AREA_ROUTE_SOONEST) {
		json_t *eligible = json_array();
		for (size_t i = 0; i < n; i++)
			if (docs[i].doc && org_agreement_problem(docs[i].doc, c->plugin->name, day) == NULL)
				json_array_append(eligible, json_array_get(c->candidates, i));
		if (json_array_size(eligible) > 0) {
			json_decref(c->candidates);
			c->candidates = eligible;	/* in least-loaded order: ties go to the first */
			if (route_soonest(c->r->srv, eligible, soonest_chosen, c) < 0)
				fail_unavailable(c, "redis: providers cannot be read right now");
			return;
		}
		json_decref(eligible);
	}
	for (size_t i = 0; i < n; i++) {
		if (docs[i].doc && org_agreement_problem(docs[i].doc, c->plugin->name, day) == NULL) {
			json_t *p = json_array_get(c->candidates, i);
			provider_chosen(c, json_string_value(json_object_get(p, "id")));
			return;
		}
	}
	if (c->route_more) {
		/* None of these: read the next least loaded ones. */
		json_decref(c->candidates);
		c->candidates = NULL;
		c->route_offset += ROUTE_CANDIDATES;
		route_default(c);
		return;
	}
	audit_record(c->r->srv, c->r, c->r->uid, "referral.create", "no_agreement",
	    json_pack("{s:O}", "client_id", json_object_get(c->client, "id")));
	reply_problem(c->r, 409, "no provider of this area in the client's region belongs to an "
	    "organization with a data-sharing agreement valid today");
	create_free(c);
}

static void
candidates_read(struct doc *docs, size_t n, void *arg)
{
	struct referral_create *c = arg;

	keys_free(c);
	if (docs == NULL) {
		fail_unavailable(c, "redis: providers cannot be read right now");
		return;
	}
	c->candidates = json_array();
	c->keys = calloc(n + 1, sizeof(char *));
	for (size_t i = 0; c->keys && i < n; i++) {
		const char *org = json_string_value(json_object_get(docs[i].doc, "organization"));
		if (docs[i].doc == NULL || org == NULL)
			continue;
		json_array_append(c->candidates, docs[i].doc);
		if (asprintf(&c->keys[c->nkeys], "korpu:{dir}:org:%s", org) < 0)
			break;
		c->nkeys++;
	}
	if (c->keys == NULL || c->nkeys != json_array_size(c->candidates)) {
		fail_unavailable(c, "out of memory");
		return;
	}
	if (store_fetch(c->r->srv, (const char *const *)c->keys, c->nkeys,
	    candidate_orgs_read, c) < 0)
		fail_unavailable(c, "redis: providers cannot be read right now");
}

static void
least_loaded(redisReply *reply, void *arg)
{
	struct referral_create *c = arg;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
		fail_unavailable(c, "redis: providers cannot be read right now");
		return;
	}
	c->route_more = reply->elements == ROUTE_CANDIDATES;
	c->keys = calloc(reply->elements + 1, sizeof(char *));
	for (size_t i = 0; c->keys && i < reply->elements; i++) {
		char key[160];
		key_region(key, sizeof(key), c->region, "provider", reply->element[i]->str);
		if ((c->keys[c->nkeys] = strdup(key)) == NULL)
			break;
		c->nkeys++;
	}
	if (c->keys == NULL || c->nkeys != reply->elements) {
		fail_unavailable(c, "out of memory");
		return;
	}
	if (store_fetch(c->r->srv, (const char *const *)c->keys, c->nkeys, candidates_read, c) < 0)
		fail_unavailable(c, "redis: providers cannot be read right now");
}

static void
route_default(struct referral_create *c)
{
	char key[128], offset[24], count[16];

	snprintf(key, sizeof(key), "korpu:{r:%s}:load:%s", c->region, c->plugin->name);
	snprintf(offset, sizeof(offset), "%ld", c->route_offset);
	snprintf(count, sizeof(count), "%d", ROUTE_CANDIDATES);
	{
		const char *argv[] = { "ZRANGEBYSCORE", key, "-inf", "+inf", "LIMIT", offset, count };
		if (redis_call(c->r->srv->redis, least_loaded, c, 7, argv, NULL) < 0)
			fail_unavailable(c, "redis: providers cannot be read right now");
	}
}

static void
plugin_routed(void *arg, const char *provider_id)
{
	struct referral_create *c = arg;

	if (provider_id == NULL)
		route_default(c);
	else
		provider_chosen(c, provider_id);
}

/* ---- 2 and 3. the clients, consent, the area's rules ---- */

/* Adds errs's problems to all, prefixed with the household member's
 * place ("members[1].consent.share") when several clients are referred. */
static void
merge_errors(struct referral_create *c, size_t i, struct errlist *errs, struct errlist *all)
{
	for (size_t k = 0; k < errs->n; k++) {
		char where[160];
		if (c->household)
			snprintf(where, sizeof(where), "members[%zu].%s", i, errs->v[k].where);
		else
			snprintf(where, sizeof(where), "%s", errs->v[k].where);
		errlist_add(all, where, "%s", errs->v[k].message);
	}
	errlist_free(errs);
}

/* Consent and the area's plugin, for one client. -1: the plugin failed. */
static int
client_check_referral(struct referral_create *c, const json_t *client, struct errlist *errs)
{
	struct request *r = c->r;
	const char *area = c->plugin->name;
	const json_t *consent = json_object_get(json_object_get(client, "consent"), area);
	int (*validate)(void *, const struct korpu_referral *, struct korpu_errors *);
	const json_t *fields = json_object_get(r->body, "fields");
	struct korpu_referral ref;
	int rc = 0;

	if (!json_is_true(json_object_get(consent, "service")))
		errlist_add(errs, "consent.service", "the client has not consented to receive "
		    "this area's services; record their consent first");
	if (!json_is_true(json_object_get(consent, "share")))
		errlist_add(errs, "consent.share", "the client has not consented to share their "
		    "data with this area's providers; record their consent first");
	if (errs->n)
		return 0;
	/* The plugin sees the referral with the client as its provider
	 * would: never more than the area needs. */
	ref.doc = json_pack("{s:o, s:o, s:s, s:s}",
	    "fields", fields ? json_deep_copy(fields) : json_object(),
	    "client", client_view(client, 1, area), "area", area,
	    "priority", json_string_value(json_object_get(r->body, "priority")) ?: "routine");
	validate = PLUGIN_HOOK(c->plugin->desc, validate);
	if (validate && validate(c->plugin->state, &ref, (struct korpu_errors *)errs) < 0)
		rc = -1;
	json_decref((json_t *)ref.doc);
	return rc;
}

/* How long the area lets the referral wait for an appointment before
 * supervisors are told (ABI 1.1), asked with the first client. */
static void
escalation_ask(struct referral_create *c)
{
	long long (*ask)(void *, const struct korpu_referral *) =
	    PLUGIN_HOOK(c->plugin->desc, escalate_after);
	const json_t *fields = json_object_get(c->r->body, "fields");
	struct korpu_referral ref;

	if (ask == NULL)
		return;
	ref.doc = json_pack("{s:o, s:o, s:s, s:s}",
	    "fields", fields ? json_deep_copy(fields) : json_object(),
	    "client", client_view(c->client, 1, c->plugin->name), "area", c->plugin->name,
	    "priority", json_string_value(json_object_get(c->r->body, "priority")) ?: "routine");
	c->escalate_s = ask(c->plugin->state, &ref);
	json_decref((json_t *)ref.doc);
}

static void
clients_read(struct doc *docs, size_t n, void *arg)
{
	struct referral_create *c = arg;
	struct request *r = c->r;
	const char *area = c->plugin->name;
	struct errlist all = { 0 };
	struct korpu_referral ref;
	const json_t *fields;

	keys_free(c);
	if (docs == NULL) {
		fail_unavailable(c, "redis: the client cannot be read right now");
		return;
	}
	c->clients = json_array();
	c->revs = calloc(n + 1, sizeof(*c->revs));
	if (c->revs == NULL) {
		fail_unavailable(c, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct errlist errs = { 0 };
		if (docs[i].doc == NULL) {
			errlist_add(&errs, c->household ? "id" : "client_id", "is not a client");
		} else if (client_check_referral(c, docs[i].doc, &errs) < 0) {
			errlist_free(&errs);
			errlist_free(&all);
			reply_problem(r, 500, "the area's plugin failed to check the referral");
			create_free(c);
			return;
		}
		merge_errors(c, i, &errs, &all);
		if (docs[i].doc) {
			json_array_append(c->clients, docs[i].doc);
			c->revs[json_array_size(c->clients) - 1] = docs[i].rev;
		}
	}
	if (all.n) {
		reply_problem_errors(r, 422, "the referral cannot be made", &all);
		errlist_free(&all);
		create_free(c);
		return;
	}
	c->client = json_array_get(c->clients, 0);
	escalation_ask(c);
	if (json_string_value(json_object_get(r->body, "provider_id"))) {
		provider_chosen(c, json_string_value(json_object_get(r->body, "provider_id")));
		return;
	}
	/* Routing decides by the first client (a household is seen together). */
	fields = json_object_get(r->body, "fields");
	ref.doc = json_pack("{s:o, s:o, s:s, s:s}",
	    "fields", fields ? json_deep_copy(fields) : json_object(),
	    "client", client_view(c->client, 1, area), "area", area,
	    "priority", json_string_value(json_object_get(r->body, "priority")) ?: "routine");
	if (route_ask(c->r->srv, c->plugin, &ref, plugin_routed, c) < 0)
		route_default(c);
	json_decref((json_t *)ref.doc);
}

/* The household's members, in its order. */
static void
household_read(struct doc *docs, size_t n, void *arg)
{
	struct referral_create *c = arg;
	const json_t *members;
	size_t i;
	json_t *v;

	(void)n;
	keys_free(c);
	if (docs == NULL) {
		fail_unavailable(c, "redis: the household cannot be read right now");
		return;
	}
	if (docs[0].doc == NULL) {
		fail_422(c, "household_id", "is not a household");
		return;
	}
	members = json_object_get(docs[0].doc, "members");
	c->keys = calloc(json_array_size(members) + 1, sizeof(char *));
	json_array_foreach(members, i, v) {
		char key[160];
		key_region(key, sizeof(key), c->region, "client", json_string_value(v));
		if (c->keys == NULL || (c->keys[c->nkeys] = strdup(key)) == NULL)
			break;
		c->nkeys++;
	}
	if (c->keys == NULL || c->nkeys != json_array_size(members) ||
	    store_fetch(c->r->srv, (const char *const *)c->keys, c->nkeys, clients_read, c) < 0)
		fail_unavailable(c, "redis: the household cannot be read right now");
}

/* The checks both routes share; NULL having answered 422. */
static const struct plugin *
check_common(struct request *r, struct errlist *errs)
{
	const char *area = json_string_value(json_object_get(r->body, "area"));
	const struct plugin *p = NULL;

	if (area && (p = plugins_find(&r->srv->plugins, area)) == NULL)
		errlist_add(errs, "area", "is not a service area of this korpu");
	else if (p && !p->started)
		errlist_add(errs, "area", "is not running");
	/* Every problem of the form at once: the area's fields too (unless
	 * "fields" is no object, which body_check reported). */
	if (p && (json_object_get(r->body, "fields") == NULL ||
	    json_is_object(json_object_get(r->body, "fields"))))
		fields_check(p->desc->fields, json_object_get(r->body, "fields"), errs);
	return p;
}

static void
start(struct request *r, const struct plugin *p, const char *id, int household)
{
	struct referral_create *c = calloc(1, sizeof(*c));
	char key[160];
	const char *keys[] = { key };

	if (c == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	c->r = r;
	c->plugin = p;
	c->household = household;
	snprintf(c->region, sizeof(c->region), "%s", id_region(id));
	key_region(key, sizeof(key), c->region, household ? "household" : "client", id);
	if (store_fetch(r->srv, keys, 1, household ? household_read : clients_read, c) < 0)
		fail_unavailable(c, "redis: the client cannot be read right now");
}

void
api_referral_create(struct request *r)
{
	struct errlist errs = { 0 };
	const char *client_id = json_string_value(json_object_get(r->body, "client_id"));
	const struct plugin *p;

	body_check(r->body, referral_spec, 0, &errs);
	p = check_common(r, &errs);
	if (client_id && (!id_valid(client_id, 1) ||
	    !conf_region_known(r->srv->conf, id_region(client_id))))
		errlist_add(&errs, "client_id", "is not a client");
	if (errs.n) {
		reply_problem_errors(r, 422, "the referral cannot be made", &errs);
		errlist_free(&errs);
		return;
	}
	start(r, p, client_id, 0);
}

/*
 * POST /api/v1/referrals/household: every member of a household referred
 * together, to one provider, in one step: all the referrals are made, or
 * none (a member without consent, or not eligible, stops them all and is
 * named as members[i]).
 */
void
api_referral_household(struct request *r)
{
	struct errlist errs = { 0 };
	const char *hh = json_string_value(json_object_get(r->body, "household_id"));
	const struct plugin *p;

	body_check(r->body, household_referral_spec, 0, &errs);
	p = check_common(r, &errs);
	if (hh && (!id_valid(hh, 1) || !conf_region_known(r->srv->conf, id_region(hh))))
		errlist_add(&errs, "household_id", "is not a household");
	if (errs.n) {
		reply_problem_errors(r, 422, "the referral cannot be made", &errs);
		errlist_free(&errs);
		return;
	}
	start(r, p, hh, 1);
}
