/*
 * redis-link.h - the link's insides, shared by redis-link.c and
 * redis-scripts.c only.
 */
#ifndef REDIS_LINK_H
#define REDIS_LINK_H

#include "korpud.h"

struct redisAsyncContext;

enum link_state { LINK_DOWN, LINK_CONNECTING, LINK_HANDSHAKE, LINK_READY };

struct redis_link {
	struct event_base *base;
	struct redisAsyncContext *ac;	/* NULL while disconnected */
	enum link_state state;
	struct event *retry_ev;
	struct event *connect_timer;	/* connect, then close, timeout */
	long long backoff_ms;
	int64_t last_reply_us;
	unsigned pending;
	int handshake_pending, handshake_failed, handshake_phase;
	int closing;
	void (*close_done)(void *);
	void *close_arg;
	char last_error[256];
	/* settings, copied so a config reload can free its struct conf */
	char *host, *socket, *password;
	int port, db;
	long long connect_timeout_ms, command_timeout_ms;
	long long reconnect_min_ms, reconnect_max_ms;
};

struct redis_call {
	struct redis_link *link;
	redis_cb cb;
	void *arg;
	struct event *timer;
	int answered;
	int checking;			/* call_timed_out is reading replies */
	int replied;			/* ... and this call's came meanwhile */
};

struct handshake_arg {
	struct redis_link *link;
	int script;			/* index whose SHA the reply carries, or -1 */
};

int redis_call_any(struct redis_link *l, int allow_handshake, redis_cb cb, void *arg,
    int argc, const char **argv, const size_t *lens);
void redis_link_schema_check(struct redis_link *l);
void redis_link_handshake_done(struct redis_link *l, int ok, const char *why);

#endif
