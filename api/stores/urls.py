from django.urls import path

from stores import apis

urlpatterns = [
    path("", apis.StoreListCreateApi.as_view(), name="store-list"),
    path("<int:store_id>/", apis.StoreDetailApi.as_view(), name="store-detail"),
]
