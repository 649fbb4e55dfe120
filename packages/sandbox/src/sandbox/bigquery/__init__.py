"""The BigQuery emulator (``bqemulator``, in a venv of its own) for tests and the local stack."""

from sandbox.bigquery.emulator import BigQueryEmulator, EmulatorError, installed, shared

__all__ = ["BigQueryEmulator", "EmulatorError", "installed", "shared"]
