"""One block of demo customers with all their purchases, assignments and planted dirt.

A customer's purchases never cross blocks, so the label (recency, orders, promo share) and every planted effect
are computed inside the block; the generator writes each block and keeps only sums (demo.truth.Tally)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from campaign_report.analysis.demo.campaigns import EarlierCampaign
from campaign_report.analysis.demo.truth import Tally
from campaign_report.analysis.demo.world import (
    CATEGORIES,
    CITIES,
    CITY_WEIGHTS,
    END,
    FEMALE_TILT,
    HOLDOUT_CITY,
    RESPONSE,
    START,
    TYPES,
    day_weights,
    decline_logit,
    expected_line_amount,
    line_attributes,
    sample_days,
)


@dataclass(frozen=True)
class Block:
    transactions: pd.DataFrame
    customers: pd.DataFrame
    assignment: pd.DataFrame
    earlier_assignments: dict[str, pd.DataFrame]
    truth_customers: pd.DataFrame
    label: np.ndarray
    p_decline: np.ndarray
    next_order_id: int


def draw_block(rng: np.random.Generator, earlier_rng: np.random.Generator, first_id: int, n: int,
               first_order_id: int, earlier: tuple[EarlierCampaign, ...], seed: int, tally: Tally) -> Block:
    """Customers first_id … first_id + n − 1; adds the block's expected values and counts to `tally`."""
    ids = np.arange(first_id, first_id + n)
    type_idx = rng.choice(len(TYPES), size=n, p=[t.share for t in TYPES])
    tp = [TYPES[i] for i in type_idx]
    age = np.clip(np.round(np.array([rng.normal(t.age_mean, t.age_sd) for t in tp])), 14, 80).astype(int)
    female = rng.random(n) < np.array([t.female for t in tp])
    city = rng.choice(CITIES, size=n, p=CITY_WEIGHTS)
    rate = np.array([t.orders_per_year for t in tp]) * rng.gamma(5, 1 / 5, size=n)
    log_amount = np.array([t.log_line_amount for t in tp]) + rng.normal(0, 0.15, size=n)
    promo_prob = np.clip(np.array([t.promo_prob for t in tp]) + rng.normal(0, 0.05, size=n), 0.01, 0.95)

    # Per-customer category preferences: the type's mix, tilted by gender, with individual noise.
    cat_index = {c: i for i, c in enumerate(CATEGORIES)}
    base = np.full((len(TYPES), len(CATEGORIES)), 0.01)
    for ti, t in enumerate(TYPES):
        for c, w in t.categories.items():
            base[ti, cat_index[c]] = w
    tilt = np.array([FEMALE_TILT.get(c, 1.0) for c in CATEGORIES])
    pref = base[type_idx] * np.where(female[:, None], tilt, 1 / np.sqrt(tilt))
    pref = pref / pref.sum(axis=1, keepdims=True)
    pref = np.array([rng.dirichlet(40 * p + 0.05) for p in pref])

    # Activity: 45 % of customers slow down from a month between 4 and 10 of the year.
    months = 12
    declines = rng.random(n) < 0.45
    decline_from = rng.integers(4, 11, size=n)
    decay = rng.beta(1.2, 3, size=n)
    activity = np.ones((n, months))
    for m in range(months):
        activity[:, m] = np.where(declines & (m >= decline_from), decay, 1.0)

    days = pd.date_range(START, END, freq="D")
    month_of_day = (days.year - START.year) * 12 + days.month - START.month
    weights = day_weights(days)

    # Regular purchases: months 0..10 (Nov 2025 - Sep 2026).
    lam = rate[:, None] / 12 * activity[:, :11]
    counts = rng.poisson(lam)
    none = counts.sum(axis=1) == 0
    counts[none, rng.integers(0, 11, size=none.sum())] = 1
    cust_rep, month_rep = np.nonzero(counts)
    reps = counts[cust_rep, month_rep]
    order_cust = np.repeat(cust_rep, reps)
    order_month = np.repeat(month_rep, reps)

    # Campaign: customers outside the holdout city, about 80 % of them, split ≈ 50/50.
    eligible = (city != HOLDOUT_CITY) & (rng.random(n) < 0.8)
    treated = eligible & (rng.random(n) < 0.5)
    oct_rate = 0.5 * rate / 12 * activity[:, 11]
    q0 = np.minimum(1 - np.exp(-oct_rate), 0.95)
    conversion_multiplier = np.array([RESPONSE[t.key][0] for t in TYPES])[type_idx]
    check_multiplier = np.array([RESPONSE[t.key][1] for t in TYPES])[type_idx]
    q1 = np.minimum(q0 * conversion_multiplier, 0.95)
    q = np.where(treated, q1, q0)
    converted = rng.random(n) < q
    extra_rate = 0.3 * rate / 12 * activity[:, 11]
    oct_orders = np.where(converted, 1 + rng.poisson(extra_rate), 0)
    order_cust = np.concatenate([order_cust, np.repeat(np.arange(n), oct_orders)])
    order_month = np.concatenate([order_month, np.full(oct_orders.sum(), 11)])

    order_day = sample_days(rng, days, month_of_day, weights, order_month)
    n_orders = len(order_cust)
    order_ids = rng.permutation(n_orders) + first_order_id
    lines_per_order = 1 + rng.poisson(0.6, size=n_orders)
    line_order = np.repeat(np.arange(n_orders), lines_per_order)
    line_cust = order_cust[line_order]

    cat_names, brand_names, promo, amount = line_attributes(rng, line_cust, pref, type_idx, promo_prob, log_amount)
    in_window = order_month[line_order] == 11
    amount = amount * np.where(in_window & treated[line_cust], check_multiplier[line_cust], 1.0)
    amount = np.round(amount, 2)

    transactions = pd.DataFrame({
        "order_id": order_ids[line_order],
        "customer_id": ids[line_cust],
        "date": days[order_day[line_order]].strftime("%Y-%m-%d"),
        "category": cat_names,
        "brand": brand_names,
        "amount": amount,
        "is_promo": promo.astype(int),
    })
    del line_order, line_cust, cat_names, brand_names, promo, amount, in_window
    next_order_id = first_order_id + n_orders
    earlier_assignments: dict[str, pd.DataFrame] = {}
    if earlier:
        extra, earlier_assignments, next_order_id = _earlier_campaigns(
            earlier_rng, earlier, ids, type_idx, city, rate, activity, pref, promo_prob, log_amount, next_order_id,
            tally)
        transactions = pd.concat([transactions, extra], ignore_index=True)
    transactions = transactions.sort_values(["date", "order_id"], kind="stable").reset_index(drop=True)

    # The label, from the drivers exactly as the pipeline computes them (as of the day after END).
    as_of = pd.Timestamp(END) + pd.Timedelta(days=1)
    by_customer = transactions.groupby("customer_id")
    recency = (as_of - pd.to_datetime(by_customer["date"].max())).dt.days.reindex(ids).to_numpy()
    orders = by_customer["order_id"].nunique().reindex(ids).to_numpy()
    promo_share = by_customer["is_promo"].mean().reindex(ids).to_numpy()
    p_decline = 1 / (1 + np.exp(-decline_logit(recency, orders, promo_share)))
    label = rng.random(n) < p_decline

    # Planted dirt, each documented in the truth and found by validation.
    dup_rows = transactions.sample(60, random_state=seed)
    typo_mask = (transactions["category"] == "Обувь") & (rng.random(len(transactions)) < 0.0004)
    transactions.loc[typo_mask, "category"] = "Обувьь"
    neg_idx = rng.choice(len(transactions), size=25, replace=False)
    transactions.loc[neg_idx, "amount"] = -transactions.loc[neg_idx, "amount"]
    transactions = pd.concat([transactions, dup_rows]).sort_values(["date", "order_id"], kind="stable")

    profit = np.round(0.12 * transactions.groupby("customer_id")["amount"].sum().reindex(ids).to_numpy()
                      * rng.lognormal(0, 0.25, size=n), 2)
    gender = np.where(female, "Ж", "М").astype(object)
    gender_missing = rng.random(n) < 0.15
    gender[gender_missing] = ""
    customers = pd.DataFrame({
        "customer_id": ids, "age": age, "gender": gender, "city": city,
        "activity": np.where(label, "Снизилась", "Прежний уровень"), "profit": profit,
    })
    group = np.where(treated, "treatment", "control")
    assignment = pd.DataFrame({"customer_id": ids[eligible], "group": group[eligible]})
    both = assignment.sample(8, random_state=seed + 1).copy()
    both["group"] = np.where(both["group"] == "control", "treatment", "control")
    assignment = pd.concat([assignment, both]).sample(frac=1, random_state=seed).reset_index(drop=True)

    # Expected values of the planted effects over the experiment population, from every factor that
    # sets a customer's October spend: orders, lines per order, the category mix (price offsets) and
    # the promo discount, and the treatment's multipliers.
    exp_orders = 1 + extra_rate
    exp_lines = 1.6  # 1 + Poisson(0.6)
    exp_line = expected_line_amount(log_amount, pref, promo_prob)
    true_uplift = (q1 * check_multiplier - q0) * exp_orders * exp_lines * exp_line  # ₽ per customer
    revenue0 = q0 * exp_orders * exp_lines * exp_line
    revenue1 = q1 * exp_orders * exp_lines * exp_line * check_multiplier
    for key, values in (("conv0", q0), ("conv1", q1), ("rev0", revenue0), ("rev1", revenue1),
                        ("orders0", q0 * exp_orders), ("orders1", q1 * exp_orders)):
        tally.add(key, values, eligible)
    for i, t in enumerate(TYPES):
        tally.count(f"type:{t.key}", int(np.sum(type_idx == i)))
        mask = eligible & (type_idx == i)
        tally.add(f"uplift:{t.key}", true_uplift, mask)
        tally.add(f"rev0:{t.key}", revenue0, mask)
        tally.add(f"rev1:{t.key}", revenue1, mask)
    for key, value in (("customers", n), ("lines", len(transactions)), ("experiment", int(eligible.sum())),
                       ("gender_missing", int(gender_missing.sum())), ("duplicated", len(dup_rows)),
                       ("typos", int(typo_mask.sum())), ("negative", len(neg_idx)), ("both", len(both))):
        tally.count(key, value)
    truth_customers = pd.DataFrame({
        "customer_id": ids, "type": [t.key for t in tp], "p_decline": p_decline, "gender": np.where(female, "Ж", "М"),
        "treated": treated, "in_experiment": eligible, "true_uplift": np.round(true_uplift, 2)})
    return Block(transactions, customers, assignment, earlier_assignments, truth_customers, label, p_decline,
                 next_order_id)


def _earlier_campaigns(rng: np.random.Generator, campaigns: tuple[EarlierCampaign, ...], ids: np.ndarray,
                       type_idx: np.ndarray, city: np.ndarray, rate: np.ndarray, activity: np.ndarray,
                       pref: np.ndarray, promo_prob: np.ndarray, log_amount: np.ndarray, first_order_id: int,
                       tally: Tally) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], int]:
    """Each earlier campaign's split and the extra orders its treated customers made; adds to `tally` the values
    behind the expected relative ARPU lift per type: extra orders' value over the window's usual spend."""
    n = len(ids)
    frames, assignments = [], {}
    exp_line = expected_line_amount(log_amount, pref, promo_prob)
    order_id = first_order_id
    for campaign in campaigns:
        eligible = (city != HOLDOUT_CITY) & (rng.random(n) < 0.8)
        treated = eligible & (rng.random(n) < 0.5)
        p_extra = np.array([campaign.extra_order[t.key] for t in TYPES])[type_idx]
        buyers = np.flatnonzero(treated & (rng.random(n) < p_extra))
        days = pd.date_range(campaign.start, campaign.end, freq="D")
        order_day = days[rng.integers(0, len(days), size=len(buyers))]
        lines = 1 + rng.poisson(0.6, size=len(buyers))
        line_cust = np.repeat(buyers, lines)
        cats, brands, promo, amount = line_attributes(rng, line_cust, pref, type_idx, promo_prob, log_amount)
        frames.append(pd.DataFrame({
            "order_id": np.repeat(np.arange(order_id, order_id + len(buyers)), lines), "customer_id": ids[line_cust],
            "date": np.repeat(order_day.strftime("%Y-%m-%d"), lines), "category": cats, "brand": brands,
            "amount": np.round(amount, 2), "is_promo": promo.astype(int)}))
        order_id += len(buyers)
        assignments[campaign.key] = pd.DataFrame({"customer_id": ids[eligible],
                                                  "group": np.where(treated, "treatment", "control")[eligible]})
        month = (campaign.start.year - START.year) * 12 + campaign.start.month - START.month
        usual = rate / 12 * activity[:, month] * 1.6 * exp_line
        for i, t in enumerate(TYPES):
            mask = eligible & (type_idx == i)
            tally.add(f"{campaign.key}:extra:{t.key}", p_extra * 1.6 * exp_line, mask)
            tally.add(f"{campaign.key}:usual:{t.key}", usual, mask)
    return pd.concat(frames, ignore_index=True), assignments, order_id
