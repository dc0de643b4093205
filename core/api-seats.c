/*
 * api-seats.c - school places (the seat model): a place for a school
 * year and grade at a school, for the whole term, with an intake
 * appointment.
 *
 *   GET  /api/v1/providers/{id}/seats   places, taken and left per year and grade
 *   POST /api/v1/seats {"provider_id","client_id","school_year","grade",
 *                       "intake_start"?,"referral_id"?}
 *   GET  /api/v1/seats?provider_id=|client_id=,  GET /api/v1/seats/{id}
 *   POST /api/v1/seats/{id}/release {"reason"}
 *
 * Taking a place is one step that checks the grade still has one
 * (korpu:{r:REGION}:seats:PROVIDER, field "YEAR:GRADE" = places taken)
 * and that the client holds no other school place that year
 * (korpu:{r:REGION}:seatholder:YEAR:CLIENT), and books the intake
 * appointment with it (appointment-book.c): all of it, or nothing.
 * A take for a referral that finds no place left puts the referral on
 * the school's waitlist for that grade and year instead (202 with the
 * entry; seat-waitlist.c), and a release offers the freed place to the
 * first one waiting there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"
#include "plugin-host.h"

static const struct bfield seat_spec[] = {
	{ "provider_id", BF_STRING, BF_REQUIRED, ID_MAX, NULL, 0, 0, 0 },
	{ "client_id", BF_STRING, BF_REQUIRED, ID_MAX, NULL, 0, 0, 0 },
	{ "school_year", BF_STRING, BF_REQUIRED, 9, NULL, 0, 0, 0 },
	{ "grade", BF_INT, BF_NULLABLE, 0, NULL, 0, 12, 0 },
	{ "intake_start", BF_STRING, BF_NULLABLE, 40, NULL, 0, 0, 0 },
	{ "referral_id", BF_STRING, BF_NULLABLE, ID_MAX, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, 0, 0, 0 }
};

static const struct bfield release_spec[] = {
	{ "reason", BF_TEXT, BF_REQUIRED, 2000, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, 0, 0, 0 }
};

static const char *
str(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/* The places of a year and grade at a school, or -1 when it offers none. */
static long long
places_of(const json_t *provider, const char *year, long long grade)
{
	size_t i;
	json_t *e;

	json_array_foreach(json_object_get(provider, "seats"), i, e)
		if (strcmp(str(e, "school_year") ?: "", year) == 0 &&
		    json_integer_value(json_object_get(e, "grade")) == grade)
			return json_integer_value(json_object_get(e, "places"));
	return -1;
}

/* ---- taking a place ---- */

struct seat_take {
	struct request *r;
	json_t *provider, *client, *referral;
	long long referral_rev;
	json_t *seat;
	long long grade;		/* given, or the area plugin's (seat_grade) */
	int k_count, k_holder;
	int full;			/* the intake's step found no place left */
	struct booking *b;
};

static void
take_free(struct seat_take *s)
{
	json_decref(s->provider);
	json_decref(s->client);
	json_decref(s->referral);
	json_decref(s->seat);
	free(s);
}

static void
fail(struct seat_take *s, int status, const char *field, const char *message)
{
	if (status == 422 && field) {
		struct errlist errs = { 0 };
		errlist_add(&errs, field, "%s", message);
		reply_problem_errors(s->r, 422, "the school place cannot be taken", &errs);
		errlist_free(&errs);
	} else if (status == 503) {
		reply_unavailable(s->r, message, 1);
	} else {
		reply_problem(s->r, status, message);
	}
	take_free(s);
}

/*
 * A new school place's document. where: the school (provider) or a
 * waitlist entry of it, for the area, organization and region.
 */
json_t *
seat_doc_new(const char *id, const json_t *where, const char *provider_id,
    const char *client_id, const char *referral_id, const char *year, long long grade,
    const char *actor)
{
	char at[40];

	time_format_ms(wall_ms(), at, sizeof(at));
	return json_pack("{s:s, s:s, s:s, s:s?, s:s, s:I, s:s, s:s, s:s, s:s, s:n, s:s,"
	    " s:s, s:[{s:s, s:s, s:s}]}",
	    "id", id, "provider_id", provider_id, "client_id", client_id,
	    "referral_id", referral_id, "school_year", year, "grade", (json_int_t)grade,
	    "area", str(where, "area"), "organization", str(where, "organization"),
	    "region", str(where, "region"), "status", "taken", "intake_appointment_id",
	    "created_at", at, "created_by", actor,
	    "history", "status", "taken", "at", at, "actor", actor);
}

/*
 * The writes that give the client the place seat describes: the place,
 * the client's one place that year (checked free: *k_holder), the lists
 * and the event. The count of places taken is the caller's: a take
 * counts one more, an accepted offer had its place held already.
 */
void
seat_place_writes(struct tx *t, const json_t *seat, int *k_holder)
{
	const char *id = str(seat, "id"), *pid = str(seat, "provider_id");
	const char *cid = str(seat, "client_id");
	int k = tx_key(t, "seat:%s", id);

	*k_holder = tx_key(t, "seatholder:%s:%s", str(seat, "school_year"), cid);
	tx_absent(t, *k_holder);
	tx_absent(t, k);
	tx_doc(t, k, seat);
	tx_set(t, *k_holder, id);
	tx_zadd(t, tx_key(t, "seatlist:provider:%s", pid), 0, id);
	tx_zadd(t, tx_key(t, "seatlist:client:%s", cid), 0, id);
	tx_event(t, "seat.taken", id, str(seat, "area"), pid);
}

/* The seat's writes, into the booking's step or a step of their own. */
static void
seat_writes(struct seat_take *s, struct tx *t)
{
	const char *year = str(s->r->body, "school_year");
	char field[32];

	snprintf(field, sizeof(field), "%s:%lld", year, s->grade);
	s->k_count = tx_key(t, "seats:%s", str(s->provider, "id"));
	tx_cap(t, s->k_count, field, places_of(s->provider, year, s->grade));
	tx_hincrby(t, s->k_count, field, 1);
	seat_place_writes(t, s->seat, &s->k_holder);
	if (s->referral && s->b == NULL &&
	    strcmp(str(s->referral, "status") ?: "", "accepted") == 0) {
		json_t *after = referral_moved(s->referral, "scheduled", s->r->uid, NULL);
		referral_move_tx(t, s->referral, s->referral_rev, after);
		json_decref(after);
	}
}

/* No place left: a referral waits for one (202 with the waitlist entry);
 * a bare take cannot wait, since an offer is answered for a referral. */
static void
no_place_left(struct seat_take *s)
{
	char msg[240];

	if (s->referral) {
		seat_wait_join(s->r, s->provider, s->client, s->referral,
		    str(s->r->body, "school_year"), s->grade);
		take_free(s);
		return;
	}
	snprintf(msg, sizeof(msg), "grade: no places left in grade %lld for %s at this school; "
	    "take it for the client's referral (referral_id) to join the school's waitlist",
	    s->grade, str(s->r->body, "school_year"));
	fail(s, 409, NULL, msg);
}

static void
seat_conflict(struct seat_take *s, int key)
{
	if (key == s->k_count) {
		no_place_left(s);
	} else if (key == s->k_holder) {
		fail(s, 409, NULL, "client_id: the client already has a school place for that year");
	} else {
		fail(s, 409, NULL, "the records changed meanwhile; look again and retry");
	}
}

static void
taken(const struct tx_result *res, void *arg)
{
	struct seat_take *s = arg;
	struct request *r = s->r;

	if (res->status == TX_OK) {
		audit_record(r->srv, r, r->uid, "seat.take", "ok", json_pack("{s:O, s:O}",
		    "seat_id", json_object_get(s->seat, "id"), "client_id",
		    json_object_get(s->seat, "client_id")));
		events_kick(r->srv);
		reply_json(r, 201, json_incref(s->seat));
		take_free(s);
	} else if (res->status == TX_CONFLICT) {
		seat_conflict(s, res->key);
	} else {
		fail(s, 503, NULL, "redis: the school place could not be stored");
	}
}

static void
with_intake(struct booking *b, struct tx *t)
{
	struct seat_take *s = b->arg;

	json_object_set(s->seat, "intake_appointment_id",
	    json_object_get(json_array_get(b->docs, 0), "id"));
	seat_writes(s, t);
}

static const char *
intake_conflict(struct booking *b, int key)
{
	struct seat_take *s = b->arg;

	if (key == s->k_count) {
		s->full = 1;
		return "grade: no places left in that grade and school year at this school";
	}
	if (key == s->k_holder)
		return "client_id: the client already has a school place for that year";
	return NULL;
}

static void
intake_booked(struct booking *b, int status, const char *problem)
{
	struct seat_take *s = b->arg;

	s->b = NULL;
	if (status == 201) {
		json_object_set(s->seat, "intake", json_array_get(b->docs, 0));
		audit_record(s->r->srv, s->r, s->r->uid, "seat.take", "ok", json_pack("{s:O, s:O}",
		    "seat_id", json_object_get(s->seat, "id"), "client_id",
		    json_object_get(s->seat, "client_id")));
		reply_json(s->r, 201, json_incref(s->seat));
		take_free(s);
	} else if (s->full) {
		no_place_left(s);	/* the intake is not kept: all or nothing */
	} else {
		fail(s, status, NULL, problem);
	}
}

static void
org_read(struct doc *docs, size_t n, void *arg)
{
	struct seat_take *s = arg;
	struct request *r = s->r;
	const char *intake = str(r->body, "intake_start");
	char day[40], id[ID_MAX], msg[200];
	const char *why;

	(void)n;
	if (docs == NULL) {
		fail(s, 503, NULL, "redis: the school's organization cannot be read right now");
		return;
	}
	time_format_ms(wall_ms(), day, sizeof(day));
	day[10] = '\0';
	why = docs[0].doc ? org_agreement_problem(docs[0].doc, str(s->provider, "area"), day) :
	    "does not exist";
	if (why) {
		snprintf(msg, sizeof(msg), "provider_id: the school's organization %s; no client data "
		    "goes to it", why);
		fail(s, 409, NULL, msg);
		return;
	}
	if (id_new(id, sizeof(id), str(s->provider, "region")) < 0) {
		fail(s, 500, NULL, "out of randomness");
		return;
	}
	s->seat = seat_doc_new(id, s->provider, str(s->provider, "id"), str(s->client, "id"),
	    s->referral ? str(s->referral, "id") : NULL, str(r->body, "school_year"), s->grade,
	    r->uid);
	if (intake) {
		struct slot slot;
		int64_t ms = 0;
		struct booking *b;

		if (strlen(intake) <= 10 || time_parse(intake, &ms) < 0 ||
		    !slot_find(s->provider, ms, &slot) || slot.start_ms <= wall_ms()) {
			fail(s, 422, "intake_start", "is not a slot of this school still ahead");
			return;
		}
		b = booking_new(r);
		if (b == NULL || booking_add(b, s->client, &slot) < 0) {
			booking_free(b);
			fail(s, 500, NULL, "out of memory");
			return;
		}
		b->provider = json_incref(s->provider);
		if (s->referral) {
			b->referral = json_incref(s->referral);
			b->referral_rev = s->referral_rev;
		}
		b->extra = with_intake;
		b->extra_conflict = intake_conflict;
		b->done = intake_booked;
		b->arg = s;
		s->b = b;
		booking_start(b);
		return;
	}
	{
		char tag[48];
		struct tx *t;
		snprintf(tag, sizeof(tag), "r:%s", str(s->provider, "region"));
		t = tx_new(tag);
		seat_writes(s, t);
		if (tx_run(t, r->srv, taken, s) < 0)
			fail(s, 503, NULL, "redis: the school place could not be stored");
	}
}

/* The grade: as sent, or the school area's for the referral (its
 * client's age and last grade completed). -1 having answered. */
static int
seat_grade_of(struct seat_take *s, const struct plugin *plugin)
{
	const json_t *given = json_object_get(s->r->body, "grade");
	int (*grade)(void *, const struct korpu_referral *) =
	    PLUGIN_HOOK(plugin->desc, seat_grade);
	struct korpu_referral kr;

	if (json_is_integer(given)) {
		s->grade = json_integer_value(given);
		return 0;
	}
	if (s->referral == NULL || grade == NULL) {
		fail(s, 422, "grade", "name the grade (or take the place for a referral, whose "
		    "grade the school area works out)");
		return -1;
	}
	kr.doc = json_pack("{s:O, s:o, s:O}", "fields", json_object_get(s->referral, "fields"),
	    "client", client_view(s->client, 1, plugin->name), "area",
	    json_object_get(s->referral, "area"));
	s->grade = grade(plugin->state, &kr);
	json_decref((json_t *)kr.doc);
	if (s->grade < 0 || s->grade > 12) {
		fail(s, 422, "grade", "the referral does not tell the grade: name it");
		return -1;
	}
	return 0;
}

static void
docs_read(struct doc *docs, size_t n, void *arg)
{
	struct seat_take *s = arg;
	struct request *r = s->r;
	const struct plugin *plugin;
	const json_t *consent;
	const char *year = str(r->body, "school_year");
	char key[128];
	const char *keys[] = { key };

	if (docs == NULL) {
		fail(s, 503, NULL, "redis: the school place's records cannot be read right now");
		return;
	}
	if (docs[0].doc == NULL) {
		fail(s, 422, "provider_id", "is not a provider of the directory");
		return;
	}
	if (docs[1].doc == NULL) {
		fail(s, 422, "client_id", "is not a client");
		return;
	}
	s->provider = json_incref(docs[0].doc);
	s->client = json_incref(docs[1].doc);
	plugin = plugins_find(&r->srv->plugins, str(s->provider, "area"));
	if (plugin == NULL || plugin->desc->booking_model != KORPU_BOOKING_SEAT) {
		fail(s, 409, NULL, "provider_id: this provider does not give places for a term; "
		    "book an appointment instead");
		return;
	}
	consent = json_object_get(json_object_get(s->client, "consent"), str(s->provider, "area"));
	if (!json_is_true(json_object_get(consent, "share"))) {
		fail(s, 422, "client_id", "has not consented to share their data with this area's "
		    "providers; record their consent first");
		return;
	}
	if (n > 2) {
		const json_t *ref = docs[2].doc;
		const char *st = ref ? str(ref, "status") : NULL;
		if (ref == NULL || strcmp(str(ref, "client_id") ?: "", str(s->client, "id")) != 0 ||
		    strcmp(str(ref, "provider_id") ?: "", str(s->provider, "id")) != 0) {
			fail(s, 422, "referral_id", "is not a referral of this client to this school");
			return;
		}
		if (st == NULL || (strcmp(st, "accepted") && strcmp(st, "scheduled"))) {
			fail(s, 409, NULL, "referral_id: the school must accept the referral first");
			return;
		}
		s->referral = json_incref((json_t *)ref);
		s->referral_rev = docs[2].rev;
	}
	if (seat_grade_of(s, plugin) < 0)
		return;
	if (places_of(s->provider, year, s->grade) < 0) {
		fail(s, 422, "grade", "this school has no places for that grade and school year");
		return;
	}
	snprintf(key, sizeof(key), "korpu:{dir}:org:%s", str(s->provider, "organization"));
	if (store_fetch(r->srv, keys, 1, org_read, s) < 0)
		fail(s, 503, NULL, "redis: the school's organization cannot be read right now");
}

void
api_seat_take(struct request *r)
{
	struct errlist errs = { 0 };
	const char *pid = str(r->body, "provider_id"), *cid = str(r->body, "client_id");
	const char *ref = str(r->body, "referral_id");
	struct seat_take *s;
	char k0[160], k1[160], k2[160];
	const char *keys[] = { k0, k1, k2 };

	body_check(r->body, seat_spec, 0, &errs);
	if (errs.n == 0 && !school_year_valid(str(r->body, "school_year")))
		errlist_add(&errs, "school_year", "must be written 2026/2027");
	if (errs.n == 0 && (!id_valid(pid, 1) || !conf_region_known(r->srv->conf, id_region(pid))))
		errlist_add(&errs, "provider_id", "is not a provider of the directory");
	if (errs.n == 0 && (!id_valid(cid, 1) || strcmp(id_region(cid), id_region(pid)) != 0))
		errlist_add(&errs, "client_id", "is not a client of the school's region");
	if (errs.n == 0 && ref && (!id_valid(ref, 1) || strcmp(id_region(ref), id_region(pid)) != 0))
		errlist_add(&errs, "referral_id", "is not a referral of this client to this school");
	if (errs.n) {
		reply_problem_errors(r, 422, "the school place cannot be taken", &errs);
		errlist_free(&errs);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	s->r = r;
	key_region(k0, sizeof(k0), id_region(pid), "provider", pid);
	key_region(k1, sizeof(k1), id_region(pid), "client", cid);
	if (ref)
		key_region(k2, sizeof(k2), id_region(pid), "referral", ref);
	if (store_fetch(r->srv, keys, ref ? 3 : 2, docs_read, s) < 0)
		fail(s, 503, NULL, "redis: the school place's records cannot be read right now");
}

/* ---- reading ---- */

static void
seat_fetched(struct doc *docs, size_t n, void *arg)
{
	struct request *r = arg;

	(void)n;
	if (docs == NULL)
		reply_unavailable(r, "redis: the school place cannot be read right now", 1);
	else if (docs[0].doc == NULL || !authz_org_visible(r, str(docs[0].doc, "organization")))
		reply_problem(r, 404, "no such school place");
	else
		reply_json(r, 200, json_incref(docs[0].doc));
}

static int
seat_key(struct request *r, const char *id, char *key, size_t len)
{
	if (!id_valid(id, 1) || !conf_region_known(r->srv->conf, id_region(id))) {
		reply_problem(r, 404, "no such school place");
		return -1;
	}
	key_region(key, len, id_region(id), "seat", id);
	return 0;
}

void
api_seat_get(struct request *r)
{
	char key[160];
	const char *keys[] = { key };

	if (seat_key(r, request_param(r, "id"), key, sizeof(key)) < 0)
		return;
	if (store_fetch(r->srv, keys, 1, seat_fetched, r) < 0)
		reply_unavailable(r, "redis: the school place cannot be read right now", 1);
}

static void
seats_listed(struct doc *docs, size_t n, const char *next, void *arg)
{
	reply_page(arg, docs, n, next, "school places");
}

void
api_seat_list(struct request *r)
{
	static const char *const params[] = { "provider_id", "client_id", "limit", "cursor", NULL };
	const char *pid, *cid, *cursor, *id;
	char index[160], prefix[96];
	long limit;

	if (query_parse(r, params) < 0 || query_list(r, &limit, &cursor) < 0)
		return;
	pid = query_get(r, "provider_id");
	cid = query_get(r, "client_id");
	id = pid ? pid : cid;
	if (id == NULL || (pid && cid) || !id_valid(id, 1) ||
	    !conf_region_known(r->srv->conf, id_region(id))) {
		reply_problem(r, 400, "name one provider_id or one client_id");
		return;
	}
	if (cursor && !id_valid(cursor, 1)) {
		reply_problem(r, 400, "cursor is not one this server gave out");
		return;
	}
	snprintf(index, sizeof(index), "korpu:{r:%s}:seatlist:%s:%s", id_region(id),
	    pid ? "provider" : "client", id);
	snprintf(prefix, sizeof(prefix), "korpu:{r:%s}:seat:", id_region(id));
	if (store_list(r->srv, index, prefix, cursor, limit, 0, seats_listed, r) < 0)
		reply_unavailable(r, "redis: school places cannot be read right now", 1);
}

/* GET /api/v1/providers/{id}/seats: each year and grade's places. */
struct seat_counts {
	struct request *r;
	json_t *provider;
};

static void
counts_read(json_t *hashes, void *arg)
{
	struct seat_counts *c = arg;
	json_t *taken = json_array_get(hashes, 0), *out;
	size_t i;
	json_t *e;

	if (hashes == NULL) {
		reply_unavailable(c->r, "redis: school places cannot be read right now", 1);
	} else {
		out = json_array();
		json_array_foreach(json_object_get(c->provider, "seats"), i, e) {
			char field[32];
			long long places = json_integer_value(json_object_get(e, "places")), used;
			snprintf(field, sizeof(field), "%s:%lld", str(e, "school_year"),
			    (long long)json_integer_value(json_object_get(e, "grade")));
			used = json_integer_value(json_object_get(taken, field));
			json_array_append_new(out, json_pack("{s:O, s:O, s:I, s:I, s:I}",
			    "school_year", json_object_get(e, "school_year"),
			    "grade", json_object_get(e, "grade"), "places", (json_int_t)places,
			    "taken", (json_int_t)used,
			    "remaining", (json_int_t)(places > used ? places - used : 0)));
		}
		reply_json(c->r, 200, out);
	}
	json_decref(c->provider);
	free(c);
}

static void
school_read(struct doc *docs, size_t n, void *arg)
{
	struct seat_counts *c = arg;
	struct request *r = c->r;
	char key[160];
	const char *keys[] = { key };

	(void)n;
	if (docs == NULL || docs[0].doc == NULL ||
	    !authz_org_visible(r, str(docs[0].doc, "organization"))) {
		if (docs == NULL)
			reply_unavailable(r, "redis: the provider cannot be read right now", 1);
		else
			reply_problem(r, 404, "no such provider");
		free(c);
		return;
	}
	c->provider = json_incref(docs[0].doc);
	snprintf(key, sizeof(key), "korpu:{r:%s}:seats:%s", str(c->provider, "region"),
	    str(c->provider, "id"));
	if (store_hashes(r->srv, keys, 1, counts_read, c) < 0) {
		reply_unavailable(r, "redis: school places cannot be read right now", 1);
		json_decref(c->provider);
		free(c);
	}
}

void
api_provider_seats(struct request *r)
{
	struct seat_counts *c;
	char key[160];
	const char *keys[] = { key };

	if (provider_key(r, request_param(r, "id"), key, sizeof(key)) < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	c->r = r;
	if (store_fetch(r->srv, keys, 1, school_read, c) < 0) {
		reply_unavailable(r, "redis: the provider cannot be read right now", 1);
		free(c);
	}
}

/* ---- releasing a place ---- */

struct release {
	struct request *r;
	json_t *after;
};

static void
released(const struct tx_result *res, void *arg)
{
	struct release *rl = arg;
	struct request *r = rl->r;

	if (res->status == TX_OK) {
		struct server *srv = r->srv;	/* r is gone once answered */
		audit_record(srv, r, r->uid, "seat.release", "ok", json_pack("{s:O, s:O}",
		    "seat_id", json_object_get(rl->after, "id"), "client_id",
		    json_object_get(rl->after, "client_id")));
		events_kick(srv);
		reply_json(r, 200, json_incref(rl->after));
		/* The place goes to the first one waiting for that grade and year. */
		waitlist_offer(srv, str(rl->after, "provider_id"));
	} else if (res->status == TX_CONFLICT) {
		reply_problem(r, 409, "the school place changed meanwhile; look again");
	} else {
		reply_unavailable(r, "redis: the school place could not be released", 1);
	}
	json_decref(rl->after);
	free(rl);
}

static void
release_read(struct doc *docs, size_t n, void *arg)
{
	struct release *rl = arg;
	struct request *r = rl->r;
	const json_t *s;
	char tag[48], field[32], at[40];
	struct tx *t;
	int k;

	(void)n;
	s = docs ? docs[0].doc : NULL;
	if (docs == NULL || s == NULL || !authz_org_visible(r, str(s, "organization"))) {
		if (docs == NULL)
			reply_unavailable(r, "redis: the school place cannot be read right now", 1);
		else
			reply_problem(r, 404, "no such school place");
		free(rl);
		return;
	}
	if (strcmp(str(s, "status") ?: "", "taken") != 0) {
		reply_problem(r, 409, "the school place is released already");
		free(rl);
		return;
	}
	time_format_ms(wall_ms(), at, sizeof(at));
	rl->after = json_deep_copy(s);
	json_object_set_new(rl->after, "status", json_string("released"));
	json_array_append_new(json_object_get(rl->after, "history"), json_pack(
	    "{s:s, s:s, s:s, s:O}", "status", "released", "at", at, "actor", r->uid,
	    "note", json_object_get(r->body, "reason")));
	snprintf(field, sizeof(field), "%s:%lld", str(s, "school_year"),
	    (long long)json_integer_value(json_object_get(s, "grade")));
	snprintf(tag, sizeof(tag), "r:%s", str(s, "region"));
	t = tx_new(tag);
	k = tx_key(t, "seat:%s", str(s, "id"));
	tx_rev(t, k, docs[0].rev);
	tx_doc(t, k, rl->after);
	tx_hincrby(t, tx_key(t, "seats:%s", str(s, "provider_id")), field, -1);
	tx_del(t, tx_key(t, "seatholder:%s:%s", str(s, "school_year"), str(s, "client_id")));
	tx_event(t, "seat.released", str(s, "id"), str(s, "area"), str(s, "provider_id"));
	if (tx_run(t, r->srv, released, rl) < 0) {
		reply_unavailable(r, "redis: the school place could not be released", 1);
		json_decref(rl->after);
		free(rl);
	}
}

void
api_seat_release(struct request *r)
{
	struct errlist errs = { 0 };
	struct release *rl;
	char key[160];
	const char *keys[] = { key };

	body_check(r->body, release_spec, 0, &errs);
	if (errs.n) {
		reply_problem_errors(r, 422, "the release is not valid", &errs);
		errlist_free(&errs);
		return;
	}
	if (seat_key(r, request_param(r, "id"), key, sizeof(key)) < 0)
		return;
	rl = calloc(1, sizeof(*rl));
	if (rl == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	rl->r = r;
	if (store_fetch(r->srv, keys, 1, release_read, rl) < 0) {
		reply_unavailable(r, "redis: the school place cannot be read right now", 1);
		free(rl);
	}
}
