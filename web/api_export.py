"""Placeholder router (filled in by the panel pages work)."""

from __future__ import annotations

from fastapi import APIRouter


def build_export_router() -> APIRouter:
    return APIRouter(prefix="/api")
