from django.db.models import QuerySet

from accounts.models import ActivityLog, User


def list_activity(*, user: User) -> QuerySet[ActivityLog]:
    """The user's own activity, newest first."""
    return ActivityLog.objects.filter(user=user).order_by("-created_at", "-id")
