#!/usr/bin/env bash
# tests/fuzz/run.sh [RESULTS_DIR]: builds every fuzz target with clang's
# libFuzzer (plus ASan and UBSan) and runs each from its seed corpus in
# tests/fuzz/corpus/. By default each runs a fixed number of inputs from a
# fixed seed, so the test suite gives the same answer every time; with
# FUZZ_SECONDS set, each explores at random for that long instead (for
# hunting, not for CI). A crash, leak or abort fails the target; its
# reproducer is left in build/fuzz/. With a results dir, writes a JUnit
# report there (one test case per target).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/build/fuzz"
results=${1:-}
seconds=${FUZZ_SECONDS:-}
mkdir -p "$out"

deps="libevent hiredis libconfig ldap jansson libcrypto zlib"
cflags="-g -O1 -D_GNU_SOURCE -I$root/include -I$root/core -I$root/build/plain $(pkg-config --cflags $deps)"
libs="$(pkg-config --libs $deps) -ldl -pthread"
san="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
common="$root/core/errlist.c $root/core/log.c $root/core/net-addr.c"

declare -A sources=(
	[body]="$root/core/http-body.c"
	[router]="$root/core/http-router.c $root/core/routes.c"
	[conf]="$root/core/conf-check.c $root/core/conf-schema.c $root/core/conf-load.c $root/core/web-files.c $root/core/sha256.c"
	[fields]="$root/core/fields-check.c $root/core/text.c"
	[addr]="$root/core/http-router.c"
	[headers]="$root/core/token.c $root/core/timefmt.c $root/core/fields-check.c $root/core/text.c $root/core/web-files.c $root/core/sha256.c"
	[fold]="$root/core/text-fold.c"
	[hsds]="$root/core/hsds-map.c"
)
# libconfig 1.5 itself leaks on malformed files in more than one place
# (lsan.supp lists the two found): leak reports from fuzz-conf would be
# about the library and make the suite flaky, so that target hunts memory
# errors only. Our own config code's leaks are checked by the unit tests
# under ASan and valgrind.
declare -A lsan=([conf]=":detect_leaks=0")
# Inputs per target in the fixed-seed run: about 5-15 s each here (the
# whole suite stays well under 20 minutes; FUZZ_SECONDS=N for longer hunts).
declare -A runs=([body]=1500000 [router]=1500000 [conf]=12000 [fields]=1000000
	[addr]=1500000 [headers]=1500000 [fold]=1000000
	[hsds]=300000)

cases=""
failed=0
for t in body router conf fields addr headers fold hsds; do
	bin="$out/fuzz-$t"
	corpus="$out/corpus-$t"
	# The fixed run starts from the committed seeds alone, so it repeats.
	[ -n "$seconds" ] || rm -rf "$corpus"
	mkdir -p "$corpus"
	cp -n "$here/corpus/$t"/* "$corpus/" 2>/dev/null || true
	status=ok
	if [ -n "$seconds" ]; then
		budget=(-max_total_time="$seconds")
	else
		budget=(-seed=1 -runs="${runs[$t]}" -max_total_time=120)
	fi
	# shellcheck disable=SC2086
	if ! clang $san $cflags -o "$bin" "$here/fuzz-$t.c" ${sources[$t]} $common $libs 2>"$out/fuzz-$t.build.log"; then
		status="does not build: $(head -c 500 "$out/fuzz-$t.build.log")"
	elif ! (cd "$out" && LSAN_OPTIONS=suppressions="$here/lsan.supp" ASAN_OPTIONS="detect_leaks=1${lsan[$t]:-}" "$bin" "${budget[@]}" \
			-timeout=10 -rss_limit_mb=2048 -print_final_stats=0 "$corpus" >"$out/fuzz-$t.log" 2>&1); then
		status="crashed: $(grep -m1 -E 'ERROR|runtime error|deadly signal' "$out/fuzz-$t.log")"
	fi
	if [ "$status" = ok ]; then
		if [ -n "$seconds" ]; then how="${seconds}s"; else how="${runs[$t]} inputs"; fi
		echo "fuzz-$t: ok ($(grep -oE 'cov: [0-9]+' "$out/fuzz-$t.log" | tail -1), $how)"
		cases="$cases<testcase classname=\"fuzz\" name=\"$t\"/>"
	else
		echo "fuzz-$t: $status"
		msg=$(printf '%s' "$status" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/"/\&quot;/g')
		cases="$cases<testcase classname=\"fuzz\" name=\"$t\"><failure message=\"$msg\"/></testcase>"
		failed=$((failed + 1))
	fi
done
rm -rf /tmp/korpu-fuzz-conf-*
if [ -n "$results" ]; then
	mkdir -p "$results"
	printf '<testsuites><testsuite name="fuzz">%s</testsuite></testsuites>\n' "$cases" >"$results/fuzz.xml"
fi
[ $failed -eq 0 ]
