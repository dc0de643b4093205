/*
 * http-server.h - request accounting between http-request.c and
 * http-server.c.
 */
#ifndef HTTP_SERVER_H
#define HTTP_SERVER_H

struct http_server;

void http_server_count_in(struct http_server *h);
struct evhttp_request;
void http_server_send(struct http_server *h, struct evhttp_request *req, int status,
    const char *reason);

/* http-errors.c */
struct bufferevent;
void http_errors_watch(struct bufferevent *bev);

#endif
