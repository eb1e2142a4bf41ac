from rest_framework import status

from core.exceptions import ApplicationError


class NotABusinessOwner(ApplicationError):
    code = "permission_denied"
    http_status = status.HTTP_403_FORBIDDEN
    default_message = "Only business-owner accounts can open stores."


class NotStoreOwner(ApplicationError):
    code = "permission_denied"
    http_status = status.HTTP_403_FORBIDDEN
    default_message = "Only the store's owner can do this."
