from decimal import Decimal
from typing import Any

from products.models import Category, Product
from products.services import catalog
from stores.models import Store
from stores.tests.factories import StoreFactory


def make_product(store: Store | None = None, **data: Any) -> Product:
    """A product made the way owners make them: through the catalogue service."""
    store = store or StoreFactory()
    data.setdefault("name", "Cotton jalabiya")
    data.setdefault("price", Decimal("100.00"))
    if "sizes" not in data:
        data.setdefault("stock", 10)
    return catalog.create_product(user=store.owner, store=store, data=data)


def make_category(name: str, parent: Category | None = None) -> Category:
    return catalog.create_category(name=name, parent=parent)
