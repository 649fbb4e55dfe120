"""Singer target for a raw lake: partitioned Parquet or JSONL.gz, manifests, provenance."""
