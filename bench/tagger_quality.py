"""Which skill tagger works best here: embedding (MiniLM, no LLM) or llm (the reference
method with the local tagger model)?

Metric: on MMLU-Pro validation questions (the paper's train split), the share whose tagged
skills include one from the vocabulary section of the question's own subject (category),
plus seconds per question.

    .venv/bin/python bench/tagger_quality.py --questions 40
"""

from __future__ import annotations

import argparse
import json
import time
from importlib.resources import files
from pathlib import Path

from orchestrator.benchmarks import load_benchmark
from orchestrator.factory import Deployment
from orchestrator.settings import Settings

# MMLU-Pro category -> the skills.txt section headers that count as on-subject
SECTIONS = {
    "math": ["math"],
    "physics": ["physics"],
    "chemistry": ["chemistry"],
    "biology": ["biology"],
    "health": ["health"],
    "computer science": ["computer science"],
    "engineering": ["engineering"],
    "economics": ["economics"],
    "business": ["business"],
    "law": ["law"],
    "philosophy": ["philosophy"],
    "psychology": ["psychology"],
    "history": ["history"],
    "other": ["social sciences", "general knowledge"],
}


def skill_sections() -> dict[str, str]:
    section = ""
    out: dict[str, str] = {}
    for line in files("skills").joinpath("data/skills.txt").read_text().splitlines():
        if line.startswith("# ") and len(line) < 60:
            section = line[2:]
        elif line.strip() and not line.startswith("#"):
            out[line.strip()] = section
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--taggers", default="embedding,llm")
    parser.add_argument("--out", type=Path, default=Path("bench/results/tagger_quality.json"))
    args = parser.parse_args()
    dep = Deployment(Settings())
    items = load_benchmark(dep.settings.benchmarks_dir, "mmlu_pro", "train", args.questions)
    sections = skill_sections()
    rows = {}
    for name in args.taggers.split(","):
        tagger = dep.tagger(name)
        stages = dep.new_stages()
        tagger.tag(["warm"], ["warm up"], stages)  # model / embedding loads out of the timing
        started = time.perf_counter()
        taggings = tagger.tag([i.id for i in items], [i.question for i in items], stages)
        seconds = time.perf_counter() - started
        hits = sum(
            any(any(h in sections.get(s, "") for h in SECTIONS[i.category]) for s in t.skills)
            for i, t in zip(items, taggings, strict=True)
        )
        empty = sum(not t.skills for t in taggings)
        rows[name] = {
            "on_subject": hits / len(items),
            "no_skill": empty / len(items),
            "seconds_per_question": seconds / len(items),
            "examples": [
                [i.category, t.keywords, t.skills]
                for i, t in list(zip(items, taggings, strict=True))[:5]
            ],
        }
        print(
            f"{name:10} on-subject {hits / len(items):6.1%}  no skill {empty / len(items):6.1%}"
            f"  {seconds / len(items):6.2f} s/question"
        )
    dep.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"questions": len(items), "taggers": rows}, indent=1))


if __name__ == "__main__":
    main()
