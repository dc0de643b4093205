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
	reply_json(r, 200, json_pack("{s:s, s:{s:s}}", "status", "ready",
	    "checks", "redis", "up"));
}

/* Ready means Redis answers the same data schema check every connect
 * runs, through the script path real requests use. */
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
