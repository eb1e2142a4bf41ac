from rest_framework import status

from core.exceptions import ApplicationError


class InvalidCredentials(ApplicationError):
    code = "invalid_credentials"
    http_status = status.HTTP_401_UNAUTHORIZED
    default_message = "The email or password is incorrect."


class EmailNotVerified(ApplicationError):
    code = "email_not_verified"
    http_status = status.HTTP_403_FORBIDDEN
    default_message = "Confirm your email address first; we can send you a new code."


class InvalidToken(ApplicationError):
    code = "token_not_valid"
    http_status = status.HTTP_401_UNAUTHORIZED
    default_message = "The token is invalid, expired or revoked."


class InvalidGoogleToken(ApplicationError):
    code = "invalid_google_token"
    http_status = status.HTTP_400_BAD_REQUEST
    default_message = "The Google ID token could not be verified."


class GoogleEmailNotVerified(InvalidGoogleToken):
    code = "google_email_not_verified"
    default_message = "Google has not verified this email address."


class GoogleSignInUnavailable(ApplicationError):
    code = "google_sign_in_unavailable"
    http_status = status.HTTP_503_SERVICE_UNAVAILABLE
    default_message = "Google sign-in is not available right now."
