/*
 * api-client-search.c - GET /api/v1/clients?q=: find a client by exact
 * registration number or by the start of a name, in any script and case
 * (text-fold.c), in every region. Without q: every client, page by page.
 *
 * A name search reads each region's name index (a sorted set of
 * "folded name\x1fid" members) by prefix: its cost grows with the matches,
 * not with the number of clients. It answers at most limit clients, the
 * exact registration number first; a caseworker narrows a long answer by
 * typing more, so it has no further pages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "korpud.h"
#include "text-fold.h"

struct search {
	struct request *r;
	char *prefix;			/* folded query */
	long limit;
	size_t region;
	json_t *ids;			/* in answer order, no repeats */
	char **keys;
	size_t n;
};

static void
search_free(struct search *s)
{
	for (size_t i = 0; s->keys && i < s->n; i++)
		free(s->keys[i]);
	free(s->keys);
	free(s->prefix);
	json_decref(s->ids);
	free(s);
}

static void
add_id(struct search *s, const char *id)
{
	size_t i;
	json_t *v;

	if ((long)json_array_size(s->ids) >= s->limit || !id_valid(id, 1))
		return;
	json_array_foreach(s->ids, i, v)
		if (strcmp(json_string_value(v), id) == 0)
			return;
	json_array_append_new(s->ids, json_string(id));
}

static void
found(struct doc *docs, size_t n, void *arg)
{
	struct search *s = arg;
	struct request *r = s->r;
	json_t *items;

	if (docs == NULL) {
		reply_unavailable(r, "redis: clients cannot be searched right now", 1);
		search_free(s);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < n; i++)
		if (docs[i].doc)
			json_array_append(items, docs[i].doc);
	audit_record(r->srv, r, r->uid, "client.search", "ok",
	    json_pack("{s:O}", "client_ids", s->ids));
	reply_json(r, 200, list_envelope(items, NULL));
	search_free(s);
}

static void
fetch_found(struct search *s)
{
	size_t i;
	json_t *v;

	s->keys = calloc(json_array_size(s->ids) + 1, sizeof(char *));
	json_array_foreach(s->ids, i, v) {
		char key[160];
		const char *id = json_string_value(v);
		key_region(key, sizeof(key), id_region(id), "client", id);
		if (s->keys)
			s->keys[s->n++] = strdup(key);
	}
	if (s->keys == NULL ||
	    store_fetch(s->r->srv, (const char *const *)s->keys, s->n, found, s) < 0) {
		reply_unavailable(s->r, "redis: clients cannot be searched right now", 1);
		search_free(s);
	}
}

static void search_region(struct search *s);

static void
region_matched(redisReply *reply, void *arg)
{
	struct search *s = arg;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
		reply_unavailable(s->r, "redis: clients cannot be searched right now", 1);
		search_free(s);
		return;
	}
	for (size_t i = 0; i < reply->elements; i++) {
		const char *sep = memchr(reply->element[i]->str, '\x1f', reply->element[i]->len);
		if (sep)
			add_id(s, sep + 1);
	}
	s->region++;
	search_region(s);
}

static void
search_region(struct search *s)
{
	const struct strlist *regions = &s->r->srv->conf->regions;
	char index[96], from[400], to[400], count[24];

	if (s->region >= regions->n || (long)json_array_size(s->ids) >= s->limit) {
		fetch_found(s);
		return;
	}
	snprintf(index, sizeof(index), "korpu:{r:%s}:names", regions->v[s->region]);
	snprintf(from, sizeof(from), "[%s", s->prefix);
	snprintf(to, sizeof(to), "[%s\xff", s->prefix);
	/* Each client has up to four keys: read enough to fill the page. */
	snprintf(count, sizeof(count), "%ld", 4 * s->limit);
	{
		const char *argv[] = { "ZRANGEBYLEX", index, from, to, "LIMIT", "0", count };
		if (redis_call(s->r->srv->redis, region_matched, s, 7, argv, NULL) < 0) {
			reply_unavailable(s->r, "redis: clients cannot be searched right now", 1);
			search_free(s);
		}
	}
}

static void
regno_found(redisReply *reply, void *arg)
{
	struct search *s = arg;

	if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
		reply_unavailable(s->r, "redis: clients cannot be searched right now", 1);
		search_free(s);
		return;
	}
	if (reply->type == REDIS_REPLY_STRING) {
		char id[ID_MAX];
		const char *bar = memchr(reply->str, '|', reply->len);
		snprintf(id, sizeof(id), "%.*s", bar ? (int)(bar - reply->str) : 0, reply->str);
		add_id(s, id);
	}
	search_region(s);
}

/* Without q: every client, region by region. */
static void
clients_listed(struct doc *docs, size_t n, const char *next, void *arg)
{
	struct request *r = arg;
	json_t *items, *ids;

	if (docs == NULL) {
		reply_unavailable(r, "redis: clients cannot be read right now", 1);
		return;
	}
	items = json_array();
	ids = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append(items, docs[i].doc);
		json_array_append(ids, json_object_get(docs[i].doc, "id"));
	}
	audit_record(r->srv, r, r->uid, "client.list", "ok", json_pack("{s:o}", "client_ids", ids));
	reply_json(r, 200, list_envelope(items, next));
}

void
api_client_search(struct request *r)
{
	static const char *const params[] = { "q", "limit", "cursor", NULL };
	const char *q, *cursor;
	char norm[40];
	struct search *s;
	long limit;

	if (query_parse(r, params) < 0 || query_list(r, &limit, &cursor) < 0)
		return;
	q = query_get(r, "q");
	if (q == NULL) {
		int rc = store_list_regions(r->srv, "clients", "client", NULL, cursor, limit,
		    NULL, NULL, clients_listed, r);
		if (rc == -2)
			reply_problem(r, 400, "cursor is not one this server gave out");
		else if (rc < 0)
			reply_unavailable(r, "redis: clients cannot be read right now", 1);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	s->r = r;
	s->limit = limit;
	s->ids = json_array();
	s->prefix = text_fold(q, strlen(q));
	if (s->prefix == NULL || s->prefix[0] == '\0') {
		reply_problem(r, 400, "q: type a registration number or the start of a name");
		search_free(s);
		return;
	}
	if (regno_normalize(q, norm, sizeof(norm)) == 0) {
		char key[80];
		const char *argv[] = { "GET", key };
		regno_key(key, sizeof(key), norm);
		if (redis_call(r->srv->redis, regno_found, s, 2, argv, NULL) < 0) {
			reply_unavailable(r, "redis: clients cannot be searched right now", 1);
			search_free(s);
		}
		return;
	}
	search_region(s);
}
