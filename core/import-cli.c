/*
 * import-cli.c - `korpud -c FILE -i DATASET [-a AREA] [-r REGION]`: the
 * administrators' command-line path to the directory import. It connects
 * to Redis as configured, imports the HSDS dataset exactly as
 * POST /api/v1/directory/import does (directory-import.c), prints the
 * report as JSON and exits: 0 imported (rows may have been skipped: read
 * the report), 1 not imported.
 *
 * It serves nothing, so reading the file blocks here on purpose. It
 * writes no audit record: the audit chain has one writer, the running
 * korpud; whoever can run this can read the configuration's secrets
 * anyway, and the import is in the report and the korpud log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "korpud.h"

#define CONNECT_WAIT_MS 10000

struct cli {
	struct server *srv;
	json_t *dataset;
	const char *area, *region;
	struct event *poll;
	int waited_ms;
	int rc;
};

static void
closed(void *arg)
{
	struct server *srv = arg;

	event_base_loopexit(srv->base, NULL);
}

static void
imported(json_t *report, int status, const char *error, void *arg)
{
	struct cli *c = arg;

	if (status == 200) {
		char *text = json_dumps(report, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (text)
			printf("%s\n", text);
		free(text);
		c->rc = 0;
	} else {
		fprintf(stderr, "korpud: import failed: %s\n", error ? error : "unknown error");
	}
	redis_link_close(c->srv->redis, closed, c->srv);
}

static void
poll_ready(evutil_socket_t fd, short what, void *arg)
{
	struct cli *c = arg;
	struct timeval tv = { 0, 50000 };
	const char *who = getenv("SUDO_USER") ? getenv("SUDO_USER") : getenv("USER");
	char actor[64];

	(void)fd;
	(void)what;
	if (!redis_link_ready(c->srv->redis)) {
		c->waited_ms += 50;
		if (c->waited_ms >= CONNECT_WAIT_MS) {
			fprintf(stderr, "korpud: import failed: Redis is not ready: %s\n",
			    redis_link_problem(c->srv->redis) ?: "no answer");
			event_base_loopexit(c->srv->base, NULL);
			return;
		}
		evtimer_add(c->poll, &tv);
		return;
	}
	snprintf(actor, sizeof(actor), "korpud -i (%s)", who ? who : "?");
	if (directory_import(c->srv, c->dataset, c->area, c->region, actor, imported, c) < 0) {
		fprintf(stderr, "korpud: import failed: out of memory\n");
		event_base_loopexit(c->srv->base, NULL);
	}
}

int
import_cli_run(struct server *srv, const char *file, const char *area, const char *region)
{
	struct cli c = { srv, NULL, area, region, NULL, 0, 1 };
	json_error_t jerr;
	struct timeval now = { 0, 0 };

	if (area && plugins_find(&srv->plugins, area) == NULL) {
		fprintf(stderr, "korpud: -a %s: not an enabled service area\n", area);
		return 1;
	}
	if (region && !conf_region_known(srv->conf, region)) {
		fprintf(stderr, "korpud: -r %s: not a region of the configuration\n", region);
		return 1;
	}
	c.dataset = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
	if (c.dataset == NULL) {
		fprintf(stderr, "korpud: %s:%d: %s\n", file, jerr.line, jerr.text);
		return 1;
	}
	srv->base = event_base_new();
	srv->redis = srv->base ? redis_link_new(srv->base, &srv->conf->redis) : NULL;
	c.poll = srv->base ? evtimer_new(srv->base, poll_ready, &c) : NULL;
	if (srv->redis == NULL || c.poll == NULL) {
		fprintf(stderr, "korpud: out of memory\n");
		json_decref(c.dataset);
		return 1;
	}
	redis_link_start(srv->redis);
	evtimer_add(c.poll, &now);
	event_base_dispatch(srv->base);
	event_free(c.poll);
	json_decref(c.dataset);
	return c.rc;
}
