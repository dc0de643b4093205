/*
 * http-body.c - turns a request body into a JSON object or says exactly
 * why not: 413 too large, 415 not JSON, 400 not well-formed. Pure, so the
 * unit tests and the fuzz target drive it directly.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "korpud.h"

/* application/json or application/<x>+json, with an optional charset
 * that must then be UTF-8 (the only one JSON allows, RFC 8259). */
int
body_content_type_is_json(const char *ct)
{
	const char *semi, *slash, *p;
	size_t mlen;

	if (ct == NULL)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	semi = strchr(ct, ';');
	mlen = semi ? (size_t)(semi - ct) : strlen(ct);
	while (mlen > 0 && (ct[mlen - 1] == ' ' || ct[mlen - 1] == '\t'))
		mlen--;
	if (mlen < 12 || strncasecmp(ct, "application/", 12) != 0)
		return 0;
	slash = ct + 12;
	if (!((mlen == 16 && strncasecmp(slash, "json", 4) == 0) ||
	    (mlen > 17 && strncasecmp(ct + mlen - 5, "+json", 5) == 0)))
		return 0;
	for (p = semi; p != NULL; p = strchr(p + 1, ';')) {
		const char *param = p + 1;
		while (*param == ' ' || *param == '\t')
			param++;
		if (strncasecmp(param, "charset=", 8) == 0) {
			const char *v = param + 8;
			if (*v == '"')
				v++;
			if (strncasecmp(v, "utf-8", 5) != 0 ||
			    (v[5] != '\0' && v[5] != ';' && v[5] != '"' && v[5] != ' '))
				return 0;
		}
	}
	return 1;
}

/*
 * Parses data as one JSON value (an object unless any_value). Returns a
 * new reference, or NULL with err->status and err->detail set. An empty
 * body is a 400 (a body is required wherever this is called).
 */
static json_t *
parse(const char *content_type, const char *data, size_t len, size_t max, int any_value,
    struct body_error *err)
{
	json_error_t jerr;
	json_t *doc;

	if (len > max) {
		err->status = 413;
		snprintf(err->detail, sizeof(err->detail),
		    "the request body is %zu bytes; at most %zu are accepted", len, max);
		return NULL;
	}
	if (!body_content_type_is_json(content_type)) {
		err->status = 415;
		snprintf(err->detail, sizeof(err->detail),
		    "send the body as application/json (UTF-8); got %s",
		    content_type ? "another media type" : "no Content-Type");
		return NULL;
	}
	if (len == 0) {
		err->status = 400;
		snprintf(err->detail, sizeof(err->detail), "a JSON object body is required");
		return NULL;
	}
	/* Duplicate keys are refused: two values for one field leave the
	 * meaning to whichever parser reads it. */
	doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL) {
		err->status = 400;
		snprintf(err->detail, sizeof(err->detail),
		    "the body is not valid JSON: %.120s (line %d, column %d)",
		    jerr.text, jerr.line, jerr.column);
		return NULL;
	}
	if (!any_value && !json_is_object(doc)) {
		json_decref(doc);
		err->status = 400;
		snprintf(err->detail, sizeof(err->detail), "the body must be a JSON object");
		return NULL;
	}
	return doc;
}

json_t *
body_parse_json(const char *content_type, const char *data, size_t len,
    size_t max, struct body_error *err)
{
	return parse(content_type, data, len, max, 0, err);
}

/* Any JSON value: a dataset may be an array. */
json_t *
body_parse_json_value(const char *content_type, const char *data, size_t len,
    size_t max, struct body_error *err)
{
	return parse(content_type, data, len, max, 1, err);
}
