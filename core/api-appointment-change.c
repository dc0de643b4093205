/*
 * api-appointment-change.c - what happens to a booked appointment:
 * POST /api/v1/appointments/{id}/cancel {"reason"},
 * POST /api/v1/appointments/{id}/reschedule {"start"},
 * POST /api/v1/appointments/{id}/status {"status":"arrived|fulfilled|noshow"}.
 *
 * Each is one transaction on the appointment's revision. A reschedule
 * takes the new place and frees the old one together, so the old place
 * is freed only if the new one is taken; the appointment's interpreter
 * goes along, so the new time must be within their hours as well as free
 * for them. Attendance moves the referral on (fulfilled: completed,
 * noshow: no_show) in the same step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"

enum change { CANCEL, RESCHEDULE, STATUS };

static const struct bfield cancel_spec[] = {
	{ "reason", BF_TEXT, BF_REQUIRED, 2000, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, 0, 0, 0 }
};
static const struct bfield reschedule_spec[] = {
	{ "start", BF_STRING, BF_REQUIRED, 40, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, 0, 0, 0 }
};
static const char *const attendance[] = { "arrived", "fulfilled", "noshow", NULL };
static const struct bfield status_spec[] = {
	{ "status", BF_STRING, BF_REQUIRED, 16, attendance, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, 0, 0, 0 }
};

struct appt_change {
	struct request *r;
	enum change what;
	json_t *appt;
	long long rev;
	json_t *provider;
	json_t *referral;
	long long referral_rev;
	json_t *interpreter;		/* RESCHEDULE with an interpreter */
	json_t *after;
	struct slot to;			/* RESCHEDULE */
	int k_taken, k_client, k_interp;
};

static const char *
str(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

static void
change_free(struct appt_change *c)
{
	json_decref(c->appt);
	json_decref(c->provider);
	json_decref(c->referral);
	json_decref(c->interpreter);
	json_decref(c->after);
	free(c);
}

static void
answer(struct appt_change *c, int status, const char *problem)
{
	if (status == 503)
		reply_unavailable(c->r, problem, 1);
	else if (status == 422) {
		struct errlist errs = { 0 };
		errlist_add(&errs, c->what == RESCHEDULE ? "start" : "status", "%s", problem);
		reply_problem_errors(c->r, 422, "the change is not valid", &errs);
		errlist_free(&errs);
	} else
		reply_problem(c->r, status, problem);
	change_free(c);
}

static void
changed(const struct tx_result *res, void *arg)
{
	struct appt_change *c = arg;
	struct request *r = c->r;
	static const char *const actions[] = { "appointment.cancel", "appointment.reschedule",
	    "appointment.status" };

	if (res->status == TX_OK) {
		struct server *srv = r->srv;	/* r is gone once answered */
		audit_record(r->srv, r, r->uid, actions[c->what], "ok",
		    json_pack("{s:O, s:O}", "appointment_id", json_object_get(c->after, "id"),
		    "client_id", json_object_get(c->after, "client_id")));
		events_kick(srv);
		reply_json(r, 200, json_incref(c->after));
		/* A place freed up: the provider's waitlist may take it. */
		if (c->what != STATUS)
			waitlist_offer(srv, json_string_value(json_object_get(c->after, "provider_id")));
		change_free(c);
		return;
	}
	if (res->status != TX_CONFLICT) {
		answer(c, 503, "redis: the appointment could not be changed");
		return;
	}
	if (res->key == c->k_taken)
		answer(c, 409, "start: the slot is full");
	else if (res->key == c->k_client)
		answer(c, 409, "start: the client has another appointment then");
	else if (res->key == c->k_interp)
		answer(c, 409, "start: the appointment's interpreter is not free then");
	else
		answer(c, 409, "the appointment changed meanwhile; look again and retry");
}

/* The new document: status, times, sequence and history. */
static json_t *
moved(struct appt_change *c, const char *status, const char *note)
{
	json_t *a = json_deep_copy(c->appt);
	json_t *history = json_object_get(a, "history");
	char at[40];

	time_format_ms(wall_ms(), at, sizeof(at));
	json_object_set_new(a, "status", json_string(status));
	json_object_set_new(a, "updated_at", json_string(at));
	json_object_set_new(a, "sequence",
	    json_integer(json_integer_value(json_object_get(a, "sequence")) + 1));
	if (!json_is_array(history)) {
		history = json_array();
		json_object_set_new(a, "history", history);
	}
	json_array_append_new(history, json_pack("{s:s, s:s, s:s, s:s?}", "status", status,
	    "at", at, "actor", c->r->uid, "note", note));
	return a;
}

static void
apply(struct appt_change *c)
{
	struct request *r = c->r;
	const json_t *a = c->appt;
	const char *id = str(a, "id"), *cid = str(a, "client_id"), *pid = str(a, "provider_id");
	const char *interp = str(a, "interpreter_id"), *zone = str(a, "timezone");
	int64_t s = 0, e = 0;
	char tag[48], date[11], field[24], member[160];
	struct tx *t;
	int k;

	time_parse(str(a, "start"), &s);
	time_parse(str(a, "end"), &e);
	local_date(s, zone, date);
	snprintf(field, sizeof(field), "%lld", (long long)s);
	busy_member(member, sizeof(member), s, e, id);
	snprintf(tag, sizeof(tag), "r:%s", str(a, "region"));
	t = tx_new(tag);
	k = tx_key(t, "appt:%s", id);
	tx_rev(t, k, c->rev);
	c->k_taken = c->k_client = c->k_interp = -1;
	switch (c->what) {
	case CANCEL:
		c->after = moved(c, "cancelled", str(r->body, "reason"));
		tx_hincrby(t, tx_key(t, "taken:%s:%s", pid, date), field, -1);
		tx_zrem(t, tx_key(t, "busy:client:%s", cid), member);
		if (interp)
			tx_zrem(t, tx_key(t, "busy:interp:%s", interp), member);
		reminders_remove(t, r->srv->conf, id, s);
		tx_event(t, "appointment.cancelled", id, str(a, "area"), pid);
		break;
	case RESCHEDULE: {
		char date2[11], field2[24], member2[160], start[40], end[40];
		local_date(c->to.start_ms, zone, date2);
		snprintf(field2, sizeof(field2), "%lld", (long long)c->to.start_ms);
		busy_member(member2, sizeof(member2), c->to.start_ms, c->to.end_ms, id);
		{
			char note[80];
			snprintf(note, sizeof(note), "moved from %s", str(a, "start"));
			c->after = moved(c, "booked", note);
		}
		time_format_local(c->to.start_ms, zone, start, sizeof(start));
		time_format_local(c->to.end_ms, zone, end, sizeof(end));
		json_object_set_new(c->after, "start", json_string(start));
		json_object_set_new(c->after, "end", json_string(end));
		c->k_taken = tx_key(t, "taken:%s:%s", pid, date2);
		c->k_client = tx_key(t, "busy:client:%s", cid);
		tx_cap(t, c->k_taken, field2, provider_capacity(c->provider));
		tx_free_interval(t, c->k_client, c->to.start_ms, c->to.end_ms, member);
		if (interp) {
			c->k_interp = tx_key(t, "busy:interp:%s", interp);
			tx_free_interval(t, c->k_interp, c->to.start_ms, c->to.end_ms, member);
			tx_zrem(t, c->k_interp, member);
			tx_zadd(t, c->k_interp, (double)c->to.start_ms, member2);
		}
		tx_hincrby(t, tx_key(t, "taken:%s:%s", pid, date), field, -1);
		tx_hincrby(t, c->k_taken, field2, 1);
		tx_zrem(t, c->k_client, member);
		tx_zadd(t, c->k_client, (double)c->to.start_ms, member2);
		tx_zadd(t, tx_key(t, "appts:provider:%s", pid), (double)c->to.start_ms, id);
		tx_zadd(t, tx_key(t, "appts:org:%s", str(a, "organization")), (double)c->to.start_ms, id);
		tx_zadd(t, tx_key(t, "appts:client:%s", cid), (double)c->to.start_ms, id);
		reminders_remove(t, r->srv->conf, id, s);
		reminders_add(t, r->srv->conf, id, c->to.start_ms);
		tx_event(t, "appointment.rescheduled", id, str(a, "area"), pid);
		break;
	}
	case STATUS: {
		const char *st = str(r->body, "status");
		char type[48];
		c->after = moved(c, st, NULL);
		snprintf(type, sizeof(type), "appointment.%s", st);
		tx_event(t, type, id, str(a, "area"), pid);
		if (strcmp(st, "arrived") != 0)
			stats_appointment(t, str(a, "area"), s, st);
		/* Attendance closes the referral it was booked for. */
		if (c->referral && strcmp(str(c->referral, "status") ?: "", "scheduled") == 0 &&
		    strcmp(st, "arrived") != 0) {
			json_t *after = referral_moved(c->referral,
			    strcmp(st, "fulfilled") == 0 ? "completed" : "no_show", r->uid, NULL);
			referral_move_tx(t, c->referral, c->referral_rev, after);
			json_decref(after);
		}
		break;
	}
	}
	tx_doc(t, k, c->after);
	if (tx_run(t, r->srv, changed, c) < 0)
		answer(c, 503, "redis: the appointment could not be changed");
}

/* Which attendance moves are legal from where. */
static int
status_allowed(const char *from, const char *to)
{
	if (strcmp(to, "arrived") == 0 || strcmp(to, "noshow") == 0)
		return strcmp(from, "booked") == 0;
	return strcmp(from, "booked") == 0 || strcmp(from, "arrived") == 0;	/* fulfilled */
}

static void
related_read(struct doc *docs, size_t n, void *arg)
{
	struct appt_change *c = arg;
	const char *from = str(c->appt, "status");
	size_t at = 1;

	if (docs == NULL) {
		answer(c, 503, "redis: the appointment cannot be read right now");
		return;
	}
	c->provider = docs[0].doc ? json_incref(docs[0].doc) : NULL;
	if (str(c->appt, "referral_id") && at < n) {
		if (docs[at].doc) {
			c->referral = json_incref(docs[at].doc);
			c->referral_rev = docs[at].rev;
		}
		at++;
	}
	if (c->what == RESCHEDULE && str(c->appt, "interpreter_id") && at < n && docs[at].doc)
		c->interpreter = json_incref(docs[at].doc);
	if (c->provider == NULL) {
		answer(c, 409, "the appointment's provider is gone");
		return;
	}
	if (c->what == STATUS) {
		const char *to = str(c->r->body, "status");
		char msg[120];
		if (!status_allowed(from, to)) {
			snprintf(msg, sizeof(msg), "an appointment that is %s cannot be marked %s",
			    from, to);
			answer(c, 409, msg);
			return;
		}
	} else if (strcmp(from, "booked") != 0) {
		char msg[120];
		snprintf(msg, sizeof(msg), "an appointment that is %s cannot be %s", from,
		    c->what == CANCEL ? "cancelled" : "moved");
		answer(c, 409, msg);
		return;
	}
	if (c->what == RESCHEDULE) {
		int64_t ms = 0;
		const char *start = str(c->r->body, "start");
		if (strlen(start) <= 10 || time_parse(start, &ms) < 0) {
			answer(c, 422, "must be a time with an offset (2026-12-01T09:30:00+04:00)");
			return;
		}
		if (!slot_find(c->provider, ms, &c->to)) {
			answer(c, 422, "is not the start of one of this provider's slots");
			return;
		}
		if (c->to.start_ms <= wall_ms()) {
			answer(c, 422, "is in the past");
			return;
		}
		if (str(c->appt, "interpreter_id") && (c->interpreter == NULL ||
		    !hours_cover(c->interpreter, c->to.start_ms, c->to.end_ms))) {
			answer(c, 409, "start: the appointment's interpreter is not on duty then");
			return;
		}
	}
	apply(c);
}

static void
appointment_read(struct doc *docs, size_t n, void *arg)
{
	struct appt_change *c = arg;
	struct request *r = c->r;
	const char *org, *ref, *interp;
	char key[3][160];
	const char *keys[] = { key[0], key[1], key[2] };
	size_t nkeys = 1;

	(void)n;
	if (docs == NULL) {
		answer(c, 503, "redis: the appointment cannot be read right now");
		return;
	}
	org = docs[0].doc ? str(docs[0].doc, "organization") : NULL;
	if (docs[0].doc == NULL || !authz_org_visible(r, org)) {
		answer(c, 404, "no such appointment");
		return;
	}
	/* Attendance is the provider's to mark; the migration service's
	 * caseworkers book, move and cancel. */
	if (c->what == STATUS && !(authz_org_scoped(r) && org && strcmp(org, r->org_id) == 0)) {
		answer(c, 403, "only the provider's staff mark attendance");
		return;
	}
	c->appt = json_incref(docs[0].doc);
	c->rev = docs[0].rev;
	key_region(key[0], sizeof(key[0]), str(c->appt, "region"), "provider",
	    str(c->appt, "provider_id"));
	ref = str(c->appt, "referral_id");
	if (ref)
		key_region(key[nkeys++], sizeof(key[0]), str(c->appt, "region"), "referral", ref);
	interp = str(c->appt, "interpreter_id");
	if (c->what == RESCHEDULE && interp)
		key_region(key[nkeys++], sizeof(key[0]), str(c->appt, "region"), "interp", interp);
	if (store_fetch(r->srv, keys, nkeys, related_read, c) < 0)
		answer(c, 503, "redis: the appointment cannot be read right now");
}

static void
change(struct request *r, enum change what, const struct bfield *spec)
{
	struct errlist errs = { 0 };
	struct appt_change *c;
	char key[160];
	const char *keys[] = { key };

	body_check(r->body, spec, 0, &errs);
	if (errs.n) {
		reply_problem_errors(r, 422, "the change is not valid", &errs);
		errlist_free(&errs);
		return;
	}
	if (appointment_key(r, request_param(r, "id"), key, sizeof(key)) < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	c->r = r;
	c->what = what;
	if (store_fetch(r->srv, keys, 1, appointment_read, c) < 0)
		answer(c, 503, "redis: the appointment cannot be read right now");
}

void api_appointment_cancel(struct request *r) { change(r, CANCEL, cancel_spec); }
void api_appointment_reschedule(struct request *r) { change(r, RESCHEDULE, reschedule_spec); }
void api_appointment_status(struct request *r) { change(r, STATUS, status_spec); }
