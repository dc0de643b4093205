/*
 * api-waitlist.c - the waitlist of a provider (API.md, Appointments):
 * POST /api/v1/waitlist {"provider_id","client_id","priority"} joins it;
 * GET /api/v1/waitlist?provider_id= and GET /api/v1/waitlist/{id} show
 * it; POST /api/v1/waitlist/{id}/accept books the place offered (held
 * for the client: the booking cannot find it full) and
 * POST /api/v1/waitlist/{id}/decline gives it to the next one.
 * Offers themselves are made by waitlist-offer.c; a school's waitlists
 * (seat model, entries of kind "seat") by seat-waitlist.c, and their
 * offers are answered by seat-offer-answer.c.
 *
 * An entry: korpu:{r:REGION}:wait:ID; the queue of waiting entries,
 * korpu:{r:REGION}:waitlist:PROVIDER (sorted, waitlist_score); every
 * entry of a provider, korpu:{r:REGION}:waits:PROVIDER, and of a client,
 * korpu:{r:REGION}:waits:client:CLIENT (clients wait at their region's
 * providers only); a client waits once per provider
 * (korpu:{r:REGION}:waitentry:PROVIDER:CLIENT).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"
#include "plugin-host.h"

static const struct bfield join_spec[] = {
	{ "provider_id", BF_STRING, BF_REQUIRED, ID_MAX, NULL, 0, 0, 0 },
	{ "client_id", BF_STRING, BF_REQUIRED, ID_MAX, NULL, 0, 0, 0 },
	{ "priority", BF_INT, 0, 0, NULL, 0, 100, 0 },
	{ "referral_id", BF_STRING, BF_NULLABLE, ID_MAX, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, 0, 0, 0 }
};

static const struct bfield decline_spec[] = {
	{ "reason", BF_TEXT, 0, 2000, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, 0, 0, 0 }
};

static const char *
str(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

static void
fail422(struct request *r, const char *field, const char *message)
{
	struct errlist errs = { 0 };

	errlist_add(&errs, field, "%s", message);
	reply_problem_errors(r, 422, "the waitlist entry is not valid", &errs);
	errlist_free(&errs);
}

/* ---- join ---- */

struct join {
	struct request *r;
	json_t *entry;
	json_t *provider, *client;
	struct korpu_priority score;	/* the area's, or the caseworker's priority */
	int k_once;
};

static void
join_free(struct join *j)
{
	json_decref(j->entry);
	json_decref(j->provider);
	json_decref(j->client);
	free(j);
}

static void
joined(const struct tx_result *res, void *arg)
{
	struct join *j = arg;
	struct request *r = j->r;

	if (res->status == TX_OK) {
		struct server *srv = r->srv;	/* r is gone once answered */
		audit_record(srv, r, r->uid, "waitlist.join", "ok",
		    json_pack("{s:O, s:O}", "waitlist_id", json_object_get(j->entry, "id"),
		    "client_id", json_object_get(j->entry, "client_id")));
		events_kick(srv);
		reply_json(r, 201, json_incref(j->entry));
		waitlist_offer(srv, str(j->entry, "provider_id"));
	} else if (res->status == TX_CONFLICT && res->key == j->k_once) {
		json_t *p = problem_new(409, "client_id: the client already waits for this "
		    "provider (waitlist_id names the entry)", NULL);
		json_object_set_new(p, "waitlist_id", json_string(res->current));
		reply_json_problem(r, 409, p);
	} else {
		reply_unavailable(r, "redis: the waitlist could not be changed", 1);
	}
	join_free(j);
}

/* The provider's organization must have an agreement for the area: a
 * waitlist entry sends the client's data to it as a booking does. */
static void
join_org_read(struct doc *docs, size_t n, void *arg)
{
	struct join *j = arg;
	struct request *r = j->r;
	const json_t *p = j->provider, *c = j->client;
	char id[ID_MAX], at[40], tag[48], msg[200];
	const char *why;
	struct tx *t;
	int k;

	(void)n;
	if (docs == NULL) {
		reply_unavailable(r, "redis: the provider's organization cannot be read right now", 1);
		join_free(j);
		return;
	}
	time_format_ms(wall_ms(), at, sizeof(at));
	at[10] = '\0';
	why = docs[0].doc ? org_agreement_problem(docs[0].doc, str(p, "area"), at) :
	    "does not exist";
	if (why) {
		snprintf(msg, sizeof(msg), "provider_id: the provider's organization %s; no client "
		    "data goes to it", why);
		reply_problem(r, 409, msg);
		join_free(j);
		return;
	}
	if (id_new(id, sizeof(id), str(p, "region")) < 0) {
		reply_problem(r, 500, "out of randomness");
		join_free(j);
		return;
	}
	time_format_ms(wall_ms(), at, sizeof(at));
	j->entry = json_pack("{s:s, s:s, s:s, s:s?, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:n,"
	    " s:n, s:s, s:s, s:[{s:s, s:s, s:s}]}",
	    "id", id, "provider_id", str(p, "id"), "client_id", str(c, "id"),
	    "referral_id", str(r->body, "referral_id"),
	    "priority", (json_int_t)j->score.points,
	    "priority_per_day", (json_int_t)j->score.points_per_day,
	    "priority_explained", j->score.explain, "area", str(p, "area"),
	    "organization", str(p, "organization"), "region", str(p, "region"),
	    "timezone", str(p, "timezone"), "status", "waiting", "offer", "appointment_id",
	    "created_at", at, "created_by", r->uid,
	    "history", "status", "waiting", "at", at, "actor", r->uid);
	snprintf(tag, sizeof(tag), "r:%s", str(p, "region"));
	t = tx_new(tag);
	k = tx_key(t, "wait:%s", id);
	j->k_once = tx_key(t, "waitentry:%s:%s", str(p, "id"), str(c, "id"));
	tx_absent(t, j->k_once);
	tx_absent(t, k);
	tx_doc(t, k, j->entry);
	tx_set(t, j->k_once, id);
	tx_zadd(t, tx_key(t, "waitlist:%s", str(p, "id")),
	    waitlist_key(j->score.points, j->score.points_per_day, wall_ms()), id);
	tx_zadd(t, tx_key(t, "waits:%s", str(p, "id")), 0, id);
	tx_zadd(t, tx_key(t, "waits:client:%s", str(c, "id")), 0, id);
	tx_event(t, "waitlist.joined", id, str(p, "area"), str(p, "id"));
	if (tx_run(t, r->srv, joined, j) < 0) {
		reply_unavailable(r, "redis: the waitlist could not be changed", 1);
		join_free(j);
	}
}

/*
 * The entry's score: the area plugin's, from the referral joined with
 * (ABI 1.1 waitlist_priority), or else the caseworker's priority. -1
 * having answered.
 */
static int
join_score(struct join *j, const struct plugin *plugin, const json_t *p, const json_t *c,
    const struct doc *referral)
{
	struct request *r = j->r;
	int (*score)(void *, const struct korpu_referral *, struct korpu_priority *) =
	    plugin ? PLUGIN_HOOK(plugin->desc, waitlist_priority) : NULL;
	const json_t *ref = referral ? referral->doc : NULL;
	struct korpu_referral kr;
	int rc;

	if (referral && (ref == NULL || strcmp(str(ref, "client_id") ?: "", str(c, "id")) ||
	    strcmp(str(ref, "area") ?: "", str(p, "area")))) {
		fail422(r, "referral_id", "is not a referral of this client to this area");
		join_free(j);
		return -1;
	}
	if (score == NULL) {
		j->score.points = json_integer_value(json_object_get(r->body, "priority"));
		snprintf(j->score.explain, sizeof(j->score.explain), "priority %lld, set by %s",
		    j->score.points, r->uid);
		return 0;
	}
	if (ref == NULL) {
		fail422(r, "referral_id", "this area scores its waitlist from the referral: name it");
		join_free(j);
		return -1;
	}
	kr.doc = json_pack("{s:O, s:o, s:O}", "fields", json_object_get(ref, "fields"),
	    "client", client_view(c, 1, plugin->name), "area", json_object_get(ref, "area"));
	rc = score(plugin->state, &kr, &j->score);
	json_decref((json_t *)kr.doc);
	j->score.explain[sizeof(j->score.explain) - 1] = '\0';
	if (rc < 0 || j->score.points_per_day < 0 || j->score.points_per_day > 100000 ||
	    j->score.points < -1000000 || j->score.points > 1000000) {
		reply_problem(r, 500, "the area's plugin could not score the entry");
		join_free(j);
		return -1;
	}
	return 0;
}

static void
join_read(struct doc *docs, size_t n, void *arg)
{
	struct join *j = arg;
	struct request *r = j->r;
	const json_t *p, *c;
	const struct plugin *plugin;
	const json_t *consent;
	char key[160];
	const char *keys[] = { key };

	(void)n;
	if (docs == NULL) {
		reply_unavailable(r, "redis: the waitlist cannot be read right now", 1);
		join_free(j);
		return;
	}
	p = docs[0].doc;
	c = docs[1].doc;
	if (p == NULL) {
		fail422(r, "provider_id", "is not a provider of the directory");
		join_free(j);
		return;
	}
	if (c == NULL) {
		fail422(r, "client_id", "is not a client");
		join_free(j);
		return;
	}
	plugin = plugins_find(&r->srv->plugins, str(p, "area"));
	if (plugin && plugin->desc->booking_model == KORPU_BOOKING_SEAT) {
		reply_problem(r, 409, "this provider allocates places for a term (seat model); "
		    "take a place for the referral with POST /api/v1/seats: when none is left, "
		    "the referral joins the school's waitlist for its grade and year");
		join_free(j);
		return;
	}
	consent = json_object_get(json_object_get(c, "consent"), str(p, "area"));
	if (!json_is_true(json_object_get(consent, "share"))) {
		fail422(r, "client_id", "has not consented to share their data with this area's "
		    "providers; record their consent first");
		join_free(j);
		return;
	}
	if (join_score(j, plugin, p, c, n > 2 ? &docs[2] : NULL) < 0)
		return;
	j->provider = json_incref((json_t *)p);
	j->client = json_incref((json_t *)c);
	snprintf(key, sizeof(key), "korpu:{dir}:org:%s", str(p, "organization"));
	if (store_fetch(r->srv, keys, 1, join_org_read, j) < 0) {
		reply_unavailable(r, "redis: the provider's organization cannot be read right now", 1);
		join_free(j);
	}
}

void
api_waitlist_join(struct request *r)
{
	struct errlist errs = { 0 };
	const char *pid = str(r->body, "provider_id"), *cid = str(r->body, "client_id");
	const char *ref = str(r->body, "referral_id");
	struct join *j;
	char k0[160], k1[160], k2[160];
	const char *keys[] = { k0, k1, k2 };

	body_check(r->body, join_spec, 0, &errs);
	if (errs.n == 0 && (!id_valid(pid, 1) || !conf_region_known(r->srv->conf, id_region(pid))))
		errlist_add(&errs, "provider_id", "is not a provider of the directory");
	if (errs.n == 0 && (!id_valid(cid, 1) || strcmp(id_region(cid), id_region(pid)) != 0))
		errlist_add(&errs, "client_id", "is not a client of the provider's region");
	if (errs.n == 0 && ref && (!id_valid(ref, 1) || strcmp(id_region(ref), id_region(pid)) != 0))
		errlist_add(&errs, "referral_id", "is not a referral of this client to this area");
	if (errs.n) {
		reply_problem_errors(r, 422, "the waitlist entry is not valid", &errs);
		errlist_free(&errs);
		return;
	}
	j = calloc(1, sizeof(*j));
	if (j == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	j->r = r;
	key_region(k0, sizeof(k0), id_region(pid), "provider", pid);
	key_region(k1, sizeof(k1), id_region(pid), "client", cid);
	if (ref)
		key_region(k2, sizeof(k2), id_region(pid), "referral", ref);
	if (store_fetch(r->srv, keys, ref ? 3 : 2, join_read, j) < 0) {
		reply_unavailable(r, "redis: the waitlist cannot be read right now", 1);
		free(j);
	}
}

/* ---- reading ---- */

static int
wait_key(struct request *r, const char *id, char *key, size_t len)
{
	if (!id_valid(id, 1) || !conf_region_known(r->srv->conf, id_region(id))) {
		reply_problem(r, 404, "no such waitlist entry");
		return -1;
	}
	key_region(key, len, id_region(id), "wait", id);
	return 0;
}

static void
entry_fetched(struct doc *docs, size_t n, void *arg)
{
	struct request *r = arg;

	(void)n;
	if (docs == NULL)
		reply_unavailable(r, "redis: the waitlist cannot be read right now", 1);
	else if (docs[0].doc == NULL || !authz_org_visible(r, str(docs[0].doc, "organization")))
		reply_problem(r, 404, "no such waitlist entry");
	else {
		json_t *e = json_deep_copy(docs[0].doc);
		json_object_set_new(e, "score", json_integer(waitlist_score_now(e)));
		reply_json(r, 200, e);
	}
}

void
api_waitlist_get(struct request *r)
{
	char key[160];
	const char *keys[] = { key };

	if (wait_key(r, request_param(r, "id"), key, sizeof(key)) < 0)
		return;
	if (store_fetch(r->srv, keys, 1, entry_fetched, r) < 0)
		reply_unavailable(r, "redis: the waitlist cannot be read right now", 1);
}

static int
by_queue_order(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int wx = strcmp(str(x, "status") ?: "", "waiting") == 0;
	int wy = strcmp(str(y, "status") ?: "", "waiting") == 0;
	int64_t cx = 0, cy = 0;
	double sx, sy;

	if (wx != wy)
		return wy - wx;		/* waiting entries first */
	time_parse(str(x, "created_at"), &cx);
	time_parse(str(y, "created_at"), &cy);
	sx = waitlist_key(json_integer_value(json_object_get(x, "priority")),
	    json_integer_value(json_object_get(x, "priority_per_day")), cx);
	sy = waitlist_key(json_integer_value(json_object_get(y, "priority")),
	    json_integer_value(json_object_get(y, "priority_per_day")), cy);
	if (sx != sy)
		return sx < sy ? -1 : 1;
	return strcmp(str(x, "id") ?: "", str(y, "id") ?: "");
}

/* The next position in the entry's queue: a provider's one queue, or a
 * school's queue of the entry's grade and year (counts: name -> n). */
static json_int_t
queue_position(json_t *counts, const json_t *e)
{
	char name[48] = "";
	json_int_t n;

	if (seat_entry(e))
		snprintf(name, sizeof(name), "%s:%lld", str(e, "school_year") ?: "",
		    (long long)json_integer_value(json_object_get(e, "grade")));
	n = json_integer_value(json_object_get(counts, name)) + 1;
	json_object_set_new(counts, name, json_integer(n));
	return n;
}

static void
entries_listed(struct doc *docs, size_t n, const char *next, void *arg)
{
	struct request *r = arg;
	json_t **v, *items, *queues;
	size_t m = 0;

	if (docs == NULL) {
		reply_unavailable(r, "redis: the waitlist cannot be read right now", 1);
		return;
	}
	v = calloc(n + 1, sizeof(*v));
	for (size_t i = 0; v && i < n; i++)
		if (docs[i].doc && authz_org_visible(r, str(docs[i].doc, "organization")))
			v[m++] = docs[i].doc;
	if (v)
		qsort(v, m, sizeof(*v), by_queue_order);
	items = json_array();
	queues = json_object();
	for (size_t i = 0; v && i < m; i++) {
		json_t *e = json_deep_copy(v[i]);
		if (strcmp(str(e, "status") ?: "", "waiting") == 0)
			json_object_set_new(e, "position", json_integer(queue_position(queues, e)));
		json_object_set_new(e, "score", json_integer(waitlist_score_now(e)));
		json_array_append_new(items, e);
	}
	json_decref(queues);
	free(v);
	reply_json(r, 200, list_envelope(items, next));
}

void
api_waitlist_list(struct request *r)
{
	static const char *const params[] = { "provider_id", "client_id", "limit", "cursor", NULL };
	const char *pid, *cid, *cursor;
	char index[160], prefix[96];
	long limit;
	int rc;

	if (query_parse(r, params) < 0 || query_list(r, &limit, &cursor) < 0)
		return;
	pid = query_get(r, "provider_id");
	cid = query_get(r, "client_id");
	if (pid == NULL && cid != NULL) {
		/* A client's entries, at every provider (of the client's region:
		 * nobody waits elsewhere). */
		if (!id_valid(cid, 1) || !conf_region_known(r->srv->conf, id_region(cid))) {
			reply_problem(r, 400, "client_id: not a client id");
			return;
		}
		snprintf(index, sizeof(index), "waits:client:%s", cid);
		rc = store_list_regions(r->srv, index, "wait", id_region(cid), cursor, limit, NULL,
		    NULL, entries_listed, r);
		if (rc == -2)
			reply_problem(r, 400, "cursor is not one this server gave out");
		else if (rc < 0)
			reply_unavailable(r, "redis: the waitlist cannot be read right now", 1);
		return;
	}
	if (pid == NULL || cid != NULL || !id_valid(pid, 1) ||
	    !conf_region_known(r->srv->conf, id_region(pid))) {
		reply_problem(r, 400, "provider_id: name the provider whose waitlist to show "
		    "(or client_id alone: the client's entries)");
		return;
	}
	if (cursor && !id_valid(cursor, 1)) {
		reply_problem(r, 400, "cursor is not one this server gave out");
		return;
	}
	snprintf(index, sizeof(index), "korpu:{r:%s}:waits:%s", id_region(pid), pid);
	snprintf(prefix, sizeof(prefix), "korpu:{r:%s}:wait:", id_region(pid));
	if (store_list(r->srv, index, prefix, cursor, limit, 0, entries_listed, r) < 0)
		reply_unavailable(r, "redis: the waitlist cannot be read right now", 1);
}

/* ---- answering an offer ---- */

struct answer {
	struct request *r;
	json_t *entry;
	long long rev;
	json_t *after;
	int accept;
	int k_entry, k_jobs;
};

static void
answer_free(struct answer *a)
{
	json_decref(a->entry);
	json_decref(a->after);
	free(a);
}

/* Offer details the entry holds: start ms and its local date. */
static int
offer_slot(const json_t *e, int64_t *start, int64_t *end)
{
	const json_t *o = json_object_get(e, "offer");

	return time_parse(str(o, "start") ?: "", start) == 0 &&
	    time_parse(str(o, "end") ?: "", end) == 0 ? 0 : -1;
}

static void
declined(const struct tx_result *res, void *arg)
{
	struct answer *a = arg;
	struct request *r = a->r;

	if (res->status == TX_OK) {
		struct server *srv = r->srv;	/* r is gone once answered */
		audit_record(srv, r, r->uid, "waitlist.decline", "ok",
		    json_pack("{s:O, s:O}", "waitlist_id", json_object_get(a->after, "id"),
		    "client_id", json_object_get(a->after, "client_id")));
		events_kick(srv);
		reply_json(r, 200, json_incref(a->after));
		waitlist_offer(srv, str(a->after, "provider_id"));
	} else if (res->status == TX_CONFLICT) {
		reply_problem(r, 409, "the offer changed meanwhile (it may have lapsed); look again");
	} else {
		reply_unavailable(r, "redis: the waitlist could not be changed", 1);
	}
	answer_free(a);
}

/* The writes that end an offer: the hold, the lapse job, the entry. */
static void
end_offer(struct tx *t, struct answer *a, int release)
{
	const json_t *e = a->entry;
	const char *pid = str(e, "provider_id");
	int64_t start = 0, end = 0;
	char date[11], field[24], job[160];

	offer_slot(e, &start, &end);
	local_date(start, str(e, "timezone"), date);
	snprintf(field, sizeof(field), "%lld", (long long)start);
	snprintf(job, sizeof(job), "offer:%s:%lld", str(e, "id"), (long long)start);
	a->k_entry = tx_key(t, "wait:%s", str(e, "id"));
	tx_rev(t, a->k_entry, a->rev);
	a->k_jobs = tx_key(t, "jobs");
	tx_zhas(t, a->k_jobs, job);	/* the offer has not lapsed */
	tx_zrem(t, tx_key(t, "jobs"), job);
	if (release)
		tx_hincrby(t, tx_key(t, "taken:%s:%s", pid, date), field, -1);
	tx_del(t, tx_key(t, "waitentry:%s:%s", pid, str(e, "client_id")));
	tx_doc(t, a->k_entry, a->after);
}

static void
accept_extra(struct booking *b, struct tx *t)
{
	struct answer *a = b->arg;

	json_object_set(a->after, "appointment_id",
	    json_object_get(json_array_get(b->docs, 0), "id"));
	end_offer(t, a, 0);		/* the hold becomes the booking's place */
}

static const char *
accept_conflict(struct booking *b, int key)
{
	struct answer *a = b->arg;

	return key == a->k_entry || key == a->k_jobs ?
	    "the offer changed meanwhile (it may have lapsed); look again" : NULL;
}

static void
accept_done(struct booking *b, int status, const char *problem)
{
	struct answer *a = b->arg;
	struct request *r = a->r;

	if (status == 201) {
		json_object_set(a->after, "appointment", json_array_get(b->docs, 0));
		reply_json(r, 200, json_incref(a->after));
	} else if (status == 503) {
		reply_unavailable(r, problem, 1);
	} else {
		reply_problem(r, status, problem);
	}
	answer_free(a);
}

static void
accept_read(struct doc *docs, size_t n, void *arg)
{
	struct answer *a = arg;
	struct request *r = a->r;
	struct booking *b;
	struct slot s;
	int64_t start = 0, end = 0;

	(void)n;
	if (docs == NULL || docs[0].doc == NULL || docs[1].doc == NULL) {
		if (docs == NULL)
			reply_unavailable(r, "redis: the booking's records cannot be read right now", 1);
		else
			reply_problem(r, 409, "the provider or the client of this entry is gone");
		answer_free(a);
		return;
	}
	offer_slot(a->entry, &start, &end);
	s.start_ms = start;
	s.end_ms = end;
	s.local_minute = 0;
	b = booking_new(r);
	if (b == NULL || booking_add(b, docs[1].doc, &s) < 0) {
		booking_free(b);
		reply_problem(r, 500, "out of memory");
		answer_free(a);
		return;
	}
	b->provider = json_incref(docs[0].doc);
	b->held = 1;
	b->extra = accept_extra;
	b->extra_conflict = accept_conflict;
	b->done = accept_done;
	b->arg = a;
	booking_start(b);
}

static void
entry_read(struct doc *docs, size_t n, void *arg)
{
	struct answer *a = arg;
	struct request *r = a->r;
	const json_t *e;
	char k0[160], k1[160];
	const char *keys[] = { k0, k1 };

	(void)n;
	if (docs == NULL) {
		reply_unavailable(r, "redis: the waitlist cannot be read right now", 1);
		answer_free(a);
		return;
	}
	e = docs[0].doc;
	if (e == NULL || !authz_org_visible(r, str(e, "organization"))) {
		reply_problem(r, 404, "no such waitlist entry");
		answer_free(a);
		return;
	}
	if (strcmp(str(e, "status") ?: "", "offered") != 0) {
		char msg[120];
		snprintf(msg, sizeof(msg), "the entry is %s: there is no offer to answer",
		    str(e, "status") ?: "unreadable");
		reply_problem(r, 409, msg);
		answer_free(a);
		return;
	}
	if (seat_entry(e)) {		/* a school place held */
		seat_offer_answer(r, e, docs[0].rev, a->accept);
		answer_free(a);
		return;
	}
	a->entry = json_incref((json_t *)e);
	a->rev = docs[0].rev;
	a->after = waitlist_entry_moved(e, a->accept ? "booked" : "declined", r->uid,
	    a->accept ? NULL : str(r->body, "reason"));
	if (!a->accept) {
		char tag[48];
		struct tx *t;
		snprintf(tag, sizeof(tag), "r:%s", str(e, "region"));
		t = tx_new(tag);
		end_offer(t, a, 1);
		tx_event(t, "waitlist.declined", str(e, "id"), str(e, "area"), str(e, "provider_id"));
		if (tx_run(t, r->srv, declined, a) < 0) {
			reply_unavailable(r, "redis: the waitlist could not be changed", 1);
			answer_free(a);
		}
		return;
	}
	key_region(k0, sizeof(k0), str(e, "region"), "provider", str(e, "provider_id"));
	key_region(k1, sizeof(k1), str(e, "region"), "client", str(e, "client_id"));
	if (store_fetch(r->srv, keys, 2, accept_read, a) < 0) {
		reply_unavailable(r, "redis: the booking's records cannot be read right now", 1);
		answer_free(a);
	}
}

static void
answer_offer(struct request *r, int accept)
{
	struct errlist errs = { 0 };
	struct answer *a;
	char key[160];
	const char *keys[] = { key };

	body_check(r->body, decline_spec, 0, &errs);
	if (errs.n) {
		reply_problem_errors(r, 422, "the answer is not valid", &errs);
		errlist_free(&errs);
		return;
	}
	if (wait_key(r, request_param(r, "id"), key, sizeof(key)) < 0)
		return;
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	a->r = r;
	a->accept = accept;
	if (store_fetch(r->srv, keys, 1, entry_read, a) < 0) {
		reply_unavailable(r, "redis: the waitlist cannot be read right now", 1);
		answer_free(a);
	}
}

void api_waitlist_accept(struct request *r) { answer_offer(r, 1); }
void api_waitlist_decline(struct request *r) { answer_offer(r, 0); }
