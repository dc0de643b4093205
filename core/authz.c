/*
 * authz.c - who may call what. Every route in routes.c says which roles
 * may call it; a route that names none and is not marked public is
 * refused, so a new route is closed until someone decides otherwise.
 * This file finds the caller's session, checks the route's roles, and only
 * then runs the handler. Scoping (a provider sees only its own
 * organisation's objects, others are 404) is authz_org_visible().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "korpud.h"

static const struct {
	unsigned bit;
	const char *name;
} role_names[] = {
	{ ROLE_CASEWORKER, "caseworker" }, { ROLE_PROVIDER, "provider" },
	{ ROLE_SUPERVISOR, "supervisor" }, { ROLE_ADMIN, "admin" },
};

json_t *
authz_roles_json(unsigned roles)
{
	json_t *a = json_array();

	for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (roles & role_names[i].bit)
			json_array_append_new(a, json_string(role_names[i].name));
	return a;
}

unsigned
authz_roles_from_json(const json_t *a)
{
	unsigned roles = 0;
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		for (size_t k = 0; k < sizeof(role_names) / sizeof(role_names[0]); k++)
			if (json_is_string(v) && strcmp(json_string_value(v), role_names[k].name) == 0)
				roles |= role_names[k].bit;
	return roles;
}

/* Does the caller see only its own organization's objects? */
int
authz_org_scoped(const struct request *r)
{
	return !(r->roles & (ROLE_CASEWORKER | ROLE_SUPERVISOR | ROLE_ADMIN));
}

/* May the caller see an object of organization org_id (korpu's id)?
 * Staff of the migration service (caseworker, supervisor, admin) see
 * all; a provider only its own organization's. Callers answer 404,
 * never 403, for no. */
int
authz_org_visible(const struct request *r, const char *org_id)
{
	if (!authz_org_scoped(r))
		return 1;
	return org_id != NULL && r->org_id[0] != '\0' && strcmp(org_id, r->org_id) == 0;
}

static void
run_now(struct request *r)
{
	log_set_request(r->id);
	request_run(r);
	log_set_request(NULL);
}

/* Writes with a body honour Idempotency-Key (idempotency.c). */
static void
run_handler(struct request *r)
{
	if (r->match.route->flags & ROUTE_JSON_BODY)
		idem_begin(r, run_now);
	else
		run_now(r);
}

/* A provider's organization in the directory (its staff's `o`) is
 * korpu's organization whose directory_name it is. Resolved on every
 * request: an organization created or renamed takes effect at once. */
static void
org_resolved(redisReply *reply, void *arg)
{
	struct request *r = arg;

	if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
		reply_unavailable(r, "redis: your organization cannot be looked up right now", 1);
		return;
	}
	if (reply->type == REDIS_REPLY_STRING && reply->len < sizeof(r->org_id))
		memcpy(r->org_id, reply->str, reply->len + 1);
	run_handler(r);
}

static void
session_found(redisReply *reply, void *arg)
{
	struct request *r = arg;
	json_error_t jerr;
	json_t *user;

	if (reply == NULL) {
		reply_unavailable(r, "redis: sessions cannot be checked right now", 1);
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		/* Redis refused (read-only replica, disk full): the session
		 * may well exist, so this is not a 401. */
		rlog_error(r, "session lookup failed: %s", reply->str);
		reply_unavailable(r, "redis: sessions cannot be checked right now", 1);
		return;
	}
	if (reply->type != REDIS_REPLY_STRING) {
		reply_problem(r, 401, "sign in first: the session is missing, expired or ended");
		return;
	}
	user = json_loadb(reply->str, reply->len, 0, &jerr);
	if (!json_is_object(user)) {
		json_decref(user);
		reply_problem(r, 401, "sign in first: the session is missing, expired or ended");
		return;
	}
	r->user = user;
	r->roles = authz_roles_from_json(json_object_get(user, "roles"));
	{
		const char *uid = json_string_value(json_object_get(user, "uid")) ?: "";
		const char *org = json_string_value(json_object_get(user, "organization")) ?: "";
		utf8_copy(r->uid, sizeof(r->uid), uid, strlen(uid));
		utf8_copy(r->org, sizeof(r->org), org, strlen(org));
	}
	if ((r->roles & r->match.route->roles) == 0) {
		reply_problem(r, 403, "your role does not allow this");
		return;
	}
	if (authz_org_scoped(r) && r->org[0]) {
		char key[200];
		const char *argv[] = { "GET", key };
		snprintf(key, sizeof(key), "korpu:{dir}:orgdir:%s", r->org);
		if (redis_call(r->srv->redis, org_resolved, r, 2, argv, NULL) < 0)
			reply_unavailable(r, "redis: your organization cannot be looked up right now", 1);
		return;
	}
	run_handler(r);
}

/* Runs the matched route's handler if the caller may call it. */
void
authz_dispatch(struct request *r)
{
	const struct route *route = r->match.route;
	char token[64];

	if (route->flags & ROUTE_PUBLIC) {
		request_run(r);
		return;
	}
	if (route->roles == 0) {
		reply_problem(r, 403, "no role may call this route");
		return;
	}
	if (session_token_of(r, token, sizeof(token)) == NULL) {
		reply_problem(r, 401, "sign in first: send the session cookie or an Authorization: Bearer token");
		return;
	}
	memcpy(r->token, token, sizeof(r->token));	/* 43 characters and a NUL */
	explicit_bzero(token, sizeof(token));
	if (session_touch(r->srv, r->token, session_found, r) < 0)
		reply_unavailable(r, "redis: sessions cannot be checked right now", 1);
}
