/* newer_minor.c - needs a newer ABI minor than korpud offers: refused. */
#include <korpu/plugin.h>

static const struct korpu_field fields[] = { { 0 } };

static int
newer_minor_init(const struct korpu_host *host, struct korpu_plugin_ctx *ctx,
    void **state, char *err, size_t errlen)
{
	return 0;
}

KORPU_PLUGIN_EXPORT const struct korpu_plugin korpu_plugin = {
	.abi_major = KORPU_ABI_MAJOR,
	.abi_minor = KORPU_ABI_MINOR + 1,
	.struct_size = sizeof(struct korpu_plugin),
	.name = "newer_minor",
	.title = "Needs a newer korpud",
	.version = "0.0.1",
	.booking_model = KORPU_BOOKING_SLOT,
	.fields = fields,
	.init = newer_minor_init,
};
