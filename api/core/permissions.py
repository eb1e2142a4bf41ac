from typing import Any

from oauth2_provider.models import AbstractAccessToken
from rest_framework.permissions import BasePermission
from rest_framework.request import Request


class FirstPartyOnly(BasePermission):
    """Refuses requests made with an OAuth2 token: what guards the account itself (password,
    sign-in address, deletion, security codes) is for the account holder's own session, never
    for a third-party application, whatever scopes it was granted."""

    message = "Third-party applications can't do this; sign in to Sudamall directly."

    def has_permission(self, request: Request, view: Any) -> bool:
        return not isinstance(request.auth, AbstractAccessToken)
