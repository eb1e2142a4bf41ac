"""A small catalogue for search tests, made the way owners make products (the catalogue
services, which report every change to the index feed), and the worker's drain run by hand."""

from decimal import Decimal
from typing import Any

from products.models import Product
from products.tests.factories import make_product
from search import feed
from stores.models import Store
from stores.tests.factories import StoreFactory


def drain() -> int:
    """What the worker does after each commit: apply the reported changes to the index."""
    return feed.drain()


def product(store: Store | None = None, **data: Any) -> Product:
    data.setdefault("price", Decimal("100.00"))
    data.setdefault("description", "")
    return make_product(store=store or StoreFactory(), **data)


# (name the shopper types, product name it must find) — Arabic spelling variants the
# normaliser and light stemmer fold, and Latin typos within the allowance.
ARABIC_PAIRS = [
    ("احذية", "أحذية رياضية للجري"),
    ("أحذية", "احذيه جلد للاطفال"),
    ("كتب", "كُتُب الصف الثالث"),
    ("مدرسه", "حقيبة مدرسة ظهر"),
    ("مدرسة", "زي مدرسه موحد"),
    ("عطر", "عــطـر عود فاخر"),
    ("هـاتـف", "هاتف ذكي نوكيا"),
    ("ابريق", "إبريق شاي نحاس"),
    ("الة حاسبه", "آلة حاسبة علمية"),
    ("حلوي", "حلوى المولد"),
    ("جلابية", "الجلابية البيضاء"),
    ("ملابس", "والملابس الشتوية"),
    ("عسل", "بالعسل والسمسم"),
    ("قميص", "قَمِيص قطن رجالي"),
    ("15", "iPhone ١٥ Pro"),
    ("12", "شاحن سيارة ۱۲ فولت"),
    ("عطور", "عطورات سودانية"),
    ("ثلاجه", "ثلاجة صغيرة"),
    ("هواتف", "الهواتف المستعملة"),
    ("ارز", "أرز بسمتي"),
    ("اسوره", "إسورة فضة"),
    ("ايس كريم", "آيس كريم فانيلا"),
    ("بطانيه", "بطانية صوف"),
    ("طاولة", "طاوله خشب"),
    ("لباس", "لِبَاس نوم"),
    ("سمسم", "زيت السمسم"),
    ("مكتبه", "مكتبة كتب"),
    ("فستان", "فُسْتَانٌ سهرة"),
    ("سجاده", "سجّادة صلاة"),
    ("كرسي", "كرسى بلاستيك"),
    ("قهوه", "القهوة الحبشية"),
    ("توب", "توب سوداني"),
]
LATIN_TYPOS = [
    ("samsng", "Samsung Galaxy S24"),
    ("galaxi", "Samsung Galaxy S24"),
    ("sandls", "Leather sandals"),
    ("lether", "Leather sandals"),
    ("jalabia", "Cotton jalabiya"),
    ("notbook", "Spiral notebook A5"),
    ("PERFUM", "Oud perfume"),
    ("sams", "Samsung Galaxy S24"),  # still being typed
    ("قميض", "قَمِيص قطن رجالي"),  # an Arabic typo, 4 letters: one edit
]
DISTRACTORS = [
    "Samsung charger cable",
    "Galaxy watch strap",
    "Sandalwood incense",
    "Leather wallet",
    "Notebook stand",
    "Perfume bottle, empty",
    "حذاء كرة قدم",
    "كتاب طبخ",
    "هاتف أرضي",
    "عطر ورد",
    "قميص نوم",
    "شاي أحمر",
]
