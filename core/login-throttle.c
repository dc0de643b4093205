/*
 * login-throttle.c - failed sign-ins counted per user name and per client
 * address in Redis, so several korpud instances count together. Past the
 * configured number of failures a name or address is locked out for a
 * while, longer with each lockout (login_failed.lua). An attempt is
 * reserved before the directory is asked (login_reserve.lua) and settled
 * after (login_failed.lua or login_settle.lua), so parallel guesses count
 * too. Failures count under the directory's spelling of a name once the
 * entry is found, so no other spelling escapes a lockout. User names
 * become hashes in key names: keys hold no personal data.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "korpud.h"

/*
 * A user name as the directory compares it: case and surrounding or
 * repeated spaces do not matter there (caseIgnoreMatch), so they must not
 * here either, or " Name" would dodge the lockout of "name". Case is
 * folded for ASCII; korpud also counts failures under the directory's own
 * spelling of a name it found, which covers every other variant.
 */
void
throttle_normalize(const char *username, char *out, size_t len)
{
	size_t n = 0;
	int space = 0;

	while (*username == ' ' || *username == '\t')
		username++;
	for (; *username && n + 1 < len; username++) {
		if (*username == ' ' || *username == '\t') {
			space = 1;
			continue;
		}
		if (space && n + 2 < len)
			out[n++] = ' ';
		space = 0;
		out[n++] = (char)tolower((unsigned char)*username);
	}
	out[n] = '\0';
}

enum { FAILS, LOCK, LOCKOUTS, PENDING };

/* korpu:{auth}:KIND:user:HASH for a user name. */
static void
user_key(int kind, const char *name, char *buf, size_t len)
{
	static const char *const kinds[] = { "fails", "lock", "lockouts", "pending" };
	char norm[300], hash[65];

	throttle_normalize(name, norm, sizeof(norm));
	if (sha256_hex(norm, strlen(norm), hash) < 0)
		hash[0] = '\0';
	snprintf(buf, len, "korpu:{auth}:%s:user:%s", kinds[kind], hash);
}

/* korpu:{auth}:KIND:addr:ADDRESS for a client address. */
static void
addr_key(int kind, const char *addr, char *buf, size_t len)
{
	static const char *const kinds[] = { "fails", "lock", "lockouts", "pending" };

	snprintf(buf, len, "korpu:{auth}:%s:addr:%.60s", kinds[kind], addr);
}

#define KEYLEN 160

/* cb gets an integer: 0 reserved, >0 milliseconds of lockout left, -1 too
 * many attempts in flight. */
int
throttle_reserve(struct server *srv, const char *typed, const char *addr,
    redis_cb cb, void *arg)
{
	const struct conf *c = srv->conf;
	char k[6][KEYLEN], per_user[24], per_addr[24], ttl[24];
	const char *argv[9];

	user_key(LOCK, typed, k[0], KEYLEN);
	addr_key(LOCK, addr, k[1], KEYLEN);
	user_key(FAILS, typed, k[2], KEYLEN);
	addr_key(FAILS, addr, k[3], KEYLEN);
	user_key(PENDING, typed, k[4], KEYLEN);
	addr_key(PENDING, addr, k[5], KEYLEN);
	snprintf(per_user, sizeof(per_user), "%lld", c->sessions.max_failures);
	snprintf(per_addr, sizeof(per_addr), "%lld", c->sessions.max_failures_per_address);
	/* An attempt korpud never settles (it died) stops counting after this. */
	snprintf(ttl, sizeof(ttl), "%lld",
	    (c->ldap.connect_timeout_ms + 6 * c->ldap.op_timeout_ms) / 1000 + 5);
	for (int i = 0; i < 6; i++)
		argv[i] = k[i];
	argv[6] = per_user;
	argv[7] = per_addr;
	argv[8] = ttl;
	return redis_script(srv->redis, SCRIPT_LOGIN_RESERVE, cb, arg, 6, 9, argv, NULL);
}

/* cb gets an integer: the milliseconds name stays locked out (<= 0: not). */
int
throttle_locked(struct server *srv, const char *name, redis_cb cb, void *arg)
{
	char key[KEYLEN];
	const char *argv[] = { "PTTL", key };

	user_key(LOCK, name, key, sizeof(key));
	return redis_call(srv->redis, cb, arg, 2, argv, NULL);
}

/* A failed attempt by typed (as reserved), counted under name (the
 * directory's spelling, or typed when no entry was found). cb gets an
 * integer: the milliseconds of a lockout this failure began, or 0. */
int
throttle_failed(struct server *srv, const char *typed, const char *name, const char *addr,
    redis_cb cb, void *arg)
{
	const struct conf *c = srv->conf;
	char k[8][KEYLEN], per_user[24], per_addr[24], window[24], longest[24];
	const char *argv[12];

	user_key(FAILS, name, k[0], KEYLEN);
	addr_key(FAILS, addr, k[1], KEYLEN);
	user_key(LOCK, name, k[2], KEYLEN);
	addr_key(LOCK, addr, k[3], KEYLEN);
	user_key(LOCKOUTS, name, k[4], KEYLEN);
	addr_key(LOCKOUTS, addr, k[5], KEYLEN);
	user_key(PENDING, typed, k[6], KEYLEN);
	addr_key(PENDING, addr, k[7], KEYLEN);
	snprintf(per_user, sizeof(per_user), "%lld", c->sessions.max_failures);
	snprintf(per_addr, sizeof(per_addr), "%lld", c->sessions.max_failures_per_address);
	snprintf(window, sizeof(window), "%lld", c->sessions.lockout_s);
	snprintf(longest, sizeof(longest), "%lld", c->sessions.lockout_max_s);
	for (int i = 0; i < 8; i++)
		argv[i] = k[i];
	argv[8] = per_user;
	argv[9] = per_addr;
	argv[10] = window;
	argv[11] = longest;
	return redis_script(srv->redis, SCRIPT_LOGIN_FAILED, cb, arg, 8, 12, argv, NULL);
}

/* Ends a reserved attempt that was not a failure; ok (signed in) also
 * clears the failures of name. A success does not clear the address's
 * failures: one good password must not reset a guessing run from there. */
int
throttle_settle(struct server *srv, const char *typed, const char *name, const char *addr,
    int ok, redis_cb cb, void *arg)
{
	char k[3][KEYLEN];
	const char *argv[4];

	user_key(PENDING, typed, k[0], KEYLEN);
	addr_key(PENDING, addr, k[1], KEYLEN);
	user_key(FAILS, name, k[2], KEYLEN);
	for (int i = 0; i < 3; i++)
		argv[i] = k[i];
	argv[3] = ok ? "ok" : "release";
	return redis_script(srv->redis, SCRIPT_LOGIN_SETTLE, cb, arg, 3, 4, argv, NULL);
}
