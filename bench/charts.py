"""PNG charts of bench/results.json (matplotlib, the `bench` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

COUNTS = (
    ("pages_written", "pages written"),
    ("s3_puts", "S3 PUTs"),
    ("dynamodb_requests", "DynamoDB requests"),
    ("write_units", "WCU (computed)"),
    ("read_units", "RCU (computed)"),
    ("invalidation_paths", "invalidation paths"),
)
MIB = 1024 * 1024


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def publish_cost_chart(cost: dict[str, Any], path: Path) -> Path:
    plt = _pyplot()
    sizes = [str(size) for size in cost["sizes"]]
    sites = cost["sites"]
    figure, (counts_axis, time_axis) = plt.subplots(1, 2, figsize=(13, 4.8))
    width = 0.8 / len(sizes)
    for offset, size in enumerate(sizes):
        values = [sites[size]["counts"][key] for key, _ in COUNTS]
        positions = [i + offset * width for i in range(len(COUNTS))]
        bars = counts_axis.bar(positions, values, width, label=f"{int(size):,} posts")
        counts_axis.bar_label(bars, fmt="%g", fontsize=7)
    counts_axis.set_xticks([i + width * (len(sizes) - 1) / 2 for i in range(len(COUNTS))])
    counts_axis.set_xticklabels([label for _, label in COUNTS], rotation=20, fontsize=8)
    counts_axis.set_title("Cost of publishing one post, by site size")
    counts_axis.legend()
    render = [sites[size]["median_render_post_seconds"] * 1000 for size in sizes]
    build = [sites[size]["median_build_indexes_seconds"] * 1000 for size in sizes]
    labels = [f"{int(size):,}" for size in sizes]
    time_axis.bar(labels, render, label="RenderPostFunction")
    time_axis.bar(labels, build, bottom=render, label="BuildIndexesFunction")
    limit = 1.2 * (render[0] + build[0])
    time_axis.axhline(limit, color="red", linestyle="--", label="target: 1.2 x smallest site")
    for index, size in enumerate(sizes):
        ratio = sites[size]["wall_ratio_to_smallest"]
        time_axis.text(
            index, render[index] + build[index], f"{ratio:.2f}x", ha="center", va="bottom"
        )
    time_axis.set_ylabel("median wall time of one publish (ms)")
    time_axis.set_xlabel("posts already on the site")
    time_axis.set_title(f"Publish wall time (median of {cost['repetitions']}, interleaved)")
    time_axis.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def cold_start_chart(cold: dict[str, Any], path: Path) -> Path:
    plt = _pyplot()
    medians = cold["median_ms"]
    names = list(medians)
    figure, axis = plt.subplots(figsize=(9, 4.2))
    colours = [
        "grey" if name == "boto3" else "tab:blue" if "Function" in name else "tab:orange"
        for name in names
    ]
    bars = axis.barh(names, [medians[name] for name in names], color=colours)
    axis.bar_label(bars, fmt="%.0f ms", fontsize=8)
    axis.axvline(
        1.5 * medians["boto3"], color="red", linestyle="--", label="target: 1.5 x import boto3"
    )
    axis.invert_yaxis()
    axis.set_xlabel(f"import time, median of {cold['repetitions']} fresh interpreters (ms)")
    axis.set_title("Cold start: handler imports against `import boto3` (orange: parts alone)")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def memory_chart(results: dict[str, Any], path: Path) -> Path:
    """Left: peak Python allocations of one render and one build per site (tracemalloc).
    Right: peak RSS of a fresh process doing the same (what Lambda reports)."""
    plt = _pyplot()
    traced: tuple[list[str], list[float]] = ([], [])
    rss: tuple[list[str], list[float]] = ([], [])
    render = results.get("render_memory")
    if render:
        label = f"render largest post\n({render['source_bytes'] // 1024} KB source)"
        traced[0].append(label)
        traced[1].append(render["render_traced_peak_bytes"] / MIB)
        rss[0].append(label)
        rss[1].append(render["peak_rss_bytes"] / MIB)
    cost = results.get("publish_cost")
    if cost:
        for size in cost["sizes"]:
            entry = cost["sites"][str(size)]
            label = f"BuildIndexes, one publish\n{size:,}-post site"
            if entry.get("build_indexes_traced_peak_bytes") is not None:
                traced[0].append(label)
                traced[1].append(entry["build_indexes_traced_peak_bytes"] / MIB)
            if entry.get("build_indexes_process"):
                rss[0].append(label)
                rss[1].append(entry["build_indexes_process"]["peak_rss_bytes"] / MIB)
    figure, axes = plt.subplots(1, 2, figsize=(13, 4.4))
    panels = (
        (axes[0], traced, "tab:green", "%.2f MiB", "peak Python allocations (tracemalloc, MiB)"),
        (axes[1], rss, "tab:purple", "%.1f MiB", "peak RSS of a fresh process (VmHWM, MiB)"),
    )
    for axis, (labels, values), color, fmt, ylabel in panels:
        bars = axis.bar(labels, values, color=color)
        axis.bar_label(bars, fmt=fmt, fontsize=8)
        axis.set_ylabel(ylabel)
        axis.tick_params(axis="x", labelsize=7)
    axes[0].set_title("Allocated during one render / one BuildIndexes batch")
    axes[1].set_title("Whole process: imports, clients and the work")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def render_chart(render: dict[str, Any], path: Path) -> Path:
    plt = _pyplot()
    labels, values = [], []
    corpus = render.get("corpus")
    if corpus:
        labels += ["corpus: read", "corpus: render", "corpus: read + render"]
        values += [
            corpus["read_posts_per_second"],
            corpus["render_posts_per_second"],
            corpus["read_and_render_posts_per_second"],
        ]
    rebuild = render["rebuild"]
    labels.append(f"generated: read + render\n({rebuild['posts']:,} posts)")
    values.append(rebuild["read_and_render_posts_per_second"])
    figure, axis = plt.subplots(figsize=(8, 4.2))
    bars = axis.bar(labels, values, color="tab:purple")
    axis.bar_label(bars, fmt="%.0f/s", fontsize=8)
    axis.set_ylabel("posts per second, one process")
    axis.set_title(
        f"Render throughput; whole {rebuild['posts']:,}-post site rebuilt in "
        f"{rebuild['total_seconds']:.0f} s ({rebuild['index_pages']:,} index pages)"
    )
    axis.tick_params(axis="x", labelsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def bill_chart(bill: dict[str, Any], path: Path) -> Path:
    """Dollars per 1,000 publishes by kind and site size, free tier spent (log scale)."""
    plt = _pyplot()
    sizes = list(bill["sites"])
    kinds = ["before: new post", "new_post", "edit", "delete", "rollback", "asset_upload"]
    figure, axis = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(sizes)
    for offset, size in enumerate(sizes):
        site = bill["sites"][size]
        before = site.get("before_new_post") or {}
        values = [before.get("dollars_per_1000", {}).get("total", 0.0)]
        values += [site["after"][kind]["dollars_per_1000"]["total"] for kind in kinds[1:]]
        positions = [index + offset * width for index in range(len(kinds))]
        axis.bar(positions, values, width, label=f"{int(size):,} posts")
    axis.set_yscale("log")
    axis.set_xticks([index + width * (len(sizes) - 1) / 2 for index in range(len(kinds))])
    axis.set_xticklabels([kind.replace("_", " ") for kind in kinds], fontsize=8)
    axis.set_ylabel("USD per 1,000 publishes (free tier spent)")
    axis.set_title(f"The bill of a publish, us-east-1 list prices of {bill['prices_date']}")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def draw_all(results: dict[str, Any], folder: Path) -> list[Path]:
    drawn = []
    if "bill" in results:
        drawn.append(bill_chart(results["bill"], folder / "bill.png"))
    if "publish_cost" in results:
        drawn.append(publish_cost_chart(results["publish_cost"], folder / "publish_cost.png"))
    if "cold_start" in results:
        drawn.append(cold_start_chart(results["cold_start"], folder / "cold_start.png"))
    if "render" in results:
        drawn.append(render_chart(results["render"], folder / "render.png"))
    if "render_memory" in results or "publish_cost" in results:
        drawn.append(memory_chart(results, folder / "memory.png"))
    return drawn
