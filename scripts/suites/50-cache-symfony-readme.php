<?php

// Prints the `public/index.php` example of cache-symfony/README.md (used by 50-cache-symfony.sh).
$readme = (string) file_get_contents($argv[1]);
if (!preg_match('~```php\n(<\?php\n// public/index\.php\n.*?)```~s', $readme, $m)) {
    fwrite(STDERR, "50-cache-symfony: the public/index.php example was not found in $argv[1]\n");
    exit(1);
}
echo $m[1];
