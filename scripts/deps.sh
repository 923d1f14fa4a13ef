#!/usr/bin/env bash
# Installs every Debian package the project needs (build, tests, benchmarks). Idempotent:
# packages already present are skipped, so a second run is fast and needs no network.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git curl ca-certificates
  # C++ libraries
  libboost-dev libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev libxxhash-dev
  # [kv] compression codecs
  zlib1g-dev libbrotli-dev libzstd-dev
  # embedded PHP 8.2 and the extensions users expect to load under `ephpm` (php8.2-dev and
  # php-parser: gen_stub.php for scripts/gen-arginfo.sh)
  libphp8.2-embed php8.2-dev php-parser php8.2-cli php8.2-opcache php8.2-mbstring php8.2-xml php8.2-intl
  php-apcu php-igbinary php-redis php-memcached composer
  # cache/integration-tests 0.17 (PSR-6/PSR-16/tag suites of cache-symfony; not on our Packagist mirror)
  php-cache-integration-tests
  # peers for tests and benchmarks (started by the scripts on 127.0.0.1, stopped by pid)
  redis-server memcached nginx-light php8.2-fpm wrk
  # end-to-end test harnesses (suites 40-http-e2e, 60-examples); strace holds `ephpm serve` inside
  # the read of its config file (40-http-e2e: SIGTERM while the config loads)
  python3 strace
  # a real Prometheus server scrapes `[metrics]` (44-metrics); promtool checks the exposition
  prometheus
  # plots for `make bench`
  gnuplot-nox media-types
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian's packaged redis/memcached/nginx/php-fpm start system services on install; our tests
# start their own instances on free loopback ports, so the system ones are stopped again.
for svc in redis-server memcached nginx php8.2-fpm; do
  $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
echo "deps: done"
