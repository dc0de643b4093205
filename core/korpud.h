/*
 * korpud.h - core's one internal header, with a banner per source file.
 * Plugins never include this: they see only include/korpu/plugin.h.
 */
#ifndef KORPUD_H
#define KORPUD_H

#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#include <libconfig.h>
#include <jansson.h>

#include "korpu/plugin.h"

struct event_base;
struct event;
struct evhttp_request;
struct redis_link;
struct http_server;
struct redisReply;

/* errlist.c: a list of (where, message) pairs: config errors ("file:line")
 * and validation errors ("fields.grade") alike. */
struct errent {
	char *where;
	char *message;
};
struct errlist {
	struct errent *v;
	size_t n, cap;
};
void errlist_add(struct errlist *e, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void errlist_free(struct errlist *e);
void errlist_print(const struct errlist *e, const char *prefix, void (*out)(const char *line));

/* log.c */
void log_setup(int level, int use_syslog);
int log_level_parse(const char *name);
void log_set_request(const char *reqid);
void log_msg(int level, const char *reqid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(int level, const char *reqid, const char *prefix, const char *fmt, va_list ap);
#define log_error(...)	log_msg(LOG_ERR, NULL, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, NULL, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, NULL, __VA_ARGS__)

/* conf-schema.c and conf-check.c: declarative config tables and the one
 * validator that walks a libconfig tree against them. */
enum conf_type { CT_GROUP, CT_INT, CT_BOOL, CT_STRING, CT_STRING_LIST };
#define CK_REQUIRED	0x1
#define CK_NOEMPTY	0x2	/* strings and lists: must not be empty */
struct conf_key {
	const char *name;
	enum conf_type type;
	unsigned flags;
	long long min, max;		/* ints; string/list length (max 0: none) */
	const char *const *choices;	/* strings and list elements */
	size_t offset;			/* into the destination struct */
	const struct conf_key *children;	/* CT_GROUP: NULL-name terminated */
	long long def;			/* ints and bools */
	const char *defstr;		/* strings */
};
/* Each string extracted is malloc'd into the destination; lists are
 * struct strlist. */
struct strlist {
	char **v;
	size_t n;
};
void strlist_free(struct strlist *l);
int strlist_has(const struct strlist *l, const char *s);
int conf_check_group(const config_setting_t *group, const struct conf_key *keys,
    const char *path, void *dest, struct errlist *errs);
const char *conf_where(const config_setting_t *s, char *buf, size_t len);
extern const struct conf_key conf_root_keys[];

/* conf-load.c: the daemon's whole configuration, one immutable value. */
struct conf_redis {
	char *host;
	long long port;
	char *socket;
	char *password_file;
	char *password;			/* read from password_file */
	long long db;
	long long connect_timeout_ms, command_timeout_ms;
	long long reconnect_min_ms, reconnect_max_ms;
};
struct conf_ldap {
	char *uri;
	int starttls;
	char *ca_file;
	char *bind_dn;
	char *bind_password_file;
	char *bind_password;
	char *base_dn;
	char *user_filter;
	char *organization_attribute;
	long long connect_timeout_ms, op_timeout_ms, pool_size;
	char *role_caseworker, *role_provider, *role_supervisor, *role_admin;
};
struct conf_plugin {
	char *name;
	char *file;			/* plugins.d/NAME.conf */
	config_t *cfg;			/* owns the parsed file */
	const config_setting_t *group;	/* its root group */
};
struct conf {
	char *path;
	struct strlist listen;
	struct {
		char *level;
		char *target;
	} log;
	struct {
		long long body_max, connections_max, request_timeout_ms, drain_ms;
	} limits;
	struct conf_redis redis;
	struct conf_ldap ldap;
	struct {
		long long idle_timeout_s, lifetime_s, max_failures, lockout_s;
		int cookie_secure;
	} sessions;
	struct {
		char *root;
	} web;
	struct {
		char *dir;
		char *conf_dir;
		struct strlist enabled;
	} plugins;
	struct conf_plugin *plugin_conf;	/* one per enabled plugin */
	size_t n_plugin_conf;
	config_t *cfg;
};
struct conf *conf_load(const char *path, struct errlist *errs);
void conf_free(struct conf *c);
const struct conf_plugin *conf_plugin_find(const struct conf *c, const char *name);

/* net-addr.c: numeric "address:port" (IPv6 in brackets); port 0 allowed. */
int addr_parse(const char *s, char *host, size_t hlen, unsigned *port);

/* plugin-load.c: dlopen, descriptor checks, settings checks. */
struct plugin {
	char *name;
	char *path;
	void *dl;
	const struct korpu_plugin *desc;
	struct korpu_plugin_ctx *ctx;
	void *state;
	int started;
};
struct plugin_set {
	struct plugin *v;
	size_t n;
};
int plugin_open(const char *dir, const char *name, struct plugin *p, struct errlist *errs);
int plugin_check_descriptor(const struct korpu_plugin *d, const char *name, struct errlist *errs, const char *where);
int plugin_check_settings(const struct korpu_plugin *d, const struct conf_plugin *cp, struct errlist *errs);
int plugins_open_all(const struct conf *c, struct plugin_set *set, struct errlist *errs);
void plugins_close_all(struct plugin_set *set);
const struct plugin *plugins_find(const struct plugin_set *set, const char *name);
const char *plugin_booking_model_name(enum korpu_booking_model m);
const char *plugin_field_type_name(enum korpu_field_type t);
#define PLUGIN_HOOK(d, hook) \
	((d)->struct_size >= offsetof(struct korpu_plugin, hook) + sizeof((d)->hook) ? (d)->hook : NULL)

/* plugin-host.c: the host table and plugin start/stop. */
struct server;
int plugins_start(struct server *srv, struct errlist *errs);
void plugins_stop(struct server *srv);
void plugins_reconfigure(struct server *srv);
extern const struct korpu_host plugin_host;

/* fields-check.c: a referral's "fields" against an area's field table. */
int fields_check(const struct korpu_field *table, const json_t *fields, struct errlist *errs);
int date_valid(const char *s);

/* server.c: the daemon's state, one per process. */
struct server {
	struct event_base *base;
	struct conf *conf;
	struct plugin_set plugins;
	struct http_server *http;
	struct redis_link *redis;
	struct event *sig_hup, *sig_term, *sig_int;
	struct reload *reload;
	int stopping;
	int foreground;
};

/* reload.c: SIGHUP parses the new config off the loop, then swaps it in. */
struct reload *reload_new(struct server *srv);
void reload_start(struct reload *rl);
void reload_free(struct reload *rl);
void reload_apply(struct server *srv, struct conf *next);

/* shutdown.c */
void shutdown_begin(struct server *srv);

/* redis-link.c: the one hiredis async connection, its reconnects and the
 * per-command timeouts Debian's hiredis 0.14 lacks. */
typedef void (*redis_cb)(struct redisReply *reply, void *arg);
struct redis_link *redis_link_new(struct event_base *base, const struct conf_redis *conf);
void redis_link_start(struct redis_link *l);
int redis_link_ready(const struct redis_link *l);
const char *redis_link_problem(const struct redis_link *l);
void redis_link_reconfigure(struct redis_link *l, const struct conf_redis *conf);
void redis_link_close(struct redis_link *l, void (*done)(void *), void *arg);
void redis_link_free(struct redis_link *l);
int redis_call(struct redis_link *l, redis_cb cb, void *arg, int argc,
    const char **argv, const size_t *lens);
int redis_callf(struct redis_link *l, redis_cb cb, void *arg, const char *fmt, ...);

/* redis-scripts.c: Lua scripts, loaded at connect, run with EVALSHA. */
enum script_id { SCRIPT_SCHEMA, SCRIPT_COUNT };
struct script {
	const char *name;
	const char *source;
	char sha[41];
};
extern struct script redis_scripts[SCRIPT_COUNT];
int redis_script(struct redis_link *l, enum script_id id, redis_cb cb, void *arg,
    int nkeys, int argc, const char **argv, const size_t *lens);
void redis_scripts_reset(void);
#define KORPU_DATA_SCHEMA 1
#define KEY_SCHEMA "korpu:{meta}:schema"

/* embedded.c (generated): files compiled into korpud. */
extern const char embedded_openapi_json[];
extern const char embedded_lua_schema[];

/* http-server.c: listeners, connection cap, dispatch, drain. */
struct http_server *http_server_new(struct server *srv, struct errlist *errs);
void http_server_reconfigure(struct http_server *h);
void http_server_stop_accepting(struct http_server *h);
unsigned http_server_inflight(const struct http_server *h);
void http_server_free(struct http_server *h);
void http_server_on_idle(struct http_server *h, void (*cb)(void *), void *arg);

/* http-router.c: method + path -> route, with {param} segments. */
#define ROUTE_MAX_PARAMS 4
#define ROUTE_PARAM_MAX 128
struct request;
typedef void (*route_fn)(struct request *r);
#define ROUTE_JSON_BODY	0x1	/* the body must be a JSON object */
struct route {
	int method;			/* EVHTTP_REQ_* */
	const char *pattern;		/* "/api/v1/areas/{name}/check" */
	route_fn fn;
	unsigned flags;
};
struct route_match {
	const struct route *route;
	size_t n_params;
	struct {
		const char *name;	/* points into the pattern */
		size_t name_len;
		char value[ROUTE_PARAM_MAX];
	} params[ROUTE_MAX_PARAMS];
	int allowed;			/* methods of routes matching the path */
};
enum route_result { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD };
enum route_result router_match(const struct route *table, size_t n, int method,
    const char *path, struct route_match *m);
void router_allow_header(int allowed, char *buf, size_t len);
int router_percent_decode(const char *in, size_t len, char *out, size_t outlen);

/* routes.c: the one table of every route. */
extern const struct route routes[];
extern const size_t routes_count;

/* http-body.c: a request body to a JSON object, or why not. */
struct body_error {
	int status;			/* 400, 413, 415 */
	char detail[200];
};
json_t *body_parse_json(const char *content_type, const char *data, size_t len,
    size_t max, struct body_error *err);
int body_content_type_is_json(const char *content_type);

/* http-request.c: one request's context, and the only way to answer. */
struct request {
	struct server *srv;
	struct evhttp_request *req;
	char id[65];
	struct route_match match;
	json_t *body;
	int64_t started_us;
	int method;
	char *uri;
	int answered;
};
struct request *request_new(struct server *srv, struct evhttp_request *req);
const char *request_param(const struct request *r, const char *name);
const char *request_header(const struct request *r, const char *name);
void reply_json(struct request *r, int status, json_t *body);
void reply_bytes(struct request *r, int status, const char *content_type,
    const char *data, size_t len);
void reply_problem(struct request *r, int status, const char *detail);
void reply_problem_errors(struct request *r, int status, const char *detail,
    const struct errlist *errs);
void reply_unavailable(struct request *r, const char *what, int retry_after_s);
json_t *problem_new(int status, const char *detail, const struct errlist *errs);
const char *http_reason(int status);
int64_t now_us(void);
#define rlog_info(r, ...)	log_msg(LOG_INFO, (r)->id, __VA_ARGS__)
#define rlog_warn(r, ...)	log_msg(LOG_WARNING, (r)->id, __VA_ARGS__)
#define rlog_error(r, ...)	log_msg(LOG_ERR, (r)->id, __VA_ARGS__)

/* api-*.c: route handlers. */
void api_health(struct request *r);
void api_ready(struct request *r);
void api_areas_list(struct request *r);
void api_area_check(struct request *r);
void api_openapi(struct request *r);
json_t *api_area_json(const struct korpu_plugin *d);

#endif /* KORPUD_H */
