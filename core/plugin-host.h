/*
 * plugin-host.h - what the opaque handles of korpu/plugin.h are inside
 * korpud. Only plugin-host.c and the code that makes these handles (the
 * referral and routing paths) include it.
 */
#ifndef PLUGIN_HOST_H
#define PLUGIN_HOST_H

#include "korpud.h"

struct korpu_plugin_ctx {
	struct server *srv;
	struct plugin *plugin;
	const config_setting_t *group;	/* in srv->conf; NULL: no file */
};

/* A referral as plugins see it: {"fields":{...},"client":{...},...}. */
struct korpu_referral {
	const json_t *doc;
};

/*
 * A routing decision a plugin's route hook took on (route_ask). The
 * request goes on when the plugin calls route_done or when
 * referrals.route_timeout_ms passes, whichever is first; the handle
 * itself lives until the plugin is done with it too, so a late
 * route_done finds it still there and is ignored. One never called is
 * freed when the plugins stop.
 */
struct korpu_route {
	struct korpu_route *prev, *next;	/* the outstanding ones */
	void (*done)(void *arg, const char *provider_id);
	void *arg;
	struct event *deadline;
	char plugin[64];
	int in_hook;			/* the hook is running */
	int answered;			/* done was called (plugin or deadline) */
	int plugin_done;		/* the plugin called route_done */
};

/* Asks plugin p's route hook to choose a provider for ref: done(arg,
 * provider_id or NULL: route by default) comes once, now or later.
 * Returns -1 when the plugin declines (or memory ran out): nothing is
 * called then, and the caller routes by default itself. */
int route_ask(struct server *srv, const struct plugin *p, const struct korpu_referral *ref,
    void (*done)(void *arg, const char *provider_id), void *arg);

#endif
