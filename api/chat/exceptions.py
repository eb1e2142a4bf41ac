from rest_framework import status

from core.exceptions import ApplicationError, Conflict


class Blocked(ApplicationError):
    code = "blocked"
    http_status = status.HTTP_403_FORBIDDEN
    default_message = "This conversation is blocked: no new messages."


class EditWindowClosed(Conflict):
    code = "edit_window_closed"
    default_message = "Messages can be edited for 15 minutes after they are sent."


class NotYourMessage(ApplicationError):
    code = "permission_denied"
    http_status = status.HTTP_403_FORBIDDEN
    default_message = "Only its sender can change a message."
