"""Training loop: multi-step unrolled loss, periodic validation, atomic resumable checkpoints, DDP.

Run under ``torchrun --nproc_per_node N`` for data-parallel training (gloo on CPU, nccl on CUDA);
every batch is a pure function of (seed, step, rank), and checkpoints hold the optimiser and RNG
state, so ``resume=True`` continues exactly as an uninterrupted run would have.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm import tqdm
from twinsim.neural.checkpoint import (
    CheckpointError,
    load_state,
    read_tensors,
    resolve_checkpoint,
    save_checkpoint,
    write_atomic,
)
from twinsim.neural.config import RunConfig
from twinsim.neural.data import TOY, ClipBank, dataset_scenes, labelled_scenes, synthetic_scenes
from twinsim.neural.footage import load_footage
from twinsim.neural.guards import (
    check_backward_safe,
    check_finite_model,
    check_model_memory,
    prepare_run_folder,
    prune_checkpoints,
)
from twinsim.neural.model import FlowMemoryNet

__all__ = ["TrainResult", "learning_rate", "to_tensor", "train"]

VAL_SEED_OFFSET = 1_000_000  # validation scenes never share a seed with training scenes
KEEP_CHECKPOINTS = 2
KEEP_TOLERANCE = 2.5 / 255  # "unchanged" for the keep gate: within 2 grey levels


@dataclass
class TrainResult:
    """Summary of a finished (or budget-stopped) run."""

    run_dir: Path
    steps: int
    first_loss: float
    last_loss: float
    val_psnr: float
    val_copy_last_psnr: float
    seconds: float


def to_tensor(clips: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """uint8 (B, T, H, W, 3) -> float (B, T, 3, H, W) in [0, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(clips)).to(device)
    return x.permute(0, 1, 4, 2, 3).float().div_(255.0)


def learning_rate(cfg: RunConfig, step: int) -> float:
    """Linear warm-up, then cosine decay to 10% of the peak at ``cfg.train.steps``."""
    t = cfg.train
    if step < t.warmup_steps:
        return t.lr * (step + 1) / t.warmup_steps
    frac = min(1.0, (step - t.warmup_steps) / max(1, t.steps - t.warmup_steps))
    return t.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def _loss(
    model: torch.nn.Module,
    clips: torch.Tensor,
    cfg: RunConfig,
    occluder: torch.Tensor | None = None,
) -> torch.Tensor:
    """Unrolled MSE + half the teacher-forced MSE (+ the write-mask loss when labels exist,
    + the keep-gate loss with ``model.keep_gate``).

    ``occluder``: (B, T, H, W) bool occluder masks of ``clips``; the write mask of frame t
    should be 0 on the occluder and 1 elsewhere (weight ``train.write_weight``).
    """
    warm = cfg.data.clip_length - cfg.train.unroll
    out = model(clips[:, :warm], cfg.train.unroll)
    loss = F.mse_loss(out.future, clips[:, warm:])
    if out.teacher.shape[1]:
        loss = loss + 0.5 * F.mse_loss(out.teacher, clips[:, 1:warm])
    if occluder is not None and cfg.train.write_weight > 0:
        n = out.writes.shape[1]
        target = (~occluder[:, :n, None]).float()
        bce = F.binary_cross_entropy(out.writes.clamp(1e-4, 1 - 1e-4), target)
        loss = loss + cfg.train.write_weight * bce
    if cfg.train.keep_weight > 0 and out.keeps.shape[1]:
        # step t's newest input: true frame t while observed, then the fed-back prediction
        newest = torch.cat([clips[:, :warm], out.future[:, :-1]], 1).detach()
        truth = clips[:, 1 : warm + cfg.train.unroll]
        still = ((truth - newest).abs().amax(2, keepdim=True) < KEEP_TOLERANCE).float()
        bce = F.binary_cross_entropy(out.keeps.clamp(1e-4, 1 - 1e-4), still)
        loss = loss + cfg.train.keep_weight * bce
    return loss


@torch.no_grad()
def _validate(
    model: FlowMemoryNet, val: np.ndarray, cfg: RunConfig, device: str
) -> tuple[float, float]:
    """Mean PSNR of the unrolled prediction on validation clips, and of copy-last."""
    warm = cfg.data.clip_length - cfg.train.unroll
    clips = to_tensor(val[:, : cfg.data.clip_length], device)
    pred = model.rollout(clips[:, :warm], cfg.train.unroll).future
    truth = clips[:, warm:]
    copy = clips[:, warm - 1 : warm].expand_as(truth)

    def psnr(a: torch.Tensor) -> float:
        mse = ((a - truth) ** 2).mean(dim=(2, 3, 4)).clamp_min(1e-10)
        return float((10 * torch.log10(1.0 / mse)).mean())

    return psnr(pred), psnr(copy)


def _build_data(
    cfg: RunConfig, data_dir: str | Path | None, footage: str | Path | None, run: Path, rank: int
) -> tuple[ClipBank, np.ndarray]:
    d, res = cfg.data, cfg.model.resolution
    show = rank == 0
    occ = vis = None
    if data_dir is not None:
        train = dataset_scenes(data_dir, "train", res)
        try:
            val = dataset_scenes(data_dir, "val", res, max_scenes=32)
        except (ValueError, KeyError):  # no val split: hold out the last tenth of train
            k = max(1, len(train) // 10)
            train, val = train[:-k], train[-k:]
    elif TOY not in d.families and (d.occlusion_windows > 0 or cfg.train.write_weight > 0):
        train, occ, vis = labelled_scenes(d.families, d.scenes, d.frames, res, d.seed, show)
    else:
        train = synthetic_scenes(d.families, d.scenes, d.frames, res, d.seed, show)
    if data_dir is None:
        n_val = max(4, min(32, d.scenes // 8))
        val = synthetic_scenes(d.families, n_val, d.frames, res, d.seed + VAL_SEED_OFFSET, show)
    bank = ClipBank(train, real_fraction=d.real_fraction)
    if occ is not None:
        bank.occluder, bank.visible = occ, vis
    if footage is not None:
        fs = load_footage(footage, res)
        train_real, held = fs.split()
        bank.real = train_real.clips
        if rank == 0:
            report = (
                fs.report() + "\nheld out (never trained): " + ", ".join(c.name for c in held.clips)
            )
            write_atomic(run / "footage_report.txt", report + "\n")
            for path, why in fs.skipped:
                tqdm.write(f"footage: skipped {path}: {why}")
    return bank, val


def _dist_setup(device: str) -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device == "cuda" else "gloo")
    return (dist.get_rank(), world) if world > 1 else (0, 1)


def _save(run: Path, model: FlowMemoryNet, cfg: RunConfig, opt, step: int, extra: dict) -> None:
    ckdir = run / "checkpoints"
    name = f"step-{step:07d}"
    save_checkpoint(ckdir / name, model, cfg, opt, step, extra)
    write_atomic(run / "last.json", json.dumps({"checkpoint": f"checkpoints/{name}", "step": step}))
    prune_checkpoints(ckdir, step, KEEP_CHECKPOINTS)


def train(
    cfg: RunConfig,
    out: str | Path,
    data_dir: str | Path | None = None,
    footage: str | Path | None = None,
    resume: bool = False,
    device: str = "cpu",
    minutes: float | None = None,
    progress: bool = True,
    stop_at: int | None = None,
    overwrite: bool = False,
) -> TrainResult:
    """Train ``cfg`` into run folder ``out``; see the module docstring.

    Args:
        data_dir: a ``twinsim generate`` dataset (train/val splits); None generates scenes of
            ``cfg.data.families`` on the fly from ``cfg.data.seed``.
        footage: folder of real videos / image sequences mixed in at ``cfg.data.real_fraction``
            (every third clip by name is held out for evaluation and never trained on).
        resume: continue from ``out/last.json``; the config must match the saved one.
            Without ``resume`` or ``overwrite`` a non-empty ``out`` is refused.
        minutes: wall-clock budget; the run checkpoints and stops when it is spent.
        stop_at: checkpoint and stop after this global step (the schedule still targets
            ``cfg.train.steps``, so a resumed run continues exactly).
        overwrite: replace the run saved in ``out`` (its checkpoints, logs and config only).

    Raises:
        CheckpointError: resuming a run saved with another config, or nothing to resume.
        RunFolderError: ``out`` holds files and neither ``resume`` nor ``overwrite`` is set.
        NonFiniteError: the loss, the predicted flow or the weights became NaN/inf (the run
            stops before the backward pass; the last good checkpoint stays in place).
        MemoryBudgetError: the model and its training state would not fit in memory.
    """
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but CUDA is not available; use --device cpu")
    run = Path(out)
    prepare_run_folder(run, resume, overwrite, int(os.environ.get("RANK", "0")))
    batch_frames = cfg.train.batch_size * cfg.data.clip_length
    check_model_memory(cfg.model, f"training model {cfg.model.channels}", True, batch_frames)
    rank, world = _dist_setup(device)
    run.mkdir(parents=True, exist_ok=True)
    torch.set_flush_denormal(True)  # tiny gradients of near-static scenes crawl as denormals
    torch.manual_seed(cfg.train.seed)
    model = FlowMemoryNet(cfg.model).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.train.lr, weight_decay=0.0)
    start, history = 0, {"first_loss": float("nan")}
    if resume:
        if not (run / "last.json").is_file():
            raise CheckpointError(f"--resume: {run} has no last.json checkpoint to resume from")
        folder = resolve_checkpoint(run)
        saved = RunConfig.from_json((folder / "config.json").read_text())
        if saved != cfg:
            raise CheckpointError(
                f"--resume: {folder} was trained with another config ({saved.name})"
            )
        model.load_state_dict(read_tensors(folder / "model.safetensors", device))
        check_finite_model(model, f"--resume: {folder}/model.safetensors")
        meta = load_state(folder, opt, max_step=cfg.train.steps)
        start, history["first_loss"] = int(meta["step"]), meta.get("first_loss", float("nan"))
    if rank == 0:
        write_atomic(run / "config.json", cfg.to_json())
    bank, val = _build_data(cfg, data_dir, footage, run, rank)
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    writer = _tensorboard(run) if rank == 0 else None
    t0, loss_v, frames_per_step = time.time(), float("nan"), cfg.train.batch_size * world
    vp, vc = float("nan"), float("nan")
    bar = tqdm(range(start, cfg.train.steps), initial=start, total=cfg.train.steps,
               desc="train", unit="step", disable=not progress or rank != 0)  # fmt: skip
    done, warm = start, cfg.data.clip_length - cfg.train.unroll
    for step in bar:
        for g in opt.param_groups:
            g["lr"] = learning_rate(cfg, step)
        batch, masks = bank.sample(cfg.train.seed, step, cfg.train.batch_size,
                                   cfg.data.clip_length, rank, warm, cfg.data.occlusion_windows)  # fmt: skip
        clips = to_tensor(batch, device)
        occluder = torch.from_numpy(masks).to(device) if masks is not None else None
        loss = _loss(net, clips, cfg, occluder)
        opt.zero_grad(set_to_none=True)
        check_backward_safe(loss, step, lambda: _last_good(run))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.train.grad_clip)
        opt.step()
        check_finite_model(
            model, lambda s=step: f"training stopped at step {s + 1} ({_last_good(run)})"
        )
        loss_v = float(loss.detach())
        if math.isnan(history["first_loss"]):
            history["first_loss"] = loss_v
        rate = (step + 1 - start) * frames_per_step / max(time.time() - t0, 1e-6)
        bar.set_postfix(loss=f"{loss_v:.5f}", clips_s=f"{rate:.1f}")
        done = step + 1
        if done % cfg.train.val_every == 0 or done == cfg.train.steps:
            vp, vc = _validate(model, val, cfg, device)
            if rank == 0:
                rec = {"step": done, "loss": loss_v, "val_psnr": vp, "val_copy_last": vc,
                       "seconds": time.time() - t0}  # fmt: skip
                with open(run / "log.jsonl", "a") as f:
                    f.write(json.dumps(rec) + "\n")
                tqdm.write(f"step {done}: loss {loss_v:.5f} val PSNR {vp:.2f} dB "
                           f"(copy-last {vc:.2f})") if progress else None  # fmt: skip
                if writer is not None:
                    writer.add_scalar("val/psnr", vp, done)
                    writer.add_scalar("train/loss", loss_v, done)
        stop = _budget_spent(t0, minutes, device) or (stop_at is not None and done >= stop_at)
        if rank == 0 and (done % cfg.train.ckpt_every == 0 or done == cfg.train.steps or stop):
            _save(run, model, cfg, opt, done, {"first_loss": history["first_loss"]})
        if stop:
            break
    if writer is not None:
        writer.close()  # flushes the event file
    if world > 1:
        dist.barrier()
    if math.isnan(vp):
        vp, vc = _validate(model, val, cfg, device)
    return TrainResult(run, done, history["first_loss"], loss_v, vp, vc, time.time() - t0)


def _last_good(run: Path) -> str:
    try:
        name = json.loads((run / "last.json").read_text())["checkpoint"]
    except (OSError, ValueError, KeyError, TypeError):
        return "no checkpoint was saved yet; lower train.lr and start again"
    return f"last good checkpoint: {run / name}; lower train.lr and start a new run"


def _budget_spent(t0: float, minutes: float | None, device: str) -> bool:
    spent = minutes is not None and time.time() - t0 > minutes * 60
    if dist.is_initialized():  # every rank must stop at the same step
        flag = torch.tensor([1.0 if spent else 0.0], device=device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        spent = bool(flag.item() > 0)
    return spent


def _tensorboard(run: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # optional dependency (pip install twinsim[tensorboard])
        return None
    return SummaryWriter(str(run / "tb"))
