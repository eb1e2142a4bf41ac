"""Server-rendered pages: the sign-in page that the OAuth2 consent flow (``/o/authorize/``)
sends people to. Any verified buyer or store owner signs in here — not only staff, as the
admin's login page would — under the same limits as ``POST /api/auth/login/``: failed attempts
per address and per client (``LoginFailureLimiter``) and the ``login`` rate per client IP."""

import logging
import math
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.contrib.auth import login as start_session
from django.contrib.auth import logout as end_session
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider.models import Application
from rest_framework.exceptions import Throttled

from authentication import services
from authentication.exceptions import EmailNotVerified, InvalidCredentials
from core.clients import ClientInfo
from core.throttles import IpScopedRateThrottle

logger = logging.getLogger(__name__)

DEFAULT_NEXT = "/o/signed-in/"


def _safe_next(request: HttpRequest, candidate: str) -> str:
    """Only a path on this site: an open redirect would hand a session to anyone's page."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return DEFAULT_NEXT


def _application_name(next_url: str) -> str:
    """The app asking, when the sign-in is on the way to an OAuth2 consent page."""
    parts = urlsplit(next_url)
    if parts.path != "/o/authorize/":
        return ""
    client_id = parse_qs(parts.query).get("client_id", [""])[0]
    return (
        Application.objects.filter(client_id=client_id).values_list("name", flat=True).first() or ""
    )


class _LoginRate:
    """The view that IpScopedRateThrottle reads its scope from."""

    throttle_scope = "login"


@method_decorator([never_cache, csrf_protect], name="dispatch")
@method_decorator(sensitive_post_parameters("password"), name="post")
class SignInPage(View):
    template_name = "authentication/sign_in.html"

    def _page(
        self, request: HttpRequest, next_url: str, status: int = 200, **context: Any
    ) -> HttpResponse:
        context = {"next": next_url, "application_name": _application_name(next_url), **context}
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._page(request, _safe_next(request, request.GET.get("next", "")))

    def post(self, request: HttpRequest) -> HttpResponse:
        next_url = _safe_next(request, request.POST.get("next", ""))
        email = request.POST.get("email", "").strip()[:254]
        password = request.POST.get("password", "")
        rate = IpScopedRateThrottle()
        if not rate.allow_request(request, _LoginRate()):  # type: ignore[arg-type]
            wait = math.ceil(rate.wait() or 60)
            return self._too_many(request, next_url, email, wait)
        try:
            user = services.login(
                email=email, password=password, client=ClientInfo.from_request(request)
            )
        except Throttled as exc:
            return self._too_many(request, next_url, email, math.ceil(exc.wait or 60))  # type: ignore[attr-defined]
        except InvalidCredentials:
            return self._page(request, next_url, 400, email=email,
                              error="That email and password don't match an account.")  # fmt: skip
        except EmailNotVerified:
            return self._page(request, next_url, 403, email=email, error=(
                "Verify your email address first: enter the code we emailed you in the app."
            ))  # fmt: skip
        start_session(request, user, backend="django.contrib.auth.backends.ModelBackend")
        logger.info("signed in on the web", extra={"user_id": user.pk})
        return HttpResponseRedirect(next_url)

    def _too_many(self, request: HttpRequest, next_url: str, email: str, wait: int) -> HttpResponse:
        response = self._page(request, next_url, 429, email=email,
                              error=f"Too many attempts. Try again in {wait} seconds.")  # fmt: skip
        response["Retry-After"] = str(wait)
        return response


@method_decorator([never_cache, csrf_protect], name="dispatch")
class SignOutPage(View):
    """POST only: a link that signs people out could be fired by any page (CSRF)."""

    def post(self, request: HttpRequest) -> HttpResponse:
        end_session(request)
        return HttpResponseRedirect(settings.LOGIN_URL)


@method_decorator(never_cache, name="dispatch")
class SignedInPage(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_authenticated:
            return HttpResponseRedirect(settings.LOGIN_URL)
        return render(request, "authentication/signed_in.html")
