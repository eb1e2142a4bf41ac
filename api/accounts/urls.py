from django.urls import path

from accounts import apis

urlpatterns = [
    path("me/", apis.MeApi.as_view(), name="me"),
    path("me/activity/", apis.ActivityListApi.as_view(), name="me-activity"),
    path("me/email/", apis.EmailChangeApi.as_view(), name="me-email"),
    path("me/email/confirm/", apis.EmailChangeConfirmApi.as_view(), name="me-email-confirm"),
]
