from django.apps import AppConfig


class ProductsConfig(AppConfig):
    name = "products"
    verbose_name = "Products"

    def ready(self) -> None:
        from products.indexing import ProductDocuments
        from search import sources

        sources.register(ProductDocuments())
