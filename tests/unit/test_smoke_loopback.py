from langchain_hfserverless import ChatHFServerless
from tests.loopback import LoopbackServer, sse


def test_invoke_and_stream_roundtrip(server: LoopbackServer) -> None:
    server.reply(
        body={
            "id": "x",
            "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        }
    )
    server.reply(
        body=sse(
            {"id": "y", "model": "m", "choices": [{"index": 0, "delta": {"content": "yo"}, "finish_reason": "stop"}]}
        )
    )
    llm = ChatHFServerless(base_url=server.url, model="m")
    assert llm.invoke("hello").content == "hi"
    assert "".join(c.content for c in llm.stream("hello")) == "yo"
    assert server.requests[0].path == "/v1/chat/completions"
    assert server.requests[1].json()["stream"] is True
