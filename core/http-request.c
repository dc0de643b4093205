/*
 * http-request.c - one request's context, and the only way to answer one.
 * Every reply goes through request_finish, which writes the access log
 * line, counts the request out for the drain on shutdown, and frees the
 * context: so no handler can forget any of the three.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "korpud.h"
#include "http-server.h"

int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
request_id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

/* A request id: the caller's X-Request-Id when it is a sane token (so a
 * proxy's id follows the request), otherwise a new one. */
static void
request_id_make(struct request *r)
{
	static uint64_t seed, counter;
	const char *given = request_header(r, "X-Request-Id");

	if (given && request_id_valid(given)) {
		snprintf(r->id, sizeof(r->id), "%s", given);
		return;
	}
	if (seed == 0 && getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint64_t)now_us();
	snprintf(r->id, sizeof(r->id), "%016llx",
	    (unsigned long long)(seed ^ (++counter * 0x9e3779b97f4a7c15ULL)));
}

struct request *
request_new(struct server *srv, struct evhttp_request *req)
{
	struct request *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->srv = srv;
	r->req = req;
	r->started_us = now_us();
	r->method = evhttp_request_get_command(req);
	r->uri = strdup(evhttp_request_get_uri(req));
	request_id_make(r);
	{
		struct evhttp_connection *conn = evhttp_request_get_connection(req);
		char *addr = NULL;
		ev_uint16_t port = 0;
		if (conn)
			evhttp_connection_get_peer(conn, &addr, &port);
		addr_client(addr ? addr : "-", request_header(r, "X-Forwarded-For"),
		    &srv->conf->limits.trusted_proxies, r->peer, sizeof(r->peer));
	}
	http_server_count_in(srv->http);
	return r;
}

/* The largest body the matched route takes. */
size_t
request_body_max(const struct request *r)
{
	const struct conf *c = r->srv->conf;

	if (r->match.route && (r->match.route->flags & ROUTE_LARGE_BODY))
		return (size_t)c->limits.import_max;
	return (size_t)c->limits.body_max;
}

const char *
request_param(const struct request *r, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < r->match.n_params; i++)
		if (r->match.params[i].name_len == n &&
		    memcmp(r->match.params[i].name, name, n) == 0)
			return r->match.params[i].value;
	return NULL;
}

const char *
request_peer(const struct request *r)
{
	return r->peer;
}

const char *
request_header(const struct request *r, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

static const char *
method_name(int m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	}
	return "?";
}

/* Logs the request and frees its context; the reply itself is sent by
 * the caller, after this, through http_server_send. */
static void
request_finish(struct request *r, int status, size_t bytes)
{
	char path[256], shown[1100];
	size_t plen;

	/* The query string may carry names (?q=): keep it out of the log. */
	plen = strcspn(r->uri ? r->uri : "", "?");
	snprintf(path, sizeof(path), "%.*s%s", (int)(plen < 200 ? plen : 200),
	    r->uri ? r->uri : "", r->uri && r->uri[plen] ? "?..." : "");
	text_printable(path, shown, sizeof(shown));
	log_msg(LOG_INFO, r->id, "%s \"%s %s\" %d %zu %.1fms", r->peer, method_name(r->method),
	    shown, status, bytes, (double)(now_us() - r->started_us) / 1000.0);
	metrics_request(r->match.route, r->web, status, now_us() - r->started_us);
	request_free(r);
}

void
request_free(struct request *r)
{
	json_decref(r->body);
	json_decref(r->user);
	query_free(r);
	idem_free(r);
	explicit_bzero(r->token, sizeof(r->token));
	free(r->uri);
	free(r);
}

/* Drops a request that will never be answered (korpud is exiting and the
 * drain time is over): its context is freed; evhttp frees the rest with
 * its connection. */
void
request_abandon(struct request *r)
{
	log_msg(LOG_WARNING, r->id, "request abandoned at shutdown, unanswered");
	request_free(r);
}

/*
 * On every answer, API or page: the web client loads only its own scripts
 * and styles, talks only to its origin, and is never framed. Data is
 * never HTML, so a CSP this strict costs the client nothing.
 */
static void
security_headers(struct evkeyvalq *h)
{
	evhttp_add_header(h, "Content-Security-Policy",
	    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
	    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
	    "form-action 'self'; frame-ancestors 'none'");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Cross-Origin-Opener-Policy", "same-origin");
	evhttp_add_header(h, "Cross-Origin-Resource-Policy", "same-origin");
	evhttp_add_header(h, "Permissions-Policy", "camera=(), microphone=(), geolocation=()");
}

/* Sends status with the given body and ends the request. */
void
reply_bytes(struct request *r, int status, const char *content_type,
    const char *data, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	struct evbuffer *out = evhttp_request_get_output_buffer(r->req);
	struct evhttp_request *req = r->req;
	struct http_server *http = r->srv->http;

	if (content_type)
		evhttp_add_header(h, "Content-Type", content_type);
	evhttp_add_header(h, "X-Request-Id", r->id);
	if (status == 401)
		evhttp_add_header(h, "WWW-Authenticate", "Bearer realm=\"korpu\"");
	/* Draining for shutdown: no further requests on this connection. */
	if (r->srv->stopping)
		evhttp_add_header(h, "Connection", "close");
	security_headers(h);
	if (evhttp_find_header(h, "Cache-Control") == NULL)
		evhttp_add_header(h, "Cache-Control", "no-store");
	if (r->method == EVHTTP_REQ_HEAD) {
		/* The length a GET would have, and no body: libevent sends
		 * whatever is in the buffer, even for HEAD. */
		char n[24];
		snprintf(n, sizeof(n), "%zu", len);
		evhttp_add_header(h, "Content-Length", n);
	} else if (len) {
		evbuffer_add(out, data, len);
	}
	idem_finish(r, status, content_type, data, len);
	request_finish(r, status, len);
	http_server_send(http, req, status, http_reason(status));
}

/* Sends a JSON value (the reference is taken) and ends the request. */
void
reply_json(struct request *r, int status, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

	json_decref(body);
	if (text == NULL) {
		reply_problem(r, 500, "the response could not be encoded");
		return;
	}
	reply_bytes(r, status, "application/json; charset=utf-8", text, strlen(text));
	free(text);
}

const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	}
	return "Unknown";
}

static const char *
problem_slug(int status)
{
	switch (status) {
	case 400: return "bad-request";
	case 401: return "unauthorized";
	case 403: return "forbidden";
	case 404: return "not-found";
	case 405: return "method-not-allowed";
	case 409: return "conflict";
	case 413: return "body-too-large";
	case 415: return "unsupported-media-type";
	case 422: return "validation";
	case 429: return "too-many-requests";
	case 501: return "not-implemented";
	case 503: return "unavailable";
	}
	return "internal";
}

/* An RFC 9457 problem document; errs adds the per-field "errors". */
json_t *
problem_new(int status, const char *detail, const struct errlist *errs)
{
	char type[64];
	json_t *p;

	snprintf(type, sizeof(type), "urn:korpu:problem:%s", problem_slug(status));
	p = json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title", http_reason(status),
	    "status", status, "detail", detail ? detail : http_reason(status));
	if (p && errs && errs->n) {
		json_t *list = json_array();
		for (size_t i = 0; i < errs->n; i++) {
			json_t *e = json_pack("{s:s, s:s}", "field", errs->v[i].where,
			    "message", errs->v[i].message);
			/* Never drop an error: text that is not UTF-8 is replaced. */
			if (e == NULL)
				e = json_pack("{s:s, s:s}", "field", "(not UTF-8)",
				    "message", "is not valid");
			json_array_append_new(list, e);
		}
		json_object_set_new(p, "errors", list);
	}
	return p;
}

void
reply_problem_errors(struct request *r, int status, const char *detail,
    const struct errlist *errs)
{
	reply_json_problem(r, status, problem_new(status, detail, errs));
}

/* Sends a problem document built by problem_new (the reference is
 * taken), for problems that carry members of their own. */
void
reply_json_problem(struct request *r, int status, json_t *p)
{
	char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;

	json_decref(p);
	if (text == NULL) {
		static const char fallback[] = "{\"type\":\"urn:korpu:problem:internal\","
		    "\"title\":\"Internal Server Error\",\"status\":500,\"detail\":\"out of memory\"}";
		reply_bytes(r, 500, "application/problem+json", fallback, sizeof(fallback) - 1);
		return;
	}
	reply_bytes(r, status, "application/problem+json", text, strlen(text));
	free(text);
}

void
reply_problem(struct request *r, int status, const char *detail)
{
	reply_problem_errors(r, status, detail, NULL);
}

/* 503 naming the backing service that is down, with Retry-After. */
void
reply_unavailable(struct request *r, const char *what, int retry_after_s)
{
	char secs[16];

	snprintf(secs, sizeof(secs), "%d", retry_after_s);
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Retry-After", secs);
	reply_problem(r, 503, what);
}
