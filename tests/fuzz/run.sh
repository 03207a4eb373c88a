#!/bin/sh
# Builds the libFuzzer harnesses with clang (ASan + UBSan) and runs each for SECONDS (default 30)
# from its seed corpus. A crash leaves its input in tests/fuzz/crash-*; the exit status is non-zero.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${1:-30}
out=${FUZZ_BUILD:-/tmp/directord-fuzz}
mkdir -p "$out"
CXX=${CXX_FUZZ:-clang++-14}
flags="-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
inc="-I$root/director -I$out/include"
# the headers' include roots as the build lays them out ("base/..." and "kmod/sync/...")
mkdir -p "$out/include/kmod"
ln -sfn "$root/director/base" "$out/include/base"
ln -sfn "$root/kmod/sync" "$out/include/kmod/sync"
echo "fuzz: building the sync decoder harness"
$CXX $flags $inc "$here/SyncFuzz.cpp" "$root/kmod/sync/SyncProtocol.cpp" "$root/director/base/IpAddress.cpp" \
    -o "$out/sync_fuzz"
work="$out/corpus-sync"
mkdir -p "$work"
cp "$here"/corpus/sync/* "$work"/ 2>/dev/null || true
echo "fuzz: sync decoder, $seconds s"
cd "$out"
status=0
./sync_fuzz -max_total_time="$seconds" -max_len=2048 -print_final_stats=1 -artifact_prefix="$here/crash-" "$work" \
    >"$out/sync.log" 2>&1 || status=$?
grep -E "^(Done|stat::number_of_executed_units|stat::new_units_added)|ERROR|SUMMARY" "$out/sync.log" || true
if [ "$status" -ne 0 ]; then
    tail -n 60 "$out/sync.log"
    echo "fuzz: the sync decoder harness failed (status $status); the input is in $here/crash-*"
    exit 1
fi
