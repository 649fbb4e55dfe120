from tap_shopify.tap import TapShopify

TapShopify.cli()
