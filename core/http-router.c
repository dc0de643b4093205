/*
 * http-router.c - matches a method and a path against the route table.
 * Patterns are literal segments and {name} segments, a {name} optionally
 * followed by a literal suffix ("{id}.ics"). Pure functions, no I/O, so
 * the unit tests drive them directly.
 */
#include <stdio.h>
#include <string.h>

#include <event2/http.h>

#include "korpud.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes %XX escapes of one path segment into out (NUL-terminated).
 * Returns the decoded length, or -1 for a malformed escape, a decoded NUL
 * or '/', or a value that does not fit.
 */
int
router_percent_decode(const char *in, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= len)
				return -1;
			hi = hexval(in[i + 1]);
			lo = hexval(in[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
			if (c == '\0' || c == '/')
				return -1;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return (int)o;
}

/* Matches one pattern segment against one path segment. */
static int
segment_match(const char *pat, size_t plen, const char *seg, size_t slen,
    struct route_match *m)
{
	const char *close;
	size_t suffix_len;

	if (plen == 0 || pat[0] != '{')
		return plen == slen && memcmp(pat, seg, plen) == 0;
	close = memchr(pat, '}', plen);
	if (close == NULL)
		return 0;
	suffix_len = plen - (size_t)(close + 1 - pat);
	if (slen <= suffix_len || memcmp(seg + slen - suffix_len, close + 1, suffix_len) != 0)
		return 0;
	if (m->n_params >= ROUTE_MAX_PARAMS)
		return 0;
	if (router_percent_decode(seg, slen - suffix_len, m->params[m->n_params].value,
	    sizeof(m->params[0].value)) <= 0)
		return 0;
	m->params[m->n_params].name = pat + 1;
	m->params[m->n_params].name_len = (size_t)(close - pat - 1);
	m->n_params++;
	return 1;
}

static int
path_match(const char *pattern, const char *path, struct route_match *m)
{
	const char *p = pattern, *s = path;

	m->n_params = 0;
	if (*p != '/' || *s != '/')
		return 0;
	while (*p == '/' && *s == '/') {
		const char *pe, *se;
		p++;
		s++;
		pe = p + strcspn(p, "/");
		se = s + strcspn(s, "/");
		if (se == s || !segment_match(p, (size_t)(pe - p), s, (size_t)(se - s), m))
			return 0;
		p = pe;
		s = se;
	}
	return *p == '\0' && *s == '\0';
}

/*
 * Finds the route for method and path (path without the query string).
 * HEAD is served by GET routes. On ROUTE_BAD_METHOD, m->allowed holds the
 * methods the path does accept.
 */
enum route_result
router_match(const struct route *table, size_t n, int method, const char *path,
    struct route_match *m)
{
	int want = method == EVHTTP_REQ_HEAD ? EVHTTP_REQ_GET : method;
	struct route_match probe;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < n; i++) {
		memset(&probe, 0, sizeof(probe));
		if (!path_match(table[i].pattern, path, &probe))
			continue;
		m->allowed |= table[i].method;
		if (table[i].method == want && m->route == NULL) {
			int allowed = m->allowed;
			*m = probe;
			m->route = &table[i];
			m->allowed = allowed;
		}
	}
	if (m->route)
		return ROUTE_FOUND;
	return m->allowed ? ROUTE_BAD_METHOD : ROUTE_NOT_FOUND;
}

/* "GET, HEAD, POST" for an Allow header. */
void
router_allow_header(int allowed, char *buf, size_t len)
{
	static const struct {
		int bit;
		const char *name;
	} names[] = {
		{ EVHTTP_REQ_GET, "GET, HEAD" }, { EVHTTP_REQ_POST, "POST" },
		{ EVHTTP_REQ_PUT, "PUT" }, { EVHTTP_REQ_PATCH, "PATCH" },
		{ EVHTTP_REQ_DELETE, "DELETE" },
	};
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((allowed & names[i].bit) && off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
			    off ? ", " : "", names[i].name);
}
