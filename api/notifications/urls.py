from django.urls import path

from notifications import apis

urlpatterns = [path("", apis.EventListApi.as_view(), name="event-list")]
