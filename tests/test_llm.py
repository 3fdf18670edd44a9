"""LLM backends: the bundled GGUF model through its converted cache, any HF folder, remote backends' config."""

from __future__ import annotations

import math
import shutil

import pytest

from videoagent.config import LlmConfig, load_profile
from videoagent.models.registry import load_chat_model, locate_llm
from videoagent.models.weights import MissingWeights, converted_dir
from videoagent.qa.llm import LocalChatModel, load_local


@pytest.fixture(scope="module")
def smollm() -> LocalChatModel:
    return load_chat_model(LlmConfig(backend="local-gguf", model="bundled:smollm2-135m", max_new_tokens=12))


@pytest.mark.slow
def test_bundled_model_is_converted_once_and_scores_text(smollm):
    assert (converted_dir() / "smollm2-135m" / "model.safetensors").exists()
    path, what = locate_llm(LlmConfig(backend="local-gguf", model="bundled:smollm2-135m", max_new_tokens=12))
    assert path and what == "converted safetensors"
    # A real language model: the sensible continuation is far likelier than nonsense.
    good, bad = smollm.logprob(["The capital of France is"] * 2, [" Paris.", " a purple spoon."])
    assert math.isfinite(good) and good > bad + 1.0
    from langchain_core.messages import HumanMessage

    assert smollm.has_chat_template and "<|im_start|>user\nhi" in smollm.render([HumanMessage("hi")])


@pytest.mark.slow
def test_chat_model_answers_through_langchain(smollm):
    reply = smollm.invoke("What is the capital of France? Answer in one word.")
    assert reply.type == "ai" and "paris" in reply.content.lower()


@pytest.mark.slow
def test_hf_folder_loads_through_the_same_code(tmp_path, smollm):
    """A tiny randomly initialised Llama saved to a folder: the `hf` backend's loading path, no network."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tok_dir = converted_dir() / "smollm2-135m"
    config = LlamaConfig(
        vocab_size=smollm._tokenizer.vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
    )
    LlamaForCausalLM(config).save_pretrained(tmp_path)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(tok_dir / name, tmp_path / name)
    model = load_local(LlmConfig(backend="hf", model=str(tmp_path), max_new_tokens=3))
    assert isinstance(model, LocalChatModel)
    assert len(model.logprob(["a b"], [" c d"])) == 1
    assert isinstance(model.complete("hello"), str)


def test_missing_weights_and_keys_are_reported(monkeypatch):
    with pytest.raises(MissingWeights, match="no-such-model"):
        load_chat_model(LlmConfig(backend="hf", model="nobody/no-such-model"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(MissingWeights, match="OPENAI_API_KEY"):
        load_chat_model(load_profile("openai").llm)
    assert locate_llm(load_profile("openai").llm)[0] is None
    # With a key (or a local server) the endpoint is only configured here: nothing connects yet.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    chat = load_chat_model(load_profile("openai").llm)
    assert chat.model_name == "gpt-4o-mini"
