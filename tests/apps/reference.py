"""The demo apps' frame, audio and overlay arithmetic in numpy: the one definition the Kotlin core
(android_demo/core) and the Swift core (ios_demo/Sources/EdgeAVCore) reproduce, checked through the golden
vectors :mod:`tests.apps.golden` writes.

Every step is float32 in the order written here, so the cores can match to a few ULP:

* geometry: the sensor image (W×H) is rotated clockwise by ``rotation`` (CameraX's rotationDegrees), the
  largest centred crop of the model's aspect is taken, and it is resized to the model input with
  half-pixel-centre bilinear sampling (``align_corners=False``), edges clamped;
* colour: RGBA bytes / 255; YUV_420_888 through BT.601 full range (what camera JPEG-range YUV is), each of
  the four bilinear neighbours converted, clamped to [0, 255], then / 255;
* audio: a ring of the model's window, oldest sample first, silence until it is full; int16 / 32768;
* overlays (ARGB at the model's output size): threshold → MASK_ARGB where p > value; argmax → a colour per
  class (PASCAL VOC bit palette, background transparent); saliency → min-max, q = floor(v·255 + 0.5), jet.
"""
from __future__ import annotations

import numpy as np

F = np.float32
MASK_ARGB = 0x8C00E676  # the binary mask's overlay colour
OVERLAY_ALPHA = 0x8C  # class colours' alpha
SALIENCY_MAX_ALPHA = 200


def crop_box(width: int, height: int, rotation: int, out_w: int, out_h: int) -> tuple[int, int, int, int]:
    """(x0, y0, crop_w, crop_h) of the centred crop in the rotated image."""
    rw, rh = (height, width) if rotation in (90, 270) else (width, height)
    if rw * out_h > rh * out_w:
        cw, ch = rh * out_w // out_h, rh
    else:
        cw, ch = rw, rw * out_h // out_w
    return (rw - cw) // 2, (rh - ch) // 2, cw, ch


def to_sensor(x: np.ndarray, y: np.ndarray, width: int, height: int, rotation: int) -> tuple[np.ndarray, np.ndarray]:
    """Rotated-image pixel (x, y) → sensor pixel (u, v)."""
    if rotation == 0:
        return x, y
    if rotation == 90:
        return y, height - 1 - x
    if rotation == 180:
        return width - 1 - x, height - 1 - y
    if rotation == 270:
        return width - 1 - y, x
    raise ValueError(f"rotation {rotation} is not 0, 90, 180 or 270")


def _axis(n_out: int, n_crop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = ((np.arange(n_out, dtype=F) + F(0.5)) * F(n_crop)) / F(n_out) - F(0.5)
    s = np.clip(s, F(0), F(n_crop - 1))
    i0 = np.floor(s).astype(np.int64)
    return i0, np.minimum(i0 + 1, n_crop - 1), (s - i0.astype(F)).astype(F)


def resample(pixel, width: int, height: int, rotation: int, out_w: int, out_h: int) -> np.ndarray:
    """NCHW float32 [1, 3, out_h, out_w] from ``pixel(u, v) -> [..., 3] float32 in [0, 1]``."""
    x0, y0, cw, ch = crop_box(width, height, rotation, out_w, out_h)
    xa, xb, fx = _axis(out_w, cw)
    ya, yb, fy = _axis(out_h, ch)

    def at(xs, ys):
        gx, gy = np.meshgrid(xs + x0, ys + y0)
        return pixel(*to_sensor(gx, gy, width, height, rotation))

    fx3, fy3 = fx[None, :, None], fy[:, None, None]
    top = at(xa, ya) + (at(xb, ya) - at(xa, ya)) * fx3
    bottom = at(xa, yb) + (at(xb, yb) - at(xa, yb)) * fx3
    rgb = top + (bottom - top) * fy3
    return np.ascontiguousarray(rgb.transpose(2, 0, 1)[None]).astype(F)


def rgba_to_nchw(rgba: np.ndarray, rotation: int, out_w: int, out_h: int) -> np.ndarray:
    """``rgba`` [H, W, 4] uint8 → the model's frame tensor."""
    h, w = rgba.shape[:2]
    return resample(lambda u, v: rgba[v, u, :3].astype(F) / F(255), w, h, rotation, out_w, out_h)


def yuv_to_rgb(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    y, u, v = (a.astype(F) for a in (y, u, v))
    r = y + F(1.402) * (v - F(128))
    g = y - F(0.344136) * (u - F(128)) - F(0.714136) * (v - F(128))
    b = y + F(1.772) * (u - F(128))
    return np.stack([np.clip(c, F(0), F(255)) for c in (r, g, b)], axis=-1) / F(255)


def yuv420_to_nchw(planes: dict, width: int, height: int, rotation: int, out_w: int, out_h: int) -> np.ndarray:
    """YUV_420_888 planes (flat uint8 buffers with row/pixel strides, like android.media.Image) → frame tensor."""
    def pixel(uu, vv):
        yi = vv * planes["y_row_stride"] + uu
        ci = (vv // 2) * planes["uv_row_stride"] + (uu // 2) * planes["uv_pixel_stride"]
        return yuv_to_rgb(planes["y"][yi], planes["u"][ci], planes["v"][ci])

    return resample(pixel, width, height, rotation, out_w, out_h)


def rgb_to_yuv420(rgb: np.ndarray, row_pad: int, pixel_stride: int) -> dict:
    """An RGB uint8 image → YUV_420_888 planes (BT.601 full range) with padded rows, as a camera delivers."""
    h, w = rgb.shape[:2]
    x = rgb.astype(np.float64)
    yy = 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]
    cb = 128 - 0.168736 * x[..., 0] - 0.331264 * x[..., 1] + 0.5 * x[..., 2]
    cr = 128 + 0.5 * x[..., 0] - 0.418688 * x[..., 1] - 0.081312 * x[..., 2]
    q = lambda a: np.clip(np.rint(a), 0, 255).astype(np.uint8)  # noqa: E731
    y_stride = w + row_pad
    cw, chh = (w + 1) // 2, (h + 1) // 2
    uv_stride = cw * pixel_stride + row_pad
    y_plane = np.zeros(y_stride * h, np.uint8)
    for r in range(h):
        y_plane[r * y_stride : r * y_stride + w] = q(yy[r])
    sub_u, sub_v = q(cb[::2, ::2]), q(cr[::2, ::2])
    u_plane, v_plane = np.zeros(uv_stride * chh, np.uint8), np.zeros(uv_stride * chh, np.uint8)
    for r in range(chh):
        idx = r * uv_stride + np.arange(cw) * pixel_stride
        u_plane[idx], v_plane[idx] = sub_u[r], sub_v[r]
    return {"y": y_plane, "u": u_plane, "v": v_plane, "y_row_stride": y_stride, "uv_row_stride": uv_stride,
            "uv_pixel_stride": pixel_stride}


def pcm_windows(chunks: list[np.ndarray], samples: int) -> list[np.ndarray]:
    """The ring's window after each chunk of int16 PCM: the last ``samples`` samples, oldest first."""
    heard = np.zeros(0, F)
    out = []
    for chunk in chunks:
        heard = np.concatenate([heard, chunk.astype(F) / F(32768)])
        window = np.zeros(samples, F)
        tail = heard[-samples:]
        window[samples - len(tail):] = tail
        out.append(window)
    return out


def threshold_overlay(output: np.ndarray, channel: int, value: float) -> np.ndarray:
    return np.where(output[0, channel] > F(value), np.uint32(MASK_ARGB), np.uint32(0)).astype(np.uint32)


def class_colour(k: int) -> int:
    r = g = b = 0
    c = k
    for j in range(8):
        r |= ((c >> 0) & 1) << (7 - j)
        g |= ((c >> 1) & 1) << (7 - j)
        b |= ((c >> 2) & 1) << (7 - j)
        c >>= 3
    return (OVERLAY_ALPHA << 24) | (r << 16) | (g << 8) | b


def argmax_overlay(output: np.ndarray, background: int) -> np.ndarray:
    k = np.argmax(output[0], axis=0)  # first maximum wins, as in the cores
    lut = np.array([0 if i == background else class_colour(i) for i in range(output.shape[1])], np.uint32)
    return lut[k]


def jet(q: np.ndarray) -> np.ndarray:
    q = q.astype(np.int64)
    chan = lambda centre: np.clip(383 - np.abs(4 * q - centre), 0, 255)  # noqa: E731
    a = q * SALIENCY_MAX_ALPHA // 255
    return ((a << 24) | (chan(765) << 16) | (chan(510) << 8) | chan(255)).astype(np.uint32)


def saliency_overlay(output: np.ndarray, channel: int, normalize: str) -> np.ndarray:
    s = output[0, channel].astype(F)
    if normalize == "min-max":
        lo, hi = s.min(), s.max()
        s = (s - lo) / (hi - lo) if hi > lo else np.zeros_like(s)
    q = np.clip(np.floor(np.clip(s, F(0), F(1)) * F(255) + F(0.5)), 0, 255).astype(np.int64)
    return jet(q)
