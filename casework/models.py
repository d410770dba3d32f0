"""Every model, imported in one place so Alembic and the app see the whole schema."""

from casework.bulletins.models import Bulletin  # noqa: F401
from casework.campaigns.models import (  # noqa: F401
    Campaign,
    CampaignPhase,
    CoverageRule,
    Indicator,
    KeyTask,
    ReportingCadence,
)
from casework.cases.models import InspectionCase, MobilisationRecord  # noqa: F401
from casework.complaints.models import (  # noqa: F401
    ComplainantDetails,
    Complaint,
    PersonalDataAccess,
)
from casework.dashboard.models import (  # noqa: F401
    ComplaintDayTally,
    DisputeDayTally,
    FindingDayTally,
    OrderDayFact,
)
from casework.disputes.models import MedicalDispute  # noqa: F401
from casework.evidence.models import Attachment  # noqa: F401
from casework.history.models import HistoryEvent  # noqa: F401
from casework.inspections.models import Finding, FindingAmendment, Inspection  # noqa: F401
from casework.institutions.models import Institution, Region, StaffMember  # noqa: F401
from casework.jobs.models import JobRun, SchedulerLease  # noqa: F401
from casework.notifications.models import Notification  # noqa: F401
from casework.orders.models import (  # noqa: F401
    ExtensionRequest,
    OrderNumberSequence,
    RectificationOrder,
    Submission,
)
from casework.oversight.models import (  # noqa: F401
    AccountabilityRecord,
    Interview,
    VetoFlag,
)
from casework.points.models import PointsEntry, PointsRule  # noqa: F401
from casework.queue.models import QueueClaim  # noqa: F401
from casework.reports.models import ProgressReport  # noqa: F401
from casework.settings.models import Setting  # noqa: F401
from casework.users.models import User  # noqa: F401
from casework.workdays.models import CalendarDay, CalendarYear  # noqa: F401
