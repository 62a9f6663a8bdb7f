"""Which operation a request calls: method + URL template, most specific first; no match is OperationNotFound."""

from __future__ import annotations

from toolkit.emulator.gateway.operations import NOT_FOUND_BODY, OperationTable, operation_not_found


def _op(method: str, template: str) -> dict[str, str]:
    return {"method": method, "urlTemplate": template}


TABLE = OperationTable({
    "chat": _op("POST", "/deployments/{id}/chat/completions"),
    "chat-special": _op("POST", "/deployments/special/chat/completions"),
    "get-any": _op("GET", "/*"),
    "post-any": _op("POST", "/*"),
    "broken": _op("POST", "no-slash"),  # skipped, as the management plane would have refused it
})


def test_most_specific_template_wins():
    assert TABLE.find("POST", "/deployments/special/chat/completions", "").name == "chat-special"
    assert TABLE.find("POST", "/deployments/gpt/chat/completions", "").name == "chat"
    assert TABLE.find("post", "/anything/else", "").name == "post-any"
    assert TABLE.find("GET", "/deployments/gpt/chat/completions", "").name == "get-any"
    assert len(TABLE) == 4


def test_method_must_match():
    only_post = OperationTable({"chat": _op("POST", "/chat")})
    assert only_post.find("POST", "/chat", "") is not None
    assert only_post.find("GET", "/chat", "") is None
    assert only_post.find("POST", "/chat/more", "") is None
    assert OperationTable({}).find("GET", "/", "") is None


def test_operation_not_found_is_apims_configuration_error():
    error = operation_not_found()
    assert (error.status, error.source, error.reason) == (404, "configuration", "OperationNotFound")
    assert error.message == "Unable to match incoming request to an operation."
    assert error.default_body("request-id") == NOT_FOUND_BODY == b'{"statusCode": 404, "message": "Resource not found"}'


def test_a_match_carries_the_template_parameters_values() -> None:
    table = OperationTable({"weather": {"method": "GET", "urlTemplate": "/weather/{city}/{day}"}})
    found = table.find("GET", "/weather/seattle/monday", "")
    assert found is not None and found.name == "weather"
    assert found.parameters == {"city": "seattle", "day": "monday"}


def test_a_remembered_match_is_the_same_and_its_parameters_are_the_callers_own() -> None:
    table = OperationTable({"chat": _op("POST", "/deployments/{id}/chat/completions?api-version={v}")})
    first = table.find("POST", "/deployments/gpt/chat/completions", "api-version=1")
    first.parameters["id"] = "changed by a caller"
    again = table.find("POST", "/deployments/gpt/chat/completions", "api-version=1")
    assert (again.name, again.parameters) == ("chat", {"id": "gpt", "v": "1"})
    assert table.find("POST", "/deployments/gpt/chat/completions", "") is None  # the query is part of the key
    assert table.find("POST", "/deployments/gpt/chat/completions", "") is None  # a remembered miss
    assert table.find("post", "/deployments/x/chat/completions", "api-version=2").parameters == {"id": "x", "v": "2"}


def test_remembered_matches_are_bounded() -> None:
    from toolkit.emulator.gateway import operations

    table = OperationTable({"one": _op("GET", "/items/{id}")})
    for index in range(operations.FOUND_CACHE_SIZE * 2 + 5):
        assert table.find("GET", f"/items/{index}", "").parameters == {"id": str(index)}
    assert len(table._found) <= operations.FOUND_CACHE_SIZE
