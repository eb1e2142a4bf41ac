from django.urls import path

from products import apis

urlpatterns = [
    path("products/", apis.ProductListCreateApi.as_view(), name="product-list"),
    path("products/<int:product_id>/", apis.ProductDetailApi.as_view(), name="product-detail"),
    path(
        "products/<int:product_id>/history/",
        apis.ProductHistoryApi.as_view(),
        name="product-history",
    ),
    path(
        "products/<int:product_id>/images/",
        apis.ProductImageCreateApi.as_view(),
        name="product-image-create",
    ),
    path(
        "products/<int:product_id>/images/<int:image_id>/",
        apis.ProductImageDeleteApi.as_view(),
        name="product-image-delete",
    ),
    path(
        "products/<int:product_id>/favorite/", apis.FavoriteApi.as_view(), name="product-favorite"
    ),
    path("accounts/me/favorites/", apis.FavoriteListApi.as_view(), name="me-favorites"),
    path(
        "stores/<int:store_id>/products/",
        apis.StoreProductListApi.as_view(),
        name="store-products",
    ),
    path("search/products/", apis.ProductSearchApi.as_view(), name="search-products"),
    path("categories/", apis.CategoryListApi.as_view(), name="category-list"),
    path("tags/", apis.TagListApi.as_view(), name="tag-list"),
]
