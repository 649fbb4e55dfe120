"""Emulators declared, not written: what ``devstack new-source`` gives a new source."""
