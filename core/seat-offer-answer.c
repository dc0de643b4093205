/*
 * seat-offer-answer.c - answering a school place offered from a school's
 * waitlist: POST /api/v1/waitlist/{id}/accept and .../decline on an
 * entry of kind "seat" (api-waitlist.c hands them here once it found the
 * entry offered; offers are made by seat-waitlist.c).
 *
 * Accepting turns the held place into the client's school place, and an
 * accepted referral becomes scheduled, in one step; declining gives the
 * place back and offers it to the next one waiting. Either step first
 * checks that the offer has not lapsed meanwhile (its lapse job is still
 * due) and removes that job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"

struct seat_answer {
	struct request *r;
	json_t *entry, *after;
	long long rev;
	json_t *seat;			/* accepting: the place made */
	int accept;
	int k_entry, k_jobs, k_holder;
};

static const char *
str(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

static void
answer_free(struct seat_answer *a)
{
	json_decref(a->entry);
	json_decref(a->after);
	json_decref(a->seat);
	free(a);
}

static void
answered(const struct tx_result *res, void *arg)
{
	struct seat_answer *a = arg;
	struct request *r = a->r;
	struct server *srv = r->srv;	/* r is gone once answered */

	if (res->status == TX_OK) {
		if (a->accept)
			audit_record(srv, r, r->uid, "seat.take", "ok", json_pack("{s:O, s:O, s:O}",
			    "seat_id", json_object_get(a->seat, "id"), "waitlist_id",
			    json_object_get(a->after, "id"), "client_id",
			    json_object_get(a->after, "client_id")));
		else
			audit_record(srv, r, r->uid, "waitlist.decline", "ok", json_pack("{s:O, s:O}",
			    "waitlist_id", json_object_get(a->after, "id"), "client_id",
			    json_object_get(a->after, "client_id")));
		events_kick(srv);
		if (a->accept)
			json_object_set(a->after, "seat", a->seat);
		reply_json(r, 200, json_incref(a->after));
		if (!a->accept)
			waitlist_offer(srv, str(a->after, "provider_id"));
	} else if (res->status == TX_CONFLICT && res->key == a->k_holder) {
		reply_problem(r, 409, "client_id: the client already has a school place for that "
		    "year; release it first, or decline this offer");
	} else if (res->status == TX_CONFLICT && (res->key == a->k_entry || res->key == a->k_jobs)) {
		reply_problem(r, 409, "the offer changed meanwhile (it may have lapsed); look again");
	} else if (res->status == TX_CONFLICT) {
		reply_problem(r, 409, "the referral changed meanwhile; look again and retry");
	} else {
		reply_unavailable(r, "redis: the waitlist could not be changed", 1);
	}
	answer_free(a);
}

/* The writes that end the offer: its lapse job, the client's one entry
 * at the school, the entry itself; give_back frees the held place. */
static void
end_offer(struct tx *t, struct seat_answer *a, int give_back)
{
	const json_t *e = a->entry;
	const char *pid = str(e, "provider_id");
	char job[160], field[32];

	seat_offer_job(job, sizeof(job), e);
	snprintf(field, sizeof(field), "%s:%lld", str(e, "school_year") ?: "",
	    (long long)json_integer_value(json_object_get(e, "grade")));
	a->k_entry = tx_key(t, "wait:%s", str(e, "id"));
	a->k_jobs = tx_key(t, "jobs");
	tx_rev(t, a->k_entry, a->rev);
	tx_zhas(t, a->k_jobs, job);	/* the offer has not lapsed */
	tx_zrem(t, a->k_jobs, job);
	if (give_back)
		tx_hincrby(t, tx_key(t, "seats:%s", pid), field, -1);
	tx_del(t, tx_key(t, "waitentry:%s:%s", pid, str(e, "client_id")));
	tx_doc(t, a->k_entry, a->after);
}

static void
run(struct seat_answer *a, struct tx *t)
{
	if (tx_run(t, a->r->srv, answered, a) < 0) {
		reply_unavailable(a->r, "redis: the waitlist could not be changed", 1);
		answer_free(a);
	}
}

static struct tx *
region_tx(const json_t *e)
{
	char tag[48];

	snprintf(tag, sizeof(tag), "r:%s", str(e, "region"));
	return tx_new(tag);
}

/* The held place becomes the client's; ref: the entry's referral (at
 * revision ref_rev), or NULL when it names none. */
static void
accept_with(struct seat_answer *a, const json_t *ref, long long ref_rev)
{
	const json_t *e = a->entry;
	const char *st = ref ? str(ref, "status") : NULL;
	char id[ID_MAX], msg[160];
	struct tx *t;

	if (ref && (st == NULL || (strcmp(st, "accepted") && strcmp(st, "scheduled")))) {
		snprintf(msg, sizeof(msg), "the referral is %s now: decline the offer instead",
		    st ?: "unreadable");
		reply_problem(a->r, 409, msg);
		answer_free(a);
		return;
	}
	if (id_new(id, sizeof(id), str(e, "region")) < 0) {
		reply_problem(a->r, 500, "out of randomness");
		answer_free(a);
		return;
	}
	a->seat = seat_doc_new(id, e, str(e, "provider_id"), str(e, "client_id"),
	    str(e, "referral_id"), str(e, "school_year") ?: "",
	    json_integer_value(json_object_get(e, "grade")), a->r->uid);
	json_object_set(a->seat, "waitlist_id", json_object_get(e, "id"));
	json_object_set_new(a->after, "seat_id", json_string(id));
	t = region_tx(e);
	end_offer(t, a, 0);		/* the held place is counted already */
	seat_place_writes(t, a->seat, &a->k_holder);
	if (ref && strcmp(st, "accepted") == 0) {
		json_t *moved = referral_moved(ref, "scheduled", a->r->uid, NULL);
		referral_move_tx(t, ref, ref_rev, moved);
		json_decref(moved);
	} else if (ref) {
		tx_rev(t, tx_key(t, "referral:%s", str(ref, "id")), ref_rev);
	}
	run(a, t);
}

static void
referral_read(struct doc *docs, size_t n, void *arg)
{
	struct seat_answer *a = arg;

	(void)n;
	if (docs == NULL) {
		reply_unavailable(a->r, "redis: the referral cannot be read right now", 1);
		answer_free(a);
	} else if (docs[0].doc == NULL) {
		reply_problem(a->r, 409, "the entry's referral is gone: decline the offer instead");
		answer_free(a);
	} else {
		accept_with(a, docs[0].doc, docs[0].rev);
	}
}

/*
 * Answers the offer of a seat entry (status offered, read at revision
 * rev): accept, or decline with the body's reason. Answers r.
 */
void
seat_offer_answer(struct request *r, const json_t *entry, long long rev, int accept)
{
	struct seat_answer *a = calloc(1, sizeof(*a));
	const char *ref = str(entry, "referral_id");
	char key[160];
	const char *keys[] = { key };

	if (a == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	a->r = r;
	a->entry = json_incref((json_t *)entry);
	a->rev = rev;
	a->accept = accept;
	a->after = waitlist_entry_moved(entry, accept ? "booked" : "declined", r->uid,
	    accept ? NULL : str(r->body, "reason"));
	if (!accept) {
		struct tx *t = region_tx(entry);
		end_offer(t, a, 1);
		tx_event(t, "waitlist.declined", str(entry, "id"), str(entry, "area"),
		    str(entry, "provider_id"));
		run(a, t);
	} else if (ref && id_valid(ref, 1)) {
		key_region(key, sizeof(key), str(entry, "region"), "referral", ref);
		if (store_fetch(r->srv, keys, 1, referral_read, a) < 0) {
			reply_unavailable(r, "redis: the referral cannot be read right now", 1);
			answer_free(a);
		}
	} else {
		accept_with(a, NULL, 0);
	}
}
