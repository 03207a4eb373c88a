#!/usr/bin/env bash
# The quickstart: two small demo web servers on 127.0.0.1:8081 and :8082, and directord in front of
# them on 127.0.0.1:8080 (conf/examples/quickstart.conf, userspace data plane). Try, from another
# shell:  curl http://127.0.0.1:8080/   (twice: round robin answers from both)
# Ctrl-C stops directord and the demo servers.
set -euo pipefail
cd "$(dirname "$0")/.."
directord=${DIRECTORD:-build/directord}
[ -x "$directord" ] || { echo "quickstart: $directord is not built; run the README's first command" >&2; exit 1; }

demo=$(mktemp -d /tmp/directord-quickstart.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$demo"
}
trap cleanup EXIT
for n in 1 2; do
  mkdir -p "$demo/backend$n"
  echo "hello from demo backend $n (127.0.0.1:808$n)" > "$demo/backend$n/index.html"
  python3 -m http.server "808$n" --bind 127.0.0.1 --directory "$demo/backend$n" >/dev/null 2>&1 &
  pids+=($!)
done
echo "quickstart: demo backends on 127.0.0.1:8081 and :8082; directord on 127.0.0.1:8080 (try: curl http://127.0.0.1:8080/);"
echo "quickstart: its status page on http://127.0.0.1:9101/"
"$directord" -f conf/examples/quickstart.conf "$@" &
pids+=($!)
wait "${pids[-1]}"
