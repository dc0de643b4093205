/*
 * router.c - a test plugin whose route hook behaves as the referral's
 * fields say (mode): answers at once ("sync") or from a timer ("async")
 * with the provider in route_to, declines ("decline"), never answers
 * ("never"), or answers after korpud gave up waiting ("late"), so that
 * tests/e2e/test_plugin_route.py can check each way korpud goes on.
 */
#include <stdlib.h>
#include <string.h>

#include <korpu/plugin.h>

static const char *const modes[] = { "sync", "async", "decline", "never", "late", NULL };

static const struct korpu_field fields[] = {
	{ "mode", "How the plugin answers", KORPU_FIELD_ENUM, 1, modes, 0, 0 },
	{ "route_to", "Provider to route to", KORPU_FIELD_STRING, 0, NULL, 0, 64 },
	{ NULL, NULL, 0, 0, NULL, 0, 0 }
};

struct router {
	const struct korpu_host *host;
	struct korpu_plugin_ctx *ctx;
};

struct pending {
	struct router *rt;
	struct korpu_route *route;
	char provider[64];
};

static void
answer(void *arg)
{
	struct pending *p = arg;

	p->rt->host->log(p->rt->ctx, KORPU_LOG_INFO, "answering now");
	p->rt->host->route_done(p->route, p->provider[0] ? p->provider : NULL);
}

static int
router_route(void *state, const struct korpu_referral *ref, struct korpu_route *route)
{
	struct router *rt = state;
	const char *mode = rt->host->referral_string(ref, "fields.mode");
	const char *to = rt->host->referral_string(ref, "fields.route_to");
	struct pending *p;

	if (mode == NULL || strcmp(mode, "decline") == 0)
		return -1;
	if (strcmp(mode, "never") == 0)
		return 0;
	if (strcmp(mode, "sync") == 0) {
		rt->host->route_done(route, to);
		return 0;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -1;
	p->rt = rt;
	p->route = route;
	if (to)
		strncpy(p->provider, to, sizeof(p->provider) - 1);
	/* "late": after the test's referrals.route_timeout_ms (300 ms). */
	if (rt->host->timer_add(rt->ctx, strcmp(mode, "late") == 0 ? 900 : 50, 0, answer, p,
	    free) == NULL) {
		free(p);
		return -1;
	}
	return 0;
}

static int
router_init(const struct korpu_host *host, struct korpu_plugin_ctx *ctx, void **state,
    char *err, size_t errlen)
{
	struct router *rt = calloc(1, sizeof(*rt));

	(void)err;
	(void)errlen;
	if (rt == NULL)
		return -1;
	rt->host = host;
	rt->ctx = ctx;
	*state = rt;
	return 0;
}

static void
router_fini(void *state)
{
	free(state);
}

KORPU_PLUGIN_EXPORT const struct korpu_plugin korpu_plugin = {
	KORPU_PLUGIN_V1,
	.name = "router",
	.title = "Route hook check",
	.version = "0.0.1",
	.booking_model = KORPU_BOOKING_SLOT,
	.fields = fields,
	.init = router_init,
	.fini = router_fini,
	.route = router_route,
};
