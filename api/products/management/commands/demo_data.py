"""Demo and benchmark data: users, stores, a category tree, tags and products with sizes, stock,
offers, images and a first history version — inserted in bulk, so 100 000 products take well
under a minute.

    python manage.py demo_data                    # small set, as `make run` uses
    python manage.py demo_data --products 100000  # benchmark-sized catalogue
"""

import io
import json
import random
import sys
import time
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
from PIL import Image, ImageDraw

from accounts.models import User
from core.bulk import insert_rows
from products.models import (
    Category,
    Product,
    ProductImage,
    ProductVersion,
    Size,
    StockMovement,
    Tag,
)
from products.services import catalog
from stores.models import Store

DEMO_PASSWORD = "sudamall-demo"  # noqa: S105 - printed for local demo accounts only
CATEGORY_TREE = {
    "Clothing": ["Jalabiyas", "Thobes", "Shoes", "Scarves"],
    "Food": ["Dates", "Spices", "Coffee & tea", "Sweets"],
    "Home": ["Kitchen", "Bedding", "Decor"],
    "Electronics": ["Phones", "Accessories", "Solar"],
    "Beauty": ["Henna", "Perfume", "Oils"],
}
TAGS = ["handmade", "organic", "new", "eid", "summer", "gift", "local", "wholesale", "bestseller"]
ADJECTIVES = ["Fine", "Classic", "Fresh", "Premium", "Soft", "Bright", "Golden", "Nile", "Desert"]
NOUNS = ["jalabiya", "thobe", "sandals", "scarf", "dates", "hibiscus", "coffee", "kettle",
         "blanket", "lamp", "phone case", "charger", "henna kit", "oud", "sesame oil"]  # fmt: skip
SIZE_SETS = [[], [], ["S", "M", "L"], ["38", "39", "40", "41", "42"], ["250 g", "500 g", "1 kg"]]
# Cities for store locations (lat, lng): spread the stores around them.
CITIES = [(15.5007, 32.5599), (15.6445, 32.4777), (19.6158, 37.2164), (14.4012, 33.5199),
          (13.1843, 30.2167), (12.0489, 24.8807)]  # fmt: skip
IMAGE_POOL = 24


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
        stores = options["stores"] or min(max(count // 40, 5), 500)
        rng = random.Random(options["seed"])
        started = time.monotonic()
        progress = sys.stderr

        with transaction.atomic():
            owners, buyer = self._users(stores)
            store_rows = self._stores(owners, rng)
            leaves = self._categories()
            tags = self._tags()
        images = self._image_pool(rng, min(IMAGE_POOL, count))
        self._products(
            count, store_rows, leaves, tags, images, rng, Progress("products", count, progress)
        )

        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {count} products in {len(store_rows)} stores in {elapsed:.1f} s."
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
                    first_name="Owner",
                    last_name=str(suffix + n),
                    account_type=User.AccountType.BUSINESS_OWNER,
                    is_email_verified=True,
                    password=password,
                )
                for n in range(1, stores + 1)
            ]
        )
        buyer, _ = User.objects.get_or_create(
            email="buyer@sudamall.local",
            defaults={"first_name": "Demo", "last_name": "Buyer", "is_email_verified": True,
                      "password": password},
        )  # fmt: skip
        User.objects.get_or_create(
            email="admin@sudamall.local",
            defaults={"is_staff": True, "is_superuser": True, "is_email_verified": True,
                      "password": password},
        )  # fmt: skip
        return owners, buyer

    def _stores(self, owners: list[User], rng: random.Random) -> list[Store]:
        taken = set(Store.objects.values_list("slug", flat=True))
        rows = []
        for n, owner in enumerate(owners):
            name = f"{rng.choice(ADJECTIVES)} {rng.choice(['Market', 'Bazaar', 'Souq', 'Shop'])}"
            slug = f"{slugify(name)}-{owner.pk}"
            if slug in taken:
                continue
            lat, lng = CITIES[n % len(CITIES)]
            rows.append(
                Store(
                    owner=owner,
                    name=name,
                    slug=slug,
                    description="A demo store.",
                    address="Demo street",
                    latitude=Decimal(f"{lat + rng.uniform(-0.2, 0.2):.6f}"),
                    longitude=Decimal(f"{lng + rng.uniform(-0.2, 0.2):.6f}"),
                )
            )
        return Store.objects.bulk_create(rows)

    def _categories(self) -> list[Category]:
        leaves = []
        for parent_name, children in CATEGORY_TREE.items():
            parent = Category.objects.filter(slug=slugify(parent_name)).first()
            parent = parent or catalog.create_category(name=parent_name)
            for child in children:
                leaf = Category.objects.filter(slug=slugify(child)).first()
                leaves.append(leaf or catalog.create_category(name=child, parent=parent))
        return leaves

    def _tags(self) -> list[Tag]:
        existing = {t.slug: t for t in Tag.objects.all()}
        missing = [
            Tag(name=name, slug=slugify(name)) for name in TAGS if slugify(name) not in existing
        ]
        Tag.objects.bulk_create(missing)
        return list(Tag.objects.filter(slug__in=[slugify(n) for n in TAGS]))

    def _image_pool(self, rng: random.Random, count: int) -> list[str]:
        """A few generated images, each stored once; the first products use them."""
        names = []
        for n in range(count):
            image = Image.new("RGB", (480, 480), tuple(rng.randrange(60, 230) for _ in range(3)))
            draw = ImageDraw.Draw(image)
            draw.ellipse((90, 90, 390, 390), outline=(255, 255, 255), width=12)
            draw.text((200, 225), f"#{n + 1}", fill=(255, 255, 255))
            buffer = io.BytesIO()
            image.save(buffer, format="WEBP", quality=80)
            names.append(
                default_storage.save(f"products/demo/{n + 1}.webp", ContentFile(buffer.getvalue()))
            )
        return names

    def _products(
        self,
        count: int,
        stores: list[Store],
        leaves: list[Category],
        tags: list[Tag],
        images: list[str],
        rng: random.Random,
        progress: Progress,
    ) -> None:
        now = timezone.now()
        batch = 5000
        category_ref = {c.pk: {"slug": c.slug, "name": c.name} for c in leaves}
        for offset in range(0, count, batch):
            n_rows = min(batch, count - offset)
            with transaction.atomic():
                products, plans = [], []
                for _ in range(n_rows):
                    price = Decimal(rng.randrange(500, 500_000)) / 100
                    category = rng.choice(leaves)
                    product = Product(
                        store=rng.choice(stores),
                        name=f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}",
                        description="Demo product. " * rng.randrange(1, 4),
                        price=price,
                        currency=settings.DEFAULT_CURRENCY,
                        category=category,
                        version=1,
                    )
                    if rng.random() < 0.15:
                        product.offer_price = (price * Decimal("0.8")).quantize(Decimal("0.01"))
                        product.offer_starts_at = now - timedelta(days=rng.randrange(0, 5))
                        product.offer_ends_at = now + timedelta(days=rng.randrange(1, 20))
                    size_names = rng.choice(SIZE_SETS) or [""]
                    plans.append((size_names, rng.sample(tags, rng.randrange(0, 3)), category.pk))
                    products.append(product)
                products = Product.objects.bulk_create(products)

                sizes, versions, image_rows = [], [], []
                through = Product.tags.through
                tag_links: list[tuple[int, int]] = []
                for index, (product, (size_names, product_tags, category_id)) in enumerate(
                    zip(products, plans, strict=True)
                ):
                    for position, name in enumerate(size_names):
                        sizes.append(
                            Size(product=product, name=name, position=position,
                                 on_hand=rng.choice([0, 1, 3, 8, 20, 50]))
                        )  # fmt: skip
                    tag_links += [(product.pk, tag.pk) for tag in product_tags]
                    if offset + index < len(images):
                        image_rows.append(
                            ProductImage(product=product, image=images[offset + index])
                        )
                    versions.append((product, size_names, product_tags, category_id))
                sizes = Size.objects.bulk_create(sizes)
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
                                    category_ref[category_id],
                                    images_by_product.get(product.pk, []),
                                )
                            ),
                            "[]",
                            now,
                        )
                        for product, _names, product_tags, category_id in versions
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
            "deleted": False,
        }
