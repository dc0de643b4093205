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

struct korpu_route {
	void (*done)(void *arg, const char *provider_id);
	void *arg;
	int finished;
};

#endif
