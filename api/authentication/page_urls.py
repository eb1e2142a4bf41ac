"""Server-rendered pages under /o/, beside the OAuth2 provider's own endpoints."""

from django.urls import path

from authentication import pages

urlpatterns = [
    path("sign-in/", pages.SignInPage.as_view(), name="sign-in"),
    path("sign-out/", pages.SignOutPage.as_view(), name="sign-out"),
    path("signed-in/", pages.SignedInPage.as_view(), name="signed-in"),
]
