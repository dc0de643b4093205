/*
 * appointment-book.c - taking places, atomically. One booking is one
 * transaction (lua/apply.lua) under the region's tag that checks, and
 * only then writes:
 *
 *   - the slot still has a place: the day's count of places taken at
 *     that start is below the provider's capacity (CAP);
 *   - the client has no appointment overlapping it, anywhere in the
 *     region (FREE over the client's busy intervals);
 *   - with an interpreter language: the interpreter picked is free then
 *     (FREE over the interpreter's busy intervals).
 *
 * A full slot or a busy client is a 409 naming which. A busy interpreter
 * (another booking took them since we looked) is tried again with the
 * next interpreter of the language on duty then; none left is a 409.
 * Several clients (a household) are booked in one transaction: all or
 * none, with one interpreter for all of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"

struct booking *
booking_new(struct request *r)
{
	struct booking *b = calloc(1, sizeof(*b));

	if (b) {
		b->r = r;
		b->docs = json_array();
	}
	return b;
}

void
booking_free(struct booking *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++)
		json_decref(b->items[i].client);
	free(b->items);
	json_decref(b->provider);
	json_decref(b->referral);
	json_decref(b->interpreters);
	json_decref(b->docs);
	free(b);
}

int
booking_add(struct booking *b, const json_t *client, const struct slot *s)
{
	struct booking_item *v = realloc(b->items, (b->n + 1) * sizeof(*v));

	if (v == NULL)
		return -1;
	b->items = v;
	b->items[b->n].client = json_incref((json_t *)client);
	b->items[b->n].slot = *s;
	b->n++;
	return 0;
}

static const char *
str(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/* The appointment document of item i. */
static json_t *
appointment_doc(struct booking *b, size_t i, const char *id, const char *interp, int64_t now)
{
	struct request *r = b->r;
	const json_t *p = b->provider, *c = b->items[i].client;
	const char *zone = str(p, "timezone");
	char start[40], end[40], at[40];
	const json_t *hh = json_object_get(c, "household_id");

	time_format_local(b->items[i].slot.start_ms, zone, start, sizeof(start));
	time_format_local(b->items[i].slot.end_ms, zone, end, sizeof(end));
	time_format_ms(now, at, sizeof(at));
	return json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:O, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
	    " s:s?, s:s?, s:s, s:s, s:s, s:i, s:[{s:s, s:s, s:s}]}",
	    "id", id, "provider_id", str(p, "id"), "client_id", str(c, "id"),
	    "referral_id", b->referral ? str(b->referral, "id") : NULL,
	    "course_id", b->course_id[0] ? b->course_id : NULL,
	    "household_id", hh ? hh : json_null(),
	    "area", str(p, "area"), "organization", str(p, "organization"),
	    "region", str(p, "region"), "timezone", zone, "start", start, "end", end,
	    "status", "booked",
	    "interpreter_language", b->lang[0] ? b->lang : NULL, "interpreter_id", interp,
	    "created_at", at, "created_by", r->uid, "updated_at", at, "sequence", 0,
	    "history", "status", "booked", "at", at, "actor", r->uid);
}

/* The member of a busy set for an appointment: "start:end:id". */
void
busy_member(char *buf, size_t len, int64_t start, int64_t end, const char *id)
{
	snprintf(buf, len, "%lld:%lld:%s", (long long)start, (long long)end, id);
}

static void booking_try(struct booking *b);

static void
booked(const struct tx_result *res, void *arg)
{
	struct booking *b = arg;
	struct request *r = b->r;

	if (res->status == TX_OK) {
		size_t i;
		json_t *d;
		json_array_foreach(b->docs, i, d)
			audit_record(r->srv, r, r->uid, "appointment.book", "ok",
			    json_pack("{s:O, s:O}", "appointment_id", json_object_get(d, "id"),
			    "client_id", json_object_get(d, "client_id")));
		events_kick(r->srv);
		b->done(b, 201, NULL);
		booking_free(b);
		return;
	}
	if (res->status != TX_CONFLICT) {
		b->done(b, 503, "redis: the booking could not be stored");
		booking_free(b);
		return;
	}
	for (size_t i = 0; i < b->n; i++) {
		if (res->key == b->items[i].k_taken) {
			b->done(b, 409, b->n > 1 ? "start: not enough places left from this start "
			    "for every member" : "start: the slot is full");
			booking_free(b);
			return;
		}
		if (res->key == b->items[i].k_busy) {
			b->done(b, 409, "client_id: the client already has an appointment at that "
			    "time");
			booking_free(b);
			return;
		}
	}
	if (res->key == b->k_interp) {
		b->cand++;		/* taken meanwhile: the next one */
		booking_try(b);
		return;
	}
	if (b->extra_conflict) {
		const char *why = b->extra_conflict(b, res->key);
		if (why) {
			b->done(b, 409, why);
			booking_free(b);
			return;
		}
	}
	b->done(b, 409, "the referral changed while booking; look again and retry");
	booking_free(b);
}

/* One attempt, with interpreter candidate b->cand (if any). */
static void
booking_try(struct booking *b)
{
	struct request *r = b->r;
	const json_t *p = b->provider;
	const char *pid = str(p, "id"), *area = str(p, "area"), *org = str(p, "organization");
	const char *interp = NULL;
	int64_t now = wall_ms();
	char tag[48], member[160], field[24], date[11];
	struct tx *t;

	if (b->lang[0]) {
		const json_t *cand = json_array_get(b->interpreters, b->cand);
		if (cand == NULL) {
			char msg[160];
			snprintf(msg, sizeof(msg), "interpreter_language: no %s interpreter is free "
			    "then", b->lang);
			b->done(b, 409, msg);
			booking_free(b);
			return;
		}
		interp = str(cand, "id");
	}
	json_array_clear(b->docs);
	snprintf(tag, sizeof(tag), "r:%s", str(p, "region"));
	t = tx_new(tag);
	b->k_interp = interp ? tx_key(t, "busy:interp:%s", interp) : -1;
	for (size_t i = 0; i < b->n; i++) {
		struct booking_item *it = &b->items[i];
		const char *cid = str(it->client, "id");
		char id[ID_MAX];
		json_t *doc;
		int k;

		if (id_new(id, sizeof(id), str(p, "region")) < 0) {
			tx_free(t);
			b->done(b, 500, "out of randomness");
			booking_free(b);
			return;
		}
		local_date(it->slot.start_ms, str(p, "timezone"), date);
		snprintf(field, sizeof(field), "%lld", (long long)it->slot.start_ms);
		busy_member(member, sizeof(member), it->slot.start_ms, it->slot.end_ms, id);
		it->k_taken = tx_key(t, "taken:%s:%s", pid, date);
		it->k_busy = tx_key(t, "busy:client:%s", cid);
		if (!b->held)		/* an offer's place is counted already */
			tx_cap(t, it->k_taken, field, provider_capacity(p));
		tx_free_interval(t, it->k_busy, it->slot.start_ms, it->slot.end_ms, NULL);
		if (interp)
			tx_free_interval(t, b->k_interp, it->slot.start_ms, it->slot.end_ms, NULL);
		doc = appointment_doc(b, i, id, interp, now);
		k = tx_key(t, "appt:%s", id);
		tx_absent(t, k);
		tx_doc(t, k, doc);
		if (!b->held)
			tx_hincrby(t, it->k_taken, field, 1);
		reminders_add(t, r->srv->conf, id, it->slot.start_ms);
		tx_zadd(t, it->k_busy, (double)it->slot.start_ms, member);
		if (interp)
			tx_zadd(t, b->k_interp, (double)it->slot.start_ms, member);
		tx_zadd(t, tx_key(t, "appts:provider:%s", pid), (double)it->slot.start_ms, id);
		tx_zadd(t, tx_key(t, "appts:org:%s", org), (double)it->slot.start_ms, id);
		tx_zadd(t, tx_key(t, "appts:client:%s", cid), (double)it->slot.start_ms, id);
		tx_event(t, "appointment.booked", id, area, pid);
		stats_appointment(t, area, it->slot.start_ms, "booked");
		json_array_append_new(b->docs, doc);
	}
	if (b->extra)
		b->extra(b, t);
	if (b->referral && strcmp(str(b->referral, "status"), "accepted") == 0) {
		/* The referral's first appointment schedules it. */
		json_t *after = referral_moved(b->referral, "scheduled", r->uid, NULL);
		referral_move_tx(t, b->referral, b->referral_rev, after);
		stats_first_appointment(t, b->referral, b->items[0].slot.start_ms);
		json_decref(after);
	} else if (b->referral) {
		tx_rev(t, tx_key(t, "referral:%s", str(b->referral, "id")), b->referral_rev);
	}
	if (tx_run(t, r->srv, booked, b) < 0) {
		b->done(b, 503, "redis: the booking could not be stored");
		booking_free(b);
	}
}

/* Interpreters of the language on duty for every item: the candidates. */
static void
interpreters_read(struct doc *docs, size_t n, const char *next, void *arg)
{
	struct booking *b = arg;

	(void)next;
	if (docs == NULL) {
		b->done(b, 503, "redis: interpreters cannot be read right now");
		booking_free(b);
		return;
	}
	b->interpreters = json_array();
	for (size_t i = 0; i < n; i++) {
		int on_duty = docs[i].doc != NULL;
		for (size_t k = 0; on_duty && k < b->n; k++)
			on_duty = hours_cover(docs[i].doc, b->items[k].slot.start_ms,
			    b->items[k].slot.end_ms);
		if (on_duty)
			json_array_append(b->interpreters, docs[i].doc);
	}
	booking_try(b);
}

/*
 * Books every item added (booking_add) at b->provider, with b->lang's
 * interpreter if set; b->done(b, status, problem) is called once, with
 * status 201 and b->docs holding the appointments on success. Frees b.
 */
void
booking_start(struct booking *b)
{
	char index[64];
	int rc;

	if (b->lang[0] == '\0') {
		booking_try(b);
		return;
	}
	snprintf(index, sizeof(index), "interps:lang:%s", b->lang);
	rc = store_list_regions(b->r->srv, index, "interp", str(b->provider, "region"), NULL,
	    500, NULL, NULL, interpreters_read, b);
	if (rc < 0) {
		b->done(b, 503, "redis: interpreters cannot be read right now");
		booking_free(b);
	}
}
