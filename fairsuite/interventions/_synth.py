"""Fairness-constrained synthetic rows for tables (SDV 2.x), fitted on the training rows only.

:class:`SyntheticAugmenter` fits an SDV single-table synthesizer -- GaussianCopula by default
(its conditional sampling is analytic), CTGAN as an option (its conditions fall back to reject
sampling, which can come back short for rare cells) -- on the training rows, then fills every
group x label cell up to its target with conditional samples (``Condition`` /
``sample_from_conditions``). The real rows are all kept; synthetic rows carry
``is_synthetic = True``. A cell that could not be filled is reported with its shortfall
(``shortfalls_``), never silently. The synthetic rows' fidelity is measured with
``sdv.evaluation.evaluate_quality`` against real training rows drawn with the same group x label
composition (``quality_``: the overall score, column shapes and column pair trends).

SDV is an optional extra (``pip install 'fairsuite[synth]'``), imported only here and only when
used; it never downloads anything.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from fairsuite.exceptions import MissingDependencyError, SpecError
from fairsuite.interventions._resample import RandomOverSampler, _Rebalancer

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SyntheticAugmenter", "require_sdv", "SYNTHESIZERS"]

SYNTHESIZERS = ("gaussian_copula", "ctgan")
SDV_MISSING = (
    "the 'synth' intervention needs SDV, which is not installed; install the extra with "
    "pip install 'fairsuite[synth]' (or choose another --intervention)."
)
_TABLE = "train"


def require_sdv() -> None:
    """Raise :class:`MissingDependencyError` (exit code 2) with the install hint when SDV is
    not importable."""
    import importlib.util

    if importlib.util.find_spec("sdv") is None:
        raise MissingDependencyError(SDV_MISSING)
    try:
        import sdv  # noqa: F401
    except ImportError as err:  # installed but broken (a missing dependency of its own)
        raise MissingDependencyError(f"{SDV_MISSING} ({err})") from err


@contextlib.contextmanager
def _quiet(progress: bool) -> Iterator[None]:
    """SDV's own warnings and (unless ``progress``) its progress bars stay out of the output.

    SDV's samplers show a tqdm bar with no way to turn it off; the bar is silenced by giving
    SDV's module a tqdm whose bars are disabled, for the duration of the call only.
    """
    import functools
    import types

    import sdv.single_table.base as base

    old = base.tqdm
    if not progress:
        import tqdm

        base.tqdm = types.SimpleNamespace(tqdm=functools.partial(tqdm.tqdm, disable=True))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        base.tqdm = old


class SyntheticAugmenter(_Rebalancer):
    """Add synthetic rows until every group x label cell holds its target share.

    Parameters
    ----------
    sampling_strategy : str, mapping or dataset, default "parity"
        The target composition (see :mod:`fairsuite.interventions`); ``"parity"`` is the
        fairness constraint: every group gets the overall positive rate.
    by : str or sequence of str
        The sensitive attribute(s) whose groups are balanced.
    columns : sequence of str
        The columns the synthesizer models (features, sensitive attributes); ``y`` and the
        ``by`` columns are always included.
    synthesizer : {"gaussian_copula", "ctgan"}
    epochs : int, default 100
        CTGAN's training epochs (GaussianCopula has none).
    random_state : int

    Attributes
    ----------
    n_synthetic_ : dict
        (group, label code) -> synthetic rows added.
    shortfalls_ : dict
        (group, label code) -> rows asked for but not generated (only cells that fell short).
    quality_ : dict
        ``overall``, ``column_shapes``, ``column_pair_trends`` (0-1) and ``compared_with``.
    """

    kind = "synth"

    def __init__(
        self,
        sampling_strategy: Any = "parity",
        *,
        columns: Sequence[str] = (),
        synthesizer: str = "gaussian_copula",
        epochs: int = 100,
        progress: bool = False,
        **kw: Any,
    ) -> None:
        super().__init__(sampling_strategy, **kw)
        self.columns = columns
        self.synthesizer = synthesizer
        self.epochs = epochs
        self.progress = progress

    def fit_resample(
        self, table: pd.DataFrame, *, classes: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """The real rows (``is_synthetic = False``), then the synthetic ones."""
        import numpy as np
        import pandas as pd

        if self.synthesizer not in SYNTHESIZERS:
            raise SpecError(
                f"synthesizer must be one of {', '.join(SYNTHESIZERS)}; got {self.synthesizer!r}."
            )
        require_sdv()
        self._prepare(table, classes)
        sizer = RandomOverSampler(self.sampling_strategy, by=self.by_, classes=self.classes_)
        sizer._prepare(table, self.classes_)
        size = sizer._size()
        from fairsuite.interventions._resample import _grow

        want = _grow(dict(self.counts_before_), self.target_, size)
        cols = list(dict.fromkeys([*self.columns, *self.by_, "y"]))
        real = table[cols].reset_index(drop=True)
        synth, self.n_synthetic_, self.shortfalls_ = self._generate(real, want)
        self.quality_ = self._quality(real, synth) if len(synth) else None
        out_real = table.copy()
        out_real["is_synthetic"] = False
        fill = synth.assign(is_synthetic=True)
        if "split" in table.columns:
            fill["split"] = "train"
        if "row_id" in table.columns:
            fill["row_id"] = [f"synthetic-{i}" for i in range(len(fill))]
        out = pd.concat([out_real, fill], ignore_index=True)
        self.sample_indices_ = np.concatenate(
            [np.arange(len(table)), np.full(len(fill), -1)]
        ).astype(int)
        self.counts_after_ = {
            cell: self.counts_before_.get(cell, 0) + self.n_synthetic_.get(cell, 0)
            for cell in self.target_
        }
        return out

    def _metadata(self, real: pd.DataFrame) -> Any:
        from sdv.metadata import Metadata

        md = Metadata.detect_from_dataframes({_TABLE: real})
        for col in (*self.by_, "y"):
            md.update_column(col, sdtype="categorical", table_name=_TABLE)
        return md

    def _generate(
        self, real: pd.DataFrame, want: dict[tuple[str, int], int]
    ) -> tuple[pd.DataFrame, dict[tuple[str, int], int], dict[tuple[str, int], int]]:
        import pandas as pd

        with _quiet(self.progress):
            from sdv.sampling import Condition

            md = self._metadata(real)
            self._md = md
            if self.synthesizer == "ctgan":
                from sdv.single_table import CTGANSynthesizer

                syn = CTGANSynthesizer(md, epochs=self.epochs, verbose=False)
            else:
                from sdv.single_table import GaussianCopulaSynthesizer

                syn = GaussianCopulaSynthesizer(md)
            syn.fit({_TABLE: real})
            if hasattr(syn, "_set_random_state"):
                syn._set_random_state(self.random_state)
            parts, added, short = [], {}, {}
            for cell, k in want.items():
                need = k - self.counts_before_.get(cell, 0)
                if need <= 0:
                    continue
                parts_of = cell[0].split(" x ") if len(self.by_) > 1 else [cell[0]]
                values = dict(zip(self.by_, parts_of, strict=True))
                values["y"] = int(cell[1])
                try:
                    got = syn.sample_from_conditions([Condition(values, num_rows=need)])
                    got = got[_TABLE] if isinstance(got, dict) else got
                except ValueError:  # SDV: "Unable to sample any rows for the given conditions"
                    got = real.iloc[:0]
                got = got.head(need)
                added[cell] = len(got)
                if len(got) < need:
                    short[cell] = need - len(got)
                parts.append(got)
        synth = pd.concat(parts, ignore_index=True) if parts else real.iloc[:0].copy()
        for col in real.columns:  # SDV may widen dtypes; keep the real ones where possible
            with contextlib.suppress(ValueError, TypeError):
                synth[col] = synth[col].astype(real[col].dtype)
        return synth, added, short

    def _quality(self, real: pd.DataFrame, synth: pd.DataFrame) -> dict[str, Any]:
        """evaluate_quality against real rows with the synthetic rows' cell composition."""
        import numpy as np

        from fairsuite.interventions._strategy import group_keys

        rng = np.random.default_rng(self.random_state + 1)
        keys_r = group_keys(real, self.by_).to_numpy()
        picks = []
        for (g, c), k in self.n_synthetic_.items():
            members = np.flatnonzero((keys_r == g) & (real["y"].to_numpy() == c))
            if k and len(members):
                picks.append(rng.choice(members, size=k, replace=k > len(members)))
        ref = real.iloc[np.concatenate(picks)].reset_index(drop=True)
        with _quiet(False):
            from sdv.evaluation import evaluate_quality

            report = evaluate_quality(ref, synth, self._md, verbose=False)
        props = report.get_properties().set_index("Property")["Score"].to_dict()

        def num(v: Any) -> float | None:
            v = float(v)
            return None if math.isnan(v) else round(v, 6)

        return {
            "overall": num(report.get_score()),
            "column_shapes": num(props.get("Column Shapes", float("nan"))),
            "column_pair_trends": num(props.get("Column Pair Trends", float("nan"))),
            "compared_with": (
                f"{len(ref):,} real training rows drawn with the synthetic rows' "
                f"group x label composition"
            ),
            "rows": len(synth),
        }
