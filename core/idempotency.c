/*
 * idempotency.c - the Idempotency-Key header on writes (API.md): the same
 * key and body within the configured time (24 h by default) gets the
 * first answer again, and nothing is written twice. Keys are the
 * caller's own: the Redis key hashes the user, method, path and key, so
 * two staff members never collide and a key leaks nothing.
 *
 * The same key with another body is 422, and while the first request
 * runs a second one is 409 (as draft-ietf-httpapi-idempotency-key-header
 * says). Answers of 5xx are not kept: the failure was ours, and a retry
 * must run again; nor are 409 and 429: a conflict or a throttle is about
 * that moment, and a retry is a new attempt (a place freed since may be
 * taken).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <hiredis/hiredis.h>

#include "korpud.h"

#define IDEM_KEY_MAX 255

struct idem {
	char key[96];			/* korpu:idem:{HASH} */
	char hash[65];			/* of the body */
	idem_proceed_fn proceed;
};

static int
key_valid(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > IDEM_KEY_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (k[i] < 0x21 || k[i] > 0x7e)
			return 0;
	return 1;
}

static void
idem_begun(redisReply *reply, void *arg)
{
	struct request *r = arg;
	struct idem *id = r->idem;
	const redisReply *e;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
		r->idem = NULL;
		free(id);
		reply_unavailable(r, "redis: the Idempotency-Key cannot be checked right now", 1);
		return;
	}
	e = reply->element[0];
	if (reply->elements == 1 && e->type == REDIS_REPLY_STRING && strcmp(e->str, "new") == 0) {
		id->proceed(r);
		return;
	}
	/* Seen before: do not store this answer again. */
	r->idem = NULL;
	free(id);
	if (reply->elements != 5 || reply->element[1]->type != REDIS_REPLY_STRING) {
		reply_problem(r, 409, "a request with this Idempotency-Key is still being "
		    "answered; wait and retry");
		return;
	}
	{
		char hash[65];
		struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
		sha256_hex(evbuffer_pullup(in, -1), evbuffer_get_length(in), hash);
		if (strcmp(hash, reply->element[1]->str) != 0) {
			struct errlist errs = { 0 };
			errlist_add(&errs, "Idempotency-Key", "was used for a request with another "
			    "body; use a new key for a new request");
			reply_problem_errors(r, 422, "the Idempotency-Key is already used", &errs);
			errlist_free(&errs);
			return;
		}
	}
	if (e->type != REDIS_REPLY_STRING || strcmp(e->str, "done") != 0 ||
	    reply->element[2]->type != REDIS_REPLY_STRING) {
		reply_problem(r, 409, "a request with this Idempotency-Key is still being "
		    "answered; wait and retry");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Idempotent-Replayed", "true");
	reply_bytes(r, atoi(reply->element[2]->str),
	    reply->element[3]->type == REDIS_REPLY_STRING ? reply->element[3]->str : NULL,
	    reply->element[4]->type == REDIS_REPLY_STRING ? reply->element[4]->str : "",
	    reply->element[4]->type == REDIS_REPLY_STRING ? reply->element[4]->len : 0);
}

/*
 * Runs proceed(r) now when the request has no Idempotency-Key, or once
 * the key is taken; otherwise answers from what the key holds.
 */
void
idem_begin(struct request *r, idem_proceed_fn proceed)
{
	const char *k = request_header(r, "Idempotency-Key");
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	char *scope, hash[65], ttl[24];
	struct idem *id;

	if (k == NULL) {
		proceed(r);
		return;
	}
	if (!key_valid(k)) {
		reply_problem(r, 400, "Idempotency-Key must be 1 to 255 visible ASCII characters");
		return;
	}
	id = calloc(1, sizeof(*id));
	/* None of the parts holds a newline (uids are directory names, the
	 * URI and the key are checked), so the scope is unambiguous. */
	if (id == NULL || asprintf(&scope, "%s\n%d\n%s\n%s", r->uid, r->method,
	    r->uri ? r->uri : "", k) < 0) {
		free(id);
		reply_problem(r, 500, "out of memory");
		return;
	}
	sha256_hex(scope, strlen(scope), hash);
	free(scope);
	snprintf(id->key, sizeof(id->key), "korpu:idem:{%s}", hash);
	sha256_hex(evbuffer_pullup(in, -1), evbuffer_get_length(in), id->hash);
	id->proceed = proceed;
	r->idem = id;
	/* Pending for as long as a request may run, and a little. */
	snprintf(ttl, sizeof(ttl), "%lld", r->srv->conf->limits.request_timeout_ms + 5000);
	{
		const char *argv[] = { id->key, id->hash, ttl };
		if (redis_script(r->srv->redis, SCRIPT_IDEM_BEGIN, idem_begun, r, 1, 3, argv,
		    NULL) < 0) {
			r->idem = NULL;
			free(id);
			reply_unavailable(r, "redis: the Idempotency-Key cannot be checked right now", 1);
		}
	}
}

static void
idem_stored(redisReply *reply, void *arg)
{
	(void)reply;
	(void)arg;
}

/* The answer is going out: keep it for replay (or give the key back). */
void
idem_finish(struct request *r, int status, const char *ctype, const char *data, size_t len)
{
	struct idem *id = r->idem;
	char st[8], ttl[24];

	if (id == NULL)
		return;
	r->idem = NULL;
	snprintf(st, sizeof(st), "%d", status);
	snprintf(ttl, sizeof(ttl), "%lld", r->srv->conf->referrals.idempotency_hours * 3600000LL);
	{
		int keep = status < 500 && status != 409 && status != 429;
		const char *argv[] = { id->key, keep ? "keep" : "drop", id->hash, st,
		    ctype ? ctype : "", ttl, data ? data : "" };
		size_t lens[] = { strlen(id->key), 4, strlen(id->hash), strlen(st),
		    ctype ? strlen(ctype) : 0, strlen(ttl), data ? len : 0 };
		/* Sent before the answer: a retry that arrives after the answer
		 * is queued behind it on the same connection to Redis. */
		redis_script(r->srv->redis, SCRIPT_IDEM_FINISH, idem_stored, NULL, 1, 7, argv, lens);
	}
	free(id);
}

void
idem_free(struct request *r)
{
	free(r->idem);
	r->idem = NULL;
}
