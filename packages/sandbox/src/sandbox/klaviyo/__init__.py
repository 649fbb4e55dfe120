"""The Klaviyo API emulator (revision 2026-07-15)."""
