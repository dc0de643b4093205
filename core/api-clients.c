/*
 * api-clients.c - the people korpu serves: POST /api/v1/clients,
 * GET /api/v1/clients/{id}, PATCH /api/v1/clients/{id}.
 *
 * A client lives under its region's tag; its registration number is
 * claimed across regions first (client-regno.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"

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
client_written(const struct tx_result *res, void *arg)
{
	struct client_create *c = arg;
	struct request *r = c->r;

	if (res->status == TX_OK) {
		audit_record(r->srv, r, r->uid, "client.create", "ok", audit_ids("client_id", c->id));
		reply_json(r, 201, json_incref(c->doc));
	} else {
		regno_release(r->srv, c->regno, c->claim);
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
		regno_release(c->r->srv, c->regno, c->claim);
		reply_unavailable(c->r, "redis: the client could not be stored", 1);
		create_free(c);
	}
}

/* 409 naming the client that has the number (when known). */
static void
regno_taken(struct request *r, const char *action, const char *holder)
{
	json_t *p;

	if (holder == NULL || holder[0] == '\0') {
		reply_problem(r, 409, "registration_no: a client with this registration number exists");
		return;
	}
	p = problem_new(409, "registration_no: a client with this registration number "
	    "exists (client_id names it)", NULL);
	json_object_set_new(p, "client_id", json_string(holder));
	audit_record(r->srv, r, r->uid, action, "duplicate", audit_ids("client_id", holder));
	reply_json_problem(r, 409, p);
}

static void
create_claimed(enum regno_outcome how, const char *what, void *arg)
{
	struct client_create *c = arg;

	if (how == REGNO_CLAIMED) {
		snprintf(c->claim, sizeof(c->claim), "%s", what);
		client_write(c);
		return;
	}
	if (how == REGNO_TAKEN)
		regno_taken(c->r, "client.create", what);
	else	/* (REGNO_OURS cannot be: the id is new) */
		reply_unavailable(c->r, "redis: the client could not be stored", 1);
	create_free(c);
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
	if (regno_claim(r, c->regno, c->id, create_claimed, c) < 0) {
		reply_problem(r, 500, "out of memory");
		create_free(c);
	}
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
 * done, when given, hears once at the end whether the change was stored
 * (after the answer went: it gets the server, not the request).
 */
struct client_edit {
	struct request *r;
	struct server *srv;
	char key[160];
	client_change_fn change;
	client_edit_done_fn done;
	void *arg;
	const char *action;
	json_t *doc;			/* the edited copy */
	json_t *old_keys;
	int tries;
};

static void edit_read(struct doc *docs, size_t n, void *arg);

static void
edit_end(struct client_edit *e, int stored)
{
	if (e->done)
		e->done(e->srv, stored, e->arg);
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
		edit_end(e, 1);
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
	edit_end(e, 0);
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
		edit_end(e, 0);
		return;
	}
	e->old_keys = client_name_keys(docs[0].doc);
	e->doc = json_deep_copy(docs[0].doc);
	if (e->change(r, e->doc, e->arg) != 0) {
		edit_end(e, 0);
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
		edit_end(e, 0);
	}
}

/* client_edit, and done(srv, stored, arg) once at the end, whatever
 * happens (also when it cannot start). */
void
client_edit_then(struct request *r, const char *id, const char *action, client_change_fn change,
    void *arg, client_edit_done_fn done)
{
	struct server *srv = r->srv;
	struct client_edit *e;
	const char *keys[1];

	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		reply_problem(r, 500, "out of memory");
		if (done)
			done(srv, 0, arg);
		return;
	}
	e->r = r;
	e->srv = srv;
	e->change = change;
	e->done = done;
	e->arg = arg;
	e->action = action;
	if (client_key(r, id, e->key, sizeof(e->key)) < 0) {
		edit_end(e, 0);
		return;
	}
	keys[0] = e->key;
	if (store_fetch(srv, keys, 1, edit_read, e) < 0) {
		reply_unavailable(r, "redis: the client cannot be read right now", 1);
		edit_end(e, 0);
	}
}

void
client_edit(struct request *r, const char *id, const char *action, client_change_fn change,
    void *arg)
{
	client_edit_then(r, id, action, change, arg, NULL);
}

/*
 * PATCH: members sent replace the stored ones; null clears an optional
 * one. A new registration number is claimed first, and the old one
 * given back once the client has the new one.
 */
struct client_patch {
	struct request *r;		/* until the claim is answered */
	char id[ID_MAX];
	char regno[40];			/* the new number, normalized */
	char claim[ID_MAX + 24];	/* its claim, when this change made one */
	char old[40];			/* the number the client had */
	long long began;		/* wall_ms() when the change began */
};

static int
patch_apply(struct request *r, json_t *doc, void *arg)
{
	struct client_patch *p = arg;
	const char *key;
	json_t *v;

	if (p && regno_normalize(json_string_value(json_object_get(doc, "registration_no")),
	    p->old, sizeof(p->old)) < 0)
		p->old[0] = '\0';
	json_object_foreach(r->body, key, v)
		json_object_set(doc, key, v);
	return 0;
}

static void
patch_done(struct server *srv, int stored, void *arg)
{
	struct client_patch *p = arg;

	if (!stored && p->claim[0])
		regno_release(srv, p->regno, p->claim);
	else if (stored && p->old[0] && strcmp(p->old, p->regno) != 0)
		regno_release_held(srv, p->old, p->id, p->began);
	free(p);
}

static void
patch_claimed(enum regno_outcome how, const char *what, void *arg)
{
	struct client_patch *p = arg;
	struct request *r = p->r;

	if (how == REGNO_CLAIMED || how == REGNO_OURS) {
		if (how == REGNO_CLAIMED)	/* (a claim renewed is never given back) */
			snprintf(p->claim, sizeof(p->claim), "%s", what);
		client_edit_then(r, p->id, "client.update", patch_apply, p, patch_done);
		return;
	}
	if (how == REGNO_TAKEN)
		regno_taken(r, "client.update", what);
	else
		reply_unavailable(r, "redis: the client could not be changed", 1);
	free(p);
}

void
api_client_patch(struct request *r)
{
	struct errlist errs = { 0 };
	const char *id = request_param(r, "id");
	const char *regno = json_string_value(json_object_get(r->body, "registration_no"));
	struct client_patch *p;
	char key[160];

	client_check(r->body, 1, r->srv->conf, &errs);
	if (errs.n) {
		reply_problem_errors(r, 422, "the change is not valid", &errs);
		errlist_free(&errs);
		return;
	}
	if (regno == NULL) {
		client_edit(r, id, "client.update", patch_apply, NULL);
		return;
	}
	if (client_key(r, id, key, sizeof(key)) < 0)
		return;
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	p->r = r;
	p->began = wall_ms();
	snprintf(p->id, sizeof(p->id), "%s", id);
	regno_normalize(regno, p->regno, sizeof(p->regno));
	if (regno_claim(r, p->regno, p->id, patch_claimed, p) < 0) {
		reply_problem(r, 500, "out of memory");
		free(p);
	}
}
