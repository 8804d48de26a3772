"""Request → account (bearer token) and role checks, as FastAPI dependencies."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordBearer
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from beiandesk.domain.model import Account
from beiandesk.entrypoints.api.guard import ACCOUNT_STATE, replaying
from beiandesk.entrypoints.api.responses import FastJSONResponse
from beiandesk.services import auth
from beiandesk.services.deps import Deps
from beiandesk.services.ports import WriteWouldWait

bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# These dependencies are ``async`` on purpose: a sync dependency costs a threadpool hop per
# request. The session check is one indexed read in the request's shared read transaction
# (nothing about a session is cached in the process: a revoked token is refused at once).


async def get_deps(request: Request) -> Deps:
    return request.app.state.deps


class BearerAccount(OAuth2PasswordBearer):
    """The request's account from its bearer token, as **one** dependency.

    It is the OAuth2 scheme itself (so the OpenAPI document and ``/docs`` still show the
    bearer login on every protected operation) and resolves the account in the same call: each
    dependency FastAPI solves costs a request more than the session read itself (profiled:
    four solves were a sixth of ``GET /api/v1/websites/{id}``; scheme → account → role was
    three of them). ``require`` is the role check (staff, admin) applied to the account.
    """

    def __init__(self, require: Callable[[Account], Account] | None = None) -> None:
        super().__init__(
            tokenUrl="/api/v1/auth/token", auto_error=False, scheme_name="OAuth2PasswordBearer"
        )
        self.require = require

    async def __call__(self, request: Request) -> Account:  # type: ignore[override]
        token = await OAuth2PasswordBearer.__call__(self, request)
        account = await resolve_account(request, token)
        return account if self.require is None else self.require(account)


async def resolve_account(request: Request, token: str | None) -> Account:
    # ``Deps`` from the app, not as a sub-dependency (one solve fewer).
    d: Deps = request.app.state.deps
    if not token:
        raise auth.Unauthorized()
    # A write was authenticated by the RequestGuard a moment ago, before its body was read:
    # reuse that account (same token, same request) rather than read the session row twice.
    resolved = (request.scope.get("state") or {}).get(ACCOUNT_STATE)
    if resolved is not None and resolved[0] == token:
        account = resolved[1]
    elif d.async_reads is not None:  # PostgreSQL: awaited, the loop serves others meanwhile
        account = await auth.account_for_token_async(d, token)
    else:
        account = auth.account_for_token(d, token)
    return admit(request, account)


def admit(request: Request, account: Account) -> Account:
    """What every request's account goes through once resolved: named as the actor (the
    access log, the audit), and refused while its one-time password is unchanged."""
    request.state.actor = account.username
    if request.scope["path"] not in PASSWORD_CHANGE_PATHS:
        auth.require_password_changed(account)
    return account


#: What an account with a one-time password may still do (api.md "Accounts"): change it,
#: see who it is logged in as, log out.
PASSWORD_CHANGE_PATHS = frozenset({"/api/v1/me/password", "/api/v1/auth/logout"})

current_account = BearerAccount()
staff_account = BearerAccount(auth.require_staff)
admin_account = BearerAccount(auth.require_admin)

DepsDep = Annotated[Deps, Depends(get_deps)]
AccountDep = Annotated[Account, Depends(current_account)]
StaffDep = Annotated[Account, Depends(staff_account)]
AdminDep = Annotated[Account, Depends(admin_account)]


F = TypeVar("F", bound=Callable[..., Any])


def point_read(fn: F) -> F:
    """A sync route that only reads a row or two by key: run it on the event loop when
    ``Deps.inline_reads`` (bootstrap: always), in the threadpool otherwise.

    Measured with wrk on ``GET /api/v1/websites/{id}`` (32 connections): SQLite 531 req/s in
    the threadpool, 1,366 inline; PostgreSQL 534–634 threaded, 845–933 inline — a thread hop
    per request and the GIL hand-overs around the driver's calls (40 threads contending) cost
    more than a primary-key round trip that holds the loop.
    The route must name its ``Deps`` parameter ``d``.
    """

    @functools.wraps(fn)
    async def endpoint(*args: Any, **kwargs: Any) -> Any:
        return await run_point_read(kwargs.get("d"), fn, *args, **kwargs)

    return endpoint  # type: ignore[return-value]


async def run_point_read(
    deps: Deps | None, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
) -> Any:
    """Run a point read where ``Deps.inline_reads`` says: on the event loop, or in the
    threadpool (``point_read`` and the lean routes alike; ``fn`` may take ``d=`` itself)."""
    if deps is not None and deps.inline_reads:
        return fn(*args, **kwargs)
    return await run_in_threadpool(fn, *args, **kwargs)


def point_write(fn: F) -> F:
    """A sync route whose use case reads, judges and writes **once** at the end (a save of an
    order): on SQLite (``Deps.inline_writes``) run it on the event loop when the write lock is
    free at once — one thread doing the whole request, no GIL hand-over while the lock is held —
    and in the threadpool when the lock is taken (``WriteWouldWait``: nothing was written yet,
    so running it again there is the same request); on SQLite's loop the commit is only written
    to the log, and the response waits for its fsync in the syncer thread. PostgreSQL
    (``Deps.run_on_loop``): on the loop as well, inside a greenlet, every statement awaited, so
    several saves run side by side while the loop serves other requests.
    The route must name its ``Deps`` parameter ``d``.
    """

    @functools.wraps(fn)
    async def endpoint(*args: Any, **kwargs: Any) -> Any:
        d = kwargs.get("d")
        if d is not None and d.inline_writes:
            try:
                with d.write_attempt() as attempt:
                    try:
                        return fn(*args, **kwargs)
                    finally:
                        # Its commit is in the log; answer (or fail) only once it is on disk.
                        # The fsync runs in the database's syncer thread: the loop serves the
                        # next requests, and their commits share the next fsync
                        # (adapters/db/durability.py).
                        if attempt is not None and attempt.needs_sync:
                            await attempt.made_durable()
            except WriteWouldWait:
                pass  # the lock is someone else's: wait for it in a thread, off the loop
        elif d is not None and d.run_on_loop is not None:
            # PostgreSQL: on the loop too, every statement awaited (no thread, no GIL
            # hand-over per round trip); several saves run side by side.
            return await d.run_on_loop(fn, *args, **kwargs)
        return await run_in_threadpool(fn, *args, **kwargs)

    return endpoint  # type: ignore[return-value]


# -- lean point reads ------------------------------------------------------------------------


class PathParam:
    """A path parameter a lean route reads itself, validated like FastAPI validates it (same
    pydantic type, same 422 problem, ``loc`` ``["path", name, …]``), and documented the same."""

    def __init__(self, name: str, annotation: Any) -> None:
        self.name, self.adapter = name, TypeAdapter(annotation)

    def __call__(self, request: Request) -> Any:
        try:
            return self.adapter.validate_python(request.path_params[self.name])
        except ValidationError as exc:
            raise RequestValidationError(
                [
                    {**e, "loc": ("path", self.name, *e["loc"])}
                    for e in exc.errors(include_url=False)
                ]
            ) from None

    def openapi(self) -> dict[str, Any]:
        schema = {**self.adapter.json_schema(), "title": self.name.replace("_", " ").title()}
        return {"in": "path", "name": self.name, "required": True, "schema": schema}


def lean_doc(*params: PathParam, returns_object: bool = False) -> dict[str, Any]:
    """``openapi_extra`` for a lean route: the parameters and the bearer requirement its plain
    signature (``d: DepsDep, account: AccountDep, …: RowId``) would have documented, and, with
    ``returns_object``, the JSON object its ``-> dict[str, Any]`` annotation documented."""
    doc: dict[str, Any] = {
        "parameters": [p.openapi() for p in params],
        "security": [{current_account.scheme_name: []}],
    }
    if returns_object:
        schema = {"type": "object", "additionalProperties": True}
        doc["responses"] = {"200": {"content": {"application/json": {"schema": schema}}}}
    return doc


def lean(endpoint: F) -> F:
    """Mark a lean route's endpoint (``async def endpoint(request) -> Response``) so that
    ``serve_lean`` serves it as a plain ASGI app."""
    endpoint.__beiandesk_lean__ = True  # type: ignore[attr-defined]
    return endpoint


#: A lean twin of a plain route: ``twin(request, body) -> Response | None``; None = "not the
#: common case: let FastAPI's own handling answer it".
Twin = Callable[[Request, bytes], Awaitable[Any]]


def serve_lean(router: APIRouter, twins: dict[Callable[..., Any], Twin] | None = None) -> None:
    """Serve the router's ``@lean`` routes, and the routes given a lean ``twin``, as plain ASGI
    apps behind their ``APIRoute``.

    The route stays what FastAPI declared — matched, documented and refused (405) the same —
    but its handler is ``endpoint(Request)`` and the answer, without FastAPI's per-request
    machinery around an endpoint that needs none of it: the dependency solve for the
    ``Request`` parameter, two ``AsyncExitStack``s for dependencies with ``yield`` and the
    route's own exception wrapper (a tenth of ``GET /api/v1/websites/{id}``, profiled). An
    exception still reaches the app's problem handlers, through Starlette's
    ``ExceptionMiddleware`` around the router (tested against the plain form).

    A route with a body keeps its plain signature (so its OpenAPI operation is FastAPI's own)
    and gets a **twin** for its common case (``serve_twin``).
    """
    from fastapi.routing import APIRoute
    from starlette.requests import Request as StarletteRequest

    twins = twins or {}
    for route in router.routes:
        endpoint = getattr(route, "endpoint", None)
        if not isinstance(route, APIRoute):
            continue
        if getattr(endpoint, "__beiandesk_lean__", False):

            def handler(endpoint: Any) -> Any:
                async def app(scope: dict, receive: Any, send: Any) -> None:
                    response = await endpoint(StarletteRequest(scope, receive, send))
                    await response(scope, receive, send)

                return app

            route.app = handler(endpoint)
        elif endpoint in twins:
            if getattr(route, "max_body_size", None) is not None:  # the twin reads it first
                raise ValueError(f"{route.path}: a twin cannot keep the route's max_body_size")
            route.app = serve_twin(twins.pop(endpoint), route.app)
    if twins:
        raise ValueError(f"no route for the twins of {sorted(map(repr, twins))}")


def serve_twin(twin: Twin, plain: Any) -> Any:
    """An ASGI app that reads the body, lets ``twin(request, body)`` answer the common case,
    and hands everything else to ``plain`` (FastAPI's own handler for the route) with the body
    replayed — or with the very error reading it raised — so every refusal (a body that is not
    JSON, not an object, a path parameter that is not an id…) is FastAPI's own, by
    construction. The twin answers only what FastAPI would have parsed and validated without
    an error, in the same order of checks after that (the account, then the endpoint)."""
    from starlette.requests import Request as StarletteRequest

    async def app(scope: dict, receive: Any, send: Any) -> None:
        request = StarletteRequest(scope, receive, send)
        try:
            body = await request.body()
        except Exception as exc:  # noqa: BLE001 — FastAPI's handler judges it: re-raised there
            failure = exc

            async def failing() -> dict:
                raise failure

            await plain(scope, failing, send)
            return
        response = await twin(request, body)
        if response is None:
            await plain(scope, replaying(body, receive), send)
            return
        await response(scope, receive, send)

    return app


async def lean_read(
    request: Request,
    key: PathParam,
    read: Callable[[Deps, Account, Any], Any],
    view: Callable[[Any], Any],
    read_for_token: Callable[..., Awaitable[Any]] | None = None,
) -> JSONResponse:
    """A lean point read: the account (401 before 422, as FastAPI orders them), the key from
    the path, ``read(d, account, key)`` where ``inline_reads`` says, and its view as JSON (the
    view is plain JSON already: answered directly, not validated again).

    Where ``Deps.async_reads`` is set (PostgreSQL), a request with a token and a valid key
    reads both the session and the record in one awaited round trip instead:
    ``read_for_token(d, token, key, admit)`` judges the session, then ``admit``s the account,
    then the record — the same checks in the same order, so the same answers (tested against
    the plain form). Without a token or with a bad key, the separate reads decide as before.
    """
    d = request.app.state.deps
    if read_for_token is not None and d.async_reads is not None:
        token = await bearer(request)
        try:
            value = key(request) if token else None
        except RequestValidationError:
            value = None  # the session decides first (401 before 422): the separate reads
        if value is not None:
            found = await read_for_token(d, token, value, lambda a: admit(request, a))
            return FastJSONResponse(view(found))
    account = await current_account(request)  # what ``AccountDep`` resolves, called directly
    value = key(request)
    found = await run_point_read(d, read, d, account, value)
    return FastJSONResponse(view(found))
