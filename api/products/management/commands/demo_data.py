"""Demo and benchmark data: users, stores in Sudanese cities, a category tree, tags and products
with sizes, stock, offers, a picture and a first history version — a catalogue that makes sense
(products/management/demo_catalogue.py), inserted in bulk, so 100 000 products take well under
a minute. The first product is always an in-stock one without sizes, so the request examples
in Swagger UI (`product_id: 1`) work as they stand.

    python manage.py demo_data                    # small set, as `make run` uses
    python manage.py demo_data --products 100000  # benchmark-sized catalogue
"""

import io
import json
import random
import sys
import textwrap
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, ImageDraw, ImageFont

from accounts.models import User
from core.bulk import insert_rows
from products import indexing
from products.management.demo_catalogue import (
    CATALOGUE,
    STORES,
    TAGS,
    Department,
    Item,
    StorePlan,
)
from products.models import (
    Category,
    Product,
    ProductImage,
    ProductVersion,
    Size,
    StockMovement,
    Tag,
)
from products.services import catalog, offers
from search import feed
from stores.models import Store

DEMO_PASSWORD = "sudamall-demo"  # noqa: S105 - printed for local demo accounts only
OWNER_NAMES = [("Omer", "Abdalla"), ("Fatima", "Hassan"), ("Yousif", "Mahjoub"), ("Nafisa", "Ali"),
               ("Khalid", "Osman"), ("Reem", "Babiker"), ("Hassan", "Idris"), ("Safa", "Mustafa"),
               ("Mohamed", "Elamin"), ("Hiba", "Salih")]  # fmt: skip
STOCK_LEVELS = [0, 2, 5, 12, 20, 40, 80]


@dataclass(frozen=True)
class Shelf:
    department: Department
    category: str
    item: Item


class Progress:
    def __init__(self, label: str, total: int, stream: Any) -> None:
        self.label, self.total, self.stream, self.done = label, max(total, 1), stream, 0
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def advance(self, count: int) -> None:
        self.done += count
        width = 30
        filled = int(width * self.done / self.total)
        bar = "#" * filled + "-" * (width - filled)
        line = f"{self.label:<10} [{bar}] {self.done:>7}/{self.total}"
        if self.tty:
            self.stream.write("\r" + line)
            if self.done >= self.total:
                self.stream.write("\n")
        elif self.done >= self.total:
            self.stream.write(line + "\n")
        self.stream.flush()


class Command(BaseCommand):
    help = "Create demo users, stores, categories, tags and products (bulk inserts)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, default=200)
        parser.add_argument(
            "--stores", type=int, default=0, help="Default: products / 40, from 5 to 500"
        )
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if products already exist."
        )
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (demo passwords!)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError("demo_data creates accounts with a known password: DEBUG only.")
        if options["if_empty"] and Product.objects.exists():
            self.stdout.write("Products exist already: no demo data added.")
            return
        count = options["products"]
        if count < 1:
            raise CommandError("--products must be at least 1.")
        stores = options["stores"] or min(max(count // 40, len(STORES)), 500)
        rng = random.Random(options["seed"])
        started = time.monotonic()
        progress = sys.stderr

        with transaction.atomic():
            owners, buyer = self._users(stores)
            store_rows = self._stores(owners, rng)
            shelves = self._categories()
            tags = self._tags()
        self._products(count, store_rows, shelves, tags, rng, Progress("products", count, progress))
        indexed = feed.drain()  # searchable as soon as the command returns

        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {count} products in {len(store_rows)} stores in {elapsed:.1f} s "
                f"({indexed} indexed for search)."
            )
        )
        self.stdout.write(
            f"Demo accounts (password '{DEMO_PASSWORD}'): {buyer.email} (buyer), "
            f"{owners[0].email} (store owner), admin@sudamall.local (staff)."
        )

    # --- pieces ----------------------------------------------------------------------------------

    def _users(self, stores: int) -> tuple[list[User], User]:
        password = make_password(DEMO_PASSWORD)  # hashed once, shared by the demo accounts
        suffix = User.objects.count()
        owners = User.objects.bulk_create(
            [
                User(
                    email=f"owner{suffix + n}@sudamall.local",
                    first_name=OWNER_NAMES[(n - 1) % len(OWNER_NAMES)][0],
                    last_name=OWNER_NAMES[(n - 1) % len(OWNER_NAMES)][1],
                    account_type=User.AccountType.BUSINESS_OWNER,
                    is_email_verified=True,
                    password=password,
                )
                for n in range(1, stores + 1)
            ]
        )
        buyer, _ = User.objects.get_or_create(
            email="buyer@sudamall.local",
            defaults={"first_name": "Amna", "last_name": "Osman", "is_email_verified": True,
                      "password": password},
        )  # fmt: skip
        User.objects.get_or_create(
            email="admin@sudamall.local",
            defaults={"first_name": "Sudamall", "last_name": "Support", "is_staff": True,
                      "is_superuser": True, "is_email_verified": True, "password": password},
        )  # fmt: skip
        return owners, buyer

    def _stores(self, owners: list[User], rng: random.Random) -> list[tuple[Store, StorePlan]]:
        """The plans in demo_catalogue.STORES, each in its city; a benchmark asking for more
        stores than plans gets branches ("Kassala Souq 2") around the same cities."""
        taken = set(Store.objects.values_list("slug", flat=True))
        rows, plans = [], []
        for n, owner in enumerate(owners):
            plan = STORES[n % len(STORES)]
            branch = n // len(STORES)
            english = plan.english if not branch else f"{plan.english} {branch + 1}"
            slug = f"{slugify(english)}-{owner.pk}"
            if slug in taken:
                continue
            spread = 0.03 if not branch else 0.15
            rows.append(
                Store(
                    owner=owner,
                    name=plan.arabic if plan.arabic_names else english,
                    slug=slug,
                    description=f"{english} ({plan.arabic}), {plan.city}. Sells: "
                    + ", ".join(d.lower() for d in plan.departments)
                    + ".",
                    address=f"Souq street, {plan.city}",
                    latitude=Decimal(f"{plan.latitude + rng.uniform(-spread, spread):.6f}"),
                    longitude=Decimal(f"{plan.longitude + rng.uniform(-spread, spread):.6f}"),
                )
            )
            plans.append(plan)
        return list(zip(Store.objects.bulk_create(rows), plans, strict=True))

    def _categories(self) -> dict[str, list[tuple[Category, Shelf]]]:
        """The category tree; for each department, its shelves with their category rows."""
        by_department: dict[str, list[tuple[Category, Shelf]]] = {}
        for department in CATALOGUE:
            parent = Category.objects.filter(slug=slugify(department.name)).first()
            parent = parent or catalog.create_category(name=department.name)
            for name, items in department.shelves.items():
                leaf = Category.objects.filter(slug=slugify(name)).first()
                leaf = leaf or catalog.create_category(name=name, parent=parent)
                by_department.setdefault(department.name, []).extend(
                    (leaf, Shelf(department, name, item)) for item in items
                )
        return by_department

    def _tags(self) -> dict[str, Tag]:
        existing = {t.slug for t in Tag.objects.all()}
        Tag.objects.bulk_create(
            [Tag(name=name, slug=slugify(name)) for name in TAGS if slugify(name) not in existing]
        )
        return {t.name: t for t in Tag.objects.filter(slug__in=[slugify(n) for n in TAGS])}

    def _picture(self, shelf: Shelf, cache: dict[str, str]) -> str:
        """A picture of the item: its name on its department's colour, drawn once per item."""
        key = slugify(shelf.item.english)
        if key in cache:
            return cache[key]
        colour = shelf.department.colour
        image = Image.new("RGB", (600, 600), colour)
        draw = ImageDraw.Draw(image)
        light = tuple(min(255, c + 70) for c in colour)
        draw.ellipse((60, 60, 540, 540), fill=light)
        draw.ellipse((120, 120, 480, 480), fill=colour)
        big, small = ImageFont.load_default(size=40), ImageFont.load_default(size=24)
        lines = textwrap.wrap(shelf.item.english, width=16)[:3]
        y = 300 - 25 * len(lines)
        for line in lines:
            draw.text((300, y), line, fill=(255, 255, 255), font=big, anchor="mt")
            y += 50
        draw.text((300, 560), f"{shelf.department.name} / {shelf.category}", fill=(255, 255, 255),
                  font=small, anchor="mb")  # fmt: skip
        buffer = io.BytesIO()
        image.save(buffer, format="WEBP", quality=80)
        cache[key] = default_storage.save(
            f"products/demo/{key}.webp", ContentFile(buffer.getvalue())
        )
        return cache[key]

    def _plan(
        self,
        index: int,
        stores: list[tuple[Store, StorePlan]],
        shelves: dict[str, list[tuple[Category, Shelf]]],
        rng: random.Random,
    ) -> tuple[Store, StorePlan, Category, Shelf]:
        """Which store sells what: a store picks from its own departments only."""
        store, plan = stores[0] if index == 0 else rng.choice(stores)
        options = [row for name in plan.departments for row in shelves[name]]
        if index == 0:  # Swagger UI's examples use product 1: in stock, without sizes
            options = [row for row in options if not row[1].item.sizes]
        category, shelf = rng.choice(options)
        return store, plan, category, shelf

    def _products(
        self,
        count: int,
        stores: list[tuple[Store, StorePlan]],
        shelves: dict[str, list[tuple[Category, Shelf]]],
        tags: dict[str, Tag],
        rng: random.Random,
        progress: Progress,
    ) -> None:
        now = timezone.now()
        batch = 5000
        pictures: dict[str, str] = {}
        for offset in range(0, count, batch):
            n_rows = min(batch, count - offset)
            with transaction.atomic():
                products, plans = [], []
                for index in range(offset, offset + n_rows):
                    store, plan, category, shelf = self._plan(index, stores, shelves, rng)
                    low, high = shelf.item.price_range
                    price = Decimal(rng.randrange(low, high + 1) // 50 * 50 or 50)
                    arabic = plan.arabic_names
                    product = Product(
                        store=store,
                        name=shelf.item.arabic if arabic else shelf.item.english,
                        description=shelf.item.description
                        + ("" if arabic else f" ({shelf.item.arabic})"),
                        price=price,
                        currency=settings.DEFAULT_CURRENCY,
                        category=category,
                        version=1,
                    )
                    if index and rng.random() < 0.15:
                        product.offer_price = (price * Decimal("0.85")).quantize(Decimal("1"))
                        product.offer_starts_at = now - timedelta(days=rng.randrange(0, 5))
                        product.offer_ends_at = now + timedelta(days=rng.randrange(1, 20))
                    product.listed_price = offers.listed_price(product, now)
                    product_tags = [tags[t] for t in shelf.item.tags if t in tags]
                    plans.append((shelf.item.sizes or [""], product_tags, category, shelf, index))
                    products.append(product)
                products = Product.objects.bulk_create(products)

                sizes, versions, image_rows = [], [], []
                through = Product.tags.through
                tag_links: list[tuple[int, int]] = []
                for product, (size_names, product_tags, category, shelf, index) in zip(
                    products, plans, strict=True
                ):
                    for position, name in enumerate(size_names):
                        on_hand = 40 if index == 0 else rng.choice(STOCK_LEVELS)
                        sizes.append(
                            Size(product=product, name=name, position=position, on_hand=on_hand)
                        )
                    tag_links += [(product.pk, tag.pk) for tag in product_tags]
                    image_rows.append(
                        ProductImage(product=product, image=self._picture(shelf, pictures))
                    )
                    versions.append((product, product_tags, category))
                sizes = Size.objects.bulk_create(sizes)
                indexing.product_changed(product.pk for product in products)
                insert_rows(through, ["product_id", "tag_id"], tag_links)
                ProductImage.objects.bulk_create(image_rows)
                insert_rows(
                    StockMovement,
                    ["size_id", "reason", "on_hand_delta", "reserved_delta", "reference",
                     "note", "created_at"],
                    [
                        (size.pk, StockMovement.Reason.INITIAL, size.on_hand, 0, "", "", now)
                        for size in sizes
                        if size.on_hand
                    ],
                )  # fmt: skip
                sizes_by_product: dict[int, list[dict]] = {}
                for size in sizes:
                    sizes_by_product.setdefault(size.product_id, []).append(
                        {"id": size.pk, "name": size.name}
                    )
                images_by_product = {row.product_id: [str(row.image)] for row in image_rows}
                insert_rows(
                    ProductVersion,
                    ["product_id", "number", "snapshot", "changes", "created_at"],
                    [
                        (
                            product.pk,
                            1,
                            json.dumps(
                                self._snapshot(
                                    product,
                                    sizes_by_product[product.pk],
                                    sorted(t.name for t in product_tags),
                                    {"slug": category.slug, "name": category.name},
                                    images_by_product.get(product.pk, []),
                                )
                            ),
                            "[]",
                            now,
                        )
                        for product, product_tags, category in versions
                    ],
                )
            progress.advance(n_rows)

    @staticmethod
    def _snapshot(
        product: Product,
        sizes: list[dict],
        tag_names: list[str],
        category: dict,
        images: list[str],
    ) -> dict:
        """The same shape as products.services.history.snapshot, built without queries."""
        offer = None
        if product.offer_price is not None:
            assert product.offer_starts_at is not None
            assert product.offer_ends_at is not None
            offer = {
                "price": f"{product.offer_price:.2f}",
                "starts_at": product.offer_starts_at.isoformat().replace("+00:00", "Z"),
                "ends_at": product.offer_ends_at.isoformat().replace("+00:00", "Z"),
            }
        return {
            "name": product.name,
            "description": product.description,
            "price": f"{product.price:.2f}",
            "currency": product.currency,
            "category": category,
            "tags": tag_names,
            "sizes": sizes,
            "images": images,
            "offer": offer,
            "max_per_buyer": product.max_per_buyer,
            "deleted": False,
        }
