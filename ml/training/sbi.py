"""Self-blended images (Shiohara & Yamasaki, CVPR 2022): pseudo-fakes made from one real face.

A copy of the face, slightly altered in colour, sharpness, position and scale, is blended back
into the original inside a soft mask built from the landmark convex hull. The result carries the
blending boundary and statistical mismatch that face swaps leave, without any real fake, so a
detector trained on real faces plus these generalises across manipulation methods.

Everything random comes from the `rng` passed in, so a seed reproduces the same image.
"""

from __future__ import annotations

import cv2
import numpy as np

MASK_SCALES = (0.25, 0.5, 0.75, 1.0, 1.0, 1.0)
WORK_FACE_PX = 200  # face width the recipe's blur kernels are meant for


def hull_mask(shape: tuple[int, int], landmarks: np.ndarray) -> np.ndarray:
    """A float32 HxW mask: 1 inside the convex hull of the landmarks, 0 outside."""
    mask = np.zeros(shape, dtype=np.uint8)
    hull = cv2.convexHull(np.round(landmarks).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1)
    return mask.astype(np.float32)


def _odd_kernel(rng: np.random.Generator) -> int:
    return int(rng.choice(np.arange(5, 26, 2)))


def _elastic(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Bend the mask edge with a smooth random displacement field."""
    h, w = mask.shape
    alpha = 0.04 * max(h, w)  # displacement amplitude in pixels
    sigma = 0.08 * max(h, w)  # smoothness of the field
    dx = cv2.GaussianBlur(rng.uniform(-1, 1, (h, w)).astype(np.float32), (0, 0), sigma)
    dy = cv2.GaussianBlur(rng.uniform(-1, 1, (h, w)).astype(np.float32), (0, 0), sigma)
    dx *= alpha / (np.abs(dx).max() + 1e-6)
    dy *= alpha / (np.abs(dy).max() + 1e-6)
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(mask, grid_x + dx, grid_y + dy, cv2.INTER_LINEAR, borderValue=0)


def blend_mask(hull: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Deform and soften the hull mask; the result never leaves the hull.

    The kernel sizes of the recipe are meant for a face about 200 px wide, so the work is done on
    a copy resized to that scale whatever the crop size.
    """
    h, w = hull.shape
    ys, xs = np.nonzero(hull)
    if len(xs) == 0:
        return hull
    scale = WORK_FACE_PX / max(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    work_hull = (cv2.resize(hull, size, interpolation=cv2.INTER_NEAREST) > 0.5).astype(np.float32)
    mask = _elastic(work_hull, rng) * work_hull
    k1, k2 = _odd_kernel(rng), _odd_kernel(rng)
    # First blur then keep only the fully covered core: shrinks the mask by about k1/2.
    mask = cv2.GaussianBlur(mask, (k1, k1), 0)
    mask = (mask >= mask.max() * 0.999).astype(np.float32) if mask.max() > 0 else mask
    # Shrink by k2/2 more so the second blur (support k2) stays inside the hull.
    mask = cv2.erode(mask, np.ones((k2, k2), np.uint8))
    mask = cv2.GaussianBlur(mask, (k2, k2), 0)
    mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR) * hull
    if mask.max() > 0:
        mask /= mask.max()
    return (mask * float(rng.choice(MASK_SCALES))).astype(np.float32)


def _colour_jitter(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    img = rgb.astype(np.float32) + rng.uniform(-20, 20, 3)  # RGB shift
    hsv = cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8), cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-0.3, 0.3) * 18) % 180  # hue, OpenCV range 0-179
    hsv[..., 1:] *= 1 + rng.uniform(-0.3, 0.3, 2)
    img = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32)
    contrast, brightness = 1 + rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1) * 255
    img = (img - img.mean()) * contrast + img.mean() + brightness
    return np.clip(img, 0, 255).astype(np.uint8)


def _frequency_jitter(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Either lose detail (downscale then upscale) or exaggerate it (sharpen)."""
    h, w = rgb.shape[:2]
    if rng.random() < 0.5:
        factor = rng.uniform(0.25, 0.8)
        small = cv2.resize(rgb, (max(1, int(w * factor)), max(1, int(h * factor))), cv2.INTER_AREA)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    amount = rng.uniform(0.5, 1.5)
    blurred = cv2.GaussianBlur(rgb, (0, 0), 2.0)
    return cv2.addWeighted(rgb, 1 + amount, blurred, -amount, 0)


def _shift_scale(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = rng.uniform(0.95, 1.05)
    tx, ty = rng.uniform(-0.03, 0.03) * w, rng.uniform(-0.015, 0.015) * h
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), 0, scale)
    matrix[:, 2] += (tx, ty)
    return cv2.warpAffine(rgb, matrix, (w, h), borderMode=cv2.BORDER_REFLECT)


def self_blend(
    rgb: np.ndarray, landmarks: np.ndarray, *, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Return (pseudo-fake HxWx3 uint8, blend mask HxW float32 in 0..1)."""
    source, target = rgb.copy(), rgb.copy()
    if rng.random() < 0.5:  # the altered copy is the one pasted in, or the one pasted into
        source = _frequency_jitter(_colour_jitter(source, rng), rng)
    else:
        target = _frequency_jitter(_colour_jitter(target, rng), rng)
    source = _shift_scale(source, rng)
    mask = blend_mask(hull_mask(rgb.shape[:2], landmarks), rng)
    m = mask[..., None]
    blended = m * source.astype(np.float32) + (1 - m) * target.astype(np.float32)
    return np.clip(blended + 0.5, 0, 255).astype(np.uint8), mask
