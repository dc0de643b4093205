/*
 * api-appointment-read.c - GET /api/v1/appointments/{id} and
 * GET /api/v1/appointments?provider_id=&client_id=&from=&to=. Lists read
 * a time index (scored by start), so a range costs what it holds. A
 * provider's staff see their own organization's appointments only.
 * Lists page like the others (?limit=, ?cursor=): the cursor names the
 * region and how far into its index the next page starts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "korpud.h"

int
appointment_key(struct request *r, const char *id, char *key, size_t len)
{
	if (!id_valid(id, 1) || !conf_region_known(r->srv->conf, id_region(id))) {
		reply_problem(r, 404, "no such appointment");
		return -1;
	}
	key_region(key, len, id_region(id), "appt", id);
	return 0;
}

static void
appointment_fetched(struct doc *docs, size_t n, void *arg)
{
	struct request *r = arg;

	(void)n;
	if (docs == NULL) {
		reply_unavailable(r, "redis: the appointment cannot be read right now", 1);
	} else if (docs[0].doc == NULL || !authz_org_visible(r,
	    json_string_value(json_object_get(docs[0].doc, "organization")))) {
		reply_problem(r, 404, "no such appointment");
	} else {
		audit_record(r->srv, r, r->uid, "appointment.read", "ok",
		    json_pack("{s:O, s:O}", "appointment_id", json_object_get(docs[0].doc, "id"),
		    "client_id", json_object_get(docs[0].doc, "client_id")));
		reply_json(r, 200, json_incref(docs[0].doc));
	}
}

void
api_appointment_get(struct request *r)
{
	const char *id = request_param(r, "id");
	size_t n = strlen(id);
	char key[160];
	const char *keys[] = { key };

	if (n > 4 && strcmp(id + n - 4, ".ics") == 0) {
		char plain[ROUTE_PARAM_MAX];
		snprintf(plain, sizeof(plain), "%.*s", (int)(n - 4), id);
		api_appointment_ics(r, plain);
		return;
	}
	if (appointment_key(r, id, key, sizeof(key)) < 0)
		return;
	if (store_fetch(r->srv, keys, 1, appointment_fetched, r) < 0)
		reply_unavailable(r, "redis: the appointment cannot be read right now", 1);
}

/* ---- lists ---- */

struct appt_list {
	struct request *r;
	char **keys;
	size_t n;			/* ids read this round */
	size_t asked;			/* ids asked for this round */
	size_t region;			/* a provider's staff: every region in turn */
	long offset;			/* ids of the region's range already read */
	int64_t from, to;
	long limit;
	json_t *items;
	char next[80];			/* the next page's cursor, once known */
};

static void list_step(struct appt_list *l);

static void
keys_free(struct appt_list *l)
{
	for (size_t i = 0; l->keys && i < l->n; i++)
		free(l->keys[i]);
	free(l->keys);
	l->keys = NULL;
	l->n = 0;
}

static void
list_free(struct appt_list *l)
{
	keys_free(l);
	json_decref(l->items);
	free(l);
}

static void
list_reply(struct appt_list *l)
{
	struct request *r = l->r;
	json_t *ids = json_array();
	size_t i;
	json_t *v;

	json_array_foreach(l->items, i, v)
		json_array_append(ids, json_object_get(v, "client_id"));
	audit_record(r->srv, r, r->uid, "appointment.list", "ok",
	    json_pack("{s:o}", "client_ids", ids));
	reply_json(r, 200, list_envelope(json_incref(l->items), l->next[0] ? l->next : NULL));
	list_free(l);
}

static void
docs_read(struct doc *docs, size_t n, void *arg)
{
	struct appt_list *l = arg;
	const char *region = l->r->srv->conf->regions.v[l->region];
	size_t got = l->n;

	keys_free(l);
	if (docs == NULL) {
		reply_unavailable(l->r, "redis: appointments cannot be read right now", 1);
		list_free(l);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *cid = query_get(l->r, "client_id");
		if (docs[i].doc == NULL || !authz_org_visible(l->r,
		    json_string_value(json_object_get(docs[i].doc, "organization"))))
			continue;
		/* Read by the provider's index: the client is a filter. */
		if (cid && strcmp(json_string_value(json_object_get(docs[i].doc, "client_id")) ?: "",
		    cid) != 0)
			continue;
		if ((long)json_array_size(l->items) >= l->limit) {
			/* one more than the page holds: the next page starts here */
			snprintf(l->next, sizeof(l->next), "%s:%ld", region, l->offset + (long)i);
			list_reply(l);
			return;
		}
		json_array_append(l->items, docs[i].doc);
	}
	if (got < l->asked) {		/* the region's range is read whole */
		l->region++;
		l->offset = 0;
	} else {
		l->offset += (long)got;
	}
	list_step(l);
}

static void
ids_read(redisReply *reply, void *arg)
{
	struct appt_list *l = arg;
	const char *region;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    l->region >= l->r->srv->conf->regions.n) {
		reply_unavailable(l->r, "redis: appointments cannot be read right now", 1);
		list_free(l);
		return;
	}
	region = l->r->srv->conf->regions.v[l->region];
	l->keys = calloc(reply->elements + 1, sizeof(char *));
	for (size_t i = 0; l->keys && i < reply->elements; i++) {
		if (asprintf(&l->keys[l->n], "korpu:{r:%s}:appt:%s", region,
		    reply->element[i]->str) < 0)
			break;
		l->n++;
	}
	if (l->keys == NULL || l->n != reply->elements) {
		reply_unavailable(l->r, "redis: appointments cannot be read right now", 1);
		list_free(l);
		return;
	}
	if (l->n == 0) {		/* nothing more in this region */
		keys_free(l);
		l->region++;
		l->offset = 0;
		list_step(l);
		return;
	}
	if (store_fetch(l->r->srv, (const char *const *)l->keys, l->n, docs_read, l) < 0) {
		reply_unavailable(l->r, "redis: appointments cannot be read right now", 1);
		list_free(l);
	}
}

/* The next ids of this list's index in the current region, or the answer.
 * One more than the page still holds is asked for, to know whether there
 * is a next page. */
static void
list_step(struct appt_list *l)
{
	struct request *r = l->r;
	const char *pid = query_get(r, "provider_id"), *cid = query_get(r, "client_id");
	const struct strlist *regions = &r->srv->conf->regions;
	char index[200], from[24], to[24], offset[24], count[24];
	const char *region;

	if (l->region >= regions->n) {
		list_reply(l);
		return;
	}
	region = regions->v[l->region];
	if ((pid && strcmp(id_region(pid), region) != 0) ||
	    (cid && strcmp(id_region(cid), region) != 0)) {
		l->region++;
		l->offset = 0;
		list_step(l);
		return;
	}
	if (pid)
		snprintf(index, sizeof(index), "korpu:{r:%s}:appts:provider:%s", region, pid);
	else if (cid)
		snprintf(index, sizeof(index), "korpu:{r:%s}:appts:client:%s", region, cid);
	else
		snprintf(index, sizeof(index), "korpu:{r:%s}:appts:org:%s", region,
		    r->org_id[0] ? r->org_id : "-");
	l->asked = (size_t)(l->limit - (long)json_array_size(l->items) + 1);
	snprintf(from, sizeof(from), "%lld", (long long)l->from);
	snprintf(to, sizeof(to), "(%lld", (long long)l->to);
	snprintf(offset, sizeof(offset), "%ld", l->offset);
	snprintf(count, sizeof(count), "%zu", l->asked);
	{
		const char *argv[] = { "ZRANGEBYSCORE", index, from, to, "LIMIT", offset, count };
		if (redis_call(r->srv->redis, ids_read, l, 7, argv, NULL) < 0) {
			reply_unavailable(r, "redis: appointments cannot be read right now", 1);
			list_free(l);
		}
	}
}

/* A cursor of ours, "REGION:OFFSET", into *region and *offset. */
static int
cursor_parse(const struct request *r, const char *cursor, size_t *region, long *offset)
{
	const struct strlist *regions = &r->srv->conf->regions;
	const char *colon = strrchr(cursor, ':');
	char *end;
	long v;

	if (colon == NULL || colon[1] < '0' || colon[1] > '9')
		return -1;
	v = strtol(colon + 1, &end, 10);
	if (*end != '\0' || v < 0 || v > 1000000000L)
		return -1;
	for (size_t i = 0; i < regions->n; i++)
		if (strlen(regions->v[i]) == (size_t)(colon - cursor) &&
		    strncmp(regions->v[i], cursor, (size_t)(colon - cursor)) == 0) {
			*region = i;
			*offset = v;
			return 0;
		}
	return -1;
}

void
api_appointment_list(struct request *r)
{
	static const char *const params[] = { "provider_id", "client_id", "from", "to", "limit",
	    "cursor", NULL };
	const char *pid, *cid, *from, *to, *cursor;
	struct appt_list *l;
	int64_t f = 0, t = INT64_MAX / 2;
	size_t region = 0;
	long offset = 0, limit;

	if (query_parse(r, params) < 0 || query_list(r, &limit, &cursor) < 0)
		return;
	pid = query_get(r, "provider_id");
	cid = query_get(r, "client_id");
	from = query_get(r, "from");
	to = query_get(r, "to");
	if ((pid && !id_valid(pid, 1)) || (cid && !id_valid(cid, 1))) {
		reply_problem(r, 400, "provider_id and client_id must be ids");
		return;
	}
	if (pid == NULL && cid == NULL && !authz_org_scoped(r)) {
		reply_problem(r, 400, "name a provider_id or a client_id");
		return;
	}
	if ((from && time_parse(from, &f) < 0) || (to && time_parse(to, &t) < 0)) {
		reply_problem(r, 400, "from and to must be dates or times (RFC 3339)");
		return;
	}
	if (cursor && cursor_parse(r, cursor, &region, &offset) < 0) {
		reply_problem(r, 400, "cursor is not one this server gave out");
		return;
	}
	if (to && strlen(to) == 10)	/* a date: through the end of that day (UTC) */
		t += 86400000;
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	l->r = r;
	l->from = f;
	l->to = t;
	l->limit = limit;
	l->region = region;
	l->offset = offset;
	l->items = json_array();
	list_step(l);
}
