from sandbox.bigquery.emulator import main

main()
