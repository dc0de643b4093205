/*
 * api-health.c - GET /health (the process answers; no dependencies) and
 * GET /ready (the backing services answer: a load balancer sends traffic
 * only while this is 200).
 */
#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "korpud.h"

void
api_health(struct request *r)
{
	reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

/* When the directory last answered a probe: load balancers poll /ready
 * often, and one probe a second is plenty. */
static int64_t ldap_seen_us;

static void
reply_ready(struct request *r)
{
	reply_json(r, 200, json_pack("{s:s, s:{s:s, s:s}}", "status", "ready",
	    "checks", "redis", "up", "ldap", "up"));
}

static void
directory_probed(enum ldap_outcome outcome, const struct ldap_user *u, const char *detail,
    void *arg)
{
	struct request *r = arg;
	char text[320];

	if (outcome != LDAP_LOGIN_OK) {
		snprintf(text, sizeof(text), "%s", detail && *detail ? detail :
		    "ldap: the staff directory is not answering");
		reply_unavailable(r, text, 5);
		return;
	}
	ldap_seen_us = now_us();
	reply_ready(r);
}

static void
ready_checked(redisReply *reply, void *arg)
{
	struct request *r = arg;
	char detail[320];

	if (reply == NULL) {
		reply_unavailable(r, "redis: no reply within the command timeout", 1);
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		snprintf(detail, sizeof(detail), "redis: %s", reply->str);
		reply_unavailable(r, detail, 5);
		return;
	}
	if (now_us() - ldap_seen_us < 1000000) {
		reply_ready(r);
		return;
	}
	if (ldap_pool_probe(r->srv->ldap, directory_probed, r) < 0)
		reply_unavailable(r, "ldap: too many directory requests waiting", 1);
}

/* Ready means Redis answers the same data schema check every connect
 * runs, through the script path real requests use, and the staff
 * directory answers a search as the service account. */
void
api_ready(struct request *r)
{
	char version[16], detail[320];
	const char *argv[] = { KEY_SCHEMA, version };

	snprintf(version, sizeof(version), "%d", KORPU_DATA_SCHEMA);
	if (!redis_link_ready(r->srv->redis) ||
	    redis_script(r->srv->redis, SCRIPT_SCHEMA, ready_checked, r, 1, 2, argv, NULL) < 0) {
		snprintf(detail, sizeof(detail), "redis: %s", redis_link_problem(r->srv->redis));
		reply_unavailable(r, detail, 1);
	}
}
