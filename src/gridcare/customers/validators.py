"""Pure checks of customer identifiers (no ORM)."""
import re

_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
# 统一社会信用代码 (18 chars, GB 32100-2015) or the old 15-digit 纳税人识别号 (individuals: 18-digit ID no.).
_CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def valid_phone(value: str) -> bool:
    return bool(_PHONE.match(value or ""))


def valid_credit_code(code: str) -> bool:
    """Checks an 18-character 统一社会信用代码 with its GB 32100 check character."""
    code = (code or "").upper()
    if len(code) != 18 or any(c not in _CREDIT_CODE_CHARS for c in code):
        return False
    total = sum(_CREDIT_CODE_CHARS.index(c) * w for c, w in zip(code[:17], _CREDIT_WEIGHTS))
    check = (31 - total % 31) % 31
    return _CREDIT_CODE_CHARS[check] == code[17]


def valid_tax_id(value: str) -> bool:
    """纳税人识别号: an 18-char unified social credit code, or a legacy 15/17/20-character number."""
    value = (value or "").strip().upper()
    if len(value) == 18:
        return valid_credit_code(value)
    return bool(re.fullmatch(r"[0-9A-Z]{15}|[0-9A-Z]{17}|[0-9A-Z]{20}", value))


def credit_code_with_check(first17: str) -> str:
    total = sum(_CREDIT_CODE_CHARS.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS))
    return first17 + _CREDIT_CODE_CHARS[(31 - total % 31) % 31]


ACCOUNT_NO = re.compile(r"^\d{10}$")


def valid_account_no(value: str) -> bool:
    """户号: ten digits (the demo and import convention)."""
    return bool(ACCOUNT_NO.match(value or ""))
