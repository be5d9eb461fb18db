"""Published phone/board CPU latencies of the reference architectures, and which of them calibrate.

Every row: the source's table, the runtime family (one build of one runtime, timed one way), device,
threads on the fastest cores, precision, the reference model and the published milliseconds. Sources
(read in the stored snapshots; /work/shared/design/latency-anchors.md lists them):

- ``xnnpack-android``: google/XNNPACK README, "Mobile phones" (end2end_bench, NDK r21, 2020-03-27),
  single-threaded and "as many threads as there are big cores".
- ``xnnpack-rpi4``: same README, "Raspberry Pi", the RPi 4 ARM64 column (4 threads, 2022-02-08).
- ``tflite-slim``: tensorflow/models research/slim/nets/mobilenet/README.md, MobileNetV3 tables ("measured
  on large core": one thread) and the MobileNetV2 table's 1.0_224 Pixel 1 row.
- ``tflite-lite``: tensorflow/tpu efficientnet/lite/README.md (Pixel 4, 4 CPU threads).
- ``paddle-lite``: PaddlePaddle/Paddle-Lite docs/performance/benchmark.md, release/v2.11, ARMv8 CPU
  tables (1 thread bound to a big core, mean of 600 runs), fp32 and int8.

Calibration rule (``CALIBRATION_MODELS``): per family, the rows of one model calibrate and every row of
every other model is held out. The calibration model is chosen by what the source offers, never by
error: MobileNet v1 where the table has it (it is not one of the architectures the validation reports),
otherwise a sibling the source times beside the reported ones (V3-Large minimalistic; EfficientNet-Lite2,
the middle of the Lite0..4 range). So a held-out row's model was never seen by the fit in its family.
"""
from __future__ import annotations

from dataclasses import dataclass

CALIBRATE, HELD_OUT = "calibrate", "held-out"

FAMILY_FORMAT = {  # the host artifact that stands for each runtime family
    "xnnpack-android": "pte", "xnnpack-rpi4": "pte", "paddle-lite": "pte",
    "tflite-slim": "tflite", "tflite-lite": "tflite",
}
CALIBRATION_MODELS: dict[str, frozenset[str]] = {
    "xnnpack-android": frozenset({"mobilenet_v1"}),
    "xnnpack-rpi4": frozenset({"mobilenet_v1"}),
    "paddle-lite": frozenset({"mobilenet_v1"}),
    "tflite-slim": frozenset({"mobilenet_v3_large_min"}),
    "tflite-lite": frozenset({"efficientnet_lite2"}),
}


@dataclass(frozen=True)
class PublishedRow:
    family: str
    device: str  # a key of bench.estimate_devices.DEVICES
    threads: int
    precision: str  # fp32 | int8
    model: str  # a key of bench.reference_models.REFERENCE_MODELS
    ms: float
    source: str

    @property
    def key(self) -> str:
        return f"{self.family}/{self.device}/{self.threads}t/{self.precision}/{self.model}"

    @property
    def role(self) -> str:
        return CALIBRATE if self.model in CALIBRATION_MODELS[self.family] else HELD_OUT

    @property
    def fmt(self) -> str:
        return FAMILY_FORMAT[self.family]


def _grid(family: str, source: str, precision: str, threads: dict[str, int], devices: tuple[str, ...],
          table: dict[str, tuple[float, ...]]) -> list[PublishedRow]:
    return [PublishedRow(family, dev, threads[dev], precision, model, ms, source)
            for model, row in table.items() for dev, ms in zip(devices, row)]


_X = "google/XNNPACK:README.md"
_PIXELS = ("pixel", "pixel2", "pixel3a")
_BIG_CORES = {"pixel": 2, "pixel2": 4, "pixel3a": 2}
_XNN_1T = {"mobilenet_v1": (82, 86, 88), "mobilenet_v2": (49, 53, 55), "mobilenet_v3_large": (39, 42, 44),
           "mobilenet_v3_small": (12, 14, 14)}
_XNN_MT = {"mobilenet_v1": (43, 27, 46), "mobilenet_v2": (26, 18, 28), "mobilenet_v3_large": (22, 16, 24),
           "mobilenet_v3_small": (7, 6, 8)}
_RPI = {"fp32": {"mobilenet_v1": (77,), "mobilenet_v2": (46,), "mobilenet_v3_large": (40,), "mobilenet_v3_small": (15,)},
        "int8": {"mobilenet_v1": (24,), "mobilenet_v2": (17,)}}

_S = "tensorflow/models:research/slim/nets/mobilenet/README.md"
_SLIM_DEVICES = ("pixel", "pixel2", "pixel3")
_SLIM = {"fp32": {"mobilenet_v3_large": (51.2, 61, 44), "mobilenet_v3_large_min": (44.1, 51, 35),
                  "mobilenet_v3_small": (15.8, 19.4, 14.4)},
         "int8": {"mobilenet_v3_large": (44, 42.5, 32), "mobilenet_v3_large_min": (37, 35, 27),
                  "mobilenet_v3_small": (15.5, 15, 10.7)}}

_L = "tensorflow/tpu:models/official/efficientnet/lite/README.md"
_LITE = {"fp32": (12, 18, 26, 41, 76), "int8": (6.5, 9.1, 12, 18, 30)}

_P = "PaddlePaddle/Paddle-Lite:docs/performance/benchmark.md (release/v2.11, ARMv8)"
_PADDLE_DEVICES = ("sd865", "sd855", "sd845", "sd835", "sd625", "kirin990", "kirin980", "rk3399")
_PADDLE = {
    "fp32": {"mobilenet_v1": (28.38, 29.04, 58.70, 82.48, 143.64, 38.22, 32.50, 103.39),
             "mobilenet_v2": (18.52, 19.37, 37.61, 53.47, 106.17, 24.93, 22.07, 73.37),
             "mobilenet_v3_large": (14.46, 15.59, 29.55, 41.74, 96.11, 19.38, 17.46, 63.34),
             "mobilenet_v3_small": (4.73, 5.39, 9.76, 13.45, 39.08, 6.41, 5.85, 21.67),
             "resnet50": (160.97, 161.13, 339.59, 484.79, 831.62, 222.21, 190.38, 616.68)},
    "int8": {"mobilenet_v1": (11.18, 11.86, 44.12, 55.57, 117.41, 14.75, 13.58, 77.60),
             "mobilenet_v2": (10.37, 11.38, 33.45, 40.78, 83.47, 14.14, 12.94, 56.66),
             "mobilenet_v3_large": (8.03, 8.88, 24.32, 30.57, 66.76, 10.41, 9.57, 46.66),
             "mobilenet_v3_small": (2.89, 3.29, 8.41, 10.86, 22.83, 4.23, 3.90, 15.83),
             "resnet50": (64.50, 66.81, 263.17, 331.76, 690.01, 82.07, 74.52, 473.00)},
}


def _rows() -> tuple[PublishedRow, ...]:
    one = dict.fromkeys(_PIXELS + ("pixel3",), 1)
    rows = [*_grid("xnnpack-android", _X + " (single-threaded)", "fp32", one, _PIXELS, _XNN_1T),
            *_grid("xnnpack-android", _X + " (big cores)", "fp32", _BIG_CORES, _PIXELS, _XNN_MT)]
    for prec, table in _RPI.items():
        rows += _grid("xnnpack-rpi4", _X + " (RPi 4 ARM64)", prec, {"rpi4": 4}, ("rpi4",), table)
    for prec, table in _SLIM.items():
        rows += _grid("tflite-slim", _S + " (large core)", prec, one, _SLIM_DEVICES, table)
    rows.append(PublishedRow("tflite-slim", "pixel", 1, "fp32", "mobilenet_v2", 73.8, _S + " (V2 table)"))
    for prec, times in _LITE.items():
        rows += [PublishedRow("tflite-lite", "pixel4", 4, prec, f"efficientnet_lite{i}", ms, _L)
                 for i, ms in enumerate(times)]
    single = dict.fromkeys(_PADDLE_DEVICES, 1)
    for prec, table in _PADDLE.items():
        rows += _grid("paddle-lite", _P, prec, single, _PADDLE_DEVICES, table)
    return tuple(rows)


PUBLISHED_ROWS: tuple[PublishedRow, ...] = _rows()


def calibration_rows(rows: tuple[PublishedRow, ...] = PUBLISHED_ROWS) -> tuple[PublishedRow, ...]:
    return tuple(r for r in rows if r.role == CALIBRATE)


def held_out_rows(rows: tuple[PublishedRow, ...] = PUBLISHED_ROWS) -> tuple[PublishedRow, ...]:
    return tuple(r for r in rows if r.role == HELD_OUT)
