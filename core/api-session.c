/*
 * api-session.c - POST /api/v1/login, POST /api/v1/logout, GET /api/v1/me.
 *
 * Sign-in: throttle check (Redis), then search-then-bind against the
 * directory (ldap-pool.c, off the loop), then a new session (Redis).
 * A failed sign-in answers the same 401 for an unknown user and a wrong
 * password, and only after a fixed minimum time, so neither the body nor
 * the timing tells which it was. A session cookie sent with the sign-in is
 * never reused: every sign-in makes a new token. Passwords and tokens are
 * never logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/http.h>
#include <hiredis/hiredis.h>

#include "korpud.h"

#define LOGIN_FLOOR_MS 300	/* every failed sign-in takes at least this */
#define USERNAME_MAX 256
#define PASSWORD_MAX 1024

struct login {
	struct request *r;
	char username[USERNAME_MAX + 1];
	char *password;
	struct event *pad;
	json_t *user;
	char token[44];
	int64_t expires_at;
};

static void
login_free(struct login *l)
{
	if (l->password) {
		explicit_bzero(l->password, strlen(l->password));
		free(l->password);
	}
	if (l->pad)
		event_free(l->pad);
	json_decref(l->user);
	explicit_bzero(l->token, sizeof(l->token));
	free(l);
}

static void
ignore_reply(redisReply *reply, void *arg)
{
}

/* ---- failure: counted, audited, answered late ---- */

static void
denied_now(evutil_socket_t fd, short what, void *arg)
{
	struct login *l = arg;

	reply_problem(l->r, 401, "unknown user name or wrong password");
	login_free(l);
}

static void
failure_counted(redisReply *reply, void *arg)
{
	struct login *l = arg;
	int64_t elapsed_ms = (now_us() - l->r->started_us) / 1000;
	int64_t wait_ms = LOGIN_FLOOR_MS - elapsed_ms;
	struct timeval tv;

	if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer > 0)
		rlog_warn(l->r, "login: lockout of %lld ms begins", (long long)reply->integer);
	if (wait_ms < 0)
		wait_ms = 0;
	wait_ms += random() % 20;
	tv.tv_sec = (time_t)(wait_ms / 1000);
	tv.tv_usec = (suseconds_t)((wait_ms % 1000) * 1000);
	l->pad = evtimer_new(l->r->srv->base, denied_now, l);
	if (l->pad == NULL || evtimer_add(l->pad, &tv) < 0)
		denied_now(-1, 0, l);
}

static void
login_denied(struct login *l, const char *why)
{
	audit_record(l->r->srv, l->r, l->username, "login", why, NULL);
	if (throttle_failed(l->r->srv, l->username, request_peer(l->r), failure_counted, l) < 0)
		failure_counted(NULL, l);
}

/* ---- success: a new session ---- */

static void
session_stored(redisReply *reply, void *arg)
{
	struct login *l = arg;
	struct request *r = l->r;
	char cookie[256], expires[40];

	if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
		audit_record(r->srv, r, l->username, "login", "unavailable", NULL);
		reply_unavailable(r, "redis: the session could not be stored", 1);
		login_free(l);
		return;
	}
	throttle_succeeded(r->srv, l->username, request_peer(r), ignore_reply, NULL);
	r->roles = authz_roles_from_json(json_object_get(l->user, "roles"));
	snprintf(r->uid, sizeof(r->uid), "%s", l->username);
	snprintf(r->org, sizeof(r->org), "%s",
	    json_string_value(json_object_get(l->user, "organization")) ?: "");
	audit_record(r->srv, r, NULL, "login", "success", NULL);
	session_cookie(r->srv->conf, l->token, r->srv->conf->sessions.lifetime_s, cookie,
	    sizeof(cookie));
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Set-Cookie", cookie);
	time_format_s(l->expires_at, expires, sizeof(expires));
	reply_json(r, 200, json_pack("{s:s, s:s, s:O}", "token", l->token,
	    "expires_at", expires, "user", l->user));
	login_free(l);
}

/* The areas a user works in: a provider's from the directory (only areas
 * korpud serves), everyone else's all of them. */
static json_t *
user_areas(const struct server *srv, const struct ldap_user *u)
{
	json_t *areas = json_array();

	for (size_t i = 0; i < srv->plugins.n; i++) {
		const struct plugin *p = &srv->plugins.v[i];
		int mine = !(u->roles & ROLE_PROVIDER) ||
		    (u->roles & (ROLE_CASEWORKER | ROLE_SUPERVISOR | ROLE_ADMIN));

		for (size_t k = 0; !mine && k < u->n_areas; k++)
			mine = strcmp(u->areas[k], p->name) == 0;
		if (p->started && mine)
			json_array_append_new(areas, json_string(p->name));
	}
	return areas;
}

static void
directory_answered(enum ldap_outcome outcome, const struct ldap_user *u,
    const char *detail, void *arg)
{
	struct login *l = arg;
	struct request *r = l->r;

	switch (outcome) {
	case LDAP_LOGIN_DENIED:
		login_denied(l, "denied");
		return;
	case LDAP_LOGIN_UNAVAILABLE:
	case LDAP_LOGIN_ERROR:
		rlog_warn(r, "login: %s", detail && *detail ? detail : "directory unavailable");
		audit_record(r->srv, r, l->username, "login", "unavailable", NULL);
		reply_unavailable(r, "ldap: the staff directory is not answering; try again shortly", 5);
		login_free(l);
		return;
	case LDAP_LOGIN_OK:
		break;
	}
	if (u->roles == 0) {
		audit_record(r->srv, r, l->username, "login", "no_role", NULL);
		reply_problem(r, 403, "this account has no korpu role; ask your administrator");
		login_free(l);
		return;
	}
	l->user = json_pack("{s:s, s:s, s:o, s:s, s:o}", "uid", l->username,
	    "name", u->name[0] ? u->name : l->username, "roles", authz_roles_json(u->roles),
	    "organization", u->organization, "areas", user_areas(r->srv, u));
	if (l->user == NULL ||
	    session_create(r->srv, l->user, l->token, &l->expires_at, session_stored, l) < 0) {
		reply_unavailable(r, "redis: the session could not be stored", 1);
		login_free(l);
	}
}

static void
gate_checked(redisReply *reply, void *arg)
{
	struct login *l = arg;
	struct request *r = l->r;
	char secs[24];

	if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
		reply_unavailable(r, "redis: sign-in is unavailable right now", 1);
		login_free(l);
		return;
	}
	if (reply->integer > 0) {
		snprintf(secs, sizeof(secs), "%lld", (reply->integer + 999) / 1000);
		evhttp_add_header(evhttp_request_get_output_headers(r->req), "Retry-After", secs);
		audit_record(r->srv, r, l->username, "login", "throttled", NULL);
		reply_problem(r, 429, "too many failed sign-ins; wait before trying again");
		login_free(l);
		return;
	}
	/* Never an anonymous bind: an empty password fails here, and no
	 * bind with it ever reaches the directory. */
	if (l->password[0] == '\0') {
		login_denied(l, "denied");
		return;
	}
	if (ldap_pool_login(r->srv->ldap, l->username, l->password, directory_answered, l) < 0) {
		reply_unavailable(r, "ldap: too many sign-ins waiting; try again shortly", 1);
		login_free(l);
	}
}

static int
text_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

void
api_login(struct request *r)
{
	const json_t *u = json_object_get(r->body, "username");
	const json_t *p = json_object_get(r->body, "password");
	struct errlist errs = { 0 };
	struct login *l;

	if (!json_is_string(u) || json_string_length(u) == 0)
		errlist_add(&errs, "username", "is required");
	else if (json_string_length(u) > USERNAME_MAX || !text_ok(json_string_value(u)))
		errlist_add(&errs, "username", "must be at most %d characters, without control characters",
		    USERNAME_MAX);
	if (!json_is_string(p))
		errlist_add(&errs, "password", "is required");
	else if (json_string_length(p) > PASSWORD_MAX || strlen(json_string_value(p)) != json_string_length(p))
		errlist_add(&errs, "password", "is not acceptable");
	if (errs.n) {
		reply_problem_errors(r, 422, "username and password are required", &errs);
		errlist_free(&errs);
		return;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL || (l->password = strdup(json_string_value(p))) == NULL) {
		free(l);
		reply_problem(r, 500, "out of memory");
		return;
	}
	l->r = r;
	snprintf(l->username, sizeof(l->username), "%s", json_string_value(u));
	/* The body still holds the password: drop it now. */
	json_object_del(r->body, "password");
	if (throttle_check(r->srv, l->username, request_peer(r), gate_checked, l) < 0) {
		reply_unavailable(r, "redis: sign-in is unavailable right now", 1);
		login_free(l);
	}
}

static void
session_deleted(redisReply *reply, void *arg)
{
	struct request *r = arg;
	char cookie[256];

	if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
		reply_unavailable(r, "redis: the session could not be ended", 1);
		return;
	}
	audit_record(r->srv, r, NULL, "logout", "success", NULL);
	session_cookie(r->srv->conf, NULL, 0, cookie, sizeof(cookie));
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Set-Cookie", cookie);
	reply_bytes(r, 204, NULL, NULL, 0);
}

void
api_logout(struct request *r)
{
	if (session_delete(r->srv, r->token, session_deleted, r) < 0)
		reply_unavailable(r, "redis: the session could not be ended", 1);
}

void
api_me(struct request *r)
{
	reply_json(r, 200, json_incref(r->user));
}
