"""Singer tap for Google BigQuery: tables and queries, exact incremental, parallel key-range slices."""
