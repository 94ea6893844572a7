"""The seed pipeline: an LLM writes an image prompt, FLUX draws it, a vision model describes it, Kokoro speaks it.

Run it as written, from anywhere:

    python examples/multimodal_agent.py [--subject "a lighthouse in a storm"] [--out multimodal_out]

With ``HF_TOKEN`` set it calls the Hugging Face router live. Without it, it replays the traffic stored in
``cassettes/multimodal_agent.yaml`` offline with vcrpy (``pip install vcrpy``): nothing leaves the machine, and a
request that is not in the cassette fails instead of reaching the network.

The four steps, each a different model on the same router:
1. ``meta-llama/Llama-3.3-70B-Instruct`` is given the ``generate_image`` tool and writes its prompt as a tool call;
2. the tool runs ``black-forest-labs/FLUX.1-schnell`` and returns the image as a content block plus bytes;
3. ``Qwen/Qwen2.5-VL-7B-Instruct`` looks at that image block and describes it;
4. the ``text_to_speech`` tool reads the description aloud with ``hexgrad/Kokoro-82M``.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage

from langchain_hfserverless import ChatHFServerless
from langchain_hfserverless.tools import TextToImageTool, TextToSpeechTool

WRITER = "meta-llama/Llama-3.3-70B-Instruct"
VISION = "Qwen/Qwen2.5-VL-7B-Instruct"
CASSETTE = Path(__file__).resolve().parent.parent / "cassettes" / "multimodal_agent.yaml"
SUBJECT = "a lighthouse on a cliff at dawn"


def offline_replay() -> AbstractContextManager[Any]:
    """Answer every request from the cassette; an unrecorded request raises instead of going online."""
    try:
        import vcr
    except ImportError:
        sys.exit("Offline replay needs vcrpy: `pip install vcrpy`, or set HF_TOKEN to call the live router.")
    replay = vcr.VCR(record_mode="none", match_on=["method", "uri", "body"], decode_compressed_response=True)
    return replay.use_cassette(str(CASSETTE))


def run(subject: str, out_dir: Path, token: str | None) -> dict[str, Any]:
    """The four steps; returns what each produced."""
    draw = TextToImageTool(api_key=token, output_dir=str(out_dir))
    speak = TextToSpeechTool(api_key=token, output_dir=str(out_dir))

    # 1. The writer must answer with a generate_image call: its arguments are the prompt it wrote.
    writer = ChatHFServerless(model=WRITER, api_key=token, temperature=0, max_tokens=300)
    ai = writer.bind_tools([draw], tool_choice=draw.name).invoke(
        [
            SystemMessage("You are an art director. Write one vivid, specific image prompt and call generate_image."),
            HumanMessage(f"Make a picture of {subject}."),
        ]
    )
    call = ai.tool_calls[0]
    print(f"1. prompt written by {WRITER}: {call['args']['prompt']}")

    # 2. The tool answers with a ToolMessage: text + the image as a content block; the bytes are the artifact.
    drawn = draw.invoke(call)
    print(f"2. {drawn.content[0]['text']}")

    # 3. The vision model looks at the very block the tool returned.
    vision = ChatHFServerless(model=VISION, api_key=token, temperature=0, max_tokens=200)
    looked = vision.invoke(
        [
            HumanMessage(
                [{"type": "text", "text": "Describe this image in two sentences for a listener."}, drawn.content[1]]
            )
        ]
    )
    description = looked.text.strip()
    print(f"3. {VISION} sees: {description}")

    # 4. Speak the description.
    spoken = speak.invoke({"type": "tool_call", "id": "speak-1", "name": speak.name, "args": {"text": description}})
    print(f"4. {spoken.content}")
    return {
        "prompt": call["args"]["prompt"],
        "image": drawn.artifact,
        "description": description,
        "speech": spoken.artifact,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subject", default=SUBJECT)
    parser.add_argument("--out", default="multimodal_out", help="directory for the image and the speech")
    args = parser.parse_args(argv)
    out_dir = Path(args.out)
    token = os.environ.get("HF_TOKEN")
    if token:
        print("Live: calling the Hugging Face router with HF_TOKEN.")
        session: AbstractContextManager[Any] = nullcontext()
    else:
        print(f"Offline: replaying cassettes/{CASSETTE.name} with vcrpy (set HF_TOKEN to call the router live).")
        if args.subject != SUBJECT:
            sys.exit("The cassette holds the default subject only: drop --subject, or set HF_TOKEN.")
        token = "hf_offline_replay_placeholder"  # the replay answers before anything is sent
        session = offline_replay()
    with session:
        return run(args.subject, out_dir, token)


if __name__ == "__main__":
    main()
