/* init_fails.c - a well-formed plugin whose init refuses to start. */
#include <stdio.h>

#include <korpu/plugin.h>

static const struct korpu_field fields[] = {
	{ "note", "Note", KORPU_FIELD_STRING, 0, NULL, 0, 100 },
	{ NULL, NULL, 0, 0, NULL, 0, 0 }
};

static const struct korpu_setting settings[] = {
	{ "reason", KORPU_SETTING_STRING, 0, 1, 100, NULL, "why init fails" },
	{ NULL, 0, 0, 0, 0, NULL, NULL }
};

static int
init_fails_init(const struct korpu_host *host, struct korpu_plugin_ctx *ctx,
    void **state, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", host->config_string(ctx, "reason", "the partner system is not reachable"));
	return -1;
}

KORPU_PLUGIN_EXPORT const struct korpu_plugin korpu_plugin = {
	KORPU_PLUGIN_V1,
	.name = "init_fails",
	.title = "Fails to start",
	.version = "0.0.1",
	.booking_model = KORPU_BOOKING_SLOT,
	.fields = fields,
	.settings = settings,
	.init = init_fails_init,
};
