"""execute_group with the scripted backend and a real ModelPool: completions aligned with the
prompts, per-prompt context failures, backend failures reported instead of raised."""

from __future__ import annotations

from workers.backends import LLMBackend
from workers.backends.scripted import ScriptedBackend
from workers.execute import execute_group
from workers.pool import ModelPool
from workers.types import BackendError, Completion, GenerationParams, ModelSpec, Prompt

RESPONSES = {"apple": "Apples are red.", "sky": "The sky is blue.", "grass": "Grass is green."}


def _spec(name: str = "e", n_ctx: int = 2048, **options: object) -> ModelSpec:
    return ModelSpec(
        name=name,
        backend="scripted",
        model=f"scripted/{name}",
        n_ctx=n_ctx,
        memory_mb=100,
        options={"responses": RESPONSES, "default": "No idea.", **options},
    )


class ShortContext(ScriptedBackend):
    """Counts a prompt's words as its tokens, so a test can overflow the context, and records
    what each generate call was given."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__(spec)
        self.batches: list[list[str]] = []

    def fits(self, prompt: Prompt) -> bool:
        return sum(len(m.content.split()) for m in prompt.messages) <= self.spec.n_ctx

    def generate(self, prompts: list[Prompt], params: GenerationParams) -> list[Completion]:
        self.batches.append([p.messages[-1].content for p in prompts])
        return super().generate(prompts, params)


class BrokenGenerate(ScriptedBackend):
    def generate(self, prompts: list[Prompt], params: GenerationParams) -> list[Completion]:
        raise BackendError(f"{self.spec.name}: out of memory while decoding")


def _prompts(*texts: str) -> list[Prompt]:
    return [Prompt.user(t) for t in texts]


def test_completions_align_with_the_prompts_and_the_load_is_counted() -> None:
    pool = ModelPool(memory_budget_mb=1000)
    prompts = _prompts("Why is the sky blue?", "Tell me about apple trees.", "What is grass?")
    outcome = execute_group(pool, _spec(), GenerationParams(), prompts)
    assert [c.text if c else None for c in outcome.completions] == [
        "The sky is blue.",
        "Apples are red.",
        "Grass is green.",
    ]
    assert outcome.item_errors == [None, None, None]
    assert outcome.error is None
    assert outcome.loaded is True
    assert outcome.seconds >= outcome.load_seconds >= 0.0
    assert pool.stats.loads == 1

    again = execute_group(pool, _spec(), GenerationParams(), prompts[:1])
    assert [c.text if c else None for c in again.completions] == ["The sky is blue."]
    assert (again.loaded, again.load_seconds) == (False, 0.0)
    assert pool.stats.loads == 1
    assert pool.stats.loads_by_model == {"e": 1}


def test_the_load_time_is_reported_for_a_slow_load() -> None:
    pool = ModelPool(memory_budget_mb=1000)
    outcome = execute_group(pool, _spec(load_delay_s=0.05), GenerationParams(), _prompts("sky"))
    assert outcome.loaded is True
    assert outcome.load_seconds >= 0.05
    assert outcome.seconds >= outcome.load_seconds


def test_a_prompt_that_does_not_fit_fails_alone() -> None:
    backends: list[ShortContext] = []

    def factory(spec: ModelSpec) -> LLMBackend:
        backends.append(ShortContext(spec))
        return backends[-1]

    pool = ModelPool(memory_budget_mb=1000, factory=factory)
    too_long = "grass " * 70  # 70 words over a 64-token context
    prompts = _prompts("sky", too_long, "apple")
    outcome = execute_group(pool, _spec("small", n_ctx=64), GenerationParams(), prompts)
    assert [c.text if c else None for c in outcome.completions] == [
        "The sky is blue.",
        None,
        "Apples are red.",
    ]
    assert outcome.item_errors == [
        None,
        "prompt exceeds the context of 64 tokens of expert small",
        None,
    ]
    assert outcome.error is None
    assert [b.batches for b in backends] == [[["sky", "apple"]]]  # one call, without it


def test_streaming_keeps_each_prompts_own_index_around_a_skipped_prompt() -> None:
    pool = ModelPool(memory_budget_mb=1000, factory=ShortContext)
    pieces: list[tuple[int, str]] = []
    prompts = _prompts("grass " * 70, "sky", "apple")
    outcome = execute_group(
        pool,
        _spec(n_ctx=64),
        GenerationParams(),
        prompts,
        on_text=lambda i, text: pieces.append((i, text)),
    )
    streamed = {i: "".join(t for j, t in pieces if j == i) for i, _ in pieces}
    assert streamed == {1: "The sky is blue.", 2: "Apples are red."}
    assert [c.text if c else None for c in outcome.completions] == [
        None,
        "The sky is blue.",
        "Apples are red.",
    ]


def test_a_model_that_fails_to_load_fails_the_group_without_raising() -> None:
    pool = ModelPool(memory_budget_mb=1000)
    outcome = execute_group(
        pool, _spec("broken", fail_load=True), GenerationParams(), _prompts("sky", "apple")
    )
    assert outcome.error == "model 'scripted/broken' for expert 'broken' failed"
    assert outcome.completions == [None, None]
    assert outcome.loaded is False
    assert outcome.load_seconds == 0.0
    assert pool.stats.loads == 0
    assert pool.resident() == []


def test_a_generate_failure_fails_the_group_without_raising() -> None:
    pool = ModelPool(memory_budget_mb=1000, factory=BrokenGenerate)
    outcome = execute_group(pool, _spec("oom"), GenerationParams(), _prompts("sky", "apple"))
    assert outcome.error == "oom: out of memory while decoding"
    assert outcome.completions == [None, None]
    assert outcome.item_errors == [None, None]
    assert outcome.loaded is True  # the model loaded; only the generation failed
    assert pool.stats.loads == 1
    assert pool.resident() == ["oom"]


def test_the_next_groups_model_is_prefetched() -> None:
    pool = ModelPool(memory_budget_mb=1000)
    execute_group(pool, _spec("a"), GenerationParams(), _prompts("sky"), prefetch=[_spec("b")])
    assert pool.stats.prefetches == 1
    _, loaded = pool.acquire(_spec("b"))  # waits for the background load if still running
    assert loaded is True  # counted for the first group that uses it
    assert pool.stats.loads_by_model == {"a": 1, "b": 1}
