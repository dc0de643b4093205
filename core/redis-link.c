/*
 * redis-link.c - korpud's one asynchronous Redis connection.
 *
 * hiredis 0.14 (Debian 12) has no command timeout, so every command gets a
 * libevent timer here: the caller hears "no reply" (NULL) after
 * command_timeout_ms at the latest, and the request turns into a 503
 * instead of hanging. A command that timed out may still have been
 * applied by Redis; writes carry an Idempotency-Key for that reason.
 *
 * States: DOWN -> CONNECTING -> HANDSHAKE (AUTH, SELECT, SCRIPT LOAD,
 * schema check) -> READY. Only READY accepts callers' commands. Any
 * failure drops the connection and retries with capped exponential
 * backoff; hiredis frees the context itself after a disconnect, so the
 * pointer is dropped in the disconnect callback and never reused.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>

#include "korpud.h"
#include "redis-link.h"

static void link_connect(struct redis_link *l);

static void
retry_fired(evutil_socket_t fd, short what, void *arg)
{
	link_connect(arg);
}

static void
settings_copy(struct redis_link *l, const struct conf_redis *c)
{
	free(l->host);
	free(l->socket);
	free(l->password);
	l->host = c->host ? strdup(c->host) : NULL;
	l->socket = c->socket ? strdup(c->socket) : NULL;
	l->password = c->password ? strdup(c->password) : NULL;
	l->port = (int)c->port;
	l->db = (int)c->db;
	l->connect_timeout_ms = c->connect_timeout_ms;
	l->command_timeout_ms = c->command_timeout_ms;
	l->reconnect_min_ms = c->reconnect_min_ms;
	l->reconnect_max_ms = c->reconnect_max_ms;
}

static struct timeval
ms_tv(long long ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };
	return tv;
}

struct redis_link *
redis_link_new(struct event_base *base, const struct conf_redis *conf)
{
	struct redis_link *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->base = base;
	settings_copy(l, conf);
	l->retry_ev = evtimer_new(base, retry_fired, l);
	l->connect_timer = evtimer_new(base, NULL, NULL);
	l->backoff_ms = l->reconnect_min_ms;
	snprintf(l->last_error, sizeof(l->last_error), "not connected yet");
	return l;
}

unsigned
redis_link_pending(const struct redis_link *l)
{
	return l ? l->pending : 0;
}

int
redis_link_ready(const struct redis_link *l)
{
	return l != NULL && l->state == LINK_READY;
}

const char *
redis_link_problem(const struct redis_link *l)
{
	return l->last_error;
}

static void
link_retry_later(struct redis_link *l)
{
	struct timeval tv;
	long long ms = l->backoff_ms;

	l->state = LINK_DOWN;
	if (l->closing)
		return;
	/* Up to a quarter of jitter, so several korpud instances that lost
	 * Redis together do not reconnect in lockstep. */
	ms += (long long)(random() % (ms / 4 + 1));
	log_debug("redis: next connection attempt in %lld ms", ms);
	tv = ms_tv(ms);
	evtimer_add(l->retry_ev, &tv);
	l->backoff_ms *= 2;
	if (l->backoff_ms > l->reconnect_max_ms)
		l->backoff_ms = l->reconnect_max_ms;
}

/* Drops the connection now; pending callbacks get NULL replies and the
 * disconnect callback schedules the reconnect. */
static void
link_drop(struct redis_link *l, const char *why)
{
	snprintf(l->last_error, sizeof(l->last_error), "%.250s", why);
	if (l->ac == NULL)
		return;
	if (l->state == LINK_CONNECTING) {
		/* hiredis calls no disconnect callback before it connected. */
		redisAsyncContext *ac = l->ac;
		l->ac = NULL;
		evtimer_del(l->connect_timer);
		redisAsyncFree(ac);
		link_retry_later(l);
		return;
	}
	redisAsyncFree(l->ac);
}

/* ---- commands with timeouts ---- */

static void
call_free(struct redis_call *c)
{
	event_free(c->timer);
	c->link->pending--;
	free(c);
}

static void
call_timed_out(evutil_socket_t fd, short what, void *arg)
{
	struct redis_call *c = arg;
	struct redis_link *l = c->link;
	char why[128];

	/* After a long step of the loop (an import's mapping) this timer and
	 * the reply can both be due in one turn, the timer first: read what
	 * Redis has sent already before calling the command unanswered. */
	if (l->ac && !l->closing) {
		c->checking = 1;
		redisAsyncHandleRead(l->ac);
		c->checking = 0;
		if (c->replied) {
			call_free(c);
			return;
		}
	}
	c->answered = 1;
	metrics_redis_timeout();
	log_warn("redis: a command got no reply within %lld ms", l->command_timeout_ms);
	c->cb(NULL, c->arg);
	/* Nothing heard for a whole timeout: Redis is stalled (stopped,
	 * swapping, blocked). Drop the link so waiting callers are answered
	 * and /ready says so, rather than queueing behind it. */
	if (l->ac && now_us() - l->last_reply_us >= l->command_timeout_ms * 1000) {
		snprintf(why, sizeof(why), "no reply from Redis within %lld ms", l->command_timeout_ms);
		log_warn("redis: %s; reconnecting", why);
		link_drop(l, why);
	}
}

static void
call_replied(redisAsyncContext *ac, void *r, void *priv)
{
	struct redis_call *c = priv;

	if (r != NULL)
		c->link->last_reply_us = now_us();
	if (!c->answered) {
		c->answered = 1;
		evtimer_del(c->timer);
		c->cb(r, c->arg);
	}
	if (c->checking)
		c->replied = 1;		/* call_timed_out frees it */
	else
		call_free(c);
}

int
redis_call_any(struct redis_link *l, int allow_handshake, redis_cb cb, void *arg,
    int argc, const char **argv, const size_t *lens)
{
	struct redis_call *c;
	struct timeval tv;

	if (l == NULL || l->ac == NULL || l->closing)
		return -1;
	if (l->state != LINK_READY && !(allow_handshake && l->state == LINK_HANDSHAKE))
		return -1;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -1;
	c->link = l;
	c->cb = cb;
	c->arg = arg;
	c->timer = evtimer_new(l->base, call_timed_out, c);
	if (c->timer == NULL ||
	    redisAsyncCommandArgv(l->ac, call_replied, c, argc, argv, lens) != REDIS_OK) {
		if (c->timer)
			event_free(c->timer);
		free(c);
		return -1;
	}
	l->pending++;
	if (l->pending == 1)
		l->last_reply_us = now_us();	/* the stall clock starts now */
	tv = ms_tv(l->command_timeout_ms);
	evtimer_add(c->timer, &tv);
	return 0;
}

/*
 * Sends one command. cb gets the reply, or NULL when Redis is unavailable
 * or did not answer in time; it is called exactly once, unless this
 * returns -1 (not READY), when it is not called at all.
 */
int
redis_call(struct redis_link *l, redis_cb cb, void *arg, int argc,
    const char **argv, const size_t *lens)
{
	return redis_call_any(l, 0, cb, arg, argc, argv, lens);
}

/* ---- connecting and the handshake ---- */

void
redis_link_handshake_done(struct redis_link *l, int ok, const char *why)
{
	if (!ok && l->handshake_failed == 0) {
		l->handshake_failed = 1;
		snprintf(l->last_error, sizeof(l->last_error), "%.250s", why);
	}
	if (--l->handshake_pending > 0)
		return;
	if (l->handshake_failed) {
		log_error("redis: %s", l->last_error);
		if (l->ac)
			redisAsyncFree(l->ac);
		return;
	}
	if (l->handshake_phase == 0) {
		l->handshake_phase = 1;
		redis_link_schema_check(l);
		return;
	}
	l->state = LINK_READY;
	metrics_redis_connected();
	l->backoff_ms = l->reconnect_min_ms;
	snprintf(l->last_error, sizeof(l->last_error), "ready");
	if (l->socket)
		log_info("redis: connected and ready (%s, db %d)", l->socket, l->db);
	else
		log_info("redis: connected and ready (%s:%d, db %d)", l->host, l->port, l->db);
}

static void
handshake_reply(redisReply *r, void *arg)
{
	struct redis_link *l = ((struct handshake_arg *)arg)->link;
	int idx = ((struct handshake_arg *)arg)->script;
	char why[300];

	free(arg);
	if (r == NULL) {
		redis_link_handshake_done(l, 0, "no reply during the connection handshake");
		return;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(why, sizeof(why), "handshake refused: %s", r->str);
		redis_link_handshake_done(l, 0, why);
		return;
	}
	if (idx >= 0 && r->type == REDIS_REPLY_STRING && r->len == 40)
		memcpy(redis_scripts[idx].sha, r->str, 41);
	redis_link_handshake_done(l, 1, NULL);
}

static void
handshake_send(struct redis_link *l, int script, int argc, const char **argv)
{
	struct handshake_arg *ha = malloc(sizeof(*ha));

	if (ha == NULL)
		return;
	ha->link = l;
	ha->script = script;
	l->handshake_pending++;
	if (redis_call_any(l, 1, handshake_reply, ha, argc, argv, NULL) < 0) {
		free(ha);
		l->handshake_pending--;
		l->handshake_failed = 1;
	}
}

static void
on_connect(const redisAsyncContext *ac, int status)
{
	struct redis_link *l = ac->data;
	char db[16];

	evtimer_del(l->connect_timer);
	if (status != REDIS_OK) {
		snprintf(l->last_error, sizeof(l->last_error), "cannot connect: %s", ac->errstr);
		log_warn("redis: %s", l->last_error);
		l->ac = NULL;		/* hiredis frees it after this callback */
		link_retry_later(l);
		return;
	}
	l->state = LINK_HANDSHAKE;
	l->handshake_pending = 1;	/* held until every step is sent */
	l->handshake_failed = 0;
	l->handshake_phase = 0;
	if (l->password) {
		const char *argv[] = { "AUTH", l->password };
		handshake_send(l, -1, 2, argv);
	}
	if (l->db != 0) {
		const char *argv[] = { "SELECT", db };
		snprintf(db, sizeof(db), "%d", l->db);
		handshake_send(l, -1, 2, argv);
	}
	for (int i = 0; i < SCRIPT_COUNT; i++) {
		const char *argv[] = { "SCRIPT", "LOAD", redis_scripts[i].source };
		handshake_send(l, i, 3, argv);
	}
	redis_link_handshake_done(l, !l->handshake_failed, "cannot send the handshake");
}

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	struct redis_link *l = ac->data;

	l->ac = NULL;
	if (l->closing)
		log_info("redis: connection closed");
	else if (l->state == LINK_READY)
		log_warn("redis: connection lost%s%s", status == REDIS_OK ? "" : ": ",
		    status == REDIS_OK ? "" : ac->errstr);
	if (status != REDIS_OK && ac->errstr[0])
		snprintf(l->last_error, sizeof(l->last_error), "connection lost: %s", ac->errstr);
	else if (l->state == LINK_READY)
		snprintf(l->last_error, sizeof(l->last_error), "connection closed");
	if (l->closing) {
		l->state = LINK_DOWN;
		if (l->close_done) {
			void (*done)(void *) = l->close_done;
			l->close_done = NULL;
			done(l->close_arg);
		}
		return;
	}
	link_retry_later(l);
}

static void
connect_timed_out(evutil_socket_t fd, short what, void *arg)
{
	struct redis_link *l = arg;
	char why[96];

	snprintf(why, sizeof(why), "cannot connect within %lld ms", l->connect_timeout_ms);
	log_warn("redis: %s", why);
	link_drop(l, why);
}

static void
link_connect(struct redis_link *l)
{
	redisAsyncContext *ac;
	struct timeval tv;

	if (l->closing || l->ac != NULL)
		return;
	ac = l->socket ? redisAsyncConnectUnix(l->socket) : redisAsyncConnect(l->host, l->port);
	if (ac == NULL || ac->err) {
		snprintf(l->last_error, sizeof(l->last_error), "cannot connect: %s",
		    ac ? ac->errstr : "out of memory");
		/* (a unix socket that is not there fails here, at once; a TCP
		 * connect fails in on_connect, which logs the same way) */
		log_warn("redis: %s", l->last_error);
		if (ac)
			redisAsyncFree(ac);
		link_retry_later(l);
		return;
	}
	ac->data = l;
	redisLibeventAttach(ac, l->base);
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	l->ac = ac;
	l->state = LINK_CONNECTING;
	event_assign(l->connect_timer, l->base, -1, 0, connect_timed_out, l);
	tv = ms_tv(l->connect_timeout_ms);
	evtimer_add(l->connect_timer, &tv);
}

void
redis_link_start(struct redis_link *l)
{
	link_connect(l);
}

/* New settings: timeouts apply at once; a new address, password or db
 * reconnects. */
void
redis_link_reconfigure(struct redis_link *l, const struct conf_redis *c)
{
	int same = l->port == c->port && l->db == c->db &&
	    !!l->socket == !!c->socket && (!l->socket || strcmp(l->socket, c->socket) == 0) &&
	    !!l->host == !!c->host && (!l->host || strcmp(l->host, c->host) == 0) &&
	    !!l->password == !!c->password &&
	    (!l->password || strcmp(l->password, c->password) == 0);

	settings_copy(l, c);
	if (same)
		return;
	log_info("redis: settings changed, reconnecting");
	l->backoff_ms = l->reconnect_min_ms;
	if (l->ac)
		link_drop(l, "reconnecting with new settings");
	else {
		evtimer_del(l->retry_ev);
		link_connect(l);
	}
}

static void
close_timed_out(evutil_socket_t fd, short what, void *arg)
{
	struct redis_link *l = arg;

	if (l->ac)
		redisAsyncFree(l->ac);	/* on_disconnect calls close_done */
}

/*
 * Closes cleanly: replies still owed are awaited (bounded by the command
 * timeout), then done(arg) runs.
 */
void
redis_link_close(struct redis_link *l, void (*done)(void *), void *arg)
{
	struct timeval tv = ms_tv(l->command_timeout_ms);

	l->closing = 1;
	evtimer_del(l->retry_ev);
	l->close_done = done;
	l->close_arg = arg;
	if (l->ac == NULL || l->state == LINK_CONNECTING) {
		link_drop(l, "closing");
		l->close_done = NULL;
		done(arg);
		return;
	}
	event_assign(l->connect_timer, l->base, -1, 0, close_timed_out, l);
	evtimer_add(l->connect_timer, &tv);
	redisAsyncDisconnect(l->ac);
}

void
redis_link_free(struct redis_link *l)
{
	if (l == NULL)
		return;
	l->closing = 1;
	l->close_done = NULL;
	if (l->ac)
		redisAsyncFree(l->ac);
	event_free(l->retry_ev);
	event_free(l->connect_timer);
	free(l->host);
	free(l->socket);
	if (l->password)
		explicit_bzero(l->password, strlen(l->password));
	free(l->password);
	free(l);
}
