/*
 * hostcheck.c - a test plugin that exercises the host function table the
 * way a partner's plugin would: a repeating timer that cancels itself from
 * its own callback, a one-shot timer, a Redis command and its reply, an
 * event without a provider, and its own settings. It logs what it saw;
 * tests/e2e/test_plugin_host.py reads the log and the event stream.
 */
#include <stdlib.h>
#include <string.h>

#include <korpu/plugin.h>

static const struct korpu_field fields[] = {
	{ "note", "Note", KORPU_FIELD_STRING, 0, NULL, 0, 100 },
	{ NULL, NULL, 0, 0, NULL, 0, 0 }
};

static const struct korpu_setting settings[] = {
	{ "ticks", KORPU_SETTING_INT, 0, 1, 100, NULL, "ticks before the timer cancels itself" },
	{ "greeting", KORPU_SETTING_STRING, 0, 1, 50, NULL, "logged at start" },
	{ NULL, 0, 0, 0, 0, NULL, NULL }
};

struct hostcheck {
	const struct korpu_host *host;
	struct korpu_plugin_ctx *ctx;
	struct korpu_timer *repeating;
	long long ticks, seen;
};

static void
pinged(const struct korpu_reply *reply, void *arg)
{
	struct hostcheck *h = arg;
	size_t len = 0;
	const char *text = h->host->reply_string(reply, &len);

	h->host->log(h->ctx, KORPU_LOG_INFO, "redis PING: type %d, %.*s",
	    (int)h->host->reply_type(reply), (int)len, text ? text : "");
}

static void
tick(void *arg)
{
	struct hostcheck *h = arg;
	const char *argv[] = { "PING" };

	if (++h->seen < h->ticks)
		return;
	h->host->log(h->ctx, KORPU_LOG_INFO, "timer cancels itself after %lld ticks", h->seen);
	h->host->timer_cancel(h->repeating);	/* from inside its own callback */
	h->repeating = NULL;
	if (h->host->redis_command(h->ctx, pinged, h, NULL, 1, argv, NULL) < 0)
		h->host->log(h->ctx, KORPU_LOG_WARNING, "redis not ready for PING");
	if (h->host->emit_event(h->ctx, "hostcheck.done", "hc-1", NULL) < 0)
		h->host->log(h->ctx, KORPU_LOG_WARNING, "event not queued");
}

static void
once(void *arg)
{
	struct hostcheck *h = arg;

	h->host->log(h->ctx, KORPU_LOG_INFO, "one-shot timer fired");
}

static int
hostcheck_init(const struct korpu_host *host, struct korpu_plugin_ctx *ctx,
    void **state, char *err, size_t errlen)
{
	struct hostcheck *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return -1;
	h->host = host;
	h->ctx = ctx;
	host->config_int(ctx, "ticks", 3, &h->ticks);
	host->log(ctx, KORPU_LOG_INFO, "greeting: %s", host->config_string(ctx, "greeting", "hello"));
	/* Redis connects after plugins start: begin once it may be up. */
	h->repeating = host->timer_add(ctx, 300, 1, tick, h, NULL);
	host->timer_add(ctx, 50, 0, once, h, NULL);
	*state = h;
	return h->repeating ? 0 : -1;
}

static void
hostcheck_fini(void *state)
{
	struct hostcheck *h = state;

	if (h->repeating)
		h->host->timer_cancel(h->repeating);
	free(h);
}

KORPU_PLUGIN_EXPORT const struct korpu_plugin korpu_plugin = {
	KORPU_PLUGIN_V1,
	.name = "hostcheck",
	.title = "Host API check",
	.version = "0.0.1",
	.booking_model = KORPU_BOOKING_SLOT,
	.fields = fields,
	.settings = settings,
	.init = hostcheck_init,
	.fini = hostcheck_fini,
};
