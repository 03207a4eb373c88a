#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang-14 (ASan + UBSan; build-fuzz/, ccache) and runs each
# for SECONDS (default 20), as many at once as there are cores, from its seed corpus
# (tests/fuzz/corpus/NAME, plus what earlier runs found, kept in build-fuzz/corpus). Grow the seed
# corpora from long runs by hand:
#   build-fuzz/tests/fuzz/NAME_fuzz -merge=1 tests/fuzz/corpus/NAME build-fuzz/corpus/NAME
# A crash leaves its input in tests/fuzz/crash-NAME-*: keep it as a seed once fixed. Exit status
# non-zero on any crash.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${1:-20}
build="$root/build-fuzz"
log="$build/build.log"
mkdir -p "$build"
echo "fuzz: building the harnesses (clang-14)"
cmake -S "$root" -B "$build" -DDIRECTORD_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++-14 >"$log" 2>&1 || { cat "$log"; exit 1; }
cmake --build "$build" -j"$(nproc)" --target fuzz_all >>"$log" 2>&1 || { tail -n 60 "$log"; exit 1; }
# libconfig 1.5 leaks a string buffer inside its parser on some syntax errors (not ours)
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
# One harness: its corpus, its run, its verdict in $build/NAME.result ("ok RUNS" or "FAILED STATUS").
fuzz_one() {
    name=$1
    work="$build/corpus/$name"
    mkdir -p "$work"
    [ -d "$here/corpus/$name" ] && cp "$here/corpus/$name"/* "$work"/ 2>/dev/null || true
    if [ "$name" = conf ]; then cp "$root"/tests/corpus/good/*.conf "$work"/ 2>/dev/null || true; fi
    if [ "$name" = keepalived ]; then cp /usr/share/doc/keepalived/samples/keepalived.conf.* "$work"/ 2>/dev/null || true; fi
    # the largest input each parser can meet: a whole sync datagram, a config with its includes
    case $name in
        sync|syncinstall|datagram) max_len=65535 ;;
        conf|keepalived|include) max_len=16384 ;;
        *) max_len=4096 ;;
    esac
    status=0
    (cd "$build" && ./tests/fuzz/${name}_fuzz -max_total_time="$seconds" -max_len="$max_len" -print_final_stats=1 \
        -artifact_prefix="$here/crash-$name-" "$work" >"$build/$name.log" 2>&1) || status=$?
    if [ "$status" -ne 0 ]; then
        echo "FAILED $status" >"$build/$name.result"
    else
        echo "ok $(sed -n 's/^stat::number_of_executed_units: *//p' "$build/$name.log")" >"$build/$name.result"
    fi
}
# As many harnesses at once as there are cores (each is one process on one core).
names="sync conf vrrp http netlink ipvsadm control keepalived accept status syncinstall include datagram"
cores=$(nproc)
running=0
for name in $names; do
    if [ "$running" -ge "$cores" ]; then
        wait -n 2>/dev/null || wait
        running=$((running - 1))
    fi
    fuzz_one "$name" &
    running=$((running + 1))
done
wait
failed=0
for name in $names; do
    read -r verdict runs <"$build/$name.result" || verdict=FAILED
    if [ "$verdict" = ok ]; then
        echo "fuzz: $name: ${runs:-?} runs in $seconds s, no crash"
    else
        tail -n 40 "$build/$name.log"
        echo "fuzz: $name: FAILED (status ${runs:-?}); the input is in $here/crash-$name-*"
        failed=1
    fi
done
exit $failed
