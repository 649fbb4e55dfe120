from target_postgres.target import TargetPostgres

TargetPostgres.cli()
