<?php

declare(strict_types=1);

namespace Ephpm\Bundle\Session;

/**
 * `framework.session.handler_id` service for ephpm's native session save handler (`session.save_handler = ephpm`).
 *
 * Like Symfony's NativeFileSessionHandler, this is PHP's own \SessionHandler with the save handler selected in the
 * constructor: reads, writes, per-session locking (a waiter sleeps until the holder releases) and TTLs all happen in
 * the native handler, so sessions opened through Symfony and through plain session_start() are the same data.
 * validateId()/updateTimestamp() give Symfony's strict mode and lazy writes the native semantics (\SessionHandler
 * itself does not expose them).
 *
 * Lock settings, when given, are applied as the INI values ephpm.session_lock_ttl / ephpm.session_lock_wait.
 */
class EphpmSessionHandler extends \SessionHandler implements \SessionUpdateTimestampHandlerInterface
{
    public function __construct(?int $lockTtl = null, ?int $lockWait = null)
    {
        self::assertAvailable();
        self::setIni('session.save_handler', 'ephpm');
        if (null !== $lockTtl) {
            self::setIni('ephpm.session_lock_ttl', (string) $lockTtl);
        }
        if (null !== $lockWait) {
            self::setIni('ephpm.session_lock_wait', (string) $lockWait);
        }
    }

    /**
     * kernel.request listener: makes "ephpm" the save handler before the request's session storage registers it
     * (under a worker-mode server the INI settings of the previous request have been restored meanwhile).
     */
    public static function selectNativeHandler(): void
    {
        // Outside ephpm (a plain php-fpm running the same app) the session fails where it is used, not here.
        if (self::isAvailable()) {
            self::setIni('session.save_handler', 'ephpm');
        }
    }

    private static function isAvailable(): bool
    {
        // The native handler registers its INI settings with it: their absence means no handler.
        return false !== \ini_get('ephpm.session_lock_ttl');
    }

    private static function assertAvailable(): void
    {
        if (!self::isAvailable()) {
            throw new \LogicException('The "ephpm" session save handler is not available: run PHP under "ephpm serve" or "ephpm php".');
        }
    }

    public function validateId(string $id): bool
    {
        return ephpm_kv_exists('session:' . $id);
    }

    public function updateTimestamp(string $id, string $data): bool
    {
        $ttl = (int) \ini_get('session.gc_maxlifetime');

        // The native write checks that this request still holds the session lock; a plain expire needs no check.
        return ($ttl > 0 && ephpm_kv_expire('session:' . $id, $ttl)) || $this->write($id, $data);
    }

    private static function setIni(string $name, string $value): void
    {
        if (\ini_get($name) === $value) {
            return;
        }
        if (str_starts_with($name, 'session.')) {
            if (\PHP_SESSION_ACTIVE === session_status()) {
                return; // PHP refuses session settings now; the running session keeps its handler
            }
            if (headers_sent()) {
                throw new \LogicException(\sprintf('Cannot set "%s = %s" after output has started: set it in php.ini (or [php.ini] in ephpm.toml), or create the session handler earlier.', $name, $value));
            }
        }
        if (false === ini_set($name, $value)) {
            throw new \InvalidArgumentException(\sprintf('Invalid value "%s" for the INI setting "%s".', $value, $name));
        }
    }
}
