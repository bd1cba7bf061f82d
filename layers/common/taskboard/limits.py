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
