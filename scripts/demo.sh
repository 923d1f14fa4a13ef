#!/usr/bin/env bash
# `make demo`: the README's "End-to-end: a fresh PHP project" (examples/my-app/), served by `ephpm serve` in the
# foreground on 127.0.0.1:8080 (Ctrl-C stops it). Builds build/runtime/ephpm and runs `composer install` in the
# example when needed. EPHPM_DEMO_LISTEN=host:port serves elsewhere (passed as `ephpm serve --listen`).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
app=$root/examples/my-app

command -v composer >/dev/null || { echo "demo: composer missing: run \`make deps\`" >&2; exit 1; }
echo "--- build (build/runtime/ephpm)"
JOBS=${JOBS:-2} bash scripts/build.sh release ephpm
if [ ! -f "$app/vendor/autoload.php" ] || [ "$app/composer.json" -nt "$app/vendor/autoload.php" ]; then
  echo "--- composer install (examples/my-app)"
  (cd "$app" && composer install --no-interaction --no-progress)
fi

listen=${EPHPM_DEMO_LISTEN:-127.0.0.1:8080}
extra=()
[ -n "${EPHPM_DEMO_LISTEN:-}" ] && extra=(--listen "$listen")
url="http://$listen"
[[ "$listen" == *:0 ]] && url="http://<the address printed below>"
cat <<MSG

--- examples/my-app: ephpm serve --config ephpm.toml ${extra[*]}
    Open $url/ or run:  curl $url/
    (each request increments the counter; the health check is $url/health.php)
    Ctrl-C stops the server; the counter lives in the server's memory and restarts at 1.

MSG
cd "$app"
exec "$root/build/runtime/ephpm" serve --config ephpm.toml "${extra[@]}"
