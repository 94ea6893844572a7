"""An agent with two tools on the Hugging Face router, built with LangChain's ``create_agent``.

    python examples/agent.py                  # offline: replays cassettes/agent.yaml (hand-built), no network
    HF_TOKEN=hf_xxx python examples/agent.py  # live, on the Inference Providers router

The model asks for the weather, converts the temperature with the second tool, then answers. Needs
``langchain`` (and ``vcrpy`` for the offline replay): both come with ``pip install -e ".[test]"``.
"""

from __future__ import annotations

import os
from pathlib import Path

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.tools import tool

from langchain_hfserverless import ChatHFServerless

MODEL = "meta-llama/Llama-3.3-70B-Instruct"
CASSETTE = Path(__file__).resolve().parent.parent / "cassettes" / "agent.yaml"
QUESTION = "What's the weather in Paris right now? Give me the temperature in Fahrenheit."


@tool
def get_weather(city: str) -> str:
    """Current weather of a city, with the temperature in Celsius."""
    canned = {"paris": "18°C, light rain", "tokyo": "24°C, clear"}  # a real app would call a weather API here
    return canned.get(city.strip().lower(), "20°C, cloudy")


@tool
def celsius_to_fahrenheit(celsius: float) -> float:
    """Convert a temperature from degrees Celsius to degrees Fahrenheit."""
    return round(celsius * 9 / 5 + 32, 1)


def run(api_key: str | None = None) -> list[BaseMessage]:
    """Ask the agent :data:`QUESTION`; returns the whole conversation (question, tool calls, results, answer)."""
    llm = ChatHFServerless(model=MODEL, api_key=api_key, temperature=0, max_tokens=256)
    agent = create_agent(
        llm,
        tools=[get_weather, celsius_to_fahrenheit],
        system_prompt="You answer weather questions. Always use the tools; never guess a temperature.",
    )
    result = agent.invoke({"messages": [{"role": "user", "content": QUESTION}]})
    return list(result["messages"])


def run_offline() -> list[BaseMessage]:
    """:func:`run` against the recorded router answers in :data:`CASSETTE`; fails if a request is not in it."""
    import vcr

    with vcr.use_cassette(str(CASSETTE), record_mode="none", match_on=["method", "scheme", "host", "path"]) as tape:
        messages = run(api_key="hf_offline_replay")  # never leaves the process: vcrpy answers every request
        if not tape.all_played:
            raise RuntimeError(f"The agent made fewer requests than {CASSETTE.name} holds: the replay is stale.")
    return messages


def show(messages: list[BaseMessage]) -> None:
    for message in messages:
        if isinstance(message, AIMessage) and message.tool_calls:
            for call in message.tool_calls:
                print(f"  model calls {call['name']}({call['args']})")
        elif isinstance(message, ToolMessage):
            print(f"  {message.name} -> {message.content}")
        elif isinstance(message, AIMessage):
            served = message.response_metadata.get("inference_provider", "the router")
            print(f"Answer (served by {served}): {message.content}")
        else:
            print(f"Question: {message.content}")


def main() -> None:
    if os.environ.get("HF_TOKEN"):
        print(f"Live run on the Hugging Face router with {MODEL}.")
        show(run())
    else:
        print(f"Offline replay of cassettes/{CASSETTE.name} with vcrpy (no network); set HF_TOKEN to run live.")
        show(run_offline())


if __name__ == "__main__":
    main()
