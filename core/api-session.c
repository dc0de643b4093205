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
	char username[USERNAME_MAX + 1];	/* as typed */
	char uid[USERNAME_MAX + 1];		/* as the directory spells it, once found */
	char *password;
	struct event *pad;
	json_t *user;
	char token[44];
	int64_t expires_at;
	struct login *prev, *next;		/* sign-ins in progress */
};

/* Sign-ins in progress: at exit, those the drain did not wait for are
 * freed here (with their requests), never left behind. */
static struct login *in_progress;

static struct login *
login_new(struct request *r)
{
	struct login *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->r = r;
	l->next = in_progress;
	if (in_progress)
		in_progress->prev = l;
	in_progress = l;
	return l;
}

static void
login_free(struct login *l)
{
	if (l->prev)
		l->prev->next = l->next;
	else
		in_progress = l->next;
	if (l->next)
		l->next->prev = l->prev;
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

void
api_session_shutdown(void)
{
	while (in_progress) {
		struct login *l = in_progress;
		request_abandon(l->r);
		login_free(l);
	}
}

/* Who a sign-in attempt was for, in the audit trail: the directory's name
 * once the entry was found; otherwise nothing of what was typed, since
 * people sometimes type their password into the name field (and a hash of
 * it could be reversed by guessing). */
static void
audit_attempt(struct login *l, const char *outcome)
{
	audit_record(l->r->srv, l->r, l->uid[0] ? l->uid : "(unknown user)", "login",
	    outcome, NULL);
}

/* The name failures are counted under: the directory's, once known. */
static const char *
throttle_name(const struct login *l)
{
	return l->uid[0] ? l->uid : l->username;
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
	audit_attempt(l, why);
	if (throttle_failed(l->r->srv, l->username, throttle_name(l), request_peer(l->r),
	    failure_counted, l) < 0)
		failure_counted(NULL, l);
}

/* Ends the attempt's reservation without a failure; the caller answers. */
static void
login_settle(struct login *l, int ok)
{
	throttle_settle(l->r->srv, l->username, throttle_name(l), request_peer(l->r), ok,
	    ignore_reply, NULL);
}

/* A backing service failed after the attempt was reserved: release it,
 * answer 503 naming the service, and end the sign-in. */
static void
login_unavailable(struct login *l, const char *detail, int retry_after_s)
{
	login_settle(l, 0);
	reply_unavailable(l->r, detail, retry_after_s);
	login_free(l);
}

/* ---- success: a new session ---- */

static void
session_stored(redisReply *reply, void *arg)
{
	struct login *l = arg;
	struct request *r = l->r;
	char cookie[256], expires[40];

	if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
		audit_attempt(l, "unavailable");
		login_unavailable(l, "redis: the session could not be stored", 1);
		return;
	}
	login_settle(l, 1);
	r->roles = authz_roles_from_json(json_object_get(l->user, "roles"));
	snprintf(r->uid, sizeof(r->uid), "%s", l->uid);
	{
		const char *org = json_string_value(json_object_get(l->user, "organization")) ?: "";
		utf8_copy(r->org, sizeof(r->org), org, strlen(org));
	}
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
store_session(struct login *l)
{
	struct request *r = l->r;

	if (session_create(r->srv, l->user, l->token, &l->expires_at, session_stored, l) < 0) {
		login_unavailable(l, "redis: the session could not be stored", 1);
	}
}

/* The password was right; is the directory's spelling of the name locked
 * out? (The reservation checked only the spelling typed.) A locked name
 * gets the same late 401 as a wrong password: during a lockout no answer
 * may tell whether a guess was right. */
static void
canonical_lock_checked(redisReply *reply, void *arg)
{
	struct login *l = arg;
	struct request *r = l->r;

	if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
		login_unavailable(l, "redis: sign-in is unavailable right now", 1);
		return;
	}
	if (reply->integer > 0) {
		audit_attempt(l, "throttled");
		throttle_settle(r->srv, l->username, throttle_name(l), request_peer(r), 0,
		    failure_counted, l);
		return;
	}
	store_session(l);
}

static void
directory_answered(enum ldap_outcome outcome, const struct ldap_user *u,
    const char *detail, void *arg)
{
	struct login *l = arg;
	struct request *r = l->r;

	if (u && u->uid[0])
		snprintf(l->uid, sizeof(l->uid), "%s", u->uid);
	switch (outcome) {
	case LDAP_LOGIN_DENIED:
		login_denied(l, "denied");
		return;
	case LDAP_LOGIN_UNAVAILABLE:
	case LDAP_LOGIN_ERROR:
		rlog_warn(r, "login: %s", detail && *detail ? detail : "directory unavailable");
		audit_attempt(l, "unavailable");
		login_unavailable(l, "ldap: the staff directory is not answering; try again shortly", 5);
		return;
	case LDAP_LOGIN_OK:
		break;
	}
	if (l->uid[0] == '\0')		/* an entry without the uid attribute */
		snprintf(l->uid, sizeof(l->uid), "%s", l->username);
	if (u->roles == 0) {
		audit_attempt(l, "no_role");
		login_settle(l, 0);
		reply_problem(r, 403, "this account has no korpu role; ask your administrator");
		login_free(l);
		return;
	}
	l->user = json_pack("{s:s, s:s, s:o, s:s, s:o}", "uid", l->uid,
	    "name", u->name[0] ? u->name : l->uid, "roles", authz_roles_json(u->roles),
	    "organization", u->organization, "areas", user_areas(r->srv, u));
	if (l->user == NULL) {
		login_settle(l, 0);
		reply_problem(r, 500, "out of memory");
		login_free(l);
		return;
	}
	if (throttle_locked(r->srv, l->uid, canonical_lock_checked, l) < 0) {
		login_unavailable(l, "redis: sign-in is unavailable right now", 1);
	}
}

static void
reserved(redisReply *reply, void *arg)
{
	struct login *l = arg;
	struct request *r = l->r;
	char secs[24];

	if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
		/* Not counted, so not tried: an uncounted guess is a free one. */
		if (reply && reply->type == REDIS_REPLY_ERROR)
			rlog_error(r, "login: Redis refused to count the attempt: %s", reply->str);
		reply_unavailable(r, "redis: sign-in is unavailable right now", 1);
		login_free(l);
		return;
	}
	if (reply->integer != 0) {
		/* Locked out, or as many attempts in flight as failures allowed. */
		snprintf(secs, sizeof(secs), "%lld",
		    reply->integer > 0 ? (reply->integer + 999) / 1000 : 1);
		evhttp_add_header(evhttp_request_get_output_headers(r->req), "Retry-After", secs);
		audit_attempt(l, "throttled");
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
		login_unavailable(l, "ldap: too many sign-ins waiting; try again shortly", 1);
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
	l = login_new(r);
	if (l == NULL || (l->password = strdup(json_string_value(p))) == NULL) {
		if (l)
			login_free(l);
		reply_problem(r, 500, "out of memory");
		return;
	}
	snprintf(l->username, sizeof(l->username), "%s", json_string_value(u));
	/* The body still holds the password: drop it now. */
	json_object_del(r->body, "password");
	if (throttle_reserve(r->srv, l->username, request_peer(r), reserved, l) < 0) {
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
