"""What `manage.py demo_data` sells: a catalogue a person can believe. Each category has its
own goods, with English and Arabic names, a size system that fits them, and prices (in SDG) in
a range that belongs to them; stores sit in real Sudanese cities and sell what such a shop
would. Pictures are drawn per item (products/management/commands/demo_data.py)."""

from dataclasses import dataclass

CLOTHING = ["S", "M", "L", "XL"]
CHILDREN = ["2-3 y", "4-5 y", "6-7 y", "8-9 y"]
SHOES = ["38", "39", "40", "41", "42", "43", "44"]
WEIGHTS = ["250 g", "500 g", "1 kg"]
NONE: list[str] = []


@dataclass(frozen=True)
class Item:
    english: str
    arabic: str
    description: str
    sizes: list[str]
    price_range: tuple[int, int]  # SDG, whole pounds
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Department:
    """A top category and its subcategories, each with the items it sells, and the colour its
    pictures are drawn in."""

    name: str
    colour: tuple[int, int, int]
    shelves: dict[str, list[Item]]


CATALOGUE = [
    Department(
        "Food",
        (166, 110, 46),
        {
            "Dates": [
                Item(
                    "Barakawi dates, 1 kg",
                    "تمر بركاوي ١ كيلو",
                    "Dry dates from the Northern State.",
                    NONE,
                    (4_000, 7_000),
                    ("local",),
                ),
                Item(
                    "Gondeila dates",
                    "تمر قنديلة",
                    "Soft golden dates, sold by weight.",
                    WEIGHTS,
                    (2_500, 9_000),
                    ("local", "bestseller"),
                ),
                Item(
                    "Date paste",
                    "عجوة تمر",
                    "For ka'ak and Ramadan sweets.",
                    NONE,
                    (3_000, 5_000),
                    ("eid",),
                ),
            ],
            "Spices": [
                Item(
                    "Karkade (hibiscus)",
                    "كركدي",
                    "Dried hibiscus from Kordofan, for cold drinks.",
                    WEIGHTS,
                    (1_500, 6_000),
                    ("organic", "local"),
                ),
                Item(
                    "Dukhn spice mix",
                    "بهارات الدخن",
                    "Ground spices for mullah and stews.",
                    WEIGHTS,
                    (1_200, 4_500),
                    (),
                ),
                Item(
                    "Gum arabic",
                    "صمغ عربي",
                    "Hashab grade, cleaned and sorted.",
                    WEIGHTS,
                    (3_000, 12_000),
                    ("organic",),
                ),
            ],
            "Coffee & tea": [
                Item(
                    "Jebena coffee beans",
                    "بن الجبنة",
                    "Lightly roasted, with ginger on request.",
                    WEIGHTS,
                    (3_500, 11_000),
                    ("bestseller",),
                ),
                Item(
                    "Red tea with mint",
                    "شاي أحمر بالنعناع",
                    "Loose tea for the evening pot.",
                    WEIGHTS,
                    (1_000, 3_500),
                    (),
                ),
            ],
            "Sweets": [
                Item(
                    "Ka'ak biscuits, tin",
                    "كعك العيد",
                    "Butter biscuits for Eid, 1 kg tin.",
                    NONE,
                    (8_000, 14_000),
                    ("eid", "gift"),
                ),
                Item(
                    "Sesame halawa",
                    "حلاوة طحينية",
                    "Sesame halva with pistachio.",
                    WEIGHTS,
                    (2_000, 7_000),
                    (),
                ),
            ],
        },
    ),
    Department(
        "Clothing",
        (32, 96, 138),
        {
            "Jalabiyas": [
                Item(
                    "Cotton jalabiya",
                    "جلابية قطن",
                    "White Egyptian cotton, everyday cut.",
                    CLOTHING,
                    (18_000, 35_000),
                    ("summer",),
                ),
                Item(
                    "Embroidered jalabiya",
                    "جلابية مطرزة",
                    "Hand embroidery at the collar.",
                    CLOTHING,
                    (40_000, 75_000),
                    ("handmade", "eid"),
                ),
                Item(
                    "Children's jalabiya",
                    "جلابية أطفال",
                    "Soft cotton for Eid morning.",
                    CHILDREN,
                    (9_000, 16_000),
                    ("eid",),
                ),
            ],
            "Toubs": [
                Item(
                    "Voile toub",
                    "توب فوال",
                    "Five metres of Swiss voile.",
                    NONE,
                    (45_000, 120_000),
                    ("gift",),
                ),
                Item(
                    "Everyday cotton toub",
                    "توب قطن",
                    "Light printed cotton.",
                    NONE,
                    (20_000, 38_000),
                    ("summer",),
                ),
            ],
            "Shoes": [
                Item(
                    "Leather markoub",
                    "مركوب جلد",
                    "Hand-stitched slippers from El Fasher.",
                    SHOES,
                    (15_000, 45_000),
                    ("handmade", "local"),
                ),
                Item(
                    "Leather sandals",
                    "صندل جلد",
                    "Camel leather, resoled for years.",
                    SHOES,
                    (12_000, 30_000),
                    ("handmade",),
                ),
            ],
            "Scarves": [
                Item(
                    "Cotton imma", "عمة قطن", "Turban cloth, 4.5 metres.", NONE, (7_000, 15_000), ()
                ),
            ],
        },
    ),
    Department(
        "Home",
        (90, 120, 60),
        {
            "Kitchen": [
                Item(
                    "Clay jebena",
                    "جبنة فخار",
                    "The coffee pot, with its stand.",
                    NONE,
                    (5_000, 12_000),
                    ("handmade",),
                ),
                Item(
                    "Aluminium cooking pot",
                    "حلة ألمونيوم",
                    "Heavy base, with lid.",
                    ["3 L", "5 L", "8 L"],
                    (8_000, 22_000),
                    (),
                ),
                Item(
                    "Enamel tea set",
                    "طقم شاي",
                    "Six glasses and a tray.",
                    NONE,
                    (9_000, 18_000),
                    ("gift",),
                ),
            ],
            "Bedding": [
                Item(
                    "Angareeb rope bed",
                    "عنقريب",
                    "Wooden frame, woven palm rope.",
                    ["single", "double"],
                    (60_000, 150_000),
                    ("handmade", "local"),
                ),
                Item(
                    "Cotton bed sheet",
                    "ملاية قطن",
                    "Printed cotton, with two pillowcases.",
                    ["single", "double"],
                    (10_000, 25_000),
                    (),
                ),
            ],
            "Decor": [
                Item(
                    "Palm-leaf basket",
                    "قفة سعف",
                    "Woven in Kassala.",
                    ["small", "large"],
                    (3_000, 9_000),
                    ("handmade", "local"),
                ),
                Item(
                    "Incense burner",
                    "مبخر",
                    "Clay mabkhar for bakhoor.",
                    NONE,
                    (2_500, 7_000),
                    ("gift",),
                ),
            ],
        },
    ),
    Department(
        "Electronics",
        (70, 70, 90),
        {
            "Phones": [
                Item(
                    "Samsung Galaxy A16",
                    "سامسونج جالاكسي A16",
                    "128 GB, dual SIM.",
                    ["128 GB", "256 GB"],
                    (280_000, 420_000),
                    ("new",),
                ),
                Item(
                    "Tecno Spark 30",
                    "تكنو سبارك ٣٠",
                    "Big battery, dual SIM.",
                    NONE,
                    (190_000, 260_000),
                    (),
                ),
                Item(
                    "Nokia 105 feature phone",
                    "نوكيا ١٠٥",
                    "Torch, radio, a week of battery.",
                    NONE,
                    (25_000, 40_000),
                    ("bestseller",),
                ),
            ],
            "Accessories": [
                Item("Phone case", "جراب موبايل", "Shockproof silicone.", NONE, (2_000, 6_000), ()),
                Item("USB-C charger, 25 W", "شاحن", "With a 1 m cable.", NONE, (5_000, 12_000), ()),
            ],
            "Solar": [
                Item(
                    "Solar panel",
                    "لوح طاقة شمسية",
                    "Monocrystalline, with 5 m cable.",
                    ["50 W", "100 W", "200 W"],
                    (45_000, 240_000),
                    ("new",),
                ),
                Item(
                    "Solar lantern",
                    "فانوس شمسي",
                    "Charges phones too.",
                    NONE,
                    (9_000, 20_000),
                    ("bestseller",),
                ),
                Item(
                    "Power bank, 20 000 mAh",
                    "باور بانك",
                    "Two USB ports.",
                    NONE,
                    (12_000, 25_000),
                    (),
                ),
            ],
        },
    ),
    Department(
        "Beauty",
        (150, 60, 100),
        {
            "Henna": [
                Item(
                    "Henna powder",
                    "حناء",
                    "Fine-sifted Sudanese henna.",
                    WEIGHTS,
                    (1_500, 6_000),
                    ("organic", "eid"),
                ),
                Item(
                    "Henna cones, box of 12",
                    "أقماع حناء",
                    "Ready to draw.",
                    NONE,
                    (4_000, 8_000),
                    ("eid",),
                ),
            ],
            "Perfume": [
                Item(
                    "Khumra perfume",
                    "خمرة",
                    "Traditional oil blend for weddings.",
                    ["10 ml", "25 ml", "50 ml"],
                    (6_000, 30_000),
                    ("gift",),
                ),
                Item(
                    "Bakhoor",
                    "بخور",
                    "Sandalwood and oud chips.",
                    WEIGHTS,
                    (3_000, 15_000),
                    ("gift",),
                ),
            ],
            "Oils": [
                Item(
                    "Dilka scrub",
                    "دلكة",
                    "Smoky sandalwood body scrub.",
                    ["100 g", "250 g"],
                    (4_000, 10_000),
                    ("handmade",),
                ),
                Item(
                    "Sesame oil",
                    "زيت سمسم",
                    "Cold-pressed in Gedaref.",
                    ["250 ml", "1 L"],
                    (2_500, 9_000),
                    ("organic", "local"),
                ),
            ],
        },
    ),
]

TAGS = ["handmade", "organic", "new", "eid", "summer", "gift", "local", "bestseller"]


@dataclass(frozen=True)
class StorePlan:
    english: str
    arabic: str
    city: str
    latitude: float
    longitude: float
    departments: tuple[str, ...]
    arabic_names: bool  # lists its goods in Arabic


STORES = [
    StorePlan("Nile Dates & Spices", "تمور وبهارات النيل", "Omdurman", 15.6445, 32.4777,
              ("Food",), True),
    StorePlan("Khartoum Tailors", "ترزية الخرطوم", "Khartoum", 15.5007, 32.5599, ("Clothing",),
              False),
    StorePlan("Red Sea Electronics", "إلكترونيات البحر الأحمر", "Port Sudan", 19.6158, 37.2164,
              ("Electronics",), False),
    StorePlan("Gezira Home", "بيت الجزيرة", "Wad Madani", 14.4012, 33.5199, ("Home",), True),
    StorePlan("Kassala Souq", "سوق كسلا", "Kassala", 15.4507, 36.4000, ("Food", "Home"), True),
    StorePlan("Kordofan Henna House", "دار حناء كردفان", "El Obeid", 13.1843, 30.2167,
              ("Beauty",), True),
    StorePlan("Darfur Leather", "جلود دارفور", "El Fasher", 13.6279, 25.3494, ("Clothing",), False),
    StorePlan("Atbara Solar", "أتبرا للطاقة الشمسية", "Atbara", 17.7022, 33.9866,
              ("Electronics",), False),
    StorePlan("Gedaref Oils", "زيوت القضارف", "Gedaref", 14.0333, 35.3833, ("Beauty", "Food"),
              True),
    StorePlan("Nyala Market", "سوق نيالا", "Nyala", 12.0489, 24.8807, ("Clothing", "Home"), True),
    StorePlan("Bahri Phones", "موبايلات بحري", "Khartoum North", 15.6333, 32.5333,
              ("Electronics",), True),
    StorePlan("Dongola Dates", "تمور دنقلا", "Dongola", 19.1653, 30.4765, ("Food",), False),
    StorePlan("Kosti Traders", "تجار كوستي", "Kosti", 13.1629, 32.6635, ("Home", "Clothing"),
              False),
]  # fmt: skip
