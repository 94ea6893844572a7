"""Replay every recorded task call of ``../shared/hf-recordings`` (or ``HFSERVERLESS_RECORDINGS``) through the tools.

Each recorded ``POST`` of a task the tools cover is found by what it is, not by file name alone: the task comes
from the URL (``/pipeline/<task>/``), the test id (``[provider,task]`` or ``test_<task>``), or the Hub look-up
recorded beside it. Then:

1. the recorded request is turned back into the tool call a user or an agent makes (prompt, image bytes,
   labels...; extra parameters as the tool's ``parameters`` field);
2. a loopback server answers with the recorded answers in order — the task call, then any file fetch or job
   poll, with the URLs inside the answers pointed at the loopback server;
3. the request we sent must equal the recorded one, and the tool's artifact must equal what the recording
   answered, read here independently of the package (media bytes; labels, answers, texts as the server said).

Two modes. hf-inference traffic (the router's ``/hf-inference/...`` or the older api-inference host) goes to the
tool's ``base_url`` = the loopback server plus the recorded path. Other providers go through huggingface_hub's
provider helper exactly as in production, with the router and the Hub API pointed at the loopback server; a
provider the installed huggingface_hub no longer has (nebius, hyperbolic, black-forest-labs) is replayed through
``base_url``, where only the answer can be compared.

Request comparison rules (the only normalisations, each for a reason):

- ``"parameters": {}`` in a recorded body is not required: it means "no parameters", which the tools say by
  leaving the key out (they never inject empty or default values);
- legacy request forms the tools do not send (api-inference's ``options``, top-level ``question``/``context``,
  batched ``inputs`` lists, ``inputs: null``) are replayed for the answer only, and the test id says so.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from langchain_core.messages import ToolMessage

from langchain_hfserverless.errors import HFServerlessError
from langchain_hfserverless.tools import TASK_TOOLS, MediaBytes
from langchain_hfserverless.tools import _jobs as jobs
from tests.loopback import Answer, LoopbackServer
from tests.replay.conftest import answer_for
from tests.replay.recordings import SHARED, Interaction, cassette_paths, load_cassette, recordings_root

_ROUTER_HOSTS = ("router.huggingface.co",)
_LEGACY_HF_HOSTS = ("api-inference.huggingface.co",)
_HUB_HOST = "huggingface.co"
# Test-name fragments, most specific first (a name may contain another task's: zero_shot_image_classification).
_NAME_TASKS: tuple[tuple[str, str | None], ...] = (
    ("zero_shot_image_classification", "zero-shot-image-classification"),
    ("zero_image_classification", "zero-shot-image-classification"),
    ("document_question_answering", "document-question-answering"),
    ("table_question_answering", "table-question-answering"),
    ("audio_classification", "audio-classification"),
    ("audio_to_audio", "audio-to-audio"),
    ("image_segmentation", "image-segmentation"),
    ("fill_mask", "fill-mask"),
    ("tabular_classification", "tabular-classification"),
    ("tabular_regression", "tabular-regression"),
    ("text_to_video", "text-to-video"),
    ("image_to_video", "image-to-video"),
    ("zero_shot_classification", "zero-shot-classification"),
    ("visual_question_answering", "visual-question-answering"),
    ("question_answering", "question-answering"),
    ("automatic_speech_recognition", "automatic-speech-recognition"),
    ("image_classification", "image-classification"),
    ("text_classification", "text-classification"),
    ("token_classification", "token-classification"),
    ("object_detection", "object-detection"),
    ("image_to_image", "image-to-image"),
    ("image_to_text", "image-to-text"),
    ("text_to_image", "text-to-image"),
    ("text_to_speech", "text-to-speech"),
    ("translation", "translation"),
    ("summarization", "summarization"),
    ("sentence_similarity", "sentence-similarity"),
)
_MEDIA_TASKS = {
    "text-to-image": "image",
    "image-to-image": "image",
    "text-to-speech": "audio",
    "text-to-video": "video",
    "image-to-video": "video",
}
_AUDIO_INPUT_TASKS = ("automatic-speech-recognition", "audio-classification", "audio-to-audio")


# ---------------------------------------------------------------------------------------------- finding the cases


@dataclass
class Case:
    """One recorded task call: the POST, the Hub look-ups before it, the fetches and polls after it."""

    id: str
    task: str
    provider: str
    post: Interaction
    hub: list[Interaction] = field(default_factory=list)
    follow: list[Interaction] = field(default_factory=list)

    @property
    def host(self) -> str:
        return urlsplit(self.post.uri).netloc

    @property
    def hf_inference(self) -> bool:
        return self.provider == "hf-inference"

    @property
    def model(self) -> str | None:
        for hub in self.hub:
            path = urlsplit(hub.uri).path
            if path.startswith("/api/models/"):
                return path[len("/api/models/") :]
        return None


def _task_from_name(stem: str) -> str | bool | None:
    """The task a test id names; ``False`` when it names none."""
    bracket = re.search(r"\[([^,\]]+),([^\]]+)\]", stem)
    if bracket:
        task = bracket.group(2)
        return task if task in TASK_TOOLS else None
    test = stem.rsplit(".", 1)[-1].lower()
    for fragment, task in _NAME_TASKS:
        if fragment in test:
            return task
    return False


def _provider_of(post: Interaction, stem: str) -> str:
    parts = urlsplit(post.uri)
    if parts.netloc in _ROUTER_HOSTS:
        return parts.path.strip("/").split("/", 1)[0]
    if parts.netloc in _LEGACY_HF_HOSTS:
        return "hf-inference"
    bracket = re.search(r"\[([^,\]]+),", stem)
    return bracket.group(1) if bracket else parts.netloc


def _task_of(post: Interaction, stem: str, hub: list[Interaction]) -> str | None:
    pipeline = re.search(r"/pipeline/([a-z-]+)/", urlsplit(post.uri).path)
    if pipeline:
        return pipeline.group(1) if pipeline.group(1) in TASK_TOOLS else None
    named = _task_from_name(stem)
    if named is not False:
        return named  # type: ignore[return-value]
    for lookup in hub:
        try:
            info = lookup.response_json()
        except ValueError:
            continue
        tag = info.get("pipeline_tag") if isinstance(info, Mapping) else None
        if tag in TASK_TOOLS:
            return str(tag)
    return None


def _is_hub(interaction: Interaction) -> bool:
    return urlsplit(interaction.uri).netloc == _HUB_HOST


def cases_in(path: Path) -> Iterator[Case]:
    interactions = load_cassette(path)
    stem = path.name.removesuffix(".yaml")
    hub: list[Interaction] = []
    for position, interaction in enumerate(interactions):
        if _is_hub(interaction):
            hub.append(interaction)
            continue
        if interaction.method != "POST" or interaction.is_chat_completion:
            continue
        task = _task_of(interaction, stem, hub)
        if task is None:
            hub = []
            continue
        follow = []
        for later in interactions[position + 1 :]:
            if later.method == "POST" or _is_hub(later):
                break
            follow.append(later)
        yield Case(f"{stem}#{interaction.index}", task, _provider_of(interaction, stem), interaction, hub, follow)
        hub = []


def all_cases() -> list[Case]:
    found: list[Case] = []
    for path in cassette_paths():
        try:
            found.extend(cases_in(path))
        except (ValueError, KeyError, TypeError):
            continue  # unreadable cassettes are reported by the chat replay's own test
    return found


CASES = all_cases()


# ---------------------------------------------------------------------------------------------- request -> tool call


class NotExpressible(Exception):
    """The recorded request cannot be made with the tool's arguments (e.g. a required input is missing)."""


@dataclass
class Call:
    """The tool call a recorded request stands for, and whether the tool sends that request form itself."""

    args: dict[str, Any]
    parameters: dict[str, Any] = field(default_factory=dict)
    same_form: bool = True


def _json_body(case: Case) -> Any:
    body = case.post.request_body or b""
    try:
        return json.loads(body)
    except ValueError:
        return None


def _data_url_bytes(value: str) -> bytes:
    return base64.b64decode(value.split(",", 1)[1]) if value.startswith("data:") else base64.b64decode(value)


def _split(params: Mapping[str, Any], args: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    return {k: v for k, v in params.items() if k in args}, {k: v for k, v in params.items() if k not in args}


def hf_call(case: Case) -> Call:
    """hf-inference form: raw bytes, or ``{"inputs", "parameters", ...}``."""
    body, task = _json_body(case), case.task
    if body is None:
        if not case.post.request_body:
            raise NotExpressible("the recording kept no request body")
        media = "audio" if task in _AUDIO_INPUT_TASKS else "image"
        return Call({media: case.post.request_body})
    if not isinstance(body, Mapping):
        raise NotExpressible(f"body is {type(body).__name__}")
    extra = set(body) - {"inputs", "parameters"}
    inputs, params = body.get("inputs"), dict(body.get("parameters") or {})
    same = not ({"options"} & extra)
    if task in ("text-classification", "token-classification", "summarization", "text-to-speech", "fill-mask"):
        if isinstance(inputs, list) and len(inputs) == 1:
            inputs, same = inputs[0], False  # a batch of one: the tools send one text
        if not isinstance(inputs, str):
            raise NotExpressible("inputs is not a text")
        args, rest = _split(params, ("top_k", "targets")) if task == "fill-mask" else ({}, params)
        return Call({"text": inputs, **args}, rest, same and not extra - {"options"})
    if task in ("translation", "zero-shot-classification", "text-to-image"):
        names = {
            "translation": ("src_lang", "tgt_lang"),
            "zero-shot-classification": ("candidate_labels", "multi_label"),
            "text-to-image": ("negative_prompt", "width", "height"),
        }[task]
        chosen, rest = _split(params, names)
        key = "prompt" if task == "text-to-image" else "text"
        if task == "zero-shot-classification" and isinstance(chosen.get("candidate_labels"), str):
            chosen["candidate_labels"], same = chosen["candidate_labels"].split(","), False
        return Call({key: inputs, **chosen}, rest, same and not extra - {"options"})
    if task in ("question-answering", "sentence-similarity"):
        keys = ("question", "context") if task == "question-answering" else ("source_sentence", "sentences")
        source = inputs if isinstance(inputs, Mapping) else body
        if not all(source.get(k) for k in keys):
            raise NotExpressible(f"the request lacks {' or '.join(keys)}")
        return Call(
            {k: source[k] for k in keys}, params, same and isinstance(inputs, Mapping) and not extra - {"options"}
        )
    if task == "visual-question-answering":
        image = body.get("image") or inputs
        if not isinstance(image, str) or not body.get("question"):
            raise NotExpressible("the request lacks image or question")
        return Call(
            {"image": _data_url_bytes(image), "question": body["question"]}, params, same and inputs is not None
        )
    if task in ("table-question-answering", "document-question-answering"):
        keys = ("query", "table") if task == "table-question-answering" else ("question", "image")
        source = inputs if isinstance(inputs, Mapping) else body  # older clients sent them beside "inputs"
        if not all(source.get(k) for k in keys):
            raise NotExpressible(f"the request lacks {' or '.join(keys)}")
        args = {k: source[k] for k in keys}
        if task == "document-question-answering":
            args["image"] = _data_url_bytes(args["image"])
        chosen, rest = _split(params, ("top_k",))
        return Call({**args, **chosen}, rest, same and isinstance(inputs, Mapping) and not extra - {"options"})
    if task == "zero-shot-image-classification":
        image = inputs.get("image") if isinstance(inputs, Mapping) else (inputs or body.get("image"))
        labels = params.pop("candidate_labels", None)
        if isinstance(inputs, Mapping):  # the oldest form: {"inputs": {"image", "text": "a,b"}}
            labels = inputs.get("text")
        if not isinstance(image, str) or not labels:
            raise NotExpressible("the request lacks image or candidate labels")
        form = isinstance(inputs, str) and isinstance(labels, list)
        labels = labels.split(",") if isinstance(labels, str) else labels
        chosen, rest = _split(params, ("hypothesis_template",))
        args = {"image": _data_url_bytes(image), "candidate_labels": labels, **chosen}
        return Call(args, rest, same and form and not extra)
    media = "audio" if task in _AUDIO_INPUT_TASKS else "image"
    if isinstance(inputs, str):  # binary input with parameters: base64 JSON
        chosen, rest = _split(params, ("prompt", "negative_prompt", "threshold", "top_k", "subtask"))
        return Call({media: _data_url_bytes(inputs), **chosen}, rest, same and not extra)
    raise NotExpressible(f"unexpected {task} body keys {sorted(body)}")


_IMAGE_KEYS = ("image_url", "image", "input_image", "image_urls", "images", "input_images", "reference_images")
_PROVIDER_ADDED = {
    "model",
    "model_name",
    "response_format",
    "version",
    "image_size",
    "width",
    "height",
    "prompt",
    "text",
    "audio_url",
    "audio",
    "input",
    "inputs",
    "sync_mode",
    *_IMAGE_KEYS,
}


def multipart_fields(body: bytes | None) -> dict[str, bytes] | None:
    """``multipart/form-data`` fields by name (the boundary is random, so bodies compare by fields)."""
    if not body or not body.startswith(b"--"):
        return None
    boundary = body.split(b"\r\n", 1)[0]
    fields: dict[str, bytes] = {}
    for part in body.split(boundary)[1:]:
        if part.startswith(b"--"):
            break
        head, _, value = part[2:-2].partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]+)"', head)
        if name:
            fields[name.group(1).decode()] = value
    return fields


def _first_data_url(inner: Mapping[str, Any]) -> bytes | None:
    for key in _IMAGE_KEYS:
        value = inner.get(key)
        value = value[0] if isinstance(value, list) and value else value
        if isinstance(value, str) and value.startswith("data:"):
            return _data_url_bytes(value)
    return None


def provider_call(case: Case) -> Call:
    """A provider's own form (fal-ai, replicate, together...), as its helper builds it from the tool's arguments."""
    fields = multipart_fields(case.post.request_body)
    if fields is not None and "file" in fields:  # an OpenAI-style transcription upload (deepinfra)
        rest = {k: v.decode() for k, v in fields.items() if k not in ("file", "model")}
        return Call({"audio": fields["file"]}, rest)
    body = _json_body(case)
    if not isinstance(body, Mapping):
        raise NotExpressible("the provider request is neither JSON nor a form upload")
    inner = body.get("input") if isinstance(body.get("input"), Mapping) else body
    extra = {k: v for k, v in inner.items() if k not in _PROVIDER_ADDED}
    if case.task == "automatic-speech-recognition":
        audio = inner.get("audio_url") or inner.get("audio")
        if not isinstance(audio, str) or not audio.startswith("data:"):
            raise NotExpressible("the audio was sent as a URL")
        return Call({"audio": _data_url_bytes(audio)}, extra)
    args: dict[str, Any] = {}
    if case.task == "image-to-image":
        image = _first_data_url(inner)
        if image is None:
            raise NotExpressible("the image was sent as a URL")
        args["image"] = image
    text = inner.get("prompt") or inner.get("text") or inner.get("inputs")
    if not isinstance(text, str) and isinstance(body.get("input"), str):
        text = body["input"]  # together / deepinfra speech: {"input": "<text>"}
    if not isinstance(text, str):
        raise NotExpressible("no prompt or text in the request")
    args["text" if case.task == "text-to-speech" else "prompt"] = text
    size = inner.get("image_size") if isinstance(inner.get("image_size"), Mapping) else inner
    if case.task == "text-to-image" and "width" in size and "height" in size:
        args.update(width=size["width"], height=size["height"])
    return Call(args, extra)


# ---------------------------------------------------------------------------------------------- what was answered


def _unwrap(value: Any) -> Any:
    while isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]
    return value


def expected_artifact(case: Case) -> Any:
    """The recorded answer in the artifact's shape, read here without the package."""
    if case.task in _MEDIA_TASKS:
        return _recorded_media(case)
    answer = _unwrap(case.post.response_json())
    if case.task in ("text-classification", "image-classification", "zero-shot-classification"):
        if isinstance(answer, Mapping) and "labels" in answer:
            return [
                {"label": label, "score": score}
                for label, score in zip(answer["labels"], answer["scores"], strict=True)
            ]
        return answer
    if case.task in ("visual-question-answering", "question-answering"):
        return answer if isinstance(answer, list) else [answer]
    if case.task in ("image-to-text", "translation", "summarization"):
        return answer[0] if isinstance(answer, list) else answer
    if case.task == "automatic-speech-recognition" and not isinstance(answer.get("text"), str):
        return None  # replicate-style output: checked through the content
    if case.task == "document-question-answering":
        return answer if isinstance(answer, list) else [answer]
    if case.task == "image-segmentation":  # each mask as the PNG bytes it encodes
        return [{**item, "mask": base64.b64decode(item["mask"])} for item in answer]
    if case.task == "audio-to-audio":  # the produced clips, in order
        return [base64.b64decode(item["blob"]) for item in answer]
    return answer


def _answer_is_unreadable(case: Case) -> bool:
    """A 200 whose body is not JSON where the task answers JSON: the tool must raise a typed error."""
    if case.post.status >= 400 or case.task in _MEDIA_TASKS:
        return False
    try:
        case.post.response_json()
    except ValueError:
        return True
    return False


def _recorded_media(case: Case) -> bytes:
    """The bytes the recording ends with: a fetched file, else base64 inside the last JSON answer."""
    last = (case.follow or [case.post])[-1]
    kind = (last.response_header("content-type") or "").split("/", 1)[0]
    if kind in ("image", "audio"):
        return last.response_body
    answer = last.response_json()
    stack = [answer]
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            for key in ("b64_json", "image"):
                if isinstance(value.get(key), str) and len(value[key]) > 64:
                    return base64.b64decode(value[key])
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    raise AssertionError(f"no media in the recording's last answer: {str(answer)[:200]}")


def salient_text(case: Case, artifact: Any) -> str:
    """A piece of the answer the model must see in the tool's content."""
    if isinstance(artifact, list) and artifact and isinstance(artifact[0], Mapping):
        first = artifact[0]
        for key in ("label", "answer", "entity_group", "word", "sequence"):
            if first.get(key):
                return str(first[key]).strip()
    if isinstance(artifact, list) and artifact and isinstance(artifact[0], MediaBytes):
        return f"Produced {len(artifact)} audio clip(s)"
    if isinstance(artifact, Mapping):
        for key in ("generated_text", "translation_text", "summary_text", "text", "answer"):
            if isinstance(artifact.get(key), str):
                return artifact[key].strip()
    if isinstance(artifact, list):
        return f"{float(artifact[0]):.4f}"
    return ""


# ---------------------------------------------------------------------------------------------- serving and comparing


def _rewrite(body: bytes, hosts: dict[str, str]) -> bytes:
    for origin, local in hosts.items():
        body = body.replace(origin.encode(), local.encode())
    return body


def _answers(case: Case, server: LoopbackServer, interactions: list[Interaction]) -> list[Answer]:
    hosts = {f"https://{urlsplit(i.uri).netloc}": f"{server.url}/{urlsplit(i.uri).netloc}" for i in case.follow}
    hosts.update({f"https://{h}": server.url for h in _ROUTER_HOSTS})
    answers = []
    for interaction in interactions:
        answer = answer_for(interaction)
        if isinstance(answer.body, bytes):
            answer.body = _rewrite(answer.body, hosts)
        answers.append(answer)
    return answers


def _local_path(uri: str) -> str:
    parts = urlsplit(uri)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return path if parts.netloc in _ROUTER_HOSTS or parts.netloc == _HUB_HOST else f"/{parts.netloc}{path}"


def _without_empty_parameters(body: Any) -> Any:
    if isinstance(body, dict) and body.get("parameters") == {}:
        return {k: v for k, v in body.items() if k != "parameters"}
    return body


def _same_body(sent: bytes, recorded: bytes | None) -> None:
    form = multipart_fields(recorded)
    if form is not None:
        assert multipart_fields(sent) == form, "form fields differ from the recording"
        return
    try:
        recorded_json = json.loads(recorded or b"")
    except ValueError:
        assert sent == recorded, "raw request body differs from the recording"
        return
    assert _without_empty_parameters(json.loads(sent)) == _without_empty_parameters(recorded_json)


@pytest.fixture
def routed(replay_server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    """huggingface_hub's router and Hub API, pointed at the loopback server (provider mapping cache reset)."""
    from huggingface_hub import constants
    from huggingface_hub.inference._providers._common import _fetch_inference_provider_mapping

    # huggingface_hub >= 2.4 fetches an "agent harnesses" registry from ENDPOINT for its user-agent, and caches
    # it on disk: with ENDPOINT on the loopback server it would eat a recorded answer and write it to the cache.
    try:
        from huggingface_hub.utils import _detect_agent

        monkeypatch.setattr(_detect_agent, "_registry", {"standardEnvVars": [], "harnesses": {}})
    except ImportError:  # older huggingface_hub: no registry
        pass
    monkeypatch.setattr(constants, "INFERENCE_PROXY_TEMPLATE", replay_server.url + "/{provider}")
    monkeypatch.setattr(constants, "ENDPOINT", replay_server.url)
    # The loopback server is the router here: job URLs are rebuilt on it as they would be on the router.
    real_is_hf_url = jobs.is_hf_url
    monkeypatch.setattr(jobs, "is_hf_url", lambda url: url.startswith(replay_server.url) or real_is_hf_url(url))
    _fetch_inference_provider_mapping.cache_clear()
    replay_server.requests.clear()
    replay_server.queue.clear()
    replay_server.default = None
    yield replay_server
    _fetch_inference_provider_mapping.cache_clear()


def _supported(case: Case) -> bool:
    from huggingface_hub.inference._providers import PROVIDERS

    return case.task in PROVIDERS.get(case.provider, {}) and case.model is not None and case.host in _ROUTER_HOSTS  # type: ignore[call-overload]


def _unfinished_job(case: Case) -> bool:
    """The recording stops while the provider's job still runs (no output yet, nothing fetched after)."""
    last = (case.follow or [case.post])[-1]
    if case.task not in _MEDIA_TASKS or not (last.response_header("content-type") or "").startswith("application/json"):
        return False
    answer = last.response_json()
    status = str(answer.get("status", "")).lower() if isinstance(answer, Mapping) else ""
    return status in {"starting", "processing", "pending", "in_queue", "in_progress"} and not answer.get("output")


def _build(case: Case, server: LoopbackServer) -> tuple[Any, Call, list[Interaction], str]:
    """The tool, its call, the interactions the server plays, and the comparison mode."""
    if _unfinished_job(case):
        raise NotExpressible("the recording stops while the provider's job is still running")
    cls = TASK_TOOLS[case.task]
    media = {"poll_interval": 0} if case.task in _MEDIA_TASKS else {}
    if not case.hf_inference and _supported(case):
        call = provider_call(case)
        tool = cls(
            model=case.model,
            provider=case.provider,
            api_key="hf_replay",
            max_retries=0,
            parameters=call.parameters,
            **media,
        )
        mapping = [i for i in case.hub if "inferenceProviderMapping" in i.uri][-1:]
        return tool, call, [*mapping, case.post, *case.follow], "routed"
    call = hf_call(case) if case.hf_inference else provider_call(case)
    base_url = server.url + _local_path(case.post.uri)
    tool = cls(base_url=base_url, api_key="hf_replay", max_retries=0, parameters=call.parameters, **media)
    mode = "base_url" if case.hf_inference and call.same_form else "answer-only"
    return tool, call, [case.post, *case.follow], mode


def _ids(case: Case) -> str:
    return case.id


@pytest.mark.replay
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("case", CASES or [None], ids=_ids if CASES else ["no-task-recordings"])
def test_recorded_task_call_replays_through_its_tool(
    case: Case | None, use_async: bool, routed: LoopbackServer
) -> None:
    if case is None:
        pytest.skip("no task recordings found")
    try:
        tool, call, played, mode = _build(case, routed)
    except NotExpressible as reason:
        pytest.skip(f"cannot replay: {reason}")
    routed.queue.extend(_answers(case, routed, played))

    if _answer_is_unreadable(case):
        with pytest.raises(HFServerlessError, match="Expected JSON"):
            _call(tool, call, use_async)
        return
    if case.post.status >= 400:
        with pytest.raises(HFServerlessError) as caught:
            _call(tool, call, use_async)
        assert caught.value.status_code == case.post.status
        return

    message = _call(tool, call, use_async)
    expected = expected_artifact(case)
    content = message.content if isinstance(message.content, str) else message.content[0]["text"]
    if isinstance(message.artifact, MediaBytes):
        assert bytes(message.artifact) == expected
    elif expected is None:  # a transcript inside a provider's own shape: the text must reach the model
        assert message.artifact["text"] and content == message.artifact["text"].strip()
    else:
        assert message.artifact == expected
    assert salient_text(case, message.artifact) in content

    sent = routed.requests
    assert len(sent) == len(played), f"sent {[(r.method, r.path) for r in sent]}"
    for request, recorded in zip(sent, played, strict=True):
        assert request.method == recorded.method
        if mode != "answer-only":
            assert request.path.split("?")[0] == _local_path(recorded.uri).split("?")[0]
        if recorded.method == "POST" and mode != "answer-only":
            _same_body(request.body, recorded.request_body)


def _call(tool: Any, call: Call, use_async: bool) -> ToolMessage:
    request = {"type": "tool_call", "id": "replay", "name": tool.name, "args": call.args}
    message = asyncio.run(tool.ainvoke(request)) if use_async else tool.invoke(request)
    assert isinstance(message, ToolMessage)
    return message


def test_the_recordings_hold_task_calls_of_every_kind() -> None:
    """Guards the discovery itself: the shared recordings have calls of these tasks, in both replay modes."""
    if not CASES or recordings_root() != SHARED:
        pytest.skip("checks the discovery on the shared recordings only")
    tasks = {case.task for case in CASES}
    assert {"text-to-image", "automatic-speech-recognition", "translation", "object-detection"} <= tasks
    assert {"fal-ai", "replicate", "together", "hf-inference"} <= {case.provider for case in CASES}
    # The tasks added after the first fifteen: each recorded call of theirs is found and replayed.
    assert {
        "fill-mask",
        "table-question-answering",
        "document-question-answering",
        "zero-shot-image-classification",
        "image-segmentation",
        "audio-classification",
        "audio-to-audio",
    } <= tasks
