"""`make up`'s last step: serve the API and console until Ctrl-C."""

from __future__ import annotations

import uvicorn

from api import log_redaction
from core.settings import load_settings
from dispatch.demo import DEMO_SIGN_INS


def main() -> None:
    settings = load_settings()
    print(
        f"\nField-service dispatch on http://{settings.host}:{settings.port}"
        "  (API docs: /schema, Ctrl-C stops)"
    )
    print(DEMO_SIGN_INS + "\n", flush=True)
    log_redaction.install()
    uvicorn.run(
        "api.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        proxy_headers=False,
        log_level="info",
    )


if __name__ == "__main__":
    main()
