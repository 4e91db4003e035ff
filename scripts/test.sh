#!/usr/bin/env bash
# Runs every test of cccd: installs what is missing, builds the release (-Werror) and the
# sanitizer (ASan + UBSan) variants, then runs the unit tests, the integration tests
# (real cccd processes, the official Node SDK, sipp, baresip) under both, several files at
# once, and beside them a 3-minute soak of the release build (bench/soak: memory and
# descriptors back to their baseline after a mixed load); the unit tests and the
# concurrency-heavy integration files under ThreadSanitizer; each fuzz harness for a
# bounded time. Prints "N passed, N failed" last; exits non-zero on failure.
#
#   scripts/test.sh                 everything
#   FUZZ_SECONDS=10 scripts/test.sh shorter fuzzing
#   VARIANTS="release" scripts/test.sh
#   INTEGRATION_JOBS=1 scripts/test.sh   integration files one at a time (default 3 at once)
#   TSAN=0 scripts/test.sh          without the ThreadSanitizer runs
#   PG=0 scripts/test.sh            without the PostgreSQL runs
#   PG_FILES="api calls" scripts/test.sh  the integration files run on PostgreSQL too
set -uo pipefail
cd "$(dirname "$0")/.."

VARIANTS=${VARIANTS:-"release asan"}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
INTEGRATION_JOBS=${INTEGRATION_JOBS:-3}
export ASAN_OPTIONS=${ASAN_OPTIONS:-"detect_leaks=1:abort_on_error=1"}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-"print_stacktrace=1:halt_on_error=1"}

passed=0
failed=0
failures=()
log_dir=build/test-logs
mkdir -p "$log_dir"
: >"$log_dir/durations"

report() { # report NAME RC SECONDS LOG: counts a finished step and prints its line
	echo "$3 $1" >>"$log_dir/durations"
	if [ "$2" -eq 0 ]; then
		passed=$((passed + 1))
		printf 'PASS  %-48s %4ds\n' "$1" "$3"
	else
		failed=$((failed + 1))
		failures+=("$1")
		printf 'FAIL  %-48s %4ds  (log: %s)\n' "$1" "$3" "$4"
		tail -n 40 "$4" | sed 's/^/      | /'
	fi
}

log_of() { echo "$log_dir/${1//[^A-Za-z0-9_.-]/_}.log"; }

step() { # step NAME COMMAND...: runs a step, output to its log, counted
	local name=$1; shift
	local logf t0=$SECONDS rc=0
	logf=$(log_of "$name")
	"$@" >"$logf" 2>&1 || rc=$?
	report "$name" $rc $((SECONDS - t0)) "$logf"
}

# Steps that may run side by side: job NAME COMMAND... starts one in the background once
# fewer than $INTEGRATION_JOBS run; jobs_wait reports each as it ends. Each runs in a network
# namespace of its own when the machine allows it (root: unshare -n), so its fixed ports
# and its processes' ports are its own; tests/integration/lib/cccd.mjs reserves ports
# between processes too, so a file also runs beside others outside a namespace.
declare -A job_name=() job_t0=()
isolate=""
unshare -n true 2>/dev/null && isolate=1
isolated() {
	if [ -n "$isolate" ]; then
		unshare -n bash -c 'ip link set lo up && "$@"' isolated "$@"
	else
		"$@"
	fi
}
job_reap() { # waits for one job to end and reports it
	local pid rc=0
	wait -n -p pid "${!job_name[@]}" || rc=$?
	report "${job_name[$pid]}" $rc $((SECONDS - job_t0[$pid])) "$(log_of "${job_name[$pid]}")"
	unset "job_name[$pid]" "job_t0[$pid]"
}
job() {
	local name=$1; shift
	while [ ${#job_name[@]} -ge "$INTEGRATION_JOBS" ]; do job_reap; done
	isolated "$@" >"$(log_of "$name")" 2>&1 &
	job_name[$!]=$name
	job_t0[$!]=$SECONDS
}
jobs_wait() { while [ ${#job_name[@]} -gt 0 ]; do job_reap; done; }

# ThreadSanitizer: the unit tests, and the integration files that run cccd's threads
# together (API pool, store writer, hand-over, control loop, media workers, TTS and
# recorder threads, push thread); TSan makes cccd 5-15x slower, so not every file. A
# report stops cccd at once (exit 66), which fails the file. libre is linked statically
# in this build with its mem_ref/mem_deref wrapped (src/base/tsan_mem.c), so a libre
# object whose reference count two threads change is reported too. tests/tsan.supp lists
# what is suppressed, each with its reason. TSAN=0 skips it.
# A test may stop cccd without looking at its exit status (or kill it), so reports go to
# files, and any file left fails the integration file that made it.
tsan_file() { # tsan_file NAME [TAG]: tests/integration/NAME.test.mjs against the tsan build
	local reports="$log_dir/tsan-reports/${2:-}$1" rc
	rm -rf "$reports" && mkdir -p "$reports" && reports=$(cd "$reports" && pwd)
	TSAN_OPTIONS="$TSAN_OPTIONS:log_path=$reports/report" CCCD_BUILD=tsan \
		timeout -k 10 900 node --test --test-reporter=spec "tests/integration/$1.test.mjs"
	rc=$?
	if ls "$reports"/report.* >/dev/null 2>&1; then
		cat "$reports"/report.*
		return 1
	fi
	return $rc
}
export -f tsan_file
export log_dir
# push.test.mjs is left out: its 800 ms request timeouts are shorter than TSan's slowdown
# needs (retries it does not expect); the push thread runs here in threads and calls.
# sip_tls: SRTP contexts are libre objects each media worker makes and uses alone.
# amd: the answer listener's detector, handed to the media worker (src/session/amd.c).
# speech_local: the recogniser threads (src/asr).
TSAN_FILES=${TSAN_FILES:-"threads api callout calls inbound transfer speech speech_local sip_tls reload metrics amd"}
tsan_ok=""
export TSAN_OPTIONS=${TSAN_OPTIONS:-"halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp"}

CCCD_DEPS=test scripts/install-deps.sh || { echo "install-deps failed"; exit 1; }

# PostgreSQL (docs/postgresql.md): one throwaway cluster for the whole run, stopped at the
# end; its unix socket reaches into the integration files' namespaces. The unit tests of
# db_pg and of the store run on it under every build, and the integration files of
# PG_FILES (the files whose work goes through the store; docs/postgresql.md lists what
# passes) with CCCD_STORE=postgresql under the release build, each cccd in a database of
# its own, and PG_TSAN_FILES under ThreadSanitizer (libpq is not instrumented: a race seen
# through it would be reported here). PG=0 skips all of it.
PG_FILES=${PG_FILES:-"api calls admin callout crash fraud inbound transfer dialq evidence threads ivr_e2e data cluster_limits cluster_edge cluster_takeover audio tasks console amd"}
PG_TSAN_FILES=${PG_TSAN_FILES:-"threads"}
pg_dir=""
if [ "${PG:-1}" != 0 ]; then
	pg_dir=$(mktemp -u /tmp/cccd-pg-test.XXXXXX)
	if PG_TMP_FSYNC=off tests/pg/pg-tmp.sh start "$pg_dir" >"$log_dir/pg-start.log" 2>&1; then
		trap 'tests/pg/pg-tmp.sh stop "$pg_dir"' EXIT
		export CCCD_PG_DIR=$pg_dir CCCD_TEST_PG_DSN
		export CCCD_TEST_PG_PASSWORD_FILE=$pg_dir/password
		CCCD_TEST_PG_DSN=$(cat "$pg_dir/dsn")
	else
		step "postgresql/start" sh -c 'cat "$1"; exit 1' _ "$log_dir/pg-start.log"
		pg_dir=""
	fi
fi

for v in $VARIANTS; do
	echo "== build $v"
	make -j"$(nproc)" VARIANT="$v" >"$log_dir/build-$v.log" 2>&1 || {
		tail -n 60 "$log_dir/build-$v.log"; echo "0 passed, 1 failed"; exit 1; }
done
if [ "${TSAN:-1}" != 0 ]; then
	echo "== build tsan"
	if make -j"$(nproc)" VARIANT=tsan >"$log_dir/build-tsan.log" 2>&1; then
		tsan_ok=1
	else
		tail -n 60 "$log_dir/build-tsan.log"
		step "tsan/build" false
	fi
fi

# The unit tests, the quality bars and the bench build run side by side in the job pool:
# most unit tests spend their time waiting (SIP transactions, timers, a PostgreSQL round
# trip), and every store test on PostgreSQL makes databases of its own (named by its pid).
echo "== unit tests ($VARIANTS${tsan_ok:+, tsan}), quality bars, bench build; $INTEGRATION_JOBS at once"
for v in $VARIANTS ${tsan_ok:+tsan}; do
	for t in build/"$v"/tests/test_*; do
		[ -x "$t" ] || continue
		job "unit/$v/$(basename "$t")" "$t"
	done
	if [ -n "$pg_dir" ]; then
		for t in test_store test_store_erase test_outbox test_store_task test_store_plan; do
			job "unit/$v/$t (postgresql)" env CCCD_TEST_STORE=postgresql \
				build/"$v"/tests/$t
		done
	fi
done

# The answering-machine detector's quality bar on the held-out recordings (docs/amd.md):
# fails below 95 % right, above 2 % of humans called machines, a median human decision
# above 2.5 s of audio, or a beep not found.
for v in $VARIANTS; do
	job "amd/$v/heldout" build/"$v"/amd/amd_eval --check --quiet --part heldout \
		tests/data/amd/labels.csv
done

# The bench programs are not run here (they print figures), but they must keep building.
job "bench/build" env BUILD_ONLY=1 bash -c 'bench/api/run.sh && bench/calls/floor.sh && bench/store/records.sh && bench/asr/run.sh'

# The local speech recogniser's quality bars on its labelled set (docs/speech.md), with the
# model adapted to the telephone (src/asr/adapt): fails when yes/no, keywords or digit
# strings are right less than 90 % of the time (docs/benchmarks.md).
job "asr/accuracy" "build/${VARIANTS%% *}/itests/asr_eval" tests/data/asr \
	--adaptation src/asr/adapt/en-us-telephone --bar yesno=90 --bar keywords=90 --bar digits=90
# The digit strings no work on the recogniser was tuned on (tests/data/asr-fresh, made
# after the adaptation was chosen): held at the 80 % measured there so that it does not
# get worse; issue 20's 90 % is not reached on them (docs/speech.md).
job "asr/accuracy-fresh" "build/${VARIANTS%% *}/itests/asr_eval" tests/data/asr-fresh \
	--adaptation src/asr/adapt/en-us-telephone --bar digits=78
jobs_wait

if [ -d tests/integration ] && ls tests/integration/*.test.* >/dev/null 2>&1; then
	echo "== integration tests ($VARIANTS${tsan_ok:+, tsan}) and soak, $INTEGRATION_JOBS at once"
	# The longest first, so that none runs alone at the end: the soak, then the files
	# under ThreadSanitizer (5-15x slower), then ASan, then PostgreSQL, then release.
	case " $VARIANTS " in *" release "*)
		job "soak/release" env CHECK=1 MINUTES=3 BUILD=release timeout -k 10 900 bench/soak/run.sh
	esac
	if [ -n "$tsan_ok" ]; then
		for f in $TSAN_FILES; do
			job "integration/tsan/$f.test.mjs" tsan_file "$f"
		done
		if [ -n "$pg_dir" ]; then
			for f in $PG_TSAN_FILES; do
				job "integration/tsan/postgresql/$f.test.mjs" env CCCD_STORE=postgresql \
					bash -c 'tsan_file "$1" postgresql-' _ "$f"
			done
		fi
	fi
	order=""
	for v in $VARIANTS; do [ "$v" = release ] || order="$order $v"; done
	for v in $order; do
		for t in tests/integration/*.test.*; do
			# A file that waits forever fails after 15 minutes instead of holding the run.
			job "integration/$v/$(basename "$t")" env CCCD_BUILD="$v" \
				timeout -k 10 900 node --test --test-reporter=spec "$t"
		done
	done
	if [ -n "$pg_dir" ] && [[ " $VARIANTS " == *" release "* ]]; then
		for f in $PG_FILES; do
			job "integration/release/postgresql/$f.test.mjs" env CCCD_BUILD=release \
				CCCD_STORE=postgresql timeout -k 10 900 node --test \
				--test-reporter=spec "tests/integration/$f.test.mjs"
		done
	fi
	case " $VARIANTS " in *" release "*)
		for t in tests/integration/*.test.*; do
			job "integration/release/$(basename "$t")" env CCCD_BUILD=release \
				timeout -k 10 900 node --test --test-reporter=spec "$t"
		done
	esac
	jobs_wait
fi

if ls fuzz/fuzz_*.c >/dev/null 2>&1; then
	# Each harness is one CPU-bound process: as many at once as there are cores.
	INTEGRATION_JOBS=$(nproc)
	echo "== fuzzing (${FUZZ_SECONDS}s each, $INTEGRATION_JOBS at once)"
	if make -j"$(nproc)" VARIANT=fuzz >"$log_dir/build-fuzz.log" 2>&1; then
		for f in build/fuzz/fuzz/fuzz_*; do
			[ -x "$f" ] || continue
			name=$(basename "$f")
			corpus="build/fuzz-corpus/$name"
			mkdir -p "$corpus"
			seeds=()
			[ -d "fuzz/corpus/$name" ] && seeds=("fuzz/corpus/$name")
			job "fuzz/$name" "$f" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 \
				-print_final_stats=1 "$corpus" "${seeds[@]}"
		done
		jobs_wait
	else
		tail -n 60 "$log_dir/build-fuzz.log"
		step "fuzz/build" false
	fi
fi

echo
echo "slowest steps (seconds):"
sort -rn "$log_dir/durations" | head -n 12 | sed 's/^/  /'
if [ $failed -gt 0 ]; then
	printf 'failed: %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
