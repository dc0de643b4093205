/*
 * api-openapi.c - GET /api/v1/openapi.json: core/openapi.json, compiled
 * into korpud so the document always matches the binary serving it.
 */
#include <string.h>

#include <event2/http.h>

#include "korpud.h"

void
api_openapi(struct request *r)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Cache-Control", "no-cache");
	reply_bytes(r, 200, "application/json; charset=utf-8", embedded_openapi_json,
	    strlen(embedded_openapi_json));
}
