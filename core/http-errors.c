/*
 * http-errors.c - libevent answers some errors itself, before korpud sees
 * the request (a body over its hard limit, a malformed request line or
 * header), and it answers them as HTML. API clients are promised
 * application/problem+json for every error, so each connection's output
 * buffer is watched: a complete libevent error page is replaced, whole,
 * by the same status as a problem document. libevent closes the
 * connection after such an answer, so nothing follows it in the buffer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "korpud.h"
#include "http-server.h"

#define PAGE_END "</BODY></HTML>\n"

static void rewrite_error_page(struct evbuffer *out, const struct evbuffer_cb_info *info,
    void *arg);

static int
status_of(const char *head)
{
	/* "HTTP/1.x NNN " */
	if (strncmp(head, "HTTP/1.", 7) != 0 || head[8] != ' ' || head[12] != ' ')
		return 0;
	if (head[9] < '4' || head[9] > '5' || head[10] < '0' || head[10] > '9' ||
	    head[11] < '0' || head[11] > '9')
		return 0;
	return (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
}

/* Replaces a complete libevent error page in out by a problem document. */
static void
replace_error_page(struct evbuffer *out, size_t len, void *self)
{
	size_t endlen = sizeof(PAGE_END) - 1;
	char head[13], tail[sizeof(PAGE_END)];
	struct evbuffer_ptr at;
	json_t *problem;
	char *body;
	int status;

	if (evbuffer_copyout(out, head, 13) != 13 || (status = status_of(head)) == 0)
		return;
	if (evbuffer_search(out, "Content-Type: text/html", 23, NULL).pos < 0)
		return;
	evbuffer_ptr_set(out, &at, len - endlen, EVBUFFER_PTR_SET);
	if (evbuffer_copyout_from(out, &at, tail, endlen) != (ev_ssize_t)endlen ||
	    memcmp(tail, PAGE_END, endlen) != 0)
		return;			/* the page's body is not in yet */
	problem = problem_new(status, status == 413 ?
	    "the request body is larger than this server accepts" :
	    "the request could not be read as HTTP", NULL);
	body = problem ? json_dumps(problem, JSON_COMPACT) : NULL;
	json_decref(problem);
	if (body == NULL)
		return;
	/* Our own drain and add below must not bring us back here. */
	evbuffer_remove_cb(out, rewrite_error_page, self);
	evbuffer_drain(out, len);
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: application/problem+json\r\n"
	    "Connection: close\r\nContent-Length: %zu\r\n\r\n%s", status, http_reason(status),
	    strlen(body), body);
	log_msg(LOG_INFO, NULL, "http: answered %d before routing (%s)", status, http_reason(status));
	free(body);
}

static void
rewrite_error_page(struct evbuffer *out, const struct evbuffer_cb_info *info, void *arg)
{
	size_t len = evbuffer_get_length(out);

	if (info->n_added == 0 || len < 13 + sizeof(PAGE_END) - 1 || len > 4096)
		return;
	/* A socket bufferevent keeps its output's start frozen except while
	 * it writes; reading and replacing the page needs it thawed. */
	evbuffer_unfreeze(out, 1);
	replace_error_page(out, len, arg);
	evbuffer_freeze(out, 1);
}

/* Watches one new connection's output. */
void
http_errors_watch(struct bufferevent *bev)
{
	evbuffer_add_cb(bufferevent_get_output(bev), rewrite_error_page, NULL);
}
