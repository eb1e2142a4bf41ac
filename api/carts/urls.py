from django.urls import path

from carts import apis

urlpatterns = [
    path("", apis.CartApi.as_view(), name="cart"),
    path("add/", apis.CartAddApi.as_view(), name="cart-add"),
    path("items/<int:item_id>/", apis.CartItemApi.as_view(), name="cart-item"),
]
