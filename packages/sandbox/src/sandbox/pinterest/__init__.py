"""The Pinterest Ads emulator (API v5): ad accounts, campaigns, ad groups and ads with their
daily analytics (restated as late conversions arrive), behind OAuth refresh tokens."""
