"""Agents: LangChain's create_agent drives ChatHFServerless through a two-tool loop, live-shaped and offline."""

from __future__ import annotations

import importlib.util
import itertools
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool

from langchain_hfserverless import ChatHFServerless
from tests.conftest import ROOT
from tests.loopback import LoopbackServer

calls_made: list[tuple[str, Any]] = []
_ids = itertools.count(1)


@tool
def lookup_population(city: str) -> int:
    """Population of a city."""
    calls_made.append(("lookup_population", city))
    return {"Lyon": 522_250, "Zürich": 421_878}[city]


@tool
def multiply(a: float, b: float) -> float:
    """Multiply two numbers."""
    calls_made.append(("multiply", (a, b)))
    return a * b


def answer(message: dict[str, Any], finish: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{next(_ids)}",  # unique per answer, as providers send (LangGraph merges equal ids)
        "object": "chat.completion",
        "model": "llama-3.3-70b",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 300, "completion_tokens": 20, "total_tokens": 320},
    }


def tool_call(call_id: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    arguments = json.dumps(args, ensure_ascii=False)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    calls_made.clear()


def test_create_agent_calls_two_tools_then_answers(server: LoopbackServer) -> None:
    server.reply(
        body=answer(
            {"content": None, "tool_calls": [tool_call("c1", "lookup_population", {"city": "Lyon"})]}, "tool_calls"
        )
    )
    server.reply(
        body=answer({"content": "", "tool_calls": [tool_call("c2", "multiply", {"a": 522250, "b": 2})]}, "tool_calls")
    )
    server.reply(body=answer({"content": "Twice Lyon's population is 1,044,500."}, "stop"))
    llm = ChatHFServerless(base_url=server.url, model="tgi", max_retries=0)
    agent = create_agent(llm, tools=[lookup_population, multiply], system_prompt="Use tools.")

    result = agent.invoke({"messages": [{"role": "user", "content": "What is twice the population of Lyon?"}]})

    messages = result["messages"]
    assert messages[-1].content == "Twice Lyon's population is 1,044,500."
    assert calls_made == [("lookup_population", "Lyon"), ("multiply", (522250, 2))]
    assert [type(m).__name__ for m in messages] == [
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
    ]
    bodies = [r.json() for r in server.requests]
    assert all([t["function"]["name"] for t in b["tools"]] == ["lookup_population", "multiply"] for b in bodies)
    # The tool result goes back with the id of the call it answers, after the assistant turn that made it.
    assert bodies[1]["messages"][-2]["tool_calls"][0]["id"] == "c1"
    assert bodies[1]["messages"][-1] == {
        "role": "tool",
        "content": "522250",
        "tool_call_id": "c1",
        "name": "lookup_population",
    }
    assert bodies[2]["messages"][-1]["tool_call_id"] == "c2"
    assert bodies[2]["messages"][-1]["content"] == "1044500.0"
    assert bodies[0]["messages"][0] == {"role": "system", "content": "Use tools."}


async def test_async_agent_with_parallel_calls_in_one_turn(server: LoopbackServer) -> None:
    both = [tool_call("p1", "lookup_population", {"city": "Zürich"}), tool_call("p2", "multiply", {"a": 3, "b": 4})]
    server.reply(body=answer({"content": None, "tool_calls": both}, "tool_calls"))
    server.reply(body=answer({"content": "Zürich has 421,878 people; 3 times 4 is 12."}, "stop"))
    llm = ChatHFServerless(base_url=server.url, model="tgi", max_retries=0)
    agent = create_agent(llm, tools=[lookup_population, multiply])

    result = await agent.ainvoke({"messages": [{"role": "user", "content": "Zürich's population, and 3 times 4?"}]})

    assert result["messages"][-1].content.endswith("12.")
    assert sorted(calls_made, key=str) == sorted([("lookup_population", "Zürich"), ("multiply", (3, 4))], key=str)
    tool_turns = [m for m in server.requests[1].json()["messages"] if m["role"] == "tool"]
    assert {m["tool_call_id"]: m["content"] for m in tool_turns} == {"p1": "421878", "p2": "12.0"}


def test_agent_surfaces_unparseable_arguments_to_the_model(server: LoopbackServer) -> None:
    broken = {"id": "b1", "type": "function", "function": {"name": "multiply", "arguments": '{"a": 2, "b": '}}
    server.reply(body=answer({"content": None, "tool_calls": [broken]}, "tool_calls"))
    server.reply(body=answer({"content": "Sorry, I sent broken arguments."}, "stop"))
    llm = ChatHFServerless(base_url=server.url, model="tgi", max_retries=0)
    first = llm.bind_tools([multiply]).invoke("2 times?")
    assert isinstance(first, AIMessage) and first.invalid_tool_calls and not first.tool_calls
    agent = create_agent(llm, tools=[multiply])
    result = agent.invoke({"messages": [{"role": "user", "content": "2 times?"}]})
    assert calls_made == []  # never executed with made-up arguments
    assert result["messages"][-1].content == "Sorry, I sent broken arguments."


# ---------------------------------------------------------------------------- examples/agent.py, offline


def _load_example() -> ModuleType:
    path: Path = ROOT / "examples" / "agent.py"
    spec = importlib.util.spec_from_file_location("examples_agent", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_agent_runs_offline_from_its_cassette(capsys: pytest.CaptureFixture[str]) -> None:
    example = _load_example()
    example.main()  # no HF_TOKEN in tests: the offline replay, with sockets disabled by pytest-socket
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Offline replay of cassettes/agent.yaml with vcrpy")
    assert "  model calls get_weather({'city': 'Paris'})" in lines
    assert "  celsius_to_fahrenheit -> 64.4" in lines
    assert lines[-1] == "Answer (served by cerebras): It's 64.4°F (18°C) in Paris right now, with light rain."


def test_example_conversation_and_cassette_agree() -> None:
    example = _load_example()
    messages = example.run_offline()
    tool_results = [m.content for m in messages if isinstance(m, ToolMessage)]
    assert tool_results == ["18°C, light rain", "64.4"]  # computed locally by the example's own tools
    assert messages[-1].response_metadata["model_name"] == "llama-3.3-70b"
    cassette = (ROOT / "cassettes" / "agent.yaml").read_text()
    assert cassette.startswith("# SYNTHETIC:")  # invented answers, labelled as such
    assert "Bearer" not in cassette and "hf_offline_replay" not in cassette
