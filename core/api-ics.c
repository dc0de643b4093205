/*
 * api-ics.c - iCalendar downloads (ics.c): GET /api/v1/providers/{id}/calendar.ics
 * (?from=&to=, default the last 30 days and the next year) and
 * GET /api/v1/appointments/{id}.ics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <hiredis/hiredis.h>

#include "korpud.h"

#define CALENDAR_MAX 20000

struct ics_job {
	struct request *r;
	json_t *provider;
	json_t *appts;
	char **keys;
	size_t n;
	char filename[80];
};

static void
job_free(struct ics_job *j)
{
	for (size_t i = 0; j->keys && i < j->n; i++)
		free(j->keys[i]);
	free(j->keys);
	json_decref(j->provider);
	json_decref(j->appts);
	free(j);
}

static void
send_calendar(struct ics_job *j)
{
	struct request *r = j->r;
	char *text = ics_calendar(j->provider, j->appts);
	char disposition[128];

	if (text == NULL) {
		reply_problem(r, 500, "the calendar could not be written");
		job_free(j);
		return;
	}
	snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s\"", j->filename);
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Content-Disposition",
	    disposition);
	reply_bytes(r, 200, "text/calendar; charset=utf-8", text, strlen(text));
	free(text);
	job_free(j);
}

static void
appts_read(struct doc *docs, size_t n, void *arg)
{
	struct ics_job *j = arg;

	if (docs == NULL) {
		reply_unavailable(j->r, "redis: appointments cannot be read right now", 1);
		job_free(j);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (docs[i].doc)
			json_array_append(j->appts, docs[i].doc);
	send_calendar(j);
}

static void
ids_read(redisReply *reply, void *arg)
{
	struct ics_job *j = arg;
	const char *region = json_string_value(json_object_get(j->provider, "region"));

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
		reply_unavailable(j->r, "redis: appointments cannot be read right now", 1);
		job_free(j);
		return;
	}
	j->keys = calloc(reply->elements + 1, sizeof(char *));
	for (size_t i = 0; j->keys && i < reply->elements; i++) {
		if (asprintf(&j->keys[j->n], "korpu:{r:%s}:appt:%s", region,
		    reply->element[i]->str) < 0)
			break;
		j->n++;
	}
	if (j->keys == NULL || j->n != reply->elements ||
	    store_fetch(j->r->srv, (const char *const *)j->keys, j->n, appts_read, j) < 0) {
		reply_unavailable(j->r, "redis: appointments cannot be read right now", 1);
		job_free(j);
	}
}

static void
provider_read(struct doc *docs, size_t n, void *arg)
{
	struct ics_job *j = arg;
	struct request *r = j->r;
	const char *from = query_get(r, "from"), *to = query_get(r, "to");
	int64_t f = wall_ms() - 30LL * 86400000, t = wall_ms() + 366LL * 86400000;
	char index[160], fs[24], ts[24], count[16];

	(void)n;
	if (docs == NULL) {
		reply_unavailable(r, "redis: the provider cannot be read right now", 1);
		job_free(j);
		return;
	}
	if (docs[0].doc == NULL || !authz_org_visible(r,
	    json_string_value(json_object_get(docs[0].doc, "organization")))) {
		reply_problem(r, 404, "no such provider");
		job_free(j);
		return;
	}
	if ((from && time_parse(from, &f) < 0) || (to && time_parse(to, &t) < 0)) {
		reply_problem(r, 400, "from and to must be dates or times (RFC 3339)");
		job_free(j);
		return;
	}
	j->provider = json_incref(docs[0].doc);
	snprintf(index, sizeof(index), "korpu:{r:%s}:appts:provider:%s",
	    json_string_value(json_object_get(j->provider, "region")),
	    json_string_value(json_object_get(j->provider, "id")));
	snprintf(fs, sizeof(fs), "%lld", (long long)f);
	snprintf(ts, sizeof(ts), "(%lld", (long long)t);
	snprintf(count, sizeof(count), "%d", CALENDAR_MAX);
	{
		const char *argv[] = { "ZRANGEBYSCORE", index, fs, ts, "LIMIT", "0", count };
		if (redis_call(r->srv->redis, ids_read, j, 7, argv, NULL) < 0) {
			reply_unavailable(r, "redis: appointments cannot be read right now", 1);
			job_free(j);
		}
	}
}

void
api_provider_calendar(struct request *r)
{
	static const char *const params[] = { "from", "to", NULL };
	struct ics_job *j;
	char key[160];
	const char *keys[] = { key };

	if (query_parse(r, params) < 0 || provider_key(r, request_param(r, "id"), key,
	    sizeof(key)) < 0)
		return;
	j = calloc(1, sizeof(*j));
	if (j == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	j->r = r;
	j->appts = json_array();
	snprintf(j->filename, sizeof(j->filename), "korpu-%.40s.ics", request_param(r, "id"));
	if (store_fetch(r->srv, keys, 1, provider_read, j) < 0) {
		reply_unavailable(r, "redis: the provider cannot be read right now", 1);
		job_free(j);
	}
}

/* ---- one appointment ---- */

static void
appt_provider_read(struct doc *docs, size_t n, void *arg)
{
	struct ics_job *j = arg;

	(void)n;
	if (docs == NULL || docs[0].doc == NULL) {
		if (docs == NULL)
			reply_unavailable(j->r, "redis: the provider cannot be read right now", 1);
		else
			reply_problem(j->r, 404, "the appointment's provider is gone");
		job_free(j);
		return;
	}
	j->provider = json_incref(docs[0].doc);
	send_calendar(j);
}

static void
appt_read(struct doc *docs, size_t n, void *arg)
{
	struct ics_job *j = arg;
	struct request *r = j->r;
	const json_t *a;
	char key[160];
	const char *keys[] = { key };

	(void)n;
	if (docs == NULL) {
		reply_unavailable(r, "redis: the appointment cannot be read right now", 1);
		job_free(j);
		return;
	}
	a = docs[0].doc;
	if (a == NULL || !authz_org_visible(r, json_string_value(json_object_get(a, "organization")))) {
		reply_problem(r, 404, "no such appointment");
		job_free(j);
		return;
	}
	json_array_append(j->appts, (json_t *)a);
	audit_record(r->srv, r, r->uid, "appointment.read", "ok",
	    json_pack("{s:O, s:O}", "appointment_id", json_object_get(a, "id"),
	    "client_id", json_object_get(a, "client_id")));
	key_region(key, sizeof(key), json_string_value(json_object_get(a, "region")), "provider",
	    json_string_value(json_object_get(a, "provider_id")));
	if (store_fetch(r->srv, keys, 1, appt_provider_read, j) < 0) {
		reply_unavailable(r, "redis: the provider cannot be read right now", 1);
		job_free(j);
	}
}

/* GET /api/v1/appointments/{id}.ics (routed as {id} ending in ".ics"). */
void
api_appointment_ics(struct request *r, const char *id)
{
	struct ics_job *j;
	char key[160];
	const char *keys[] = { key };

	if (appointment_key(r, id, key, sizeof(key)) < 0)
		return;
	j = calloc(1, sizeof(*j));
	if (j == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	j->r = r;
	j->appts = json_array();
	snprintf(j->filename, sizeof(j->filename), "korpu-%.40s.ics", id);
	if (store_fetch(r->srv, keys, 1, appt_read, j) < 0) {
		reply_unavailable(r, "redis: the appointment cannot be read right now", 1);
		job_free(j);
	}
}
