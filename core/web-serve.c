/*
 * web-serve.c - answers GET and HEAD for the web client's files, from the
 * copy read with the configuration. Every file is revalidated on each use
 * ("no-cache" with its ETag): the client has no build step to give files
 * versioned names, and a 304 costs a round trip but never a stale script
 * talking to a newer API. Browsers that take gzip get the compressed
 * copy (its own ETag), the others the file as it is.
 */
#include <string.h>

#include <event2/http.h>

#include "korpud.h"

/* Serves the web file at path, or a 404. */
void
web_serve(struct request *r, const char *path)
{
	const struct web_file *f = web_files_find(r->srv->conf->web.files, path);
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	const char *inm;

	int gz;

	r->web = 1;
	if (f == NULL) {
		reply_problem(r, 404, "no such resource");
		return;
	}
	gz = f->gz && web_takes_gzip(request_header(r, "Accept-Encoding"));
	evhttp_add_header(h, "Cache-Control", "no-cache");
	evhttp_add_header(h, "ETag", gz ? f->etag_gz : f->etag);
	if (f->gz)
		evhttp_add_header(h, "Vary", "Accept-Encoding");
	inm = request_header(r, "If-None-Match");
	if (inm && web_etag_listed(inm, gz ? f->etag_gz : f->etag)) {
		reply_bytes(r, 304, NULL, NULL, 0);
		return;
	}
	if (gz) {
		evhttp_add_header(h, "Content-Encoding", "gzip");
		reply_bytes(r, 200, f->type, f->gz, f->gz_len);
	} else {
		reply_bytes(r, 200, f->type, f->body, f->len);
	}
}
