"""Shared pytest fixtures."""

from __future__ import annotations

import pytest

import simkit


@pytest.fixture(params=simkit.simd_targets())
def each_simd_target(request, monkeypatch):
    """Runs a test once per SIMD target this machine has (SIMKIT_SIMD), so a result that depends on
    the instruction set fails on any machine. Parity modules use it for every test."""
    monkeypatch.setenv("SIMKIT_SIMD", request.param)
    return request.param
