"""What APIM itself accepts beyond what the emulator runs: so a refusal can say whose limit it is.

An element, attribute or child APIM documents but the emulator does not run is refused with
"the local emulator does not support <x> (APIM does)"; anything APIM does not know either is
refused as unknown. Sources: the APIM policy reference (learn.microsoft.com/azure/api-management/
api-management-policies), element by element.
"""

from __future__ import annotations

from toolkit.emulator.expressions.errors import emulator_limit

__all__ = ["APIM_ATTRIBUTES", "APIM_CHILDREN", "APIM_ELEMENTS", "emulator_limit"]

APIM_ELEMENTS = frozenset({
    # access restriction and authentication
    "check-header", "get-authorization-context", "ip-filter", "quota", "quota-by-key", "rate-limit",
    "rate-limit-by-key", "validate-azure-ad-token", "validate-client-certificate", "validate-jwt",
    "authentication-basic", "authentication-certificate", "authentication-managed-identity",
    # caching
    "cache-lookup", "cache-store", "cache-lookup-value", "cache-store-value", "cache-remove-value",
    "azure-openai-semantic-cache-lookup", "azure-openai-semantic-cache-store", "llm-semantic-cache-lookup",
    "llm-semantic-cache-store",
    # cross-domain, transformation
    "cors", "cross-domain", "jsonp", "find-and-replace", "json-to-xml", "xml-to-json", "redirect-content-urls",
    "rewrite-uri", "set-backend-service", "set-body", "set-header", "set-query-parameter", "set-method",
    "set-status", "set-variable", "xsl-transform",
    # advanced and routing
    "choose", "forward-request", "include-fragment", "limit-concurrency", "log-to-eventhub", "emit-metric",
    "mock-response", "proxy", "retry", "return-response", "send-one-way-request", "send-request", "trace", "wait",
    # validation
    "validate-content", "validate-parameters", "validate-headers", "validate-status-code",
    "validate-graphql-request", "validate-odata-request",
    # GraphQL resolvers, Dapr, events
    "set-graphql-resolver", "http-data-source", "sql-data-source", "cosmosdb-data-source", "publish-event",
    "publish-to-dapr", "invoke-dapr-binding",
    # AI gateway
    "azure-openai-token-limit", "llm-token-limit", "azure-openai-emit-token-metric", "llm-emit-token-metric",
    "llm-content-safety",
})

# Attributes and child elements APIM documents that the emulator's handlers do not accept.
APIM_ATTRIBUTES: dict[str, frozenset[str]] = {
    "set-body": frozenset({"template", "xsi-nil", "parse-date"}),
    "set-backend-service": frozenset({"sf-partition-key", "sf-replica-type", "sf-resolve-condition",
                                      "sf-service-instance-name", "sf-listener-name", "dapr-app-id",
                                      "dapr-method", "dapr-namespace"}),
    "cache-store": frozenset({"cache-value"}),
}
APIM_CHILDREN: dict[str, frozenset[str]] = {
    "validate-jwt": frozenset({"decryption-keys"}),
    "validate-azure-ad-token": frozenset({"decryption-keys"}),
    "send-request": frozenset({"authentication-certificate", "authentication-managed-identity", "proxy"}),
    "send-one-way-request": frozenset({"authentication-certificate", "authentication-managed-identity", "proxy"}),
    "rate-limit": frozenset({"api", "operation"}),
    "quota": frozenset({"api", "operation"}),
}


