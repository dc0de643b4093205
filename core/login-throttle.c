/*
 * login-throttle.c - failed sign-ins counted per user name and per client
 * address in Redis, so several korpud instances count together. Past the
 * configured number of failures a name or address is locked out for a
 * while, longer with each lockout (login_failed.lua). User names become
 * hashes in key names: keys hold no personal data.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "korpud.h"

struct keys {
	char v[6][160];
	const char *argv[6];
};

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

static void
throttle_keys(const char *username, const char *addr, struct keys *k)
{
	char lower[300], hash[65];

	throttle_normalize(username, lower, sizeof(lower));
	if (sha256_hex(lower, strlen(lower), hash) < 0)
		hash[0] = '\0';
	snprintf(k->v[0], sizeof(k->v[0]), "korpu:{auth}:fails:user:%s", hash);
	snprintf(k->v[1], sizeof(k->v[1]), "korpu:{auth}:fails:addr:%.60s", addr);
	snprintf(k->v[2], sizeof(k->v[2]), "korpu:{auth}:lock:user:%s", hash);
	snprintf(k->v[3], sizeof(k->v[3]), "korpu:{auth}:lock:addr:%.60s", addr);
	snprintf(k->v[4], sizeof(k->v[4]), "korpu:{auth}:lockouts:user:%s", hash);
	snprintf(k->v[5], sizeof(k->v[5]), "korpu:{auth}:lockouts:addr:%.60s", addr);
	for (int i = 0; i < 6; i++)
		k->argv[i] = k->v[i];
}

/* cb gets an integer: 0, or the milliseconds until the lockout ends. */
int
throttle_check(struct server *srv, const char *username, const char *addr,
    redis_cb cb, void *arg)
{
	struct keys k;
	const char *argv[2];

	throttle_keys(username, addr, &k);
	argv[0] = k.v[2];
	argv[1] = k.v[3];
	return redis_script(srv->redis, SCRIPT_LOGIN_GATE, cb, arg, 2, 2, argv, NULL);
}

/* cb gets an integer: the milliseconds of a lockout this failure began, or 0. */
int
throttle_failed(struct server *srv, const char *username, const char *addr,
    redis_cb cb, void *arg)
{
	const struct conf *c = srv->conf;
	struct keys k;
	char per_user[24], per_addr[24], window[24], longest[24];
	const char *argv[10];

	throttle_keys(username, addr, &k);
	snprintf(per_user, sizeof(per_user), "%lld", c->sessions.max_failures);
	snprintf(per_addr, sizeof(per_addr), "%lld", c->sessions.max_failures_per_address);
	snprintf(window, sizeof(window), "%lld", c->sessions.lockout_s);
	snprintf(longest, sizeof(longest), "%lld", c->sessions.lockout_max_s);
	memcpy(argv, k.argv, sizeof(k.argv));
	argv[6] = per_user;
	argv[7] = per_addr;
	argv[8] = window;
	argv[9] = longest;
	return redis_script(srv->redis, SCRIPT_LOGIN_FAILED, cb, arg, 6, 10, argv, NULL);
}

/* A successful sign-in clears the name's failures (not the address's:
 * one good password must not reset a guessing run from that address). */
int
throttle_succeeded(struct server *srv, const char *username, const char *addr,
    redis_cb cb, void *arg)
{
	struct keys k;
	const char *argv[2];

	throttle_keys(username, addr, &k);
	argv[0] = "DEL";
	argv[1] = k.v[0];
	return redis_call(srv->redis, cb, arg, 2, argv, NULL);
}
