/*
 * api-consent.c - PUT /api/v1/clients/{id}/consent/{area}: a client's
 * consent for one service area, as two separate answers: to receive the
 * service, and to share their data with the organization that provides
 * it. The current answer is kept with who recorded it and when; every
 * earlier answer stays in consent_log.
 */
#include <stdio.h>
#include <string.h>

#include "korpud.h"

static const struct bfield consent_spec[] = {
	{ "service", BF_BOOL, BF_REQUIRED, 0, NULL, 0, 0, 0 },
	{ "share", BF_BOOL, BF_REQUIRED, 0, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, 0, 0, 0 }
};

#define CONSENT_LOG_MAX 200

static int
consent_apply(struct request *r, json_t *doc, void *arg)
{
	const char *area = arg;
	json_t *consent = json_object_get(doc, "consent");
	json_t *log = json_object_get(doc, "consent_log");
	json_t *entry;
	char at[40];

	time_format_ms(wall_ms(), at, sizeof(at));
	entry = json_pack("{s:O, s:O, s:s, s:s}",
	    "service", json_object_get(r->body, "service"),
	    "share", json_object_get(r->body, "share"),
	    "recorded_by", r->uid, "recorded_at", at);
	if (!json_is_object(consent)) {
		consent = json_object();
		json_object_set_new(doc, "consent", consent);
	}
	if (!json_is_array(log)) {
		log = json_array();
		json_object_set_new(doc, "consent_log", log);
	}
	json_array_append_new(log, json_pack("{s:s, s:O, s:O, s:s, s:s}", "area", area,
	    "service", json_object_get(r->body, "service"),
	    "share", json_object_get(r->body, "share"), "recorded_by", r->uid, "recorded_at", at));
	while (json_array_size(log) > CONSENT_LOG_MAX)
		json_array_remove(log, 0);
	json_object_set_new(consent, area, entry);
	return 0;
}

void
api_consent_put(struct request *r)
{
	struct errlist errs = { 0 };
	const char *area = request_param(r, "area");

	if (plugins_find(&r->srv->plugins, area) == NULL) {
		reply_problem(r, 404, "no such service area");
		return;
	}
	body_check(r->body, consent_spec, 0, &errs);
	if (errs.n) {
		reply_problem_errors(r, 422, "the consent is not valid", &errs);
		errlist_free(&errs);
		return;
	}
	/* area points into the route match, which lives as long as r. */
	client_edit(r, request_param(r, "id"), "client.consent", consent_apply, (void *)area);
}
