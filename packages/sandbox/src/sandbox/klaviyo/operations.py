"""The Klaviyo operations the sandbox serves, by path.  Everything else answers 404.

The committed OpenAPI excerpt (``openapi/klaviyo-<revision>.json``) holds exactly these
operations; ``scripts/trim_klaviyo_openapi.py`` regenerates it from Klaviyo's full spec.
"""

SPEC_REVISION = "2026-07-15"

SERVED_PATHS = (
    "/api/profiles",
    "/api/profiles/{id}",
    "/api/events",
    "/api/events/{id}",
    "/api/campaigns",
    "/api/campaigns/{id}",
    "/api/campaigns/{id}/campaign-messages",
    "/api/campaign-messages/{id}",
    "/api/lists",
    "/api/lists/{id}",
    "/api/lists/{id}/profiles",
    "/api/lists/{id}/relationships/profiles",
    "/api/segments",
    "/api/segments/{id}",
    "/api/segments/{id}/profiles",
    "/api/segments/{id}/relationships/profiles",
    "/api/templates",
    "/api/templates/{id}",
    "/api/metrics",
    "/api/metrics/{id}",
    "/api/flows",
    "/api/flows/{id}",
    "/api/flows/{id}/flow-actions",
    "/api/flow-actions/{id}",
    "/api/tags",
    "/api/tags/{id}",
)
