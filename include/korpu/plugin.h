/*
 * korpu/plugin.h - the korpu service-area plugin ABI, version 1.
 *
 * This is the only header a plugin needs, and it is the plugin manual.
 * A plugin is a shared object that exports exactly one symbol,
 * KORPU_PLUGIN_SYMBOL ("korpu_plugin"), a const struct korpu_plugin.
 * korpud dlopen()s it with RTLD_NOW | RTLD_LOCAL, checks the descriptor,
 * validates the plugin's configuration group against the plugin's own
 * settings table, and then calls init() with a host function table.
 * A plugin links against nothing in korpud: everything it may do goes
 * through struct korpu_host.
 *
 * ABI rules
 *  - abi_major changes when anything that exists changes shape or meaning.
 *    korpud refuses a plugin whose abi_major differs from its own, and names
 *    the file and both versions.
 *  - abi_minor grows when something is appended: new hooks at the end of
 *    struct korpu_plugin, new functions at the end of struct korpu_host.
 *    korpud accepts a plugin built against an older or equal minor; a hook
 *    beyond the plugin's struct_size is treated as absent. A plugin built
 *    against a newer minor is refused (it may rely on host functions this
 *    korpud lacks); a plugin can check host->abi_minor itself instead by
 *    setting abi_minor to the lowest minor it needs.
 *  - Nothing is ever removed or reordered within a major version.
 *
 * Threads: every hook is called on korpud's event-loop thread, and every
 * host function must be called on it too. A hook must never block: no
 * sleeping, no synchronous network or disk I/O. Use host->redis_command and
 * host->timer_add for anything that waits.
 *
 * Return values: 0 is success, -1 failure, across the whole ABI.
 * Strings passed to a hook are valid only during that call: copy what you
 * keep.
 */
#ifndef KORPU_PLUGIN_H
#define KORPU_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KORPU_ABI_MAJOR 1
#define KORPU_ABI_MINOR 2

/* The one symbol a plugin exports. */
#define KORPU_PLUGIN_SYMBOL "korpu_plugin"

/* Marks the descriptor as exported when building with -fvisibility=hidden
 * (as pkg-config --cflags korpu-plugin does). */
#define KORPU_PLUGIN_EXPORT __attribute__((visibility("default")))

/* Fills the version stamp at the head of a descriptor. */
#define KORPU_PLUGIN_V1 \
	.abi_major = KORPU_ABI_MAJOR, .abi_minor = KORPU_ABI_MINOR, \
	.struct_size = sizeof(struct korpu_plugin)

/* How an area's appointments are booked (the HTTP API's "Service areas"). */
enum korpu_booking_model {
	KORPU_BOOKING_SLOT = 1,		/* timed, one client per slot */
	KORPU_BOOKING_SESSION = 2,	/* timed, capacity N per session */
	KORPU_BOOKING_SEAT = 3,		/* enrolment capacity over a term */
	KORPU_BOOKING_WAITLIST = 4	/* priority-ordered allocation */
};

/* Types of the extra referral fields an area asks for. */
enum korpu_field_type {
	KORPU_FIELD_STRING = 1,
	KORPU_FIELD_INTEGER = 2,
	KORPU_FIELD_BOOLEAN = 3,
	KORPU_FIELD_DATE = 4,		/* "YYYY-MM-DD" */
	KORPU_FIELD_ENUM = 5		/* one of enum_values */
};

/*
 * One extra referral field: the form schema of GET /api/v1/areas.
 * A plugin's field table ends with an entry whose name is NULL.
 * korpud checks every referral's "fields" object against this table
 * (unknown names, required, type, enum membership, date format, lengths
 * and ranges) before the plugin's validate hook sees it.
 */
struct korpu_field {
	const char *name;		/* [a-z][a-z0-9_]*, unique in the table */
	const char *label;		/* English label; the web client translates */
	enum korpu_field_type type;
	int required;
	const char *const *enum_values;	/* ENUM: NULL-terminated list */
	long long min;			/* INTEGER: smallest value (range checked when min < max) */
	long long max;			/* INTEGER: largest value; STRING: max bytes (0: 1024) */
};

/* Types of a plugin's own configuration settings. */
enum korpu_setting_type {
	KORPU_SETTING_INT = 1,
	KORPU_SETTING_BOOL = 2,
	KORPU_SETTING_STRING = 3,
	KORPU_SETTING_STRING_LIST = 4
};

/*
 * One key of the plugin's configuration group (conf/plugins.d/NAME.conf).
 * korpud validates the group against this table before init(), and
 * `korpud -t` does so without starting the plugin: unknown keys, wrong
 * types and out-of-range values are errors naming file and line.
 * A table ends with an entry whose name is NULL.
 */
struct korpu_setting {
	const char *name;
	enum korpu_setting_type type;
	int required;
	long long min;			/* INT: smallest; STRING: min length */
	long long max;			/* INT: largest; STRING: max length (0: none) */
	const char *const *choices;	/* STRING(_LIST): allowed values, or NULL */
	const char *help;		/* one line for administrators */
};

/* Log levels for host->log. */
enum korpu_log_level {
	KORPU_LOG_ERROR = 3,
	KORPU_LOG_WARNING = 4,
	KORPU_LOG_INFO = 6,
	KORPU_LOG_DEBUG = 7
};

/* Opaque handles owned by korpud. */
struct korpu_plugin_ctx;	/* this plugin's instance, given to init */
struct korpu_reply;		/* a Redis reply, valid only inside its callback */
struct korpu_timer;
struct korpu_referral;		/* a referral being validated or routed */
struct korpu_errors;		/* per-field validation errors being collected */
struct korpu_route;		/* a pending routing decision */

/* Redis reply types, as returned by host->reply_type. */
enum korpu_reply_type {
	KORPU_REPLY_NONE = 0,		/* no reply: timeout or Redis unavailable */
	KORPU_REPLY_STRING = 1,
	KORPU_REPLY_ARRAY = 2,
	KORPU_REPLY_INTEGER = 3,
	KORPU_REPLY_NIL = 4,
	KORPU_REPLY_STATUS = 5,
	KORPU_REPLY_ERROR = 6
};

/*
 * Called exactly once per host->redis_command, on the loop thread.
 * reply is never NULL; its type is KORPU_REPLY_NONE when Redis did not
 * answer within the configured command timeout or is unavailable.
 */
typedef void (*korpu_redis_cb)(const struct korpu_reply *reply, void *arg);

/* Called when a timer fires. */
typedef void (*korpu_timer_cb)(void *arg);

/* Releases a callback argument; may be NULL when there is nothing to free. */
typedef void (*korpu_free_fn)(void *arg);

/*
 * The host function table handed to init(). Check abi_minor before using
 * a function added after the minor you built against.
 */
struct korpu_host {
	uint16_t abi_major;
	uint16_t abi_minor;
	uint32_t struct_size;

	/* Logs a line prefixed with the plugin's name. Never log personal
	 * data, passwords or tokens. */
	void (*log)(struct korpu_plugin_ctx *ctx, enum korpu_log_level level,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

	/* Configuration: the plugin's own group, already validated against
	 * its settings table. A missing optional key yields the default
	 * given, and 0 is returned either way; -1 means the name is not in
	 * the table or has another type. Strings stay valid until fini or
	 * the next reconfigure. */
	int (*config_int)(struct korpu_plugin_ctx *ctx, const char *name,
	    long long def, long long *out);
	int (*config_bool)(struct korpu_plugin_ctx *ctx, const char *name,
	    int def, int *out);
	const char *(*config_string)(struct korpu_plugin_ctx *ctx,
	    const char *name, const char *def);
	/* Number of elements of a STRING_LIST (0 when absent), and one. */
	size_t (*config_list_len)(struct korpu_plugin_ctx *ctx, const char *name);
	const char *(*config_list_at)(struct korpu_plugin_ctx *ctx,
	    const char *name, size_t i);

	/* Sends one Redis command (argv form, binary safe). cb is called
	 * exactly once, then free_arg(arg) if given. Keys must follow the
	 * key schema (docs/redis-keys.md); a plugin's own data goes under
	 * korpu:{AREA}:... with its own area name. Returns -1 when the
	 * command cannot be queued (also during init: Redis connects after
	 * the plugins start); cb is then not called and arg is not freed. */
	int (*redis_command)(struct korpu_plugin_ctx *ctx, korpu_redis_cb cb,
	    void *arg, korpu_free_fn free_arg, int argc, const char **argv,
	    const size_t *argvlen);

	/* Reading a reply inside a korpu_redis_cb. */
	enum korpu_reply_type (*reply_type)(const struct korpu_reply *r);
	long long (*reply_integer)(const struct korpu_reply *r);
	const char *(*reply_string)(const struct korpu_reply *r, size_t *len);
	size_t (*reply_elements)(const struct korpu_reply *r);
	const struct korpu_reply *(*reply_element)(const struct korpu_reply *r,
	    size_t i);

	/* Timers on the event loop. A repeating timer fires every ms until
	 * cancelled; a one-shot one is freed after it fires (do not cancel it
	 * then). timer_cancel frees the timer and calls free_arg. */
	struct korpu_timer *(*timer_add)(struct korpu_plugin_ctx *ctx,
	    unsigned ms, int repeat, korpu_timer_cb cb, void *arg,
	    korpu_free_fn free_arg);
	void (*timer_cancel)(struct korpu_timer *t);

	/* Appends an event to the area's partner stream
	 * (korpu:events:{AREA}): type like "referral.accepted", the id of
	 * the object it concerns, and the provider id or NULL. Identifiers
	 * only, never personal data. */
	int (*emit_event)(struct korpu_plugin_ctx *ctx, const char *type,
	    const char *id, const char *provider_id);

	/* Referral access, inside the hooks given a korpu_referral:
	 * "fields.NAME" (the area's fields), "client.NAME" (the client as the
	 * area's provider sees them: id, names, birth_date, sex, languages,
	 * needs_interpreter, household_id, region, and per area a few more),
	 * "area", "priority". POST /api/v1/areas/{name}/check gives validate
	 * the fields only. referral_integer and referral_boolean return -1
	 * when the value is absent or of another type. */
	const char *(*referral_string)(const struct korpu_referral *ref,
	    const char *name);			/* "fields.X", "client.region", ... */
	int (*referral_integer)(const struct korpu_referral *ref,
	    const char *name, long long *out);
	int (*referral_boolean)(const struct korpu_referral *ref,
	    const char *name, int *out);

	/* Adds a validation error for a field ("fields.grade") with a message
	 * a caseworker can act on. */
	void (*error_add)(struct korpu_errors *errs, const char *field,
	    const char *message);

	/* Ends a routing decision started by the route hook: the chosen
	 * provider id, or NULL to let korpud's default routing decide. */
	void (*route_done)(struct korpu_route *route, const char *provider_id);
};

/* A waitlist score (waitlist_priority, ABI 1.1). */
struct korpu_priority {
	long long points;		/* now */
	long long points_per_day;	/* added for each day waited, >= 0 */
	char explain[300];		/* "household of 5: 50; ..." */
};

/*
 * An event a plugin reacts to (on_event): the same identifiers that go to
 * the partner stream.
 */
struct korpu_event {
	const char *type;		/* "referral.sent", "appointment.booked", ... */
	const char *id;
	const char *area;
	const char *provider_id;	/* may be NULL */
	int64_t at;			/* Unix time, seconds */
};

/*
 * The descriptor. Start it with KORPU_PLUGIN_V1 and export it:
 *
 *	KORPU_PLUGIN_EXPORT const struct korpu_plugin korpu_plugin = {
 *		KORPU_PLUGIN_V1,
 *		.name = "legalaid", ...
 *	};
 */
struct korpu_plugin {
	uint16_t abi_major;
	uint16_t abi_minor;
	uint32_t struct_size;		/* sizeof(struct korpu_plugin) as built */

	const char *name;		/* area name: [a-z][a-z0-9_]{0,31}, unique */
	const char *title;		/* English title for people */
	const char *version;		/* the plugin's own version, e.g. "1.0.0" */
	enum korpu_booking_model booking_model;
	const struct korpu_field *fields;	/* NULL-name terminated */
	const struct korpu_setting *settings;	/* NULL-name terminated, or NULL */

	/* Starts the plugin. *state is the plugin's own pointer handed to
	 * every later hook. On failure return -1 and write a reason into
	 * err (at most errlen bytes); korpud refuses to start and names the
	 * plugin and the reason. */
	int (*init)(const struct korpu_host *host, struct korpu_plugin_ctx *ctx,
	    void **state, char *err, size_t errlen);
	/* Stops the plugin: cancel timers, free state. Optional. */
	void (*fini)(void *state);

	/* Checks a referral's fields and the client's eligibility beyond the
	 * field table (age, permits, ...): host->error_add for each problem.
	 * Returns 0 when it ran (errors or not), -1 on an internal failure.
	 * Optional. */
	int (*validate)(void *state, const struct korpu_referral *ref,
	    struct korpu_errors *errs);

	/* Chooses a provider for a referral made without one. Either call
	 * host->route_done(route, ...) now or later (after Redis answers),
	 * exactly once, and return 0; or return -1 to let korpud's default
	 * routing decide (route is then untouched). korpud waits at most
	 * referrals.route_timeout_ms, then routes by default; a later
	 * route_done is ignored (route stays valid until it, or fini).
	 * Optional. */
	int (*route)(void *state, const struct korpu_referral *ref,
	    struct korpu_route *route);

	/* Reacts to an event of this area, after it was stored. Optional. */
	void (*on_event)(void *state, const struct korpu_event *ev);

	/* The configuration was reloaded (SIGHUP) and this plugin's group
	 * validated: re-read settings through the host. Optional. */
	void (*reconfigure)(void *state);

	/* ---- ABI 1.1 ---- */

	/* KORPU_AREA_* flags. */
	unsigned flags;

	/* How long (seconds) a referral of this area may wait for its first
	 * appointment before supervisors are told (an event on the
	 * notification stream), or 0 for never. Asked once, when the
	 * referral is made. Optional. */
	long long (*escalate_after)(void *state, const struct korpu_referral *ref);

	/* Scores a client joining a waitlist of this area, from the referral
	 * they join with (fields, and the client as a provider sees them):
	 * points now, points added for each day waited, and how the points
	 * were reached, in words a caseworker reads. Higher scores are offered
	 * places first. Returns 0, or -1 to refuse the scoring (the join
	 * fails). Without it, the caseworker's priority (0-100) is the score.
	 * Optional. */
	int (*waitlist_priority)(void *state, const struct korpu_referral *ref,
	    struct korpu_priority *out);

	/* Seat model: the grade a referral's client joins (schools: from
	 * the birth date and the last grade completed), or -1 if the plugin
	 * cannot tell. Used when a school place is taken for a referral
	 * without naming the grade. Optional. */
	int (*seat_grade)(void *state, const struct korpu_referral *ref);

	/* ---- ABI 1.2 ---- */

	/* How long (seconds) a client has to answer a waitlist offer of this
	 * area (a slot, or a school place, held for them until then), or 0
	 * for korpud's own appointments.offer_hold_minutes. Asked each time
	 * an offer is made, so a reconfigure applies from the next offer; an
	 * answer outside 1 second to 365 days counts as 0. Optional. */
	long long (*offer_hold)(void *state);

	/* Room to grow within ABI 1: hooks are appended here. */
};

/* Flags (ABI 1.1). A flag added later comes with a new minor, so an
 * older korpud refuses a plugin that sets it rather than ignore it. */

/* The area books an interpreter in the client's first language whenever
 * the client needs one, unless the booking names a language itself. */
#define KORPU_AREA_INTERPRETER_AUTO 0x1
/* A referral made without a provider goes to the provider (of the area,
 * in the client's region, that may receive it) with the soonest free
 * slot, rather than to the one with the fewest open referrals. */
#define KORPU_AREA_ROUTE_SOONEST 0x2

#ifdef __cplusplus
}
#endif

#endif /* KORPU_PLUGIN_H */
