/*
 * korpud.h - core's one internal header, with a banner per source file.
 * Plugins never include this: they see only include/korpu/plugin.h.
 */
#ifndef KORPUD_H
#define KORPUD_H

#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#include <libconfig.h>
#include <jansson.h>
#include <event2/keyvalq_struct.h>

#include "korpu/plugin.h"

struct event_base;
struct event;
struct evhttp_request;
struct redis_link;
struct http_server;
struct redisReply;

/* errlist.c: a list of (where, message) pairs: config errors ("file:line")
 * and validation errors ("fields.grade") alike. */
struct errent {
	char *where;
	char *message;
};
struct errlist {
	struct errent *v;
	size_t n, cap;
};
void errlist_add(struct errlist *e, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void errlist_free(struct errlist *e);
void errlist_print(const struct errlist *e, const char *prefix, void (*out)(const char *line));

/* log.c */
void log_setup(int level, int use_syslog);
int log_level_parse(const char *name);
void log_set_request(const char *reqid);
void log_msg(int level, const char *reqid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(int level, const char *reqid, const char *prefix, const char *fmt, va_list ap);
#define log_error(...)	log_msg(LOG_ERR, NULL, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, NULL, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, NULL, __VA_ARGS__)

/* web-files.c: the web client's files, read into memory with the config. */
struct web_file {
	char *path;			/* "/js/app.js" */
	char *body;
	size_t len;
	const char *type;		/* Content-Type */
	char etag[24];
	char *gz;			/* the body gzipped, when that is smaller */
	size_t gz_len;
	char etag_gz[28];
};
struct web_files {
	struct web_file *v;		/* sorted by path */
	size_t n;
};
struct web_files *web_files_load(const char *root, const char *where, struct errlist *errs);
void web_files_free(struct web_files *wf);
const struct web_file *web_files_find(const struct web_files *wf, const char *path);
const char *web_type_of(const char *name);
int web_etag_listed(const char *if_none_match, const char *etag);
int web_takes_gzip(const char *accept_encoding);
struct request;
void web_serve(struct request *r, const char *path);

/* conf-schema.c and conf-check.c: declarative config tables and the one
 * validator that walks a libconfig tree against them. */
enum conf_type { CT_GROUP, CT_INT, CT_BOOL, CT_STRING, CT_STRING_LIST };
#define CK_REQUIRED	0x1
#define CK_NOEMPTY	0x2	/* strings and lists: must not be empty */
struct conf_key {
	const char *name;
	enum conf_type type;
	unsigned flags;
	long long min, max;		/* ints; string/list length (max 0: none) */
	const char *const *choices;	/* strings and list elements */
	size_t offset;			/* into the destination struct */
	const struct conf_key *children;	/* CT_GROUP: NULL-name terminated */
	long long def;			/* ints and bools */
	const char *defstr;		/* strings */
};
/* Each string extracted is malloc'd into the destination; lists are
 * struct strlist. */
struct strlist {
	char **v;
	size_t n;
};
void strlist_free(struct strlist *l);
int strlist_has(const struct strlist *l, const char *s);
int conf_check_group(const config_setting_t *group, const struct conf_key *keys,
    const char *path, void *dest, struct errlist *errs);
const char *conf_where(const config_setting_t *s, char *buf, size_t len);
extern const struct conf_key conf_root_keys[];

/* conf-load.c: the daemon's whole configuration, one immutable value. */
struct conf_redis {
	char *host;
	long long port;
	char *socket;
	char *password_file;
	char *password;			/* read from password_file */
	long long db;
	long long connect_timeout_ms, command_timeout_ms;
	long long reconnect_min_ms, reconnect_max_ms;
};
struct conf_ldap {
	char *uri;
	int starttls;
	char *ca_file;
	char *bind_dn;
	char *bind_password_file;
	char *bind_password;
	char *base_dn;
	char *user_filter;
	char *organization_attribute;
	char *areas_attribute;
	char *uid_attribute;
	long long connect_timeout_ms, op_timeout_ms, pool_size;
	char *role_caseworker, *role_provider, *role_supervisor, *role_admin;
};
struct conf_plugin {
	char *name;
	char *file;			/* plugins.d/NAME.conf */
	config_t *cfg;			/* owns the parsed file */
	const config_setting_t *group;	/* its root group */
};
struct conf {
	char *path;
	struct strlist listen;
	struct {
		char *level;
		char *target;
	} log;
	struct {
		long long body_max, import_max, connections_max, request_timeout_ms, drain_ms;
		struct strlist trusted_proxies;
	} limits;
	struct conf_redis redis;
	struct conf_ldap ldap;
	struct {
		long long idle_timeout_s, lifetime_s, max_failures, max_failures_per_address;
		long long lockout_s, lockout_max_s;
		int cookie_secure;
	} sessions;
	struct strlist regions;		/* region slugs; ["main"] when none given */
	struct {
		long long answer_deadline_hours;	/* an area's file may override */
		long long idempotency_hours;
		long long route_timeout_ms;	/* a plugin's route hook, at most */
	} referrals;
	struct {
		struct strlist reminders;	/* lead times: "24h", "2h", "30m" */
		long long reminder_ms[8];	/* ... parsed, in ms */
		size_t n_reminders;
		long long offer_hold_minutes;
	} appointments;
	struct {
		char *root;
		struct web_files *files;	/* read with the config */
	} web;
	struct {
		char *file;
	} audit;
	struct {
		struct strlist allow;	/* may scrape /metrics; loopback when not set */
	} metrics;
	struct {
		char *dir;
		char *conf_dir;
		struct strlist enabled;
	} plugins;
	struct conf_plugin *plugin_conf;	/* one per enabled plugin */
	size_t n_plugin_conf;
	config_t *cfg;
};
struct conf *conf_load(const char *path, struct errlist *errs);
void conf_free(struct conf *c);
const struct conf_plugin *conf_plugin_find(const struct conf *c, const char *name);
int conf_region_known(const struct conf *c, const char *region);
long long conf_answer_deadline_hours(const struct conf *c, const char *area);
/* Keys korpud itself reads from every area's file, besides the plugin's. */
#define CONF_AREA_DEADLINE "answer_deadline_hours"

/* net-addr.c: numeric "address:port" (IPv6 in brackets); port 0 allowed. */
int addr_parse(const char *s, char *host, size_t hlen, unsigned *port);
int addr_is_ip(const char *s);
void addr_client(const char *peer, const char *forwarded, const struct strlist *trusted,
    char *out, size_t len);

/* plugin-load.c: dlopen, descriptor checks, settings checks. */
struct plugin {
	char *name;
	char *path;
	void *dl;
	const struct korpu_plugin *desc;
	struct korpu_plugin_ctx *ctx;
	void *state;
	int started;
};
struct plugin_set {
	struct plugin *v;
	size_t n;
};
int plugin_open(const char *dir, const char *name, struct plugin *p, struct errlist *errs);
int plugin_check_descriptor(const struct korpu_plugin *d, const char *name, struct errlist *errs, const char *where);
int plugin_check_settings(const struct korpu_plugin *d, const struct conf_plugin *cp, struct errlist *errs);
int plugins_open_all(const struct conf *c, struct plugin_set *set, struct errlist *errs);
void plugins_close_all(struct plugin_set *set);
const struct plugin *plugins_find(const struct plugin_set *set, const char *name);
const char *plugin_booking_model_name(enum korpu_booking_model m);
const char *plugin_field_type_name(enum korpu_field_type t);
#define PLUGIN_HOOK(d, hook) \
	((d)->struct_size >= offsetof(struct korpu_plugin, hook) + sizeof((d)->hook) ? (d)->hook : NULL)
/* A member a plugin built against an older minor does not have: def. */
#define PLUGIN_FIELD(d, member, def) \
	((d)->struct_size >= offsetof(struct korpu_plugin, member) + sizeof((d)->member) ? \
	(d)->member : (def))

/* plugin-host.c: the host table and plugin start/stop. */
struct server;
int plugins_start(struct server *srv, struct errlist *errs);
void plugins_stop(struct server *srv);
void plugins_reconfigure(struct server *srv);
extern const struct korpu_host plugin_host;

/* text.c */
size_t utf8_prefix_len(const char *s, size_t len, size_t max);
void utf8_copy(char *dst, size_t dstlen, const char *src, size_t srclen);
void text_printable(const char *in, char *out, size_t outlen);
int utf8_valid(const char *s);

/* sha256.c */
int sha256_hex(const void *data, size_t len, char out[65]);

/* token.c */
int token_new(char out[44]);
int token_valid(const char *s);
const char *session_token_parse(const char *auth, const char *cookie, char *buf, size_t len);

/* ldap-pool.c: sign-in by search-then-bind, on worker threads. */
#define ROLE_CASEWORKER	0x1
#define ROLE_PROVIDER	0x2
#define ROLE_SUPERVISOR	0x4
#define ROLE_ADMIN	0x8
#define LDAP_USER_AREAS_MAX 8
struct ldap_user {
	char dn[512];
	char uid[257];			/* the directory's spelling of the user name */
	char name[256];
	char organization[128];
	unsigned roles;
	char areas[LDAP_USER_AREAS_MAX][33];
	size_t n_areas;
};
enum ldap_outcome {
	LDAP_LOGIN_OK,
	LDAP_LOGIN_DENIED,		/* no such user, or a wrong password */
	LDAP_LOGIN_UNAVAILABLE,		/* the directory did not answer */
	LDAP_LOGIN_ERROR		/* the directory answered with an error */
};
struct ldap_pool;
typedef void (*ldap_login_cb)(enum ldap_outcome outcome, const struct ldap_user *user,
    const char *detail, void *arg);
struct ldap_pool *ldap_pool_new(struct event_base *base, const struct conf_ldap *c);
int ldap_pool_login(struct ldap_pool *p, const char *username, const char *password,
    ldap_login_cb cb, void *arg);
int ldap_pool_probe(struct ldap_pool *p, ldap_login_cb cb, void *arg);
void ldap_pool_reconfigure(struct ldap_pool *p, const struct conf_ldap *c);
void ldap_pool_free(struct ldap_pool *p);

/* ids.c: sortable, unguessable object ids naming their region. */
#define ID_MAX 64
int id_new(char *out, size_t len, const char *region);
int id_valid(const char *s, int with_region);
const char *id_region(const char *id);

/* store.c: documents in Redis and atomic multi-key changes (lua/apply.lua). */
struct tx;
enum tx_status { TX_OK, TX_CONFLICT, TX_UNAVAILABLE, TX_ERROR };
struct tx_result {
	enum tx_status status;
	int key;			/* TX_CONFLICT: the index given by tx_key */
	char current[128];		/* its revision, or the unique key's value */
};
typedef void (*tx_cb)(const struct tx_result *res, void *arg);
struct tx *tx_new(const char *tag);
void tx_free(struct tx *t);
int tx_key(struct tx *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tx_rev(struct tx *t, int k, long long rev);
void tx_absent(struct tx *t, int k);
void tx_eq(struct tx *t, int k, const char *value);
void tx_zhas(struct tx *t, int k, const char *member);
void tx_cap(struct tx *t, int k, const char *field, long long cap);
void tx_free_interval(struct tx *t, int k, int64_t start, int64_t end, const char *skip);
void tx_hincrby(struct tx *t, int k, const char *field, long long by);
void tx_doc(struct tx *t, int k, const json_t *doc);
void tx_set(struct tx *t, int k, const char *value);
void tx_del(struct tx *t, int k);
void tx_zadd(struct tx *t, int k, double score, const char *member);
void tx_zrem(struct tx *t, int k, const char *member);
void tx_zincrby(struct tx *t, int k, long long by, const char *member);
void tx_event(struct tx *t, const char *type, const char *id, const char *area,
    const char *provider_id);
void tx_event_to(struct tx *t, const char *stream, const char *type, const char *id,
    const char *area, const char *provider_id);
int tx_run(struct tx *t, struct server *srv, tx_cb cb, void *arg);
struct doc {
	json_t *doc;			/* NULL: no such object */
	long long rev;
};
typedef void (*fetch_cb)(struct doc *docs, size_t n, void *arg);
int store_fetch(struct server *srv, const char *const *keys, size_t n, fetch_cb cb, void *arg);
typedef void (*list_cb)(struct doc *docs, size_t n, const char *next_cursor, void *arg);
int store_list(struct server *srv, const char *index, const char *doc_prefix, const char *cursor,
    long limit, int desc, list_cb cb, void *arg);
typedef int (*keep_fn)(const json_t *doc, void *arg);
int store_list_regions(struct server *srv, const char *index, const char *kind,
    const char *only_region, const char *cursor, long limit, keep_fn keep, void *keep_arg,
    list_cb cb, void *arg);
typedef void (*hashes_cb)(json_t *hashes, void *arg);
int store_hashes(struct server *srv, const char *const *keys, size_t n, hashes_cb cb, void *arg);
void key_region(char *buf, size_t len, const char *region, const char *what, const char *id);

/* body-check.c: a request body against a table of its members. */
enum bf_type { BF_STRING, BF_TEXT, BF_DATE, BF_INT, BF_BOOL, BF_LIST, BF_OBJECT, BF_ARRAY };
#define BF_REQUIRED	0x1
#define BF_NULLABLE	0x2
#define BF_FIXED	0x4	/* set at creation, never by PATCH */
struct bfield {
	const char *name;
	enum bf_type type;
	unsigned flags;
	size_t max;			/* strings: bytes (default 200) */
	const char *const *choices;	/* strings and list items */
	long long min, imax;		/* BF_INT */
	size_t max_items;		/* BF_LIST (default 32) */
};
size_t body_check(const json_t *body, const struct bfield *spec, int partial,
    struct errlist *errs);

/* provider-check.c: a provider's description, before it is stored. */
int clock_minutes(const char *s);
int timezone_known(const char *tz);
struct plugin_set;
size_t provider_check(const json_t *body, int partial, const struct conf *conf,
    const struct plugin_set *plugins, struct errlist *errs);
size_t hours_check(const json_t *hours, long slot, struct errlist *errs);
size_t courses_check(const json_t *doc, struct errlist *errs);
size_t seats_check(const json_t *seats, struct errlist *errs);
int school_year_valid(const char *s);
void languages_check(const json_t *languages, struct errlist *errs);
#define PROVIDER_TIMEZONE_DEFAULT "Asia/Baku"
/* A session area's group, unless a provider says otherwise. */
#define PROVIDER_SESSION_CAPACITY 12

/* client-check.c: a client's record and its search keys. */
extern const struct bfield client_spec[];
int regno_normalize(const char *s, char *out, size_t len);
size_t client_check(const json_t *body, int partial, const struct conf *conf,
    struct errlist *errs);
json_t *client_name_keys(const json_t *client);

/* referral-states.c: the referral state machine. */
#define REFERRAL_BY_PROVIDER	0x1
#define REFERRAL_BY_CASEWORKER	0x2
#define REFERRAL_BY_SERVER	0x4
enum move_check { MOVE_OK, MOVE_ILLEGAL, MOVE_FORBIDDEN, MOVE_NEEDS_NOTE };
const char *const *referral_states(void);
int referral_state_known(const char *s);
int referral_state_open(const char *s);
enum move_check referral_move_check(const char *from, const char *to, unsigned actor,
    int has_note);

/* client-view.c: the part of a client's record a reader may see. */
json_t *client_view(const json_t *client, int org_scoped, const char *area);

/* slots.c: a provider's slots from its hours, zone and closures. */
#define SLOTS_PER_DAY_MAX 1024
struct slot {
	int64_t start_ms, end_ms;	/* UTC */
	int local_minute;		/* the local start, minutes after midnight */
};
int slots_of_day(const json_t *provider, const char *date, struct slot *out, size_t max);
int slot_find(const json_t *provider, int64_t start_ms, struct slot *s);
int local_date(int64_t ms, const char *zone, char out[11]);
int time_format_local(int64_t ms, const char *zone, char *buf, size_t len);
int date_add_days(const char *date, int days, char out[11]);
int hours_cover(const json_t *doc, int64_t start_ms, int64_t end_ms);
void zones_preload(void);
int course_sessions(const json_t *provider, const json_t *course, struct slot *out, size_t max,
    char *err, size_t errlen);

/* appointment-book.c: taking places atomically. */
struct booking;
typedef void (*booking_done_fn)(struct booking *b, int status, const char *problem);
struct booking_item {
	json_t *client;
	struct slot slot;
	int k_taken, k_busy;		/* their keys in the transaction */
};
struct booking {
	struct request *r;
	json_t *provider;
	json_t *referral;		/* or NULL */
	long long referral_rev;
	struct booking_item *items;
	size_t n;
	char lang[8];			/* interpreter language, or "" */
	json_t *interpreters;		/* candidates on duty, in order */
	size_t cand;
	int k_interp;
	json_t *docs;			/* the appointments of the last attempt */
	int held;			/* the places are held already (a waitlist offer) */
	char course_id[40];		/* a whole course booked, or "" */
	void (*extra)(struct booking *b, struct tx *t);	/* more writes of the same step */
	/* What a conflict at one of extra's keys means, or NULL if not its. */
	const char *(*extra_conflict)(struct booking *b, int key);
	booking_done_fn done;
	void *arg;
};
struct booking *booking_new(struct request *r);
void booking_free(struct booking *b);
int booking_add(struct booking *b, const json_t *client, const struct slot *s);
void booking_start(struct booking *b);
void busy_member(char *buf, size_t len, int64_t start, int64_t end, const char *id);
long long provider_capacity(const json_t *provider);

/* jobs.c: due jobs (reminders, lapsing offers) over a sorted set per region. */
typedef void (*job_fn)(struct server *srv, const char *region, const char *member,
    void (*finished)(void *), void *arg);
struct job;
typedef void (*job_decide_fn)(struct job *j, struct tx *t, const struct doc *d);
struct job {
	struct server *srv;
	char region[40];
	char member[200];
	char id[ID_MAX];		/* the document the job is about */
	int64_t n;			/* a number the job carries (a start time) */
	job_decide_fn decide;
	/* After the step landed: more work (decide may set it). */
	void (*then)(struct server *srv, const char *id);
	char then_id[ID_MAX];
	void (*finished)(void *);
	void *arg;
};
void job_with_doc(struct server *srv, const char *region, const char *member, const char *kind,
    const char *id, int64_t n, job_decide_fn decide, void (*finished)(void *), void *arg);
struct jobs *jobs_start(struct server *srv);
void jobs_free(struct jobs *j);
void reminders_add(struct tx *t, const struct conf *c, const char *appt_id, int64_t start_ms);
void reminders_remove(struct tx *t, const struct conf *c, const char *appt_id, int64_t start_ms);
void job_remind(struct server *srv, const char *region, const char *member,
    void (*finished)(void *), void *arg);
void job_offer_lapsed(struct server *srv, const char *region, const char *member,
    void (*finished)(void *), void *arg);
void job_escalate(struct server *srv, const char *region, const char *member,
    void (*finished)(void *), void *arg);

/* waitlist-offer.c: a free place goes to the first waiting client. */
void waitlist_offer(struct server *srv, const char *provider_id);
double waitlist_key(long long points, long long per_day, int64_t created_ms);
long long waitlist_score_now(const json_t *entry);
int64_t offer_hold_ms(struct server *srv, const char *area);
json_t *waitlist_entry_moved(const json_t *e, const char *status, const char *actor,
    const char *note);
int waitlist_referral_open(const struct doc *docs, size_t n);
struct tx *waitlist_withdraw_tx(const json_t *provider, const struct doc *entry,
    const struct doc *ref, const char *queue);
int waitlist_entry_fetch(struct server *srv, const char *region, const char *id, fetch_cb cb,
    void *arg);

/* seat-waitlist.c: a school's waitlists, one per grade and school year. */
int seat_provider(struct server *srv, const json_t *provider);
void seat_wait_join(struct request *r, const json_t *provider, const json_t *client,
    const json_t *referral, const char *year, long long grade);
void seat_offers(struct server *srv, const json_t *provider);
int seat_entry(const json_t *entry);
void seat_offer_job(char *buf, size_t len, const json_t *entry);
void job_seat_offer_lapsed(struct server *srv, const char *region, const char *member,
    void (*finished)(void *), void *arg);

/* seat-offer-answer.c: accepting or declining a school place offered. */
void seat_offer_answer(struct request *r, const json_t *entry, long long rev, int accept);

/* api-seats.c: the writes that give a client a school place. */
void seat_place_writes(struct tx *t, const json_t *seat, int *k_holder);
json_t *seat_doc_new(const char *id, const json_t *where, const char *provider_id,
    const char *client_id, const char *referral_id, const char *year, long long grade,
    const char *actor);

/* route-soonest.c: routing by the soonest free slot. */
#define ROUTE_CANDIDATES_MAX 20
typedef void (*soonest_cb)(const char *provider_id, int failed, void *arg);
int route_soonest(struct server *srv, json_t *providers, soonest_cb cb, void *arg);

/* stats.c: counters for the summary report, kept as the data changes. */
void stats_referral_made(struct tx *t, const json_t *ref);
void stats_referral_moved(struct tx *t, const json_t *before, const char *to);
void stats_first_appointment(struct tx *t, const json_t *ref, int64_t start_ms);
void stats_appointment(struct tx *t, const char *area, int64_t start_ms, const char *outcome);

/* fields-check.c: a referral's "fields" against an area's field table. */
int fields_check(const struct korpu_field *table, const json_t *fields, struct errlist *errs);
int date_valid(const char *s);

/* The daemon's state, one per process (main.c). */
struct server {
	struct event_base *base;
	struct conf *conf;
	struct plugin_set plugins;
	struct http_server *http;
	struct redis_link *redis;
	struct event *sig_hup, *sig_term, *sig_int;
	struct reload *reload;
	struct ldap_pool *ldap;
	struct audit *audit;
	struct relay *relay;		/* events-relay.c */
	struct expiry *expiry;		/* referral-expiry.c */
	struct jobs *jobs;		/* jobs.c */
	int stopping;
	int foreground;
	int report_fd;		/* detached: the pipe to the waiting parent */
};

/* reload.c: SIGHUP parses the new config off the loop, then swaps it in. */
struct reload *reload_new(struct server *srv);
void reload_start(struct reload *rl);
void reload_free(struct reload *rl);
void reload_apply(struct server *srv, struct conf *next);

/* daemon.c: korpud without -f, detached once it serves. */
int daemon_fork(void);
int daemon_detach(void);
void daemon_started(int report_fd);

/* shutdown.c */
void shutdown_begin(struct server *srv);
void jobs_stop(struct server *srv);

/* events-relay.c and referral-expiry.c: background work on the loop. */
struct relay *relay_start(struct server *srv);
void relay_stop(struct relay *rl);
void events_kick(struct server *srv);
struct expiry *expiry_start(struct server *srv);
void expiry_stop(struct expiry *e);

/* redis-link.c: the one hiredis async connection, its reconnects and the
 * per-command timeouts Debian's hiredis 0.14 lacks. */
typedef void (*redis_cb)(struct redisReply *reply, void *arg);
struct redis_link *redis_link_new(struct event_base *base, const struct conf_redis *conf);
void redis_link_start(struct redis_link *l);
int redis_link_ready(const struct redis_link *l);
const char *redis_link_problem(const struct redis_link *l);
void redis_link_reconfigure(struct redis_link *l, const struct conf_redis *conf);
void redis_link_close(struct redis_link *l, void (*done)(void *), void *arg);
void redis_link_free(struct redis_link *l);
int redis_call(struct redis_link *l, redis_cb cb, void *arg, int argc,
    const char **argv, const size_t *lens);

/* redis-scripts.c: Lua scripts, loaded at connect, run with EVALSHA. */
enum script_id {
	SCRIPT_SCHEMA, SCRIPT_SESSION_CREATE, SCRIPT_SESSION_TOUCH,
	SCRIPT_LOGIN_RESERVE, SCRIPT_LOGIN_FAILED, SCRIPT_LOGIN_SETTLE, SCRIPT_APPLY,
	SCRIPT_IDEM_BEGIN, SCRIPT_IDEM_FINISH,
	SCRIPT_COUNT
};
struct script {
	const char *name;
	const char *source;
	char sha[41];
};
extern struct script redis_scripts[SCRIPT_COUNT];
int redis_script(struct redis_link *l, enum script_id id, redis_cb cb, void *arg,
    int nkeys, int argc, const char **argv, const size_t *lens);
void redis_scripts_reset(void);
#define KORPU_DATA_SCHEMA 1
#define KEY_SCHEMA "korpu:{meta}:schema"

/* embedded.c (generated): files compiled into korpud. */
extern const char embedded_openapi_json[];
extern const char embedded_lua_schema[];
extern const char embedded_lua_session_create[];
extern const char embedded_lua_session_touch[];
extern const char embedded_lua_login_reserve[];
extern const char embedded_lua_login_settle[];
extern const char embedded_lua_login_failed[];
extern const char embedded_lua_apply[];
extern const char embedded_lua_idem_begin[];
extern const char embedded_lua_idem_finish[];

/* http-server.c: listeners, connection cap, dispatch, drain. */
struct http_server *http_server_new(struct server *srv, struct errlist *errs);
void http_server_reconfigure(struct http_server *h);
void http_server_stop_accepting(struct http_server *h);
unsigned http_server_inflight(const struct http_server *h);
void http_server_free(struct http_server *h);
void http_server_on_idle(struct http_server *h, void (*cb)(void *), void *arg);

/* http-router.c: method + path -> route, with {param} segments. */
#define ROUTE_MAX_PARAMS 4
#define ROUTE_PARAM_MAX 128
struct request;
typedef void (*route_fn)(struct request *r);
#define ROUTE_JSON_BODY	0x1	/* the body must be a JSON object */
#define ROUTE_PUBLIC	0x2	/* no session needed */
#define ROUTE_LARGE_BODY 0x4	/* up to limits.import_max, not body_max */
#define ROUTE_ANY_JSON	0x8	/* the body may be any JSON value, not only an object */
#define ROLES_STAFF	(ROLE_CASEWORKER | ROLE_PROVIDER | ROLE_SUPERVISOR | ROLE_ADMIN)
struct route {
	int method;			/* EVHTTP_REQ_* */
	const char *pattern;		/* "/api/v1/areas/{name}/check" */
	route_fn fn;
	unsigned flags;
	unsigned roles;			/* ROLE_* that may call it; none: refused */
};
struct route_match {
	const struct route *route;
	size_t n_params;
	struct {
		const char *name;	/* points into the pattern */
		size_t name_len;
		char value[ROUTE_PARAM_MAX];
	} params[ROUTE_MAX_PARAMS];
	int allowed;			/* methods of routes matching the path */
};
enum route_result { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD };
enum route_result router_match(const struct route *table, size_t n, int method,
    const char *path, struct route_match *m);
void router_allow_header(int allowed, char *buf, size_t len);
int router_percent_decode(const char *in, size_t len, char *out, size_t outlen);

/* routes.c: the one table of every route. */
extern const struct route routes[];
extern const size_t routes_count;

/* metrics.c: GET /metrics, and the counters korpud keeps for it. */
struct route;
int metrics_init(void);
void metrics_free(void);
void metrics_request(const struct route *route, int web, int status, int64_t took_us);
void metrics_redis_timeout(void);
void metrics_redis_connected(void);
void metrics_reload(int ok);
char *metrics_render(struct server *srv, size_t *len);
void api_metrics(struct request *r);
unsigned http_server_connections(const struct http_server *h);
unsigned redis_link_pending(const struct redis_link *l);

/* http-body.c: a request body to a JSON object, or why not. */
struct body_error {
	int status;			/* 400, 413, 415 */
	char detail[200];
};
json_t *body_parse_json(const char *content_type, const char *data, size_t len,
    size_t max, struct body_error *err);
json_t *body_parse_json_value(const char *content_type, const char *data, size_t len,
    size_t max, struct body_error *err);
int body_content_type_is_json(const char *content_type);

/* http-request.c: one request's context, and the only way to answer. */
struct request {
	struct server *srv;
	struct evhttp_request *req;
	char id[65];
	struct route_match match;
	json_t *body;
	int64_t started_us;
	int method;
	char *uri;
	char peer[64];			/* client address */
	/* the caller, once authz.c found the session */
	json_t *user;
	unsigned roles;
	char uid[257];
	char org[128];
	char org_id[ID_MAX];		/* a provider's organization, resolved by authz.c */
	char token[44];
	struct evkeyvalq query;		/* http-query.c */
	int query_parsed;
	struct idem *idem;		/* idempotency.c: the Idempotency-Key in play */
	int web;			/* a web client's file (metrics.c counts it so) */
};
struct request *request_new(struct server *srv, struct evhttp_request *req);
size_t request_body_max(const struct request *r);
void request_free(struct request *r);
void request_abandon(struct request *r);
void request_run(struct request *r);
const char *request_param(const struct request *r, const char *name);
const char *request_header(const struct request *r, const char *name);
const char *request_peer(const struct request *r);
void reply_json(struct request *r, int status, json_t *body);
void reply_bytes(struct request *r, int status, const char *content_type,
    const char *data, size_t len);
void reply_problem(struct request *r, int status, const char *detail);
void reply_problem_errors(struct request *r, int status, const char *detail,
    const struct errlist *errs);
void reply_unavailable(struct request *r, const char *what, int retry_after_s);
void reply_json_problem(struct request *r, int status, json_t *problem);
json_t *problem_new(int status, const char *detail, const struct errlist *errs);
const char *http_reason(int status);
int64_t now_us(void);
#define rlog_info(r, ...)	log_msg(LOG_INFO, (r)->id, __VA_ARGS__)
#define rlog_warn(r, ...)	log_msg(LOG_WARNING, (r)->id, __VA_ARGS__)
#define rlog_error(r, ...)	log_msg(LOG_ERR, (r)->id, __VA_ARGS__)

/* http-query.c: query parameters and the list convention. */
int query_parse(struct request *r, const char *const *allowed);
const char *query_get(const struct request *r, const char *name);
void query_free(struct request *r);
int query_list(struct request *r, long *limit, const char **cursor);
json_t *list_envelope(json_t *items, const char *next_cursor);
struct doc;
void reply_page(struct request *r, struct doc *docs, size_t n, const char *next, const char *what);

/* idempotency.c: the Idempotency-Key header on writes. */
typedef void (*idem_proceed_fn)(struct request *r);
void idem_begin(struct request *r, idem_proceed_fn proceed);
void idem_finish(struct request *r, int status, const char *ctype, const char *data, size_t len);
void idem_free(struct request *r);

/* timefmt.c */
void time_format_ms(int64_t ms, char *buf, size_t len);
void time_format_s(int64_t secs, char *buf, size_t len);
int time_parse(const char *s, int64_t *ms);
int64_t wall_ms(void);

/* session.c */
#define SESSION_COOKIE "korpu_session"
const char *session_token_of(struct request *r, char *buf, size_t len);
int session_create(struct server *srv, const json_t *user, char token[44], int64_t *expires_at,
    redis_cb cb, void *arg);
int session_touch(struct server *srv, const char *token, redis_cb cb, void *arg);
int session_delete(struct server *srv, const char *token, redis_cb cb, void *arg);
void session_cookie(const struct conf *c, const char *token, long long max_age, char *buf, size_t len);

/* login-throttle.c */
int throttle_reserve(struct server *srv, const char *typed, const char *addr,
    redis_cb cb, void *arg);
int throttle_locked(struct server *srv, const char *name, redis_cb cb, void *arg);
int throttle_failed(struct server *srv, const char *typed, const char *name, const char *addr,
    redis_cb cb, void *arg);
int throttle_settle(struct server *srv, const char *typed, const char *name, const char *addr,
    int ok, redis_cb cb, void *arg);
void throttle_normalize(const char *username, char *out, size_t len);

/* authz.c */
void authz_dispatch(struct request *r);
json_t *authz_roles_json(unsigned roles);
unsigned authz_roles_from_json(const json_t *a);
int authz_org_scoped(const struct request *r);
int authz_org_visible(const struct request *r, const char *org_id);

/* audit.c */
#define AUDIT_STREAM "korpu:audit:{audit}"
struct audit;
struct audit *audit_open(const char *path, struct errlist *errs);
void audit_close(struct audit *a);
void audit_record(struct server *srv, struct request *r, const char *actor,
    const char *action, const char *outcome, json_t *objects);

/* api-*.c: route handlers. */
void api_login(struct request *r);
void api_session_shutdown(void);
void api_logout(struct request *r);
void api_me(struct request *r);
void api_audit(struct request *r);
void api_health(struct request *r);
void api_ready(struct request *r);
void api_areas_list(struct request *r);
void api_regions_list(struct request *r);
void api_area_check(struct request *r);
void api_openapi(struct request *r);
json_t *api_area_json(const struct korpu_plugin *d);
void api_org_create(struct request *r);
void api_org_list(struct request *r);
void api_org_get(struct request *r);
void api_org_agreement(struct request *r);
const char *org_agreement_problem(const json_t *org, const char *area, const char *today);
void api_client_create(struct request *r);
void api_client_get(struct request *r);
void api_client_patch(struct request *r);
void api_client_search(struct request *r);
int client_key(struct request *r, const char *id, char *key, size_t len);
typedef int (*client_change_fn)(struct request *r, json_t *doc, void *arg);
typedef void (*client_edit_done_fn)(struct server *srv, int stored, void *arg);
void client_edit(struct request *r, const char *id, const char *action, client_change_fn change,
    void *arg);
void client_edit_then(struct request *r, const char *id, const char *action,
    client_change_fn change, void *arg, client_edit_done_fn done);

/* client-regno.c: a registration number claimed for one client across regions. */
enum regno_outcome { REGNO_CLAIMED, REGNO_OURS, REGNO_TAKEN, REGNO_UNAVAILABLE };
typedef void (*regno_claimed_fn)(enum regno_outcome how, const char *what, void *arg);
int regno_claim(struct request *r, const char *regno, const char *id, regno_claimed_fn done,
    void *arg);
void regno_release(struct server *srv, const char *regno, const char *claim);
void regno_release_held(struct server *srv, const char *regno, const char *id, long long before);
void regno_key(char *key, size_t len, const char *regno);
void api_consent_put(struct request *r);
void api_household_create(struct request *r);
void api_household_get(struct request *r);
void api_referral_create(struct request *r);
void api_referral_household(struct request *r);
void api_referral_get(struct request *r);
void api_referral_list(struct request *r);
void api_referral_transition(struct request *r);
int referral_key(struct request *r, const char *id, char *key, size_t len);
int referral_visible(const struct request *r, const json_t *ref);
json_t *referral_moved(const json_t *before, const char *to, const char *actor,
    const char *note);
void referral_move_tx(struct tx *t, const json_t *before, long long rev, const json_t *after);
void api_directory_import(struct request *r);
typedef void (*import_done_fn)(json_t *report, int status, const char *error, void *arg);
int directory_import(struct server *srv, const json_t *dataset, const char *default_area,
    const char *default_region, const char *actor, import_done_fn done, void *arg);
int import_cli_run(struct server *srv, const char *file, const char *area, const char *region);
void api_interpreter_create(struct request *r);
void api_interpreter_list(struct request *r);
void api_provider_slots(struct request *r);
void api_appointment_create(struct request *r);
void api_appointment_household(struct request *r);
void api_appointment_course(struct request *r);
void api_seat_take(struct request *r);
void api_seat_get(struct request *r);
void api_seat_list(struct request *r);
void api_seat_release(struct request *r);
void api_provider_seats(struct request *r);
void api_appointment_get(struct request *r);
void api_appointment_list(struct request *r);
void api_appointment_cancel(struct request *r);
void api_appointment_reschedule(struct request *r);
void api_appointment_status(struct request *r);
int appointment_key(struct request *r, const char *id, char *key, size_t len);
void api_appointment_ics(struct request *r, const char *id);
void api_provider_calendar(struct request *r);
char *ics_calendar(const json_t *provider, const json_t *appointments);
void api_waitlist_join(struct request *r);
void api_waitlist_list(struct request *r);
void api_waitlist_get(struct request *r);
void api_waitlist_accept(struct request *r);
void api_waitlist_decline(struct request *r);
void api_report_summary(struct request *r);
void api_provider_create(struct request *r);
void api_provider_patch(struct request *r);
size_t capacity_check(const struct plugin_set *plugins, const json_t *doc, struct errlist *errs);
void api_provider_list(struct request *r);
void api_provider_get(struct request *r);
void provider_tx_create(struct tx *t, const json_t *doc);
int provider_key(struct request *r, const char *id, char *key, size_t len);

#endif /* KORPUD_H */
