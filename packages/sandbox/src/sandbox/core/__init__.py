"""API-agnostic machinery shared by every emulator: HTTP serving, clocks, limits, faults, logs."""
