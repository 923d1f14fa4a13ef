<?php

declare(strict_types=1);

namespace Ephpm\Bundle\Session;

/**
 * kernel.request listener: selects the "ephpm" save handler before the request's session storage registers it. A
 * worker-mode server restores INI settings after each request, so the setting made when ephpm.session.handler was
 * created would only last for the kernel's first request. A separate service, so that requests without a session do
 * not build the handler.
 */
final class SaveHandlerSelector
{
    public function onKernelRequest(): void
    {
        EphpmSessionHandler::selectNativeHandler();
    }
}
