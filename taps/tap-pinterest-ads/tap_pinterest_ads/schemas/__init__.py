"""JSON Schemas of the entity streams, generated from Pinterest's OpenAPI spec by scripts/generate_schemas.py."""
