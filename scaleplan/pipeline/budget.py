"""Budgets and scenarios: validated, with human quantities parsed, from CLI flags or a YAML file.

A budget is FLOPs, or hardware time (gpus x days at an MFU), or money (dollars at a price per GPU-hour). A budget
file holds the same fields; top-level fields are defaults for every entry of an optional `scenarios:` list.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from ..cluster import cost as cost_mod
from ..core import _yaml
from ..core.errors import ScaleplanError
from ..schema import limits
from ..schema.conventions import training_flops
from ..schema.units import fmt_sci
from .budget_fields import (  # noqa: F401 (BudgetFieldError and the field lists: re-exported, the schema's names)
    BUDGET_WAYS,
    CLUSTER_FIELDS,
    FIELDS,
    FILE_KEYS,
    INFERENCE_FIELDS,
    MOE_FIELDS,
    RECIPE_FIELDS,
    BudgetFieldError,
    line_index,
    parse_field,
)

# A total budget (training + serving) resolves its hardware, MFU and price like any other; its training FLOPs are
# found by the pipeline's total-budget allocation (pipeline.modes), so Resolved.flops is this placeholder for it.
TOTAL_PLACEHOLDER_FLOPS = 1e21


@dataclass(frozen=True)
class Budget:
    """One planning question, from flags, a budget file's scenario or Python: every field optional, validated by
    from_mapping (the same parser for flags and files)."""

    name: str | None = None
    law: str | None = None
    flops: float | None = None
    gpus: float | None = None
    days: float | None = None
    dollars: float | None = None
    price: float | None = None
    hardware: str | None = None
    peak_flops: float | None = None
    mfu: float | None = None
    inference_tokens: float | None = None
    inference: dict | None = None
    precision: str | None = None
    params: float | None = None
    tokens: float | None = None
    unique_tokens: float | None = None
    moe: dict | None = None
    context: int | None = None
    vocab: int | None = None
    layers: int | None = None
    d_model: int | None = None
    lr_law: str | None = None
    ci: float | None = None
    hfu: float | None = None
    recompute: str | None = None
    zero: int | None = None
    micro_batch: int | None = None
    hardware_file: str | None = None
    serve_bits: int | None = None
    target_loss: float | None = None
    objective: str | None = None
    total_dollars: float | None = None  # training + serving together (with tokens to serve)
    tp: int | None = None  # pinned tensor, pipeline and expert parallelism (scaleplan.cluster.memory.plan_layout)
    pp: int | None = None
    ep: int | None = None
    model: str | None = None
    arch: str | None = None

    @property
    def mode(self) -> str:
        """Which question the budget asks: 'fixed' (params, tokens), 'moe', 'data-constrained' or
        'compute-optimal' (inference-aware sizing joins the last when something is served)."""
        if self.moe is not None and ("total_params" in self.moe or "active_params" in self.moe):
            return "fixed-moe"
        if self.params is not None or self.tokens is not None or self.model is not None:
            return "fixed"
        if self.moe is not None:
            return "moe"
        if self.unique_tokens is not None:
            return "data-constrained"
        return "compute-optimal"

    def given_model(self):
        """The trainer's config `model` names, read (scaleplan.recipe.trainer_configs.ModelConfig); None without one."""
        if self.model is None:
            return None
        from ..recipe.trainer_configs import read_config

        try:
            return read_config(self.model)
        except ScaleplanError as exc:
            raise BudgetFieldError("model", exc.template) from None

    def with_model(self, config=None) -> Budget:
        """A budget naming a model config as a plain fixed model: its exact parameter count (recipe.Shape's) and
        the tokens given, else the tokens the config trains on."""
        config = config if config is not None else self.given_model()
        if config is None:
            return self
        tokens = self.tokens if self.tokens is not None else config.training.get("tokens")
        if tokens is None:
            raise BudgetFieldError("tokens", f"{self.model} says nothing about training tokens: give <tokens>")
        return replace(self, params=float(config.to_shape().total_params), tokens=float(tokens), model=None)

    def recipe_options(self) -> dict:
        return {k: getattr(self, k) for k in RECIPE_FIELDS if getattr(self, k) is not None}

    @classmethod
    def from_mapping(cls, raw: dict, where: str = "", flags: bool = False) -> Budget:
        """Validate a mapping of budget fields.

        Errors name the field as `where` + key (e.g. 'scenarios.0.mfu'), or as a flag ('--mfu') with flags=True.
        """
        unknown = set(raw) - set(FIELDS)
        if unknown:
            key = sorted(unknown, key=str)[0]
            label = "--" + str(key).replace("_", "-") if flags else where + str(key)
            raise BudgetFieldError(where + str(key), f"{label}: unknown key; allowed: {', '.join(FIELDS)}")
        values = {}
        for key, value in raw.items():
            if value is None:
                continue
            label = "--" + key.replace("_", "-") if flags else where + key
            try:
                values[key] = parse_field(key, value, label)
            except BudgetFieldError as exc:
                raise BudgetFieldError(where + exc.path, exc.template) from None
            except ScaleplanError as exc:
                raise BudgetFieldError(where + key, exc.template) from None
        return cls(**values)

    def merged(self, defaults: Budget) -> Budget:
        """This budget with unset fields taken from `defaults`; `inference:` blocks merge key by key."""
        own = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}
        if self.inference is not None and defaults.inference is not None:
            own["inference"] = {**defaults.inference, **self.inference}
        if self.moe is not None and defaults.moe is not None:
            own["moe"] = {**defaults.moe, **self.moe}
        return replace(defaults, **own)

    def overriding(self, other: Budget) -> Budget:
        """`other` (a file's scenario) with this budget's fields (flags) taking precedence. A budget given one way
        replaces the other ways (--dollars over a file's flops), and mfu replaces hfu (or hfu mfu)."""
        drop: set[str] = set()
        if any(getattr(self, k) is not None for k in BUDGET_WAYS):
            drop |= set(BUDGET_WAYS)
        if self.params is not None or self.tokens is not None:
            drop |= {"flops", "target_loss"}
        if self.mfu is not None or self.hfu is not None:
            drop |= {"mfu", "hfu"}
        other = replace(other, **dict.fromkeys(drop))
        for key, block_key in (("inference_tokens", "tokens"), ("objective", "objective")):  # shorthand wins
            if getattr(self, key) is not None and block_key in (other.inference or {}):
                other = replace(other, inference={k: v for k, v in (other.inference or {}).items() if k != block_key})
        return self.merged(other)

    def serving_spec(self) -> dict | None:
        """The `inference:` block, with `inference_tokens` as shorthand for its tokens; None if nothing is served."""
        if self.inference is None and self.inference_tokens is None:
            return None
        spec = dict(self.inference or {})
        if self.inference_tokens is not None:
            spec.setdefault("tokens", self.inference_tokens)
        if self.objective is not None:
            spec.setdefault("objective", self.objective)
        return spec

    @property
    def on_cluster(self) -> bool:
        """Whether the plan is asked about a cluster: memory, layout, recompute or utilisation from the run."""
        return any(getattr(self, k) is not None for k in (*CLUSTER_FIELDS, "gpus"))

    def hardware_spec(self) -> cost_mod.Hardware:
        cost_mod.presets()  # the user's own config file first: its errors name that file, not a field of this budget
        try:
            return cost_mod.get_hardware(self.hardware, self.peak_flops, hardware_file=self.hardware_file)
        except BudgetFieldError:
            raise
        except ScaleplanError as exc:
            field = "hardware_file" if exc.template.startswith("<hardware_file>") else "hardware"
            raise BudgetFieldError(field, exc.template) from None

    def resolve(self, law=None) -> Resolved:
        """Training FLOPs and the cost assumptions, checking the budget is given exactly one way.

        `law` (a Law or its name; default: the budget's own, else the default law) sets the smallest budget that can be
        planned.
        A <target_loss>'s FLOPs stay unknown (NaN) and unchecked: the pipeline sizes them (its Budget stage,
        pipeline.context) and checks them with `check_flops`.
        Errors are BudgetFieldError: they name the field, which the CLI shows as its flag and a file as its key.
        """
        self._check_mode()
        as_budget = self._as_flops_budget(law)
        if as_budget is not None:
            return as_budget
        ways = self._one_way()
        hw = cost_mod.with_given_price(self.hardware_spec(), self.price)
        precision = self.precision or "bf16"
        try:
            hw.peak(precision)  # a clear error where the chip has no such path
        except ScaleplanError as exc:
            raise BudgetFieldError("precision", exc.template) from None
        mfu = self._mfu(hw, precision)
        price = self.price if self.price is not None else hw.price_per_hour  # None: no published price
        self._check_serving_block()
        gpus = self.gpus if self.gpus is not None else cost_mod.DEFAULT_GPUS
        flops = self._flops(hw, precision, mfu, price, gpus)
        if self.target_loss is None:  # a target loss's budget is sized later (pipeline.context.make_context)
            self.check_flops(flops, ways[0], self.law_spec(law))
        return Resolved(
            flops=flops,
            hardware=hw,
            mfu=mfu,
            price=price,
            gpus=gpus,
            warnings=tuple(limits.mfu_warnings(mfu))
            + tuple(cost_mod.precision_warnings(mfu, precision, hw, moe=self.moe is not None)),
            precision=precision,
        )

    def _as_flops_budget(self, law) -> Resolved | None:
        """A total budget, a given MoE, a trainer's config or a fixed model resolved as the FLOPs budget it sets
        (None: the budget is already given as FLOPs, time, money or a target loss)."""
        if self.total_dollars is not None:  # hardware, MFU, price and GPUs; the training FLOPs come from the split
            return replace(self, total_dollars=None, flops=TOTAL_PLACEHOLDER_FLOPS).resolve(law)
        if self.mode in ("fixed", "fixed-moe") and (self.days is not None or self.dollars is not None):
            implied = self.implied_utilisation()
            return replace(self, days=None, dollars=None, mfu=implied.mfu, hfu=None).resolve(law)
        if self.mode == "fixed-moe":
            spec = self.moe or {}
            try:
                limits.check_model(spec["total_params"], self.tokens, what="<moe.total_params>", what_tokens="<tokens>")
            except ScaleplanError as exc:
                raise BudgetFieldError("moe", exc.template) from None
            flops = training_flops(spec["active_params"], self.tokens)  # C = 6 N_active D
            r = replace(self, flops=flops, tokens=None, moe=None).resolve(law)
            moe_warnings = cost_mod.precision_warnings(r.mfu, r.precision, r.hardware, moe=True)
            return replace(r, warnings=tuple(dict.fromkeys(r.warnings + tuple(moe_warnings))))
        if self.model is not None and self.params is None:
            return self.with_model().resolve(law)
        if self.mode == "fixed":
            params, tokens = self.params, self.tokens
            assert params is not None and tokens is not None  # _check_mode: a fixed model gives both
            try:
                limits.check_model(params, tokens, what="<params>", what_tokens="<tokens>")
            except ScaleplanError as exc:
                raise BudgetFieldError("tokens" if "<tokens>" in exc.template else "params", exc.template) from None
            return replace(self, flops=training_flops(params, tokens), params=None, tokens=None).resolve(law)
        return None

    def _one_way(self) -> list[str]:
        """The one way the budget is given (flops, days, dollars or target_loss), as a one-item list."""
        given = (
            ("flops", self.flops),
            ("days", self.days),
            ("dollars", self.dollars),
            ("target_loss", self.target_loss),
        )
        ways = [w for w, value in given if value is not None]
        if len(ways) != 1:
            raise BudgetFieldError(
                ways[1] if len(ways) > 1 else "flops",
                "give the budget one way: <flops>, or <gpus> with <days>, or <dollars>"
                + (", or a <target_loss> with tokens to serve" if self.serving_spec() is not None else "")
                + (f" (got {' and '.join(f'<{w}>' for w in ways)})" if ways else ""),
            )
        if self.days is not None and self.gpus is None:
            raise BudgetFieldError("days", "<days> needs <gpus>: the budget is gpus x days at the given MFU")
        return ways

    def _mfu(self, hw, precision: str) -> float:
        """The MFU given, implied by an HFU, or the default at the precision (published FP8 runs are ~1.34x BF16,
        not 2x: cost.default_mfu)."""
        mfu = self.mfu if self.mfu is not None else cost_mod.default_mfu(precision, hw)
        if self.hfu is not None:  # MFU = HFU x model/hardware FLOPs (cost.recompute_ratio, the one definition)
            if self.mfu is not None:
                raise BudgetFieldError("hfu", "give <mfu> or <hfu>, not both")
            # selective recompute's ratio needs the designed shape: plan_budget solves for it (pipeline._from_hfu);
            # here, before any shape exists, it stands at 1
            recompute = self.recompute or "none"
            mfu = self.hfu / (1.0 if recompute == "selective" else cost_mod.recompute_ratio(recompute))
        return mfu

    def _check_serving_block(self) -> None:
        """The serving block names tokens, and a serving chip that exists (a file: its line)."""
        spec = self.serving_spec() or {}
        if self.inference is not None and "tokens" not in spec:
            raise BudgetFieldError(
                "inference", "inference needs tokens: give <inference_tokens> (how many tokens the model will serve)"
            )
        if spec.get("hardware") is not None:
            try:
                cost_mod.get_hardware(spec["hardware"], hardware_file=self.hardware_file)
            except ScaleplanError as exc:
                raise BudgetFieldError("inference.hardware", exc.template) from None

    def _flops(self, hw, precision: str, mfu: float, price, gpus) -> float:
        """The training FLOPs the budget buys: given, gpus x days, dollars at the price, or (a target loss) NaN until
        the pipeline sizes the compute-optimal budget reaching it."""
        if self.target_loss is not None:
            return math.nan
        if self.flops is not None:
            return self.flops
        if self.days is not None:
            return gpus * self.days * 86400.0 * hw.peak(precision) * mfu  # gpus given: _one_way checked
        assert self.dollars is not None  # the one way left (_one_way)
        if price is None:
            raise BudgetFieldError("dollars", f"<dollars> needs <price>: {cost_mod.price_label(hw, None)}")
        return self.dollars / price * cost_mod.SECONDS_PER_HOUR * hw.peak(precision) * mfu

    def check_flops(self, flops: float, way: str, law) -> None:
        """The budget within the caps and above the law's smallest plannable budget, named by the way it was given."""
        try:
            limits.check_flops(flops, "budget", law)
        except ScaleplanError as exc:
            reason = exc.template.removeprefix("budget: ")
            if way == "target_loss":  # the budget is the compute-optimal model's for that loss
                reached = f"<target_loss> {self.target_loss:g} is the compute-optimal loss of {fmt_sci(flops)} FLOPs"
                reason = f"{reached}: {reason}"
            raise BudgetFieldError(way, reason) from None

    def implied_utilisation(self):
        """A fixed model (or a given MoE: 6 N_active D), or work given in FLOPs (`scaleplan cluster --flops`),
        trained on `gpus` for `days` (or for `dollars`): the MFU that takes (cost.Implied)."""
        if self.days is not None and self.gpus is None:
            raise BudgetFieldError("days", "<days> needs <gpus>: the MFU is 6ND over gpus x days x peak")
        hw = self.hardware_spec()
        price = self.price if self.price is not None else hw.price_per_hour
        if self.dollars is not None and price is None:
            raise BudgetFieldError("dollars", f"<dollars> needs <price>: {cost_mod.price_label(hw, None)}")
        n = (self.moe or {}).get("active_params", self.params)
        assert self.flops is not None or (n is not None and self.tokens is not None)  # work, a model or a MoE
        work = self.flops if self.flops is not None else training_flops(n, self.tokens)
        try:
            implied = cost_mod.implied_utilisation(
                work,
                hw,
                gpus=self.gpus,
                days=self.days,
                dollars=self.dollars,
                price=price,
                precision=self.precision or "bf16",
            )  # MFU counts model FLOPs only: the cluster stage adds recomputed work (HFU) by the designed shape
        except ScaleplanError as exc:
            raise BudgetFieldError("days" if self.days is not None else "dollars", exc.template) from None
        if not 0 < implied.mfu <= 1:
            raise BudgetFieldError(
                "days" if self.days is not None else "dollars",
                f"the run cannot finish: it would need an MFU of {_percent(implied.mfu)} (more than 100%)",
            )
        return implied

    def _check_mode(self) -> None:
        """One question at a time: a fixed model, or a budget (optionally MoE, or with limited unique data)."""
        if self.mode == "fixed-moe":
            self._check_given_moe()
        else:
            self._check_fixed()
            self._check_sizing()
            self._check_total()
            if self.moe is not None and self.unique_tokens is not None:
                raise BudgetFieldError("moe", "<moe> does not combine with <unique_tokens>")
        self._check_ci()

    def _check_given_moe(self) -> None:
        spec = self.moe or {}
        if "total_params" not in spec or "active_params" not in spec or self.tokens is None:
            raise BudgetFieldError("moe", "a given MoE needs <moe.total_params>, <moe.active_params> and <tokens>")
        if spec["active_params"] > spec["total_params"]:
            raise BudgetFieldError("moe", "<moe.active_params> cannot exceed <moe.total_params>")
        shaped = [k for k in ("granularity", "expansion") if k in spec]
        if shaped:  # a given MoE is priced from its parameter counts; nothing would use its shape
            raise BudgetFieldError(
                "moe", f"a given MoE is priced from its total and active parameters; drop <moe.{shaped[0]}>"
            )
        given = [k for k in ("flops", "params", "unique_tokens") if getattr(self, k) is not None]
        if given:
            raise BudgetFieldError(given[0], f"a given MoE sets its own budget (6 N_active D); drop <{given[0]}>")

    def _check_fixed(self) -> None:
        """A fixed model: both params and tokens (or a trainer's config), its budget set by them."""
        if self.model is not None:
            pinned = [k for k in ("params", *RECIPE_FIELDS[:-1]) if getattr(self, k) is not None]
            if pinned:
                raise BudgetFieldError(pinned[0], f"<model> gives the model's shape and size; drop <{pinned[0]}>")
        elif (self.params is None) != (self.tokens is None):
            raise BudgetFieldError(
                "params" if self.params is None else "tokens", "a fixed model needs both <params> and <tokens>"
            )
        if self.params is None and self.model is None:
            return
        if self.flops is not None:
            raise BudgetFieldError("flops", "<params> and <tokens> set the budget (6ND); drop <flops>")
        if self.days is not None and self.dollars is not None:
            raise BudgetFieldError(
                "dollars",
                "give the run's time (<gpus> and <days>) or its money (<dollars>), not both: either implies the MFU",
            )
        if (self.days is not None or self.dollars is not None) and (self.mfu or self.hfu) is not None:
            raise BudgetFieldError(
                "mfu" if self.mfu is not None else "hfu",
                "<days> or <dollars> with a fixed model imply the utilisation; drop "
                + ("<mfu>" if self.mfu is not None else "<hfu>"),
            )
        if self.moe is not None:
            raise BudgetFieldError(
                "moe", "<moe> plans from a budget alone; it does not combine with <params> and <tokens>"
            )

    def _check_sizing(self) -> None:
        """<objective> and <target_loss> size a dense model inference-aware: they need tokens to serve."""
        if self.objective is not None and self.serving_spec() is None:
            raise BudgetFieldError(
                "objective", "<objective> chooses how the inference-aware model is sized: give <inference_tokens> too"
            )
        if self.mode != "compute-optimal" and "objective" in (self.serving_spec() or {}):
            raise BudgetFieldError(
                "objective" if self.objective is not None else "inference",
                f"<objective> chooses how a dense model is sized inference-aware; a {self.mode} plan is priced for "
                "what it serves but not sized by it: drop <objective>",
            )
        if self.target_loss is None:
            return
        if self.mode != "compute-optimal":
            other = "moe" if self.moe is not None else "params" if self.params is not None else "unique_tokens"
            raise BudgetFieldError(
                "target_loss", f"<target_loss> sizes a dense model inference-aware; it does not combine with <{other}>"
            )
        if self.serving_spec() is None:
            raise BudgetFieldError(
                "target_loss",
                "<target_loss> is the quality of inference-aware sizing: give <inference_tokens> too "
                "(0 for the compute-optimal model reaching it)",
            )

    def _check_total(self) -> None:
        """<total_dollars> is the whole budget, training and serving: no other way, and tokens to serve."""
        if self.total_dollars is None:
            return
        ways = ("flops", "dollars", "days", "target_loss", "params", "model", "moe", "unique_tokens")
        given = [k for k in ways if getattr(self, k) is not None]
        if given:
            raise BudgetFieldError(
                "total_dollars", f"<total_dollars> is the whole budget, training and serving: drop <{given[0]}>"
            )
        if "tokens" not in (self.serving_spec() or {}):
            raise BudgetFieldError(
                "total_dollars", "<total_dollars> pays for training and serving: give <inference_tokens> too"
            )

    def _check_ci(self) -> None:
        """Intervals exist for the compute-optimal plan only."""
        if self.ci is None:
            return
        if self.mode != "compute-optimal":
            raise BudgetFieldError(
                "ci", f"<ci> gives intervals on the compute-optimal plan only; a {self.mode} plan has none yet"
            )
        if self.serving_spec() is not None:
            raise BudgetFieldError(
                "ci",
                "<ci> gives intervals on the compute-optimal plan; with tokens to serve the "
                "recommendation is the inference-aware model, which has none yet",
            )

    def law_spec(self, law=None):
        """The law this budget plans with (an override, its own, or the default), checked to exist."""
        from .. import laws

        try:
            return laws.get(law or self.law or laws.DEFAULT_LAW)
        except ScaleplanError as exc:
            raise BudgetFieldError("law", exc.template) from None


@dataclass(frozen=True)
class Resolved:
    """A budget resolved to FLOPs on a hardware preset, with the utilisation, price and device count it uses."""

    flops: float
    hardware: cost_mod.Hardware
    mfu: float
    price: float | None
    gpus: float
    warnings: tuple[str, ...]
    precision: str = "bf16"


# ---------------------------------------------------------------------------------------------------------------
# Budget files


def load_budget_file(path: str | Path, law=None, overrides: Budget | None = None) -> list[Budget]:
    """Scenarios from a YAML budget file; errors name the file, the line of the key, the key and the scenario.

    A law file named in the budget file is found relative to the budget file's folder. `law` overrides every
    scenario's law (as `scaleplan plan FILE --law`); `overrides` (a Budget: `scaleplan plan FILE`'s planning flags)
    overrides its fields in every scenario (Budget.overriding).
    """
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise ScaleplanError(f"<path> must be a budget file name (str or Path), got {path!r}")
    raw, tree = _yaml.read_user(path, "budget file")
    lines = line_index(tree) if tree is not None else {}

    def fail(key_path: str, message: str, scenario: str = ""):
        line = lines.get(key_path)
        if line is None and "." in key_path:  # an inherited key: point at the top-level one
            line = lines.get(key_path.split(".", 2)[-1])
        loc = f"{path}:{line}" if line else str(path)
        if message.startswith(key_path):
            scenario = ""  # the message names the key path, scenario index included
        else:
            parts = key_path.split(".", 2)
            key = parts[2] if parts[0] == "scenarios" and len(parts) == 3 else key_path
            message = f"{key}: {message}" if key and not message.startswith(key) else message
        raise ScaleplanError(f"{loc}: {scenario}{message}")

    if not isinstance(raw, dict):
        raise ScaleplanError(
            f"{path}: a budget file must be a mapping of fields (flops:, scenarios:, ...), "
            f"not {'a list' if isinstance(raw, list) else 'a single value'}"
        )
    unknown = set(raw) - FILE_KEYS
    if unknown:
        key = sorted(unknown)[0]
        fail(key, f"unknown key {key!r}; allowed: {', '.join(sorted(FILE_KEYS))}")
    top = {k: v for k, v in raw.items() if k in FIELDS}
    try:
        defaults = _relative_law(Budget.from_mapping(top), path)
    except BudgetFieldError as exc:
        fail(exc.path, exc.message)
    scenarios = raw.get("scenarios")
    entries, owners = _scenarios(scenarios, defaults, path, fail)
    if overrides is not None:
        entries = [overrides.overriding(entry) for entry in entries]
    for i, (entry, owner) in enumerate(zip(entries, owners)):
        try:
            entry.resolve(law)
        except BudgetFieldError as exc:
            if overrides is not None and getattr(overrides, exc.path.split(".")[0], None) is not None:
                # a value the caller gave, not the file's: name it as given (<mfu>: --mfu on the command line)
                where = f"scenario {entry.name!r}: " if scenarios is not None else ""
                raise ScaleplanError(f"{path}: {where}{exc.template}") from None
            field = exc.path.split(".")[0]
            own = scenarios is not None and field in scenarios[i]
            where = f"{owner}{exc.path}" if own else exc.path
            fail(where, str(exc), f"scenario {entry.name!r}: " if owner else "")
    return entries


def _scenarios(scenarios, defaults: Budget, path, fail) -> tuple[list[Budget], list[str]]:
    """(budgets, their key prefixes) of a file's scenarios, each over the top level's fields; the top level alone
    when the file has none."""
    if scenarios is None:
        return [defaults if defaults.name else replace(defaults, name=Path(path).stem)], [""]
    if not isinstance(scenarios, list) or not scenarios:
        fail("scenarios", "must be a non-empty list of scenarios")
    if len(scenarios) > limits.MAX_SCENARIOS:
        fail("scenarios", f"{len(scenarios):,} scenarios; the limit is {limits.MAX_SCENARIOS:,}")
    entries, owners = [], []
    for i, item in enumerate(scenarios):
        if not isinstance(item, dict):
            fail(f"scenarios.{i}", "each scenario must be a mapping of fields")
        try:
            entry = _relative_law(Budget.from_mapping(item, where=f"scenarios.{i}."), path)
        except BudgetFieldError as exc:
            fail(exc.path, exc.message)
        entry = entry.overriding(defaults)  # a scenario's own budget replaces the top level's
        entries.append(entry if entry.name else replace(entry, name=f"scenario {i + 1}"))
        owners.append(f"scenarios.{i}.")
    return entries, owners


def _relative_law(budget: Budget, path) -> Budget:
    """A law file named in a budget file is relative to the budget file, not to the current folder."""
    law, hw_file = budget.law, budget.hardware_file
    if law and law.endswith((".yaml", ".yml")) and not Path(law).is_absolute():
        budget = replace(budget, law=str(Path(path).parent / law))
    if hw_file and not Path(hw_file).is_absolute():  # so is a hardware file
        budget = replace(budget, hardware_file=str(Path(path).parent / hw_file))
    if budget.model and not Path(budget.model).is_absolute():  # and a model config
        budget = replace(budget, model=str(Path(path).parent / budget.model))
    return budget


def _percent(share: float) -> str:
    """A share as a short percentage, however absurd (1e300 -> '1.00e+302%', not 300 digits)."""
    return f"{share:.0%}" if share < 100 else f"{fmt_sci(share * 100)}%"
