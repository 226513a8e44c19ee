"""Pure rules of the text-intelligence capability: input checks, text normalisation, the complaint-risk
score and the repeat-call decision. No ORM, no I/O."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Longest text the classifier reads; the rest of a pasted document adds nothing to the type of a call
# and would only slow a batch down. Longer input is truncated with a warning.
MAX_CHARS = 2000
_HAN = re.compile(r"[\u4e00-\u9fff]")
_SPACE = re.compile(r"\s+")
# Channel tags systems put in front of a text ("【网上国网】", "[在线客服]", "（微信公众号）"): metadata
# about where the text came from, not about what the caller wants.
_TAGS = re.compile(r"^\s*(?:[【\[(（][^】\])）]{1,12}[】\])）]\s*)+")


@dataclass(frozen=True)
class TextCheck:
    text: str          # normalised (and possibly truncated) text to classify; "" when unusable
    problem: str       # "" | "empty" | "no_chinese" | "too_long"
    message: str       # Chinese message for the problem

    @property
    def usable(self) -> bool:
        return self.problem in ("", "too_long")


def normalise(text: str) -> str:
    """NFKC (full-width letters and digits to half-width), lower case, collapsed white space."""
    text = _SPACE.sub(" ", unicodedata.normalize("NFKC", text or "")).strip().lower()
    return _TAGS.sub("", text)


def check_text(text, max_chars: int = MAX_CHARS) -> TextCheck:
    if text is None or not isinstance(text, str) or not text.strip():
        return TextCheck("", "empty", "受理内容为空，无法分类")
    clean = normalise(text)
    if not _HAN.search(clean):
        return TextCheck("", "no_chinese", "受理内容不含中文，无法分类")
    if len(clean) > max_chars:
        return TextCheck(clean[:max_chars], "too_long",
                         f"受理内容过长（{len(clean)}字），仅按前{max_chars}字分类")
    return TextCheck(clean, "", "")


# ------------------------------------------------------------------------------ complaint risk
# Negative wording that, in the studies, precedes a complaint: anger, threats to escalate, losses.
NEGATIVE_WORDS = ("投诉", "不满", "生气", "气愤", "太差", "说法", "交代", "赔偿", "损失", "曝光", "媒体", "12398",
                  "市长热线", "12345", "再不", "多次", "又", "还没", "一直", "根本", "到底", "没人管", "没人来")


def negative_hits(text: str) -> int:
    text = text or ""
    return sum(1 for w in NEGATIVE_WORDS if w in text)


@dataclass(frozen=True)
class RiskInput:
    repeat_calls: int = 0            # earlier orders of the same customer about the same problem (window)
    sensitive: bool = False          # the customer carries the sensitive flag
    taiqu_outages: int = 0           # outages / outage-type orders on the customer's 台区 in the window
    overdue_stages: int = 0          # stages of this order that ran over their limit (incl. the current one)
    near_breach: bool = False        # the current stage is past its warning time
    negative_words: int = 0          # negative-wording hits in the text
    urge_count: int = 0              # 催办 by the customer


def risk_score(x: RiskInput, weights: dict) -> float:
    """Complaint-risk score in [0, 1]: a logistic-style squash of a weighted sum. Each factor only adds
    (so the score never falls when a factor grows); each count is capped so one factor cannot
    dominate. `weights` is data (data/risk-weights.yaml)."""
    w = weights
    s = (w["repeat_call"] * min(x.repeat_calls, 3)
         + (w["sensitive"] if x.sensitive else 0.0)
         + w["taiqu_outage"] * min(x.taiqu_outages, 5)
         + w["overdue_stage"] * min(x.overdue_stages, 3)
         + (w["near_breach"] if x.near_breach else 0.0)
         + w["negative_word"] * min(x.negative_words, 4)
         + w["urge"] * min(x.urge_count, 3))
    return round(s / (s + w["half_point"]), 4) if s > 0 else 0.0


def risk_level(score: float, thresholds: dict) -> str:
    if score >= thresholds["high"]:
        return "high"
    if score >= thresholds["medium"]:
        return "medium"
    return "low"


# ------------------------------------------------------------------------------ repeats
def is_repeat(similarity: float, same_customer: bool, same_problem_code: bool, params: dict) -> bool:
    """An earlier order is "the same problem" when its text is similar enough; the threshold is lower
    for the same customer, and lower again when the type/category codes agree too."""
    threshold = params["same_customer_threshold"] if same_customer else params["same_taiqu_threshold"]
    if same_problem_code:
        threshold -= params["same_code_bonus"]
    return similarity >= threshold
