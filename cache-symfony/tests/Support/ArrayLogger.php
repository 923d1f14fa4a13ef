<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Support;

use Psr\Log\AbstractLogger;

/**
 * Collects log records (works with psr/log 1, 2 and 3).
 */
final class ArrayLogger extends AbstractLogger
{
    /** @var list<array{string, string, array<mixed>}> */
    public array $records = [];

    /**
     * @param mixed        $level
     * @param string       $message
     * @param array<mixed> $context
     */
    public function log($level, $message, array $context = []): void
    {
        $this->records[] = [(string) $level, (string) $message, $context];
    }

    /** @return list<string> */
    public function messages(string $level): array
    {
        $out = [];
        foreach ($this->records as [$l, $m]) {
            if ($l === $level) {
                $out[] = $m;
            }
        }

        return $out;
    }
}
