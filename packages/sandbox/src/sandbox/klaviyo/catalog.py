"""Fixed vocabularies the Klaviyo data generator draws from.

Deliberately awkward in places: non-Latin scripts, emoji, apostrophes, a NUL character, and
values that are null or absent, because real accounts contain all of these.
"""

# (display name, ASCII form for email local parts)
FIRST_NAMES = (
    ("Sarah", "sarah"),
    ("James", "james"),
    ("Zoë", "zoe"),
    ("José", "jose"),
    ("Łukasz", "lukasz"),
    ("Ægir", "aegir"),
    ("Søren", "soren"),
    ("Ana", "ana"),
    ("Mei", "mei"),
    ("李", "li"),
    ("Олег", "oleg"),
    ("Fatima", "fatima"),
    ("Noah", "noah"),
    ("Amélie", "amelie"),
    ("Chidi", "chidi"),
    ("Priya", "priya"),
    ("Kenji", "kenji"),
    ("Olivia", "olivia"),
    ("Mateo", "mateo"),
    ("Ingrid", "ingrid"),
    ("🦄 Uni", "uni"),
    ("Sean", "sean"),
)
LAST_NAMES = (
    ("Mason", "mason"),
    ("O'Brien", "obrien"),
    ("Müller", "muller"),
    ("García", "garcia"),
    ("Nowak", "nowak"),
    ("Nakamura", "nakamura"),
    ("Okafor", "okafor"),
    ("Smith", "smith"),
    ("Dubois", "dubois"),
    ("Иванов", "ivanov"),
    ("王", "wang"),
    ("Johansson", "johansson"),
    ("Rossi", "rossi"),
    ("Kowalczyk", "kowalczyk"),
    ("Silva", "silva"),
    ("Patel", "patel"),
    ("Van der Berg", "vanderberg"),
    ("Nguyễn", "nguyen"),
)
EMAIL_DOMAINS = ("example.com", "mail.example.org", "shop.example.net", "例え.jp")
ORGANIZATIONS = ("Example Corporation", "Acme & Sons", "Café Lumière", "北京示例", "Globex", None)
TITLES = ("Regional Manager", "Buyer", "CTO", "Founder 🚀", "Student", None)
LOCALES = ("en-US", "en-GB", "de-DE", "fr-FR", "ja-JP", "pt-BR", "es-ES", None)
CITIES = (
    ("Boston", "Massachusetts", "United States", "02110", "America/New_York"),
    ("Berlin", "Berlin", "Germany", "10115", "Europe/Berlin"),
    ("São Paulo", "São Paulo", "Brazil", "01000-000", "America/Sao_Paulo"),
    ("Kraków", "Małopolskie", "Poland", "30-001", "Europe/Warsaw"),
    ("東京", "東京都", "Japan", "100-0001", "Asia/Tokyo"),
    ("Lagos", "Lagos", "Nigeria", "100001", "Africa/Lagos"),
    ("Reykjavík", "Höfuðborgarsvæðið", "Iceland", "101", "Atlantic/Reykjavik"),
)
COLORS = ("red", "blue", "green", "teal", "🟣 purple", "")
SIGNUP_SOURCES = ("checkout", "popup form", "landing page", "import", "API")
NOTES_WITH_NUL = "VIP\x00 imported from legacy CRM"  # NUL: Postgres TEXT cannot hold it raw

# (name, integration name, integration category)
METRICS = (
    ("Received Email", "Klaviyo", "Internal"),
    ("Opened Email", "Klaviyo", "Internal"),
    ("Clicked Email", "Klaviyo", "Internal"),
    ("Bounced Email", "Klaviyo", "Internal"),
    ("Marked Email as Spam", "Klaviyo", "Internal"),
    ("Unsubscribed", "Klaviyo", "Internal"),
    ("Received SMS", "Klaviyo", "Internal"),
    ("Clicked SMS", "Klaviyo", "Internal"),
    ("Received Push", "Klaviyo", "Internal"),
    ("Opened Push", "Klaviyo", "Internal"),
    ("Subscribed to List", "Klaviyo", "Internal"),
    ("Placed Order", "Shopify", "eCommerce"),
    ("Ordered Product", "Shopify", "eCommerce"),
    ("Started Checkout", "Shopify", "eCommerce"),
    ("Viewed Product", "API", "Custom"),
    ("Active on Site", "API", "Custom"),
)
# Relative frequency of each metric among events (same order as METRICS).
METRIC_WEIGHTS = (30, 14, 5, 1, 0.2, 0.5, 8, 2, 3, 1, 1, 3, 4, 3, 12, 12)
# Metrics whose events come from a message: which campaign channel sends it (0 email, 1 sms, 2 push).
MESSAGE_METRIC_CHANNEL = {0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 1, 7: 1, 8: 2, 9: 2}

CHANNELS = ("email", "sms", "mobile_push")
CAMPAIGN_STATUSES = (
    "Sent",
    "Draft",
    "Scheduled",
    "Cancelled",
    "Sending",
    "Cancelled: No Recipients",
    "Variations Sent",
)
CAMPAIGN_STATUS_WEIGHTS = (65, 15, 6, 5, 3, 3, 3)
CAMPAIGN_THEMES = (
    "Summer Sale ☀️",
    "Welcome Back",
    "Black Friday",
    "New Arrivals",
    "Last Chance!",
    "Winter Collection",
    "Soldes d'été",
    "Sommerschlussverkauf",
    "VIP Early Access",
    "Restock Alert",
    "Holiday Gift Guide 🎁",
)
PRODUCTS = (
    ("Canvas Tote", 24.0),
    ("Linen Shirt", 59.5),
    ("Ceramic Mug ☕", 18.0),
    ("Trail Runner", 129.99),
    ("Wool Scarf", 45.0),
    ("Désodorisant", 9.95),
    ("抹茶 Tea Set", 72.0),
    ("Gift Card", 50.0),
)

TAGS = (
    "Promotional",
    "Newsletter",
    "Seasonal",
    "Automated",
    "VIP",
    "Transactional",
    "Test 🧪",
    "Welcome Series",
    "Win-back",
    "Ünïcödé",
    "Q4",
    "Abandoned Cart",
)
LIST_NAMES = (
    "Newsletter",
    "VIP Customers",
    "Sweepstakes 2026",
    "Preview List",
    "Back in Stock",
    "Blog Readers",
    "Liste française",
    "日本の顧客",
)
SEGMENT_NAMES = (
    "Engaged 30 days",
    "Repeat Buyers",
    "Churn Risk",
    "High AOV",
    "Lapsed 90 days",
    "New Subscribers",
    "Unengaged",
)
TEMPLATE_NAMES = (
    "Welcome",
    "Receipt",
    "Newsletter",
    "Promo",
    "Abandoned Cart",
    "Shipping Update",
    "Review Request",
)
TEMPLATE_EDITORS = ("CODE", "SYSTEM_DRAGGABLE", "USER_DRAGGABLE")
FLOW_NAMES = (
    "Welcome Series",
    "Abandoned Cart",
    "Browse Abandonment",
    "Post-Purchase",
    "Win-back",
    "Birthday 🎂",
    "Sunset Unengaged",
)
FLOW_STATUSES = ("live", "draft", "manual")
FLOW_TRIGGERS = (
    "Added to List",
    "Metric",
    "Date Based",
    "Price Drop",
    "Low Inventory",
    "Unconfigured",
)
FLOW_ACTION_TYPES = ("send-email", "time-delay", "send-sms", "conditional-split", "update-profile")
FLOW_ACTION_STATUSES = ("live", "draft", "manual", "disabled")
SUPPRESSION_REASONS = (
    "HARD_BOUNCE",
    "INVALID_EMAIL",
    "SPAM_COMPLAINT",
    "UNSUBSCRIBE",
    "USER_SUPPRESSED",
)
