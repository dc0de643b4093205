/*
 * shutdown.c - SIGTERM and SIGINT: stop accepting, let the requests in
 * flight finish (for at most limits.drain_ms), close Redis cleanly, and
 * leave the event loop so main() exits 0. A second signal ends the drain
 * at once.
 */
#include <event2/event.h>

#include "korpud.h"

static struct event *drain_timer;

static void
redis_closed(void *arg)
{
	struct server *srv = arg;

	event_base_loopexit(srv->base, NULL);
}

static void
drained(void *arg)
{
	struct server *srv = arg;

	if (drain_timer) {
		event_free(drain_timer);
		drain_timer = NULL;
	}
	http_server_on_idle(srv->http, NULL, NULL);
	log_info("shutdown: requests drained; closing Redis");
	redis_link_close(srv->redis, redis_closed, srv);
}

static void
drain_expired(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	log_warn("shutdown: %u request(s) still in flight after the drain time; stopping",
	    http_server_inflight(srv->http));
	drained(srv);
}

/* Background work (events relay, referral expiry) stops first. */
void
jobs_stop(struct server *srv)
{
	relay_stop(srv->relay);
	srv->relay = NULL;
	expiry_stop(srv->expiry);
	srv->expiry = NULL;
	jobs_free(srv->jobs);
	srv->jobs = NULL;
}

void
shutdown_begin(struct server *srv)
{
	long long ms = srv->conf->limits.drain_ms;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };

	if (srv->stopping) {
		if (drain_timer) {
			log_warn("shutdown: second signal, not waiting any longer");
			drained(srv);
		}
		return;
	}
	srv->stopping = 1;
	jobs_stop(srv);		/* no new background work while draining */
	log_info("shutdown: no longer accepting; draining %u request(s)",
	    http_server_inflight(srv->http));
	http_server_stop_accepting(srv->http);
	drain_timer = evtimer_new(srv->base, drain_expired, srv);
	if (drain_timer)
		evtimer_add(drain_timer, &tv);
	http_server_on_idle(srv->http, drained, srv);
}
