"""API emulators for the taps in this workspace; see the package README."""
