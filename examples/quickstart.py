"""Quickstart: ask, stream, and read token usage with ChatHFServerless.

Run it as written, from anywhere:

    python examples/quickstart.py

With ``HF_TOKEN`` set it calls the Hugging Face router live. Without it, it replays the traffic stored in
``cassettes/quickstart.yaml`` offline with vcrpy (``pip install vcrpy``): nothing leaves the machine, and a
request that is not in the cassette fails instead of reaching the network.
"""

from __future__ import annotations

import os
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from langchain_hfserverless import ChatHFServerless

MODEL = "meta-llama/Llama-3.1-8B-Instruct"
CASSETTE = Path(__file__).resolve().parent.parent / "cassettes" / "quickstart.yaml"


def offline_replay() -> AbstractContextManager[Any]:
    """Answer every request from the cassette; an unrecorded request raises instead of going online."""
    try:
        import vcr
    except ImportError:
        sys.exit("Offline replay needs vcrpy: `pip install vcrpy`, or set HF_TOKEN to call the live router.")
    replay = vcr.VCR(record_mode="none", match_on=["method", "uri", "body"])
    return replay.use_cassette(str(CASSETTE))


def tokens(usage: Any) -> str:
    return f"{usage['input_tokens']} in + {usage['output_tokens']} out = {usage['total_tokens']} tokens"


def main() -> None:
    if os.environ.get("HF_TOKEN"):
        print(f"Calling the Hugging Face router live with {MODEL}.")
        llm = ChatHFServerless(model=MODEL, max_tokens=64)
        session: AbstractContextManager[Any] = nullcontext()
    else:
        print(
            f"No HF_TOKEN: replaying recorded traffic offline from {CASSETTE.name} "
            "(set HF_TOKEN to call the live router)."
        )
        # The replay answers before anything is sent, so a placeholder token is enough.
        llm = ChatHFServerless(model=MODEL, max_tokens=64, api_key="hf_offline_replay_placeholder")
        session = offline_replay()

    with session:
        answer = llm.invoke("In one sentence, what is the Hugging Face Hub?")
        print(answer.content)
        meta = answer.response_metadata
        print(f"served by {meta.get('inference_provider')} as {meta.get('model_name')}")
        if answer.usage_metadata:
            print(f"usage: {tokens(answer.usage_metadata)}")

        print("stream: ", end="")
        full = None
        for chunk in llm.stream("Count from 1 to 5, separated by commas."):
            print(chunk.content, end="", flush=True)
            full = chunk if full is None else full + chunk
        print()
        if full is not None and full.usage_metadata:
            print(f"stream usage: {tokens(full.usage_metadata)}")


if __name__ == "__main__":
    main()
