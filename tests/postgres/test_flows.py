"""A few of the office's main flows, the very tests of tests/e2e, on PostgreSQL (the `desk` of this
folder): reporting with its deadlines and a crash, notices with receipts, documents (a trigger), the
information quota (sums). The whole of tests/e2e, tests/integration and tests/reliability runs on
PostgreSQL too with DUTYDESK_TEST_ENGINE=postgresql, as .ci/run does."""

from tests.e2e.test_crash_resume import *  # noqa: F403
from tests.e2e.test_documents import *  # noqa: F403
from tests.e2e.test_incident_lifecycle import *  # noqa: F403
from tests.e2e.test_info import *  # noqa: F403
from tests.e2e.test_notices import *  # noqa: F403
