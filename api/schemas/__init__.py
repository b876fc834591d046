"""Request and response bodies (msgspec): validated on the way in, documented in OpenAPI."""
