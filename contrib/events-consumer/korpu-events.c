/*
 * korpu-events.c - an example consumer of korpu's partner event streams.
 *
 * korpud appends every state change of a service area to the Redis Stream
 * korpu:events:{AREA}: fields type, id, at, area, provider_id and event.
 * This program reads them with a consumer group and prints each as one
 * JSON line. Copy it and put your own code in handle_event().
 *
 * Delivery is AT LEAST ONCE. An entry is acknowledged (XACK) only after
 * handle_event() returned success; if we crash in between, the entry stays
 * in the group's pending list and is delivered again, to us on restart or
 * to another consumer of the group that claims it (XAUTOCLAIM). korpud may
 * also append the same event twice after a crash of its own. So a handler
 * must be idempotent: remember the `event` field (for example under a
 * unique key in your database) and skip an event you have already handled.
 * Acknowledging before handling would turn this into "at most once": an
 * event would be lost whenever the handler fails.
 *
 * Synchronous hiredis: one connection, one thing at a time, which is all
 * a consumer needs. Build with the Makefile; usage in README.md.
 */
#define _POSIX_C_SOURCE 200809L	/* sigaction, nanosleep, getopt */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#define MAX_AREAS	32
#define BATCH		"100"		/* entries per stream and read */
#define BLOCK_MS	"5000"		/* how long a read waits for new entries */
#define CLAIM_EVERY_MS	5000		/* how often to look for abandoned entries */
#define BACKOFF_MAX_MS	30000
#define ID_LEN		48		/* an entry id, "ms-seq", fits */

#define LOWER		"abcdefghijklmnopqrstuvwxyz"
#define DIGITS		"0123456789"
#define NAME_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZ" LOWER DIGITS "_.:-"

/* What a step ended with: rc <= EMPTY means nothing went wrong. */
enum { OK = 0, EMPTY, HANDLER_FAILED, REDIS_FAILED, FATAL };

static volatile sig_atomic_t stopping;
static int hopeless;		/* Redis said something retrying cannot mend */

static struct {
	const char *host, *user, *group, *consumer;
	long port, db, idle_ms;
	int once, nkeys, have_password;
	char password[512];
	char keys[MAX_AREAS][ID_LEN];	/* "korpu:events:{" 32 "}" fits too */
} opt = { .host = "127.0.0.1", .port = 6379, .idle_ms = 60000 };

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
usage(const char *why)
{
	fprintf(stderr, "korpu-events: %s\n"
	    "usage: korpu-events [-h host] [-p port] [-u user] [-a passwordfile] [-n db]\n"
	    "                    [-i min-idle-ms] [-1] -g GROUP -c CONSUMER AREA...\n", why);
	exit(2);
}

/* A whole decimal number in [min, max], or exit with a usage message. */
static long
number(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "korpu-events: %s must be a number from %ld to %ld, not \"%s\"\n",
		    what, min, max, s);
		usage("bad argument");
	}
	return v;
}

/* Is s 1..max characters, the first from `first`, the others from `rest`? */
static int
valid_name(const char *s, const char *first, const char *rest, size_t max)
{
	size_t n = strlen(s);

	return n >= 1 && n <= max && strchr(first, s[0]) != NULL &&
	    strspn(s + 1, rest) == n - 1;
}

/* The first line of path, without its line end. Keep the file mode 0600. */
static void
read_password(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "korpu-events: %s: %s\n", path, strerror(errno));
		usage("cannot read the password file");
	}
	if (fgets(opt.password, sizeof(opt.password), f) == NULL)
		opt.password[0] = '\0';
	fclose(f);
	n = strcspn(opt.password, "\r\n");
	opt.password[n] = '\0';
	if (n == 0)
		usage("the password file's first line is empty");
	opt.have_password = 1;
}

/* The length of the valid UTF-8 sequence at p, or 0. */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned long cp;
	size_t n, i;

	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2, cp = *p & 0x1f;
	else if (*p >= 0xe0 && *p <= 0xef)
		n = 3, cp = *p & 0x0f;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4, cp = *p & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;		/* overlong, a surrogate, or past U+10FFFF */
	return n;
}

/* s as a JSON string. Stream values are bytes: whatever is not valid
 * UTF-8 becomes U+FFFD, so every line we print is valid JSON. */
static void
json_string(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t n;

	putchar('"');
	while (p < end) {
		if (*p == '"' || *p == '\\') {
			putchar('\\');
			putchar(*p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			printf("\\u%04x", *p++);
		} else if (*p < 0x80) {
			putchar(*p++);
		} else if ((n = utf8_len(p, end)) == 0) {
			fputs("\\ufffd", stdout);
			p++;
		} else {
			fwrite(p, 1, n, stdout);
			p += n;
		}
	}
	putchar('"');
}

/*
 * YOUR CODE GOES HERE. Called once per delivery of an entry; the same
 * event can come again (see the top of the file), so skip an `event` you
 * have seen. Return 0 once the event is safely in your system (it is then
 * acknowledged), -1 if not (it is not, and comes back later).
 * fields: the entry's field/value pairs. A field that is missing is
 * printed as null.
 */
static int
handle_event(const char *stream, const char *entry, const redisReply *fields)
{
	static const char *const names[] = {
		"type", "id", "at", "area", "provider_id", "event", NULL
	};
	size_t i, k;

	printf("{\"stream\":");
	json_string(stream, strlen(stream));
	printf(",\"entry\":");
	json_string(entry, strlen(entry));
	for (k = 0; names[k] != NULL; k++) {
		printf(",\"%s\":", names[k]);
		for (i = 0; i + 1 < fields->elements; i += 2)
			if (fields->element[i]->type == REDIS_REPLY_STRING &&
			    fields->element[i]->len == strlen(names[k]) &&
			    memcmp(fields->element[i]->str, names[k], fields->element[i]->len) == 0)
				break;
		if (i + 1 < fields->elements && fields->element[i + 1]->type == REDIS_REPLY_STRING)
			json_string(fields->element[i + 1]->str, fields->element[i + 1]->len);
		else
			fputs("null", stdout);
	}
	printf("}\n");
	/* Handed over only once it is written out: a full disk or a closed
	 * pipe is a failure, and the entry stays pending. */
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
}

/* Notes an error reply that will not go away by itself: a wrong password
 * or permission, a key that is not a stream, no such database or command.
 * Others (LOADING while Redis starts, NOGROUP after the stream was deleted,
 * READONLY during a failover) are worth a reconnect. */
static void
check_error(const char *what, const redisReply *r)
{
	static const char *const codes[] = {
		"ERR ", "WRONGPASS", "NOAUTH", "NOPERM", "WRONGTYPE", NULL
	};
	int k;

	fprintf(stderr, "korpu-events: Redis: %s: %s\n", what, r->str);
	for (k = 0; codes[k] != NULL; k++)
		if (strncmp(r->str, codes[k], strlen(codes[k])) == 0)
			hopeless = 1;
}

/* One command; NULL (and a message) when the connection failed. */
static redisReply *
command(redisContext *c, int argc, const char **argv)
{
	redisReply *r = redisCommandArgv(c, argc, argv, NULL);

	if (r == NULL)
		fprintf(stderr, "korpu-events: Redis: %s\n", c->errstr[0] ? c->errstr : "no answer");
	else if (r->type == REDIS_REPLY_ERROR)
		check_error(argv[0], r);
	return r;
}

/* Handles and acknowledges each entry of one stream's entry array. Stores
 * the last entry id in last (when not NULL), for reading on after it. */
static int
handle_entries(redisContext *c, const char *key, const redisReply *entries, char *last)
{
	const char *argv[4] = { "XACK", key, opt.group, NULL };
	redisReply *r;
	size_t i;

	if (entries->type != REDIS_REPLY_ARRAY)
		return REDIS_FAILED;
	for (i = 0; i < entries->elements; i++) {
		const redisReply *e = entries->element[i];

		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING)
			return REDIS_FAILED;
		if (e->element[1]->type != REDIS_REPLY_ARRAY)	/* trimmed away while pending */
			fprintf(stderr, "korpu-events: %s %s was deleted before it was handled\n",
			    key, e->element[0]->str);
		else if (handle_event(key, e->element[0]->str, e->element[1]) != 0)
			return HANDLER_FAILED;
		argv[3] = e->element[0]->str;
		if ((r = command(c, 4, argv)) == NULL || r->type != REDIS_REPLY_INTEGER) {
			freeReplyObject(r);
			return REDIS_FAILED;
		}
		freeReplyObject(r);
		if (last != NULL)
			snprintf(last, ID_LEN, "%s", argv[3]);
	}
	return i > 0 ? OK : EMPTY;
}

/* XREADGROUP on every stream: ids NULL reads new entries (">"), else our
 * own pending entries after ids[k]. block: wait up to BLOCK_MS. */
static int
read_group(redisContext *c, char (*ids)[ID_LEN], int block)
{
	const char *argv[10 + 2 * MAX_AREAS] = { "XREADGROUP", "GROUP", opt.group,
	    opt.consumer, "COUNT", BATCH };
	int argc = 6, k, got = EMPTY, rc;
	redisReply *r;
	size_t i;

	if (block) {
		argv[argc++] = "BLOCK";
		argv[argc++] = BLOCK_MS;
	}
	argv[argc++] = "STREAMS";
	for (k = 0; k < opt.nkeys; k++)
		argv[argc++] = opt.keys[k];
	for (k = 0; k < opt.nkeys; k++)
		argv[argc++] = ids ? ids[k] : ">";
	if ((r = command(c, argc, argv)) == NULL || r->type == REDIS_REPLY_ERROR) {
		freeReplyObject(r);
		return REDIS_FAILED;
	}
	/* [[key, [[id, [field, value, ...]], ...]], ...], or nil: nothing came */
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		const redisReply *s = r->element[i];

		rc = REDIS_FAILED;
		for (k = 0; k < opt.nkeys && s->type == REDIS_REPLY_ARRAY && s->elements == 2 &&
		    s->element[0]->type == REDIS_REPLY_STRING; k++)
			if (strcmp(s->element[0]->str, opt.keys[k]) == 0) {
				rc = handle_entries(c, opt.keys[k], s->element[1], ids ? ids[k] : NULL);
				break;
			}
		if (rc != OK && rc != EMPTY) {
			got = rc;	/* the rest stays pending: read again later */
			break;
		}
		if (rc == OK)
			got = OK;
	}
	freeReplyObject(r);
	return got;
}

/* After a (re)start or a failed handler: entries delivered to us before
 * and never acknowledged come first. */
static int
read_pending(redisContext *c)
{
	char ids[MAX_AREAS][ID_LEN];
	int k, rc = OK;

	for (k = 0; k < opt.nkeys; k++)
		strcpy(ids[k], "0-0");
	while (!stopping && (rc = read_group(c, ids, 0)) == OK)
		;
	return stopping || rc == EMPTY ? OK : rc;
}

/* Takes over entries that another consumer of the group was given but has
 * not acknowledged for idle_ms (it died, or hangs), and handles them. Set
 * -i well above your handler's slowest time, or live consumers' entries
 * are taken too (and handled twice). */
static int
claim_idle(redisContext *c)
{
	char idle[24], cursor[ID_LEN];
	const char *argv[8] = { "XAUTOCLAIM", NULL, opt.group, opt.consumer, idle, cursor,
	    "COUNT", BATCH };
	redisReply *r;
	int k, rc = OK;

	snprintf(idle, sizeof(idle), "%ld", opt.idle_ms);
	for (k = 0; k < opt.nkeys && rc <= EMPTY && !stopping; k++) {
		argv[1] = opt.keys[k];
		strcpy(cursor, "0-0");
		do {	/* reply: [next cursor, entries, (Redis 7) deleted ids] */
			r = command(c, 8, argv);
			if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
			    r->element[0]->type != REDIS_REPLY_STRING ||
			    r->element[1]->type != REDIS_REPLY_ARRAY) {
				freeReplyObject(r);
				return REDIS_FAILED;
			}
			snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
			rc = handle_entries(c, opt.keys[k], r->element[1], NULL);
			freeReplyObject(r);
		} while (rc <= EMPTY && strcmp(cursor, "0-0") != 0 && !stopping);
	}
	return rc <= EMPTY ? OK : rc;
}

/* Connects, signs in and creates any missing consumer group; NULL when
 * that failed. */
static redisContext *
connect_redis(void)
{
	struct timeval connect_tv = { 2, 0 }, io_tv = { 15, 0 };	/* > BLOCK_MS */
	const char *argv[7] = { "AUTH", opt.user, opt.password };
	char db[24];
	redisContext *c = redisConnectWithTimeout(opt.host, (int)opt.port, connect_tv);
	redisReply *r = NULL;
	int k;

	if (c == NULL || c->err) {
		fprintf(stderr, "korpu-events: cannot connect to %s:%ld: %s\n", opt.host, opt.port,
		    c ? c->errstr : "out of memory");
		goto fail;
	}
	redisSetTimeout(c, io_tv);
	if (opt.have_password) {
		if (opt.user == NULL)
			argv[1] = opt.password;
		r = command(c, opt.user ? 3 : 2, argv);
		if (r == NULL || r->type == REDIS_REPLY_ERROR)
			goto fail;
		freeReplyObject(r);
	}
	snprintf(db, sizeof(db), "%ld", opt.db);
	argv[0] = "SELECT", argv[1] = db;
	if ((r = command(c, 2, argv)) == NULL || r->type == REDIS_REPLY_ERROR)
		goto fail;
	freeReplyObject(r);
	/* A new group starts at "$": it sees what is appended from now on. */
	argv[0] = "XGROUP", argv[1] = "CREATE", argv[3] = opt.group;
	argv[4] = "$", argv[5] = "MKSTREAM";
	for (k = 0; k < opt.nkeys; k++) {
		argv[2] = opt.keys[k];
		r = redisCommandArgv(c, 6, argv, NULL);
		if (r == NULL) {
			fprintf(stderr, "korpu-events: Redis: %s\n", c->errstr);
			goto fail;
		}
		if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0) {
			check_error("XGROUP CREATE", r);	/* BUSYGROUP: it exists */
			goto fail;
		}
		freeReplyObject(r);
	}
	fprintf(stderr, "korpu-events: connected to %s:%ld as %s/%s, %d stream(s)\n",
	    opt.host, opt.port, opt.group, opt.consumer, opt.nkeys);
	return c;
fail:
	freeReplyObject(r);
	redisFree(c);
	return NULL;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	redisContext *c = NULL;
	long long last_claim = 0;
	long backoff = 0;
	int ch, k, recover = 1, rc = OK;

	while ((ch = getopt(argc, argv, "h:p:u:a:n:i:g:c:1")) != -1) {
		switch (ch) {
		case 'h': opt.host = optarg; break;
		case 'p': opt.port = number(optarg, 1, 65535, "-p port"); break;
		case 'u': opt.user = optarg; break;
		case 'a': read_password(optarg); break;
		case 'n': opt.db = number(optarg, 0, 1000000, "-n db"); break;
		case 'i': opt.idle_ms = number(optarg, 1, 86400000, "-i min-idle-ms"); break;
		case 'g': opt.group = optarg; break;
		case 'c': opt.consumer = optarg; break;
		case '1': opt.once = 1; break;
		default: usage("unknown option");
		}
	}
	if (opt.host[0] == '\0')
		usage("-h needs a host");
	if (opt.user != NULL && !opt.have_password)
		usage("-u needs -a passwordfile");
	if (opt.group == NULL || opt.consumer == NULL)
		usage("-g GROUP and -c CONSUMER are required");
	if (!valid_name(opt.group, NAME_CHARS, NAME_CHARS, 64) ||
	    !valid_name(opt.consumer, NAME_CHARS, NAME_CHARS, 64))
		usage("GROUP and CONSUMER are 1-64 of A-Z a-z 0-9 _ . : -");
	if (optind == argc)
		usage("name at least one AREA");
	if (argc - optind > MAX_AREAS)
		usage("too many AREAs");
	for (; optind < argc; optind++) {
		if (!valid_name(argv[optind], LOWER, LOWER DIGITS "_", 32)) {
			fprintf(stderr, "korpu-events: bad area name \"%s\"\n", argv[optind]);
			usage("an AREA is [a-z][a-z0-9_]{0,31}, e.g. clinics");
		}
		snprintf(opt.keys[opt.nkeys], sizeof(opt.keys[0]), "korpu:events:{%s}", argv[optind]);
		for (k = 0; k < opt.nkeys; k++)
			if (strcmp(opt.keys[k], opt.keys[opt.nkeys]) == 0)
				usage("an AREA is named twice");
		opt.nkeys++;
	}

	/* No SA_RESTART: a signal ends a backoff sleep at once. A read in
	 * progress goes on until its BLOCK_MS ends; the batch it brings is
	 * handled before we exit. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);	/* a closed socket or stdout is an error, not death */

	while (!stopping) {
		rc = OK;
		if (c == NULL && (c = connect_redis()) != NULL)
			recover = 1;
		if (c == NULL)
			rc = REDIS_FAILED;
		else if (recover) {	/* our own unacknowledged entries, then the dead's */
			if ((rc = read_pending(c)) == OK && (rc = claim_idle(c)) == OK) {
				recover = 0;
				last_claim = now_ms();
			}
		} else if (now_ms() - last_claim >= CLAIM_EVERY_MS) {
			rc = claim_idle(c);
			last_claim = now_ms();
		}
		if (c != NULL && rc == OK && !stopping)
			rc = read_group(c, NULL, !opt.once);
		if (rc == OK || (rc == EMPTY && !opt.once)) {
			backoff = 0;
			continue;
		}
		if (rc == EMPTY)	/* -1: the streams have nothing more for us */
			break;
		if (hopeless)
			rc = FATAL;
		if (rc == HANDLER_FAILED)
			fprintf(stderr, "korpu-events: the handler failed; its entry stays pending\n");
		if (opt.once || rc == FATAL)
			break;
		/* Redis went away, or the handler failed: wait, then start over
		 * from our pending entries (nothing unacknowledged is skipped). */
		if (rc == REDIS_FAILED && c != NULL) {
			redisFree(c);
			c = NULL;
		}
		recover = 1;
		backoff = backoff ? (backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2) : 100;
		fprintf(stderr, "korpu-events: retrying in %ld ms\n", backoff);
		{
			struct timespec ts = { backoff / 1000, (backoff % 1000) * 1000000 };
			nanosleep(&ts, NULL);	/* a signal ends it early */
		}
	}
	redisFree(c);
	if (rc == FATAL || (!stopping && rc != OK && rc != EMPTY))
		return 1;
	return 0;	/* done, or stopped by a signal */
}
