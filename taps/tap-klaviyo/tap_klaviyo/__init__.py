"""tap-klaviyo: a Singer tap for the Klaviyo API."""
