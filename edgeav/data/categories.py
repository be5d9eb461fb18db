"""The synthetic world's object categories: what each looks like and what it sounds like.

A category is a (shape, colour) pair with a texture, plus a characteristic sound. The bank depends only
on ``num_categories`` and ``world_seed``, never on a dataset's seed, so train, val and test sets made with
different seeds share the same categories. Categories deliberately share shapes or colours with others,
so that vision alone has to look at the combination.

Sounds are spread so that categories stay apart in a 64-bin log-mel of 1 s at 16 kHz: seven families
(harmonic stacks, noise bands, amplitude-modulated tones, FM sirens, chirps, formant voices, impulse
trains) and, within a family, characteristic frequencies spaced evenly in log-frequency over the family's
range, plus per-category secondary parameters (modulation rates, timbre).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from edgeav.errors import UsageError

SHAPES = ("disc", "square", "triangle", "diamond", "hexagon", "star", "cross", "ring", "crescent")
COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.86, 0.16, 0.13),
    "orange": (0.96, 0.56, 0.10),
    "yellow": (0.95, 0.86, 0.16),
    "green": (0.20, 0.68, 0.24),
    "teal": (0.08, 0.62, 0.62),
    "blue": (0.16, 0.34, 0.86),
    "purple": (0.55, 0.24, 0.76),
    "pink": (0.96, 0.46, 0.72),
    "brown": (0.50, 0.31, 0.15),
    "white": (0.93, 0.93, 0.90),
}
TEXTURES = ("plain", "striped", "checked", "dotted")

# family -> (lowest, highest) characteristic frequency in Hz
SOUND_FAMILIES: dict[str, tuple[float, float]] = {
    "harmonic": (140.0, 1000.0),  # instrument-like notes, the frequency is f0
    "noise_band": (300.0, 5000.0),  # engines, wind: band-pass noise around the frequency
    "am_tone": (260.0, 2400.0),  # buzzing: a tone amplitude-modulated at 4-18 Hz
    "fm_siren": (380.0, 1900.0),  # sirens: a tone frequency-modulated at 0.5-3 Hz
    "chirp": (1100.0, 5200.0),  # birds: repeated sweeps
    "voice": (95.0, 330.0),  # speech / singing: glottal source through formants, f0 is the frequency
    "impulses": (450.0, 6000.0),  # taps, hooves, keyboards: decaying bursts in a band
}
MAX_CATEGORIES = len(SHAPES) * len(COLOURS)


@dataclass(frozen=True)
class SoundRecipe:
    """How one category sounds: a family, its characteristic frequency and family-specific parameters."""

    family: str
    frequency: float
    rate: float  # notes / modulation / sweeps / bursts per second
    timbre: float  # in [0, 1]: spectral tilt, band width, sweep direction, vowel... per family


@dataclass(frozen=True)
class Category:
    index: int
    name: str
    shape: str
    colour: tuple[float, float, float]
    secondary: tuple[float, float, float]  # second texture colour
    texture: str
    texture_frequency: float  # texture cycles per object radius
    sound: SoundRecipe


def _rate_range(family: str) -> tuple[float, float]:
    return {
        "harmonic": (1.5, 4.0),
        "noise_band": (0.3, 1.2),
        "am_tone": (4.0, 18.0),
        "fm_siren": (0.5, 3.0),
        "chirp": (2.0, 7.0),
        "voice": (3.0, 6.0),
        "impulses": (2.0, 12.0),
    }[family]


@functools.lru_cache(maxsize=16)
def category_bank(num_categories: int, world_seed: int = 0) -> tuple[Category, ...]:
    """The first ``num_categories`` categories of the world ``world_seed`` (same inputs, same bank)."""
    if not 1 <= num_categories <= MAX_CATEGORIES:
        raise UsageError(f"num_categories must be in 1..{MAX_CATEGORIES}, got {num_categories}")
    rng = np.random.default_rng([world_seed, 7919])
    pairs = [(s, c) for s in SHAPES for c in COLOURS]
    order = rng.permutation(len(pairs))
    families = list(SOUND_FAMILIES)
    family_order = rng.permutation(len(families))
    slots = math.ceil(num_categories / len(families))
    slot_order = [rng.permutation(slots) for _ in families]
    bank = []
    for i in range(num_categories):
        shape, colour_name = pairs[order[i]]
        texture = TEXTURES[int(rng.integers(len(TEXTURES)))]
        colour = np.array(COLOURS[colour_name])
        # the second texture colour: darker or lighter than the first, so the colour name stays true
        secondary = np.clip(colour * 0.45 if colour.mean() > 0.45 else colour * 0.5 + 0.5, 0, 1)
        fam_index = i % len(families)
        family = families[family_order[fam_index]]
        slot = slot_order[fam_index][i // len(families)]
        lo, hi = SOUND_FAMILIES[family]
        position = (slot + 0.5 + rng.uniform(-0.15, 0.15)) / slots
        frequency = lo * (hi / lo) ** position
        rlo, rhi = _rate_range(family)
        recipe = SoundRecipe(family, float(frequency), float(rng.uniform(rlo, rhi)), float(rng.uniform()))
        bank.append(
            Category(
                index=i,
                name=f"{colour_name}-{texture}-{shape}",
                shape=shape,
                colour=tuple(float(v) for v in colour),
                secondary=tuple(float(v) for v in secondary),
                texture=texture,
                texture_frequency=float(rng.uniform(1.3, 2.6)),
                sound=recipe,
            )
        )
    return tuple(bank)
