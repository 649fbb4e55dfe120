"""JSON Schemas of the streams, written from Shopify's REST reference (fields the tap relies on)."""
