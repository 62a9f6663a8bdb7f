"""Typed APIOps paths: a builder and a parser per artifact kind (as the APIOps extractor lays them out).

    policy.xml                                            global (service) policy
    apis/<api>/apiInformation.json                        API
    apis/<api>/policy.xml                                 API policy
    apis/<api>/specification.json|yaml                    the API's OpenAPI description (its operations)
    apis/<api>/operations/<operation>/policy.xml          operation policy
    backends/<backend>/backendInformation.json            backend or pool
    named values/<name>/namedValueInformation.json        named value (folder name has a space)
    policy fragments/<name>/policyFragmentInformation.json + policy.xml
    version sets/<name>/versionSetInformation.json        API version set (older APIOps extractors wrote
                                                          apiVersionSetInformation.json: read too, never written)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Kind(str, Enum):
    """Artifact kinds the toolkit reads, renders and publishes."""

    GLOBAL_POLICY = "global-policy"
    API = "api"
    API_POLICY = "api-policy"
    OPERATION_POLICY = "operation-policy"
    BACKEND = "backend"
    NAMED_VALUE = "named-value"
    FRAGMENT = "policy-fragment"
    FRAGMENT_POLICY = "policy-fragment-policy"
    SPECIFICATION = "api-specification"
    VERSION_SET = "version-set"

    @property
    def is_policy(self) -> bool:
        """Policy XML documents (including fragments)."""
        return self in (Kind.GLOBAL_POLICY, Kind.API_POLICY, Kind.OPERATION_POLICY, Kind.FRAGMENT_POLICY)


BACKENDS_DIR = "backends"
APIS_DIR = "apis"
NAMED_VALUES_DIR = "named values"
FRAGMENTS_DIR = "policy fragments"
VERSION_SETS_DIR = "version sets"
# The name older APIOps extractors gave a version set's information file (read, never written).
LEGACY_VERSION_SET_FILE = "apiVersionSetInformation.json"
POLICY_FILE = "policy.xml"
# OpenAPI descriptions the APIOps extractor writes beside apiInformation.json (JSON or YAML).
SPECIFICATION_FILES = ("specification.json", "specification.yaml")

_INFO_FILES = {
    Kind.API: (APIS_DIR, "apiInformation.json"),
    Kind.BACKEND: (BACKENDS_DIR, "backendInformation.json"),
    Kind.NAMED_VALUE: (NAMED_VALUES_DIR, "namedValueInformation.json"),
    Kind.FRAGMENT: (FRAGMENTS_DIR, "policyFragmentInformation.json"),
    Kind.VERSION_SET: (VERSION_SETS_DIR, "versionSetInformation.json"),
}


@dataclass(frozen=True, order=True)
class ArtifactPath:
    """One resource and its artifact file: kind, resource name and (for operations) the parent API."""

    kind: Kind
    name: str = ""
    parent: str = ""

    @property
    def relpath(self) -> str:
        """The path inside the artifact folder, with '/' separators."""
        if self.kind is Kind.GLOBAL_POLICY:
            return POLICY_FILE
        if self.kind is Kind.API_POLICY:
            return f"{APIS_DIR}/{self.name}/{POLICY_FILE}"
        if self.kind is Kind.OPERATION_POLICY:
            return f"{APIS_DIR}/{self.parent}/operations/{self.name}/{POLICY_FILE}"
        if self.kind is Kind.FRAGMENT_POLICY:
            return f"{FRAGMENTS_DIR}/{self.name}/{POLICY_FILE}"
        if self.kind is Kind.SPECIFICATION:
            return f"{APIS_DIR}/{self.name}/{self.parent}"
        folder, file = _INFO_FILES[self.kind]
        return f"{folder}/{self.name}/{self.parent or file}"  # a version set's parent: its legacy file name

    @classmethod
    def parse(cls, relpath: str) -> ArtifactPath | None:
        """The artifact a relative path denotes, or None for files the toolkit does not manage."""
        parts = relpath.replace("\\", "/").split("/")
        if parts == [POLICY_FILE]:
            return cls(Kind.GLOBAL_POLICY)
        if len(parts) == 3:
            folder, name, file = parts
            for kind, (info_folder, info_file) in _INFO_FILES.items():
                if folder == info_folder and file == info_file:
                    return cls(kind, name)
            if file == POLICY_FILE and folder == APIS_DIR:
                return cls(Kind.API_POLICY, name)
            if file == POLICY_FILE and folder == FRAGMENTS_DIR:
                return cls(Kind.FRAGMENT_POLICY, name)
            if file in SPECIFICATION_FILES and folder == APIS_DIR:
                return cls(Kind.SPECIFICATION, name, file)
            if file == LEGACY_VERSION_SET_FILE and folder == VERSION_SETS_DIR:
                return cls(Kind.VERSION_SET, name, file)  # ``parent`` holds the file name, as for specifications
        if len(parts) == 5 and parts[0] == APIS_DIR and parts[2] == "operations" and parts[4] == POLICY_FILE:
            return cls(Kind.OPERATION_POLICY, parts[3], parts[1])
        return None

    @classmethod
    def backend(cls, name: str) -> ArtifactPath:
        """backends/<name>/backendInformation.json"""
        return cls(Kind.BACKEND, name)

    @classmethod
    def api(cls, name: str) -> ArtifactPath:
        """apis/<name>/apiInformation.json"""
        return cls(Kind.API, name)

    @classmethod
    def api_policy(cls, name: str) -> ArtifactPath:
        """apis/<name>/policy.xml"""
        return cls(Kind.API_POLICY, name)

    @classmethod
    def specification(cls, api: str, file: str = SPECIFICATION_FILES[0]) -> ArtifactPath:
        """apis/<api>/specification.json (or .yaml): ``parent`` holds the file name."""
        if file not in SPECIFICATION_FILES:
            raise ValueError(f"{file!r} is not one of {', '.join(SPECIFICATION_FILES)}")
        return cls(Kind.SPECIFICATION, api, file)

    @classmethod
    def fragment(cls, name: str) -> ArtifactPath:
        """policy fragments/<name>/policyFragmentInformation.json"""
        return cls(Kind.FRAGMENT, name)

    @classmethod
    def fragment_policy(cls, name: str) -> ArtifactPath:
        """policy fragments/<name>/policy.xml"""
        return cls(Kind.FRAGMENT_POLICY, name)

    @classmethod
    def named_value(cls, name: str) -> ArtifactPath:
        """named values/<name>/namedValueInformation.json"""
        return cls(Kind.NAMED_VALUE, name)

    @classmethod
    def version_set(cls, name: str) -> ArtifactPath:
        """version sets/<name>/versionSetInformation.json"""
        return cls(Kind.VERSION_SET, name)

    @property
    def resource(self) -> ArtifactPath:
        """The resource this file describes (a legacy-named version set file describes the same version set)."""
        return ArtifactPath(self.kind, self.name) if self.kind is Kind.VERSION_SET else self

    @property
    def label(self) -> str:
        """How a person names the resource in a message."""
        if self.kind is Kind.GLOBAL_POLICY:
            return "the global policy"
        if self.kind is Kind.API_POLICY:
            return f"the policy of API '{self.name}'"
        if self.kind is Kind.OPERATION_POLICY:
            return f"the policy of operation '{self.name}' of API '{self.parent}'"
        if self.kind is Kind.SPECIFICATION:
            return f"the specification of API '{self.name}'"
        return f"{self.kind.value} '{self.name}'"

    def to_json(self) -> dict[str, str]:
        """``{"kind", "name"[, "parent"]}`` (plan files)."""
        data = {"kind": self.kind.value, "name": self.name}
        if self.parent:
            data["parent"] = self.parent
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ArtifactPath:
        """Inverse of :meth:`to_json`."""
        return cls(Kind(data["kind"]), str(data.get("name", "")), str(data.get("parent", "")))

    def __str__(self) -> str:
        return self.relpath
