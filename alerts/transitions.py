"""Which status an alert may move to from which: data, checked by the lifecycle services."""

from alerts.models import Alert

Status = Alert.Status

ALLOWED = {
    Status.OPEN: {Status.ACKNOWLEDGED, Status.RESOLVED},
    Status.ACKNOWLEDGED: {Status.RESOLVED},
    Status.RESOLVED: set(),
}
