#!/usr/bin/env bash
# tests/run.sh: korpu's whole test suite, from a fresh Debian 12 machine.
#
# Installs missing Debian packages, builds korpu twice (plain, and with
# ASan+UBSan), and in each build runs the cmocka unit tests and the
# end-to-end tests against real redis-server processes it starts itself;
# the plain build's end-to-end tests run against Redis in cluster mode (a
# check of the key schema's hash tags), the others against a standalone
# Redis; the plain build's unit tests and end-to-end tests run once more
# under valgrind; in each build the browser tests (tests/browser: the web
# client in Debian's chromium, driven by playwright-core) run too, and every fuzz target
# runs for a short while. Warnings are errors. Ends with the line
# "N passed, N failed, N skipped" and exits non-zero on any failure.
# Rerunnable; leaves no server behind.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
results="$root/build/results"
jobs=$(nproc 2>/dev/null || echo 2)

"$root/contrib/install-deps.sh" test || { echo "0 passed, 1 failed"; exit 1; }

rm -rf "$results"
mkdir -p "$results"

# step NAME CMD...: runs CMD; a failure is recorded as one failed step.
step() {
	local name=$1
	shift
	echo "== $name"
	if ! "$@"; then
		echo "$* exited non-zero" > "$results/$name.step"
		return 1
	fi
}

if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
	step autogen ./autogen.sh >/dev/null || { /usr/bin/python3 tests/summarize.py "$results"; exit 1; }
fi

build() {	# build VARIANT CONFIGURE-FLAGS...
	local variant=$1
	shift
	mkdir -p "build/$variant"
	(cd "build/$variant" && { [ -f Makefile ] || ../../configure -q --enable-werror "$@"; } &&
		make -s -j"$jobs" >/dev/null && make -s -j"$jobs" check TESTS= >/dev/null)
}

unit() {	# unit VARIANT [WRAPPER]: cmocka tests, JUnit XML into results
	local variant=$1 wrapper=${2:-}
	(cd "build/$variant" && CMOCKA_MESSAGE_OUTPUT=xml \
		CMOCKA_XML_FILE="$results/$variant${wrapper:+-valgrind}-unit-%g.xml" \
		make -s check LOG_COMPILER="$wrapper" >"$results/$variant-unit.out" 2>&1) ||
		{ cat "$results/$variant-unit.out"; return 1; }
}

e2e() {		# e2e VARIANT [WRAPPER]: korpud runs under WRAPPER when given
	local variant=$1 wrapper=${2:-} cluster=
	# The plain build's run has every redis-server the tests start in
	# cluster mode (KORPU_REDIS_CLUSTER, tests/e2e/servers.py: one node
	# holding all 16384 slots), where Redis refuses any script, multi-key
	# command or transaction whose keys hash to two slots: the whole suite
	# checks that korpud keeps to its key schema (docs/redis-keys.md). The
	# ASan+UBSan and valgrind runs keep a standalone Redis, as shipped.
	# Tests marked "once" run no korpud: the plain run has them.
	local once=()
	[ "$variant" = plain ] && [ -z "$wrapper" ] && cluster=1
	[ -z "$cluster" ] && once=(-m "not once")
	KORPU_BUILD="$root/build/$variant" KORPU_E2E_WRAPPER="$wrapper" \
		KORPU_REDIS_CLUSTER="$cluster" timeout 900 \
		/usr/bin/python3 -m pytest -q -p no:cacheprovider "${once[@]}" \
		--junitxml="$results/$variant${wrapper:+-valgrind}-e2e.xml" tests/e2e
	local rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 1 ]	# 1: failures, already counted in the XML
}

browser() {	# browser VARIANT: the web client's journeys in chromium, once
	local variant=$1
	# timeout signals pytest's process group; the conftest then ends each
	# journey's own process group (node and chromium) and the servers.
	KORPU_BUILD="$root/build/$variant" KORPU_SCREENSHOTS="$results/screenshots" \
		timeout -k 30 900 /usr/bin/python3 -m pytest -q -p no:cacheprovider \
		--junitxml="$results/$variant-browser.xml" tests/browser
	local rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 1 ]	# 1: failures, already counted in the XML
}

for variant in plain asan; do
	flags=()
	[ $variant = asan ] && flags=(--enable-sanitizers)
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
	step "$variant-build" build $variant "${flags[@]}" || continue
	step "$variant-unit" unit $variant
	step "$variant-e2e" e2e $variant
	step "$variant-browser" browser $variant
	if [ $variant = plain ]; then
		vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"
		step valgrind-unit unit plain "$vg"
		step valgrind-e2e e2e plain "$vg"
	fi
done
if [ -x tests/fuzz/run.sh ]; then
	step fuzz tests/fuzz/run.sh "$results"
fi

echo
/usr/bin/python3 tests/summarize.py "$results"
