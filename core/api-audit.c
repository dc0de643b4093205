/*
 * api-audit.c - GET /api/v1/audit (admin): the audit trail, newest first,
 * filtered by client_id, actor and a time range. Stream entry ids are
 * millisecond timestamps, so from/to become the range Redis reads; the
 * other filters are applied here over at most SCAN_MAX entries per page,
 * and next_cursor continues where the page stopped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <hiredis/hiredis.h>

#include "korpud.h"

#define SCAN_MAX 1000

struct audit_query {
	struct request *r;
	char client_id[128];
	char actor[257];
	long limit;
};

static int
stream_id_valid(const char *s)
{
	size_t i = 0, n = strlen(s);

	if (n == 0 || n > 40)
		return 0;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == 0 || i == n || s[i] != '-')
		return 0;
	for (i++; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return s[n - 1] != '-';
}

/* Does the record concern the client: as its one client_id, or among
 * the client_ids of a list, search or household it answered? */
static int
concerns_client(const json_t *rec, const char *id)
{
	const json_t *objects = json_object_get(rec, "objects");
	const char *one = json_string_value(json_object_get(objects, "client_id"));
	size_t i;
	json_t *v;

	if (one && strcmp(one, id) == 0)
		return 1;
	json_array_foreach(json_object_get(objects, "client_ids"), i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), id) == 0)
			return 1;
	return 0;
}

static int
matches(const struct audit_query *q, const json_t *rec)
{
	if (q->actor[0] && strcmp(q->actor, json_string_value(json_object_get(rec, "actor")) ?: "") != 0)
		return 0;
	if (q->client_id[0] && !concerns_client(rec, q->client_id))
		return 0;
	return 1;
}

static void
range_read(redisReply *reply, void *arg)
{
	struct audit_query *q = arg;
	struct request *r = q->r;
	json_t *items = json_array();
	const char *last = NULL;
	size_t i;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
		json_decref(items);
		reply_unavailable(r, "redis: the audit trail cannot be read right now", 1);
		free(q);
		return;
	}
	for (i = 0; i < reply->elements && json_array_size(items) < (size_t)q->limit; i++) {
		redisReply *e = reply->element[i];
		json_error_t jerr;
		json_t *rec = NULL;

		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
			continue;
		last = e->element[0]->str;
		for (size_t k = 0; k + 1 < e->element[1]->elements; k += 2)
			if (strcmp(e->element[1]->element[k]->str, "record") == 0)
				rec = json_loadb(e->element[1]->element[k + 1]->str,
				    e->element[1]->element[k + 1]->len, 0, &jerr);
		if (rec && matches(q, rec)) {
			json_object_set_new(rec, "id", json_string(last));
			json_array_append_new(items, rec);
		} else {
			json_decref(rec);
		}
	}
	/* More may follow when the page filled up or the scan did. */
	reply_json(r, 200, json_pack("{s:o, s:o}", "items", items, "next_cursor",
	    last && (i < reply->elements || reply->elements == SCAN_MAX) ?
	    json_string(last) : json_null()));
	free(q);
}

void
api_audit(struct request *r)
{
	struct evkeyvalq query;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *qs = uri ? evhttp_uri_get_query(uri) : NULL;
	const char *v;
	struct audit_query *q = calloc(1, sizeof(*q));
	struct errlist errs = { 0 };
	char end[48] = "+", start[48] = "-", count[16];
	int64_t ms;

	if (q == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	q->r = r;
	q->limit = 50;
	memset(&query, 0, sizeof(query));
	query.tqh_first = NULL;
	query.tqh_last = &query.tqh_first;
	if (qs && evhttp_parse_query_str(qs, &query) < 0)
		errlist_add(&errs, "query", "is not a valid query string");
	if ((v = evhttp_find_header(&query, "limit")) != NULL) {
		char *e;
		q->limit = strtol(v, &e, 10);
		if (*v == '\0' || *e || q->limit < 1 || q->limit > 500)
			errlist_add(&errs, "limit", "must be a whole number from 1 to 500");
	}
	if ((v = evhttp_find_header(&query, "client_id")) != NULL)
		snprintf(q->client_id, sizeof(q->client_id), "%s", v);
	if ((v = evhttp_find_header(&query, "actor")) != NULL)
		snprintf(q->actor, sizeof(q->actor), "%s", v);
	if ((v = evhttp_find_header(&query, "to")) != NULL) {
		if (time_parse(v, &ms) < 0 || ms < 0)
			errlist_add(&errs, "to", "must be a date (YYYY-MM-DD) or an RFC 3339 time after 1970");
		else	/* a date alone means up to the end of that day */
			snprintf(end, sizeof(end), "%lld",
			    (long long)(strlen(v) == 10 ? ms + 86400000 - 1 : ms));
	}
	if ((v = evhttp_find_header(&query, "from")) != NULL) {
		if (time_parse(v, &ms) < 0 || ms < 0)
			errlist_add(&errs, "from", "must be a date (YYYY-MM-DD) or an RFC 3339 time after 1970");
		else
			snprintf(start, sizeof(start), "%lld", (long long)ms);
	}
	if ((v = evhttp_find_header(&query, "cursor")) != NULL) {
		if (!stream_id_valid(v))
			errlist_add(&errs, "cursor", "is not a cursor this API gave out");
		else
			snprintf(end, sizeof(end), "(%s", v);
	}
	evhttp_clear_headers(&query);
	if (errs.n) {
		reply_problem_errors(r, 400, "the query parameters are not valid", &errs);
		errlist_free(&errs);
		free(q);
		return;
	}
	audit_record(r->srv, r, NULL, "audit.read", "success", NULL);
	snprintf(count, sizeof(count), "%d", SCAN_MAX);
	{
		const char *argv[] = { "XREVRANGE", AUDIT_STREAM, end, start, "COUNT", count };
		if (redis_call(r->srv->redis, range_read, q, 6, argv, NULL) < 0) {
			free(q);
			reply_unavailable(r, "redis: the audit trail cannot be read right now", 1);
		}
	}
}
