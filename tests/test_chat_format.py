import pytest

from medtune import chat_format
from medtune.models import load_tokenizer


def test_conversation_puts_the_disclaimer_on_the_last_answer_only():
    msgs = chat_format.conversation([("q1", "a1"), ("q2", "a2")], disclaimer=True)
    assert msgs[0] == {"role": "system", "content": chat_format.SYSTEM_PROMPT}
    assert msgs[2]["content"] == "a1"
    assert msgs[4]["content"] == "a2\n\n" + chat_format.DISCLAIMER
    chat_format.validate_messages(msgs)


@pytest.mark.parametrize("messages,message", [
    ([], "non-empty"),
    ([{"role": "user", "content": "q"}], "end with an assistant"),
    ([{"role": "user", "content": "q"}, {"role": "user", "content": "q"}], "turn 1 should be 'assistant'"),
    ([{"role": "doctor", "content": "q"}], r"messages\[0\]"),
])
def test_validate_messages_names_the_problem(messages, message):
    with pytest.raises(ValueError, match=message):
        chat_format.validate_messages(messages, "train.jsonl:3")


def test_render_uses_the_models_template_and_end_of_turn():
    tok = load_tokenizer("smollm2-135m")
    text = chat_format.render(tok, chat_format.conversation([("Hi?", "Hello.")]), add_generation_prompt=False)
    assert text.startswith("<|im_start|>system\n" + chat_format.SYSTEM_PROMPT + "<|im_end|>")
    assert "<|im_start|>assistant\nHello.<|im_end|>" in text
    assert chat_format.end_of_turn_token(tok, "<|im_end|>") == "<|im_end|>"
    assert chat_format.stop_strings(tok, "<|im_end|>") == ["<|im_end|>"]
    with pytest.raises(ValueError, match="not in the tokenizer"):
        chat_format.end_of_turn_token(tok, "<|eot_id|>")
