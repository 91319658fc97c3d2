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
from twinsim.neural.clips import dataset_source, engine_source
from twinsim.neural.config import RunConfig
from twinsim.neural.data import TOY, ClipBank
from twinsim.neural.footage import load_footage
from twinsim.neural.guards import (
    check_backward_safe,
    check_finite_model,
    check_model_memory,
    prepare_run_folder,
    prune_checkpoints,
)
from twinsim.neural.metrics import mse_to_psnr
from twinsim.neural.model import FlowMemoryNet
from twinsim.neural.model import frames_to_tensor as to_tensor

__all__ = ["LOSS_TERMS", "TrainResult", "learning_rate", "loss_terms", "to_tensor", "train"]

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


def learning_rate(cfg: RunConfig, step: int) -> float:
    """Linear warm-up, then cosine decay to 10% of the peak at ``cfg.train.steps``."""
    t = cfg.train
    if step < t.warmup_steps:
        return t.lr * (step + 1) / t.warmup_steps
    frac = min(1.0, (step - t.warmup_steps) / max(1, t.steps - t.warmup_steps))
    return t.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


LOSS_TERMS = ("frames", "write", "keep", "flow", "recall")


def loss_terms(
    model: torch.nn.Module, batch: dict[str, torch.Tensor], cfg: RunConfig
) -> dict[str, torch.Tensor]:
    """Every loss term of one batch, unweighted (a term whose labels are absent is left out).

    * ``frames``: MSE of the unrolled rollout + half the teacher-forced one-step MSE.
    * ``write``: BCE of the memory write mask against "store every pixel except an occluder's"
      (engine segmentation + the families' ``occluder`` role; real clips: store everything).
    * ``keep``: BCE of the keep gate against "the true next frame equals the newest input".
    * ``flow``: mean |warp - engine backward flow| / ``model.max_flow`` over pixels with a flow
      label, every step (full resolution).
    * ``recall``: BCE pushing the blend's memory weight to 1 where an occluder covered the
      newest input frame and has left the predicted frame.

    ``batch``: float ``rgb`` (B, T, 3, H, W) in [0, 1] plus optional ``occluder`` (B, T, H, W)
    bool, ``flow`` (B, T, H, W, 2) float and ``flow_valid`` (B, T, H, W) bool.
    """
    clips = batch["rgb"]
    warm = cfg.data.clip_length - cfg.train.unroll
    out = model(clips[:, :warm], cfg.train.unroll)
    terms = {"frames": F.mse_loss(out.future, clips[:, warm:])}
    if out.teacher.shape[1]:
        terms["frames"] = terms["frames"] + 0.5 * F.mse_loss(out.teacher, clips[:, 1:warm])
    n = out.writes.shape[1]  # step t reads frame t (newest input) and predicts frame t + 1
    occluder = batch.get("occluder")
    if occluder is not None:
        target = (~occluder[:, :n, None]).float()
        terms["write"] = F.binary_cross_entropy(out.writes.clamp(1e-4, 1 - 1e-4), target)
        if out.blends.shape[1]:
            left = (occluder[:, :n] & ~occluder[:, 1 : n + 1])[:, :, None].float()
            if left.sum() > 0:
                mem = out.blends[:, :, 1:2].clamp(1e-4, 1 - 1e-4)
                terms["recall"] = (-torch.log(mem) * left).sum() / left.sum()
            else:
                terms["recall"] = out.blends.sum() * 0.0
    if out.keeps.shape[1]:
        # step t's newest input: true frame t while observed, then the fed-back prediction
        newest = torch.cat([clips[:, :warm], out.future[:, :-1]], 1).detach()
        truth = clips[:, 1 : warm + cfg.train.unroll]
        still = ((truth - newest).abs().amax(2, keepdim=True) < KEEP_TOLERANCE).float()
        terms["keep"] = F.binary_cross_entropy(out.keeps.clamp(1e-4, 1 - 1e-4), still)
    if "flow" in batch:
        m = cfg.model.max_flow
        target = batch["flow"][:, 1 : n + 1].permute(0, 1, 4, 2, 3).clamp(-m, m)
        valid = batch["flow_valid"][:, 1 : n + 1, None].float()
        err = (out.flows - target).abs() / m
        terms["flow"] = (err * valid).sum() / (2 * valid.sum()).clamp_min(1.0)
    return terms


def _loss(model: torch.nn.Module, batch: dict[str, torch.Tensor], cfg: RunConfig) -> torch.Tensor:
    """The training loss: the frame term plus each auxiliary term at its ``train.*_weight``."""
    terms = loss_terms(model, batch, cfg)
    t = cfg.train
    weights = {"frames": 1.0, "write": t.write_weight, "keep": t.keep_weight,
               "flow": t.flow_weight, "recall": t.recall_weight}  # fmt: skip
    return sum(weights[k] * v for k, v in terms.items() if weights[k] > 0)


def batch_to_tensors(batch: dict[str, np.ndarray], device: str | torch.device) -> dict:
    """A sampled numpy batch (see :class:`ClipBank`) as torch tensors for :func:`loss_terms`."""
    out = {"rgb": to_tensor(batch["rgb"], device)}
    for key in ("occluder", "flow", "flow_valid"):
        if key in batch:
            out[key] = torch.from_numpy(batch[key]).to(device)
    if "flow" in out:
        out["flow"] = out["flow"].float()
    return out


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
        mse = ((a - truth) ** 2).mean(dim=(2, 3, 4))
        return float(mse_to_psnr(mse.double().cpu().numpy()).mean())

    return psnr(pred), psnr(copy)


def _build_data(
    cfg: RunConfig,
    data_dir: str | Path | None,
    footage: str | Path | None,
    run: Path,
    rank: int,
    deadline: float | None = None,
    progress: bool = True,
) -> tuple[ClipBank, np.ndarray]:
    """The training clip bank and validation scenes; both paths give the same clip labels."""
    d, res = cfg.data, cfg.model.resolution
    show = rank == 0 and progress
    labels = cfg.clip_labels()
    if data_dir is not None:
        source = dataset_source(data_dir, "train", res, labels)
        try:
            val_src = dataset_source(data_dir, "val", res, max_scenes=32)
            val = np.stack([val_src.rgb(i) for i in range(len(val_src))])
        except (ValueError, KeyError, LookupError):  # no val split: last tenth of train
            k = max(1, len(source) // 10)
            val = np.stack([source.rgb(i) for i in range(len(source) - k, len(source))])
    else:
        if TOY in d.families and "flow" in labels:
            raise ValueError(
                "train.flow_weight needs engine flow labels; the toy family has none "
                "(set train.flow_weight=0 or use engine families)"
            )
        source = engine_source(d.families, d.scenes, d.frames, res, d.seed, labels, show,
                                  deadline)  # fmt: skip
        n_val = max(4, min(32, d.scenes // 8))
        val_src = engine_source(d.families, n_val, d.frames, res, d.seed + VAL_SEED_OFFSET,
                                   progress=show)  # fmt: skip
        val = np.stack([val_src.rgb(i) for i in range(len(val_src))])
    if d.occlusion_windows > 0 and show:
        spans = ClipBank(source).spanning_starts(d.clip_length, d.clip_length - cfg.train.unroll)
        if not spans:
            tqdm.write("data.occlusion_windows: no window of these scenes spans an occlusion "
                       "(families without an occluder role?); sampling plain windows")  # fmt: skip
    bank = ClipBank(source, real_fraction=d.real_fraction)
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
        minutes: wall-clock budget of the whole run (scene simulation, footage decoding and
            training); simulation stops early at half of it, training checkpoints and stops
            when it is spent.
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
    t_start = time.time()  # --minutes bounds the whole run, scene simulation included
    deadline = None if minutes is None else t_start + minutes * 60 * 0.5
    rank, world = _dist_setup(device)
    run.mkdir(parents=True, exist_ok=True)
    torch.set_flush_denormal(True)  # tiny gradients of near-static scenes crawl as denormals
    torch.manual_seed(cfg.train.seed)
    # NHWC: the convolutions' fast layout on CPU (a cpu-preset step on one thread: 0.82 -> 0.68 s
    # on a synthetic batch, 0.90 -> 0.87 s on real ones); checkpoints store contiguous copies
    model = FlowMemoryNet(cfg.model).to(device, memory_format=torch.channels_last)
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
    bank, val = _build_data(cfg, data_dir, footage, run, rank, deadline, progress)
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
        batch = bank.sample(cfg.train.seed, step, cfg.train.batch_size,
                            cfg.data.clip_length, rank, warm, cfg.data.occlusion_windows)  # fmt: skip
        loss = _loss(net, batch_to_tensors(batch, device), cfg)
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
        stop = _budget_spent(t_start, minutes, device) or (stop_at is not None and done >= stop_at)
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
