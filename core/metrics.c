/*
 * metrics.c - GET /metrics: korpud's counters in the Prometheus text
 * format (version 0.0.4). Requests are counted per route of the route
 * table (its pattern, so the label set is fixed and small, never a
 * client's id), by status, with a latency histogram per route; plus the
 * connections, the Redis link and config reloads. One process, one loop:
 * plain counters, no locks.
 *
 * Scrapers are not staff: the addresses in metrics.allow (loopback by
 * default) may read it without a session; anyone else gets 403.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>

#include "config.h"
#include "korpud.h"

/* Latency bucket bounds, in microseconds (the last is +Inf). */
static const int64_t bounds_us[] = { 1000, 5000, 10000, 25000, 50000, 100000, 250000,
	500000, 1000000, 2500000 };
#define N_BOUNDS (sizeof(bounds_us) / sizeof(bounds_us[0]))
/* The statuses korpud answers with; anything else counts as "other". */
static const int codes[] = { 200, 201, 202, 204, 304, 400, 401, 403, 404, 405, 409, 413,
	415, 422, 429, 500, 503 };
#define N_CODES (sizeof(codes) / sizeof(codes[0]))

struct route_stats {
	unsigned long long by_code[N_CODES + 1];
	unsigned long long buckets[N_BOUNDS + 1];	/* cumulative at render */
	unsigned long long count;
	double sum_s;
};

/* Rows: one per route, then the web client's files, then no route. */
#define ROW_WEB		routes_count
#define ROW_NONE	(routes_count + 1)

static struct {
	struct route_stats *rows;
	unsigned long long redis_timeouts, redis_connects, reloads_ok, reloads_refused;
	time_t started;
} m;

int
metrics_init(void)
{
	m.rows = calloc(routes_count + 2, sizeof(*m.rows));
	m.started = time(NULL);
	return m.rows ? 0 : -1;
}

void
metrics_free(void)
{
	free(m.rows);
	m.rows = NULL;
}

static size_t
code_index(int status)
{
	for (size_t i = 0; i < N_CODES; i++)
		if (codes[i] == status)
			return i;
	return N_CODES;
}

/* One answered request: route (NULL: none matched), web (a web file). */
void
metrics_request(const struct route *route, int web, int status, int64_t took_us)
{
	struct route_stats *s;
	size_t b = 0;

	if (m.rows == NULL)
		return;
	s = &m.rows[route ? (size_t)(route - routes) : web ? ROW_WEB : ROW_NONE];
	s->by_code[code_index(status)]++;
	while (b < N_BOUNDS && took_us > bounds_us[b])
		b++;
	s->buckets[b]++;
	s->count++;
	s->sum_s += (double)took_us / 1e6;
}

void
metrics_redis_timeout(void)
{
	m.redis_timeouts++;
}

void
metrics_redis_connected(void)
{
	m.redis_connects++;
}

void
metrics_reload(int ok)
{
	if (ok)
		m.reloads_ok++;
	else
		m.reloads_refused++;
}

static const char *
method_of(int method)
{
	switch (method) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	case EVHTTP_REQ_DELETE: return "DELETE";
	}
	return "other";
}

static void
row_labels(size_t i, char *buf, size_t len)
{
	if (i < routes_count)
		snprintf(buf, len, "method=\"%s\",route=\"%s\"", method_of(routes[i].method),
		    routes[i].pattern);
	else
		snprintf(buf, len, "method=\"GET\",route=\"%s\"", i == ROW_WEB ? "(web)" : "(none)");
}

static void
render_requests(FILE *f)
{
	char labels[256];

	fputs("# HELP korpu_http_requests_total Requests answered, by route and status.\n"
	    "# TYPE korpu_http_requests_total counter\n", f);
	for (size_t i = 0; i < routes_count + 2; i++) {
		row_labels(i, labels, sizeof(labels));
		for (size_t c = 0; c <= N_CODES; c++) {
			if (m.rows[i].by_code[c] == 0)
				continue;
			if (c < N_CODES)
				fprintf(f, "korpu_http_requests_total{%s,status=\"%d\"} %llu\n", labels,
				    codes[c], m.rows[i].by_code[c]);
			else
				fprintf(f, "korpu_http_requests_total{%s,status=\"other\"} %llu\n", labels,
				    m.rows[i].by_code[c]);
		}
	}
	fputs("# HELP korpu_http_request_duration_seconds Time from a request's arrival to its answer.\n"
	    "# TYPE korpu_http_request_duration_seconds histogram\n", f);
	for (size_t i = 0; i < routes_count + 2; i++) {
		unsigned long long cum = 0;

		if (m.rows[i].count == 0)
			continue;
		row_labels(i, labels, sizeof(labels));
		for (size_t b = 0; b <= N_BOUNDS; b++) {
			cum += m.rows[i].buckets[b];
			if (b < N_BOUNDS)
				fprintf(f, "korpu_http_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n",
				    labels, (double)bounds_us[b] / 1e6, cum);
			else
				fprintf(f, "korpu_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n",
				    labels, cum);
		}
		fprintf(f, "korpu_http_request_duration_seconds_sum{%s} %.6f\n", labels, m.rows[i].sum_s);
		fprintf(f, "korpu_http_request_duration_seconds_count{%s} %llu\n", labels,
		    m.rows[i].count);
	}
}

static void
gauge(FILE *f, const char *name, const char *help, const char *type, double v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

/* The whole exposition, malloc'd (the caller frees), or NULL. */
char *
metrics_render(struct server *srv, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (f == NULL)
		return NULL;
	if (m.rows)
		render_requests(f);
	fprintf(f, "# HELP korpu_build_info korpud's version and plugin ABI.\n"
	    "# TYPE korpu_build_info gauge\n"
	    "korpu_build_info{version=\"%s\",abi=\"%d.%d\"} 1\n", PACKAGE_VERSION,
	    KORPU_ABI_MAJOR, KORPU_ABI_MINOR);
	gauge(f, "korpu_start_time_seconds", "When korpud started (Unix time).", "gauge",
	    (double)m.started);
	gauge(f, "korpu_http_connections", "Client connections open now.", "gauge",
	    (double)http_server_connections(srv->http));
	gauge(f, "korpu_http_requests_in_flight", "Requests being answered now.", "gauge",
	    (double)http_server_inflight(srv->http));
	gauge(f, "korpu_redis_up", "1 when the Redis link is ready for commands.", "gauge",
	    redis_link_ready(srv->redis) ? 1 : 0);
	gauge(f, "korpu_redis_pending_commands", "Redis commands sent and not yet answered.", "gauge",
	    (double)redis_link_pending(srv->redis));
	gauge(f, "korpu_redis_command_timeouts_total", "Redis commands that got no reply in time.",
	    "counter", (double)m.redis_timeouts);
	gauge(f, "korpu_redis_connects_total", "Times the Redis link became ready.", "counter",
	    (double)m.redis_connects);
	gauge(f, "korpu_config_reloads_total", "Configuration reloads applied (SIGHUP).", "counter",
	    (double)m.reloads_ok);
	gauge(f, "korpu_config_reloads_refused_total",
	    "Configuration reloads refused (the running one stayed).", "counter",
	    (double)m.reloads_refused);
	gauge(f, "korpu_plugins_loaded", "Area plugins loaded and started.", "gauge",
	    (double)srv->plugins.n);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

void
api_metrics(struct request *r)
{
	size_t len = 0;
	char *text;

	if (!strlist_has(&r->srv->conf->metrics.allow, request_peer(r))) {
		reply_problem(r, 403, "metrics are for the addresses in metrics.allow");
		return;
	}
	text = metrics_render(r->srv, &len);
	if (text == NULL) {
		reply_problem(r, 500, "out of memory");
		return;
	}
	reply_bytes(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
	free(text);
}
