"""LLM skill tagging, the reference way: prompt, parse, keep keywords that recur."""

from __future__ import annotations

import re
from collections import Counter

MAX_KEYWORD_CHARS = 20  # the reference drops longer keywords: they are phrases, not skills

_EXAMPLES = (
    "psychology, virology, behavioral theory, microbiology, diplomacy, political science, "
    "property law, finance, business"
)


def keyword_prompt(question: str) -> str:
    return (
        f"Question: {question}\n"
        "What are the core knowledge, subjects or skills needed to solve this problem? "
        f"List 2-5 keywords separated in comma. Example keywords: {_EXAMPLES}. "
        "Give ONLY the keywords, no other words or explanation. "
        "Follow this format: Keywords: <keyword1>, <keyword2>..."
    )


def parse_keywords(text: str) -> list[str]:
    """Keywords from a tagger's reply: the text after the last 'Keywords:' (or all of it),
    split on commas and lines, lower-cased, without list markers, parentheticals or
    punctuation. Small models often answer with a numbered list instead of the format asked
    for, so list lines count too."""
    found = re.split(r"keywords\s*:", text, flags=re.IGNORECASE)
    body = found[-1] if len(found) > 1 else text
    out: list[str] = []
    for part in re.split(r"[,\n]", body):
        kw = re.sub(r"\([^)]*\)?", "", part)
        kw = re.sub(r"^[\s\-*\d.<>]+|[\s.<>;:!?\"']+$", "", kw).strip().lower()
        kw = re.sub(r"\s+", " ", kw)
        if kw and kw not in out and len(kw.split()) <= 4:
            out.append(kw)
    return out[:8]


def recurring_keywords(samples: list[list[str]], max_chars: int = MAX_KEYWORD_CHARS) -> list[str]:
    """Keywords named in more than one sample (all of them when there is one sample),
    shorter than `max_chars`, most frequent first."""
    counts = Counter(kw for sample in samples for kw in dict.fromkeys(sample))
    need = 2 if len(samples) > 1 else 1
    return [kw for kw, c in counts.most_common() if c >= need and len(kw) <= max_chars]
