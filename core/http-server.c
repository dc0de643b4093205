/*
 * http-server.c - the evhttp server: listening sockets, the cap on open
 * connections, dispatch through the route table, and the drain on
 * shutdown (stop accepting, let in-flight requests finish).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "korpud.h"
#include "http-server.h"

#define MAX_LISTEN 16
#define MAX_PENDING_CONNS 256

/* A reply handed to evhttp whose last byte is not written yet. */
struct write_wait {
	struct http_server *h;
	struct evhttp_connection *conn;
	struct write_wait *prev, *next;
};

struct http_server {
	struct server *srv;
	struct write_wait *writing;
	struct evhttp *http;
	struct evhttp_bound_socket *bound[MAX_LISTEN];
	size_t n_bound;
	unsigned inflight;
	unsigned connections;
	/* New connections' bufferevents, until fixup_connections counts them. */
	struct bufferevent *pending[MAX_PENDING_CONNS];
	size_t n_pending;
	struct event *fixup_ev;
	void (*on_idle)(void *);
	void *on_idle_arg;
};

void
http_server_count_in(struct http_server *h)
{
	h->inflight++;
}

static void
count_out(struct http_server *h)
{
	if (--h->inflight == 0 && h->on_idle)
		h->on_idle(h->on_idle_arg);
}

static void
write_wait_end(struct write_wait *w)
{
	struct http_server *h = w->h;

	if (w->prev)
		w->prev->next = w->next;
	else
		h->writing = w->next;
	if (w->next)
		w->next->prev = w->prev;
	free(w);
	count_out(h);
}

static void
reply_written(struct evhttp_request *req, void *arg)
{
	write_wait_end(arg);
}

/*
 * Sends a reply. A request counts as in flight until its reply is
 * written out (or its connection is gone), so the drain on shutdown never
 * cuts a response off half-way.
 */
void
http_server_send(struct http_server *h, struct evhttp_request *req, int status,
    const char *reason)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct write_wait *w = conn ? calloc(1, sizeof(*w)) : NULL;

	if (w == NULL) {
		/* The client left (or no memory): evhttp frees the request. */
		evhttp_send_reply(req, status, reason, NULL);
		count_out(h);
		return;
	}
	w->h = h;
	w->conn = conn;
	w->next = h->writing;
	if (w->next)
		w->next->prev = w;
	h->writing = w;
	evhttp_request_set_on_complete_cb(req, reply_written, w);
	evhttp_send_reply(req, status, reason, NULL);
}

unsigned
http_server_inflight(const struct http_server *h)
{
	return h->inflight;
}

/* Calls cb once no request is in flight (now, if none is). */
void
http_server_on_idle(struct http_server *h, void (*cb)(void *), void *arg)
{
	h->on_idle = cb;
	h->on_idle_arg = arg;
	if (cb && h->inflight == 0)
		cb(arg);
}

/* ---- the connection cap ----
 * libevent 2.1's evhttp has no connection limit and no hook when it
 * accepts. Its bufferevent callback (evhttp_set_bevcb) runs for each new
 * connection before evhttp owns it; once evhttp does, the bufferevent's
 * callback argument is the evhttp_connection, so a deferred event set off
 * from the bufferevent callback can count it and set a close callback to
 * count it out. Over the cap, the client gets a 503 and the connection
 * is closed. */

static void
connection_closed(struct evhttp_connection *conn, void *arg)
{
	struct http_server *h = arg;

	if (h->connections > 0)
		h->connections--;
	/* A connection closed mid-write never completes its reply. */
	for (struct write_wait *w = h->writing; w; w = w->next)
		if (w->conn == conn) {
			write_wait_end(w);
			break;
		}
}

static void
connection_refuse(struct http_server *h, struct evhttp_connection *conn,
    struct bufferevent *bev)
{
	static const char body[] =
	    "{\"type\":\"urn:korpu:problem:unavailable\",\"title\":\"Service Unavailable\","
	    "\"status\":503,\"detail\":\"too many open connections; retry later\"}";
	char busy[512];
	int n = snprintf(busy, sizeof(busy),
	    "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: application/problem+json\r\n"
	    "Retry-After: 1\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
	    sizeof(body) - 1, body);
	evutil_socket_t fd = bufferevent_getfd(bev);

	/* A fresh socket's send buffer takes this whole at once. */
	if (fd >= 0)
		(void)send(fd, busy, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	log_warn("http: refused a connection: %u open, connections_max is %lld",
	    h->connections, h->srv->conf->limits.connections_max);
	evhttp_connection_free(conn);
}

/* An answer goes out whole at once: without this, Nagle's algorithm
 * holds the tail of a large answer until the client's delayed ACK,
 * some 40 ms (measured by contrib/bench/slots-year.sh). */
static void
nodelay(evutil_socket_t fd)
{
	int one = 1;

	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void
fixup_connections(evutil_socket_t fd, short what, void *arg)
{
	struct http_server *h = arg;

	for (size_t i = 0; i < h->n_pending; i++) {
		struct bufferevent *bev = h->pending[i];
		bufferevent_data_cb rd, wr;
		bufferevent_event_cb ev;
		void *cbarg = NULL;
		struct evhttp_connection *conn;

		bufferevent_getcb(bev, &rd, &wr, &ev, &cbarg);
		conn = cbarg;
		if (conn == NULL)
			continue;
		h->connections++;
		evhttp_connection_set_closecb(conn, connection_closed, h);
		nodelay(bufferevent_getfd(bev));
		http_errors_watch(bev);
		if ((long long)h->connections > h->srv->conf->limits.connections_max)
			connection_refuse(h, conn, bev);
	}
	h->n_pending = 0;
}

static struct bufferevent *
connection_bufferevent(struct event_base *base, void *arg)
{
	struct http_server *h = arg;
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);

	if (bev == NULL)
		return NULL;
	if (h->n_pending < MAX_PENDING_CONNS)
		h->pending[h->n_pending++] = bev;
	/* Active now, so it runs in this loop pass: before any read on the
	 * new socket can free the connection. */
	event_active(h->fixup_ev, EV_TIMEOUT, 0);
	return bev;
}

/* ---- dispatch ---- */

/* Runs the handler of an authorised request, after reading its JSON body
 * if the route takes one: so clients without a session never get their
 * bodies parsed. */
void
request_run(struct request *r)
{
	if (r->match.route->flags & ROUTE_JSON_BODY) {
		struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
		struct body_error err;

		r->body = (r->match.route->flags & ROUTE_ANY_JSON ? body_parse_json_value :
		    body_parse_json)(request_header(r, "Content-Type"),
		    (const char *)evbuffer_pullup(in, -1), evbuffer_get_length(in),
		    request_body_max(r), &err);
		if (r->body == NULL) {
			reply_problem(r, err.status, err.detail);
			return;
		}
	}
	r->match.route->fn(r);
}

static void
dispatch(struct evhttp_request *req, void *arg)
{
	struct http_server *h = arg;
	struct request *r = request_new(h->srv, req);
	const struct evhttp_uri *uri;
	const char *path;
	struct evbuffer *in;
	size_t len;
	char allow[64];

	if (r == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	uri = evhttp_request_get_evhttp_uri(req);
	path = uri ? evhttp_uri_get_path(uri) : NULL;
	/* "//x" parses as an authority with an empty path: never a route,
	 * and never the web client's "/". */
	if (strncmp(evhttp_request_get_uri(req), "//", 2) == 0)
		path = "//";
	if (path == NULL || *path == '\0')
		path = "/";
	switch (router_match(routes, routes_count, r->method, path, &r->match)) {
	case ROUTE_NOT_FOUND:
		/* Everything outside the API is the web client's. */
		if ((r->method == EVHTTP_REQ_GET || r->method == EVHTTP_REQ_HEAD) &&
		    strncmp(path, "/api/", 5) != 0)
			web_serve(r, path);
		else
			reply_problem(r, 404, "no such resource");
		return;
	case ROUTE_BAD_METHOD:
		router_allow_header(r->match.allowed, allow, sizeof(allow));
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
		reply_problem(r, 405, "this resource does not accept that method");
		return;
	case ROUTE_FOUND:
		break;
	}
	in = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(in);
	if (len > request_body_max(r)) {
		char detail[128];
		snprintf(detail, sizeof(detail), "the request body is %zu bytes; at most %zu are accepted",
		    len, request_body_max(r));
		reply_problem(r, 413, detail);
		return;
	}
	log_set_request(r->id);
	authz_dispatch(r);
	log_set_request(NULL);
}

/* ---- listening ---- */

static void
log_bound(struct evhttp_bound_socket *b)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char name[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (getsockname(evhttp_bound_socket_get_fd(b), (struct sockaddr *)&ss, &len) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &in->sin_addr, name, sizeof(name));
		port = ntohs(in->sin_port);
		log_info("listening on http://%s:%u/", name, port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, name, sizeof(name));
		port = ntohs(in6->sin6_port);
		log_info("listening on http://[%s]:%u/", name, port);
	}
}

/* Applies the limits of srv->conf (at start and after a reload). */
void
http_server_reconfigure(struct http_server *h)
{
	const struct conf *c = h->srv->conf;
	struct timeval tv = { (time_t)(c->limits.request_timeout_ms / 1000),
	    (suseconds_t)((c->limits.request_timeout_ms % 1000) * 1000) };
	/* evhttp answers bodies past its own limit itself, as HTML: so its
	 * limit is set well above body_max, and dispatch() answers bodies
	 * between the two with a problem+json 413. */
	ev_ssize_t hard = c->limits.body_max * 4 > 1048576 ? c->limits.body_max * 4 : 1048576;

	if (hard < c->limits.import_max + 1048576)	/* the import route's own limit */
		hard = c->limits.import_max + 1048576;

	evhttp_set_timeout_tv(h->http, &tv);
	evhttp_set_max_body_size(h->http, hard);
	evhttp_set_max_headers_size(h->http, 16384);
}

struct http_server *
http_server_new(struct server *srv, struct errlist *errs)
{
	struct http_server *h = calloc(1, sizeof(*h));
	const struct conf *c = srv->conf;

	if (h == NULL)
		return NULL;
	h->srv = srv;
	h->http = evhttp_new(srv->base);
	h->fixup_ev = event_new(srv->base, -1, 0, fixup_connections, h);
	if (h->http == NULL || h->fixup_ev == NULL) {
		errlist_add(errs, "http", "cannot create the HTTP server");
		http_server_free(h);
		return NULL;
	}
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS);
	evhttp_set_gencb(h->http, dispatch, h);
	evhttp_set_bevcb(h->http, connection_bufferevent, h);
	http_server_reconfigure(h);
	for (size_t i = 0; i < c->listen.n && h->n_bound < MAX_LISTEN; i++) {
		char host[128];
		unsigned port;
		struct evhttp_bound_socket *b;

		if (addr_parse(c->listen.v[i], host, sizeof(host), &port) < 0) {
			errlist_add(errs, "listen", "\"%s\" is not an address:port", c->listen.v[i]);
			continue;
		}
		b = evhttp_bind_socket_with_handle(h->http, host, (ev_uint16_t)port);
		if (b == NULL) {
			errlist_add(errs, "listen", "cannot listen on %s: %s", c->listen.v[i],
			    strerror(errno));
			continue;
		}
		h->bound[h->n_bound++] = b;
		log_bound(b);
	}
	if (errs->n) {
		http_server_free(h);
		return NULL;
	}
	return h;
}

/* Closes the listening sockets; open connections carry on. */
void
http_server_stop_accepting(struct http_server *h)
{
	for (size_t i = 0; i < h->n_bound; i++)
		evhttp_del_accept_socket(h->http, h->bound[i]);
	h->n_bound = 0;
}

void
http_server_free(struct http_server *h)
{
	if (h == NULL)
		return;
	h->on_idle = NULL;
	if (h->http)
		evhttp_free(h->http);
	if (h->fixup_ev)
		event_free(h->fixup_ev);
	free(h);
}

unsigned
http_server_connections(const struct http_server *h)
{
	return h ? h->connections : 0;
}
