"""Synthetic city: every source kind of the reference templates plus the ground truth.

``generate(out, persons, days, seed)`` writes a delivery folder that ingestion reads like
any department's delivery, and ``out/truth/`` that tests and accuracy reports compare
against. Deterministic for a seed.
"""

from epicenter.synth.generator import generate

__all__ = ["generate"]
