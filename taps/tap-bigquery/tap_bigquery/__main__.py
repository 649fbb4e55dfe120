from tap_bigquery.tap import TapBigQuery

TapBigQuery.cli()
