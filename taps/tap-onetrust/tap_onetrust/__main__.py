from tap_onetrust.tap import TapOneTrust

TapOneTrust.cli()
