"""What a transport failure is called in load and validation results, whichever engine met it."""

from __future__ import annotations

# The built-in engine reports httpx's exception names; Locust's client raises the socket's and requests' own. The
# same failure gets the same name on both engines, so their error tables compare.
_HTTPX_NAMES = {"ConnectionRefusedError": "ConnectError", "ConnectionResetError": "RemoteProtocolError",
                "RemoteDisconnected": "RemoteProtocolError", "ChunkedEncodingError": "RemoteProtocolError",
                "ConnectTimeout": "ConnectTimeout", "ReadTimeout": "ReadTimeout", "ConnectionError": "ConnectError"}


def transport_error_name(error: BaseException) -> str:
    """The name the built-in engine (httpx) gives the same transport failure: the innermost known cause's."""
    seen: BaseException | None = error
    names = []
    while seen is not None and len(names) < 8:  # requests wraps urllib3, which wraps the socket's error
        names.append(type(seen).__name__)
        seen = seen.__cause__ or seen.__context__
    known = [name for name in names if name in _HTTPX_NAMES]
    return _HTTPX_NAMES[known[-1]] if known else type(error).__name__
