from rest_framework import status

from core.exceptions import ApplicationError


class InvalidCode(ApplicationError):
    """The code is wrong, or there is no usable code. Subclasses say why, for signed-in callers;
    anonymous endpoints answer all of them alike so they reveal nothing about accounts."""

    code = "invalid_code"
    http_status = status.HTTP_400_BAD_REQUEST
    default_message = "The code is invalid or has expired."


class CodeExpired(InvalidCode):
    default_message = "The code has expired; ask for a new one."


class CodeLocked(InvalidCode):
    default_message = "Too many wrong tries; ask for a new code."
