from django.urls import path

from search import apis

urlpatterns = [
    path("suggest/", apis.SuggestApi.as_view(), name="search-suggest"),
    path("clicks/", apis.ClickApi.as_view(), name="search-clicks"),
    path("analytics/", apis.AnalyticsApi.as_view(), name="search-analytics"),
]
