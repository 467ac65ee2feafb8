"""Two motion layers for opaque obstructions: how the background moves, and where the obstruction is.

Why: a fence (wires, mesh, stripes of a railing, drops on glass) is a strong, often regular pattern,
so "the motion that matches most edges" is often the fence's, or an alias of the fence or of a
striped background one period away. Two facts decide instead (Xue et al. 2015, Liu et al. 2020):
the burst is explained by *two* motions (background and obstruction) far better than by any one,
and the obstruction is *in front*: its pixels are seen in every frame, while the background behind
it is hidden in some. So for each frame the pair of candidate motions that best explains the
reference together is chosen; the pairs are linked across frames; the layer that is visible in
every frame it owns is the obstruction. Masks and motions are then refined in turn, each motion
fitted only on its own layer's pixels (the obstruction filled in, for the background's).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from editor.infer.api import CancelToken, Progress, ProgressFn, no_progress
from editor.infer.obstruction.align import (
    flow_candidates,
    flow_homography,
    gray8,
    motion_candidates,
    rescaled,
    resize_to,
    suppress_periodic,
    suppress_thin,
    translation_peaks,
)

WORK_SIDE = 480  # motions are chosen on copies no larger than this
TRUNCATE = 0.12  # a pixel's misfit counts at most this much: occlusions are outliers, not evidence
GOOD = 0.06  # misfit (colour, 0–1) below which a motion explains a pixel
OWN = 0.5  # an obstruction pixel's mean misfit under its motion is below this share of the background's
PEAKS = 8  # phase-correlation peaks per view: the background's survives among a fence's aliases
STEADY = 0.01  # cost (misfit units) of a background motion off the burst's steady trajectory by STEADY_CAP
STEADY_CAP = 5.0  # px (work size, corners' rms): beyond this a frame's motion is simply off the line
SLACK = 2.0  # px off the line that cost nothing: hand jitter; among such options the appearance decides
ORDER = 0.05  # cost of a pair order whose front layer predicts the unexplained pixels worse (per unit of IoU)
FRONT_LIKE = 0.03  # colour distance (max over channels) within which a pixel the obstruction explains
#   in every frame counts as obstruction although the background's motion explains it too
MIN_FRONT = 100  # such pixels needed to learn the obstruction's colour
OCCLUDED = 0.03  # the most a background pixel the pair says is hidden in the frame costs (`layered_misfit`)
CLEAN_WEIGHT = 0.5  # weight of the thin- and periodic-free view beside `layered_misfit`
OPTIONS = 6  # (background, obstruction) choices per frame kept for the joint choice over the burst


@dataclass
class LayerMotions:
    """Per frame: background and obstruction homographies (reference pixel → frame pixel) and the
    reference's obstruction mask (H×W float32 0–1, full size). `obstruction[k]` is None where a frame
    shows no second motion."""

    background: list[np.ndarray]
    obstruction: list[np.ndarray | None]
    mask: np.ndarray
    front: np.ndarray | None = None  # reference pixels the obstruction's motion explains in every frame


def _distinct(homs: list[np.ndarray], w: int, h: int, tol: float = 0.75) -> list[np.ndarray]:
    """Drop candidates that move every corner within `tol` px of an earlier one."""
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]]).reshape(-1, 1, 2)
    kept: list[np.ndarray] = []
    seen: list[np.ndarray] = []
    for hom in homs:
        if not np.all(np.isfinite(hom)) or abs(hom[2, 2]) < 1e-9:
            continue
        c = cv2.perspectiveTransform(corners, hom / hom[2, 2])
        if all(np.abs(c - s).max() > tol for s in seen):
            kept.append(hom / hom[2, 2])
            seen.append(c)
    return kept


def candidate_motions(ref_gray: np.ndarray, frame_gray: np.ndarray) -> list[np.ndarray]:
    """Every plausible global motion (reference → frame) from three views of the pair.

    The raw view sees every layer; the thin-free view (`suppress_thin`) favours the background
    behind wires; the periodic-free view (`suppress_periodic`) stops fences and stripes from
    drowning the rest in aliases. Features, dense flow and phase-correlation peaks each propose.
    """
    h, w = ref_gray.shape
    out: list[np.ndarray] = []
    for view in (lambda g: g, suppress_thin, suppress_periodic):
        a, b = view(ref_gray), view(frame_gray)
        for dx, dy in translation_peaks(a, b, PEAKS):
            out.append(np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], np.float64))
        out += motion_candidates(a, b) + flow_candidates(a, b)
    return _distinct(out, w, h)


def channel_max(d: np.ndarray) -> np.ndarray:
    """Max over the last axis, written out: numpy's reduce over a short last axis is several times slower."""
    out = d[..., 0]
    for c in range(1, d.shape[-1]):
        out = np.maximum(out, d[..., c])
    return out


def misfit(ref: np.ndarray, frame: np.ndarray, hom: np.ndarray, slack: int = 0, step: int = 1) -> np.ndarray:
    """Colour misfit of the reference against `frame` sampled at hom·x (NaN outside), every `step` px.

    With `slack`, the best match within that many pixels counts: a candidate that is right up to
    a sub-pixel offset or a slight rotation must not lose to a wrong one on sharp texture.
    """
    h, w = ref.shape[:2]
    moved = cv2.warpPerspective(
        frame, hom, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=(np.nan,) * 3
    ).reshape(h, w, -1)
    ref = ref.reshape(h, w, -1)[::step, ::step]
    if not slack:
        return channel_max(np.abs(moved[::step, ::step] - ref))
    pad = cv2.copyMakeBorder(moved, slack, slack, slack, slack, cv2.BORDER_REPLICATE).reshape(
        h + 2 * slack, w + 2 * slack, -1
    )
    best = None
    for dy in range(2 * slack + 1):
        for dx in range(2 * slack + 1):
            d = channel_max(np.abs(pad[dy : dy + h : step, dx : dx + w : step] - ref))
            best = d if best is None else np.fmin(best, d)
    return np.where(np.isnan(moved[::step, ::step, 0]), np.nan, best)


def _truncated(err: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(err), TRUNCATE, np.minimum(err, TRUNCATE))


def pair_costs(raw: np.ndarray, clean: np.ndarray, one_layer: float = 0.85) -> tuple[np.ndarray, np.ndarray]:
    """Per candidate taken as the background: the score of the best pair it heads, and that pair's
    obstruction (-1: none), from C×P truncated misfits in two views.

    `raw`: misfits of the colour frames, where each motion explains its own layer, so the pair
    (a, b) explains the reference by min(raw[a], raw[b]). `clean`: misfits of the view without
    thin or periodic structure, where only the background is left to explain; it decides which
    member of the pair is the background, and breaks the ties that aliases of a striped background
    make in the raw view. Without a clear gain from a second motion, the candidate stands alone.
    """
    raw_mean, clean_mean = raw.mean(axis=1), clean.mean(axis=1)
    cost = raw_mean + clean_mean
    partner = np.full(len(raw), -1)
    for ob in range(len(raw)):
        two_raw = np.minimum(raw[ob][None], raw).mean(axis=1)
        better = (two_raw + clean_mean < cost) & (raw_mean - two_raw > (1 - one_layer) * raw_mean)
        better[ob] = False
        cost = np.where(better, two_raw + clean_mean, cost)
        partner = np.where(better, ob, partner)
    return cost, partner


def _polish(
    template: np.ndarray, image: np.ndarray, hom: np.ndarray, mask: np.ndarray | None
) -> np.ndarray | None:
    """ECC on float gray copies, only on `mask` pixels of the template; None if ECC fails."""
    crit = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-5)
    m = None if mask is None else mask.astype(np.uint8)
    try:
        _, out = cv2.findTransformECC(
            template, image, (hom / hom[2, 2]).astype(np.float32), cv2.MOTION_HOMOGRAPHY, crit, m, 3
        )
    except cv2.error:
        return None
    return out.astype(np.float64)


def _polish_flow(
    template: np.ndarray, image: np.ndarray, hom: np.ndarray, keep: np.ndarray
) -> np.ndarray | None:
    """Correct `hom` by a homography fitted (RANSAC) to the dense DIS flow on `keep` pixels only.

    Why not ECC: a least-squares photometric fit is pulled by whatever is left of the obstruction
    and diverges from a few pixels off; flow vectors are local, and RANSAC drops the wrong ones.
    """
    h, w = template.shape
    pre = cv2.warpPerspective(
        image, hom, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE
    )
    grad = np.hypot(cv2.Sobel(template, cv2.CV_32F, 1, 0), cv2.Sobel(template, cv2.CV_32F, 0, 1))
    corr = flow_homography(template, pre, keep & (grad > 20), step=2, tol=0.5, least=30)
    if corr is None:
        return None
    return hom @ corr


def _masked_cost(err: np.ndarray, where: np.ndarray) -> float:
    e = np.where(np.isnan(err), TRUNCATE, np.minimum(err, TRUNCATE))
    return float(e[where].mean()) if where.any() else TRUNCATE


def _fence_mask(errs_bg: list[np.ndarray], errs_ob: list[np.ndarray]) -> np.ndarray:
    """Reference pixels that the obstruction's motion explains clearly better than the background's.

    Averaged over frames: a background pixel is hidden in a few frames but matches in the rest, an
    obstruction pixel matches under its own motion in all of them.
    """
    ob, bg = np.stack(errs_ob), np.stack(errs_bg)
    known = ~np.isnan(ob).all(axis=0) & ~np.isnan(bg).all(axis=0)
    out = np.zeros(known.shape, bool)
    ob_mean, bg_mean = np.nanmean(ob[:, known], axis=0), np.nanmean(bg[:, known], axis=0)
    out[known] = (ob_mean < OWN * bg_mean) & (ob_mean < 0.08)
    return out


def _fill(gray: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The obstruction painted out of an 8-bit gray copy (Telea), so it cannot pull a motion fit."""
    if not mask.any():
        return gray
    return cv2.inpaint(gray, mask.astype(np.uint8), 3, cv2.INPAINT_TELEA)


def _clean_view(gray: np.ndarray) -> np.ndarray:
    """Gray float copy with periodic and thin structure filtered out: what the background alone shows."""
    return suppress_thin(suppress_periodic(gray)).astype(np.float32) / 255


def _explained(ref: np.ndarray, frame: np.ndarray, hom: np.ndarray) -> np.ndarray:
    """`misfit` with a pixel of slack, infinite where the frame has no sample."""
    return np.nan_to_num(misfit(ref, frame, hom, slack=1), nan=np.inf)


def _in_front(
    eb: np.ndarray, eo: np.ndarray, bg: np.ndarray, ob: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Under "`ob` in front of `bg`" (misfits `eb`, `eo` of `_explained`): the reference pixels that are
    the obstruction's own, and the reference pixels whose background sample B·x the obstruction hides
    in the frame (O⁻¹·B·x is one of its own pixels)."""
    own_ob = (eo < OWN * eb) & (eo < GOOD)
    h, w = own_ob.shape
    flags = cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
    hidden = cv2.warpPerspective(own_ob.astype(np.uint8), np.linalg.inv(ob) @ bg, (w, h), flags=flags) > 0
    return own_ob, hidden


def _order_score(eb: np.ndarray, eo: np.ndarray, own_ob: np.ndarray, hidden: np.ndarray) -> float:
    known = np.isfinite(eb) & np.isfinite(eo)
    unexplained = known & (np.minimum(eb, eo) > GOOD)
    predicted = known & hidden & ~own_ob
    union = (unexplained | predicted).sum()
    return 1.0 - float((unexplained & predicted).sum()) / union if union else 1.0


def _layered_score(eb: np.ndarray, eo: np.ndarray, own_ob: np.ndarray, hidden: np.ndarray) -> float:
    err = np.minimum(np.minimum(eb, eo), TRUNCATE)
    return float(np.where(hidden & ~own_ob, np.minimum(err, OCCLUDED), err).mean())


def order_misfit(ref: np.ndarray, frame: np.ndarray, bg: np.ndarray, ob: np.ndarray) -> float:
    """1 − IoU of the pixels neither motion explains and the occlusion that "`ob` is in front" predicts.

    Why: the nearer layer hides the farther one, never the reverse. If `ob` is the obstruction,
    the reference's background pixels that frame k does not show are exactly those whose sample
    B·x falls on the obstruction, i.e. whose O⁻¹·B·x is an obstruction pixel of the reference. The
    swapped order predicts other pixels, so the order that predicts the unexplained ones is right
    even where both motions look equally steady and equally plausible (a thick grid over stripes).
    """
    eb, eo = _explained(ref, frame, bg), _explained(ref, frame, ob)
    return _order_score(eb, eo, *_in_front(eb, eo, bg, ob))


def layered_misfit(ref: np.ndarray, frame: np.ndarray, bg: np.ndarray, ob: np.ndarray) -> float:
    """Mean truncated misfit of the reference under "`ob` in front of `bg`": each pixel is explained by
    the better of the two motions, except that a background pixel the obstruction hides in the frame
    costs at most OCCLUDED.

    Why: a thick grid (7 px of a 30 px pitch hides 40 % of the picture) leaves a quarter of the right
    pair's pixels unexplained (the background it hides in the frame), while one of its aliases taken
    for the background explains the grid itself in both frames; charging the occlusions that the
    pair itself predicts as such removes that advantage. It does not tell the pair's order apart (the
    swapped order is priced about the same): `composite.render_misfit` judges the hypotheses.
    """
    eb, eo = _explained(ref, frame, bg), _explained(ref, frame, ob)
    return _layered_score(eb, eo, *_in_front(eb, eo, bg, ob))


Option = tuple[float, np.ndarray, "np.ndarray | None"]  # (cost, background, obstruction) of one frame
COSTS = ("appearance", "layered")  # the two ways `_frame_options` prices a pair
HYPOTHESES = COSTS  # the prices whose joint choices `layer_hypotheses` offers (the bench turns one off)


def _frame_options(
    ref_b: np.ndarray, frame_b: np.ndarray, ref_c: np.ndarray, frame_c: np.ndarray, cands: list[np.ndarray]
) -> dict[str, list[Option]]:
    """The best (background, obstruction) choices of one frame, cheapest first, priced two ways (COSTS):
    "appearance" (`pair_costs`, the order judged by `order_misfit`) and "layered" (`layered_misfit`).

    The three best background proposals are polished (ECC on the pixels each explains) and judged
    again, so a right motion that is off by a pixel does not lose to a sharp alias.
    """

    def errs(hs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        raw = np.stack([_truncated(misfit(ref_b, frame_b, c, slack=1, step=2)).ravel() for c in hs])
        clean = np.stack([_truncated(misfit(ref_c, frame_c, c, slack=1, step=2)).ravel() for c in hs])
        return raw, clean

    raw, clean = errs(cands)
    single = raw.mean(axis=1) + clean.mean(axis=1)
    extra = []
    for i in np.argsort(single)[:3]:
        support = np.nan_to_num(misfit(ref_c, frame_c, cands[i], slack=1), nan=1.0) < GOOD
        polished = _polish(ref_c, frame_c, cands[i], support)
        if polished is not None:
            extra.append(polished)
    cands = _distinct(cands + extra, ref_b.shape[1], ref_b.shape[0], tol=0.25)
    raw, clean = errs(cands)
    cost, partner = pair_costs(raw, clean)
    explained: dict[int, np.ndarray] = {}  # each candidate's full-size misfit, computed once

    def in_front(b: int, o: int) -> tuple[float, float]:
        """`order_misfit` and `layered_misfit` of "candidate o in front of candidate b"."""
        for c in (b, o):
            if c not in explained:
                explained[c] = _explained(ref_b, frame_b, cands[c])
        eb, eo = explained[b], explained[o]
        occlusion = _in_front(eb, eo, cands[b], cands[o])
        return _order_score(eb, eo, *occlusion), _layered_score(eb, eo, *occlusion)

    pairs: dict[str, dict[tuple[int, int], float]] = {name: {} for name in COSTS}
    for i in np.argsort(cost)[:OPTIONS]:
        i, j = int(i), int(partner[i])
        if j < 0:
            pairs["appearance"][(i, -1)] = float(cost[i])
            pairs["layered"][(i, -1)] = float(raw[i].mean() + CLEAN_WEIGHT * clean[i].mean())
            continue
        # Both orders of the pair: the one whose front layer predicts the occlusions better wins
        # (only the order pays: which obstruction motion goes with a background stays appearance's).
        both = np.minimum(raw[i], raw[j]).mean()
        front_j, layered_ij = in_front(i, j)
        front_i, layered_ji = in_front(j, i)
        orders = ((i, j, front_j - front_i, layered_ij), (j, i, front_i - front_j, layered_ji))
        for b, o, worse, layered in orders:
            if (b, o) not in pairs["appearance"]:
                pairs["appearance"][(b, o)] = float(both + clean[b].mean()) + ORDER * max(0.0, worse)
                pairs["layered"][(b, o)] = layered + CLEAN_WEIGHT * float(clean[b].mean())
    return {
        name: sorted(
            ((c, cands[b], None if o < 0 else cands[o]) for (b, o), c in priced.items()), key=lambda x: x[0]
        )
        for name, priced in pairs.items()
    }


def corner_shift(hom: np.ndarray, w: int, h: int) -> np.ndarray:
    """How far `hom` moves the image's four corners (x, y each, flattened)."""
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]]).reshape(-1, 1, 2)
    return (cv2.perspectiveTransform(corners, hom) - corners).ravel()


def joint_choice(
    options: dict[int, list[Option]], reference: int, w: int, h: int
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray | None]]:
    """One (background, obstruction) option per frame, chosen for the whole burst at once.

    Why: a hand-held burst is taken in a fraction of a second, so the camera moves steadily and
    the background's displacement grows about linearly with the frame's distance from the
    reference (d_k ≈ (k − ref)·v). An alias of a striped or lettered background (one period
    off) or the obstruction's own motion taken for the background's rarely fits that line in
    every frame, so a trajectory that the frames agree on outweighs a small per-frame preference
    (not always: a slide along stripes is invisible on them and can form a line of its own).
    Each option proposes v; every frame then takes its option of least cost plus trajectory
    misfit (truncated: a jerky hand costs a bounded amount and the appearance decides again).
    Where it cannot help: the obstruction's motion is only known up to its period (a fence one
    pitch further looks the same), so it is not asked to be steady, and a jerky burst falls back
    to the per-frame choice. For the same reason "the nearer layer has the larger parallax" is not
    used: a grid's apparent motion is its true one modulo the pitch (DEV: a 32 px grid moving
    ~25 px shows (−6, −7) px beside the background's (0, −8)). Which member of a pair is in front
    is judged by the occlusions instead (`order_misfit`). Under a pure camera rotation both layers
    move alike and either choice aligns the background equally, which is also fine.
    """
    ks = sorted(options)
    t = {k: float(k - reference) for k in ks}
    shifts = {k: [corner_shift(o[1], w, h) for o in options[k]] for k in ks}

    def pick(v: np.ndarray) -> tuple[float, dict[int, int]]:
        total, chosen = 0.0, {}
        for k in ks:
            misfits = [np.linalg.norm(d - t[k] * v) / 2 for d in shifts[k]]
            off = [np.clip((m - SLACK) / (STEADY_CAP - SLACK), 0.0, 1.0) for m in misfits]
            costs = [o[0] + STEADY * f**2 for o, f in zip(options[k], off, strict=True)]
            chosen[k] = int(np.argmin(costs))
            total += costs[chosen[k]]
        return total, chosen

    best = pick(np.zeros(8))
    for k in ks:
        if t[k] == 0:
            continue
        for d in shifts[k]:
            cost, chosen = pick(d / t[k])
            # refit v on the frames' choices, and let them choose again
            num = sum(t[j] * shifts[j][chosen[j]] for j in ks)
            cost2, chosen2 = pick(num / sum(t[j] ** 2 for j in ks))
            for c, ch in ((cost, chosen), (cost2, chosen2)):
                if c < best[0]:
                    best = (c, ch)
    chosen = best[1]
    return {k: options[k][chosen[k]][1] for k in ks}, {k: options[k][chosen[k]][2] for k in ks}


def layer_hypotheses(
    frames: np.ndarray,
    reference: int,
    passes: int = 2,
    *,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    span: tuple[float, float] = (0.0, 1.0),
) -> list[LayerMotions]:
    """The layers' motions and the reference's obstruction mask, once per way of pricing a pair (COSTS)
    where they disagree: the caller keeps the one whose composed layers explain the frames best.

    Why two: neither price is right on every burst. "appearance" leans on the thin- and periodic-free
    view, which a thick grid survives (so its alias wins there: 7 px grids over bricks, 15–19 px off);
    "layered" forgives the occlusions a pair predicts, which the aliases of a periodic background can
    also exploit (a grid over bricks at 16 px: 10–18 px off where "appearance" is right).
    """
    n = len(frames)
    s = resize_to(frames[reference], WORK_SIDE)[1]
    small = [cv2.GaussianBlur(resize_to(f, WORK_SIDE)[0], (0, 0), 0.8) for f in frames]
    sh, sw = small[0].shape[:2]
    grays = [gray8(resize_to(f, WORK_SIDE)[0]) for f in frames]
    clean = [_clean_view(g) for g in grays]
    others = [k for k in range(n) if k != reference]
    options: dict[str, dict[int, list[Option]]] = {name: {} for name in COSTS}
    lo, hi = span
    for i, k in enumerate(others):
        if cancel is not None:
            cancel.check()
        progress(
            Progress(lo + (hi - lo) * i / len(others), f"Finding the layers' motions in frame {k + 1} of {n}")
        )
        cands = candidate_motions(grays[reference], grays[k]) or [np.eye(3)]
        priced = _frame_options(small[reference], small[k], clean[reference], clean[k], cands)
        for name, opts in priced.items():
            options[name][k] = opts
    chosen: list[tuple[dict[int, np.ndarray], dict[int, np.ndarray | None]]] = []
    for name in HYPOTHESES:
        bg, ob = joint_choice(options[name], reference, sw, sh)
        if not any(_same_choice(bg, ob, *earlier, sw, sh) for earlier in chosen):
            chosen.append((bg, ob))
    return [_polished_layers(frames, reference, small, grays, bg, ob, s, passes) for bg, ob in chosen]


def _same_choice(
    bg: dict[int, np.ndarray],
    ob: dict[int, np.ndarray | None],
    bg2: dict[int, np.ndarray],
    ob2: dict[int, np.ndarray | None],
    w: int,
    h: int,
) -> bool:
    """Whether two choices move every layer of every frame alike (within a quarter pixel)."""

    def near(a: np.ndarray | None, b: np.ndarray | None) -> bool:
        if a is None or b is None:
            return a is None and b is None
        return bool(np.abs(corner_shift(a, w, h) - corner_shift(b, w, h)).max() < 0.25)

    return all(near(bg[k], bg2[k]) and near(ob[k], ob2[k]) for k in bg)


def _polished_layers(
    frames: np.ndarray,
    reference: int,
    small: list[np.ndarray],
    grays: list[np.ndarray],
    bg: dict[int, np.ndarray],
    ob: dict[int, np.ndarray | None],
    s: float,
    passes: int,
) -> LayerMotions:
    """A choice's motions polished on the work copies (the background's on flow with the obstruction
    painted out, the obstruction's by ECC on its own pixels), at full size, with the mask."""
    n, h, w, _ = frames.shape
    sh, sw = small[0].shape[:2]
    bg, ob = dict(bg), dict(ob)
    ref_b = small[reference]
    others = [k for k in range(n) if k != reference]
    gray_f = [g.astype(np.float32) / 255 for g in grays]
    mask = np.zeros((sh, sw), bool)
    for _ in range(passes):
        errs_bg = [misfit(ref_b, small[k], bg[k], slack=1) for k in others if ob[k] is not None]
        errs_ob = [misfit(ref_b, small[k], ob[k], slack=1) for k in others if ob[k] is not None]
        if not errs_ob:
            break
        mask = _fence_mask(errs_bg, errs_ob)
        grown = cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        ref_clean = _fill(grays[reference], grown)
        for k in others:
            if ob[k] is None:
                continue
            # Background: fitted on flow with the obstruction painted out of both images and masked.
            frame_mask = cv2.warpPerspective(grown.astype(np.uint8), ob[k], (sw, sh)) > 0
            frame_clean = _fill(grays[k], frame_mask)
            polished = _polish_flow(ref_clean, frame_clean, bg[k], ~grown)
            if polished is not None:
                before = _masked_cost(misfit(ref_b, small[k], bg[k], slack=1), ~grown)
                if _masked_cost(misfit(ref_b, small[k], polished, slack=1), ~grown) < before:
                    bg[k] = polished
            # Obstruction: fitted on its own pixels and a thin ring around them.
            polished = _polish(gray_f[reference], gray_f[k], ob[k], grown)
            if polished is not None:
                before = _masked_cost(misfit(ref_b, small[k], ob[k]), mask)
                if _masked_cost(misfit(ref_b, small[k], polished), mask) < before:
                    ob[k] = polished
    background = [np.eye(3) if k == reference else rescaled(bg[k], 1 / s) for k in range(n)]
    obstruction: list[np.ndarray | None] = [
        None if k == reference or ob[k] is None else rescaled(ob[k], 1 / s) for k in range(n)
    ]
    if not any(o is not None for o in obstruction):
        return LayerMotions(background, obstruction, np.zeros((h, w), np.float32))
    full_mask, front = full_size_mask(frames, reference, background, obstruction)
    return LayerMotions(background, obstruction, full_mask, front)


def full_size_mask(
    frames: np.ndarray, reference: int, background: list[np.ndarray], obstruction: list[np.ndarray | None]
) -> tuple[np.ndarray, np.ndarray]:
    """The reference's obstruction mask at full size (0/1 float32), from the final motions, and the
    pixels the obstruction's motion explains in every frame (bool: known without the background's
    motion, so still right where that motion is wrong). The mask also takes those of the latter that
    have the obstruction's colour: a thick grid hides some background in every frame (DEV case 12,
    a 7 px square grid of pitch 30 over bricks: 36 % of its pixels), and there the misfits of the two
    motions tie."""
    ref = cv2.GaussianBlur(frames[reference], (0, 0), 0.8)
    errs_bg, errs_ob = [], []
    for k, (hb, ho) in enumerate(zip(background, obstruction, strict=True)):
        if k == reference or ho is None:
            continue
        fk = cv2.GaussianBlur(frames[k], (0, 0), 0.8)
        errs_bg.append(misfit(ref, fk, hb, slack=1))
        errs_ob.append(misfit(ref, fk, ho, slack=1))
    ob = np.stack(errs_ob)
    front = (np.nan_to_num(ob, nan=0.0).max(axis=0) < GOOD) & ~np.isnan(ob).all(axis=0)
    mask = _fence_mask(errs_bg, errs_ob)
    if front.sum() >= MIN_FRONT:
        # Where the background's samples fall on the obstruction in every frame (the layers' relative
        # motion near a multiple of the grid's pitch, or along its wires), both motions explain the
        # pixel alike and the misfits cannot tell it is the obstruction; its colour can.
        colour = np.median(ref[front], axis=0)
        mask |= front & (channel_max(np.abs(ref - colour)) < FRONT_LIKE)
    return mask.astype(np.float32), front


def behind_in_frame(image: np.ndarray, motions: LayerMotions, k: int, **border) -> np.ndarray:
    """`image` (in the reference obstruction's pixels) where frame k's sample of each reference
    background pixel lands on the obstruction: frame k shows the background point of reference pixel x
    at B_k·x, and the obstruction there is the reference's obstruction pixel O_k⁻¹·B_k·x (the
    obstruction moves by O_k). `border`: cv2.warpPerspective's borderMode / borderValue."""
    h, w = image.shape[:2]
    hom = np.linalg.inv(motions.obstruction[k]) @ motions.background[k]
    return cv2.warpPerspective(image, hom, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, **border)


def occlusions(mask: np.ndarray, motions: LayerMotions, k: int) -> np.ndarray:
    """Where frame k's sample of each reference background pixel is covered by the obstruction.

    Outside the reference the obstruction is unknown: it counts as covering (a fence entering the
    frame from beyond the reference's border must not be taken for background).
    """
    return behind_in_frame(mask, motions, k, borderValue=1.0)
