"""Stage `toy1d`: the 1-D run behind Figure 1 and numeric checks of the paper's Section 4.

Reads:
    params.yaml  toy1d (data and noise, the two nets, Algorithm 1's settings, how each moment of
                 Figure 1 is reached, the estimators' sample sizes)
Writes (each whole, atomically):
    toy1d/snapshots.npz        per moment (a)-(d): p_g (KDE), D and D* on the x grid and G(z)
                               of evenly spaced z; the grid, p_data and the bulk mask
    toy1d/info.json            how each moment was reached and each quantity estimated
    metrics/toy1d.json         Proposition 1, Theorem 1 and optimum checks, each with tolerance and
                               verdict, and the noise floors (a DVC metric)
    plots/toy1d/criterion.tsv  C(G) and -log 4 + 2 JSD along training (a DVC plot)
CPU only, one thread; the default params take well under a minute.
Run alone:
    python stages/toy1d.py [--params params.yaml] [--root .]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ganrepro import config, io, toy1d

OUT_DIR = "toy1d"
OUT_METRICS = "metrics/toy1d.json"
OUT_CRITERION = "plots/toy1d/criterion.tsv"


def summary(metrics: dict) -> str:
    """The three numbers the report states, one line each."""
    p, t, o = metrics["prop1"], metrics["theorem1"], metrics["optimum"]

    def verdict(check: dict) -> str:
        word = "agrees" if check["agrees"] else "DISAGREES"
        return f"tolerance {check['tolerance']:.2g}: {word}"

    return "\n".join(
        [
            f"toy1d: Proposition 1  max |D - D*| after the inner loop = "
            f"{p['max_abs_d_minus_dstar']:.4f} ({verdict(p)})",
            f"toy1d: Theorem 1      final C(G) + log 4 = {t['final_c_plus_log4']:.2e} "
            f"({verdict(t)}); 2 JSD = {t['final_two_jsd']:.2e}",
            f"toy1d: optimum        final max |D - 1/2| = {o['max_abs_d_minus_half']:.4f} "
            f"({verdict(o)})",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    args = io.parse_stage_args(io.stage_parser(__doc__), argv)

    def body() -> None:
        root = Path(args.root)
        cfg = config.toy1d(config.load_params(args.params))
        t0 = time.perf_counter()
        out = toy1d.run(cfg)
        metrics = {**toy1d.theory_checks(out, cfg), "wall_seconds": 0.0}
        with io.fresh_dir(root / OUT_DIR) as tmp:
            io.save_npz(tmp / "snapshots.npz", **toy1d.snapshot_arrays(out, cfg))
            io.write_json(tmp / "info.json", toy1d.describe(out, cfg))
        io.write_text(root / OUT_CRITERION, toy1d.criterion_tsv(out.rows))
        metrics["wall_seconds"] = round(time.perf_counter() - t0, 2)
        io.write_json(root / OUT_METRICS, metrics)
        print(summary(metrics), file=sys.stderr)
        print(f"toy1d: wrote {OUT_DIR}/, {OUT_METRICS}, {OUT_CRITERION}", file=sys.stderr)

    return io.run_main(body)


if __name__ == "__main__":
    sys.exit(main())
