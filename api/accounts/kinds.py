"""The account and security notifications accounts and authentication send."""

from notifications.kinds import Kind, register

register(
    Kind(
        name="code",
        category="security",
        variables=frozenset({"purpose", "code", "first_name", "minutes"}),
        description="A one-time code (email verification, password reset, deletion, new address).",
        identity="security",
        priority="now",
        secret=True,
        # No in-app row: a code belongs only in the mailbox it proves.
        sample={"purpose": "verify_email", "code": "123456", "minutes": 10},
    ),
    Kind(
        name="welcome",
        category="account",
        variables=frozenset({"first_name", "account_type"}),
        description="Sent once an address is verified (or a Google account first signs in).",
        title={"en": "Welcome to Sudamall", "ar": "أهلاً بك في سودامول"},
        body={
            "en": "Your account is ready.",
            "ar": "حسابك جاهز.",
        },
    ),
    Kind(
        name="password_changed",
        category="security",
        variables=frozenset({"first_name"}),
        description="The account's password was changed or reset.",
        identity="security",
        priority="high",
        title={"en": "Your password was changed", "ar": "تم تغيير كلمة المرور"},
        body={
            "en": "If it wasn't you, reset your password now.",
            "ar": "إن لم تكن أنت، أعد تعيين كلمة المرور الآن.",
        },
        link="/account/security",
    ),
)
