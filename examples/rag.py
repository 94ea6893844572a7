"""Retrieval-augmented generation: HFServerlessEmbeddings + InMemoryVectorStore + ChatHFServerless in one chain.

Run it as written, from anywhere:

    python examples/rag.py

With ``HF_TOKEN`` set it calls the Hugging Face router live: the passages are embedded by
``sentence-transformers/all-MiniLM-L6-v2`` on hf-inference (in batches, concurrently), the question is embedded
too, the two closest passages go into the prompt, and ``meta-llama/Llama-3.1-8B-Instruct`` answers. Without a token
it replays the traffic stored in ``cassettes/rag.yaml`` offline with vcrpy (``pip install vcrpy``): nothing leaves
the machine, and a request that is not in the cassette fails instead of reaching the network.
"""

from __future__ import annotations

import os
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableParallel, RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore

from langchain_hfserverless import ChatHFServerless
from langchain_hfserverless.embeddings import HFServerlessEmbeddings

EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
CHAT_MODEL = "meta-llama/Llama-3.1-8B-Instruct"
CASSETTE = Path(__file__).resolve().parent.parent / "cassettes" / "rag.yaml"

PASSAGES = [
    "Inference Providers give access to hundreds of open models from many providers through one Hugging Face "
    "token and one OpenAI-compatible endpoint, https://router.huggingface.co/v1.",
    "Text Embeddings Inference (TEI) serves embedding models; its /embed route takes a list of inputs and options "
    "such as normalize and truncate.",
    "A model id may end in :fastest or :cheapest, or name a provider such as :together, to choose who serves it.",
    "Dedicated Inference Endpoints run a model on hardware reserved for you, billed by the minute.",
    "The Hub hosts models, datasets and Spaces; a model card documents how a model was trained and how to use it.",
]
QUESTION = "How do I call many open models with one token, and how do I pick the provider?"

PROMPT = ChatPromptTemplate.from_messages(
    [
        (
            "system",
            "Answer in two sentences using only the numbered passages below, and cite them like [1].\n\n{context}",
        ),
        ("human", "{question}"),
    ]
)


def numbered(documents: list[Document]) -> str:
    return "\n".join(f"[{doc.metadata['n']}] {doc.page_content}" for doc in documents)


def build_chain(embeddings: HFServerlessEmbeddings, llm: ChatHFServerless) -> Runnable[str, dict[str, Any]]:
    """Index the passages, then: question -> the 2 closest passages -> prompt -> chat model -> answer text."""
    store = InMemoryVectorStore(embeddings)
    store.add_texts(PASSAGES, metadatas=[{"n": n} for n in range(1, len(PASSAGES) + 1)])
    retriever = store.as_retriever(search_kwargs={"k": 2})
    answer = PROMPT | llm | StrOutputParser()
    return RunnableParallel(passages=retriever, question=RunnablePassthrough()).assign(
        answer=(lambda x: {"context": numbered(x["passages"]), "question": x["question"]}) | answer
    )


def offline_replay() -> AbstractContextManager[Any]:
    """Answer every request from the cassette; an unrecorded request raises instead of going online."""
    try:
        import vcr
    except ImportError:
        sys.exit("Offline replay needs vcrpy: `pip install vcrpy`, or set HF_TOKEN to call the live router.")
    replay = vcr.VCR(record_mode="none", match_on=["method", "uri", "body"])
    return replay.use_cassette(str(CASSETTE))


def main() -> None:
    token: str | None = None
    session: AbstractContextManager[Any] = nullcontext()
    if os.environ.get("HF_TOKEN"):
        print(f"Calling the Hugging Face router live: {EMBEDDING_MODEL} (hf-inference) and {CHAT_MODEL}.")
    else:
        print(
            f"No HF_TOKEN: replaying recorded traffic offline from {CASSETTE.name} "
            "(set HF_TOKEN to call the live router)."
        )
        token = "hf_offline_replay_placeholder"  # the replay answers before anything is sent
        session = offline_replay()

    with session:
        embeddings = HFServerlessEmbeddings(model=EMBEDDING_MODEL, provider="hf-inference", api_key=token)
        llm = ChatHFServerless(model=CHAT_MODEL, max_tokens=128, api_key=token)
        result = build_chain(embeddings, llm).invoke(QUESTION)

    print(f"question: {QUESTION}")
    print("retrieved: " + ", ".join(f"[{doc.metadata['n']}]" for doc in result["passages"]))
    print(f"answer: {result['answer']}")


if __name__ == "__main__":
    main()
