/*
 * http-query.c - the query string: single parameters, and the list
 * convention of API.md (?limit= default 50, max 500; ?cursor=).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>

#include "korpud.h"

/* Parses the query once; unknown parameters are refused so a misspelt
 * filter never silently lists everything. Returns 0, or -1 having
 * answered 400. */
int
query_parse(struct request *r, const char *const *allowed)
{
	const char *q = strchr(r->uri ? r->uri : "", '?');
	struct evkeyval *kv;

	if (r->query_parsed)
		return 0;
	TAILQ_INIT(&r->query);
	r->query_parsed = 1;
	if (q == NULL)
		return 0;
	if (evhttp_parse_query_str(q + 1, &r->query) < 0) {
		reply_problem(r, 400, "the query string is malformed");
		return -1;
	}
	TAILQ_FOREACH(kv, &r->query, next) {
		const char *const *a = allowed;
		char msg[160], name[48];

		while (*a && strcmp(*a, kv->key) != 0)
			a++;
		if (*a == NULL) {
			text_printable(kv->key, name, sizeof(name));
			snprintf(msg, sizeof(msg), "unknown query parameter \"%s\"", name);
			reply_problem(r, 400, msg);
			return -1;
		}
		if (strlen(kv->value) > 256 || !utf8_valid(kv->value)) {
			snprintf(msg, sizeof(msg), "query parameter %s is too long or not UTF-8", kv->key);
			reply_problem(r, 400, msg);
			return -1;
		}
	}
	return 0;
}

/* A parameter's value ("" counts as absent), or NULL. */
const char *
query_get(const struct request *r, const char *name)
{
	struct evkeyval *kv;

	if (!r->query_parsed)
		return NULL;
	TAILQ_FOREACH(kv, &r->query, next)
		if (strcmp(kv->key, name) == 0)
			return kv->value[0] ? kv->value : NULL;
	return NULL;
}

void
query_free(struct request *r)
{
	if (r->query_parsed)
		evhttp_clear_headers(&r->query);
	r->query_parsed = 0;
}

/* ?limit= and ?cursor=; -1 having answered 400. */
int
query_list(struct request *r, long *limit, const char **cursor)
{
	const char *l = query_get(r, "limit");
	char *end;

	*limit = 50;
	*cursor = query_get(r, "cursor");
	if (l) {
		long v = strtol(l, &end, 10);
		if (*end != '\0' || v < 1 || v > 500) {
			reply_problem(r, 400, "limit must be a whole number from 1 to 500");
			return -1;
		}
		*limit = v;
	}
	if (*cursor && strlen(*cursor) > 200) {
		reply_problem(r, 400, "cursor is not one this server gave out");
		return -1;
	}
	return 0;
}

/* The list envelope: {"items":[...],"next_cursor":...}; takes items. */
json_t *
list_envelope(json_t *items, const char *next_cursor)
{
	return json_pack("{s:o, s:s?}", "items", items, "next_cursor", next_cursor);
}

/*
 * Answers a page of documents (from store_list or store_list_regions):
 * the ones the caller may see (objects of an organization: a provider's
 * staff see their own), or 503 naming what could not be read.
 */
void
reply_page(struct request *r, struct doc *docs, size_t n, const char *next, const char *what)
{
	char msg[120];
	json_t *items;

	if (docs == NULL) {
		snprintf(msg, sizeof(msg), "redis: %s cannot be read right now", what);
		reply_unavailable(r, msg, 1);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < n; i++) {
		const json_t *org;
		if (docs[i].doc == NULL)
			continue;
		org = json_object_get(docs[i].doc, "organization");
		if (org == NULL || authz_org_visible(r, json_string_value(org)))
			json_array_append(items, docs[i].doc);
	}
	reply_json(r, 200, list_envelope(items, next));
}
