<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony;

/**
 * Lets a pool skip unserialize() when it reads the very same bytes again: a value read a third time unchanged is
 * handed out from here instead.
 *
 * One instance per pool instance, so per request under `ephpm serve` and per run of a CLI script. Per backend key it
 * records the bytes read last time. The first read of some bytes only records them (a value read once costs nothing
 * more); the second read of the same bytes checks once whether their value may be shared (isShareable()); from the
 * third read on, a shareable value is handed out. A value is only handed out when the bytes just read are identical to
 * the recorded ones, so it is always what unserialize() of those bytes returns.
 *
 * Only for a marshaller that is plain unserialize() (Symfony's DefaultMarshaller): the pool decides that.
 *
 * @internal
 */
final class UnserializeMemo
{
    /** Only values of at least / at most this many serialized bytes, at most this many values and bytes in total. */
    public const MIN_BYTES = 64;
    public const MAX_BYTES = 65536;
    public const MAX_ENTRIES = 1000;
    public const MAX_TOTAL_BYTES = 4 << 20;

    /** How serialize() writes Symfony's metadata wrapper (the immutable class "\xA9", symfony/cache >= 6.x). */
    private const WRAPPER_PREFIX = "O:1:\"\xA9\":";

    /** @var array<array-key, string> backend key => the bytes read last time */
    private array $seen = [];
    private int $seenBytes = 0;
    /** @var array<array-key, bool> backend key => whether the value of the recorded bytes may be shared */
    private array $shareable = [];
    /** @var array<array-key, mixed> backend key => the shared value of the recorded bytes */
    private array $shared = [];

    /**
     * The value of $raw read under $key when it can be handed out without unserialize(), else null. A shared value is
     * never null itself (isShareable() needs MIN_BYTES of serialized data; null serializes to "N;").
     */
    public function lookup(int|string $key, string $raw): mixed
    {
        return isset($this->shared[$key]) && $this->seen[$key] === $raw ? $this->shared[$key] : null;
    }

    /**
     * lookup() for a batch: the values of those of $raw (key => bytes read) that can be handed out without
     * unserialize(), by key.
     *
     * @param array<array-key, string> $raw
     *
     * @return array<array-key, mixed>
     */
    public function lookupAll(array $raw): array
    {
        $values = [];
        foreach ($raw as $key => $bytes) {
            if (isset($this->shared[$key]) && $this->seen[$key] === $bytes) {
                $values[$key] = $this->shared[$key];
            }
        }

        return $values;
    }

    /**
     * Learns from one read: $value is what unserialize($raw) returned for the bytes read under $key.
     */
    public function learn(int|string $key, string $raw, mixed $value): void
    {
        if (!isset($this->seen[$key]) || $this->seen[$key] !== $raw) {
            $this->remember($key, $raw); // first read of these bytes: only record them
        } elseif (!isset($this->shareable[$key])) {
            // Second read of the same bytes: decide once whether the value may be shared from now on.
            if ($this->shareable[$key] = self::isShareable($raw)) {
                $this->shared[$key] = $value;
            }
        }
    }

    /**
     * Whether unserialize($raw) can be shared between reads: PHP's serialize format (what DefaultMarshaller writes
     * without igbinary), large enough for unserialize() to cost more than the check, and holding no object and no
     * reference (those could be mutated through one read and seen by the next). Symfony's own value wrapper for
     * metadata is an object that Symfony never exposes nor modifies, so it may stand at the top.
     */
    public static function isShareable(string $raw): bool
    {
        $length = \strlen($raw);
        if ($length < self::MIN_BYTES || $length > self::MAX_BYTES || ':' !== $raw[1]) {
            return false;
        }
        $offset = 0;
        if ('O' === $raw[0]) {
            if (!str_starts_with($raw, self::WRAPPER_PREFIX)) {
                return false;
            }
            $offset = \strlen(self::WRAPPER_PREFIX);
        } elseif ('C' === $raw[0]) {
            return false;
        }

        return 0 === preg_match('/[;{][OCRr]:[0-9]/', $raw, $m, 0, $offset);
    }

    private function remember(int|string $key, string $raw): void
    {
        $length = \strlen($raw);
        if ($length < self::MIN_BYTES || $length > self::MAX_BYTES) {
            return;
        }
        if (isset($this->shareable[$key])) {
            unset($this->shareable[$key], $this->shared[$key]); // the bytes changed
        }
        $this->seen[$key] = $raw;
        // Overwrites count twice here; the exact figure is recomputed when trimming.
        if (($this->seenBytes += $length) > self::MAX_TOTAL_BYTES || \count($this->seen) > self::MAX_ENTRIES) {
            // Forget the older half (insertion order), as Symfony does for its id memo.
            $this->seen = \array_slice($this->seen, intdiv(\count($this->seen), 2), null, true);
            $this->shareable = array_intersect_key($this->shareable, $this->seen);
            $this->shared = array_intersect_key($this->shared, $this->seen);
            $this->seenBytes = array_sum(array_map('strlen', $this->seen));
        }
    }
}
