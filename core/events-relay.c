/*
 * events-relay.c - moves partner events from each region's outbox to
 * their area's stream, korpu:events:{AREA} (README, "Events for
 * partners").
 *
 * A change and its event are written in one transaction, but under the
 * region's tag, while partners read one stream per area: Redis Cluster
 * cannot write both at once. So the event waits in the region's outbox
 * (korpu:{r:REGION}:outbox) and this relay copies it on, then deletes it.
 * A crash between the two copies it again: delivery is at least once,
 * and the `event` field (the outbox entry's id) lets a partner drop the
 * repeat. One instance relays a region at a time (a short lock), so
 * several korpuds do not duplicate each other. After an event reached
 * its stream, the area's plugin hears of it (on_event).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "korpud.h"

#define RELAY_TICK_MS 250
#define RELAY_BATCH "100"
#define RELAY_LOCK_MS "2000"	/* a stopped instance holds it no longer than this */

struct relay {
	struct server *srv;
	struct event *timer;
	size_t region;
	int busy, again, stopped;
	char lock_key[96];
	char lock_region[40];		/* the region whose lock we hold */
	char owner[ID_MAX];
	size_t pending;			/* XADD+XDEL pairs in flight */
};

static void relay_region(struct relay *rl);

static void
relay_end(struct relay *rl)
{
	rl->busy = 0;
	if (rl->stopped) {
		free(rl);
		return;
	}
	if (rl->again) {		/* kicked while busy: go round once more */
		rl->again = 0;
		rl->busy = 1;
		rl->region = 0;
		relay_region(rl);
	}
}

static void
lock_released(const struct tx_result *res, void *arg)
{
	(void)res;
	(void)arg;
}

static void
next_region(struct relay *rl)
{
	char tag[48];
	struct tx *t;
	int k;

	/* Only our own lock (a round slower than the lock's life would
	 * otherwise free another instance's); best effort, it expires anyway. */
	snprintf(tag, sizeof(tag), "r:%s", rl->lock_region);
	t = tx_new(tag);
	k = tx_key(t, "outbox:lock");
	tx_eq(t, k, rl->owner);
	tx_del(t, k);
	tx_run(t, rl->srv, lock_released, NULL);
	rl->region++;
	relay_region(rl);
}

struct moved_event {
	struct relay *rl;
	struct korpu_event ev;
	char type[64], id[ID_MAX], area[40], provider[ID_MAX];
	char outbox[96], entry[48];
	int notify;			/* for the notification stream, not partners */
};

static void
notify_plugin(struct server *srv, const struct korpu_event *ev)
{
	const struct plugin *p = plugins_find(&srv->plugins, ev->area);
	void (*on_event)(void *, const struct korpu_event *);

	if (p && p->started && (on_event = PLUGIN_HOOK(p->desc, on_event)) != NULL)
		on_event(p->state, ev);
}

static void
moved_done(struct moved_event *m)
{
	struct relay *rl = m->rl;

	free(m);
	if (--rl->pending == 0) {
		if (rl->stopped)
			relay_end(rl);
		else
			next_region(rl);
	}
}

static void
outbox_deleted(redisReply *reply, void *arg)
{
	(void)reply;
	moved_done(arg);
}

/* In the area's stream now: only then leave the outbox. */
static void
event_added(redisReply *reply, void *arg)
{
	struct moved_event *m = arg;
	struct relay *rl = m->rl;
	const char *xdel[] = { "XDEL", m->outbox, m->entry };

	if (reply == NULL || reply->type != REDIS_REPLY_STRING || rl->stopped) {
		if (reply && reply->type == REDIS_REPLY_ERROR)
			log_error("events: %s could not be relayed: %s", m->type, reply->str);
		moved_done(m);
		return;
	}
	if (!m->notify)
		notify_plugin(rl->srv, &m->ev);
	if (redis_call(rl->srv->redis, outbox_deleted, m, 3, xdel, NULL) < 0)
		moved_done(m);
}

static const char *
field(const redisReply *fields, const char *name)
{
	for (size_t i = 0; i + 1 < fields->elements; i += 2)
		if (strcmp(fields->element[i]->str, name) == 0)
			return fields->element[i + 1]->str;
	return "";
}

static void
outbox_read(redisReply *reply, void *arg)
{
	struct relay *rl = arg;
	const char *region;
	char outbox[96];

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || rl->stopped ||
	    rl->region >= rl->srv->conf->regions.n) {
		relay_end(rl);
		return;
	}
	if (reply->elements == 0) {
		next_region(rl);
		return;
	}
	region = rl->srv->conf->regions.v[rl->region];
	snprintf(outbox, sizeof(outbox), "korpu:{r:%s}:outbox", region);
	for (size_t i = 0; i < reply->elements; i++) {
		const redisReply *entry = reply->element[i];
		const redisReply *fields;
		struct moved_event *m;
		char stream[96];

		if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2)
			continue;
		fields = entry->element[1];
		m = calloc(1, sizeof(*m));
		if (m == NULL)
			break;
		m->rl = rl;
		snprintf(m->type, sizeof(m->type), "%s", field(fields, "type"));
		snprintf(m->id, sizeof(m->id), "%s", field(fields, "id"));
		snprintf(m->area, sizeof(m->area), "%s", field(fields, "area"));
		snprintf(m->provider, sizeof(m->provider), "%s", field(fields, "provider_id"));
		m->ev.type = m->type;
		m->ev.id = m->id;
		m->ev.area = m->area;
		m->ev.provider_id = m->provider[0] ? m->provider : NULL;
		m->ev.at = wall_ms() / 1000;
		snprintf(m->outbox, sizeof(m->outbox), "%s", outbox);
		snprintf(m->entry, sizeof(m->entry), "%s", entry->element[0]->str);
		m->notify = strcmp(field(fields, "stream"), "notify") == 0;
		if (m->notify)
			snprintf(stream, sizeof(stream), "korpu:notify:{notify}");
		else
			snprintf(stream, sizeof(stream), "korpu:events:{%s}", m->area);
		{
			/* Two keys of two tags: not atomic, on purpose (see the
			 * top); the XDEL is sent only once the XADD succeeded. */
			const char *xadd[] = { "XADD", stream, "MAXLEN", "~", "1000000", "*",
			    "type", m->type, "id", m->id, "at", field(fields, "at"), "area", m->area,
			    "provider_id", m->provider, "event", m->entry };
			if (redis_call(rl->srv->redis, event_added, m, 18, xadd, NULL) < 0) {
				free(m);
				break;
			}
			rl->pending++;
		}
	}
	if (rl->pending == 0)
		next_region(rl);
}

static void
locked(redisReply *reply, void *arg)
{
	struct relay *rl = arg;
	char outbox[96];

	if (reply == NULL || rl->stopped || rl->region >= rl->srv->conf->regions.n) {
		relay_end(rl);
		return;
	}
	if (reply->type != REDIS_REPLY_STATUS) {	/* another instance relays it */
		rl->region++;
		relay_region(rl);
		return;
	}
	snprintf(outbox, sizeof(outbox), "korpu:{r:%s}:outbox", rl->srv->conf->regions.v[rl->region]);
	{
		const char *argv[] = { "XRANGE", outbox, "-", "+", "COUNT", RELAY_BATCH };
		if (redis_call(rl->srv->redis, outbox_read, rl, 6, argv, NULL) < 0)
			relay_end(rl);
	}
}

static void
relay_region(struct relay *rl)
{
	if (rl->stopped || rl->region >= rl->srv->conf->regions.n) {
		relay_end(rl);
		return;
	}
	snprintf(rl->lock_region, sizeof(rl->lock_region), "%s",
	    rl->srv->conf->regions.v[rl->region]);
	snprintf(rl->lock_key, sizeof(rl->lock_key), "korpu:{r:%s}:outbox:lock", rl->lock_region);
	{
		const char *argv[] = { "SET", rl->lock_key, rl->owner, "NX", "PX", RELAY_LOCK_MS };
		if (redis_call(rl->srv->redis, locked, rl, 6, argv, NULL) < 0)
			relay_end(rl);
	}
}

static void
relay_now(struct relay *rl)
{
	if (rl == NULL || rl->stopped || !redis_link_ready(rl->srv->redis))
		return;
	if (rl->busy) {
		rl->again = 1;
		return;
	}
	rl->busy = 1;
	rl->region = 0;
	relay_region(rl);
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	relay_now(arg);
}

struct relay *
relay_start(struct server *srv)
{
	struct relay *rl = calloc(1, sizeof(*rl));
	struct timeval tv = { 0, RELAY_TICK_MS * 1000 };

	if (rl == NULL)
		return NULL;
	rl->srv = srv;
	if (id_new(rl->owner, sizeof(rl->owner), NULL) < 0) {	/* unique per instance */
		free(rl);
		return NULL;
	}
	rl->timer = event_new(srv->base, -1, EV_PERSIST, tick, rl);
	if (rl->timer == NULL || event_add(rl->timer, &tv) < 0) {
		if (rl->timer)
			event_free(rl->timer);
		free(rl);
		return NULL;
	}
	return rl;
}

/* A change just wrote an event: relay it now rather than at the next tick. */
void
events_kick(struct server *srv)
{
	relay_now(srv->relay);
}

void
relay_stop(struct relay *rl)
{
	if (rl == NULL)
		return;
	event_free(rl->timer);
	rl->timer = NULL;
	rl->stopped = 1;
	if (!rl->busy)
		free(rl);
}
