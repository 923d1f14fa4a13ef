<?php
// Reflection of the real ephpm_kv_* functions must match runtime/php/ephpm_kv.stub.php exactly:
// parameter names, types, nullability, optional parameters with their defaults, return types,
// and the set of functions itself.

function signature_from_reflection(ReflectionFunction $f): string
{
    $params = [];
    foreach ($f->getParameters() as $p) {
        $s = (string) $p->getType() . ' $' . $p->getName();
        if ($p->isOptional()) {
            $s .= ' = ' . ($p->isDefaultValueAvailable() ? var_export($p->getDefaultValue(), true) : '?');
        }
        $params[] = $s;
    }
    return $f->getName() . '(' . implode(', ', $params) . '): ' . (string) $f->getReturnType();
}

/** @return array<string, string> name => normalised signature, parsed from the stub text. */
function signatures_from_stub(string $file): array
{
    $src = file_get_contents($file);
    preg_match_all('/^function\s+(\w+)\s*\(([^)]*)\)\s*:\s*([^\s{]+)\s*\{\s*\}/m', $src, $m, PREG_SET_ORDER);
    $out = [];
    foreach ($m as [, $name, $params, $ret]) {
        $params = trim($params) === '' ? [] : array_map('trim', explode(',', $params));
        $out[$name] = "$name(" . implode(', ', $params) . "): $ret";
    }
    return $out;
}

test('Reflection matches ephpm_kv.stub.php', function () {
    $stub = signatures_from_stub(dirname(__DIR__) . '/ephpm_kv.stub.php');
    same(18, count($stub), 'the stub declares 18 functions');
    // Worker mode's functions (ephpm_worker.stub.php; suite 43 compares their Reflection).
    $worker = ['ephpm_handle_request', 'fastcgi_finish_request', 'getallheaders',
               'Ephpm\\Worker\\take_request', 'Ephpm\\Worker\\send_response'];
    $real = array_values(array_diff(get_extension_funcs('ephpm'), $worker));
    $names = array_keys($stub);
    sort($names);
    sort($real);
    same($names, $real, 'same function set as the extension (no ephpm_test_* hooks in ephpm)');
    foreach ($stub as $name => $expected) {
        if (!function_exists($name)) {
            check(false, "$name missing");
            continue;
        }
        $f = new ReflectionFunction($name);
        same($expected, signature_from_reflection($f), $name);
        check($f->isInternal(), "$name internal");
        same('ephpm', $f->getExtensionName(), "$name extension");
        check($f->hasReturnType(), "$name has a return type");
    }
});

test('Reflection details: nullability and union types', function () {
    $get = new ReflectionFunction('ephpm_kv_get');
    check($get->getReturnType()->allowsNull(), 'get returns ?string');
    same('string', $get->getReturnType()->getName());
    $incr = (new ReflectionFunction('ephpm_kv_incr'))->getReturnType();
    check($incr instanceof ReflectionUnionType, 'incr returns a union');
    same(['int', 'false'], array_map(fn ($t) => $t->getName(), $incr->getTypes()));
    $wait = (new ReflectionFunction('ephpm_kv_wait'))->getReturnType();
    same('array|false', (string) $wait);
    $set = new ReflectionFunction('ephpm_kv_set');
    same(2, $set->getNumberOfRequiredParameters());
    same(3, $set->getNumberOfParameters());
    same(1, (new ReflectionFunction('ephpm_kv_incr'))->getNumberOfParameters());
    foreach ((new ReflectionFunction('ephpm_kv_mset'))->getParameters() as $p) {
        check(!$p->allowsNull(), 'mset params are not nullable');
    }
});
