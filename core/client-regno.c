/*
 * client-regno.c - a registration number belongs to one client across
 * every region. It is claimed under the {reg} tag ("ID|ms") before the
 * client is written in its region: two steps, because Redis Cluster
 * cannot write both tags at once.
 *
 * A claim whose client never got the number (korpud died between the
 * steps, or a change of number lost a race) is taken over once it is
 * older than CLAIM_STALE_MS; a younger one may be a registration in
 * progress, so it counts as taken. A client claiming a number it holds
 * already renews the claim's time, so a change back to an old number is
 * never taken over while it is being written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "korpud.h"

#define CLAIM_STALE_MS 60000

struct regno_claim {
	struct server *srv;
	char reqid[65];			/* the request's, for the log */
	char regno[40];
	char id[ID_MAX];
	char value[ID_MAX + 24];	/* "ID|ms", what is written */
	char seen[128];			/* the claim found in the way */
	int renewing;			/* renewing a claim of our own */
	regno_claimed_fn done;
	void *arg;
};

static void claim_send(struct regno_claim *c, const char *stale);

static void
claim_end(struct regno_claim *c, enum regno_outcome how, const char *holder)
{
	c->done(how, how == REGNO_CLAIMED || how == REGNO_OURS ? c->value : holder, c->arg);
	free(c);
}

void
regno_key(char *key, size_t len, const char *regno)
{
	snprintf(key, len, "korpu:{reg}:regno:%s", regno);
}

/* The id in a claim "ID|ms" (empty if it has none). */
static void
claim_holder(const char *claim, char *id, size_t len)
{
	const char *bar = strchr(claim, '|');

	snprintf(id, len, "%.*s", bar ? (int)(bar - claim) : 0, claim);
}

/* The holder's record, to tell a client that has the number from a
 * claim that went stale. */
static void
holder_read(struct doc *docs, size_t n, void *arg)
{
	struct regno_claim *c = arg;
	const char *bar = strchr(c->seen, '|');
	long long at = bar ? strtoll(bar + 1, NULL, 10) : 0;
	const char *has;
	char holder[ID_MAX], norm[40];

	(void)n;
	claim_holder(c->seen, holder, sizeof(holder));
	if (docs == NULL) {
		claim_end(c, REGNO_UNAVAILABLE, NULL);
		return;
	}
	has = docs[0].doc ? json_string_value(json_object_get(docs[0].doc, "registration_no")) : NULL;
	if (has && regno_normalize(has, norm, sizeof(norm)) == 0 && strcmp(norm, c->regno) == 0)
		claim_end(c, REGNO_TAKEN, holder);
	else if (wall_ms() - at > CLAIM_STALE_MS) {
		log_msg(LOG_WARNING, c->reqid,
		    "clients: taking over a stale registration number claim of %s", holder);
		claim_send(c, c->seen);
	} else
		claim_end(c, REGNO_TAKEN, holder);	/* being given right now */
}

static void
claim_answered(const struct tx_result *res, void *arg)
{
	struct regno_claim *c = arg;
	char holder[ID_MAX], key[160];
	const char *keys[] = { key };

	if (res->status == TX_OK) {
		claim_end(c, c->renewing ? REGNO_OURS : REGNO_CLAIMED, NULL);
		return;
	}
	if (res->status != TX_CONFLICT || c->renewing) {
		/* (a claim of our own that changed while it was renewed: a
		 * change of this client's number racing another) */
		claim_end(c, REGNO_UNAVAILABLE, NULL);
		return;
	}
	claim_holder(res->current, holder, sizeof(holder));
	if (strcmp(holder, c->id) == 0) {
		c->renewing = 1;
		claim_send(c, res->current);
		return;
	}
	if (!id_valid(holder, 1)) {
		claim_end(c, REGNO_TAKEN, "");	/* not ours to interpret */
		return;
	}
	snprintf(c->seen, sizeof(c->seen), "%s", res->current);
	key_region(key, sizeof(key), id_region(holder), "client", holder);
	if (store_fetch(c->srv, keys, 1, holder_read, c) < 0)
		claim_end(c, REGNO_UNAVAILABLE, NULL);
}

/* Claims the number: takes it if free, or exactly the stale claim seen. */
static void
claim_send(struct regno_claim *c, const char *stale)
{
	struct tx *t = tx_new("reg");
	int k = tx_key(t, "regno:%s", c->regno);

	snprintf(c->value, sizeof(c->value), "%s|%lld", c->id, (long long)wall_ms());
	if (stale)
		tx_eq(t, k, stale);
	else
		tx_absent(t, k);
	tx_set(t, k, c->value);
	if (tx_run(t, c->srv, claim_answered, c) < 0)
		claim_end(c, REGNO_UNAVAILABLE, NULL);
}

/*
 * Claims regno (normalized) for client id, for request r. done(outcome,
 * what, arg) is called once, maybe before regno_claim returns (Redis
 * down): REGNO_CLAIMED with the claim written (for regno_release),
 * REGNO_OURS when id held it already (the claim renewed: never to be
 * released, the client may have the number), REGNO_TAKEN with the
 * holder's id ("" if unknown), REGNO_UNAVAILABLE with NULL. Returns -1,
 * without calling done, when out of memory.
 */
int
regno_claim(struct request *r, const char *regno, const char *id, regno_claimed_fn done,
    void *arg)
{
	struct regno_claim *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -1;
	c->srv = r->srv;
	snprintf(c->reqid, sizeof(c->reqid), "%s", r->id);
	snprintf(c->regno, sizeof(c->regno), "%s", regno);
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->done = done;
	c->arg = arg;
	claim_send(c, NULL);
	return 0;
}

static void
released(const struct tx_result *res, void *arg)
{
	(void)res;
	(void)arg;
}

/* Gives back exactly the claim written, best effort: one left behind
 * goes stale and is taken over later. */
void
regno_release(struct server *srv, const char *regno, const char *claim)
{
	struct tx *t = tx_new("reg");
	int k = tx_key(t, "regno:%s", regno);

	tx_eq(t, k, claim);
	tx_del(t, k);
	tx_run(t, srv, released, NULL);
}

struct release_held {
	struct server *srv;
	char regno[40];
	char id[ID_MAX];
	long long before;		/* only a claim made before this time */
	char claim[128];
};

static void
held_doc_read(struct doc *docs, size_t n, void *arg)
{
	struct release_held *h = arg;
	const char *has = docs && docs[0].doc ?
	    json_string_value(json_object_get(docs[0].doc, "registration_no")) : NULL;
	char norm[40];

	(void)n;
	/* The client has the number again (changed back meanwhile): keep it. */
	if (docs && !(has && regno_normalize(has, norm, sizeof(norm)) == 0 &&
	    strcmp(norm, h->regno) == 0))
		regno_release(h->srv, h->regno, h->claim);
	free(h);
}

static void
held_read(redisReply *reply, void *arg)
{
	struct release_held *h = arg;
	char holder[ID_MAX], key[160];
	const char *keys[] = { key };
	const char *bar;

	if (reply && reply->type == REDIS_REPLY_STRING && reply->len < sizeof(h->claim)) {
		snprintf(h->claim, sizeof(h->claim), "%.*s", (int)reply->len, reply->str);
		claim_holder(h->claim, holder, sizeof(holder));
		bar = strchr(h->claim, '|');
		if (strcmp(holder, h->id) == 0 && bar && strtoll(bar + 1, NULL, 10) < h->before) {
			key_region(key, sizeof(key), id_region(h->id), "client", h->id);
			if (store_fetch(h->srv, keys, 1, held_doc_read, h) == 0)
				return;
		}
	}
	free(h);
}

/* Gives back a number client id held (its old one, after a change that
 * began at time before): only a claim made before then, and only while
 * the client does not have the number again. Best effort, as
 * regno_release. */
void
regno_release_held(struct server *srv, const char *regno, const char *id, long long before)
{
	struct release_held *h = calloc(1, sizeof(*h));
	char key[80];
	const char *argv[] = { "GET", key };

	if (h == NULL)
		return;
	h->srv = srv;
	h->before = before;
	snprintf(h->regno, sizeof(h->regno), "%s", regno);
	snprintf(h->id, sizeof(h->id), "%s", id);
	regno_key(key, sizeof(key), regno);
	if (redis_call(srv->redis, held_read, h, 2, argv, NULL) < 0)
		free(h);
}
