<?php
declare(strict_types=1);
// Under strict_types every mismatch is a TypeError (calls below are made from this file).

test('strict_types: scalars are not coerced', function () {
    throws(TypeError::class, fn () => ephpm_kv_get(5), 'must be of type string, int given');
    throws(TypeError::class, fn () => ephpm_kv_set('k', 5));
    throws(TypeError::class, fn () => ephpm_kv_set('k', 'v', '5'), 'must be of type int, string given');
    throws(TypeError::class, fn () => ephpm_kv_set('k', 'v', 1.0));
    throws(TypeError::class, fn () => ephpm_kv_incr_by('k', '1'));
    throws(TypeError::class, fn () => ephpm_kv_wait('k', 0, 1.5));
    throws(TypeError::class, fn () => ephpm_kv_mset(['a' => 1]), 'Argument #1 ($values) must contain only values of type string, int given');
    throws(TypeError::class, fn () => ephpm_kv_mget([1.0]));
    same(0, ephpm_kv_stats()['keys'], 'nothing written');
    same(true, ephpm_kv_set('k', 'v', 1));
    same(true, ephpm_kv_mset([5 => 'five', 'six' => '6']), 'int array keys are fine under strict_types');
    same(['k' => 'v', 5 => 'five'], ephpm_kv_mget(['k', 5]), 'int elements are fine under strict_types');
});
