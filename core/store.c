/*
 * store.c - how korpu's objects live in Redis (docs/redis-keys.md).
 *
 * An object is a hash {doc: JSON text, rev: n} under its tag. A change
 * is a transaction built here and run by lua/apply.lua: optimistic checks
 * (the revision read earlier, unique keys still free) and then the
 * writes, all at once or not at all. A failed check comes back as a
 * conflict naming the key, and the caller re-reads or answers 409.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "korpud.h"

struct tx {
	char tag[48];
	char **keys;
	int nkeys, keys_cap;
	char **argv;
	size_t argc, cap;
	int failed;			/* out of memory or too many keys */
};

struct tx *
tx_new(const char *tag)
{
	struct tx *t = calloc(1, sizeof(*t));

	if (t)
		snprintf(t->tag, sizeof(t->tag), "%s", tag);
	return t;
}

void
tx_free(struct tx *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < t->nkeys; i++)
		free(t->keys[i]);
	free(t->keys);
	for (size_t i = 0; i < t->argc; i++)
		free(t->argv[i]);
	free(t->argv);
	free(t);
}

static void
push(struct tx *t, const char *s)
{
	if (t->failed)
		return;
	if (t->argc == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		char **v = realloc(t->argv, cap * sizeof(*v));
		if (v == NULL) {
			t->failed = 1;
			return;
		}
		t->argv = v;
		t->cap = cap;
	}
	if ((t->argv[t->argc] = strdup(s)) == NULL)
		t->failed = 1;
	else
		t->argc++;
}

static void
pushf(struct tx *t, const char *fmt, ...)
{
	char buf[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	push(t, buf);
}

/* "korpu:{TAG}:" + the rest; the same key twice gets the same index. */
int
tx_key(struct tx *t, const char *fmt, ...)
{
	char rest[400], key[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rest, sizeof(rest), fmt, ap);
	va_end(ap);
	snprintf(key, sizeof(key), "korpu:{%s}:%s", t->tag, rest);
	for (int i = 0; i < t->nkeys; i++)
		if (strcmp(t->keys[i], key) == 0)
			return i + 1;
	if (t->nkeys == t->keys_cap) {
		int cap = t->keys_cap ? t->keys_cap * 2 : 16;
		char **v = realloc(t->keys, (size_t)cap * sizeof(*v));
		if (v == NULL) {
			t->failed = 1;
			return 1;
		}
		t->keys = v;
		t->keys_cap = cap;
	}
	if ((t->keys[t->nkeys] = strdup(key)) == NULL) {
		t->failed = 1;
		return 1;
	}
	return ++t->nkeys;
}

void tx_rev(struct tx *t, int k, long long rev) { push(t, "REV"); pushf(t, "%d", k); pushf(t, "%lld", rev); }
void tx_absent(struct tx *t, int k) { push(t, "ABSENT"); pushf(t, "%d", k); }
void
tx_cap(struct tx *t, int k, const char *field, long long cap)
{
	push(t, "CAP");
	pushf(t, "%d", k);
	push(t, field);
	pushf(t, "%lld", cap);
}

void
tx_free_interval(struct tx *t, int k, int64_t start, int64_t end, const char *skip)
{
	push(t, "FREE");
	pushf(t, "%d", k);
	pushf(t, "%lld", (long long)start);
	pushf(t, "%lld", (long long)end);
	push(t, skip ? skip : "");
}

void
tx_hincrby(struct tx *t, int k, const char *field, long long by)
{
	push(t, "HINCRBY");
	pushf(t, "%d", k);
	push(t, field);
	pushf(t, "%lld", by);
}

void tx_zhas(struct tx *t, int k, const char *m) { push(t, "ZHAS"); pushf(t, "%d", k); push(t, m); }
void tx_eq(struct tx *t, int k, const char *v) { push(t, "EQ"); pushf(t, "%d", k); push(t, v); }
void tx_set(struct tx *t, int k, const char *v) { push(t, "SET"); pushf(t, "%d", k); push(t, v); }
void tx_del(struct tx *t, int k) { push(t, "DEL"); pushf(t, "%d", k); }
void tx_zrem(struct tx *t, int k, const char *m) { push(t, "ZREM"); pushf(t, "%d", k); push(t, m); }

void
tx_zadd(struct tx *t, int k, double score, const char *member)
{
	push(t, "ZADD");
	pushf(t, "%d", k);
	pushf(t, "%.17g", score);
	push(t, member);
}

void
tx_zincrby(struct tx *t, int k, long long by, const char *member)
{
	push(t, "ZINCRBY");
	pushf(t, "%d", k);
	pushf(t, "%lld", by);
	push(t, member);
}

void
tx_doc(struct tx *t, int k, const json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);

	if (text == NULL) {
		t->failed = 1;
		return;
	}
	push(t, "DOC");
	pushf(t, "%d", k);
	push(t, text);
	free(text);
}

/* An event for partners, written to the region's outbox in the same
 * transaction as the change it reports; events-relay.c moves it on to
 * the area's stream. Identifiers only. */
void
tx_event(struct tx *t, const char *type, const char *id, const char *area,
    const char *provider_id)
{
	tx_event_to(t, "events", type, id, area, provider_id);
}

/* stream "events": the area's partner stream; "notify": the notification
 * stream (reminders), korpu:notify:{notify}. */
void
tx_event_to(struct tx *t, const char *stream, const char *type, const char *id,
    const char *area, const char *provider_id)
{
	int k = tx_key(t, "outbox");
	char at[40];

	time_format_ms(wall_ms(), at, sizeof(at));
	push(t, "XADD");
	pushf(t, "%d", k);
	push(t, "6");
	push(t, "type"); push(t, type);
	push(t, "id"); push(t, id);
	push(t, "at"); push(t, at);
	push(t, "area"); push(t, area);
	push(t, "provider_id"); push(t, provider_id ? provider_id : "");
	push(t, "stream"); push(t, stream);
}

struct tx_call {
	tx_cb cb;
	void *arg;
};

static void
tx_replied(redisReply *reply, void *arg)
{
	struct tx_call *c = arg;
	struct tx_result res = { TX_UNAVAILABLE, 0, "" };

	if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
	    reply->element[0]->type == REDIS_REPLY_STRING) {
		if (strcmp(reply->element[0]->str, "ok") == 0) {
			res.status = TX_OK;
		} else if (reply->elements == 3) {
			res.status = TX_CONFLICT;
			res.key = (int)reply->element[1]->integer;
			if (reply->element[2]->type == REDIS_REPLY_STRING)
				snprintf(res.current, sizeof(res.current), "%s", reply->element[2]->str);
		}
	} else if (reply && reply->type == REDIS_REPLY_ERROR) {
		log_error("redis: a change was refused: %s", reply->str);
		res.status = TX_ERROR;
	}
	c->cb(&res, c->arg);
	free(c);
}

/* Runs and frees t. Returns -1 (cb not called) when it cannot be sent. */
int
tx_run(struct tx *t, struct server *srv, tx_cb cb, void *arg)
{
	struct tx_call *c;
	const char **argv;
	int rc = -1;

	if (t == NULL || t->failed || t->nkeys == 0) {
		tx_free(t);
		return -1;
	}
	c = calloc(1, sizeof(*c));
	argv = calloc((size_t)t->nkeys + t->argc, sizeof(*argv));
	if (c && argv) {
		c->cb = cb;
		c->arg = arg;
		for (int i = 0; i < t->nkeys; i++)
			argv[i] = t->keys[i];
		for (size_t i = 0; i < t->argc; i++)
			argv[t->nkeys + i] = t->argv[i];
		rc = redis_script(srv->redis, SCRIPT_APPLY, tx_replied, c, t->nkeys,
		    t->nkeys + (int)t->argc, argv, NULL);
	}
	if (rc < 0)
		free(c);
	free(argv);
	tx_free(t);
	return rc;
}

/* ---- reading documents ---- */

struct fetch {
	fetch_cb cb;
	void *arg;
	size_t n, left;
	struct doc *docs;
	int unavailable;
};

struct fetch_one {
	struct fetch *f;
	size_t i;
};

static void
fetch_done(struct fetch *f)
{
	f->cb(f->unavailable ? NULL : f->docs, f->n, f->arg);
	for (size_t i = 0; i < f->n; i++)
		json_decref(f->docs[i].doc);
	free(f->docs);
	free(f);
}

static void
fetched(redisReply *reply, void *arg)
{
	struct fetch_one *o = arg;
	struct fetch *f = o->f;
	struct doc *d = &f->docs[o->i];

	free(o);
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
		f->unavailable = 1;
	} else if (reply->element[0]->type == REDIS_REPLY_STRING) {
		json_error_t jerr;
		d->doc = json_loadb(reply->element[0]->str, reply->element[0]->len, 0, &jerr);
		if (reply->element[1]->type == REDIS_REPLY_STRING)
			d->rev = strtoll(reply->element[1]->str, NULL, 10);
		if (!json_is_object(d->doc)) {
			log_error("redis: a stored document is not JSON: %s", jerr.text);
			json_decref(d->doc);
			d->doc = NULL;
		}
	}
	if (--f->left == 0)
		fetch_done(f);
}

/*
 * Reads the documents at keys (full key names); cb gets one struct doc per
 * key (doc NULL when absent), or docs NULL when Redis did not answer. The
 * docs are freed after cb returns: json_incref what you keep.
 */
int
store_fetch(struct server *srv, const char *const *keys, size_t n, fetch_cb cb, void *arg)
{
	struct fetch *f = calloc(1, sizeof(*f));

	if (f == NULL || (f->docs = calloc(n ? n : 1, sizeof(*f->docs))) == NULL) {
		free(f);
		return -1;
	}
	f->cb = cb;
	f->arg = arg;
	f->n = f->left = n;
	if (n == 0) {
		fetch_done(f);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct fetch_one *o = calloc(1, sizeof(*o));
		const char *argv[] = { "HMGET", keys[i], "doc", "rev" };
		if (o) {
			o->f = f;
			o->i = i;
		}
		if (o == NULL || redis_call(srv->redis, fetched, o, 4, argv, NULL) < 0) {
			/* Those already sent still answer; count this one as failed. */
			free(o);
			f->unavailable = 1;
			if (--f->left == 0) {
				fetch_done(f);
				return 0;
			}
		}
	}
	return 0;
}

/* "korpu:{r:REGION}:what:ID" for an object of a region. */
void
key_region(char *buf, size_t len, const char *region, const char *what, const char *id)
{
	snprintf(buf, len, "korpu:{r:%s}:%s:%s", region, what, id);
}

/* ---- reading hashes (counts per day) ---- */

struct hashes {
	hashes_cb cb;
	void *arg;
	json_t *out;			/* one object per key */
	size_t left;
	int unavailable;
};

struct hash_one {
	struct hashes *h;
	size_t i;
};

static void
hash_read(redisReply *reply, void *arg)
{
	struct hash_one *o = arg;
	struct hashes *h = o->h;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
		h->unavailable = 1;
	} else {
		json_t *obj = json_array_get(h->out, o->i);
		for (size_t k = 0; k + 1 < reply->elements; k += 2)
			json_object_set_new(obj, reply->element[k]->str,
			    json_integer(strtoll(reply->element[k + 1]->str, NULL, 10)));
	}
	free(o);
	if (--h->left == 0) {
		h->cb(h->unavailable ? NULL : h->out, h->arg);
		json_decref(h->out);
		free(h);
	}
}

/*
 * Reads the hashes at keys (counts: field -> integer); cb gets a JSON
 * array with one object per key (empty when absent), or NULL when Redis
 * did not answer. The array is freed after cb returns.
 */
int
store_hashes(struct server *srv, const char *const *keys, size_t n, hashes_cb cb, void *arg)
{
	struct hashes *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return -1;
	h->cb = cb;
	h->arg = arg;
	h->out = json_array();
	h->left = n + 1;		/* +1: held until every call is sent */
	for (size_t i = 0; i < n; i++) {
		struct hash_one *o = calloc(1, sizeof(*o));
		const char *argv[] = { "HGETALL", keys[i] };
		json_array_append_new(h->out, json_object());
		if (o) {
			o->h = h;
			o->i = i;
		}
		if (o == NULL || redis_call(srv->redis, hash_read, o, 2, argv, NULL) < 0) {
			free(o);
			h->unavailable = 1;
			h->left--;
		}
	}
	if (--h->left == 0) {
		h->cb(h->unavailable ? NULL : h->out, h->arg);
		json_decref(h->out);
		free(h);
	}
	return 0;
}
