from django.urls import path

from orders import apis

urlpatterns = [
    path("cart/checkout/", apis.CartCheckoutApi.as_view(), name="cart-checkout"),
    path("orders/", apis.OrderListCreateApi.as_view(), name="order-list"),
    path("orders/<int:order_id>/", apis.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<int:order_id>/status/", apis.OrderStatusApi.as_view(), name="order-status"),
    path("stores/<int:store_id>/orders/", apis.StoreOrderListApi.as_view(), name="store-orders"),
]
