"""The only module that imports azure-mgmt-apimanagement: one small adapter per resource kind
(get with ETag, list names, put, delete), SDK errors translated to RemoteError subclasses once.

Bodies travel as raw JSON (like the APIOps publisher), so nothing the artifacts say is dropped by
an SDK model; reads capture the raw JSON answer and its ETag through the SDK's ``cls=`` hook.
The SDK retries connection failures only; statuses worth waiting out (429, 409) are retried here
with backoff (publish.retry), everything else fails at once.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from toolkit.artifacts.layout import Kind
from toolkit.artifacts.specification import Operation
from toolkit.errors import AuthError, RemoteError
from toolkit.publish.errors import NoAnswer, Unreachable, http_error
from toolkit.publish.operations import OPERATIONS_FIELD, import_body
from toolkit.publish.resources import Body, LiveResource, ResourceRef
from toolkit.publish.retry import RetryPolicy
from toolkit.publish.version_sets import in_version_set_of

T = TypeVar("T")
POLICY_ID = "policy"
LISTABLE_KINDS = (Kind.NAMED_VALUE, Kind.BACKEND, Kind.FRAGMENT, Kind.VERSION_SET, Kind.API)


@dataclass(frozen=True)
class ClientSettings:
    """Transport settings: short timeouts and few retries, so an unreachable target fails in seconds."""

    connection_timeout: float = 5.0
    read_timeout: float = 30.0
    retry_total: int = 2  # connection and read errors only (retry_status=0); conditional writes: connection only
    retry_backoff_factor: float = 0.3
    retry_backoff_max: float = 4.0
    polling_interval: float = 1.0  # long-running PUTs (named values, APIs, fragments); the SDK default is 30 s


def quiet_azure_logging() -> None:
    """azure-core and azure-identity log warnings (with request details) a CLI user should not see."""
    logging.getLogger("azure").setLevel(logging.ERROR)


def create_sdk_client(credential: Any, subscription_id: str, *, base_url: str | None = None,
                      ca_bundle: str | None = None, api_version: str | None = None,
                      settings: ClientSettings = ClientSettings()) -> Any:
    """An ``ApiManagementClient`` with the settings above (``base_url`` None means Azure Resource Manager)."""
    from azure.mgmt.apimanagement import ApiManagementClient

    quiet_azure_logging()
    options: dict[str, Any] = {
        "connection_timeout": settings.connection_timeout,
        "read_timeout": settings.read_timeout,
        "retry_total": settings.retry_total,
        "retry_connect": settings.retry_total,
        "retry_read": settings.retry_total,
        "retry_status": 0,
        "retry_backoff_factor": settings.retry_backoff_factor,
        "retry_backoff_max": settings.retry_backoff_max,
        "polling_interval": settings.polling_interval,
    }
    if base_url:
        options["base_url"] = base_url
    if ca_bundle:
        options["connection_verify"] = str(ca_bundle)
    if api_version:
        options["api_version"] = api_version
    return ApiManagementClient(credential, subscription_id, **options)


# A conditional write (If-Match) is sent once more by azure-core only when it was not sent at all (a connection
# error), never after a read error: the first request may have landed, and its resend would then meet our own
# new ETag and answer 412, which apply must be able to read as "another writer changed it". A lost answer is
# raised as NoAnswer instead; apply reads the resource back and decides (toolkit.publish.apply._sent_safely).
_ONCE_SENT = {"retry_read": 0}


def _capture(response: Any, model: Any, headers: dict[str, Any]) -> tuple[Any, str | None]:
    """``cls=`` hook: the raw JSON answer and its ETag instead of an SDK model."""
    text = response.http_response.text()
    return (json.loads(text) if text else {}), headers.get("ETag")


def _raw(body: Body) -> io.BytesIO:
    return io.BytesIO(json.dumps(body).encode("utf-8"))


@dataclass(frozen=True)
class _KindOps:
    """How one resource kind maps onto the SDK's operation groups."""

    get: Callable[..., Any]
    put: Callable[..., Any]
    delete: Callable[..., Any]
    list: Callable[..., Any] | None = None
    long_running: bool = False


def _policy_call(c: ApimClient, ref: ResourceRef, method: str, *args: Any, **kwargs: Any) -> Any:
    """Policies live in three operation groups (global, API, operation) with different id prefixes."""
    rg, svc = c.resource_group, c.service
    if ref.kind is Kind.GLOBAL_POLICY:
        group, ids = c.sdk.policy, (rg, svc, POLICY_ID)
    elif ref.kind is Kind.API_POLICY:
        group, ids = c.sdk.api_policy, (rg, svc, ref.name, POLICY_ID)
    else:
        group, ids = c.sdk.api_operation_policy, (rg, svc, ref.parent, ref.name, POLICY_ID)
    return getattr(group, method)(*ids, *args, **kwargs)


def _named(group: str, *, long_running: bool = False, get_kw: dict[str, Any] | None = None,
           delete_kw: dict[str, Any] | None = None) -> _KindOps:
    """Ops of a kind addressed by (resource group, service, name)."""

    def ops(c: ApimClient) -> Any:
        return getattr(c.sdk, group)

    put_name = "begin_create_or_update" if long_running else "create_or_update"
    delete_name = "begin_delete" if group == "api" else "delete"
    return _KindOps(
        get=lambda c, ref, **kw: ops(c).get(c.resource_group, c.service, ref.name, **(get_kw or {}), **kw),
        put=lambda c, ref, body, if_match, **kw: getattr(ops(c), put_name)(
            c.resource_group, c.service, ref.name, _raw(body), if_match=if_match, **kw),
        delete=lambda c, ref, if_match, **kw: getattr(ops(c), delete_name)(
            c.resource_group, c.service, ref.name, if_match=if_match, **(delete_kw or {}), **kw),
        list=lambda c: ops(c).list_by_service(c.resource_group, c.service),
        long_running=long_running,
    )


_POLICY = _KindOps(
    get=lambda c, ref, **kw: _policy_call(c, ref, "get", format="rawxml", **kw),
    put=lambda c, ref, body, if_match, **kw: _policy_call(c, ref, "create_or_update", _raw(body), if_match=if_match, **kw),
    delete=lambda c, ref, if_match, **kw: _policy_call(c, ref, "delete", if_match=if_match, **kw),
)
_OPS: dict[Kind, _KindOps] = {
    Kind.NAMED_VALUE: _named("named_value", long_running=True),
    Kind.BACKEND: _named("backend"),
    Kind.FRAGMENT: _named("policy_fragment", long_running=True, get_kw={"format": "rawxml"}),
    Kind.VERSION_SET: _named("api_version_set"),
    Kind.API: _named("api", long_running=True, delete_kw={"delete_revisions": True}),
    Kind.GLOBAL_POLICY: _POLICY,
    Kind.API_POLICY: _POLICY,
    Kind.OPERATION_POLICY: _POLICY,
}


class ApimClient:
    """One APIM service through the SDK. Every method raises RemoteError subclasses, never azure errors."""

    def __init__(self, sdk: Any, resource_group: str, service: str, *, endpoint: str = "Azure Resource Manager",
                 settings: ClientSettings = ClientSettings(), retry: RetryPolicy = RetryPolicy(),
                 subscription_id: str = "") -> None:
        self.sdk = sdk
        self.resource_group = resource_group
        self.service = service
        self.subscription_id = subscription_id
        self.endpoint = endpoint
        self.settings = settings
        self.retry = retry
        self.calls: Counter[str] = Counter()  # "read" / "write" attempts, retries included
        self._calls_lock = threading.Lock()  # apply writes from several threads

    @property
    def service_id(self) -> str:
        """The ARM id of the APIM service (without a subscription id: the service-relative form ``""``)."""
        if not self.subscription_id:
            return ""
        return (f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
                f"/providers/Microsoft.ApiManagement/service/{self.service}")

    # -- reads -------------------------------------------------------------------------------------

    def get(self, ref: ResourceRef) -> LiveResource | None:
        """The resource's body (envelope removed) and ETag; None when it does not exist."""
        from toolkit.publish.errors import RemoteNotFound

        try:
            document, etag = self._read(f"read {ref.label}", lambda: _OPS[ref.kind].get(self, ref, cls=_capture))
        except RemoteNotFound:
            return None
        properties = dict(document.get("properties") or {})
        if ref.kind is Kind.API:  # the operations are part of what an API is (imported from its specification)
            properties[OPERATIONS_FIELD] = [o.to_json() for o in self.list_operations(ref.name)]
        return LiveResource(ref, {"properties": properties}, etag)

    def list_operations(self, api: str) -> list[Operation]:
        """The operations of API ``api`` (name, method, URL template), all pages, sorted by name."""
        def call() -> list[Operation]:
            items = self.sdk.api_operation.list_by_api(self.resource_group, self.service, api)
            return sorted(Operation(str(i.name), str(i.method or "").upper(), str(i.url_template or "")) for i in items)

        return self._read(f"list the operations of API '{api}'", call)

    def list_names(self, kind: Kind) -> list[str]:
        """Names of every resource of a listable kind (named values, backends, fragments, APIs), all pages."""
        ops = _OPS[kind]
        if ops.list is None:
            raise ValueError(f"{kind.value} cannot be listed")
        return self._read(f"list {kind.value}s", lambda: sorted(str(item.name) for item in ops.list(self)))

    def secret_value(self, name: str) -> str:
        """A secret named value's value (POST listValue); callers must never print it."""
        result = self._read(f"read the value of named value '{name}'",
                            lambda: self.sdk.named_value.list_value(self.resource_group, self.service, name))
        return str(result.value or "")

    # -- writes ------------------------------------------------------------------------------------

    def put(self, ref: ResourceRef, body: Body, if_match: str | None = None) -> str | None:
        """Create or replace ``ref``; returns its new ETag. ``if_match`` guards against concurrent changes (such a
        write is not resent after a lost answer: NoAnswer, see ``_ONCE_SENT``)."""
        ops = _OPS[ref.kind]
        if ref.kind is Kind.API:
            body = in_version_set_of(import_body(body), self.service_id)
        once = _ONCE_SENT if if_match and if_match != "*" else {}

        def call() -> str | None:
            if ops.long_running:
                poller = ops.put(self, ref, body, if_match, cls=_capture, polling_interval=self.settings.polling_interval,
                                 **once)
                return poller.result()[1]
            return ops.put(self, ref, body, if_match, cls=_capture, **once)[1]

        return self._write(f"write {ref.label}", call)

    def delete(self, ref: ResourceRef, if_match: str | None) -> None:
        """Delete ``ref`` (a missing resource is not an error); ``if_match`` None means unconditionally (a
        conditional delete is not resent after a lost answer: NoAnswer, see ``_ONCE_SENT``)."""
        ops = _OPS[ref.kind]
        once = _ONCE_SENT if if_match and if_match != "*" else {}

        def call() -> None:
            result = ops.delete(self, ref, if_match or "*", **once)
            if hasattr(result, "result"):
                result.result()

        self._write(f"delete {ref.label}", call)

    def close(self) -> None:
        """Release the HTTP session."""
        close = getattr(self.sdk, "close", None)
        if close is not None:
            close()

    # -- error translation -------------------------------------------------------------------------

    def _read(self, what: str, call: Callable[[], T]) -> T:
        return self.retry.run(lambda: self._counted("read", what, call))

    def _write(self, what: str, call: Callable[[], T]) -> T:
        return self.retry.run(lambda: self._counted("write", what, call))

    def _counted(self, category: str, what: str, call: Callable[[], T]) -> T:
        with self._calls_lock:
            self.calls[category] += 1
        try:
            return call()
        except RemoteError:
            raise
        except Exception as exc:  # noqa: BLE001 - azure errors are translated once, here; anything else is a bug
            translated = translate_error(exc, what, self.endpoint)
            if translated is exc:
                raise
            raise translated from None


def _with_details(message: str, error: object) -> str:
    """ARM's message with each of its ``details[]`` (``target: message``): the top line alone often names no field.

    APIM's generic top line ("One or more fields contain incorrect values:") ends with a colon: over one
    problem it is left out, over several it leads them.
    """
    problems = []
    for detail in getattr(error, "details", None) or []:
        text, target = getattr(detail, "message", None), getattr(detail, "target", None)
        if text and text not in message:
            problems.append(f"{target}: {text}" if target and target not in text else text)
    if not problems:
        return message
    if message.endswith(":"):
        return problems[0] if len(problems) == 1 else f"{message} {'; '.join(problems)}"
    return "; ".join([message, *problems])


def translate_error(exc: Exception, what: str, endpoint: str) -> Exception:
    """The RemoteError for an azure-core exception (anything else is returned unchanged: a bug)."""
    from azure.core.exceptions import (
        AzureError,
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    if isinstance(exc, ClientAuthenticationError) or (isinstance(exc, HttpResponseError) and exc.status_code == 401):
        return AuthError(f"{what}: authentication failed: {_first_line(exc)}",
                         hint="check the credential (--auth) and that it may manage this APIM service")
    if isinstance(exc, HttpResponseError) and exc.status_code:
        error = getattr(exc, "error", None)
        code = getattr(error, "code", None)
        message = _with_details(getattr(error, "message", None) or exc.reason or "", error)
        retry_after = _retry_after(exc)
        translated = http_error(f"{what}: HTTP {exc.status_code}{f' {code}' if code else ''}: {message}".rstrip(": "),
                                exc.status_code, code, retry_after)
        if exc.status_code == 403:
            translated.hint = "the identity needs the 'API Management Service Contributor' role on the service"
        return translated
    if isinstance(exc, ServiceRequestError):
        reason = _first_line(exc)
        hint = None
        if "CERTIFICATE_VERIFY_FAILED" in reason or "SSL" in reason:
            hint = "the TLS certificate is not trusted: pass --ca-bundle (or TOOLKIT_CA_BUNDLE) for a local emulator"
        return Unreachable(f"{what}: cannot reach {endpoint}: {reason}", hint=hint)
    if isinstance(exc, ServiceResponseError):
        return NoAnswer(f"{what}: {endpoint} did not answer: {_first_line(exc)}")
    if isinstance(exc, AzureError):
        return RemoteError(f"{what}: {_first_line(exc)}")
    return exc


def _retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "message", None) or exc) or type(exc).__name__
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
