"""Simulated Azure OpenAI backends: one instance per configured backend, each on its own port."""

from __future__ import annotations

from toolkit.emulator.simulator.behaviour import BackendBehaviour, Fault, FaultQueue, MinuteWindows
from toolkit.emulator.simulator.host import SimulatorHost
from toolkit.emulator.simulator.openai_app import BackendStats, SimResponse, SimulatedBackend, create_backend_app

__all__ = [
    "BackendBehaviour",
    "BackendStats",
    "Fault",
    "FaultQueue",
    "MinuteWindows",
    "SimResponse",
    "SimulatedBackend",
    "SimulatorHost",
    "create_backend_app",
]
