"""DTFSal-S's registry entry: configs, the streaming I/O contract, objective, int8 float modules, samples."""
from __future__ import annotations

import torch

from edgeav.audio import LogMelFrontEnd
from edgeav.data.saliency import SaliencyConfig, SaliencyWindows, SyntheticSaliencyClips
from edgeav.models.dtfsal_s.configs import CONFIGS, DTFSalSConfig
from edgeav.models.dtfsal_s.model import DTFSalS
from edgeav.models.dtfsal_s.objective import DTFSAL_S_OBJECTIVE
from edgeav.models.dtfsal_s.samples import StreamingSamples, dtfsal_s_dataset
from edgeav.registry import ModelEntry, PaperFigures, register
from edgeav.specs import IOSpec, TensorSpec

READING = (
    "saliency [1,1,H,W] is the gaze density of this frame in [0, 1] (sigmoid): stretch it min-max per frame for "
    "display, or divide by its sum for a probability map. Feed next_context back as context on the next frame "
    "(zeros on the first frame of a stream); feed frames at the config's fps with the last audio_samples of audio."
)


def dtfsal_s_io_spec(cfg: DTFSalSConfig) -> IOSpec:
    h, w = cfg.frame_size
    state = cfg.state_shape
    seconds = cfg.audio_samples / cfg.sample_rate
    return IOSpec(
        inputs=(
            TensorSpec("frames", (1, 3, h, w), "float32", "NCHW, RGB", (0.0, 1.0),
                       "the newest video frame resized to the model size; ImageNet normalisation happens in-graph"),
            TensorSpec("audio", (1, cfg.audio_samples), "float32", "N, samples (mono PCM)", (-1.0, 1.0),
                       f"the last {seconds:g} s of audio at {cfg.sample_rate} Hz, ending at this frame; log-mel in-graph"),
            TensorSpec("context", state, "float32", "N, (K-1)·C, H/32, W/32", None,
                       f"stride-32 features of the previous {cfg.history - 1} frames (oldest first): the last call's "
                       "next_context, zeros for the first frame"),
        ),
        outputs=(
            TensorSpec("saliency", (1, 1, h, w), "float32", "NCHW", (0.0, 1.0), "saliency map of this frame"),
            TensorSpec("next_context", state, "float32", "N, (K-1)·C, H/32, W/32", None, "the context for the next frame"),
        ),
        output_reading=READING,
        sample_rate=cfg.sample_rate,
        samples_per_frame=int(round(cfg.sample_rate / cfg.fps)),
        audio_window="trailing",  # the window ends at the frame (SaliencyWindows): what a live app has
    )


def dtfsal_s_samples(cfg: DTFSalSConfig, n: int, seed: int) -> list[tuple[torch.Tensor, ...]]:
    """Realistic graph inputs from synthetic AV saliency clips: a frame, its audio, and the state a seeded
    model leaves after the previous frames (so the state input carries feature-like values, not zeros)."""
    fps = cfg.fps
    frames_needed = max(cfg.history, int(-(-cfg.audio_samples * fps // cfg.sample_rate)))
    clips = SyntheticSaliencyClips(SaliencyConfig(frame_size=cfg.frame_size, fps=fps, frames_per_clip=frames_needed,
                                                  sample_rate=cfg.sample_rate), size=n, seed=seed)
    windows = SaliencyWindows(clips, frames=cfg.history, audio_samples=cfg.audio_samples)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = DTFSalS(cfg).eval()
    stream = StreamingSamples(windows, cfg, model)
    out = []
    for i in range(n):
        item = stream[i * len(windows) // n]
        out.append((item["frames"][None], item["audio"][None], item["context"][None]))
    return out


register(
    ModelEntry(
        name="dtfsal-s",
        task="saliency",
        summary="DTFSal student: MobileNetV2 per frame, cached stride-32 context, FiLM + audio-visual correspondence gates, 2-D side-map decoder",
        builder=DTFSalS,
        configs=CONFIGS,
        io_spec=dtfsal_s_io_spec,
        samples=dtfsal_s_samples,
        paper=PaperFigures(
            gflops_input="224×384 frame + 1 s of audio (one output map)",
            source="design budget (shared/design/students.md A2): ≤ 3 GFLOPs per map, ≤ 6 M params",
            flops_excludes=("audio.logmel",),
        ),
        objective=DTFSAL_S_OBJECTIVE,
        dataset=dtfsal_s_dataset,
        # The log-mel power spans ~1e-10 … 6.5e4 before its log: no one per-tensor int8 scale holds it.
        float_modules=(LogMelFrontEnd,),
    )
)
