#!/usr/bin/env bash
# `ephpm php` behaves like php-cli for what scripts and test runners rely on.
#   bash runtime/php/tests/cli_test.sh [path/to/ephpm]
# Prints one line per failure and a last line "N passed, M failed".
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
EPHPM=${1:-$ROOT/build/runtime/ephpm}
PHP=${PHP:-/usr/bin/php}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
unset EPHPM_CONFIG EPHPM_KV_SWEEPER PHPRC PHP_INI_SCAN_DIR

passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# run CMD...: sets $out, $err, $rc
run() {
  out=$("$@" 2>"$tmp/stderr")
  rc=$?
  err=$(cat "$tmp/stderr")
}
expect_rc() {  # expect_rc WANT LABEL
  if [ "$rc" = "$1" ]; then ok; else bad "$2: exit code $rc, expected $1 (stdout: ${out:0:200}; stderr: ${err:0:300})"; fi
}
expect_out() {  # expect_out WANT LABEL
  if [ "$out" = "$1" ]; then ok; else bad "$2: stdout [${out:0:400}], expected [$1] (stderr: ${err:0:300})"; fi
}
expect_out_contains() {
  if [[ "$out" == *"$1"* ]]; then ok; else bad "$2: stdout [${out:0:400}] lacks [$1] (stderr: ${err:0:300})"; fi
}
expect_err_contains() {
  if [[ "$err" == *"$1"* ]]; then ok; else bad "$2: stderr [${err:0:400}] lacks [$1]"; fi
}
expect_err_empty() {
  if [ -z "$err" ]; then ok; else bad "$1: unexpected stderr [${err:0:400}]"; fi
}

# --- exit status -------------------------------------------------------------------------------
run "$EPHPM" php -r 'exit(3);'
expect_rc 3 "exit(3)"
run "$EPHPM" php -r 'echo "x";'
expect_rc 0 "normal end"; expect_out "x" "echo"
run "$EPHPM" php -r 'exit("bye");'
expect_rc 0 'exit("bye")'; expect_out "bye" 'exit("bye") prints'
run "$EPHPM" php -r 'throw new RuntimeException("boom");'
expect_rc 255 "uncaught exception"; expect_err_contains "PHP Fatal error:  Uncaught RuntimeException: boom" "uncaught exception message"
run "$EPHPM" php -r 'undefined_function_xyz();'
expect_rc 255 "fatal error (undefined function)"; expect_err_contains "Call to undefined function undefined_function_xyz()" "fatal message"
run "$EPHPM" php -r 'foo(;'
expect_rc 255 "parse error in -r"; expect_err_contains "PHP Parse error:" "parse error message"
printf '<?php\nfunction f( {\n' > parse.php
run "$EPHPM" php parse.php
expect_rc 255 "parse error in a file"; expect_err_contains "parse.php on line 2" "parse error location"
run "$EPHPM" php -r 'register_shutdown_function(function () { exit(5); });'
expect_rc 5 "exit() in a shutdown function"
run "$EPHPM" php -r 'trigger_error("fatal", E_USER_ERROR);'
expect_rc 255 "E_USER_ERROR"
run "$EPHPM" php -d memory_limit=8M -r '$a = str_repeat("x", 16 << 20);'
expect_rc 255 "memory_limit exhausted"; expect_err_contains "Allowed memory size of 8388608 bytes exhausted" "memory fatal message"
run "$EPHPM" php /nonexistent/script.php
expect_rc 1 "missing script"; expect_err_contains "Could not open input file: /nonexistent/script.php" "missing script message"

# --- fatal output with display_errors (php -n has display_errors=1, like php-cli) --------------
run "$EPHPM" php -n -r 'undefined_function_xyz();'
expect_rc 255 "-n fatal"; expect_out_contains "Fatal error: Uncaught Error: Call to undefined function" "-n shows fatal errors on stdout"

# --- argv / argc / $_SERVER ---------------------------------------------------------------------
cat > args.php <<'PHP'
<?php
echo $argc, "|", implode(",", $argv), "|", $_SERVER['argc'], "|", $_SERVER['PHP_SELF'], "|",
  $_SERVER['SCRIPT_NAME'], "|", $_SERVER['SCRIPT_FILENAME'], "|", $_SERVER['DOCUMENT_ROOT'], "|",
  $_SERVER['EPHPM_TEST_ENV'] ?? 'noenv', "|", basename(__FILE__), "|", PHP_SAPI, "|", php_sapi_name(), "\n";
PHP
run env EPHPM_TEST_ENV=hello "$EPHPM" php args.php a -b --c=d ""
expect_out "5|args.php,a,-b,--c=d,|5|args.php|args.php|args.php||hello|args.php|cli|cli" "argv/argc/\$_SERVER for a script"
run "$EPHPM" php -r 'echo $argc, "|", implode(",", $argv);' x y
expect_out "3|Standard input code,x,y" "-r with args"
run "$EPHPM" php -r 'echo implode(",", $argv);' -- -x --y
expect_out "Standard input code,-x,--y" "-r with -- args"
run "$EPHPM" php -f args.php -- -q
expect_out_contains "2|args.php,-q|" "-f FILE -- args"
run bash -c "echo '<?php echo implode(\",\", \$argv), \"|\", \$_SERVER[\"PHP_SELF\"];' | '$EPHPM' php -- p q"
expect_out "Standard input code,p,q|Standard input code" "script from stdin with -- args"
run bash -c "echo '<?php echo 40 + 2, defined(\"STDIN\") ? \" stdin-const\" : \" no-const\";' | '$EPHPM' php"
expect_out "42 no-const" "script from stdin (no STDIN constants, like php-cli)"
run "$EPHPM" php -n -d display_errors=0 args.php
expect_out_contains "1|args.php|" "options before the script"

# --- shebang, STDIN/STDOUT/STDERR ----------------------------------------------------------------
printf '#!/usr/bin/env php\n<?php\necho "line ", __LINE__, "\\n";\n' > shebang.php
run "$EPHPM" php shebang.php
expect_out "line 3" "shebang line skipped, line numbers kept"
cat > stdio.php <<'PHP'
<?php
$in = fgets(STDIN);
fwrite(STDOUT, "out:" . trim($in) . "\n");
fwrite(STDERR, "err:" . trim($in) . "\n");
var_dump(is_resource(STDIN), get_resource_type(STDOUT));
PHP
run bash -c "echo piped | '$EPHPM' php stdio.php"
expect_out $'out:piped\nbool(true)\nstring(6) "stream"' "STDIN/STDOUT constants"
expect_err_contains "err:piped" "STDERR constant"
run bash -c "'$EPHPM' php -r 'echo stream_get_contents(STDIN);' < stdio.php"
expect_out_contains 'fgets(STDIN)' "-r reads STDIN"

# --- output: unbuffered, closed pipe ------------------------------------------------------------
run bash -c "'$EPHPM' php -r 'echo \"a\"; fwrite(STDERR, \"b\"); echo \"c\";' 2>&1"
expect_out "abc" "stdout is unbuffered (interleaves with stderr in order)"
run timeout 10 bash -c "'$EPHPM' php -r 'while (true) { echo str_repeat(\"x\", 4096); }' | head -c 10 >/dev/null; echo \${PIPESTATUS[0]}"
if [ "$rc" = 0 ] && [ -n "$out" ] && [ "$out" != 124 ]; then ok; else bad "writing to a closed pipe ends the script (got rc=$rc status=$out)"; fi
run "$EPHPM" php -r 'echo 1; var_dump(headers_sent()); header("X-A: b"); echo json_encode(headers_list());'
expect_out "1bool(true)
[]" "headers are disabled like php-cli"

# --- INI: -d, -n, -c, php.ini lookup, extensions ------------------------------------------------
run "$EPHPM" php -r 'echo get_cfg_var("cfg_file_path"), "|", ini_get("memory_limit"), "|", ini_get("display_errors"), "|", ini_get("html_errors"), "|", ini_get("implicit_flush"), "|", ini_get("output_buffering"), "|", ini_get("max_execution_time");'
expect_out "/etc/php/8.2/cli/php.ini|-1||0|1|0|0" "Debian php-cli php.ini + php-cli hard-coded INI"
run "$EPHPM" php -d memory_limit=64M -d include_path=/a:/b -d precision -d error_reporting=-1 -r 'echo ini_get("memory_limit"), "|", ini_get("include_path"), "|", ini_get("precision"), "|", error_reporting();'
expect_out "64M|/a:/b|1|-1" "-d key=value, quoting, bare -d key"
run "$EPHPM" php -dmemory_limit=65M -r 'echo ini_get("memory_limit");'
expect_out "65M" "-dkey=value (attached)"
run "$EPHPM" php -d max_execution_time=7 -r 'echo ini_get("max_execution_time");'
expect_out "7" "-d beats the hard-coded INI"
run "$EPHPM" php -n -r 'echo var_export(get_cfg_var("cfg_file_path"), true), "|", ini_get("display_errors"), "|", extension_loaded("apcu") ? "apcu" : "no-apcu", "|", extension_loaded("ephpm") ? "ephpm" : "no-ephpm";'
expect_out "false|1|no-apcu|ephpm" "-n: no php.ini, no conf.d, display_errors=1, ephpm still there"
run "$EPHPM" php -n -d extension=apcu -d zend_extension=opcache -d opcache.enable_cli=1 -r 'echo extension_loaded("apcu") ? "apcu" : "-", "|", opcache_get_status(false)["opcache_enabled"] ? "opcache" : "-";'
expect_out "apcu|opcache" "-n -d extension=... / zend_extension=... load extensions"
printf 'memory_limit=77M\n' > custom.ini
run "$EPHPM" php -c custom.ini -r 'echo ini_get("memory_limit"), "|", basename(get_cfg_var("cfg_file_path"));'
expect_out "77M|custom.ini" "-c FILE"
mkdir -p inidir && printf 'memory_limit=78M\n' > inidir/php.ini
run "$EPHPM" php -c inidir -r 'echo ini_get("memory_limit");'
expect_out "78M" "-c DIR"
run env PHPRC="$tmp/inidir" "$EPHPM" php -r 'echo ini_get("memory_limit");'
expect_out "78M" "PHPRC=DIR"
run env PHPRC="$tmp/nothing-here" "$EPHPM" php -r 'echo basename(get_cfg_var("cfg_file_path"));'
expect_out "php.ini" "PHPRC without an ini falls back to the cli php.ini"
run "$EPHPM" php -r 'foreach (["apcu", "igbinary", "redis", "memcached", "Zend OPcache", "ephpm", "pcntl", "posix", "mbstring", "intl"] as $e) echo $e, "=", extension_loaded($e) ? 1 : 0, " ";'
expect_out "apcu=1 igbinary=1 redis=1 memcached=1 Zend OPcache=1 ephpm=1 pcntl=1 posix=1 mbstring=1 intl=1 " "extensions load as under php-cli"
run "$EPHPM" php -d opcache.enable_cli=1 -r 'echo is_array(opcache_get_status(false)) ? "opcache on" : "opcache off";'
expect_out "opcache on" "OPcache works with opcache.enable_cli=1 (SAPI name cli)"
run "$EPHPM" php -r 'echo opcache_get_status(false) === false ? "off" : "on";'
expect_out "off" "OPcache off by default in cli"
run "$EPHPM" php -d apc.enable_cli=1 -r 'apcu_store("a", 41); echo apcu_fetch("a") + 1, "|", igbinary_unserialize(igbinary_serialize([1]))[0];'
expect_out "42|1" "APCu (apc.enable_cli=1) and igbinary work"
# Every INI value and every $_SERVER key is identical to php-cli's (with and without -n), apart from the ephpm
# extension's own settings (ephpm.session_lock_*).
ini_dump='foreach (ini_get_all(null, false) as $k => $v) if (!str_starts_with($k, "ephpm.")) echo "$k=$v\n";'
for flags in "" "-n"; do
  run "$EPHPM" php $flags -r "$ini_dump"
  mine=$out
  run "$PHP" $flags -r "$ini_dump"
  if [ "$mine" = "$out" ]; then ok; else bad "INI differs from php $flags: $(diff <(echo "$mine") <(echo "$out") | head -6)"; fi
done
run "$EPHPM" php -r 'echo implode(",", array_keys($_SERVER));'
mine=$out
run "$PHP" -r 'echo implode(",", array_keys($_SERVER));'
if [ "$mine" = "$out" ]; then ok; else bad "\$_SERVER keys differ from php-cli: [$mine] vs [$out]"; fi
run "$EPHPM" php -m
mods_ephpm=$out
run "$PHP" -m
if [ "$(printf '%s\n' "$mods_ephpm" | grep -v '^ephpm$')" = "$out" ]; then ok; else bad "-m: module list differs from php -m (besides ephpm): $(diff <(echo "$mods_ephpm") <(echo "$out") | head -5)"; fi
if printf '%s\n' "$mods_ephpm" | grep -qx ephpm; then ok; else bad "-m lists ephpm"; fi
run "$EPHPM" php -v
if [[ "$out" == "PHP 8.2."*" (cli) "*"(NTS)"*"Zend Engine v4.2"* ]]; then ok; else bad "-v: [$out]"; fi
expect_rc 0 "-v exit code"
run "$EPHPM" php --ini
expect_out_contains "Loaded Configuration File:         /etc/php/8.2/cli/php.ini" "--ini"
expect_out_contains "/etc/php/8.2/cli/conf.d/20-apcu.ini" "--ini scanned files"
run "$EPHPM" php -i
expect_out_contains "Server API => Command Line Interface (ephpm php)" "-i prints text phpinfo"
expect_out_contains "ephpm support => enabled" "-i shows the ephpm section"
run env PHP_INI_SCAN_DIR= "$EPHPM" php -r 'echo extension_loaded("apcu") ? "apcu" : "none";'
expect_out "none" "empty PHP_INI_SCAN_DIR is respected"
run "$EPHPM" php -r 'echo getenv("PHP_INI_SCAN_DIR") === false ? "unset" : "set";'
expect_out "unset" "the scan-dir override does not leak into the environment"
run "$EPHPM" php -l shebang.php
expect_out "No syntax errors detected in shebang.php" "-l ok"; expect_rc 0 "-l ok rc"
run "$EPHPM" php -l parse.php
expect_rc 255 "-l parse error"
run "$EPHPM" php -h
expect_rc 0 "-h"; expect_out_contains "Usage: ephpm php" "-h usage"
run "$EPHPM" php -Q
expect_rc 1 "unknown option"; expect_err_contains "unknown option -Q" "unknown option message"
run "$EPHPM" php -r
expect_rc 1 "-r without code"
run "$EPHPM" php -a
expect_rc 1 "unsupported -a"; expect_err_contains "not supported" "unsupported option message"

run "$EPHPM"
expect_rc 2 "ephpm without a subcommand is a usage error"; expect_err_contains "subcommand" "usage error message"
# The version is set once, by project(VERSION) in CMakeLists.txt, and shows in all three places.
version=$(sed -n 's/^project(ephpm VERSION \([0-9.]*\) .*/\1/p' "$ROOT/CMakeLists.txt")
if [ -n "$version" ]; then ok; else bad "no project(ephpm VERSION x.y.z ...) line in CMakeLists.txt"; fi
run "$EPHPM" --version
expect_out "ephpm $version" "ephpm --version"
run "$EPHPM" php -v
expect_out_contains "(cli) (ephpm $version)" "php -v names the ephpm version"
run "$EPHPM" php -r 'echo phpversion("ephpm");'
expect_out "$version" "phpversion('ephpm')"
run "$EPHPM" php -r 'phpinfo(INFO_MODULES);'
expect_out_contains "ephpm support => enabled
Version => $version" "phpinfo() shows the ephpm version"

# --- PHP_BINARY and the ephpm-php multi-call link -----------------------------------------------
run "$EPHPM" php -r 'echo basename(PHP_BINARY);'
expect_out "ephpm-php" "PHP_BINARY is the ephpm-php link"
run "$(dirname "$EPHPM")/ephpm-php" -r 'echo PHP_SAPI, "|", function_exists("ephpm_kv_get") ? "kv" : "nokv";'
expect_out "cli|kv" "ephpm-php behaves like ephpm php"
run "$EPHPM" php -r 'passthru(escapeshellarg(PHP_BINARY) . " -r \"echo 6*7;\"", $st); exit($st);'
expect_out "42" "re-running PHP_BINARY with php-cli options works (PHPUnit process isolation)"

if command -v composer >/dev/null; then
  run "$EPHPM" php "$(command -v composer)" --version --no-ansi
  expect_out_contains "Composer version" "Composer runs under ephpm php"
fi

# --- store wiring and config lookup --------------------------------------------------------------
run "$EPHPM" php -r 'var_dump(ephpm_kv_set("a", "b"), ephpm_kv_get("a"), ephpm_kv_stats()["memory_limit"]);'
expect_out $'bool(true)\nstring(1) "b"\nint(268435456)' "a real store with default [kv]"
printf '[kv]\nmemory_limit = "2MB"\neviction_policy = "noeviction"\nshards = 2\n' > small.toml
run "$EPHPM" --config small.toml php -r 'echo ephpm_kv_stats()["memory_limit"];'
expect_out "2097152" "ephpm --config FILE php"
run "$EPHPM" --config=small.toml php -r 'echo ephpm_kv_stats()["memory_limit"];'
expect_out "2097152" "ephpm --config=FILE php"
run env EPHPM_CONFIG=small.toml "$EPHPM" php -r 'echo ephpm_kv_stats()["memory_limit"];'
expect_out "2097152" "EPHPM_CONFIG"
mkdir -p cwdconf && cp small.toml cwdconf/ephpm.toml
run bash -c "cd cwdconf && '$EPHPM' php -r 'echo ephpm_kv_stats()[\"memory_limit\"];'"
expect_out "2097152" "./ephpm.toml is picked up"
run env EPHPM_CONFIG=small.toml "$EPHPM" --config /nonexistent.toml php -r 'echo 1;'
expect_rc 2 "--config of a missing file is an error (exit 2)"; expect_err_contains "nonexistent.toml" "error names the file"
printf '[kv]\neviction_policy = "lru"\n' > badpolicy.toml
run "$EPHPM" --config badpolicy.toml php -r 'echo 1;'
expect_rc 2 "invalid [kv] is an error (exit 2)"; expect_err_contains "eviction_policy" "error names the key"
run env EPHPM_CONFIG=badpolicy.toml "$EPHPM" php -r 'echo 1;'
expect_rc 2 "invalid config through EPHPM_CONFIG (exit 2)"
cp badpolicy.toml cwdconf/ephpm.toml
run bash -c "cd cwdconf && '$EPHPM' php -r 'echo 1;'"
expect_rc 2 "invalid ./ephpm.toml (exit 2)"; expect_err_contains "ephpm.toml: [kv] eviction_policy" "names ./ephpm.toml"
cp small.toml cwdconf/ephpm.toml
# Not a config file: a FIFO (would hang), /dev/zero (would be read until memory runs out), a
# directory, a file over 1 MB. `timeout` turns a hang into exit 124.
mkfifo fifo.toml
head -c 1048577 /dev/zero | tr '\0' '#' > big.toml
for bad in fifo.toml /dev/zero "$tmp" big.toml; do
  run timeout 10 "$EPHPM" --config "$bad" php -r 'echo 1;'
  expect_rc 2 "--config $bad"; expect_err_contains "ephpm php: $bad: cannot read config file: " "names $bad"
done
run timeout 10 env EPHPM_CONFIG=fifo.toml "$EPHPM" php -r 'echo 1;'
expect_rc 2 "EPHPM_CONFIG=fifo"; expect_err_contains "not a regular file (a FIFO)" "FIFO reason"
run timeout 10 "$EPHPM" --config big.toml php -r 'echo 1;'
expect_err_contains "larger than 1 MB (1048577 bytes)" "size cap reason"
printf '[php]\nini_file = "fifo.toml"\n' > inififo.toml
run timeout 10 "$EPHPM" --config inififo.toml php -r 'echo 1;'
expect_rc 2 "[php] ini_file naming a FIFO"; expect_err_contains '[php] ini_file: "'"$tmp"'/fifo.toml": not a regular file (a FIFO)' "ini_file reason"
printf '[kv]\nsecret = "s3cret"\n' > warn.toml
run "$EPHPM" --config warn.toml php -r 'echo "ran";'
expect_out "ran" "unimplemented ePHPm [kv] keys only warn"; expect_err_contains "[kv] secret" "warning names the key"
printf '[kv]\ncompression = true\n' > badcomp.toml
run "$EPHPM" --config badcomp.toml php -r 'echo "ran";'
expect_rc 2 "[kv] compression is implemented: a wrong type is a config error"
expect_err_contains "[kv] compression: expected a string, got boolean" "compression type reason"
run "$EPHPM" php -r '$pid = pcntl_fork(); if ($pid === 0) { ephpm_kv_set("child", "wrote"); exit(0); } pcntl_waitpid($pid, $s); echo ephpm_kv_get("child");'
expect_out "wrote" "pcntl_fork children share the store"; expect_rc 0 "fork exit code"

# A fatal error while building a value string (PHP memory_limit) must not wedge the store.
run "$EPHPM" php -d memory_limit=12M -r 'if (!ephpm_kv_set("big", str_repeat("x", 3 << 20))) { echo "set refused\n"; } register_shutdown_function(function () { ephpm_kv_set("small", "ok"); echo "shutdown:", ephpm_kv_get("small"), ":", (int) ephpm_kv_exists("big"), ":", ephpm_kv_stats()["keys"], "\n"; }); $keep = []; for ($i = 0; $i < 10; $i++) { $keep[] = ephpm_kv_get("big"); }'
expect_rc 255 "value larger than PHP memory headroom is PHP's usual fatal"
expect_err_contains "Allowed memory size" "memory fatal"
expect_out_contains "shutdown:ok:1:2" "the store still works after the bailout (no lock held)"

# --- timing: no hang at exit with helper threads -------------------------------------------------
start=$(date +%s%N)
run "$EPHPM" php -r 'echo "quick";'
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$elapsed" -lt 2000 ]; then ok; else bad "ephpm php -r took ${elapsed} ms (sweeper shutdown should be immediate)"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
