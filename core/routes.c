/*
 * routes.c - every route korpud serves, in one table. A path that is not
 * here is a 404; authorization (next to each route, as it arrives) is
 * decided here too, so a route cannot be added without saying who may
 * call it. Literal routes come before {param} routes of the same shape.
 */
#include <event2/http.h>

#include "korpud.h"

const struct route routes[] = {
	{ EVHTTP_REQ_GET, "/health", api_health, 0 },
	{ EVHTTP_REQ_GET, "/ready", api_ready, 0 },
	{ EVHTTP_REQ_GET, "/api/v1/openapi.json", api_openapi, 0 },
	{ EVHTTP_REQ_GET, "/api/v1/areas", api_areas_list, 0 },
	{ EVHTTP_REQ_POST, "/api/v1/areas/{name}/check", api_area_check, ROUTE_JSON_BODY },
};

const size_t routes_count = sizeof(routes) / sizeof(routes[0]);
