"""JSON Schemas of the streams, generated from Klaviyo's OpenAPI spec by scripts/generate_schemas.py."""
