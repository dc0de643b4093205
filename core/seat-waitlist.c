/*
 * seat-waitlist.c - a school's waitlists (the seat model), one per grade
 * and school year.
 *
 * A place taken for a referral when its grade has none left puts the
 * referral on the waitlist of that grade and year (seat_wait_join, from
 * api-seats.c): first come, first served, unless the area scores its
 * waitlists (waitlist_priority). When a place may have freed up (a place
 * released, places added, an offer declined or lapsed) the first waiting
 * entry is offered it: in one step the entry leaves the queue and the
 * place is held (counted as taken, so nobody else takes it meanwhile),
 * and a job lapses the offer when the area's hold time ends (jobs.c,
 * job_seat_offer_lapsed), passing the place on. Accepting and declining:
 * seat-offer-answer.c.
 *
 * Keys, all korpu:{r:REGION}:...: the entry wait:ID (as every waitlist
 * entry, with "kind": "seat", school_year and grade); the queue
 * seatwait:PROVIDER:YEAR:GRADE (scored by waitlist_key); every entry of
 * the school, waits:PROVIDER; one entry per client and school,
 * waitentry:PROVIDER:CLIENT; the lapse job seatoffer:ENTRY:UNTIL_MS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "korpud.h"
#include "plugin-host.h"

#define OFFERS_PER_ROUND 10

static const char *
str(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/* Does the provider give places for a term (its area's booking model)? */
int
seat_provider(struct server *srv, const json_t *provider)
{
	const struct plugin *p = plugins_find(&srv->plugins, str(provider, "area") ?: "");

	return p && p->desc->booking_model == KORPU_BOOKING_SEAT;
}

int
seat_entry(const json_t *entry)
{
	return strcmp(str(entry, "kind") ?: "", "seat") == 0;
}

/* The lapse job of the entry's offer: "seatoffer:ENTRY:UNTIL_MS". */
void
seat_offer_job(char *buf, size_t len, const json_t *entry)
{
	int64_t until = 0;

	time_parse(str(json_object_get(entry, "offer"), "expires_at") ?: "", &until);
	snprintf(buf, len, "seatoffer:%s:%lld", str(entry, "id"), (long long)until);
}

/* ---- joining ---- */

struct seat_join {
	struct request *r;
	json_t *entry;
	int k_once, k_holder;
};

static void
join_free(struct seat_join *j)
{
	json_decref(j->entry);
	free(j);
}

static void
joined(const struct tx_result *res, void *arg)
{
	struct seat_join *j = arg;
	struct request *r = j->r;
	struct server *srv = r->srv;	/* r is gone once answered */

	if (res->status == TX_OK) {
		audit_record(srv, r, r->uid, "waitlist.join", "ok",
		    json_pack("{s:O, s:O}", "waitlist_id", json_object_get(j->entry, "id"),
		    "client_id", json_object_get(j->entry, "client_id")));
		events_kick(srv);
		reply_json(r, 202, json_incref(j->entry));
		/* A place freed since the take found none goes to the queue now. */
		waitlist_offer(srv, str(j->entry, "provider_id"));
	} else if (res->status == TX_CONFLICT && res->key == j->k_once) {
		json_t *p = problem_new(409, "client_id: no places left, and the client already "
		    "waits at this school (waitlist_id names the entry)", NULL);
		json_object_set_new(p, "waitlist_id", json_string(res->current));
		reply_json_problem(r, 409, p);
	} else if (res->status == TX_CONFLICT && res->key == j->k_holder) {
		reply_problem(r, 409, "client_id: the client already has a school place for that year");
	} else {
		reply_unavailable(r, "redis: the waitlist could not be changed", 1);
	}
	join_free(j);
}

/*
 * The entry's score: the area plugin's (waitlist_priority), or none, so
 * that the queue is in the order referrals joined. -1 having answered.
 */
static int
join_score(struct request *r, const json_t *provider, const json_t *client,
    const json_t *referral, struct korpu_priority *out)
{
	const struct plugin *plugin = plugins_find(&r->srv->plugins, str(provider, "area"));
	int (*score)(void *, const struct korpu_referral *, struct korpu_priority *) =
	    plugin ? PLUGIN_HOOK(plugin->desc, waitlist_priority) : NULL;
	struct korpu_referral kr;
	int rc;

	memset(out, 0, sizeof(*out));
	if (score == NULL) {
		snprintf(out->explain, sizeof(out->explain), "first come, first served");
		return 0;
	}
	kr.doc = json_pack("{s:O, s:o, s:O}", "fields", json_object_get(referral, "fields"),
	    "client", client_view(client, 1, plugin->name), "area",
	    json_object_get(referral, "area"));
	rc = score(plugin->state, &kr, out);
	json_decref((json_t *)kr.doc);
	out->explain[sizeof(out->explain) - 1] = '\0';
	if (rc < 0 || out->points_per_day < 0 || out->points_per_day > 100000 ||
	    out->points < -1000000 || out->points > 1000000) {
		reply_problem(r, 500, "the area's plugin could not score the waitlist entry");
		return -1;
	}
	return 0;
}

static json_t *
entry_new(struct request *r, const char *id, const json_t *p, const char *client_id,
    const json_t *referral, const char *year, long long grade, const struct korpu_priority *sc)
{
	char at[40];

	time_format_ms(wall_ms(), at, sizeof(at));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s,"
	    " s:s, s:s, s:n, s:n, s:n, s:s, s:s, s:[{s:s, s:s, s:s}]}",
	    "id", id, "kind", "seat", "provider_id", str(p, "id"), "client_id", client_id,
	    "referral_id", str(referral, "id"), "school_year", year, "grade", (json_int_t)grade,
	    "priority", (json_int_t)sc->points, "priority_per_day", (json_int_t)sc->points_per_day,
	    "priority_explained", sc->explain, "area", str(p, "area"),
	    "organization", str(p, "organization"), "region", str(p, "region"),
	    "timezone", str(p, "timezone"), "status", "waiting", "offer", "appointment_id",
	    "seat_id", "created_at", at, "created_by", r->uid,
	    "history", "status", "waiting", "at", at, "actor", r->uid);
}

/*
 * No place was left in the grade and year at the school for the take of
 * this referral: it joins that grade and year's waitlist, and r is
 * answered 202 with the entry. The school and the referral were checked
 * by the take (agreement, consent, an accepted referral of this client).
 */
void
seat_wait_join(struct request *r, const json_t *provider, const json_t *client,
    const json_t *referral, const char *year, long long grade)
{
	const char *pid = str(provider, "id"), *cid = str(client, "id");
	struct korpu_priority sc;
	struct seat_join *j;
	char id[ID_MAX], tag[48];
	struct tx *t;
	int k;

	if (join_score(r, provider, client, referral, &sc) < 0)
		return;
	if (id_new(id, sizeof(id), str(provider, "region")) < 0 ||
	    (j = calloc(1, sizeof(*j))) == NULL) {
		reply_problem(r, 500, "out of memory or randomness");
		return;
	}
	j->r = r;
	j->entry = entry_new(r, id, provider, cid, referral, year, grade, &sc);
	if (j->entry == NULL) {
		reply_problem(r, 500, "the waitlist entry could not be made");
		join_free(j);
		return;
	}
	snprintf(tag, sizeof(tag), "r:%s", str(provider, "region"));
	t = tx_new(tag);
	k = tx_key(t, "wait:%s", id);
	j->k_once = tx_key(t, "waitentry:%s:%s", pid, cid);
	j->k_holder = tx_key(t, "seatholder:%s:%s", year, cid);
	tx_absent(t, k);
	tx_absent(t, j->k_once);
	tx_absent(t, j->k_holder);	/* one school place a year: none to wait for */
	tx_doc(t, k, j->entry);
	tx_set(t, j->k_once, id);
	tx_zadd(t, tx_key(t, "seatwait:%s:%s:%lld", pid, year, grade),
	    waitlist_key(sc.points, sc.points_per_day, wall_ms()), id);
	tx_zadd(t, tx_key(t, "waits:%s", pid), 0, id);
	tx_zadd(t, tx_key(t, "waits:client:%s", cid), 0, id);
	tx_event(t, "waitlist.joined", id, str(provider, "area"), pid);
	if (tx_run(t, r->srv, joined, j) < 0) {
		reply_unavailable(r, "redis: the waitlist could not be changed", 1);
		join_free(j);
	}
}

/* ---- offering a place ---- */

struct seat_offer {
	struct server *srv;
	json_t *provider;
	char year[16];
	long long grade, places;
	int k_count;
	int round;
};

static void offer_next(struct seat_offer *o);

static void
offer_free(struct seat_offer *o)
{
	json_decref(o->provider);
	free(o);
}

static void
offered(const struct tx_result *res, void *arg)
{
	struct seat_offer *o = arg;

	if (res->status == TX_OK) {
		events_kick(o->srv);
		if (o->k_count >= 0)		/* not a withdrawal */
			log_info("waitlist: a school place was offered at provider %s",
			    str(o->provider, "id"));
	}
	/* Made, or the entry changed meanwhile: the next one. No place left
	 * (the count's check failed) or Redis trouble: done for now. */
	if ((res->status == TX_OK || (res->status == TX_CONFLICT && res->key != o->k_count)) &&
	    ++o->round < OFFERS_PER_ROUND)
		offer_next(o);
	else
		offer_free(o);
}

static void
entry_read(struct doc *docs, size_t n, void *arg)
{
	struct seat_offer *o = arg;
	const json_t *e = docs ? docs[0].doc : NULL;
	const char *pid = str(o->provider, "id"), *id = str(e, "id");
	int64_t until = wall_ms() + offer_hold_ms(o->srv, str(o->provider, "area"));
	char tag[48], field[32], note[48], expires[40], job[160];
	struct tx *t;
	json_t *after;
	int k;

	if (e == NULL || strcmp(str(e, "status") ?: "", "waiting") != 0) {
		offer_free(o);
		return;
	}
	if (!waitlist_referral_open(docs, n)) {
		char queue[128];
		snprintf(queue, sizeof(queue), "seatwait:%s:%s:%lld", pid, o->year, o->grade);
		o->k_count = -1;
		if (tx_run(waitlist_withdraw_tx(o->provider, &docs[0], &docs[1], queue), o->srv,
		    offered, o) < 0)
			offer_free(o);
		return;
	}
	snprintf(field, sizeof(field), "%s:%lld", o->year, o->grade);
	snprintf(note, sizeof(note), "grade %lld, %s", o->grade, o->year);
	time_format_ms(until, expires, sizeof(expires));
	after = waitlist_entry_moved(e, "offered", "korpu", note);
	json_object_set_new(after, "offer", json_pack("{s:s, s:I, s:s}", "school_year", o->year,
	    "grade", (json_int_t)o->grade, "expires_at", expires));
	seat_offer_job(job, sizeof(job), after);
	snprintf(tag, sizeof(tag), "r:%s", str(o->provider, "region"));
	t = tx_new(tag);
	k = tx_key(t, "wait:%s", id);
	o->k_count = tx_key(t, "seats:%s", pid);
	tx_rev(t, k, docs[0].rev);
	tx_cap(t, o->k_count, field, o->places);
	tx_doc(t, k, after);
	tx_zrem(t, tx_key(t, "seatwait:%s:%s:%lld", pid, o->year, o->grade), id);
	tx_hincrby(t, o->k_count, field, 1);	/* held: counted as taken */
	tx_zadd(t, tx_key(t, "jobs"), (double)until, job);
	tx_event(t, "waitlist.offered", id, str(o->provider, "area"), pid);
	json_decref(after);
	if (tx_run(t, o->srv, offered, o) < 0)
		offer_free(o);
}

static void
first_waiting(redisReply *reply, void *arg)
{
	struct seat_offer *o = arg;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
		offer_free(o);
		return;
	}
	if (waitlist_entry_fetch(o->srv, str(o->provider, "region"), reply->element[0]->str,
	    entry_read, o) < 0)
		offer_free(o);
}

/* One round: the first entry of the grade and year's queue. */
static void
offer_next(struct seat_offer *o)
{
	char queue[200];
	const char *argv[] = { "ZRANGE", queue, "0", "0" };

	snprintf(queue, sizeof(queue), "korpu:{r:%s}:seatwait:%s:%s:%lld",
	    str(o->provider, "region"), str(o->provider, "id"), o->year, o->grade);
	if (redis_call(o->srv->redis, first_waiting, o, 4, argv, NULL) < 0)
		offer_free(o);
}

/*
 * A place may have freed up at the school (waitlist_offer found it is
 * one): each grade and year with a queue offers its free places, in the
 * background. Nobody waits for this; a failure is retried by the next
 * release, decline or lapse.
 */
void
seat_offers(struct server *srv, const json_t *provider)
{
	size_t i;
	json_t *row;

	json_array_foreach(json_object_get(provider, "seats"), i, row) {
		struct seat_offer *o;
		const char *year = str(row, "school_year");

		if (year == NULL || strlen(year) >= sizeof(o->year) ||
		    (o = calloc(1, sizeof(*o))) == NULL)
			continue;
		o->srv = srv;
		o->provider = json_incref((json_t *)provider);
		snprintf(o->year, sizeof(o->year), "%s", year);
		o->grade = json_integer_value(json_object_get(row, "grade"));
		o->places = json_integer_value(json_object_get(row, "places"));
		offer_next(o);
	}
}

/* ---- the job that lapses an offer ---- */

/* Lapses the offer if the entry still holds it: the held place is given
 * back and passes on to the next one waiting. */
static void
lapse_decide(struct job *j, struct tx *t, const struct doc *d)
{
	const json_t *e = d->doc;
	const char *pid = str(e, "provider_id");
	int64_t until = 0;
	char field[32];
	json_t *after;
	int ke;

	if (e == NULL || !seat_entry(e) || strcmp(str(e, "status") ?: "", "offered") != 0 ||
	    time_parse(str(json_object_get(e, "offer"), "expires_at") ?: "", &until) < 0 ||
	    until != j->n || pid == NULL)
		return;
	snprintf(field, sizeof(field), "%s:%lld", str(e, "school_year") ?: "",
	    (long long)json_integer_value(json_object_get(e, "grade")));
	after = waitlist_entry_moved(e, "lapsed", "korpu", NULL);
	ke = tx_key(t, "wait:%s", j->id);
	tx_rev(t, ke, d->rev);
	tx_doc(t, ke, after);
	tx_hincrby(t, tx_key(t, "seats:%s", pid), field, -1);
	tx_del(t, tx_key(t, "waitentry:%s:%s", pid, str(e, "client_id")));
	tx_event(t, "waitlist.lapsed", j->id, str(e, "area"), pid);
	json_decref(after);
	j->then = waitlist_offer;	/* pass the place on */
	snprintf(j->then_id, sizeof(j->then_id), "%s", pid);
}

/* "seatoffer:ENTRY:UNTIL_MS": the hold is over. */
void
job_seat_offer_lapsed(struct server *srv, const char *region, const char *member,
    void (*finished)(void *), void *arg)
{
	char id[ID_MAX];
	long long until = 0;

	if (sscanf(member, "seatoffer:%63[^:]:%lld", id, &until) != 2) {
		finished(arg);
		return;
	}
	job_with_doc(srv, region, member, "wait", id, until, lapse_decide, finished, arg);
}
