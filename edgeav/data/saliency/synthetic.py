"""Synthetic audio-visual saliency: short videos with moving, sometimes sounding objects, watched by
virtual observers; and still images with fixations.

Observer model (documented in docs/data.md). The sound decides where people look: every clip shows
``objects`` moving objects of different categories, and at any moment at most one of them sounds (segments
of ``sound_segment_s`` seconds, each given to one object at random, or to nobody with probability
``silence_prob``). A sounding object looks exactly like a silent one (``activity_cue`` off: no ripple), and
speeds are drawn independently of sound, so only the audio's category tells which object it is.

In every frame each of ``observers`` virtual observers makes one fixation. With probability ``dwell`` an
observer keeps looking at what it looked at in the previous frame (the point follows the object), except
at a sound change (an onset, offset or switch of source), which captures every observer's attention:
all of them pick a new target in that frame. A new target is:

* the sounding object, with weight ``w_sound`` (given to the other causes when nothing sounds);
* a moving object, with weight ``w_motion``, chosen in proportion to its speed;
* the centre of the screen, with weight ``w_centre``: a Gaussian of ``centre_sigma`` × frame size;
* anywhere, with weight ``w_noise``: uniform over the frame.

A fixation on an object lands at its centre plus Gaussian scatter of 0.35 × its radius, and every
fixation gets oculomotor noise of ``fixation_noise`` × the frame diagonal. The fixation map marks the
fixated pixels; the saliency map is the sum of Gaussians of ``blur_sigma`` × the frame width at the
fixations, divided by its maximum (like the eyeMap images of DIEM/Coutrot/AVAD/ETMD/SumMe).

Still images use the same scenes without sound: targets are objects in proportion to their area and
colour contrast with the background (weight ``w_sound + w_motion``), plus centre and noise; each
observer makes ``image_fixations`` fixations.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from edgeav.data.categories import category_bank
from edgeav.data.clips import SaliencyClip, SaliencyImage
from edgeav.data.render import Look, Pose, draw, render_background
from edgeav.data.sounds import ambient_noise, frame_gate, mix, synthesize
from edgeav.errors import UsageError


@dataclass(frozen=True)
class SaliencyConfig:
    frame_size: tuple[int, int] = (224, 384)  # (height, width)
    fps: float = 10.0
    frames_per_clip: int = 24
    sample_rate: int = 16000
    num_categories: int = 23
    objects: tuple[int, int] = (3, 4)  # moving objects per clip, distinct categories
    static_fraction: float = 0.0  # share of objects that stand still (0: "several moving things")
    sound_segment_s: tuple[float, float] = (1.0, 3.0)  # one source (or silence) per segment
    silence_prob: float = 0.15
    activity_cue: bool = False  # True: sounding objects ripple, so vision alone could find them
    observers: int = 16
    dwell: float = 0.7
    w_sound: float = 0.6
    w_motion: float = 0.15
    w_centre: float = 0.15
    w_noise: float = 0.1
    centre_sigma: float = 0.2
    fixation_noise: float = 0.01
    blur_sigma: float = 0.03
    snr_db: tuple[float, float] = (5.0, 20.0)
    image_fixations: int = 3
    labelled: bool = True  # False: clips say their maps are withheld (teacher-only distillation data)
    world_seed: int = 0

    def __post_init__(self) -> None:
        weights = (self.w_sound, self.w_motion, self.w_centre, self.w_noise)
        if min(weights) < 0 or sum(weights) <= 0:
            raise UsageError("observer weights must be non-negative and not all zero")
        if self.frames_per_clip < 1 or self.observers < 1 or min(self.frame_size) < 32:
            raise UsageError("frames_per_clip and observers must be >= 1 and frames at least 32 px")
        if not 1 <= self.objects[0] <= self.objects[1] or self.objects[1] > self.num_categories:
            raise UsageError(f"objects {self.objects} must satisfy 1 <= lo <= hi <= num_categories ({self.num_categories})")
        for name in ("static_fraction", "silence_prob", "dwell"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise UsageError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if not 0 < self.sound_segment_s[0] <= self.sound_segment_s[1]:
            raise UsageError(f"sound_segment_s {self.sound_segment_s} must satisfy 0 < lo <= hi (seconds)")

    @property
    def samples_per_frame(self) -> int:
        return int(round(self.sample_rate / self.fps))


def _gaussian_maps(points: np.ndarray, h: int, w: int, sigma: float) -> np.ndarray:
    """[h, w] sum of isotropic Gaussians at ``points`` [K, 2] (y, x), max-normalised."""
    if len(points) == 0:
        return np.zeros((h, w), dtype=np.float32)
    gy = np.exp(-0.5 * ((np.arange(h)[:, None] - points[None, :, 0]) / sigma) ** 2)  # [h, K]
    gx = np.exp(-0.5 * ((np.arange(w)[:, None] - points[None, :, 1]) / sigma) ** 2)  # [w, K]
    m = np.einsum("hk,wk->hw", gy, gx)
    return (m / m.max()).astype(np.float32)


def _fixation_map(points: np.ndarray, h: int, w: int) -> np.ndarray:
    fix = np.zeros((h, w), dtype=np.float32)
    if len(points):
        ys = np.clip(np.round(points[:, 0]), 0, h - 1).astype(int)
        xs = np.clip(np.round(points[:, 1]), 0, w - 1).astype(int)
        fix[ys, xs] = 1.0
    return fix


class _World:
    """Shared scene machinery of the saliency generators: objects, their motion and looks."""

    def __init__(self, config: SaliencyConfig, seed: int, salt: int) -> None:
        self.config, self.seed, self.salt = config, seed, salt
        self.categories = category_bank(config.num_categories, config.world_seed)

    def rng(self, index: int, count: int) -> np.random.Generator:
        if not 0 <= index < count:
            raise IndexError(f"item {index} out of range 0..{count - 1}")
        return np.random.default_rng([self.seed, index, self.salt])

    def objects(self, rng: np.random.Generator, frames: int) -> list[dict]:
        cfg = self.config
        h, w = cfg.frame_size
        size = min(h, w)
        out = []
        for cat in rng.choice(cfg.num_categories, int(rng.integers(cfg.objects[0], cfg.objects[1] + 1)), replace=False):
            c = self.categories[int(cat)]
            radius = float(rng.uniform(0.08, 0.16) * size)
            start = np.array([rng.uniform(radius, h - radius), rng.uniform(radius, w - radius)])
            moving = rng.random() >= cfg.static_fraction
            speed = float(rng.uniform(0.5, 4.0)) if moving else 0.0  # px per frame
            heading = rng.uniform(0, 2 * np.pi)
            vel = speed * np.array([np.sin(heading), np.cos(heading)])
            path = start + vel * np.arange(frames)[:, None]
            # bounce off the frame edges so objects stay in view
            for axis, limit in ((0, h), (1, w)):
                span = limit - 2 * radius
                p = np.mod(path[:, axis] - radius, 2 * span)
                path[:, axis] = radius + np.where(p > span, 2 * span - p, p)
            look = Look(
                shape=c.shape,
                colour=np.array(c.colour, dtype=np.float32),
                secondary=np.array(c.secondary, dtype=np.float32),
                texture=c.texture,
                texture_frequency=c.texture_frequency,
                texture_phase=float(rng.uniform(0, 6.3)),
                light=(float(rng.normal()), float(rng.normal())),
            )
            out.append({"category": int(cat), "radius": radius, "path": path, "speed": speed, "look": look,
                        "angle": float(rng.uniform(0, 6.3)), "spin": float(rng.normal(0, 0.03))})
        return out

    def render(self, rng: np.random.Generator, objects: list[dict], frames: int, active: np.ndarray | None) -> np.ndarray:
        """[T, 3, H, W] frames; ``active`` [N, T] marks sounding objects (drawn with the activity ripple)."""
        h, w = self.config.frame_size
        bg = render_background(h, w, rng, (6, 14))
        video = np.empty((frames, 3, h, w), dtype=np.float32)
        for f in range(frames):
            canvas = bg.copy()
            for k, obj in enumerate(objects):
                pose = Pose(cx=float(obj["path"][f, 1]), cy=float(obj["path"][f, 0]), radius=obj["radius"],
                            angle=obj["angle"] + obj["spin"] * f)
                ripple = 0.09 if self.config.activity_cue and active is not None and active[k, f] else 0.0
                draw(canvas, pose, obj["look"], ripple=ripple, ripple_phase=1.7 * f)
            np.clip(canvas, 0.0, 1.0, out=video[f])
        return video

    def pick(
        self, rng: np.random.Generator, objects: list[dict], weights: np.ndarray, f: int
    ) -> tuple[np.ndarray, int]:
        """One fixation (y, x) drawn from target weights [objects..., centre, noise], and the target's index."""
        cfg = self.config
        h, w = cfg.frame_size
        k = int(rng.choice(len(weights), p=weights / weights.sum()))
        if k < len(objects):
            obj = objects[k]
            point = obj["path"][f] + rng.normal(0, 0.35 * obj["radius"], 2)
        elif k == len(objects):
            point = np.array([h / 2, w / 2]) + rng.normal(0, 1, 2) * cfg.centre_sigma * np.array([h, w])
        else:
            point = rng.uniform(0, 1, 2) * np.array([h, w])
        return point + rng.normal(0, cfg.fixation_noise * np.hypot(h, w), 2), k


class _SeededSaliencyDataset(torch.utils.data.Dataset):
    """``size`` items drawn from one :class:`_World` seeded by ``seed``; item ``i`` depends on (seed, i) only.

    Subclasses set ``salt`` so that clips and still images of the same seed are different draws.
    """

    salt: int

    def __init__(self, config: SaliencyConfig | None = None, size: int = 100, seed: int = 0) -> None:
        self.config = config or SaliencyConfig()
        self.size, self.seed = size, seed
        self._world = _World(self.config, seed, salt=self.salt)

    def __len__(self) -> int:
        return self.size


class SyntheticSaliencyClips(_SeededSaliencyDataset):
    """``size`` synthetic audio-visual saliency clips; ``dataset[i]`` is a :class:`SaliencyClip`."""

    salt = 11

    @property
    def class_names(self) -> list[str]:
        """Category names, as ``meta["categories"]`` names a clip's objects (audio tagging's labels)."""
        return [c.name for c in self._world.categories]

    def _schedule(self, rng: np.random.Generator, n: int, frames: int) -> np.ndarray:
        """[n, T] bool: at most one source at a time, in segments of ``sound_segment_s`` seconds."""
        cfg = self.config
        on = np.zeros((n, frames), dtype=bool)
        f = 0
        while f < frames:
            length = max(1, int(round(rng.uniform(*cfg.sound_segment_s) * cfg.fps)))
            source = int(rng.integers(n))
            if rng.random() >= cfg.silence_prob:
                on[source, f : f + length] = True
            f += length
        return on

    def _observe(self, rng: np.random.Generator, objects: list[dict], sounding: np.ndarray) -> list[np.ndarray]:
        """Fixation points [observers, 2] (y, x) of every frame, following the observer model."""
        cfg, world = self.config, self._world
        h, w = cfg.frame_size
        speeds = np.array([o["speed"] for o in objects])
        targets: list[int | None] = [None] * cfg.observers
        points_per_frame = []
        for f in range(sounding.shape[1]):
            weights = np.zeros(len(objects) + 2)
            if sounding[:, f].any():
                weights[: len(objects)] += cfg.w_sound * sounding[:, f] / sounding[:, f].sum()
            if speeds.sum() > 0:
                weights[: len(objects)] += cfg.w_motion * speeds / speeds.sum()
            weights[-2], weights[-1] = cfg.w_centre, cfg.w_noise
            # a sound onset, offset or change of source captures everyone's attention: nobody dwells
            captured = f > 0 and not np.array_equal(sounding[:, f], sounding[:, f - 1])
            points = []
            for o in range(cfg.observers):
                target = targets[o]
                if not captured and target is not None and target < len(objects) and rng.random() < cfg.dwell:
                    obj = objects[target]
                    p = obj["path"][f] + rng.normal(0, 0.35 * obj["radius"], 2)
                else:
                    p, targets[o] = world.pick(rng, objects, weights, f)
                points.append(p)
            points_per_frame.append(np.clip(np.array(points), [0, 0], [h - 1, w - 1]).astype(np.float32))
        return points_per_frame

    def __getitem__(self, index: int) -> SaliencyClip:
        cfg, world = self.config, self._world
        rng = world.rng(index, self.size)
        t, (h, w) = cfg.frames_per_clip, cfg.frame_size
        objects = world.objects(rng, t)
        sounding = self._schedule(rng, len(objects), t)
        video = world.render(rng, objects, t, sounding)
        points_per_frame = self._observe(rng, objects, sounding)
        saliency = np.stack([_gaussian_maps(p, h, w, cfg.blur_sigma * w) for p in points_per_frame])[:, None]
        fixations = np.stack([_fixation_map(p, h, w) for p in points_per_frame])[:, None]
        audio = self._audio(rng, objects, sounding)
        meta = {
            "index": index,
            "seed": self.seed,
            "categories": [world.categories[o["category"]].name for o in objects],
            "sounding": sounding.tolist(),
            "points": points_per_frame,
            "labelled": cfg.labelled,
        }
        return SaliencyClip(
            frames=torch.from_numpy(video),
            audio=torch.from_numpy(audio),
            saliency=torch.from_numpy(saliency),
            fixations=torch.from_numpy(fixations),
            fps=cfg.fps,
            sample_rate=cfg.sample_rate,
            meta=meta,
        )

    def _audio(self, rng: np.random.Generator, objects: list[dict], sounding: np.ndarray) -> np.ndarray:
        cfg = self.config
        spf = cfg.samples_per_frame
        n = spf * cfg.frames_per_clip
        sources, gates = [], []
        for k, obj in enumerate(objects):
            if sounding[k].any():
                sources.append(synthesize(self._world.categories[obj["category"]].sound, n, cfg.sample_rate, rng))
                gates.append(frame_gate(sounding[k], spf, ramp=int(0.02 * cfg.sample_rate)))
        noise = ambient_noise(n, cfg.sample_rate, rng)
        if not sources:
            return (noise * np.float32(0.01)).astype(np.float32)
        return mix(sources, gates, noise, float(rng.uniform(*cfg.snr_db)), rng)


class SyntheticSaliencyImages(_SeededSaliencyDataset):
    """``size`` still images with fixations; ``dataset[i]`` is a :class:`SaliencyImage`."""

    salt = 13

    def __getitem__(self, index: int) -> SaliencyImage:
        cfg, world = self.config, self._world
        rng = world.rng(index, self.size)
        h, w = cfg.frame_size
        objects = world.objects(rng, 1)
        image = world.render(rng, objects, 1, None)[0]
        bg_mean = image.reshape(3, -1).mean(1)
        salience = np.array([o["radius"] ** 2 * (0.2 + np.abs(o["look"].colour - bg_mean).sum()) for o in objects])
        weights = np.concatenate([(cfg.w_sound + cfg.w_motion) * salience / salience.sum(), [cfg.w_centre, cfg.w_noise]])
        points = np.array([world.pick(rng, objects, weights, 0)[0] for _ in range(cfg.observers * cfg.image_fixations)])
        points = np.clip(points, [0, 0], [h - 1, w - 1]).astype(np.float32)
        return SaliencyImage(
            image=torch.from_numpy(image),
            points=torch.from_numpy(points),
            fixations=torch.from_numpy(_fixation_map(points, h, w))[None],
            saliency=torch.from_numpy(_gaussian_maps(points, h, w, cfg.blur_sigma * w))[None],
            meta={"index": index, "seed": self.seed, "categories": [world.categories[o["category"]].name for o in objects]},
        )
