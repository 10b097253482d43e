"""Customer segments: KMeans on scaled behaviour, k chosen by silhouette and seed stability, portraits.

Clustering features: spend shares of the top categories, promo share, log average check, log orders
and age (median-imputed) — what a marketer means by "who buys what, how often, at what price, on
promotion or not". Each is standardised so no unit dominates.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from campaign_report.analysis.config import SegmentsConfig
from campaign_report.analysis.data.features import BRAND_PREFIX, CAT_PREFIX, CustomerFeatures
from campaign_report.analysis.tables import Tabular

SILHOUETTE_SAMPLE = 4000
# The choice of k is made on at most this many customers (a fixed random sample; the silhouette on 4,000 of
# them): where segments are real they are found in 10,000 customers as in 200,000, and the search's fits (up to
# 7 k × 3 seeds × 4 starts) then cost a fixed time; the chosen k is fitted on every customer of the fit set.
K_SEARCH_SAMPLE = 10_000
K_SEARCH_CAP = 12  # widen an automatic search at most to this k: more segments stop being actionable
MIN_CLUSTER_SHARE = 0.02
MIN_STABILITY = 0.8
PORTRAIT_FEATURES = ("age", "orders", "average_check", "monetary", "recency_days", "tenure_days", "promo_share")


@dataclass(frozen=True)
class KScore:
    k: int
    silhouette: float
    stability: float


@dataclass(frozen=True)
class Distinction:
    feature: str
    cluster_mean: float
    base_mean: float
    std_diff: float


@dataclass(frozen=True)
class ClusterPortrait:
    id: int
    name_ru: str
    name_en: str
    size: int
    share: float
    revenue_share: float
    mean_age: float | None
    # Recorded gender values as the data spells them, largest share first (imputed guesses left out): the
    # documents say "Ж 61 %, М 39 %" without assuming which spelling means what.
    gender_shares: tuple[tuple[str, float], ...]
    gender_known_share: float | None
    top_categories: tuple[tuple[str, float], ...]
    top_brands: tuple[tuple[str, float], ...]
    average_check: float
    orders_mean: float
    promo_share: float | None
    recency_mean: float
    distinctions: tuple[Distinction, ...]
    # Standardised differences from the base, for naming (the distinctions carry the ones worth showing).
    z: dict[str, float] = field(default_factory=dict, repr=False, metadata={"json": False})
    # The revenue share without the order lines flagged as too large to tell from an error (data.large_lines):
    # a finding that a segment outweighs its size must hold without them. None when nothing was flagged.
    revenue_share_unflagged: float | None = None


@dataclass(frozen=True)
class SegmentsResult(Tabular):
    PRIMARY: ClassVar[str] = "clusters"

    method: str
    k: int
    k_reason: str  # "auto_silhouette" | "auto_silhouette_at_limit" (no peak up to the cap) | "configured"
    silhouette: float
    k_scores: tuple[KScore, ...]
    features: tuple[str, ...]
    clusters: tuple[ClusterPortrait, ...]
    n_customers: int
    n_fitted: int  # customers the scaler and KMeans were fitted on (a spend-stratified sample when fewer)
    k_searched: int = 0  # the largest k tried (the configured k_max, or more when the search was widened)
    min_share: float = MIN_CLUSTER_SHARE  # clusters below this share of customers are flagged as too small to act on


@dataclass(frozen=True)
class ClusterModel:
    """What is needed to place other customers (or the same ones at another date) into the clusters."""

    scaler: StandardScaler
    kmeans: KMeans | MiniBatchKMeans
    columns: tuple[str, ...]
    relabel: dict[int, int]


def clustering_matrix(features: CustomerFeatures, customers: pd.DataFrame | None) -> pd.DataFrame:
    """The scaled-to-be feature table used for KMeans (unscaled here)."""
    frame = features.frame
    cols = [c for c in frame.columns if c.startswith(CAT_PREFIX)]
    matrix = frame[cols].copy()
    if features.has_promo:
        matrix["promo_share"] = frame["promo_share"]
    matrix["log_average_check"] = np.log1p(frame["average_check"].fillna(0))
    matrix["log_orders"] = np.log1p(frame["orders"])
    if customers is not None and "age" in customers and customers["age"].notna().any():
        age = frame[["id"]].merge(customers[["id", "age"]], on="id", how="left")["age"]
        matrix["age"] = age.fillna(age.median()).to_numpy()
    return matrix.fillna(0.0)


def _model(k: int, seed: int, minibatch: bool) -> KMeans | MiniBatchKMeans:
    if minibatch:
        return MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096)
    return KMeans(n_clusters=k, random_state=seed, n_init=4)


def _fit(x: np.ndarray, k: int, seed: int, minibatch: bool) -> np.ndarray:
    return _model(k, seed, minibatch).fit_predict(x)


def _score_k(x: np.ndarray, sample: np.ndarray, k: int, settings: SegmentsConfig, minibatch: bool) -> KScore:
    labelings = [_fit(x, k, seed, minibatch) for seed in range(max(settings.seeds, 1))]
    sil = float(silhouette_score(x[sample], labelings[0][sample]))
    pairs = list(itertools.combinations(labelings, 2))
    stability = float(np.mean([adjusted_rand_score(a, b) for a, b in pairs])) if pairs else 1.0
    return KScore(k, sil, stability)


def choose_k(x: np.ndarray, settings: SegmentsConfig, minibatch: bool) -> tuple[int, tuple[KScore, ...], bool]:
    """Silhouette (on a fixed sample) and stability (mean ARI between seeds) for each k in range.

    When the best k is the top of the configured range the search is widened (up to K_SEARCH_CAP), since a
    criterion still rising at its limit has not found a peak. Returns (k, scores, still at the limit).
    """
    rng = np.random.default_rng(0)
    if len(x) > K_SEARCH_SAMPLE:
        x = x[np.sort(rng.choice(len(x), size=K_SEARCH_SAMPLE, replace=False))]
        minibatch = False
    sample = rng.choice(len(x), size=min(SILHOUETTE_SAMPLE, len(x)), replace=False)
    top = min(settings.k_max, len(x) - 1)

    def best() -> int:
        stable = [s for s in scores if s.stability >= MIN_STABILITY] or scores
        return max(stable, key=lambda s: s.silhouette).k

    # One OpenMP thread: on at most 10,000 customers a fit is too short to share, and the second thread
    # spins while it waits (demo: 3.7 s of CPU and 2.0 s of wall with two threads, 2.7 s and 1.7 s with one).
    with threadpool_limits(limits=1, user_api="openmp"):
        scores = [_score_k(x, sample, k, settings, minibatch) for k in range(settings.k_min, top + 1)]
        while best() == top and top < min(K_SEARCH_CAP, len(x) - 1):
            top += 1
            scores.append(_score_k(x, sample, top, settings, minibatch))
    return best(), tuple(scores), best() == top


# What a cluster's mean says in words, per feature: (higher than the base, lower than the base), ru and en.
TRAITS = {
    "orders": (("частые покупки", "frequent"), ("редкие покупки", "infrequent")),
    "recency_days": (("давно не покупали", "lapsed"), ("покупали недавно", "recent")),
    "average_check": (("крупный чек", "big baskets"), ("небольшой чек", "small baskets")),
    "monetary": (("высокие траты", "high spend"), ("низкие траты", "low spend")),
    "tenure_days": (("давние клиенты", "long-standing"), ("новые клиенты", "new")),
    "promo_share": (("покупки по акциям", "on promotion"), ("без акций", "full price")),
    "age": (("старше среднего", "older"), ("моложе среднего", "younger")),
}
TRAIT_Z = 0.5  # a trait is named when the cluster's mean is at least this many SDs from the base's


def traits(z: dict[str, float], skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """The cluster's behaviour in words, strongest first: [(ru, en), ...]."""
    named = sorted(((abs(v), f) for f, v in z.items() if f in TRAITS and f not in skip and abs(v) >= TRAIT_Z),
                   reverse=True)
    return [TRAITS[f][0 if z[f] > 0 else 1] for _, f in named]


def _archetype(z: dict[str, float]) -> tuple[str, str, str] | None:
    """A well-known customer type when the cluster clearly is one: (ru, en, the feature it rests on)."""
    if z.get("promo_share", 0) >= 0.8:
        return "Охотники за скидками", "Deal seekers", "promo_share"
    if z.get("average_check", 0) >= 0.8 and z.get("promo_share", 0) <= 0:
        return "Крупные чеки", "Big baskets", "average_check"
    if z.get("age", 0) <= -0.8:
        return "Молодёжь", "Young buyers", "age"
    if z.get("orders", 0) >= 0.8:
        return "Постоянные", "Frequent buyers", "orders"
    if z.get("recency_days", 0) >= 0.8:
        return "Угасающие", "Fading", "recency_days"
    return None


def _name(z: dict[str, float], top_category: str | None) -> tuple[str, str]:
    """A readable name from what the cluster does: an archetype and its category, or, without categories,
    its strongest behaviour traits. Never a placeholder: with nothing distinctive it is "typical"."""
    archetype = _archetype(z)
    if top_category is not None:
        tail_ru, tail_en = "", ""
        if z.get("orders", 0) >= 0.5 and (archetype is None or archetype[2] != "orders"):
            tail_ru, tail_en = ", частые покупки", ", frequent"
        elif z.get("orders", 0) <= -0.5:
            tail_ru, tail_en = ", редкие покупки", ", infrequent"
        if archetype is None:
            return f"{top_category}{tail_ru}", f"{top_category}{tail_en}"
        # The category is data (often Russian in an English report): quoted as it is, not lower-cased into the name.
        return f"{archetype[0]}: {top_category.lower()}{tail_ru}", f"{archetype[1]}: “{top_category}”{tail_en}"
    said = traits(z, skip=(archetype[2],) if archetype else ())
    if archetype is not None:
        return (f"{archetype[0]}: {said[0][0]}", f"{archetype[1]}: {said[0][1]}") if said else archetype[:2]
    if not said:
        return "Типичные клиенты", "Typical customers"
    ru = ", ".join(t[0] for t in said[:2])
    en = ", ".join(t[1] for t in said[:2])
    return ru[:1].upper() + ru[1:], en[:1].upper() + en[1:]


def _portrait(cid: int, members: pd.DataFrame, rest: pd.DataFrame, base: pd.DataFrame, total_revenue: float,
              features: CustomerFeatures) -> tuple[ClusterPortrait, dict[str, float]]:
    """One cluster described against the base; named by how it differs from everyone else (`rest`): a
    cluster of most customers is still told apart from the few who differ from it."""
    def top(prefix: str) -> tuple[tuple[str, float], ...]:
        cols = [c for c in members.columns if c.startswith(prefix)]
        spend = (members[cols].multiply(members["monetary"], axis=0)).sum()
        shares = spend / max(members["monetary"].sum(), 1e-12)
        return tuple((c[len(prefix):], float(v)) for c, v in shares.sort_values(ascending=False).head(3).items()
                     if v > 0)

    compare_cols = [c for c in (*PORTRAIT_FEATURES, *[c for c in base.columns if c.startswith(CAT_PREFIX)])
                    if c in base and base[c].notna().any()]
    z: dict[str, float] = {}
    distinctions = []
    for col in compare_cols:
        sd = float(base[col].std())
        if sd > 0:
            z[col] = (float(members[col].mean()) - float(rest[col].mean() if len(rest) else base[col].mean())) / sd
            distinctions.append(Distinction(col, float(members[col].mean()), float(base[col].mean()),
                                            (float(members[col].mean()) - float(base[col].mean())) / sd))
    distinctions.sort(key=lambda d: -abs(d.std_diff))
    cats = top(CAT_PREFIX)
    name_ru, name_en = _name(z, cats[0][0] if cats else None)
    gender = members["gender"] if "gender" in members else None
    imputed = members["gender_imputed"].fillna(False).astype(bool) if "gender_imputed" in members else False
    known = None if gender is None else gender.notna() & ~pd.Series(imputed, index=members.index)
    recorded = gender[known].astype(str).value_counts(normalize=True) if gender is not None else pd.Series()
    return ClusterPortrait(
        id=cid, name_ru=name_ru, name_en=name_en, size=len(members), share=len(members) / len(base),
        revenue_share=float(members["monetary"].sum() / total_revenue) if total_revenue else 0.0,
        mean_age=float(members["age"].mean()) if "age" in members and members["age"].notna().any() else None,
        gender_shares=tuple((str(v), float(share)) for v, share in recorded.head(3).items()),
        gender_known_share=float(known.mean()) if known is not None else None,
        top_categories=cats, top_brands=top(BRAND_PREFIX),
        average_check=float(members["monetary"].sum() / max(members["orders"].sum(), 1)),
        orders_mean=float(members["orders"].mean()),
        promo_share=float(members["promo_share"].mean()) if features.has_promo else None,
        recency_mean=float(members["recency_days"].mean()), distinctions=tuple(distinctions[:4]), z=z), z


def assign_clusters(model: ClusterModel, features: CustomerFeatures, customers: pd.DataFrame | None,
                    ) -> pd.Series:
    """Cluster of each customer under a fitted model (e.g. from features before a campaign started)."""
    matrix = clustering_matrix(features, customers).reindex(columns=list(model.columns), fill_value=0.0)
    raw = model.kmeans.predict(model.scaler.transform(matrix.to_numpy(dtype=float)))
    return pd.Series([model.relabel[v] for v in raw], index=features.frame["id"].to_numpy(), name="cluster")


def spend_stratified_sample(monetary: np.ndarray, size: int) -> np.ndarray:
    """Indices of `size` customers spread evenly over the spend ranking: every spend level keeps its
    share, so the few large customers that shape the premium cluster are not lost to chance."""
    if size >= len(monetary):
        return np.arange(len(monetary))
    order = np.argsort(monetary, kind="stable")
    return np.sort(order[np.linspace(0, len(order) - 1, size).round().astype(int)])


def analyze_segments(features: CustomerFeatures, customers: pd.DataFrame | None, settings: SegmentsConfig,
                     sample_size: int | None = None, flagged: dict[str, float] | None = None,
                     ) -> tuple[SegmentsResult, pd.Series, ClusterModel]:
    """Cluster customers and describe each cluster; returns the result, the label per id and the model.

    With more customers than `sample_size`, the scaler and KMeans are fitted on a spend-stratified
    sample and every customer is then placed in the nearest cluster.
    """
    matrix_frame = clustering_matrix(features, customers)
    columns = tuple(matrix_frame.columns)
    matrix = matrix_frame.to_numpy(dtype=float)
    fit_rows = spend_stratified_sample(features.frame["monetary"].to_numpy(dtype=float),
                                       sample_size or len(matrix))
    scaler = StandardScaler().fit(matrix[fit_rows])
    x = scaler.transform(matrix)
    x_fit = x[fit_rows]
    minibatch = len(x_fit) > settings.minibatch_above
    if settings.k == "auto":
        k, scores, at_limit = choose_k(x_fit, settings, minibatch)
        reason = "auto_silhouette_at_limit" if at_limit else "auto_silhouette"
    else:
        k, scores, reason = int(settings.k), (), "configured"
    kmeans = _model(k, 0, minibatch).fit(x_fit)
    labels = kmeans.labels_ if len(x_fit) == len(x) else kmeans.predict(x)
    rng = np.random.default_rng(0)
    sample = rng.choice(len(x), size=min(SILHOUETTE_SAMPLE, len(x)), replace=False)
    silhouette = float(silhouette_score(x[sample], labels[sample]))
    base = features.frame.copy()
    if customers is not None:
        extra = [c for c in ("age", "gender", "gender_imputed") if c in customers]
        base = base.merge(customers[["id", *extra]], on="id", how="left")
    # Order clusters by size so that ids are stable and readable (0 = largest).
    order = pd.Series(labels).value_counts().index.tolist()
    relabel = {old: new for new, old in enumerate(order)}
    labels = np.array([relabel[v] for v in labels])
    total_revenue = float(base["monetary"].sum())
    portraits = []
    for cid in range(k):
        portrait, _ = _portrait(cid, base[labels == cid], base[labels != cid], base, total_revenue, features)
        if flagged and total_revenue > sum(flagged.values()):
            in_cluster = sum(flagged.get(str(i), 0.0) for i in base["id"][labels == cid])
            portrait = replace(portrait, revenue_share_unflagged=(
                portrait.revenue_share * total_revenue - in_cluster) / (total_revenue - sum(flagged.values())))
        portraits.append(portrait)
    portraits = _unique_names(portraits)
    result = SegmentsResult(method="minibatch_kmeans" if minibatch else "kmeans", k=k, k_reason=reason,
                            silhouette=silhouette, k_scores=scores, features=columns,
                            clusters=tuple(portraits), n_customers=len(base), n_fitted=len(fit_rows),
                            k_searched=max((s.k for s in scores), default=k))
    model = ClusterModel(scaler=scaler, kmeans=kmeans, columns=columns, relabel=relabel)
    return result, pd.Series(labels, index=features.frame["id"].to_numpy(), name="cluster"), model


def _unique_names(portraits: list[ClusterPortrait]) -> list[ClusterPortrait]:
    """Two clusters with the same generated name get what tells them apart appended: their second category,
    or, without categories, the next behaviour trait; a number as the last resort."""
    seen: dict[str, int] = {}
    for p in portraits:
        seen[p.name_ru] = seen.get(p.name_ru, 0) + 1
    out: list[ClusterPortrait] = []
    for p in portraits:
        if seen[p.name_ru] > 1:
            if len(p.top_categories) > 1:
                second = p.top_categories[1][0].lower()
                p = replace(p, name_ru=f"{p.name_ru} и {second}", name_en=f"{p.name_en} and {second}")
            else:
                extra = [t for t in traits(p.z) if t[0] not in p.name_ru.lower()]
                if extra:
                    p = replace(p, name_ru=f"{p.name_ru}; {extra[0][0]}", name_en=f"{p.name_en}; {extra[0][1]}")
        out.append(p)
    taken: dict[str, int] = {}
    for i, p in enumerate(out):
        taken[p.name_ru] = taken.get(p.name_ru, 0) + 1
        if taken[p.name_ru] > 1:  # still the same words: the segments are told apart by number
            n = taken[p.name_ru]
            out[i] = replace(p, name_ru=f"{p.name_ru} ({n})", name_en=f"{p.name_en} ({n})")
    return out
