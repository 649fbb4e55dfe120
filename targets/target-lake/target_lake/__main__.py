from target_lake.target import TargetLake

TargetLake.cli()
