/*
 * waitlist-offer.c - a free place goes to whoever waits first.
 *
 * A provider's queue (korpu:{r:REGION}:waitlist:PROVIDER) orders waiting
 * entries by priority (higher first), then by how long they have waited.
 * When a place may have freed up (someone joined, a booking was
 * cancelled or moved, an offer was declined or lapsed) the earliest free
 * slot of the coming weeks is offered to the first entry: in one step
 * the entry leaves the queue, the place is held (counted as taken, so
 * nobody books it meanwhile), and a job to lapse the offer is set for
 * when the hold ends (offer_hold_ms: the area's own, or
 * appointments.offer_hold_minutes). The job passes the place on if the
 * offer was not taken (jobs.c, job_offer_lapsed). A school (seat model)
 * keeps queues per grade and school year instead: seat-waitlist.c.
 * Offers, holds and their jobs are all in Redis: they survive restarts,
 * and each lapses once however many korpuds run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "korpud.h"

#define OFFER_HORIZON_DAYS 60
#define OFFER_HOLD_MAX_S (365LL * 86400)
#define OFFERS_PER_ROUND 10

/*
 * Queue order, highest score first, where an entry's score grows with
 * the days it waits: points + per_day * (now - created) / day. Ordering
 * by that score now is ordering by created * per_day - points * day
 * (now cancels out), a key that never changes: so the queue is a sorted
 * set whose scores are written once, yet is in score order at any time.
 * Equal keys fall back to the member, the entry's id, which sorts by
 * creation: who waits longer comes first. Keys stay below 2^53.
 */
double
waitlist_key(long long points, long long per_day, int64_t created_ms)
{
	return (double)created_ms * (double)per_day - (double)points * 86400000.0;
}

/* The score of an entry now, for people to read. */
long long
waitlist_score_now(const json_t *entry)
{
	int64_t created = 0;
	long long points = json_integer_value(json_object_get(entry, "priority"));
	long long per_day = json_integer_value(json_object_get(entry, "priority_per_day"));

	time_parse(json_string_value(json_object_get(entry, "created_at")) ?: "", &created);
	return points + per_day * ((wall_ms() - created) / 86400000);
}

/*
 * How long an offer of the area is held for the client to answer: the
 * area plugin's own time (offer_hold, ABI 1.2; housing: offer_hold_hours)
 * or else appointments.offer_hold_minutes. An answer out of range is
 * taken as none, so a plugin's slip never holds a place for years.
 */
int64_t
offer_hold_ms(struct server *srv, const char *area)
{
	const struct plugin *p = area ? plugins_find(&srv->plugins, area) : NULL;
	long long (*hold)(void *) = p && p->started ? PLUGIN_HOOK(p->desc, offer_hold) : NULL;
	long long s = hold ? hold(p->state) : 0;

	if (s > 0 && s <= OFFER_HOLD_MAX_S)
		return s * 1000;
	return srv->conf->appointments.offer_hold_minutes * 60000;
}

struct offer {
	struct server *srv;
	json_t *provider;
	int64_t hold_ms;		/* the area's offer hold time */
	json_t *entry;
	long long entry_rev;
	json_t *taken;			/* the coming days' counts */
	char from[11];
	int round;
};

static void offer_next(struct offer *o);

static void
offer_free(struct offer *o)
{
	json_decref(o->provider);
	json_decref(o->entry);
	json_decref(o->taken);
	free(o);
}

static const char *
str(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/* The earliest slot with a place left, at least the hold time ahead (an
 * offer must be answerable before the slot begins). */
static int
earliest_free(struct offer *o, struct slot *out)
{
	long long cap = provider_capacity(o->provider);
	int64_t after = wall_ms() + o->hold_ms;
	struct slot *s = calloc(SLOTS_PER_DAY_MAX, sizeof(*s));
	char date[11], field[24];

	for (int d = 0; s && d < OFFER_HORIZON_DAYS; d++) {
		json_t *taken = json_array_get(o->taken, (size_t)d);
		int n;
		date_add_days(o->from, d, date);
		n = slots_of_day(o->provider, date, s, SLOTS_PER_DAY_MAX);
		for (int i = 0; i < n; i++) {
			snprintf(field, sizeof(field), "%lld", (long long)s[i].start_ms);
			if (s[i].start_ms >= after &&
			    json_integer_value(json_object_get(taken, field)) < cap) {
				*out = s[i];
				free(s);
				return 1;
			}
		}
	}
	free(s);
	return 0;
}

/* Made, withdrawn, or raced (the place or the entry changed): the next round. */
static void
look_again(struct offer *o)
{
	if (++o->round < OFFERS_PER_ROUND)
		offer_next(o);
	else
		offer_free(o);
}

static void
offered(const struct tx_result *res, void *arg)
{
	struct offer *o = arg;

	json_decref(o->entry);
	o->entry = NULL;
	if (res->status == TX_OK) {
		events_kick(o->srv);
		log_info("waitlist: an offer was made at provider %s", str(o->provider, "id"));
	} else if (res->status != TX_CONFLICT) {
		offer_free(o);
		return;
	}
	look_again(o);
}

static void
withdrawn(const struct tx_result *res, void *arg)
{
	struct offer *o = arg;

	if (res->status == TX_OK)
		events_kick(o->srv);
	if (res->status == TX_OK || res->status == TX_CONFLICT)
		look_again(o);
	else
		offer_free(o);
}

/* A copy of entry e moved to status, its history told who did it, when,
 * and (note, or NULL) why: every change of a waitlist entry goes so. The
 * caller owns the copy. */
json_t *
waitlist_entry_moved(const json_t *e, const char *status, const char *actor, const char *note)
{
	json_t *after = json_deep_copy(e);
	char at[40];

	time_format_ms(wall_ms(), at, sizeof(at));
	json_object_set_new(after, "status", json_string(status));
	json_array_append_new(json_object_get(after, "history"), json_pack("{s:s, s:s, s:s, s:s?}",
	    "status", status, "at", at, "actor", actor, "note", note));
	return after;
}

/*
 * Is the entry's referral (docs[1], when the entry names one) still
 * waiting for a place? A referral cancelled, declined or expired
 * meanwhile leaves its entry behind: it is withdrawn when it comes
 * first, not offered (here and in seat-waitlist.c).
 */
int
waitlist_referral_open(const struct doc *docs, size_t n)
{
	const char *st;

	if (n < 2)
		return 1;		/* none named */
	st = docs[1].doc ? str(docs[1].doc, "status") : NULL;
	return st && (strcmp(st, "sent") == 0 || strcmp(st, "accepted") == 0);
}

/*
 * The step that takes a waiting entry off its queue (queue: the key
 * name after the region's tag) as "withdrawn", saying why. The caller
 * runs it (tx_run).
 */
struct tx *
waitlist_withdraw_tx(const json_t *provider, const struct doc *entry, const struct doc *ref,
    const char *queue)
{
	const char *pid = str(provider, "id");
	char tag[48], note[64];
	struct tx *t;
	json_t *after;
	int k;

	snprintf(note, sizeof(note), "the referral is %s",
	    ref->doc ? str(ref->doc, "status") ?: "gone" : "gone");
	after = waitlist_entry_moved(entry->doc, "withdrawn", "korpu", note);
	snprintf(tag, sizeof(tag), "r:%s", str(provider, "region"));
	t = tx_new(tag);
	k = tx_key(t, "wait:%s", str(entry->doc, "id"));
	tx_rev(t, k, entry->rev);
	tx_doc(t, k, after);
	tx_zrem(t, tx_key(t, "%s", queue), str(entry->doc, "id"));
	tx_del(t, tx_key(t, "waitentry:%s:%s", pid, str(entry->doc, "client_id")));
	tx_event(t, "waitlist.withdrawn", str(entry->doc, "id"), str(provider, "area"), pid);
	json_decref(after);
	return t;
}

struct entry_fetch {
	struct server *srv;
	char region[64];
	fetch_cb cb;
	void *arg;
};

/* The entry read: now again, with the referral it names (another
 * region's, maybe: read only; the steps write the provider's keys). */
static void
entry_fetched(struct doc *docs, size_t n, void *arg)
{
	struct entry_fetch *f = arg;
	const char *ref = docs && n && docs[0].doc ? str(docs[0].doc, "referral_id") : NULL;
	char kw[160], kr[160];
	const char *keys[] = { kw, kr };

	if (ref == NULL || !id_valid(ref, 1) || !conf_region_known(f->srv->conf, id_region(ref))) {
		f->cb(docs, n, f->arg);
		free(f);
		return;
	}
	key_region(kw, sizeof(kw), f->region, "wait", str(docs[0].doc, "id"));
	key_region(kr, sizeof(kr), id_region(ref), "referral", ref);
	if (store_fetch(f->srv, keys, 2, f->cb, f->arg) < 0)
		f->cb(NULL, 0, f->arg);
	free(f);
}

/* Reads a waitlist entry, and the referral it names: cb gets docs[0] the
 * entry and, when it names one, docs[1] the referral (n 2). */
int
waitlist_entry_fetch(struct server *srv, const char *region, const char *id, fetch_cb cb,
    void *arg)
{
	struct entry_fetch *f = calloc(1, sizeof(*f));
	char key[160];
	const char *keys[] = { key };

	if (f == NULL || strlen(region) >= sizeof(f->region)) {
		free(f);
		return -1;
	}
	f->srv = srv;
	snprintf(f->region, sizeof(f->region), "%s", region);
	f->cb = cb;
	f->arg = arg;
	key_region(key, sizeof(key), region, "wait", id);
	if (store_fetch(srv, keys, 1, entry_fetched, f) < 0) {
		free(f);
		return -1;
	}
	return 0;
}

static void
entry_read(struct doc *docs, size_t n, void *arg)
{
	struct offer *o = arg;
	const char *zone = str(o->provider, "timezone");
	const char *pid = str(o->provider, "id");
	struct slot s;
	char tag[48], date[11], field[24], start[40], end[40], expires[40], job[160];
	int64_t until = wall_ms() + o->hold_ms;
	struct tx *t;
	json_t *after;
	int k, kt;

	if (docs == NULL || docs[0].doc == NULL ||
	    strcmp(str(docs[0].doc, "status") ?: "", "waiting") != 0) {
		offer_free(o);
		return;
	}
	if (!waitlist_referral_open(docs, n)) {
		char queue[128];
		snprintf(queue, sizeof(queue), "waitlist:%s", pid);
		if (tx_run(waitlist_withdraw_tx(o->provider, &docs[0], &docs[1], queue), o->srv,
		    withdrawn, o) < 0)
			offer_free(o);
		return;
	}
	if (!earliest_free(o, &s)) {
		offer_free(o);
		return;
	}
	o->entry = json_incref(docs[0].doc);
	o->entry_rev = docs[0].rev;
	local_date(s.start_ms, zone, date);
	snprintf(field, sizeof(field), "%lld", (long long)s.start_ms);
	time_format_local(s.start_ms, zone, start, sizeof(start));
	time_format_local(s.end_ms, zone, end, sizeof(end));
	time_format_ms(until, expires, sizeof(expires));
	after = waitlist_entry_moved(o->entry, "offered", "korpu", start);
	json_object_set_new(after, "offer", json_pack("{s:s, s:s, s:s}", "start", start, "end", end,
	    "expires_at", expires));
	snprintf(tag, sizeof(tag), "r:%s", str(o->provider, "region"));
	snprintf(job, sizeof(job), "offer:%s:%lld", str(o->entry, "id"), (long long)s.start_ms);
	t = tx_new(tag);
	k = tx_key(t, "wait:%s", str(o->entry, "id"));
	kt = tx_key(t, "taken:%s:%s", pid, date);
	tx_rev(t, k, o->entry_rev);
	tx_cap(t, kt, field, provider_capacity(o->provider));
	tx_doc(t, k, after);
	tx_zrem(t, tx_key(t, "waitlist:%s", pid), str(o->entry, "id"));
	tx_hincrby(t, kt, field, 1);
	tx_zadd(t, tx_key(t, "jobs"), (double)until, job);
	tx_event(t, "waitlist.offered", str(o->entry, "id"), str(o->provider, "area"), pid);
	json_decref(after);
	if (tx_run(t, o->srv, offered, o) < 0)
		offer_free(o);
}

/* The first waiting entry's id: read it, and the referral it names. */
static void
first_waiting(redisReply *reply, void *arg)
{
	struct offer *o = arg;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
		offer_free(o);
		return;
	}
	if (waitlist_entry_fetch(o->srv, str(o->provider, "region"), reply->element[0]->str,
	    entry_read, o) < 0)
		offer_free(o);
}

static void
taken_read(json_t *hashes, void *arg)
{
	struct offer *o = arg;
	char queue[160];

	if (hashes == NULL) {
		offer_free(o);
		return;
	}
	json_decref(o->taken);
	o->taken = json_incref(hashes);
	snprintf(queue, sizeof(queue), "korpu:{r:%s}:waitlist:%s", str(o->provider, "region"),
	    str(o->provider, "id"));
	{
		const char *argv[] = { "ZRANGE", queue, "0", "0" };
		if (redis_call(o->srv->redis, first_waiting, o, 4, argv, NULL) < 0)
			offer_free(o);
	}
}

/* One round: the coming days' counts, then the first waiting entry. */
static void
offer_next(struct offer *o)
{
	const char *region = str(o->provider, "region"), *pid = str(o->provider, "id");
	char *keys[OFFER_HORIZON_DAYS] = { NULL };
	char date[11];
	int ok = 1;

	local_date(wall_ms(), str(o->provider, "timezone"), o->from);
	for (int d = 0; d < OFFER_HORIZON_DAYS; d++) {
		date_add_days(o->from, d, date);
		if (asprintf(&keys[d], "korpu:{r:%s}:taken:%s:%s", region, pid, date) < 0) {
			keys[d] = NULL;
			ok = 0;
		}
	}
	if (!ok || store_hashes(o->srv, (const char *const *)keys, OFFER_HORIZON_DAYS,
	    taken_read, o) < 0)
		offer_free(o);
	for (int d = 0; d < OFFER_HORIZON_DAYS; d++)
		free(keys[d]);
}

static void
provider_read(struct doc *docs, size_t n, void *arg)
{
	struct offer *o = arg;

	(void)n;
	if (docs == NULL || docs[0].doc == NULL) {
		offer_free(o);
		return;
	}
	o->provider = json_incref(docs[0].doc);
	if (seat_provider(o->srv, o->provider)) {
		seat_offers(o->srv, o->provider);	/* a queue per grade and year */
		offer_free(o);
		return;
	}
	o->hold_ms = offer_hold_ms(o->srv, str(o->provider, "area"));
	offer_next(o);
}

/*
 * Something may have freed a place at the provider: offer free places to
 * waiting entries, in the background (nobody waits for this; a failure
 * is retried by the next event, and lapsing offers retry too).
 */
void
waitlist_offer(struct server *srv, const char *provider_id)
{
	struct offer *o;
	char key[160];
	const char *keys[] = { key };

	if (!id_valid(provider_id, 1) || !conf_region_known(srv->conf, id_region(provider_id)))
		return;
	o = calloc(1, sizeof(*o));
	if (o == NULL)
		return;
	o->srv = srv;
	key_region(key, sizeof(key), id_region(provider_id), "provider", provider_id);
	if (store_fetch(srv, keys, 1, provider_read, o) < 0)
		offer_free(o);
}

/* ---- the job that lapses an offer ---- */

static void
offer_again(struct server *srv, const char *provider_id)
{
	waitlist_offer(srv, provider_id);	/* pass the place on */
}

/* Lapses the offer if the entry still holds it: the hold is freed and
 * the place passes on. */
static void
lapse_decide(struct job *j, struct tx *t, const struct doc *d)
{
	const json_t *e = d->doc;
	const json_t *offer = json_object_get(e, "offer");
	const char *pid = str(e, "provider_id");
	int64_t start = 0;
	char date[11], field[24];
	json_t *after;
	int ke;

	if (e == NULL || strcmp(str(e, "status") ?: "", "offered") != 0 || !str(offer, "start") ||
	    time_parse(str(offer, "start"), &start) < 0 || start != j->n || pid == NULL)
		return;
	local_date(start, str(e, "timezone"), date);
	snprintf(field, sizeof(field), "%lld", (long long)start);
	after = waitlist_entry_moved(e, "lapsed", "korpu", NULL);
	ke = tx_key(t, "wait:%s", j->id);
	tx_rev(t, ke, d->rev);
	tx_doc(t, ke, after);
	tx_hincrby(t, tx_key(t, "taken:%s:%s", pid, date), field, -1);
	tx_del(t, tx_key(t, "waitentry:%s:%s", pid, str(e, "client_id")));
	tx_event(t, "waitlist.lapsed", j->id, str(e, "area"), pid);
	json_decref(after);
	j->then = offer_again;
	snprintf(j->then_id, sizeof(j->then_id), "%s", pid);
}

/* "offer:ENTRY:START_MS": the hold is over. */
void
job_offer_lapsed(struct server *srv, const char *region, const char *member,
    void (*finished)(void *), void *arg)
{
	char id[ID_MAX];
	long long start = 0;

	if (sscanf(member, "offer:%63[^:]:%lld", id, &start) != 2) {
		finished(arg);
		return;
	}
	job_with_doc(srv, region, member, "wait", id, start, lapse_decide, finished, arg);
}
