/*
 * api-clients.c - the people korpu serves: POST /api/v1/clients,
 * GET /api/v1/clients/{id}, PATCH /api/v1/clients/{id}.
 *
 * A client lives under its region's tag. Its registration number is
 * unique across every region, so it is claimed first under the {reg} tag
 * ("ID|ms"), and then the client is written in its region: two steps,
 * because Redis Cluster cannot write both tags at once. A claim whose
 * client never appeared (korpud died between the steps) is taken over
 * once it is older than CLAIM_STALE_MS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "korpud.h"

#define CLAIM_STALE_MS 60000

int
client_key(struct request *r, const char *id, char *key, size_t len)
{
	if (!id_valid(id, 1) || !conf_region_known(r->srv->conf, id_region(id))) {
		reply_problem(r, 404, "no such client");
		return -1;
	}
	key_region(key, len, id_region(id), "client", id);
	return 0;
}

static json_t *
audit_ids(const char *name, const char *id)
{
	return json_pack("{s:s}", name, id);
}

/* ---- POST /api/v1/clients ---- */

struct client_create {
	struct request *r;
	json_t *doc;
	char id[ID_MAX];
	char regno[40];
	char claim[ID_MAX + 24];	/* "ID|ms" */
};

static void
create_free(struct client_create *c)
{
	json_decref(c->doc);
	free(c);
}

static void
claim_released(const struct tx_result *res, void *arg)
{
	(void)res;
	(void)arg;
}

/* The client could not be written: give the number back, best effort
 * (a claim left behind goes stale and is taken over later). */
static void
claim_release(struct client_create *c)
{
	struct tx *t = tx_new("reg");
	int k = tx_key(t, "regno:%s", c->regno);

	tx_eq(t, k, c->claim);
	tx_del(t, k);
	tx_run(t, c->r->srv, claim_released, NULL);
}

static void
client_written(const struct tx_result *res, void *arg)
{
	struct client_create *c = arg;
	struct request *r = c->r;

	if (res->status == TX_OK) {
		audit_record(r->srv, r, r->uid, "client.create", "ok", audit_ids("client_id", c->id));
		reply_json(r, 201, json_incref(c->doc));
	} else {
		claim_release(c);
		reply_unavailable(r, "redis: the client could not be stored", 1);
	}
	create_free(c);
}

static void
client_write(struct client_create *c)
{
	const char *region = json_string_value(json_object_get(c->doc, "region"));
	json_t *keys = client_name_keys(c->doc);
	char tag[48];
	struct tx *t;
	size_t i;
	json_t *v;
	int k, kn;

	snprintf(tag, sizeof(tag), "r:%s", region);
	t = tx_new(tag);
	k = tx_key(t, "client:%s", c->id);
	kn = tx_key(t, "names");
	tx_absent(t, k);
	tx_doc(t, k, c->doc);
	tx_zadd(t, tx_key(t, "clients"), 0, c->id);
	json_array_foreach(keys, i, v)
		tx_zadd(t, kn, 0, json_string_value(v));
	json_decref(keys);
	if (tx_run(t, c->r->srv, client_written, c) < 0) {
		claim_release(c);
		reply_unavailable(c->r, "redis: the client could not be stored", 1);
		create_free(c);
	}
}

static void client_claimed(const struct tx_result *res, void *arg);

static void
claim_send(struct client_create *c, const char *stale)
{
	struct tx *t = tx_new("reg");
	int k = tx_key(t, "regno:%s", c->regno);

	snprintf(c->claim, sizeof(c->claim), "%s|%lld", c->id, (long long)(wall_ms()));
	if (stale)
		tx_eq(t, k, stale);	/* take over exactly the stale claim seen */
	else
		tx_absent(t, k);
	tx_set(t, k, c->claim);
	if (tx_run(t, c->r->srv, client_claimed, c) < 0) {
		reply_unavailable(c->r, "redis: the client could not be stored", 1);
		create_free(c);
	}
}

struct holder_check {
	struct client_create *c;
	char claim[128];		/* struct tx_result's current */
};

static void
duplicate(struct client_create *c, const char *other_id)
{
	struct request *r = c->r;
	json_t *p = problem_new(409, "registration_no: a client with this registration number "
	    "exists (client_id names it)", NULL);

	json_object_set_new(p, "client_id", json_string(other_id));
	audit_record(r->srv, r, r->uid, "client.create", "duplicate",
	    audit_ids("client_id", other_id));
	reply_json_problem(r, 409, p);
	create_free(c);
}

/* Someone holds the number: a client, or a claim that went stale? */
static void
holder_read(struct doc *docs, size_t n, void *arg)
{
	struct holder_check *h = arg;
	struct client_create *c = h->c;
	char other[ID_MAX];
	const char *bar = strchr(h->claim, '|');
	long long at = bar ? strtoll(bar + 1, NULL, 10) : 0;

	(void)n;
	snprintf(other, sizeof(other), "%.*s", bar ? (int)(bar - h->claim) : 0, h->claim);
	if (docs == NULL) {
		reply_unavailable(c->r, "redis: the client could not be stored", 1);
		create_free(c);
	} else if (docs[0].doc) {
		duplicate(c, other);
	} else if (wall_ms() - at > CLAIM_STALE_MS) {
		rlog_warn(c->r, "clients: taking over a stale registration number claim of %s", other);
		claim_send(c, h->claim);
	} else {
		/* Being registered right now by another request. */
		duplicate(c, other);
	}
	free(h);
}

static void
client_claimed(const struct tx_result *res, void *arg)
{
	struct client_create *c = arg;
	struct holder_check *h;
	const char *bar;
	char other[ID_MAX], key[160];
	const char *keys[] = { key };

	if (res->status == TX_OK) {
		client_write(c);
		return;
	}
	if (res->status != TX_CONFLICT) {
		reply_unavailable(c->r, "redis: the client could not be stored", 1);
		create_free(c);
		return;
	}
	bar = strchr(res->current, '|');
	snprintf(other, sizeof(other), "%.*s", bar ? (int)(bar - res->current) : 0, res->current);
	h = calloc(1, sizeof(*h));
	if (h == NULL || !id_valid(other, 1)) {
		/* Not ours to interpret: treat as a duplicate of nobody known. */
		free(h);
		reply_problem(c->r, 409, "registration_no: a client with this registration number exists");
		create_free(c);
		return;
	}
	h->c = c;
	snprintf(h->claim, sizeof(h->claim), "%s", res->current);
	key_region(key, sizeof(key), id_region(other), "client", other);
	if (store_fetch(c->r->srv, keys, 1, holder_read, h) < 0) {
		free(h);
		reply_unavailable(c->r, "redis: the client could not be stored", 1);
		create_free(c);
	}
}

void
api_client_create(struct request *r)
{
	struct errlist errs = { 0 };
	struct client_create *c;
	char at[40];

	client_check(r->body, 0, r->srv->conf, &errs);
	if (errs.n) {
		reply_problem_errors(r, 422, "the client is not valid", &errs);
		errlist_free(&errs);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || id_new(c->id, sizeof(c->id),
	    json_string_value(json_object_get(r->body, "region"))) < 0) {
		free(c);
		reply_problem(r, 500, "out of memory");
		return;
	}
	c->r = r;
	regno_normalize(json_string_value(json_object_get(r->body, "registration_no")),
	    c->regno, sizeof(c->regno));
	time_format_ms(wall_ms(), at, sizeof(at));
	c->doc = json_deep_copy(r->body);
	json_object_set_new(c->doc, "id", json_string(c->id));
	if (!json_object_get(c->doc, "languages"))
		json_object_set_new(c->doc, "languages", json_array());
	if (!json_object_get(c->doc, "vulnerabilities"))
		json_object_set_new(c->doc, "vulnerabilities", json_array());
	if (!json_object_get(c->doc, "needs_interpreter"))
		json_object_set_new(c->doc, "needs_interpreter", json_false());
	if (!json_object_get(c->doc, "sex"))
		json_object_set_new(c->doc, "sex", json_string("unknown"));
	if (!json_object_get(c->doc, "phone"))
		json_object_set_new(c->doc, "phone", json_null());
	json_object_set_new(c->doc, "household_id", json_null());
	json_object_set_new(c->doc, "consent", json_object());
	json_object_set_new(c->doc, "created_at", json_string(at));
	json_object_set_new(c->doc, "created_by", json_string(r->uid));
	json_object_set_new(c->doc, "updated_at", json_string(at));
	json_object_set_new(c->doc, "updated_by", json_string(r->uid));
	claim_send(c, NULL);
}

/* ---- GET /api/v1/clients/{id} ---- */

static void
client_fetched(struct doc *docs, size_t n, void *arg)
{
	struct request *r = arg;
	const char *id = request_param(r, "id");

	(void)n;
	if (docs == NULL) {
		reply_unavailable(r, "redis: the client cannot be read right now", 1);
	} else if (docs[0].doc == NULL) {
		reply_problem(r, 404, "no such client");
	} else {
		audit_record(r->srv, r, r->uid, "client.read", "ok", audit_ids("client_id", id));
		reply_json(r, 200, json_incref(docs[0].doc));
	}
}

void
api_client_get(struct request *r)
{
	char key[160];
	const char *keys[] = { key };

	if (client_key(r, request_param(r, "id"), key, sizeof(key)) < 0)
		return;
	if (store_fetch(r->srv, keys, 1, client_fetched, r) < 0)
		reply_unavailable(r, "redis: the client cannot be read right now", 1);
}

/* ---- changing a client: PATCH, consent, households ---- */

/*
 * A read-modify-write of one client: fetch, let change() edit a copy,
 * write it back if nobody changed it meanwhile (else read again, a few
 * times). change returns 0, or an HTTP status it has already answered.
 */
struct client_edit {
	struct request *r;
	char key[160];
	client_change_fn change;
	void *arg;
	const char *action;
	json_t *doc;			/* the edited copy */
	json_t *old_keys;
	int tries;
};

static void edit_read(struct doc *docs, size_t n, void *arg);

static void
edit_free(struct client_edit *e)
{
	json_decref(e->doc);
	json_decref(e->old_keys);
	free(e);
}

static void
edit_written(const struct tx_result *res, void *arg)
{
	struct client_edit *e = arg;
	struct request *r = e->r;
	const char *keys[] = { e->key };

	if (res->status == TX_OK) {
		audit_record(r->srv, r, r->uid, e->action, "ok",
		    audit_ids("client_id", json_string_value(json_object_get(e->doc, "id"))));
		reply_json(r, 200, json_incref(e->doc));
		edit_free(e);
		return;
	}
	if (res->status == TX_CONFLICT && ++e->tries < 8) {
		json_decref(e->doc);
		json_decref(e->old_keys);
		e->doc = e->old_keys = NULL;
		if (store_fetch(r->srv, keys, 1, edit_read, e) == 0)
			return;
	}
	if (res->status == TX_CONFLICT)
		reply_problem(r, 409, "the client's record is being changed by others right now; "
		    "look again and retry");
	else
		reply_unavailable(r, "redis: the client could not be changed", 1);
	edit_free(e);
}

static void
edit_read(struct doc *docs, size_t n, void *arg)
{
	struct client_edit *e = arg;
	struct request *r = e->r;
	json_t *new_keys;
	struct tx *t;
	char tag[48], at[40];
	size_t i;
	json_t *v;
	int k, kn;

	(void)n;
	if (docs == NULL || docs[0].doc == NULL) {
		if (docs == NULL)
			reply_unavailable(r, "redis: the client cannot be read right now", 1);
		else
			reply_problem(r, 404, "no such client");
		edit_free(e);
		return;
	}
	e->old_keys = client_name_keys(docs[0].doc);
	e->doc = json_deep_copy(docs[0].doc);
	if (e->change(r, e->doc, e->arg) != 0) {
		edit_free(e);
		return;
	}
	time_format_ms(wall_ms(), at, sizeof(at));
	json_object_set_new(e->doc, "updated_at", json_string(at));
	json_object_set_new(e->doc, "updated_by", json_string(r->uid));
	new_keys = client_name_keys(e->doc);
	snprintf(tag, sizeof(tag), "r:%s", json_string_value(json_object_get(e->doc, "region")));
	t = tx_new(tag);
	k = tx_key(t, "client:%s", json_string_value(json_object_get(e->doc, "id")));
	kn = tx_key(t, "names");
	tx_rev(t, k, docs[0].rev);
	tx_doc(t, k, e->doc);
	json_array_foreach(e->old_keys, i, v)
		tx_zrem(t, kn, json_string_value(v));
	json_array_foreach(new_keys, i, v)
		tx_zadd(t, kn, 0, json_string_value(v));
	json_decref(new_keys);
	if (tx_run(t, r->srv, edit_written, e) < 0) {
		reply_unavailable(r, "redis: the client could not be changed", 1);
		edit_free(e);
	}
}

void
client_edit(struct request *r, const char *id, const char *action, client_change_fn change,
    void *arg)
{
	struct client_edit *e;
	const char *keys[1];

	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	if (client_key(r, id, e->key, sizeof(e->key)) < 0) {
		free(e);
		return;
	}
	e->r = r;
	e->change = change;
	e->arg = arg;
	e->action = action;
	keys[0] = e->key;
	if (store_fetch(r->srv, keys, 1, edit_read, e) < 0) {
		reply_unavailable(r, "redis: the client cannot be read right now", 1);
		edit_free(e);
	}
}

/* PATCH: members sent replace the stored ones; null clears an optional one. */
static int
patch_apply(struct request *r, json_t *doc, void *arg)
{
	const char *key;
	json_t *v;

	(void)arg;
	json_object_foreach(r->body, key, v)
		json_object_set(doc, key, v);
	return 0;
}

void
api_client_patch(struct request *r)
{
	struct errlist errs = { 0 };

	client_check(r->body, 1, r->srv->conf, &errs);
	if (errs.n) {
		reply_problem_errors(r, 422, "the change is not valid", &errs);
		errlist_free(&errs);
		return;
	}
	client_edit(r, request_param(r, "id"), "client.update", patch_apply, NULL);
}
