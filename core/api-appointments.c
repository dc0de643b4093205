/*
 * api-appointments.c - POST /api/v1/appointments and
 * POST /api/v1/appointments/household: a caseworker books a client (or a
 * household's members, in consecutive slots) with a provider. Before the
 * atomic booking (appointment-book.c) come the checks that need no
 * atomicity: the provider and client exist in one region, the area's
 * booking model takes direct bookings, `start` is one of the provider's
 * slots and still ahead, the client consented to share their data with
 * the area, the provider's organization has an agreement valid today,
 * and a referral named is this client's, to this provider, accepted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"

#define HOUSEHOLD_BOOKING_MAX 20

static const struct bfield appointment_spec[] = {
	{ "provider_id", BF_STRING, BF_REQUIRED, ID_MAX, NULL, 0, 0, 0 },
	{ "client_id", BF_STRING, BF_REQUIRED, ID_MAX, NULL, 0, 0, 0 },
	{ "start", BF_STRING, BF_REQUIRED, 40, NULL, 0, 0, 0 },
	{ "referral_id", BF_STRING, BF_NULLABLE, ID_MAX, NULL, 0, 0, 0 },
	{ "interpreter_language", BF_STRING, BF_NULLABLE, 3, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, 0, 0, 0 }
};

static const struct bfield course_spec[] = {
	{ "provider_id", BF_STRING, BF_REQUIRED, ID_MAX, NULL, 0, 0, 0 },
	{ "client_id", BF_STRING, BF_REQUIRED, ID_MAX, NULL, 0, 0, 0 },
	{ "course_id", BF_STRING, BF_REQUIRED, 32, NULL, 0, 0, 0 },
	{ "referral_id", BF_STRING, BF_NULLABLE, ID_MAX, NULL, 0, 0, 0 },
	{ "interpreter_language", BF_STRING, BF_NULLABLE, 3, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, 0, 0, 0 }
};

static const struct bfield household_spec[] = {
	{ "provider_id", BF_STRING, BF_REQUIRED, ID_MAX, NULL, 0, 0, 0 },
	{ "client_ids", BF_LIST, BF_REQUIRED, ID_MAX, NULL, 0, 0, HOUSEHOLD_BOOKING_MAX },
	{ "start", BF_STRING, BF_REQUIRED, 40, NULL, 0, 0, 0 },
	{ "interpreter_language", BF_STRING, BF_NULLABLE, 3, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, 0, 0, 0 }
};

struct book_request {
	struct request *r;
	struct booking *b;
	int household;
	const char *course_id;		/* a whole course, in the body */
	int64_t start_ms;
	size_t nclients;
	char **keys;
	size_t nkeys;
	json_t *docs;			/* provider, clients..., referral */
	int seat_model;			/* a school: only a taken place's intake */
};

static void
request_done(struct book_request *q)
{
	for (size_t i = 0; q->keys && i < q->nkeys; i++)
		free(q->keys[i]);
	free(q->keys);
	json_decref(q->docs);
	free(q);
}

static void
fail(struct book_request *q, int status, const char *field, const char *message)
{
	if (status == 422 && field) {
		struct errlist errs = { 0 };
		errlist_add(&errs, field, "%s", message);
		reply_problem_errors(q->r, 422, "the appointment cannot be booked", &errs);
		errlist_free(&errs);
	} else if (status == 503) {
		reply_unavailable(q->r, message, 1);
	} else {
		reply_problem(q->r, status, message);
	}
	booking_free(q->b);
	request_done(q);
}

static void
booking_done(struct booking *b, int status, const char *problem)
{
	struct book_request *q = b->arg;
	struct request *r = q->r;

	if (status == 201) {
		if (q->household || q->course_id)
			reply_json(r, 201, json_pack("{s:O}", "appointments", b->docs));
		else
			reply_json(r, 201, json_incref(json_array_get(b->docs, 0)));
	} else if (status == 503) {
		reply_unavailable(r, problem, 1);
	} else {
		reply_problem(r, status, problem);
	}
	request_done(q);
}

static const char *
str(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

static void
org_read(struct doc *docs, size_t n, void *arg)
{
	struct book_request *q = arg;
	struct booking *b = q->b;
	const char *why;
	char at[40], msg[200];

	(void)n;
	if (docs == NULL) {
		fail(q, 503, NULL, "redis: the provider's organization cannot be read right now");
		return;
	}
	time_format_ms(wall_ms(), at, sizeof(at));
	at[10] = '\0';
	why = docs[0].doc ? org_agreement_problem(docs[0].doc, str(b->provider, "area"), at) :
	    "does not exist";
	if (why) {
		snprintf(msg, sizeof(msg), "provider_id: the provider's organization %s; no client "
		    "data goes to it", why);
		fail(q, 409, NULL, msg);
		return;
	}
	q->b = NULL;			/* the booking owns itself now */
	b->done = booking_done;
	b->arg = q;
	booking_start(b);
}

/* A course: every session still ahead, for the one client. -1 having
 * answered. */
static int
lay_out_course(struct book_request *q, const json_t *p, const json_t *client)
{
	const json_t *course = NULL;
	struct slot *s = calloc(256, sizeof(*s));
	char why[160];
	int64_t now = wall_ms();
	size_t i, ahead = 0;
	json_t *c;
	int n;

	json_array_foreach(json_object_get(p, "courses"), i, c)
		if (strcmp(str(c, "id") ?: "", q->course_id) == 0)
			course = c;
	if (s == NULL || course == NULL) {
		free(s);
		fail(q, 422, "course_id", "is not a course of this provider");
		return -1;
	}
	n = course_sessions(p, course, s, 256, why, sizeof(why));
	if (n < 0) {
		free(s);
		fail(q, 409, NULL, "course_id: the course no longer fits the provider's hours");
		return -1;
	}
	for (int k = 0; k < n; k++)
		if (s[k].start_ms > now) {
			if (booking_add(q->b, client, &s[k]) < 0) {
				free(s);
				fail(q, 500, NULL, "out of memory");
				return -1;
			}
			ahead++;
		}
	free(s);
	if (ahead == 0) {
		fail(q, 422, "course_id", "has no sessions ahead");
		return -1;
	}
	snprintf(q->b->course_id, sizeof(q->b->course_id), "%s", q->course_id);
	return 0;
}

/* The documents are read: check them, lay out the slots, then the org. */
static void
docs_read(struct doc *docs, size_t n, void *arg)
{
	struct book_request *q = arg;
	struct request *r = q->r;
	struct booking *b = q->b;
	const json_t *p;
	const struct plugin *plugin;
	struct slot day[SLOTS_PER_DAY_MAX], first;
	char date[11], key[128];
	const char *keys[] = { key };
	int nday, at = -1;

	(void)n;
	if (docs == NULL) {
		fail(q, 503, NULL, "redis: the booking's records cannot be read right now");
		return;
	}
	p = docs[0].doc;
	if (p == NULL || !authz_org_visible(r, str(p, "organization"))) {
		fail(q, 422, "provider_id", "is not a provider of the directory");
		return;
	}
	b->provider = json_incref((json_t *)p);
	plugin = plugins_find(&r->srv->plugins, str(p, "area"));
	if (plugin == NULL) {
		fail(q, 422, "provider_id", "provides an area this korpu does not run");
		return;
	}
	if (plugin->desc->booking_model == KORPU_BOOKING_WAITLIST) {
		fail(q, 409, NULL, "this provider allocates by waitlist: add the client with "
		    "POST /api/v1/waitlist");
		return;
	}
	/* A school's places are taken with POST /api/v1/seats; an appointment
	 * there is the intake of a place taken already (one offered from the
	 * school's waitlist comes without one): its referral is scheduled. */
	if (plugin->desc->booking_model == KORPU_BOOKING_SEAT) {
		if (q->household || q->course_id || q->nkeys <= q->nclients + 1) {
			fail(q, 409, NULL, "this provider allocates places for a term (seat model): "
			    "take one with POST /api/v1/seats; an appointment here is the intake of a "
			    "place taken, for its referral (referral_id)");
			return;
		}
		q->seat_model = 1;
	}
	/* An area that books interpreters by itself: the first client who
	 * needs one sets the language (a household shares one interpreter). */
	if (b->lang[0] == '\0' &&
	    (PLUGIN_FIELD(plugin->desc, flags, 0u) & KORPU_AREA_INTERPRETER_AUTO)) {
		for (size_t i = 0; i < q->nclients && b->lang[0] == '\0'; i++) {
			const json_t *c = docs[1 + i].doc;
			const char *l = json_string_value(json_array_get(json_object_get(c, "languages"), 0));
			if (c && json_is_true(json_object_get(c, "needs_interpreter")) && l)
				snprintf(b->lang, sizeof(b->lang), "%s", l);
		}
	}
	for (size_t i = 0; i < q->nclients; i++) {
		const json_t *c = docs[1 + i].doc;
		const json_t *consent;
		char field[40];

		snprintf(field, sizeof(field), q->household ? "client_ids[%zu]" : "client_id", i);
		if (c == NULL) {
			fail(q, 422, field, "is not a client");
			return;
		}
		consent = json_object_get(json_object_get(c, "consent"), str(p, "area"));
		if (!json_is_true(json_object_get(consent, "share"))) {
			fail(q, 422, field, "has not consented to share their data with this "
			    "area's providers; record their consent first");
			return;
		}
	}
	if (q->course_id) {
		if (lay_out_course(q, p, docs[1].doc) < 0)
			return;
		goto referral;
	}
	/* start: a slot of the provider, ahead; a household takes the slots
	 * that follow it on that day. */
	if (!slot_find(p, q->start_ms, &first)) {
		fail(q, 422, "start", "is not the start of one of this provider's slots");
		return;
	}
	if (first.start_ms <= wall_ms()) {
		fail(q, 422, "start", "is in the past");
		return;
	}
	local_date(first.start_ms, str(p, "timezone"), date);
	nday = slots_of_day(p, date, day, SLOTS_PER_DAY_MAX);
	for (int i = 0; i < nday; i++)
		if (day[i].start_ms == first.start_ms)
			at = i;
	if (at < 0 || at + (int)q->nclients > nday) {
		fail(q, 422, "start", "leaves too few slots that day for every member");
		return;
	}
	for (size_t i = 0; i < q->nclients; i++)
		if (booking_add(b, docs[1 + i].doc, &day[at + (int)i]) < 0) {
			fail(q, 500, NULL, "out of memory");
			return;
		}
referral:
	if (q->nkeys > q->nclients + 1) {		/* a referral was named */
		const json_t *ref = docs[q->nkeys - 1].doc;
		const char *st = ref ? str(ref, "status") : NULL;
		if (ref == NULL || !authz_org_visible(r, str(ref, "organization")) ||
		    strcmp(str(ref, "client_id") ?: "", str(docs[1].doc, "id")) != 0) {
			fail(q, 422, "referral_id", "is not a referral of this client");
			return;
		}
		if (strcmp(str(ref, "provider_id") ?: "", str(p, "id")) != 0) {
			fail(q, 422, "referral_id", "is a referral to another provider");
			return;
		}
		if (q->seat_model && (st == NULL || strcmp(st, "scheduled") != 0)) {
			fail(q, 409, NULL, "referral_id: no school place is taken for this referral "
			    "yet: take one with POST /api/v1/seats (with its intake)");
			return;
		}
		if (st == NULL || (strcmp(st, "accepted") != 0 && strcmp(st, "scheduled") != 0)) {
			char msg[160];
			snprintf(msg, sizeof(msg), "referral_id: the referral is %s; the provider must "
			    "accept it before it is booked", st ? st : "unreadable");
			fail(q, 409, NULL, msg);
			return;
		}
		b->referral = json_incref((json_t *)ref);
		b->referral_rev = docs[q->nkeys - 1].rev;
	}
	snprintf(key, sizeof(key), "korpu:{dir}:org:%s", str(p, "organization"));
	if (store_fetch(r->srv, keys, 1, org_read, q) < 0)
		fail(q, 503, NULL, "redis: the provider's organization cannot be read right now");
}

static int
lang_valid(const char *l)
{
	return l && strlen(l) >= 2 && strlen(l) <= 3 &&
	    strspn(l, "abcdefghijklmnopqrstuvwxyz") == strlen(l);
}

/* Shared by both routes: reads provider, clients (and a referral). */
static void
book(struct request *r, const char *provider_id, const json_t *client_ids,
    const char *referral_id, int household, const char *course_id)
{
	const char *lang = json_string_value(json_object_get(r->body, "interpreter_language"));
	const char *start = json_string_value(json_object_get(r->body, "start"));
	const char *region = id_region(provider_id);
	struct book_request *q;
	struct errlist errs = { 0 };
	int64_t start_ms = 0;
	size_t i;
	json_t *v;

	if (!id_valid(provider_id, 1) || !conf_region_known(r->srv->conf, region))
		errlist_add(&errs, "provider_id", "is not a provider of the directory");
	if (course_id == NULL && (start == NULL || strlen(start) <= 10 ||
	    time_parse(start, &start_ms) < 0))
		errlist_add(&errs, "start", "must be a time with an offset "
		    "(2026-12-01T09:30:00+04:00)");
	if (lang && !lang_valid(lang))
		errlist_add(&errs, "interpreter_language", "must be an ISO 639 code such as ar");
	json_array_foreach(client_ids, i, v) {
		const char *id = json_string_value(v);
		char field[40];
		snprintf(field, sizeof(field), household ? "client_ids[%zu]" : "client_id", i);
		if (!id_valid(id, 1))
			errlist_add(&errs, field, "is not a client");
		else if (region && strcmp(id_region(id), region) != 0)
			errlist_add(&errs, field, "is registered in another region than the "
			    "provider's; clients are booked within their region");
	}
	if (referral_id && (!id_valid(referral_id, 1) || !region ||
	    strcmp(id_region(referral_id), region) != 0))
		errlist_add(&errs, "referral_id", "is not a referral of this client");
	if (errs.n) {
		reply_problem_errors(r, 422, "the appointment cannot be booked", &errs);
		errlist_free(&errs);
		return;
	}
	q = calloc(1, sizeof(*q));
	if (q)
		q->keys = calloc(json_array_size(client_ids) + 2, sizeof(char *));
	if (q == NULL || q->keys == NULL || (q->b = booking_new(r)) == NULL) {
		if (q)
			request_done(q);
		reply_problem(r, 500, "out of memory");
		return;
	}
	q->r = r;
	q->household = household;
	q->course_id = course_id;
	q->start_ms = start_ms;
	q->nclients = json_array_size(client_ids);
	snprintf(q->b->lang, sizeof(q->b->lang), "%s", lang ? lang : "");
	if (asprintf(&q->keys[q->nkeys], "korpu:{r:%s}:provider:%s", region, provider_id) >= 0)
		q->nkeys++;
	json_array_foreach(client_ids, i, v)
		if (asprintf(&q->keys[q->nkeys], "korpu:{r:%s}:client:%s", region,
		    json_string_value(v)) >= 0)
			q->nkeys++;
	if (referral_id && asprintf(&q->keys[q->nkeys], "korpu:{r:%s}:referral:%s", region,
	    referral_id) >= 0)
		q->nkeys++;
	if (q->nkeys != q->nclients + 1 + (referral_id != NULL) ||
	    store_fetch(r->srv, (const char *const *)q->keys, q->nkeys, docs_read, q) < 0)
		fail(q, 503, NULL, "redis: the booking's records cannot be read right now");
}

void
api_appointment_create(struct request *r)
{
	struct errlist errs = { 0 };
	json_t *ids;

	body_check(r->body, appointment_spec, 0, &errs);
	if (errs.n) {
		reply_problem_errors(r, 422, "the appointment cannot be booked", &errs);
		errlist_free(&errs);
		return;
	}
	ids = json_pack("[O]", json_object_get(r->body, "client_id"));
	book(r, str(r->body, "provider_id"), ids, str(r->body, "referral_id"), 0, NULL);
	json_decref(ids);
}

/*
 * POST /api/v1/appointments/course: a client into every session still
 * ahead of a provider's course (a recurring series, e.g. a language
 * course on Tuesday and Thursday evenings), at once or not at all.
 */
void
api_appointment_course(struct request *r)
{
	struct errlist errs = { 0 };
	json_t *ids;

	body_check(r->body, course_spec, 0, &errs);
	if (errs.n) {
		reply_problem_errors(r, 422, "the course cannot be booked", &errs);
		errlist_free(&errs);
		return;
	}
	ids = json_pack("[O]", json_object_get(r->body, "client_id"));
	book(r, str(r->body, "provider_id"), ids, str(r->body, "referral_id"), 0,
	    str(r->body, "course_id"));
	json_decref(ids);
}

void
api_appointment_household(struct request *r)
{
	struct errlist errs = { 0 };

	body_check(r->body, household_spec, 0, &errs);
	if (errs.n == 0 && json_array_size(json_object_get(r->body, "client_ids")) == 0)
		errlist_add(&errs, "client_ids", "must name at least one client");
	if (errs.n) {
		reply_problem_errors(r, 422, "the appointments cannot be booked", &errs);
		errlist_free(&errs);
		return;
	}
	book(r, str(r->body, "provider_id"), json_object_get(r->body, "client_ids"), NULL, 1, NULL);
}
