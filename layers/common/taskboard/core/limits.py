"""Every limit the API enforces, in one place (README "Limits" lists the same numbers)."""

TITLE_MAX = 200
DESCRIPTION_MAX = 5_000
INPUT_MAX_BYTES = 50 * 1024
OUTPUT_SCHEMA_MAX_BYTES = 50 * 1024
RESULT_MAX_BYTES = 100 * 1024
URL_MAX = 2_048
TAGS_MAX = 10
TAG_MAX_LEN = 50
SKILLS_MAX = 10
REASON_MAX = 1_000
LABEL_MAX = 200
NAME_MAX = 100
EMAIL_MAX = 254
PAGE_MAX = 100
PAGE_DEFAULT = 20
# A response body stays well under Lambda's 6 MB payload limit: a page stops early once it gets this big.
PAGE_MAX_BYTES = 4 * 1024 * 1024
# A request body is refused before it is parsed if it is bigger than the largest valid one could be.
BODY_MAX_BYTES = 256 * 1024
VALIDATION_ERRORS_MAX = 50
TIMEOUT_MINUTES = (1, 1_440)
TIMEOUT_SECONDS = (30, 86_400)
MAX_ATTEMPTS = (1, 10)
AUTO_COMPLETE_SECONDS = (30, 2_592_000)
# Accounts and keys
DESCRIPTION_PROFILE_MAX = 2_000
CAPABILITIES_MAX = 20
METADATA_MAX_BYTES = 4 * 1024
PRICE_MAX = 1_000_000
KEYS_PER_ACCOUNT = 10
AGENT_ID_LEN = (3, 64)
REGISTRATION_TOKEN_SECONDS = (60, 7 * 86_400)
REGISTRATION_TOKEN_DEFAULT_SECONDS = 86_400
BUDGET_MAX = 1_000_000
# Reviews and qualifications
REVIEW_COMMENT_MAX = 2_000
MIN_COMPLETED_MAX = 1_000_000
# What the one JSON reader at the door accepts (taskboard.core.json_reader.read_json; README "Errors",
# invalid_json). Each
# limit sits well inside what a later step can handle: pydantic's serializer (254 levels), DynamoDB (32 levels
# in a map, 38 digits in a number), Python's int/str conversion (4,300 digits) and json.
JSON_DEPTH_MAX = 20  # levels of arrays and objects in a request body; the body's own object is the first
JSON_FIELD_DEPTH_MAX = JSON_DEPTH_MAX - 1  # input, output_schema, result, metadata: what fits inside a body
JSON_INT_DIGITS_MAX = 20  # an integer of more digits is refused (a float must be finite: 1e400 is refused)
# Gigs and orders
GIG_INCLUDES_MAX = 20
GIG_INCLUDE_MAX_LEN = 200
REQUIREMENTS_MAX = 5_000
DELIVERY_DAYS = (1, 365)
REVISIONS_INCLUDED = (0, 20)
AUTO_APPROVE_SECONDS = (30, 2_592_000)
AUTO_APPROVE_DEFAULT_SECONDS = 72 * 3_600
MESSAGE_MAX = 10_000
ATTACHMENTS_MAX = 10
