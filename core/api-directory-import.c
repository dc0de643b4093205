/*
 * api-directory-import.c - POST /api/v1/directory/import (admin): an
 * Open Referral HSDS dataset as the body (up to limits.import_max),
 * ?default_area= and ?default_region= for rows that do not say; answers
 * the import's report (directory-import.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "korpud.h"

static void
imported(json_t *report, int status, const char *error, void *arg)
{
	struct request *r = arg;

	if (status == 200) {
		/* The report lists every row skipped: encoding a big one takes
		 * a while, so before the audit record's Redis command starts
		 * its timeout on libevent's cached clock (see directory-import.c,
		 * step), not after. */
		char *text = json_dumps(report, JSON_COMPACT);

		if (text == NULL) {
			reply_problem(r, 500, "the response could not be encoded");
			return;
		}
		event_base_update_cache_time(r->srv->base);
		audit_record(r->srv, r, r->uid, "directory.import", "ok",
		    json_pack("{s:O, s:O}", "organizations", json_object_get(report, "organizations"),
		    "providers", json_object_get(report, "providers")));
		reply_bytes(r, 200, "application/json; charset=utf-8", text, strlen(text));
		free(text);
	} else if (status == 503) {
		reply_unavailable(r, error, 1);
	} else {
		reply_problem(r, status, error);
	}
}

void
api_directory_import(struct request *r)
{
	static const char *const params[] = { "default_area", "default_region", NULL };
	const char *area, *region;

	if (query_parse(r, params) < 0)
		return;
	area = query_get(r, "default_area");
	region = query_get(r, "default_region");
	if (area && plugins_find(&r->srv->plugins, area) == NULL) {
		reply_problem(r, 400, "default_area: not a service area of this korpu");
		return;
	}
	if (region && !conf_region_known(r->srv->conf, region)) {
		reply_problem(r, 400, "default_region: not a region of this korpu");
		return;
	}
	if (directory_import(r->srv, r->body, area, region, r->uid, imported, r) < 0)
		reply_problem(r, 500, "out of memory");
}
