"""Singer tap for Pinterest Ads: ad accounts, campaigns, ad groups, ads and their daily analytics."""
