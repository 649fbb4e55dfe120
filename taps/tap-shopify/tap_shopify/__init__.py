"""Shopify streams on tapkit."""
