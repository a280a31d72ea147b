"""The office's main flows, the very tests of tests/e2e, on PostgreSQL (the `desk` of this folder)."""

from tests.e2e.test_crash_resume import *  # noqa: F403
from tests.e2e.test_documents import *  # noqa: F403
from tests.e2e.test_duty_log import *  # noqa: F403
from tests.e2e.test_escalation import *  # noqa: F403
from tests.e2e.test_incident_lifecycle import *  # noqa: F403
from tests.e2e.test_info import *  # noqa: F403
from tests.e2e.test_leave import *  # noqa: F403
from tests.e2e.test_notices import *  # noqa: F403
from tests.e2e.test_office_record import *  # noqa: F403
from tests.e2e.test_office_versions import *  # noqa: F403
from tests.e2e.test_roster_stats import *  # noqa: F403
from tests.e2e.test_supervision import *  # noqa: F403
