"""Drawing the synthetic world: textured cluttered backgrounds and textured, shaded, posed objects.

Objects are drawn as implicit shapes in their own rotated, scaled frame (``u``, ``v``; the shape fills
``gauge <= 1``), only inside their bounding box, with one pixel of anti-aliasing. An optional id buffer
records which object is visible at each pixel, which gives exact visible (occlusion-aware) masks.
The "activity cue" is a ripple of the outline (``ripple`` > 0): an object that is making a sound
vibrates, the way a playing instrument or a talking face moves.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from edgeav.data.categories import SHAPES, TEXTURES

RIPPLE_LOBES = 14


@dataclass
class Pose:
    """Where an object is in one frame; lengths in pixels, angle in radians."""

    cx: float
    cy: float
    radius: float
    angle: float
    aspect: float = 1.0


@dataclass
class Look:
    """What one object instance looks like (its category's look with per-instance jitter)."""

    shape: str
    colour: np.ndarray
    secondary: np.ndarray
    texture: str
    texture_frequency: float
    texture_phase: float = 0.0
    light: tuple[float, float] = (0.0, 0.0)


def _gauge(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    au, av = np.abs(u), np.abs(v)
    if shape == "disc":
        return np.hypot(u, v)
    if shape == "square":
        return np.maximum(au, av) * 1.12
    if shape == "diamond":
        return au + av / 0.55
    if shape == "triangle":
        c, s = math.cos(math.pi / 6), 0.5
        return np.maximum(np.maximum(v, c * u - s * v), -c * u - s * v) / 0.62
    if shape == "hexagon":
        c = math.sqrt(3) / 2
        return np.maximum(np.maximum(au, np.abs(0.5 * u + c * v)), np.abs(-0.5 * u + c * v)) / 0.92
    if shape == "star":
        phi = np.arctan2(v, u)
        return np.hypot(u, v) / (0.48 + 0.62 * ((1 + np.cos(5 * phi)) / 2) ** 2)
    if shape == "cross":
        return np.minimum(np.maximum(au, av / 0.34), np.maximum(au / 0.34, av))
    # holes: a second gauge that exceeds 1 inside the hole, combined with max() so edges stay sharp
    if shape == "ring":
        rho = np.hypot(u, v)
        return np.maximum(rho, 1.0 + (0.58 - rho) * 4)
    if shape == "crescent":
        return np.maximum(np.hypot(u, v), 1.0 + (0.82 - np.hypot(u - 0.5, v)) * 4)
    raise ValueError(f"unknown shape {shape!r}; one of {SHAPES}")


def _pattern(look: Look, u: np.ndarray, v: np.ndarray) -> np.ndarray | None:
    f, ph = look.texture_frequency, look.texture_phase
    if look.texture == "plain":
        return None
    if look.texture == "striped":
        return np.sin(2 * np.pi * f * u + ph) > 0
    if look.texture == "checked":
        return np.sin(np.pi * f * u + ph) * np.sin(np.pi * f * v + ph) > 0
    if look.texture == "dotted":
        fu, fv = np.mod(f * u + ph, 1.0) - 0.5, np.mod(f * v, 1.0) - 0.5
        return fu * fu + fv * fv < 0.07
    raise ValueError(f"unknown texture {look.texture!r}; one of {TEXTURES}")


def draw(
    canvas: np.ndarray,
    pose: Pose,
    look: Look,
    *,
    ripple: float = 0.0,
    ripple_phase: float = 0.0,
    ids: np.ndarray | None = None,
    object_id: int = 0,
) -> None:
    """Draw one object onto ``canvas`` [3, H, W] in place; write ``object_id`` into ``ids`` where it is visible."""
    # Python floats only below: NumPy scalars would silently promote the float32 maths to float64.
    # Channels-first throughout: a trailing axis of 3 makes every NumPy inner loop three elements long.
    h, w = canvas.shape[1:]
    cx, cy, radius, aspect = float(pose.cx), float(pose.cy), float(pose.radius), float(pose.aspect)
    ext = radius * max(aspect, 1.0 / aspect) * 1.3 * (1.0 + ripple) + 2.0
    x0, x1 = max(0, int(cx - ext)), min(w, int(cx + ext) + 1)
    y0, y1 = max(0, int(cy - ext)), min(h, int(cy + ext) + 1)
    if x0 >= x1 or y0 >= y1:
        return
    dx = (np.arange(x0, x1, dtype=np.float32) + (0.5 - cx))[None, :]
    dy = (np.arange(y0, y1, dtype=np.float32) + (0.5 - cy))[:, None]
    c, s = math.cos(pose.angle), math.sin(pose.angle)
    u = (dx * c + dy * s) * (1.0 / (radius * aspect))
    v = (dy * c - dx * s) * (aspect / radius)
    g = _gauge(look.shape, u, v)
    if ripple > 0:
        g = g / (1.0 + float(ripple) * np.sin(RIPPLE_LOBES * np.arctan2(v, u) + float(ripple_phase)))
    # one pixel of anti-aliasing: g changes by about 1/radius per pixel near the edge
    alpha = np.clip(0.5 + (1.0 - g) * radius, 0.0, 1.0)
    if not (alpha > 0).any():
        return
    lx, ly = float(look.light[0]), float(look.light[1])
    shade = 1.08 - 0.3 * np.minimum(g, 1.0) ** 2 + 0.12 * (u * lx + v * ly)
    base = look.colour.reshape(3, 1, 1)
    pattern = _pattern(look, u, v)
    if pattern is None:
        pixels = base * shade
    else:
        pixels = (base + pattern * (look.secondary.reshape(3, 1, 1) - base)) * shade
    np.minimum(pixels, 1.0, out=pixels)
    region = canvas[:, y0:y1, x0:x1]
    region += alpha * (pixels - region)
    if ids is not None:
        ids[y0:y1, x0:x1][alpha >= 0.5] = object_id


@functools.lru_cache(maxsize=32)
def _interp_weights(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pos = np.linspace(0.0, n_in - 1.0, n_out)
    lo = np.floor(pos).astype(np.intp)
    return lo, np.minimum(lo + 1, n_in - 1), (pos - lo).astype(np.float32)


def upsample(small: np.ndarray, h: int, w: int) -> np.ndarray:
    """Bilinear upsampling of a [C, h', w'] field to [C, h, w].

    Gathers and lerps rather than matrix products: multi-threaded BLAS on tiny matrices is slower, and
    much slower on a busy machine or inside DataLoader workers."""
    small = small.astype(np.float32)
    lo, hi, frac = _interp_weights(h, small.shape[1])
    tall = small[:, lo, :] + frac[:, None] * (small[:, hi, :] - small[:, lo, :])
    lo, hi, frac = _interp_weights(w, small.shape[2])
    return tall[:, :, lo] + frac * (tall[:, :, hi] - tall[:, :, lo])


def random_look(rng: np.random.Generator, muted: bool) -> Look:
    """A look that belongs to no category (for clutter)."""
    colour = rng.uniform(0.1, 0.9, 3)
    if muted:
        colour = 0.5 * colour + 0.5 * colour.mean()
    return Look(
        shape=SHAPES[int(rng.integers(len(SHAPES)))],
        colour=colour.astype(np.float32),
        secondary=np.clip(colour * rng.uniform(0.5, 1.4), 0, 1).astype(np.float32),
        texture=TEXTURES[int(rng.integers(len(TEXTURES)))],
        texture_frequency=float(rng.uniform(1.0, 3.0)),
        texture_phase=float(rng.uniform(0, 2 * np.pi)),
    )


def render_background(h: int, w: int, rng: np.random.Generator, clutter: tuple[int, int]) -> np.ndarray:
    """A textured, cluttered backdrop [3, h, w] float32 in [0, 1]: colour fields, a ground plane, gratings, clutter."""
    base = rng.uniform(0.25, 0.75, 3)
    base = (0.6 * base + 0.4 * base.mean()).reshape(3, 1, 1)
    # coarse and fine fields, mostly in brightness with a little colour
    coarse = rng.normal(0, 0.11, (1, 4, 4)) + rng.normal(0, 0.05, (3, 4, 4))
    fine = rng.normal(0, 0.05, (1, 20, 20)) + rng.normal(0, 0.025, (3, 20, 20))
    bg = upsample(base + coarse, h, w) + upsample(fine, h, w)
    yy = np.arange(h, dtype=np.float32)[:, None]
    xx = np.arange(w, dtype=np.float32)[None, :]
    if rng.random() < 0.65:  # a ground plane with its own tint and a receding grating
        horizon = float(rng.uniform(0.45, 0.8)) * h
        edge = horizon + 6.0 * np.sin(xx * float(rng.uniform(2, 8) / w))
        tint = rng.normal(0, 0.12, (3, 1, 1)).astype(np.float32)
        depth = np.maximum(yy - horizon, 0.0) ** 1.3
        stripes = 0.045 * np.sin(depth * float(2 * np.pi / rng.uniform(30, 90)))
        bg = np.where(yy > edge, bg + tint + stripes, bg)
    theta, period = float(rng.uniform(0, np.pi)), float(rng.uniform(6, 24))
    grating = np.sin((xx * math.cos(theta) + yy * math.sin(theta)) * (2 * math.pi / period))
    bg += float(rng.uniform(0.0, 0.05)) * grating
    np.clip(bg, 0.0, 1.0, out=bg)
    size = min(h, w)
    for _ in range(int(rng.integers(clutter[0], clutter[1] + 1))):
        pose = Pose(
            cx=float(rng.uniform(0, w)),
            cy=float(rng.uniform(0, h)),
            radius=float(rng.uniform(0.02, 0.07) * size),
            angle=float(rng.uniform(0, 2 * np.pi)),
            aspect=float(rng.uniform(0.6, 1.6)),
        )
        draw(bg, pose, random_look(rng, muted=True))
    return bg
