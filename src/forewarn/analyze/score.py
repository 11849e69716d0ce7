"""Priority and confidence of a finding (seed 003 §8), with configurable weights.

priority   = 3 + multiSession + multiProject + hangTimeout + dataLoss + userCorrection
               + fixConfirmed + singleOccurrence, clamped to 1..10
confidence = 0.4 + 0.20 (failure→fix pair identified) + 0.15 (user corrected) + 0.10 (2+ sessions)
               + 0.10 (2+ projects) + 0.05 (causal language), clamped to 0..1

Weights come from the `scoring` object of `$FOREWARN_HOME/config.json` (see forewarn.config).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from forewarn.analyze.findings import Finding


@dataclass(frozen=True)
class Weights:
    basePriority: int = 3
    multiSessionBonus: int = 2
    multiProjectBonus: int = 1
    hangTimeoutBonus: int = 1
    dataLossBonus: int = 1
    userCorrectionBonus: int = 1
    fixConfirmedBonus: int = 1
    singleOccurrencePenalty: int = -1
    baseConfidence: float = 0.4
    pairConfidence: float = 0.20
    userCorrectionConfidence: float = 0.15
    multiSessionConfidence: float = 0.10
    multiProjectConfidence: float = 0.10
    causalConfidence: float = 0.05


def load_weights(home: Path | None = None) -> Weights:
    """Weights from config.json's `scoring` object, read through `forewarn.config` (a bad value
    falls back to its default there and is reported by `forewarn config show`)."""
    from forewarn.config import load_config

    return load_config(home).scoring


def score(f: Finding, w: Weights | None = None) -> tuple[int, float]:
    w = w or Weights()
    p = w.basePriority
    if f.sessions >= 2:
        p += w.multiSessionBonus
    if f.projects >= 2:
        p += w.multiProjectBonus
    if f.hang:
        p += w.hangTimeoutBonus
    if f.data_loss:
        p += w.dataLossBonus
    if f.user_corrected:
        p += w.userCorrectionBonus
    if f.fix_confirmed:
        p += w.fixConfirmedBonus
    if f.occurrences <= 1:
        p += w.singleOccurrencePenalty
    c = w.baseConfidence
    if f.fix_confirmed:
        c += w.pairConfidence
    if f.user_corrected:
        c += w.userCorrectionConfidence
    if f.sessions >= 2:
        c += w.multiSessionConfidence
    if f.projects >= 2:
        c += w.multiProjectConfidence
    if f.causal:
        c += w.causalConfidence
    return max(1, min(10, int(p))), round(max(0.0, min(1.0, c)), 2)
