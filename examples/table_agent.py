"""An agent answers a question about a table: an LLM turns the user's table into an ``ask_about_table`` call, TAPAS
reads the table, and the LLM answers in a sentence.

Run it as written, from anywhere:

    python examples/table_agent.py

With ``HF_TOKEN`` set it calls the Hugging Face router live. Without it, it replays the traffic stored in
``cassettes/table_agent.yaml`` offline with vcrpy (``pip install vcrpy``): nothing leaves the machine, and a request
that is not in the cassette fails instead of reaching the network. (The TAPAS answer in the cassette is a real
recorded one; the chat answers are hand-written.)

The steps, the loop any tool-calling agent runs:
1. ``meta-llama/Llama-3.3-70B-Instruct`` gets the ``ask_about_table`` tool and the user's message, and answers with
   a tool call: the table as columns and the question;
2. the tool runs ``google/tapas-base-finetuned-wtq`` (hf-inference) and returns the answer, the cells it used and the
   aggregation (the structured result is the artifact);
3. the tool message goes back to the LLM, which answers the user.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from langchain_hfserverless import ChatHFServerless
from langchain_hfserverless.tools import TableQuestionAnsweringTool

AGENT = "meta-llama/Llama-3.3-70B-Instruct"
CASSETTE = Path(__file__).resolve().parent.parent / "cassettes" / "table_agent.yaml"
QUESTION = (
    "Here are some Hugging Face repositories:\n"
    "Repository | Stars | Contributors | Programming language\n"
    "Transformers | 36542 | 651 | Python\n"
    "Datasets | 4512 | 77 | Python\n"
    "Tokenizers | 3934 | 34 | Rust, Python and NodeJS\n"
    "How many stars does the transformers repository have?"
)


def offline_replay() -> AbstractContextManager[Any]:
    """Answer every request from the cassette; an unrecorded request raises instead of going online."""
    try:
        import vcr
    except ImportError:
        sys.exit("Offline replay needs vcrpy: `pip install vcrpy`, or set HF_TOKEN to call the live router.")
    replay = vcr.VCR(record_mode="none", match_on=["method", "uri", "body"], decode_compressed_response=True)
    return replay.use_cassette(str(CASSETTE))


def run(question: str, token: str | None) -> dict[str, Any]:
    """The agent loop for one question; returns the tool call, the table tool's result and the final answer."""
    table_tool = TableQuestionAnsweringTool(api_key=token)
    agent = ChatHFServerless(model=AGENT, api_key=token, temperature=0, max_tokens=300)
    messages: list[BaseMessage] = [
        SystemMessage(
            "You answer questions about tables. Always look the answer up with ask_about_table: pass the table "
            "as columns (cells as text) and the user's question."
        ),
        HumanMessage(question),
    ]

    # 1. The agent must call the tool first: its arguments are the table and the question as it read them.
    ai = agent.bind_tools([table_tool], tool_choice=table_tool.name).invoke(messages)
    call = ai.tool_calls[0]
    print(f"1. {AGENT} asks {call['name']}: {call['args']['query']}")

    # 2. The tool answers with a ToolMessage: text for the model, the server's structured answer as the artifact.
    looked_up = table_tool.invoke(call)
    print(f"2. {looked_up.content}")

    # 3. The tool's answer goes back to the agent, which answers the user.
    final = agent.bind_tools([table_tool]).invoke([*messages, ai, looked_up])
    answer = final.text.strip()
    print(f"3. {answer}")
    return {"call": call, "table_answer": looked_up.artifact, "answer": answer}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--question", default=QUESTION)
    args = parser.parse_args(argv)
    token = os.environ.get("HF_TOKEN")
    if token:
        print("Live: calling the Hugging Face router with HF_TOKEN.")
        session: AbstractContextManager[Any] = nullcontext()
    else:
        print(f"Offline: replaying cassettes/{CASSETTE.name} with vcrpy (set HF_TOKEN to call the router live).")
        if args.question != QUESTION:
            sys.exit("The cassette holds the default question only: drop --question, or set HF_TOKEN.")
        token = "hf_offline_replay_placeholder"  # the replay answers before anything is sent
        session = offline_replay()
    with session:
        return run(args.question, token)


if __name__ == "__main__":
    main()
