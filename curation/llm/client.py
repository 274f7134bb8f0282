"""The one client for OpenAI-compatible chat-completions endpoints (vLLM, SGLang, OpenAI, ...).

Everything that talks to a model goes through here: difficulty prediction, pass-rate measurement
(k solutions per problem), evaluation (n samples per prompt) and checker synthesis. Pure Python
(no Django), so a training or evaluation job can import it.

What it does for every request:
- a concurrency limit (a semaphore held only while a request is in flight, so backoff sleeps do
  not idle a slot);
- retries of transport failures (timeouts, connection errors, 408/409/429, 5xx) with exponential
  backoff + jitter, honouring ``retry-after-ms`` / ``Retry-After``;
- JSON-schema structured output when asked for, falling back to plain text for the rest of the
  client's life when the server rejects ``response_format`` (``structured_output="auto"``);
- ``n`` completions per prompt: asked in one request, and topped up with further requests when the
  endpoint ignores ``n`` (remembered, so later calls send n single requests at once);
- token accounting (``client.usage``) and an optional per-sample cache.

API (sync wrappers run their own event loop, also from inside a running one):

    client = LLMClient(LLMConfig(base_url=..., model=...))
    done = client.complete(messages)                            # one completion (checker synthesis)
    done.text, done.ok, done.error, done.prompt_tokens
    rows = client.sample(prompts, n=8, temperature=0.8, top_p=0.95, max_tokens=4096,
                         cache=InMemoryCompletionCache())       # evaluation / pass-rate measurement
    rows[i][j].text                                             # sample j of prompt i
    client.usage.to_dict()

    async with client:                                          # async callers (the predictor)
        done = await client.acomplete(messages, json_schema=schema, schema_name="scores")

A sample's cache key is (model, messages, sample index, sampling params): asking again for the same
prompt, index and params returns the stored text; a larger n only asks for the missing indices.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import email.utils
import hashlib
import json
import random
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, Sequence, runtime_checkable

import openai

STRUCTURED_MODES = ("auto", "json_schema", "off")
Messages = list[dict[str, str]]


@dataclass
class LLMConfig:
    base_url: str
    model: str
    api_key: str = "EMPTY"
    temperature: float = 0.0
    max_tokens: int = 1024
    timeout: float = 60.0  # seconds per request
    concurrency: int = 8
    max_retries: int = 6  # transport retries per request (timeouts, 429, 5xx, connection)
    structured_output: str = "auto"  # auto | json_schema | off
    backoff_initial: float = 0.1  # first retry waits about this long (then x multiplier)
    backoff_multiplier: float = 3.0
    backoff_max: float = 30.0
    jitter: float = 0.2  # +/- fraction of the backoff delay
    retry_after_max: float = 120.0  # cap on a server's Retry-After
    seed: int | None = 0  # jitter RNG seed

    def __post_init__(self) -> None:
        if self.structured_output not in STRUCTURED_MODES:
            raise ValueError(f"structured_output must be one of {STRUCTURED_MODES}")
        if self.concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")

    def public_dict(self) -> dict[str, Any]:
        """The config without the API key (for run records)."""
        d = dict(self.__dict__)
        d.pop("api_key", None)
        return d


@dataclass
class Usage:
    """Running totals of one client (tokens count fresh calls only, not cache hits)."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0  # transport retries
    cached: int = 0  # samples served from the cache
    failed: int = 0  # requests that ended in an error after retries

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["total_tokens"] = self.total_tokens
        return d


@dataclass
class Completion:
    """The answer to one request (or a topped-up group of requests for ``n``)."""

    texts: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 0  # HTTP requests made, retries and the schema fallback included
    error: str = ""  # set when no usable answer came back

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def text(self) -> str:
        return self.texts[0] if self.texts else ""


@dataclass
class Sample:
    index: int
    text: str = ""
    cached: bool = False
    error: str = ""


# ---------------------------------------------------------------------------------------------
# The per-sample cache
# ---------------------------------------------------------------------------------------------

def sample_cache_key(model: str, messages: Messages, index: int, params: dict[str, Any]) -> str:
    """Identity of one sample: model, the exact messages, the sample index and sampling params."""
    blob = json.dumps([model, messages, index, params], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@runtime_checkable
class CompletionCache(Protocol):
    """Where sample texts are kept (a DB-backed one lives with the Django app that needs it).
    ``get_many`` lets an implementation answer a whole batch with one query."""

    def get_many(self, keys: Sequence[str]) -> dict[str, str]: ...

    def set_many(self, items: dict[str, str]) -> None: ...


class InMemoryCompletionCache:
    def __init__(self) -> None:
        self._data: dict[str, str] = {}
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        with self._lock:
            return {k: self._data[k] for k in keys if k in self._data}

    def set_many(self, items: dict[str, str]) -> None:
        with self._lock:
            self._data.update(items)

    def __len__(self) -> int:
        return len(self._data)


# ---------------------------------------------------------------------------------------------
# Retry helpers
# ---------------------------------------------------------------------------------------------

def retry_after_seconds(error: BaseException) -> float | None:
    """Seconds from a ``retry-after-ms`` / ``Retry-After`` header (number or HTTP date)."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    ra = headers.get("retry-after")
    if not ra:
        return None
    try:
        return max(0.0, float(ra))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(ra)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


def is_retryable(error: BaseException) -> bool:
    if isinstance(error, (openai.APITimeoutError, openai.APIConnectionError)):
        return True
    if isinstance(error, openai.APIStatusError):
        return error.status_code in (408, 409, 429) or error.status_code >= 500
    return False


def mentions_response_format(error: openai.BadRequestError) -> bool:
    text = str(error).lower()
    body = getattr(error, "body", None)
    if body is not None:
        text += " " + json.dumps(body, default=str).lower()
    return any(w in text for w in ("response_format", "json_schema", "structured output", "guided"))


def short_error(error: BaseException, limit: int = 300) -> str:
    return " ".join(str(error).split())[:limit]


def read_completion(data: Any) -> tuple[int, int, list[str]]:
    """(prompt tokens, completion tokens, the choices' texts) from a chat-completion response
    given as plain JSON data (or an object with the same fields)."""
    def get(obj: Any, key: str) -> Any:
        return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)

    usage = get(data, "usage") or {}
    pt = int(get(usage, "prompt_tokens") or 0)
    ct = int(get(usage, "completion_tokens") or 0)
    choices = get(data, "choices") or []
    if not isinstance(choices, list):
        return pt, ct, []
    texts = []
    for choice in choices:
        content = get(get(choice, "message") or {}, "content")
        texts.append(content if isinstance(content, str) else "")
    return pt, ct, texts


def run_coroutine(coro: Any) -> Any:
    """Run ``coro`` to completion from sync code, also when a loop is already running here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------

class LLMClient:
    """One endpoint + model. Learns once per client whether the server takes ``response_format``
    and ``n``; keeps running token totals in ``usage``."""

    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        self.usage = Usage()
        self.use_schema = config.structured_output in ("auto", "json_schema")
        self.n_supported = True
        self._rng = random.Random(config.seed)
        self._http: openai.AsyncOpenAI | None = None
        self._sem: asyncio.Semaphore | None = None
        self._depth = 0

    # -- lifecycle (one event loop per `async with`) -----------------------------------------------
    async def __aenter__(self) -> "LLMClient":
        if self._depth == 0:
            cfg = self.config
            self._http = openai.AsyncOpenAI(base_url=cfg.base_url, api_key=cfg.api_key,
                                            timeout=cfg.timeout, max_retries=0)
            self._sem = asyncio.Semaphore(cfg.concurrency)
        self._depth += 1
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._depth -= 1
        if self._depth == 0 and self._http is not None:
            await self._http.close()
            self._http = self._sem = None

    def backoff(self, failures: int, retry_after: float | None) -> float:
        cfg = self.config
        if retry_after is not None:
            # Honour the server: at least Retry-After, plus up to 10% so clients do not stampede.
            ra = min(retry_after, cfg.retry_after_max)
            return ra * (1.0 + 0.1 * self._rng.random())
        base = min(cfg.backoff_max, cfg.backoff_initial * cfg.backoff_multiplier ** (failures - 1))
        return max(0.0, base * (1.0 + cfg.jitter * (2.0 * self._rng.random() - 1.0)))

    # -- one completion (with n) -------------------------------------------------------------------
    async def acomplete(
        self,
        messages: Messages,
        *,
        json_schema: dict[str, Any] | None = None,
        schema_name: str = "answer",
        n: int = 1,
        temperature: float | None = None,
        top_p: float | None = None,
        max_tokens: int | None = None,
        seed: int | None = None,
    ) -> Completion:
        """``n`` completions of ``messages``. Never raises for a failed request: the
        ``Completion`` carries the error (and whatever texts did come back)."""
        if self._http is None:
            async with self:
                return await self.acomplete(messages, json_schema=json_schema, schema_name=schema_name, n=n,
                                            temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed)
        cfg = self.config
        body: dict[str, Any] = {
            "model": cfg.model,
            "messages": messages,
            "temperature": cfg.temperature if temperature is None else temperature,
            "max_tokens": cfg.max_tokens if max_tokens is None else max_tokens,
        }
        if top_p is not None:
            body["top_p"] = top_p
        if seed is not None:
            body["seed"] = seed
        response_format = None
        if json_schema is not None:
            response_format = {"type": "json_schema",
                               "json_schema": {"name": schema_name, "strict": True, "schema": json_schema}}
        total = Completion()
        if n > 1 and not self.n_supported:
            parts = await asyncio.gather(*(self._request(body, response_format, 1) for _ in range(n)))
        else:
            parts = [await self._request(body, response_format, n)]
            got = len(parts[0].texts)
            if parts[0].ok and 0 < got < n:
                # The endpoint ignored n: ask for the rest one by one, and from now on up front.
                self.n_supported = False
                parts += await asyncio.gather(*(self._request(body, response_format, 1) for _ in range(n - got)))
        for part in parts:
            total.texts += part.texts
            total.prompt_tokens += part.prompt_tokens
            total.completion_tokens += part.completion_tokens
            total.attempts += part.attempts
            total.error = total.error or part.error
        total.texts = total.texts[:n]
        return total

    async def _request(self, base_body: dict[str, Any], response_format: dict[str, Any] | None, n: int) -> Completion:
        cfg = self.config
        out = Completion()
        transport_failures = 0
        assert self._sem is not None and self._http is not None
        while True:
            body = dict(base_body)
            if n > 1:
                body["n"] = n
            use_schema = False
            try:
                async with self._sem:
                    # Decided once the slot is ours, so a fallback learnt meanwhile applies.
                    use_schema = response_format is not None and self.use_schema
                    if use_schema:
                        body["response_format"] = response_format
                    out.attempts += 1
                    self.usage.requests += 1
                    # The client's generic POST (same auth, timeout and error classes as
                    # chat.completions.create) without create()'s per-call recursive transform of
                    # the params, which costs milliseconds of CPU per call and caps throughput.
                    # cast_to=object: the JSON as plain data, no pydantic model per response.
                    data = await self._http.post("/chat/completions", body=body, cast_to=object)
            except openai.BadRequestError as e:
                if use_schema and cfg.structured_output == "auto" and mentions_response_format(e):
                    self.use_schema = False  # the server does not support it: plain text from now on
                    continue
                return self._failed(out, f"bad request (400): {short_error(e)}")
            except (openai.APIConnectionError, openai.APIStatusError) as e:
                if not is_retryable(e):
                    return self._failed(out, f"{type(e).__name__}: {short_error(e)}")
                if transport_failures >= cfg.max_retries:
                    return self._failed(out, f"gave up after {out.attempts} attempts: {type(e).__name__}: {short_error(e)}")
                transport_failures += 1
                self.usage.retries += 1
                await asyncio.sleep(self.backoff(transport_failures, retry_after_seconds(e)))
                continue
            except Exception as e:  # noqa: BLE001 - one bad request must not sink the caller's batch
                return self._failed(out, f"unexpected error: {type(e).__name__}: {short_error(e)}")
            pt, ct, texts = read_completion(data)
            out.prompt_tokens, out.completion_tokens, out.texts = pt, ct, texts
            self.usage.prompt_tokens += pt
            self.usage.completion_tokens += ct
            return out  # no choices at all is the caller's to judge (the predictor repairs it)

    def _failed(self, out: Completion, error: str) -> Completion:
        self.usage.failed += 1
        out.error = error
        return out

    # -- sync conveniences ---------------------------------------------------------------------------
    def complete(self, messages: Messages, **kwargs: Any) -> Completion:
        """One completion, from sync code (checker synthesis); keyword arguments as ``acomplete``."""
        return run_coroutine(self.acomplete(messages, **kwargs))

    async def asample(
        self,
        prompts: Sequence[Messages],
        n: int,
        *,
        temperature: float | None = None,
        top_p: float | None = None,
        max_tokens: int | None = None,
        cache: CompletionCache | None = None,
    ) -> list[list[Sample]]:
        """``n`` samples for each prompt, in order; cached samples are not asked for again."""
        params = self.sampling_params(temperature, top_p, max_tokens)
        keys = self.sample_keys(prompts, n, params)
        hits = cache.get_many([k for row in keys for k in row]) if cache is not None else {}
        rows: list[list[Sample]] = []
        todo: list[tuple[int, list[int]]] = []
        for pi, row in enumerate(keys):
            samples = [Sample(i, hits[k], cached=True) if k in hits else Sample(i) for i, k in enumerate(row)]
            missing = [i for i, k in enumerate(row) if k not in hits]
            self.usage.cached += n - len(missing)
            rows.append(samples)
            if missing:
                todo.append((pi, missing))

        async def one(pi: int, missing: list[int]) -> None:
            done = await self.acomplete(list(prompts[pi]), n=len(missing), temperature=params["temperature"],
                                        top_p=top_p, max_tokens=params["max_tokens"])
            for j, i in enumerate(missing):
                if j < len(done.texts):
                    rows[pi][i].text = done.texts[j]
                else:
                    rows[pi][i].error = done.error or "no answer"

        async with self:
            await asyncio.gather(*(one(pi, missing) for pi, missing in todo))
        if cache is not None:
            fresh = {keys[pi][s.index]: s.text for pi, row in enumerate(rows) for s in row
                     if not s.cached and not s.error}
            if fresh:
                cache.set_many(fresh)
        return rows

    def sampling_params(self, temperature: float | None, top_p: float | None, max_tokens: int | None) -> dict[str, Any]:
        cfg = self.config
        return {"temperature": cfg.temperature if temperature is None else temperature, "top_p": top_p,
                "max_tokens": cfg.max_tokens if max_tokens is None else max_tokens}

    def sample_keys(self, prompts: Sequence[Messages], n: int, params: dict[str, Any]) -> list[list[str]]:
        return [[sample_cache_key(self.config.model, list(p), i, params) for i in range(n)] for p in prompts]

    def sample(self, prompts: Sequence[Messages], n: int, *, cache: CompletionCache | None = None,
               **kwargs: Any) -> list[list[Sample]]:
        """Sync ``asample`` (evaluation, pass-rate measurement). The cache is read and written in
        the caller's thread, never inside the event loop, so a Django DB-backed cache works."""
        if cache is None:
            return run_coroutine(self.asample(prompts, n, **kwargs))
        params = self.sampling_params(kwargs.get("temperature"), kwargs.get("top_p"), kwargs.get("max_tokens"))
        hits = cache.get_many([k for row in self.sample_keys(prompts, n, params) for k in row])
        carrier = _DictCache(hits)
        rows = run_coroutine(self.asample(prompts, n, cache=carrier, **kwargs))
        if carrier.written:
            cache.set_many(carrier.written)
        return rows


class _DictCache:
    """Carries a sync cache's hits into the event loop and the fresh texts back out."""

    def __init__(self, hits: dict[str, str]) -> None:
        self.hits = hits
        self.written: dict[str, str] = {}

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        return {k: self.hits[k] for k in keys if k in self.hits}

    def set_many(self, items: dict[str, str]) -> None:
        self.written.update(items)
