"""Synthetic audio-visual segmentation scenes (S4-, MS3- and AVSS-like), deterministic by seed.

A scene is a short clip (5 frames of 1 s by default) of several objects on a textured, cluttered
background. Each object belongs to a category with a look (shape, colour, texture) and a sound
(:mod:`edgeav.data.categories`). Some objects sound; the mask of a frame covers exactly the visible
pixels of the objects sounding in that frame. What makes the sound decide the target:

* **distractors**: silent objects of other categories are always present (``silent_objects``);
* **same-category twins**: in a fraction ``same_category_fraction`` of scenes a silent object of the
  same category as a sounding one is added; it is never in the mask, so knowing *which categories* sound
  is not enough;
* **activity cue**: an object that is sounding in a frame vibrates (its outline ripples); twins never
  do; each silent distractor also vibrates with probability ``decoy_activity_prob`` (a decoy), so that
  segmenting "whatever vibrates" is not enough either. The sounding categories (from audio) intersected
  with the activity cue (from vision) give the mask exactly;
* **intermittent sources** (MS3/AVSS): with probability ``intermittent_fraction`` a source falls silent
  for a run of frames, and leaves the mask for those frames.

Audio is the sum of the sounding objects' category sounds (±4 dB each) plus coloured noise at an SNR
drawn from ``snr_db``, at a random overall level. Scene ``i`` of ``SyntheticAVScenes(config, n, seed)``
depends only on (config, seed, i), so any index can be generated alone (DataLoader workers work).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from edgeav.data.categories import MAX_CATEGORIES, Category, category_bank
from edgeav.data.clips import AVClip
from edgeav.data.render import Look, Pose, draw, render_background
from edgeav.data.sounds import ambient_noise, frame_gate, mix, synthesize
from edgeav.errors import UsageError

KINDS = ("s4", "ms3", "avss")
# What distinguishes the kinds, as data: AVSBench S4 has one source, MS3 several; AVSS has 70 categories.
KIND_DEFAULTS: dict[str, dict[str, object]] = {
    "s4": {"num_categories": 23, "sounding_objects": (1, 1), "silent_objects": (1, 4), "intermittent_fraction": 0.0},
    "ms3": {"num_categories": 23, "sounding_objects": (2, 3), "silent_objects": (1, 3), "intermittent_fraction": 0.3},
    "avss": {"num_categories": 70, "sounding_objects": (1, 3), "silent_objects": (1, 3), "intermittent_fraction": 0.2},
}


@dataclass(frozen=True)
class SceneConfig:
    """Everything that shapes a synthetic AVS scene; fields left None take the kind's defaults."""

    kind: str = "s4"
    image_size: int = 224
    sample_rate: int = 16000
    seconds_per_frame: float = 1.0
    frames_per_clip: int = 5
    # None = the kind's default (KIND_DEFAULTS), so SceneConfig(kind="ms3") is MS3-like
    num_categories: int | None = None
    sounding_objects: tuple[int, int] | None = None  # inclusive range per scene
    silent_objects: tuple[int, int] | None = None  # inclusive range, twins included
    same_category_fraction: float = 0.35
    decoy_activity_prob: float = 0.5
    intermittent_fraction: float | None = None
    snr_db: tuple[float, float] = (0.0, 20.0)
    object_radius: tuple[float, float] = (0.12, 0.27)  # fraction of the image size
    max_speed: float = 0.02  # fraction of the image size per frame
    clutter: tuple[int, int] = (4, 10)
    ripple: float = 0.09  # outline ripple amplitude of the activity cue, fraction of the radius
    world_seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise UsageError(f"scene kind '{self.kind}' is unknown; choose one of {', '.join(KINDS)}")
        for name, value in KIND_DEFAULTS[self.kind].items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)  # frozen: fill the kind's default once
        if not 1 <= self.num_categories <= MAX_CATEGORIES:
            raise UsageError(f"num_categories must be in 1..{MAX_CATEGORIES}, got {self.num_categories}")
        lo, hi = self.sounding_objects
        if not 1 <= lo <= hi or hi > self.num_categories:
            raise UsageError(f"sounding_objects {self.sounding_objects} must satisfy 1 <= lo <= hi <= num_categories")
        if not 0 <= self.silent_objects[0] <= self.silent_objects[1]:
            raise UsageError(f"silent_objects {self.silent_objects} must satisfy 0 <= lo <= hi")
        for name in ("same_category_fraction", "decoy_activity_prob", "intermittent_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise UsageError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.image_size < 32 or self.frames_per_clip < 1:
            raise UsageError("image_size must be >= 32 and frames_per_clip >= 1")

    @property
    def samples_per_frame(self) -> int:
        return int(round(self.sample_rate * self.seconds_per_frame))


PRESETS: dict[str, SceneConfig] = {kind: SceneConfig(kind=kind) for kind in KINDS}


def scene_config(kind: str, **overrides) -> SceneConfig:
    """The preset for ``kind`` with some fields replaced, e.g. ``scene_config("ms3", image_size=128)``."""
    if kind not in PRESETS:
        raise UsageError(f"scene kind '{kind}' is unknown; choose one of {', '.join(PRESETS)}")
    return SceneConfig(kind=kind, **overrides)


@dataclass
class SceneObject:
    """One object of a scene and its state in every frame."""

    category: int
    role: str  # "source" | "twin" | "distractor"
    sounding: np.ndarray  # [T] bool
    active: np.ndarray  # [T] bool: shows the activity cue
    poses: list[Pose] = field(default_factory=list)


@dataclass
class RenderedScene:
    """A scene with instance-level truth (what the oracles and the AVClip are computed from)."""

    frames: np.ndarray  # [T, 3, H, W] float32
    instance_ids: np.ndarray  # [T, H, W] int16, -1 = background, else index into objects
    objects: list[SceneObject]
    audio: np.ndarray  # [T * samples_per_frame] float32
    snr_db: float

    def object_masks(self, select) -> np.ndarray:
        """[T, H, W] bool union of the objects for which ``select(obj, t)`` is true in frame t."""
        out = np.zeros(self.instance_ids.shape, dtype=bool)
        for k, obj in enumerate(self.objects):
            for t in range(out.shape[0]):
                if select(obj, t):
                    out[t] |= self.instance_ids[t] == k
        return out


def _place(rng: np.random.Generator, radii: list[float], size: int) -> list[tuple[float, float]]:
    """Centres with limited overlap (partial occlusion allowed, no object hidden)."""
    centres: list[tuple[float, float]] = []
    for r in radii:
        best, best_gap = None, -np.inf
        for _ in range(25):
            c = (float(rng.uniform(0.55 * r, size - 0.55 * r)), float(rng.uniform(0.55 * r, size - 0.55 * r)))
            gap = min((np.hypot(c[0] - o[0], c[1] - o[1]) - 0.75 * (r + ro) for o, ro in zip(centres, radii)), default=1)
            if gap > 0:
                best = c
                break
            if gap > best_gap:
                best, best_gap = c, gap
        centres.append(best)
    return centres


def _instance_look(cat: Category, rng: np.random.Generator) -> Look:
    jitter = np.exp(rng.normal(0, 0.08, 3))
    return Look(
        shape=cat.shape,
        colour=np.clip(np.array(cat.colour) * jitter, 0, 1).astype(np.float32),
        secondary=np.clip(np.array(cat.secondary) * jitter, 0, 1).astype(np.float32),
        texture=cat.texture,
        texture_frequency=cat.texture_frequency * float(rng.uniform(0.85, 1.15)),
        texture_phase=float(rng.uniform(0, 2 * np.pi)),
        light=(float(rng.normal(0, 1)), float(rng.normal(0, 1))),
    )


def _sounding_schedule(cfg: SceneConfig, n_sources: int, rng: np.random.Generator) -> np.ndarray:
    """[n_sources, T] bool: every source sounds in every frame unless made intermittent."""
    t = cfg.frames_per_clip
    on = np.ones((n_sources, t), dtype=bool)
    if t > 1:
        for k in range(n_sources):
            if rng.random() < cfg.intermittent_fraction:
                length = int(rng.integers(1, t))
                start = int(rng.integers(0, t - length + 1))
                on[k, start : start + length] = False
        for frame in np.flatnonzero(~on.any(0)):  # keep at least one source per frame
            on[int(rng.integers(n_sources)), frame] = True
    return on


class SyntheticAVScenes(torch.utils.data.Dataset):
    """``num_scenes`` synthetic clips; ``dataset[i]`` is an :class:`AVClip`, ``dataset.scene(i)`` the full truth."""

    def __init__(self, config: SceneConfig | None = None, num_scenes: int = 1000, seed: int = 0) -> None:
        if num_scenes < 0 or seed < 0:
            raise UsageError("num_scenes and seed must be non-negative")
        self.config = config or SceneConfig()
        self.num_scenes = num_scenes
        self.seed = seed
        self.categories = category_bank(self.config.num_categories, self.config.world_seed)

    @property
    def class_names(self) -> list[str]:
        """Category names; semantic index k (1-based) is ``class_names[k - 1]``."""
        return [c.name for c in self.categories]

    def __len__(self) -> int:
        return self.num_scenes

    def __getitem__(self, index: int) -> AVClip:
        return self.to_clip(self.scene(index), index)

    def _rng(self, index: int) -> np.random.Generator:
        if not 0 <= index < self.num_scenes:
            raise IndexError(f"scene {index} out of range 0..{self.num_scenes - 1}")
        return np.random.default_rng([self.seed, index, KINDS.index(self.config.kind)])

    def _cast(self, rng: np.random.Generator) -> list[SceneObject]:
        cfg, t = self.config, self.config.frames_per_clip
        n_src = int(rng.integers(cfg.sounding_objects[0], cfg.sounding_objects[1] + 1))
        src_cats = rng.choice(cfg.num_categories, n_src, replace=False)
        schedule = _sounding_schedule(cfg, n_src, rng)
        objects = [SceneObject(int(c), "source", schedule[k], schedule[k].copy()) for k, c in enumerate(src_cats)]
        n_silent = int(rng.integers(cfg.silent_objects[0], cfg.silent_objects[1] + 1))
        silent = np.zeros(t, dtype=bool)
        if n_silent > 0 and rng.random() < cfg.same_category_fraction:
            objects.append(SceneObject(int(rng.choice(src_cats)), "twin", silent.copy(), silent.copy()))
            n_silent -= 1
        others = np.setdiff1d(np.arange(cfg.num_categories), src_cats)
        if n_silent > 0 and others.size:
            for c in rng.choice(others, min(n_silent, others.size), replace=False):
                decoy = rng.random() < cfg.decoy_activity_prob
                objects.append(SceneObject(int(c), "distractor", silent.copy(), np.full(t, decoy)))
        return objects

    def scene(self, index: int) -> RenderedScene:
        """Render scene ``index`` with its per-object truth."""
        cfg, rng = self.config, self._rng(index)
        size, t = cfg.image_size, cfg.frames_per_clip
        objects = self._cast(rng)
        order = rng.permutation(len(objects))  # drawing (depth) order
        radii = [float(rng.uniform(*cfg.object_radius) * size) for _ in objects]
        centres = _place(rng, radii, size)
        background = render_background(size, size, rng, cfg.clutter)
        frames = np.empty((t, 3, size, size), dtype=np.float32)
        ids = np.full((t, size, size), -1, dtype=np.int16)
        looks = [_instance_look(self.categories[o.category], rng) for o in objects]
        for k, obj in enumerate(objects):
            vel = rng.normal(0, cfg.max_speed * size / 2, 2)
            spin, angle = float(rng.normal(0, 0.08)), float(rng.uniform(0, 2 * np.pi))
            aspect = float(np.exp(rng.uniform(-0.22, 0.22)))
            breathe = float(rng.uniform(0, 2 * np.pi))
            for f in range(t):
                obj.poses.append(
                    Pose(
                        cx=centres[k][0] + vel[0] * f,
                        cy=centres[k][1] + vel[1] * f,
                        radius=radii[k] * (1.0 + 0.04 * np.sin(breathe + f)),
                        angle=angle + spin * f,
                        aspect=aspect,
                    )
                )
        gains = np.exp(rng.normal(0, 0.04, t))
        # sensor noise: one field per scene, a different window of it per frame (cheaper than fresh noise)
        noise = rng.standard_normal((3, size + 16, size + 16), dtype=np.float32) * np.float32(0.012)
        shifts = rng.integers(0, 17, (t, 2))
        for f in range(t):
            canvas = background.copy()
            for k in order:
                obj = objects[k]
                ripple = cfg.ripple if obj.active[f] else 0.0
                draw(canvas, obj.poses[f], looks[k], ripple=ripple, ripple_phase=float(rng.uniform(0, 6.3)),
                     ids=ids[f], object_id=int(k))
            canvas *= float(gains[f])
            canvas += noise[:, shifts[f, 0] : shifts[f, 0] + size, shifts[f, 1] : shifts[f, 1] + size]
            np.clip(canvas, 0.0, 1.0, out=frames[f])
        audio, snr = self._audio(objects, rng)
        return RenderedScene(frames=frames, instance_ids=ids, objects=objects, audio=audio, snr_db=snr)

    def _audio(self, objects: list[SceneObject], rng: np.random.Generator) -> tuple[np.ndarray, float]:
        cfg = self.config
        spf = cfg.samples_per_frame
        n = spf * cfg.frames_per_clip
        sources, gates = [], []
        for obj in objects:
            if obj.role == "source":
                sources.append(synthesize(self.categories[obj.category].sound, n, cfg.sample_rate, rng))
                gates.append(frame_gate(obj.sounding, spf, ramp=int(0.03 * cfg.sample_rate)))
        snr = float(rng.uniform(*cfg.snr_db))
        return mix(sources, gates, ambient_noise(n, cfg.sample_rate, rng), snr, rng), snr

    def to_clip(self, scene: RenderedScene, index: int = -1) -> AVClip:
        """The model-facing view of a rendered scene."""
        cfg = self.config
        t = cfg.frames_per_clip
        masks = scene.object_masks(lambda o, f: bool(o.sounding[f]))
        semantic = None
        if cfg.kind == "avss":
            sem = np.zeros(scene.instance_ids.shape, dtype=np.int64)
            for k, obj in enumerate(scene.objects):
                for f in range(t):
                    if obj.sounding[f]:
                        sem[f][scene.instance_ids[f] == k] = obj.category + 1
            semantic = torch.from_numpy(sem)
        sounding = sorted({o.category for o in scene.objects if o.role == "source"})
        meta = {
            "kind": cfg.kind,
            "index": index,
            "seed": self.seed,
            "snr_db": scene.snr_db,
            "objects": [
                {"category": self.categories[o.category].name, "role": o.role,
                 "sounding": o.sounding.tolist(), "active": o.active.tolist()}
                for o in scene.objects
            ],
        }
        return AVClip(
            frames=torch.from_numpy(scene.frames),
            audio=torch.from_numpy(scene.audio.reshape(t, cfg.samples_per_frame)),
            masks=torch.from_numpy(masks[:, None].astype(np.float32)),
            category_names=[self.categories[c].name for c in sounding],
            meta=meta,
            semantic=semantic,
        )
