/*
 * session.c - staff sessions in Redis. A client holds a 256-bit token;
 * Redis holds only its SHA-256 as the key, so neither a copy of Redis nor
 * a log line (tokens are never logged) lets anyone act as the user. A
 * session ends at its idle timeout, at its absolute lifetime, or at
 * logout, whichever comes first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "korpud.h"

static void
session_key(const char *token, char *key, size_t len)
{
	char hash[65];

	if (sha256_hex(token, strlen(token), hash) < 0)
		hash[0] = '\0';
	snprintf(key, len, "korpu:session:{%s}", hash);
}

/* The token a request carries: the Authorization: Bearer header, else the
 * korpu_session cookie. */
const char *
session_token_of(struct request *r, char *buf, size_t len)
{
	return session_token_parse(request_header(r, "Authorization"),
	    request_header(r, "Cookie"), buf, len);
}

/*
 * Stores a new session for user (a JSON object, not taken); writes the
 * new token and its absolute expiry. cb gets the Redis reply (1 when
 * stored). Returns -1 when Redis cannot be asked.
 */
int
session_create(struct server *srv, const json_t *user, char token[44], int64_t *expires_at,
    redis_cb cb, void *arg)
{
	const struct conf *c = srv->conf;
	char key[96], exp[24], now[24], idle[24];
	char *text = json_dumps(user, JSON_COMPACT);
	time_t t = time(NULL);
	int rc;

	if (text == NULL || token_new(token) < 0) {
		free(text);
		return -1;
	}
	*expires_at = (int64_t)t + c->sessions.lifetime_s;
	session_key(token, key, sizeof(key));
	snprintf(exp, sizeof(exp), "%lld", (long long)*expires_at);
	snprintf(now, sizeof(now), "%lld", (long long)t);
	snprintf(idle, sizeof(idle), "%lld", c->sessions.idle_timeout_s);
	{
		const char *argv[] = { key, text, exp, now, idle };
		rc = redis_script(srv->redis, SCRIPT_SESSION_CREATE, cb, arg, 1, 5, argv, NULL);
	}
	free(text);
	return rc;
}

/* Looks a token up and extends its idle time; cb gets the reply: a string
 * (the user's JSON) or nil. */
int
session_touch(struct server *srv, const char *token, redis_cb cb, void *arg)
{
	char key[96], now[24], idle[24];
	const char *argv[] = { key, now, idle };

	session_key(token, key, sizeof(key));
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	snprintf(idle, sizeof(idle), "%lld", srv->conf->sessions.idle_timeout_s);
	return redis_script(srv->redis, SCRIPT_SESSION_TOUCH, cb, arg, 1, 3, argv, NULL);
}

/* Ends a session at once. */
int
session_delete(struct server *srv, const char *token, redis_cb cb, void *arg)
{
	char key[96];
	const char *argv[] = { "DEL", key };

	session_key(token, key, sizeof(key));
	return redis_call(srv->redis, cb, arg, 2, argv, NULL);
}

/* The Set-Cookie value for a token (or, with NULL, one that clears it). */
void
session_cookie(const struct conf *c, const char *token, long long max_age, char *buf, size_t len)
{
	snprintf(buf, len, "%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict%s",
	    SESSION_COOKIE, token ? token : "", token ? max_age : 0LL,
	    c->sessions.cookie_secure ? "; Secure" : "");
}
