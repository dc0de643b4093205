/*
 * plugin-host.c - the host function table plugins call, and starting and
 * stopping them. Everything a plugin can do to korpud passes through
 * here, so plugins never link against core internals.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "korpud.h"
#include "plugin-host.h"

static void
host_log(struct korpu_plugin_ctx *ctx, enum korpu_log_level level, const char *fmt, ...)
{
	char prefix[64];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "plugin %s: ", ctx->plugin->name);
	va_start(ap, fmt);
	log_vmsg((int)level, NULL, prefix, fmt, ap);
	va_end(ap);
}

/* The setting as declared by the plugin, or NULL. */
static const struct korpu_setting *
declared(struct korpu_plugin_ctx *ctx, const char *name, enum korpu_setting_type type)
{
	for (const struct korpu_setting *s = ctx->plugin->desc->settings; s && s->name; s++)
		if (strcmp(s->name, name) == 0)
			return s->type == type ? s : NULL;
	return NULL;
}

static const config_setting_t *
member(struct korpu_plugin_ctx *ctx, const char *name)
{
	return ctx->group ? config_setting_get_member(ctx->group, name) : NULL;
}

static int
host_config_int(struct korpu_plugin_ctx *ctx, const char *name, long long def, long long *out)
{
	const config_setting_t *s;

	if (declared(ctx, name, KORPU_SETTING_INT) == NULL)
		return -1;
	s = member(ctx, name);
	*out = s ? config_setting_get_int64(s) : def;
	return 0;
}

static int
host_config_bool(struct korpu_plugin_ctx *ctx, const char *name, int def, int *out)
{
	const config_setting_t *s;

	if (declared(ctx, name, KORPU_SETTING_BOOL) == NULL)
		return -1;
	s = member(ctx, name);
	*out = s ? config_setting_get_bool(s) : def;
	return 0;
}

static const char *
host_config_string(struct korpu_plugin_ctx *ctx, const char *name, const char *def)
{
	const config_setting_t *s;

	if (declared(ctx, name, KORPU_SETTING_STRING) == NULL)
		return def;
	s = member(ctx, name);
	return s ? config_setting_get_string(s) : def;
}

static size_t
host_config_list_len(struct korpu_plugin_ctx *ctx, const char *name)
{
	const config_setting_t *s;

	if (declared(ctx, name, KORPU_SETTING_STRING_LIST) == NULL)
		return 0;
	s = member(ctx, name);
	return s ? (size_t)config_setting_length(s) : 0;
}

static const char *
host_config_list_at(struct korpu_plugin_ctx *ctx, const char *name, size_t i)
{
	const config_setting_t *s;

	if (declared(ctx, name, KORPU_SETTING_STRING_LIST) == NULL)
		return NULL;
	s = member(ctx, name);
	if (s == NULL || i >= (size_t)config_setting_length(s))
		return NULL;
	return config_setting_get_string_elem(s, (int)i);
}

/* A reply handed to plugins is a hiredis reply, read only through the
 * accessors below; "no reply" is this sentinel. */
static const redisReply no_reply = { .type = 0 };

struct plugin_call {
	korpu_redis_cb cb;
	void *arg;
	korpu_free_fn free_arg;
};

static void
plugin_call_done(redisReply *reply, void *arg)
{
	struct plugin_call *pc = arg;

	pc->cb((const struct korpu_reply *)(reply ? reply : &no_reply), pc->arg);
	if (pc->free_arg)
		pc->free_arg(pc->arg);
	free(pc);
}

static int
host_redis_command(struct korpu_plugin_ctx *ctx, korpu_redis_cb cb, void *arg,
    korpu_free_fn free_arg, int argc, const char **argv, const size_t *argvlen)
{
	struct plugin_call *pc;

	if (cb == NULL || argc < 1 || (pc = malloc(sizeof(*pc))) == NULL)
		return -1;
	pc->cb = cb;
	pc->arg = arg;
	pc->free_arg = free_arg;
	if (redis_call(ctx->srv->redis, plugin_call_done, pc, argc, argv, argvlen) < 0) {
		free(pc);
		return -1;
	}
	return 0;
}

static enum korpu_reply_type
host_reply_type(const struct korpu_reply *r)
{
	const redisReply *rr = (const redisReply *)r;

	if (rr == NULL || rr->type < REDIS_REPLY_STRING || rr->type > REDIS_REPLY_ERROR)
		return KORPU_REPLY_NONE;
	return (enum korpu_reply_type)rr->type;
}

static long long
host_reply_integer(const struct korpu_reply *r)
{
	const redisReply *rr = (const redisReply *)r;

	return host_reply_type(r) == KORPU_REPLY_INTEGER ? rr->integer : 0;
}

static const char *
host_reply_string(const struct korpu_reply *r, size_t *len)
{
	const redisReply *rr = (const redisReply *)r;
	enum korpu_reply_type t = host_reply_type(r);

	if (t != KORPU_REPLY_STRING && t != KORPU_REPLY_STATUS && t != KORPU_REPLY_ERROR) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = rr->len;
	return rr->str;
}

static size_t
host_reply_elements(const struct korpu_reply *r)
{
	const redisReply *rr = (const redisReply *)r;

	return host_reply_type(r) == KORPU_REPLY_ARRAY ? rr->elements : 0;
}

static const struct korpu_reply *
host_reply_element(const struct korpu_reply *r, size_t i)
{
	const redisReply *rr = (const redisReply *)r;

	if (i >= host_reply_elements(r))
		return (const struct korpu_reply *)&no_reply;
	return (const struct korpu_reply *)rr->element[i];
}

struct korpu_timer {
	struct event *ev;
	korpu_timer_cb cb;
	void *arg;
	korpu_free_fn free_arg;
	int repeat;
	int firing;			/* inside cb: a cancel only marks it */
	int cancelled;
};

static void
timer_free(struct korpu_timer *t)
{
	event_free(t->ev);
	if (t->free_arg)
		t->free_arg(t->arg);
	free(t);
}

static void
timer_fired(evutil_socket_t fd, short what, void *arg)
{
	struct korpu_timer *t = arg;

	t->firing = 1;
	t->cb(t->arg);
	t->firing = 0;
	if (!t->repeat || t->cancelled)
		timer_free(t);
}

static struct korpu_timer *
host_timer_add(struct korpu_plugin_ctx *ctx, unsigned ms, int repeat,
    korpu_timer_cb cb, void *arg, korpu_free_fn free_arg)
{
	struct korpu_timer *t = calloc(1, sizeof(*t));
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (t == NULL || cb == NULL)
		goto fail;
	t->ev = event_new(ctx->srv->base, -1, repeat ? EV_PERSIST : 0, timer_fired, t);
	if (t->ev == NULL)
		goto fail;
	t->cb = cb;
	t->arg = arg;
	t->free_arg = free_arg;
	t->repeat = repeat;
	if (event_add(t->ev, &tv) < 0) {
		event_free(t->ev);
		goto fail;
	}
	return t;
fail:
	free(t);
	return NULL;
}

/* A timer may cancel itself from its own callback: it is freed once the
 * callback has returned. */
static void
host_timer_cancel(struct korpu_timer *t)
{
	if (t == NULL)
		return;
	if (t->firing) {
		t->cancelled = 1;
		event_del(t->ev);
		return;
	}
	timer_free(t);
}

static void
event_stored(redisReply *reply, void *arg)
{
	if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
		log_warn("event stream append failed: %s",
		    reply ? reply->str : "Redis did not answer");
}

static int
host_emit_event(struct korpu_plugin_ctx *ctx, const char *type, const char *id,
    const char *provider_id)
{
	char key[96], at[32], event[ID_MAX];
	struct timespec ts;

	/* Relayed events carry their outbox id; a plugin's own get a fresh
	 * id, so partners dedupe every event the same way. */
	if (type == NULL || id == NULL || id_new(event, sizeof(event), NULL) < 0)
		return -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(key, sizeof(key), "korpu:events:{%s}", ctx->plugin->name);
	time_format_ms((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, at, sizeof(at));
	{
		const char *argv[] = { "XADD", key, "MAXLEN", "~", "1000000", "*",
		    "type", type, "id", id, "at", at, "area", ctx->plugin->name,
		    "provider_id", provider_id ? provider_id : "", "event", event };
		return redis_call(ctx->srv->redis, event_stored, NULL,
		    (int)(sizeof(argv) / sizeof(argv[0])), argv, NULL);
	}
}

/* "fields.grade" -> the JSON value, or NULL. */
static const json_t *
referral_value(const struct korpu_referral *ref, const char *name)
{
	const char *dot = name ? strchr(name, '.') : NULL;
	const json_t *parent;
	char head[32];

	if (ref == NULL || dot == NULL || (size_t)(dot - name) >= sizeof(head))
		return NULL;
	memcpy(head, name, (size_t)(dot - name));
	head[dot - name] = '\0';
	parent = json_object_get(ref->doc, head);
	return parent ? json_object_get(parent, dot + 1) : NULL;
}

static const char *
host_referral_string(const struct korpu_referral *ref, const char *name)
{
	return json_string_value(referral_value(ref, name));
}

static int
host_referral_integer(const struct korpu_referral *ref, const char *name, long long *out)
{
	const json_t *v = referral_value(ref, name);

	if (!json_is_integer(v))
		return -1;
	*out = json_integer_value(v);
	return 0;
}

static int
host_referral_boolean(const struct korpu_referral *ref, const char *name, int *out)
{
	const json_t *v = referral_value(ref, name);

	if (!json_is_boolean(v))
		return -1;
	*out = json_is_true(v);
	return 0;
}

static void
host_error_add(struct korpu_errors *errs, const char *field, const char *message)
{
	errlist_add((struct errlist *)errs, field, "%s", message ? message : "is not valid");
}

/* Routing decisions handed to plugins and not yet given back. */
static struct korpu_route *outstanding;

static void
route_free(struct korpu_route *route)
{
	if (route->prev)
		route->prev->next = route->next;
	else if (outstanding == route)
		outstanding = route->next;
	if (route->next)
		route->next->prev = route->prev;
	if (route->deadline)
		event_free(route->deadline);
	free(route);
}

static void
host_route_done(struct korpu_route *route, const char *provider_id)
{
	if (route == NULL || route->plugin_done)
		return;
	route->plugin_done = 1;
	if (!route->answered) {
		route->answered = 1;
		route->done(route->arg, provider_id);
	} else {
		log_warn("plugin %s: route_done came after referrals.route_timeout_ms; "
		    "the referral was routed by default", route->plugin);
	}
	if (!route->in_hook)
		route_free(route);	/* else route_ask frees it */
}

/* The plugin took too long: route by default, keep the handle for the
 * plugin's late route_done. */
static void
route_expired(evutil_socket_t fd, short what, void *arg)
{
	struct korpu_route *route = arg;

	(void)fd;
	(void)what;
	if (route->answered)
		return;
	route->answered = 1;
	log_warn("plugin %s: no route_done within referrals.route_timeout_ms; routing by default",
	    route->plugin);
	route->done(route->arg, NULL);
}

int
route_ask(struct server *srv, const struct plugin *p, const struct korpu_referral *ref,
    void (*done)(void *arg, const char *provider_id), void *arg)
{
	int (*hook)(void *, const struct korpu_referral *, struct korpu_route *) =
	    PLUGIN_HOOK(p->desc, route);
	struct korpu_route *route;
	struct timeval tv;
	int rc;

	if (hook == NULL || (route = calloc(1, sizeof(*route))) == NULL)
		return -1;
	route->done = done;
	route->arg = arg;
	snprintf(route->plugin, sizeof(route->plugin), "%s", p->name);
	route->deadline = evtimer_new(srv->base, route_expired, route);
	if (route->deadline == NULL) {
		free(route);
		return -1;
	}
	route->next = outstanding;
	if (outstanding)
		outstanding->prev = route;
	outstanding = route;
	route->in_hook = 1;
	rc = hook(p->state, ref, route);
	route->in_hook = 0;
	if (route->plugin_done || rc < 0) {
		/* Answered during the hook, or declined (then nothing was
		 * called: the caller routes by default). */
		int answered = route->answered;
		route_free(route);
		return answered ? 0 : -1;
	}
	tv.tv_sec = (time_t)(srv->conf->referrals.route_timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(srv->conf->referrals.route_timeout_ms % 1000) * 1000;
	evtimer_add(route->deadline, &tv);
	return 0;
}

const struct korpu_host plugin_host = {
	.abi_major = KORPU_ABI_MAJOR,
	.abi_minor = KORPU_ABI_MINOR,
	.struct_size = sizeof(struct korpu_host),
	.log = host_log,
	.config_int = host_config_int,
	.config_bool = host_config_bool,
	.config_string = host_config_string,
	.config_list_len = host_config_list_len,
	.config_list_at = host_config_list_at,
	.redis_command = host_redis_command,
	.reply_type = host_reply_type,
	.reply_integer = host_reply_integer,
	.reply_string = host_reply_string,
	.reply_elements = host_reply_elements,
	.reply_element = host_reply_element,
	.timer_add = host_timer_add,
	.timer_cancel = host_timer_cancel,
	.emit_event = host_emit_event,
	.referral_string = host_referral_string,
	.referral_integer = host_referral_integer,
	.referral_boolean = host_referral_boolean,
	.error_add = host_error_add,
	.route_done = host_route_done,
};

/* Runs every plugin's init; a failure stops korpud from starting. */
int
plugins_start(struct server *srv, struct errlist *errs)
{
	for (size_t i = 0; i < srv->plugins.n; i++) {
		struct plugin *p = &srv->plugins.v[i];
		const struct conf_plugin *cp = conf_plugin_find(srv->conf, p->name);
		char reason[256] = "";
		char where[512];

		p->ctx = calloc(1, sizeof(*p->ctx));
		if (p->ctx == NULL)
			return -1;
		p->ctx->srv = srv;
		p->ctx->plugin = p;
		p->ctx->group = cp ? cp->group : NULL;
		if (p->desc->init(&plugin_host, p->ctx, &p->state, reason, sizeof(reason)) != 0) {
			snprintf(where, sizeof(where), "plugin %s (%s)", p->name, p->path);
			errlist_add(errs, where, "init failed: %s",
			    reason[0] ? reason : "no reason given");
			return -1;
		}
		p->started = 1;
		log_info("plugin %s %s loaded: %s, booking model %s", p->name,
		    p->desc->version, p->desc->title,
		    plugin_booking_model_name(p->desc->booking_model));
	}
	return 0;
}

void
plugins_stop(struct server *srv)
{
	for (size_t i = srv->plugins.n; i-- > 0;) {
		struct plugin *p = &srv->plugins.v[i];
		void (*fini)(void *) = p->desc ? PLUGIN_HOOK(p->desc, fini) : NULL;

		if (p->started && fini)
			fini(p->state);
		p->started = 0;
		free(p->ctx);
		p->ctx = NULL;
	}
	while (outstanding)		/* plugins that never answered */
		route_free(outstanding);
}

/* Points each running plugin at its group in the new config and tells it. */
void
plugins_reconfigure(struct server *srv)
{
	for (size_t i = 0; i < srv->plugins.n; i++) {
		struct plugin *p = &srv->plugins.v[i];
		const struct conf_plugin *cp = conf_plugin_find(srv->conf, p->name);
		void (*hook)(void *) = PLUGIN_HOOK(p->desc, reconfigure);

		if (!p->started)
			continue;
		p->ctx->group = cp ? cp->group : NULL;
		if (hook)
			hook(p->state);
	}
}
