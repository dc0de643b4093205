/* wrong_abi.c - a plugin stamped with ABI major 2: korpud must refuse it. */
#include <korpu/plugin.h>

static const struct korpu_field fields[] = { { 0 } };

static int
wrong_abi_init(const struct korpu_host *host, struct korpu_plugin_ctx *ctx,
    void **state, char *err, size_t errlen)
{
	return 0;
}

KORPU_PLUGIN_EXPORT const struct korpu_plugin korpu_plugin = {
	.abi_major = KORPU_ABI_MAJOR + 1,
	.abi_minor = 0,
	.struct_size = sizeof(struct korpu_plugin),
	.name = "wrong_abi",
	.title = "Built against another ABI",
	.version = "0.0.1",
	.booking_model = KORPU_BOOKING_SLOT,
	.fields = fields,
	.init = wrong_abi_init,
};
