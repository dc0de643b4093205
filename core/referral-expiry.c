/*
 * referral-expiry.c - a referral still `sent` when its area's answer
 * deadline passes becomes `expired`, by korpud itself.
 *
 * Deadlines live in Redis (a sorted set per region, scored by the
 * deadline in ms), not in korpud's memory, so they survive restarts; and
 * every korpud instance looks, but a move is a compare-and-set on the
 * referral's revision (referral-move.c), so each expiry lands once
 * however many instances race for it. Each tick reads at most a batch
 * per region; a backlog drains over a few ticks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "korpud.h"

#define EXPIRY_TICK_MS 1000
#define EXPIRY_BATCH "50"
#define EXPIRY_ACTOR "korpu"

struct expiry {
	struct server *srv;
	struct event *timer;
	size_t region;
	int busy;			/* a tick is still working */
	int stopped;			/* free when the tick in flight ends */
	char **keys;
	size_t n;
};

static void tick_region(struct expiry *e);

static void
keys_free(struct expiry *e)
{
	for (size_t i = 0; e->keys && i < e->n; i++)
		free(e->keys[i]);
	free(e->keys);
	e->keys = NULL;
	e->n = 0;
}

/* The tick is over (or cannot go on). */
static void
tick_end(struct expiry *e)
{
	keys_free(e);
	e->busy = 0;
	if (e->stopped)
		free(e);
}

static void
expired_one(const struct tx_result *res, void *arg)
{
	struct server *srv = arg;

	if (res->status == TX_OK)
		events_kick(srv);
	/* A conflict: someone answered it or another instance expired it
	 * first; the next tick sees the outcome. */
}

static void
due_read(struct doc *docs, size_t n, void *arg)
{
	struct expiry *e = arg;
	const char *region;
	char tag[48];

	/* (A reload may have changed the regions while Redis answered.) */
	if (docs == NULL || e->stopped || e->region >= e->srv->conf->regions.n) {
		tick_end(e);
		return;
	}
	region = e->srv->conf->regions.v[e->region];
	snprintf(tag, sizeof(tag), "r:%s", region);
	for (size_t i = 0; i < n; i++) {
		const json_t *doc = docs[i].doc;
		const char *status = json_string_value(json_object_get(doc, "status"));
		struct tx *t = tx_new(tag);

		if (doc && status && strcmp(status, "sent") == 0) {
			json_t *after = referral_moved(doc, "expired", EXPIRY_ACTOR,
			    "no answer before the area's deadline");
			referral_move_tx(t, doc, docs[i].rev, after);
			log_info("referrals: %s expired unanswered",
			    json_string_value(json_object_get(doc, "id")));
			json_decref(after);
		} else {
			/* Answered, or gone: the deadline no longer applies. */
			const char *key = e->keys[i];
			const char *id = strrchr(key, ':');
			tx_zrem(t, tx_key(t, "deadlines"), id ? id + 1 : key);
		}
		tx_run(t, e->srv, expired_one, e->srv);
	}
	keys_free(e);
	e->region++;
	tick_region(e);
}

static void
due_listed(redisReply *reply, void *arg)
{
	struct expiry *e = arg;
	const char *region;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || e->stopped ||
	    e->region >= e->srv->conf->regions.n) {
		tick_end(e);
		return;
	}
	region = e->srv->conf->regions.v[e->region];
	e->keys = calloc(reply->elements + 1, sizeof(char *));
	for (size_t i = 0; e->keys && i < reply->elements; i++) {
		char key[160];
		key_region(key, sizeof(key), region, "referral", reply->element[i]->str);
		if ((e->keys[e->n] = strdup(key)) == NULL)
			break;
		e->n++;
	}
	if (e->keys == NULL || e->n != reply->elements ||
	    store_fetch(e->srv, (const char *const *)e->keys, e->n, due_read, e) < 0)
		tick_end(e);
}

static void
tick_region(struct expiry *e)
{
	char key[96], now[24];

	if (e->stopped || e->region >= e->srv->conf->regions.n) {
		tick_end(e);
		return;
	}
	snprintf(key, sizeof(key), "korpu:{r:%s}:deadlines", e->srv->conf->regions.v[e->region]);
	snprintf(now, sizeof(now), "%lld", (long long)wall_ms());
	{
		const char *argv[] = { "ZRANGEBYSCORE", key, "-inf", now, "LIMIT", "0", EXPIRY_BATCH };
		if (redis_call(e->srv->redis, due_listed, e, 7, argv, NULL) < 0)
			tick_end(e);
	}
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct expiry *e = arg;

	(void)fd;
	(void)what;
	if (e->busy || !redis_link_ready(e->srv->redis))
		return;
	e->busy = 1;
	e->region = 0;
	tick_region(e);
}

struct expiry *
expiry_start(struct server *srv)
{
	struct expiry *e = calloc(1, sizeof(*e));
	struct timeval tv = { EXPIRY_TICK_MS / 1000, (EXPIRY_TICK_MS % 1000) * 1000 };

	if (e == NULL)
		return NULL;
	e->srv = srv;
	e->timer = event_new(srv->base, -1, EV_PERSIST, tick, e);
	if (e->timer == NULL || event_add(e->timer, &tv) < 0) {
		if (e->timer)
			event_free(e->timer);
		free(e);
		return NULL;
	}
	return e;
}

void
expiry_stop(struct expiry *e)
{
	if (e == NULL)
		return;
	event_free(e->timer);
	e->timer = NULL;
	e->stopped = 1;
	if (!e->busy)
		free(e);
}
