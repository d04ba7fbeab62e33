"""Write configs/sample-runs.csv (and its copy in scaleplan/data/configs/): the small runs file the README's `fit`
examples use, so that they run from a package install (`scaleplan init` writes it).

The runs are SYNTHETIC: an IsoFLOP sweep (5 budgets from 1e18 to 1e20 FLOPs, 7 model sizes each, from 1/8x to 8x
the law's optimum) whose losses are the law of Besiroglu, Erdil, Barnett & You 2024 ("Chinchilla Scaling: A
replication attempt", arXiv:2404.10102, Table 1: E 1.8172, A 482.01, B 2085.43, alpha 0.3478, beta 0.3658;
L = E + A/N^alpha + B/D^beta, D = C / 6N) times log-normal noise of 1% (sigma 0.01 in log loss, numpy seed 0),
rounded to 4 decimals. They stand in for a lab's own small runs: fitting them recovers roughly that law. They are
not published measurements; for a fit on real runs use Epoch's released data (epoch-research/analyzing-chinchilla,
data/svg_extracted_data.csv), as the README's reference section does.

Run from the repository root:  python tools/sample_runs.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

E, A, B, ALPHA, BETA = 1.8172, 482.01, 2085.43, 0.3478, 0.3658  # Besiroglu et al. 2024, Table 1
BUDGETS = (1e18, 3e18, 1e19, 3e19, 1e20)
RATIOS = np.geomspace(1 / 8, 8, 7)
SIGMA, SEED = 0.01, 0

ROOT = Path(__file__).resolve().parents[1]
TARGETS = (ROOT / "configs" / "sample-runs.csv", ROOT / "scaleplan" / "data" / "configs" / "sample-runs.csv")


def optimum(c: float) -> float:
    """N_opt(C) of the law in closed form (Hoffmann et al. 2022, eq. 4)."""
    g = (ALPHA * A / (BETA * B)) ** (1 / (ALPHA + BETA))
    return g * (c / 6) ** (BETA / (ALPHA + BETA))


def rows() -> list[str]:
    rng = np.random.default_rng(SEED)
    out = ["params,tokens,loss"]
    for c in BUDGETS:
        for r in RATIOS:
            n = float(f"{optimum(c) * r:.3g}")
            d = float(f"{c / (6 * n):.3g}")
            loss = (E + A / n**ALPHA + B / d**BETA) * float(np.exp(rng.normal(0, SIGMA)))
            out.append(f"{n:.3g},{d:.3g},{loss:.4f}")
    return out


def main() -> None:
    text = "\n".join(rows()) + "\n"
    for path in TARGETS:
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)} ({len(text.splitlines()) - 1} runs)")


if __name__ == "__main__":
    main()
