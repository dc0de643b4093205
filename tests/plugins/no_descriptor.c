/* no_descriptor.c - a shared object that loads but exports no korpu_plugin
 * descriptor (a partner's library enabled by mistake, say). */
#include <korpu/plugin.h>

KORPU_PLUGIN_EXPORT int korpu_pluginn = 1;	/* the name misspelt */
