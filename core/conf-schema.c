/*
 * conf-schema.c - every key of korpud.conf: its type, range, default and
 * where it lands in struct conf. conf/korpud.conf documents each one for
 * administrators; this table is what enforces them.
 */
#include <stddef.h>

#include "korpud.h"

#define O(field) offsetof(struct conf, field)
#define INT(n, f, lo, hi, d)	{ n, CT_INT, 0, lo, hi, NULL, O(f), NULL, d, NULL }
#define BOOL(n, f, d)		{ n, CT_BOOL, 0, 0, 0, NULL, O(f), NULL, d, NULL }
#define STR(n, f, fl, ch, d)	{ n, CT_STRING, fl, 0, 4096, ch, O(f), NULL, 0, d }
#define LIST(n, f, fl, max, ch)	{ n, CT_STRING_LIST, fl, 0, max, ch, O(f), NULL, 0, NULL }
#define GROUP(n, fl, kids)	{ n, CT_GROUP, fl, 0, 0, NULL, 0, kids, 0, NULL }
#define END			{ NULL, 0, 0, 0, 0, NULL, 0, NULL, 0, NULL }

static const char *const log_levels[] = { "error", "warning", "info", "debug", NULL };
static const char *const log_targets[] = { "stderr", "syslog", NULL };

static const struct conf_key log_keys[] = {
	STR("level", log.level, 0, log_levels, "info"),
	STR("target", log.target, 0, log_targets, "stderr"),
	END
};

static const struct conf_key limit_keys[] = {
	INT("body_max", limits.body_max, 1024, 16 * 1024 * 1024, 65536),
	INT("import_max", limits.import_max, 65536, 64 * 1024 * 1024, 4 * 1024 * 1024),
	INT("connections_max", limits.connections_max, 1, 1000000, 1024),
	INT("request_timeout_ms", limits.request_timeout_ms, 100, 600000, 30000),
	INT("drain_ms", limits.drain_ms, 0, 600000, 10000),
	LIST("trusted_proxies", limits.trusted_proxies, 0, 64, NULL),
	END
};

static const struct conf_key redis_keys[] = {
	STR("host", redis.host, 0, NULL, "127.0.0.1"),
	INT("port", redis.port, 1, 65535, 6379),
	STR("socket", redis.socket, 0, NULL, NULL),
	STR("password_file", redis.password_file, 0, NULL, NULL),
	INT("db", redis.db, 0, 15, 0),
	INT("connect_timeout_ms", redis.connect_timeout_ms, 10, 60000, 1000),
	INT("command_timeout_ms", redis.command_timeout_ms, 10, 60000, 1000),
	INT("reconnect_min_ms", redis.reconnect_min_ms, 10, 60000, 100),
	INT("reconnect_max_ms", redis.reconnect_max_ms, 10, 300000, 5000),
	END
};

static const struct conf_key role_keys[] = {
	STR("caseworker", ldap.role_caseworker, CK_NOEMPTY, NULL, NULL),
	STR("provider", ldap.role_provider, CK_NOEMPTY, NULL, NULL),
	STR("supervisor", ldap.role_supervisor, CK_NOEMPTY, NULL, NULL),
	STR("admin", ldap.role_admin, CK_NOEMPTY, NULL, NULL),
	END
};

static const struct conf_key ldap_keys[] = {
	STR("uri", ldap.uri, CK_REQUIRED | CK_NOEMPTY, NULL, NULL),
	BOOL("starttls", ldap.starttls, 0),
	STR("ca_file", ldap.ca_file, 0, NULL, NULL),
	STR("bind_dn", ldap.bind_dn, CK_REQUIRED | CK_NOEMPTY, NULL, NULL),
	STR("bind_password_file", ldap.bind_password_file, CK_REQUIRED | CK_NOEMPTY, NULL, NULL),
	STR("base_dn", ldap.base_dn, CK_REQUIRED | CK_NOEMPTY, NULL, NULL),
	STR("user_filter", ldap.user_filter, 0, NULL, "(uid=%s)"),
	STR("organization_attribute", ldap.organization_attribute, 0, NULL, "o"),
	STR("areas_attribute", ldap.areas_attribute, 0, NULL, "businessCategory"),
	STR("uid_attribute", ldap.uid_attribute, CK_NOEMPTY, NULL, "uid"),
	INT("connect_timeout_ms", ldap.connect_timeout_ms, 10, 60000, 2000),
	INT("op_timeout_ms", ldap.op_timeout_ms, 10, 60000, 3000),
	INT("pool_size", ldap.pool_size, 1, 64, 4),
	GROUP("roles", CK_REQUIRED, role_keys),
	END
};

static const struct conf_key session_keys[] = {
	INT("idle_timeout_s", sessions.idle_timeout_s, 1, 86400, 1800),
	INT("lifetime_s", sessions.lifetime_s, 1, 7 * 86400, 43200),
	BOOL("cookie_secure", sessions.cookie_secure, 0),
	INT("max_failures", sessions.max_failures, 1, 1000, 5),
	INT("max_failures_per_address", sessions.max_failures_per_address, 1, 100000, 50),
	INT("lockout_s", sessions.lockout_s, 1, 86400, 300),
	INT("lockout_max_s", sessions.lockout_max_s, 1, 7 * 86400, 86400),
	END
};

static const struct conf_key web_keys[] = {
	STR("root", web.root, CK_REQUIRED | CK_NOEMPTY, NULL, NULL),
	END
};

static const struct conf_key metrics_keys[] = {
	LIST("allow", metrics.allow, 0, 64, NULL),
	END
};

static const struct conf_key audit_keys[] = {
	STR("file", audit.file, CK_NOEMPTY, NULL, "audit.jsonl"),
	END
};

static const struct conf_key plugin_keys[] = {
	STR("dir", plugins.dir, CK_REQUIRED | CK_NOEMPTY, NULL, NULL),
	STR("conf_dir", plugins.conf_dir, 0, NULL, "plugins.d"),
	LIST("enabled", plugins.enabled, 0, 64, NULL),
	END
};

static const struct conf_key appointment_keys[] = {
	LIST("reminders", appointments.reminders, 0, 8, NULL),
	INT("offer_hold_minutes", appointments.offer_hold_minutes, 1, 7 * 24 * 60, 120),
	END
};

static const struct conf_key referral_keys[] = {
	INT("answer_deadline_hours", referrals.answer_deadline_hours, 1, 24 * 365, 72),
	INT("idempotency_hours", referrals.idempotency_hours, 1, 24 * 7, 24),
	INT("route_timeout_ms", referrals.route_timeout_ms, 50, 60000, 5000),
	END
};

const struct conf_key conf_root_keys[] = {
	LIST("listen", listen, CK_REQUIRED | CK_NOEMPTY, 16, NULL),
	LIST("regions", regions, 0, 256, NULL),
	GROUP("referrals", 0, referral_keys),
	GROUP("appointments", 0, appointment_keys),
	GROUP("log", 0, log_keys),
	GROUP("limits", 0, limit_keys),
	GROUP("redis", CK_REQUIRED, redis_keys),
	GROUP("ldap", CK_REQUIRED, ldap_keys),
	GROUP("sessions", 0, session_keys),
	GROUP("web", CK_REQUIRED, web_keys),
	GROUP("audit", 0, audit_keys),
	GROUP("metrics", 0, metrics_keys),
	GROUP("plugins", CK_REQUIRED, plugin_keys),
	END
};
