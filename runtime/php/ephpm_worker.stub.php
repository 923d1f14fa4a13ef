<?php

/** @generate-class-entries */

namespace {
    function ephpm_handle_request(callable $handler): bool {}

    function fastcgi_finish_request(): bool {}

    /** @return array<string, string> */
    function getallheaders(): array {}
}

namespace Ephpm\Worker {
    /** @not-serializable */
    final class Envelope
    {
        public function serverVars(): array {}

        public function headers(): array {}

        public function cookies(): array {}

        public function query(): array {}

        public function parsedBody(): ?array {}

        public function files(): array {}

        /** @return resource */
        public function bodyStream() {}

        public function rawBody(): string {}
    }

    function take_request(): ?Envelope {}

    function send_response(int $status, array $headers, string $body): void {}
}
