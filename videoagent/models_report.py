"""What `videoagent models` reports: per role, the model, where its weights are, present or not."""

from __future__ import annotations

from typing import Any

from .config import Profile
from .weights import locate, package_dir


def roles(profile: Profile) -> list[dict[str, Any]]:
    rows = []
    for role, spec in (
        ("asr", profile.asr.model),
        ("text_encoder", profile.text_encoder.model),
        ("frame_encoder", profile.frame_encoder.model),
    ):
        found = locate(spec, role) if spec else None
        rows.append(
            {
                "role": role,
                "model": spec,
                "path": found.path if found else None,
                "present": bool(found and found.present),
            }
        )
    ocr_dir = package_dir("rapidocr_onnxruntime")
    ocr_path = str(ocr_dir / "models") if ocr_dir and (ocr_dir / "models").exists() else None
    rows.insert(1, {"role": "ocr", "model": "rapidocr:PP-OCRv4", "path": ocr_path, "present": ocr_path is not None})
    if profile.frame_encoder.fallback:
        rows.append(
            {
                "role": "frame_encoder_fallback",
                "model": "fingerprint:colour-layout-v1 (not learned)",
                "path": None,
                "present": True,
            }
        )
    return rows
