/*
 * store-list.c - one page of a list: ids from a sorted-set index (all
 * scores 0, so members sort by id, that is by creation time), then their
 * documents. The cursor is the last id of the page: stable while the
 * list grows, and no key is ever scanned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "korpud.h"

struct page {
	struct server *srv;
	char doc_fmt[200];
	long limit;
	list_cb cb;
	void *arg;
	char next[ID_MAX];
	char **keys;
	size_t n;
};

static void
page_free(struct page *p)
{
	for (size_t i = 0; p->keys && i < p->n; i++)
		free(p->keys[i]);
	free(p->keys);
	free(p);
}

static void
page_docs(struct doc *docs, size_t n, void *arg)
{
	struct page *p = arg;

	p->cb(docs, n, p->next[0] ? p->next : NULL, p->arg);
	page_free(p);
}

static void
page_ids(redisReply *reply, void *arg)
{
	struct page *p = arg;
	size_t n;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
		p->cb(NULL, 0, NULL, p->arg);
		page_free(p);
		return;
	}
	n = reply->elements;
	if ((long)n > p->limit) {		/* one more than asked: there is a next page */
		n = (size_t)p->limit;
		snprintf(p->next, sizeof(p->next), "%s", reply->element[n - 1]->str);
	}
	p->keys = calloc(n ? n : 1, sizeof(char *));
	for (size_t i = 0; p->keys && i < n; i++, p->n++) {
		if (asprintf(&p->keys[i], "%s%s", p->doc_fmt, reply->element[i]->str) < 0) {
			p->keys[i] = NULL;
			break;
		}
	}
	if (p->keys == NULL || p->n != n ||
	    store_fetch(p->srv, (const char *const *)p->keys, n, page_docs, p) < 0) {
		p->cb(NULL, 0, NULL, p->arg);
		page_free(p);
	}
}

/*
 * Lists up to limit documents of index (a sorted set of ids), after
 * cursor, newest first when desc. doc_prefix and an id make its
 * document's key ("korpu:{dir}:org:"). cb gets docs NULL when Redis did not answer.
 */
int
store_list(struct server *srv, const char *index, const char *doc_prefix, const char *cursor,
    long limit, int desc, list_cb cb, void *arg)
{
	struct page *p = calloc(1, sizeof(*p));
	char from[ID_MAX + 2], count[24];

	if (p == NULL)
		return -1;
	p->srv = srv;
	snprintf(p->doc_fmt, sizeof(p->doc_fmt), "%s", doc_prefix);
	p->limit = limit;
	p->cb = cb;
	p->arg = arg;
	snprintf(count, sizeof(count), "%ld", limit + 1);
	if (cursor)
		snprintf(from, sizeof(from), "(%s", cursor);
	else
		snprintf(from, sizeof(from), "%s", desc ? "+" : "-");
	{
		const char *argv[] = { desc ? "ZREVRANGEBYLEX" : "ZRANGEBYLEX", index, from,
		    desc ? "-" : "+", "LIMIT", "0", count };
		if (redis_call(srv->redis, page_ids, p, 7, argv, NULL) < 0) {
			free(p);
			return -1;
		}
	}
	return 0;
}

/* ---- lists over every region ---- */

/*
 * A list whose index exists once per region (providers, referrals of an
 * organization) is read region by region, in the order of the regions
 * in korpud.conf. The cursor names where to go on: the last id returned
 * (which names its region), or "@REGION" for the start of a region.
 */
struct rpage {
	struct server *srv;
	char index[200];		/* "providers:area:clinics" in each region */
	char kind[32];			/* documents are korpu:{r:REGION}:KIND:ID */
	size_t region;			/* index into conf->regions */
	size_t region_end;		/* stop before this one (0: all regions) */
	char after[ID_MAX];		/* "" = from the start of the region */
	long limit;
	keep_fn keep;
	void *keep_arg;
	list_cb cb;
	void *arg;
	json_t *items;
	char **keys;
	size_t n;
};

static void rpage_step(struct rpage *p);

static void
rpage_keys_free(struct rpage *p)
{
	for (size_t i = 0; p->keys && i < p->n; i++)
		free(p->keys[i]);
	free(p->keys);
	p->keys = NULL;
	p->n = 0;
}

static void
rpage_end(struct rpage *p, int ok, const char *next)
{
	if (!ok) {
		p->cb(NULL, 0, NULL, p->arg);
	} else {
		/* Hand the kept documents over as struct doc, like store_list. */
		size_t n = json_array_size(p->items);
		struct doc *docs = calloc(n ? n : 1, sizeof(*docs));
		if (docs == NULL) {
			p->cb(NULL, 0, NULL, p->arg);
		} else {
			for (size_t i = 0; i < n; i++)
				docs[i].doc = json_array_get(p->items, i);
			p->cb(docs, n, next, p->arg);
			free(docs);
		}
	}
	rpage_keys_free(p);
	json_decref(p->items);
	free(p);
}

static void
rpage_docs(struct doc *docs, size_t n, void *arg)
{
	struct rpage *p = arg;

	if (docs == NULL) {
		rpage_end(p, 0, NULL);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (docs[i].doc && (p->keep == NULL || p->keep(docs[i].doc, p->keep_arg)))
			json_array_append(p->items, docs[i].doc);
	rpage_keys_free(p);
	rpage_step(p);
}

static void
rpage_ids(redisReply *reply, void *arg)
{
	struct rpage *p = arg;
	long want = p->limit - (long)json_array_size(p->items);
	size_t n;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    p->region >= p->srv->conf->regions.n) {	/* (a reload dropped the region) */
		rpage_end(p, 0, NULL);
		return;
	}
	n = reply->elements;
	if ((long)n > want)
		n = (size_t)want;
	p->keys = calloc(n ? n : 1, sizeof(char *));
	for (size_t i = 0; p->keys && i < n; i++, p->n++)
		if (asprintf(&p->keys[i], "korpu:{r:%s}:%s:%s",
		    p->srv->conf->regions.v[p->region], p->kind, reply->element[i]->str) < 0) {
			p->keys[i] = NULL;
			break;
		}
	if (p->keys == NULL || p->n != n) {
		rpage_end(p, 0, NULL);
		return;
	}
	if (n > 0)
		snprintf(p->after, sizeof(p->after), "%s", reply->element[n - 1]->str);
	if (reply->elements <= n) {		/* this region is done */
		p->region++;
		p->after[0] = '\0';
	}
	if (store_fetch(p->srv, (const char *const *)p->keys, n, rpage_docs, p) < 0)
		rpage_end(p, 0, NULL);
}

static void
rpage_step(struct rpage *p)
{
	const struct strlist *regions = &p->srv->conf->regions;
	char index[256], from[ID_MAX + 2], count[24], next[ID_MAX + 2];

	if (p->region >= (p->region_end ? p->region_end : regions->n)) {
		rpage_end(p, 1, NULL);
		return;
	}
	if ((long)json_array_size(p->items) >= p->limit) {
		if (p->after[0])
			snprintf(next, sizeof(next), "%s", p->after);
		else
			snprintf(next, sizeof(next), "@%s", regions->v[p->region]);
		rpage_end(p, 1, next);
		return;
	}
	snprintf(index, sizeof(index), "korpu:{r:%s}:%s", regions->v[p->region], p->index);
	if (p->after[0])
		snprintf(from, sizeof(from), "(%s", p->after);
	else
		snprintf(from, sizeof(from), "-");
	snprintf(count, sizeof(count), "%ld", p->limit - (long)json_array_size(p->items) + 1);
	{
		const char *argv[] = { "ZRANGEBYLEX", index, from, "+", "LIMIT", "0", count };
		if (redis_call(p->srv->redis, rpage_ids, p, 7, argv, NULL) < 0)
			rpage_end(p, 0, NULL);
	}
}

/*
 * Lists documents of kind over the regions (only region when not NULL),
 * from each region's index ("providers:area:clinics"), keeping those keep()
 * accepts. Returns -1 without calling cb when the cursor is not one of
 * ours (-2: answer 400), or -1 when nothing could be sent.
 */
int
store_list_regions(struct server *srv, const char *index, const char *kind,
    const char *only_region, const char *cursor, long limit, keep_fn keep, void *keep_arg,
    list_cb cb, void *arg)
{
	const struct strlist *regions = &srv->conf->regions;
	struct rpage *p;
	const char *start = only_region;
	size_t i;

	if (cursor) {
		start = cursor[0] == '@' ? cursor + 1 : id_valid(cursor, 1) ? id_region(cursor) : NULL;
		if (start == NULL || (only_region && strcmp(start, only_region) != 0))
			return -2;
	}
	for (i = 0; start && i < regions->n; i++)
		if (strcmp(regions->v[i], start) == 0)
			break;
	if (start && i == regions->n)
		return -2;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -1;
	p->srv = srv;
	snprintf(p->index, sizeof(p->index), "%s", index);
	snprintf(p->kind, sizeof(p->kind), "%s", kind);
	p->region = start ? i : 0;
	if (cursor && cursor[0] != '@')
		snprintf(p->after, sizeof(p->after), "%s", cursor);
	p->limit = limit;
	p->keep = keep;
	p->keep_arg = keep_arg;
	p->cb = cb;
	p->arg = arg;
	p->items = json_array();
	if (only_region) {
		/* Stop after this region: pretend it is the last. */
		p->region_end = p->region + 1;
	}
	rpage_step(p);
	return 0;
}
