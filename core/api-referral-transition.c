/*
 * api-referral-transition.c - POST /api/v1/referrals/{id}/transition
 * {"to","note"}: a person moves a referral (referral-states.c decides
 * whether they may). A move that raced another is read again and
 * decided again, so two answers to one referral never both land.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"

#define MOVE_TRIES 5

static const struct bfield transition_spec[] = {
	{ "to", BF_STRING, BF_REQUIRED, 16, NULL, 0, 0, 0 },
	{ "note", BF_TEXT, BF_NULLABLE, 2000, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, 0, 0, 0 }
};

struct transition {
	struct request *r;
	char key[160];
	json_t *after;
	int tries;
};

static void referral_read(struct doc *docs, size_t n, void *arg);

static void
transition_free(struct transition *t)
{
	json_decref(t->after);
	free(t);
}

static void
moved(const struct tx_result *res, void *arg)
{
	struct transition *t = arg;
	struct request *r = t->r;
	const char *keys[] = { t->key };

	if (res->status == TX_OK) {
		audit_record(r->srv, r, r->uid, "referral.transition", "ok",
		    json_pack("{s:O, s:O, s:O}", "referral_id", json_object_get(t->after, "id"),
		    "client_id", json_object_get(t->after, "client_id"),
		    "status", json_object_get(t->after, "status")));
		events_kick(r->srv);
		reply_json(r, 200, json_incref(t->after));
		transition_free(t);
		return;
	}
	json_decref(t->after);
	t->after = NULL;
	if (res->status == TX_CONFLICT && ++t->tries < MOVE_TRIES &&
	    store_fetch(r->srv, keys, 1, referral_read, t) == 0)
		return;
	if (res->status == TX_CONFLICT)
		reply_problem(r, 409, "the referral is being changed by others right now; look "
		    "again and retry");
	else
		reply_unavailable(r, "redis: the referral could not be changed", 1);
	transition_free(t);
}

static void
referral_read(struct doc *docs, size_t n, void *arg)
{
	struct transition *t = arg;
	struct request *r = t->r;
	const char *to = json_string_value(json_object_get(r->body, "to"));
	const char *note = json_string_value(json_object_get(r->body, "note"));
	const char *from, *org;
	unsigned actor = 0;
	char tag[48], msg[160];
	struct tx *tx;

	(void)n;
	if (docs == NULL) {
		reply_unavailable(r, "redis: the referral cannot be read right now", 1);
		transition_free(t);
		return;
	}
	if (!referral_visible(r, docs[0].doc)) {
		reply_problem(r, 404, "no such referral");
		transition_free(t);
		return;
	}
	from = json_string_value(json_object_get(docs[0].doc, "status"));
	org = json_string_value(json_object_get(docs[0].doc, "organization"));
	if ((r->roles & ROLE_PROVIDER) && org && r->org_id[0] && strcmp(org, r->org_id) == 0)
		actor |= REFERRAL_BY_PROVIDER;
	if (r->roles & ROLE_CASEWORKER)
		actor |= REFERRAL_BY_CASEWORKER;
	switch (referral_move_check(from ? from : "", to, actor,
	    note && strspn(note, " \t\n") < strlen(note))) {
	case MOVE_OK:
		break;
	case MOVE_ILLEGAL:
		snprintf(msg, sizeof(msg), "a referral that is %s cannot become %s",
		    from ? from : "?", to);
		reply_problem(r, 409, msg);
		transition_free(t);
		return;
	case MOVE_FORBIDDEN:
		snprintf(msg, sizeof(msg), "your role cannot make a %s referral %s", from, to);
		reply_problem(r, 403, msg);
		transition_free(t);
		return;
	case MOVE_NEEDS_NOTE: {
		struct errlist errs = { 0 };
		errlist_add(&errs, "note", "say why (the caseworker and the client will see it)");
		reply_problem_errors(r, 422, "the move needs a note", &errs);
		errlist_free(&errs);
		transition_free(t);
		return;
	}
	}
	t->after = referral_moved(docs[0].doc, to, r->uid, note);
	snprintf(tag, sizeof(tag), "r:%s", id_region(request_param(r, "id")));
	tx = tx_new(tag);
	referral_move_tx(tx, docs[0].doc, docs[0].rev, t->after);
	if (tx_run(tx, r->srv, moved, t) < 0) {
		reply_unavailable(r, "redis: the referral could not be changed", 1);
		transition_free(t);
	}
}

void
api_referral_transition(struct request *r)
{
	struct errlist errs = { 0 };
	const char *to = json_string_value(json_object_get(r->body, "to"));
	struct transition *t;
	const char *keys[1];

	body_check(r->body, transition_spec, 0, &errs);
	if (errs.n == 0 && !referral_state_known(to))
		errlist_add(&errs, "to", "is not a referral status");
	if (errs.n) {
		reply_problem_errors(r, 422, "the move is not valid", &errs);
		errlist_free(&errs);
		return;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	t->r = r;
	if (referral_key(r, request_param(r, "id"), t->key, sizeof(t->key)) < 0) {
		free(t);
		return;
	}
	keys[0] = t->key;
	if (store_fetch(r->srv, keys, 1, referral_read, t) < 0) {
		reply_unavailable(r, "redis: the referral cannot be read right now", 1);
		transition_free(t);
	}
}
