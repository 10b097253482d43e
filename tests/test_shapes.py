"""The shape matrix: the demo re-run with parts removed or inverted, every document read back.

Cases: no categories, no order ids, no money, the label's positive class a good outcome, a label whose
meaning the config does not state, customers as ids only (an A/B without purchases), customers without
traits, three arms, zero-padded text ids, whitespace-aligned text with CRLF, a `;` cp1251 file with decimal
commas, a bare purchase log. Checks on each brief, deck (with notes) and e-mail: no placeholder, no meaning
the config did not state (decline words without `positive_is = "bad"`, profit without a profit column or a
margin), no raw key or file name before the appendices, every configured cut shown, every data finding
listed, one count for whom to act on, and the run ends without a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from campaign_report.analysis.demo import generate_demo
from campaign_report.renderers.format import Formatter
from tests.shapes import Documents, Shape, build_case, chain, read_documents, replace, without_keys

PLACEHOLDERS = [re.compile(p) for p in (
    r"[«“]\s*[—-]?\s*[»”]",  # an empty or dash-only name: «—», “”
    r"\{[a-z_]+\}",  # a template field left unfilled
    r"\bNone\b(?! of\b)", r"\bnan\b", r"\bNaN\b",
    r"(Categories|Категории):\s*(•|$|Brands|Бренды|Stands|Выделяется)",  # a label with nothing after it
    # A count whose noun comes twice ("914 клиентов ценными клиентами"): a plural filled into a sentence that
    # names the noun itself.
    r"\d\s(клиент\w*|customers?)\s+(\w+\s+)?(клиент\w*|customers?)\b",
)]
RAW_KEYS = ("within_cutoff", "target_list.csv", "uplift_list.csv", "_index", "share:", "positive_is", "[propensity]",
            "[data.", "[uplift]", "[report]", "score_filter", "no_purchase_", "_share::", "drop_duplicate_lines",
            "features_before")
BAD_WORDS = {"ru": ("вероятность снижения", "удерживать", "риск ухода", "высокий риск", "отток"),
             "en": ("decline", "retain", "churn", "high risk")}
PROFIT_WORDS = {"ru": ("прибыл",), "en": ("profit",)}


def _drop_columns(*names: str):
    def run(frames: dict[str, pd.DataFrame]) -> None:
        for frame in frames.values():
            for column in [c for c in names if c in frame.columns]:
                del frame[column]
    return run


def _ids_only(frames: dict[str, pd.DataFrame]) -> None:
    """An A/B from a CRM export: assignment with outcomes of the window, customers as a list of ids."""
    tx, assignment = frames["transactions"], frames["assignment"]
    window = tx[(tx["date"] >= "2026-10-01") & (tx["date"] <= "2026-10-31")]
    spend = window.groupby("customer_id")["amount"].sum()
    assignment["revenue"] = assignment["customer_id"].map(spend).fillna(0.0).round(2)
    assignment["converted"] = (assignment["revenue"] > 0).astype(int)
    # A CRM list: ids and a column that is the same for everyone (the old uplift stage crashed on it).
    frames["customers"] = frames["customers"][["customer_id"]].assign(country="RU")


def _no_traits(frames: dict[str, pd.DataFrame]) -> None:
    frames["customers"] = frames["customers"][["customer_id", "activity"]]


def _three_arms(frames: dict[str, pd.DataFrame]) -> None:
    a = frames["assignment"]
    treated = a["group"] == "treatment"
    a.loc[treated & (a["customer_id"].astype(int) % 2 == 0), "group"] = "sms"


def _with_consent(frames: dict[str, pd.DataFrame]) -> None:
    # One customer in four has not allowed messages (ids ending so); «да» / «нет», as a CRM exports it.
    customers = frames["customers"]
    customers["may_email"] = ["нет" if int(i) % 4 == 0 else "да" for i in customers["customer_id"]]


def _zero_padded(frames: dict[str, pd.DataFrame]) -> None:
    for frame in frames.values():
        frame["customer_id"] = frame["customer_id"].astype(int).map(lambda v: f"{v:09d}")


IDS_ONLY_CONFIG = """
[report]
title = "E-mail test from a CRM export"
language = "en"
currency = "$"
output_dir = "output"

[data.customers]
path = "customers.csv"
id = "customer_id"

[data.experiment]
path = "assignment.csv"
customer_id = "customer_id"
group = "group"
control = "control"
converted = "converted"
revenue = "revenue"

[experiment]
metrics = ["conversion", "arpu"]
primary = "arpu"
"""

LOG_ONLY_CONFIG = """
[report]
title = "A shop's purchase log"
language = "en"
currency = "$"
output_dir = "output"

[data.transactions]
path = "transactions.txt"
customer_id = "customer_id"
date = "date"
amount = "amount"

[segments]
k = "auto"
"""

SHAPES = [
    Shape("demo_bad_label", "ru", stated_bad=True, cuts=("Кластер", "RFM-сегмент", "Город")),
    Shape("no_categories", "en", transform=_drop_columns("category", "brand"),
          config=without_keys("category", "brand"), stated_bad=True, cuts=("Cluster", "RFM segment", "City")),
    Shape("no_order_ids", "ru", transform=_drop_columns("order_id"), config=without_keys("order_id"),
          stated_bad=True, expect_issues=("identical_lines",)),
    Shape("no_money", "en", transform=_drop_columns("profit"), config=without_keys("profit", "margin"),
          stated_bad=True, money=False),
    Shape("good_label", "ru", config=chain(replace('positive = "Снизилась"', 'positive = "Прежний уровень"'),
                                           replace('positive_is = "bad"', 'positive_is = "good"'))),
    Shape("neutral_label", "en", config=without_keys("positive_is")),
    Shape("ids_only_customers", "en", transform=_ids_only, config=lambda _: IDS_ONLY_CONFIG, money=False),
    Shape("no_traits", "ru", transform=_no_traits, config=without_keys("age", "gender", "city", "profit",
                                                                         "score_filter", "score_filter_name"),
          stated_bad=True),
    Shape("three_arms", "ru", transform=_three_arms, stated_bad=True, config=replace(
        'offer_type = "discount"', 'offer_type = "discount"\nexpected_split = { control = 0.5, treatment = 0.25, '
                                   'sms = 0.25 }')),
    Shape("zero_padded_ids", "en", transform=_zero_padded, stated_bad=True),
    Shape("consent", "ru", transform=_with_consent, stated_bad=True,
          config=replace('profit = "profit"\n', 'profit = "profit"\nconsent = "may_email"\n')),
    Shape("whitespace_aligned", "ru", writer="aligned", stated_bad=True),
    Shape("semicolon_cp1251", "en", writer="semicolon", stated_bad=True),
    Shape("purchase_log", "en", transform=_drop_columns("order_id", "category", "brand", "is_promo"),
          config=lambda _: LOG_ONLY_CONFIG, money=False, expect_issues=("identical_lines",)),
]


@pytest.fixture(scope="module")
def shape_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("shape_demo")
    generate_demo(path, n_customers=1500, seed=11)
    return path


@pytest.fixture(scope="module", params=SHAPES, ids=[s.name for s in SHAPES])
def case(request, shape_demo, tmp_path_factory) -> tuple[Shape, Documents]:
    from campaign_report.pipeline.report import run_report

    shape: Shape = request.param
    config = build_case(shape, shape_demo, tmp_path_factory.mktemp(shape.name))
    outcome = run_report(config)  # any exception fails the case: a shape must run or say why in one line
    return shape, read_documents(outcome.output_dir, outcome.results)


def _appendix_titles(language: str) -> tuple[str, ...]:
    f = Formatter(language, "$")
    titles = []
    for key in ("details.title", "quality.title", "methods.title"):
        try:
            titles.append(f.t(key))
        except KeyError:  # a locale without that appendix
            continue
    return (*titles, f.t("deck.appendix").upper())


def test_no_placeholder_in_any_document(case):
    shape, docs = case
    for pattern in PLACEHOLDERS:
        found = pattern.search(docs.all_text)
        assert found is None, (shape.name, found.group(0), docs.all_text[max(0, found.start() - 80):found.end() + 40])


def test_no_raw_key_or_file_name_before_the_appendix(case):
    shape, docs = case
    text = docs.manager_text(_appendix_titles(shape.language))
    leaked = [k for k in RAW_KEYS if k in text]
    assert not leaked, (shape.name, leaked, text[max(0, text.find(leaked[0]) - 80):text.find(leaked[0]) + 60])


def test_no_meaning_the_config_did_not_state(case):
    shape, docs = case
    text = docs.manager_text(_appendix_titles(shape.language)).lower()
    if not shape.stated_bad:
        said = [w for w in BAD_WORDS[shape.language] if w in text]
        assert not said, (shape.name, said, text[max(0, text.find(said[0]) - 80):text.find(said[0]) + 60])
    if not shape.money:
        said = [w for w in PROFIT_WORDS[shape.language] if w in text]
        assert not said, (shape.name, said, text[max(0, text.find(said[0]) - 80):text.find(said[0]) + 60])


def test_every_configured_cut_and_data_finding_is_shown(case):
    shape, docs = case
    brief = "\n".join(docs.brief)
    for cut in shape.cuts:
        assert cut in brief, (shape.name, cut)
    found = {i.kind for q in docs.results.data_quality for i in q.issues}
    f = Formatter(shape.language, "$")
    for kind in shape.expect_issues:
        assert kind in found, (shape.name, kind, found)
        assert f.t(f"issue.{kind}") in brief, (shape.name, kind)


def test_one_count_for_whom_to_act_on(case):
    shape, docs = case
    p = docs.results.propensity
    if p is None or p.action_segment is None or p.target_list is None:
        return
    a, tl = p.action_segment, p.target_list
    assert a.size <= a.list_size == tl.above_threshold, (shape.name, a.size, a.list_size, tl.above_threshold)
    listed = docs.results.target_list
    assert int(listed["within_cutoff"].sum()) == tl.above_threshold
    f = Formatter(shape.language, "$")
    shown = f.integer(a.size).replace("\u00a0", " ")
    label = f.t(f"act.label_{docs.results.meaning.label.positive_is}")
    page1 = docs.brief[0] + (docs.brief[1] if len(docs.brief) > 1 else "")
    deck = "\n".join(docs.deck[:len(docs.deck) // 2 + 1])
    for where, text in (("page 1", page1), ("deck", deck), ("e-mail", docs.email)):
        assert f"{label}: {shown}" in text or (label in text and shown in text), (shape.name, where)


def test_what_to_expect_of_the_list_is_its_probabilities_and_is_said_beside_the_steps(case):
    """The model's expectation for the customers to act on first is the sum of their probabilities in the list
    file (not an offer's effect), and the deck's next steps and the brief say the same rounded count."""
    shape, docs = case
    p = docs.results.propensity
    if p is None or p.action_segment is None or not p.action_segment.size:
        return
    a = p.action_segment
    listed = docs.results.target_list
    first = listed[listed["act_first"]]
    assert len(first) == a.size
    assert a.expected_outcomes == pytest.approx(first["probability"].sum(), abs=0.001 * a.size)
    assert a.expected_outcomes <= a.size
    if a.value_basis != "none":
        assert abs(a.value_expected) <= abs(a.value_total) + 1e-9
    f = Formatter(shape.language, "$")
    count = f.integer(round(a.expected_outcomes)).replace("\u00a0", " ")
    lead = f.t("act.expect_lead", text="").strip()
    for where, text in (("brief", " ".join(docs.brief)), ("deck", "\n".join(docs.deck))):
        flat = " ".join(text.replace("\u00a0", " ").split())
        assert count in flat and (lead in flat or f.t("deck.steps_expect") in flat), (shape.name, where)


def test_customers_without_consent_are_counted_where_the_contact_is(case):
    shape, docs = case
    if shape.name != "consent":
        return
    a = docs.results.propensity.action_segment
    listed = docs.results.target_list
    # The file's flag is the data's consent, and the count the documents say is the file's.
    assert (listed["may_message"] == (listed["customer_id"].astype(int) % 4 != 0)).all()
    assert a.no_consent == int((listed["act_first"] & ~listed["may_message"]).sum()) > 0
    f = Formatter(shape.language, "$")
    said = f.t("next.contact_consent", n=f.integer(a.no_consent)).strip().replace("\u00a0", " ")
    for where, text in (("page 1", docs.brief[0] + docs.brief[1]), ("deck", "\n".join(docs.deck)),
                        ("e-mail", docs.email)):
        assert said in " ".join(text.replace("\u00a0", " ").split()), (where, said)
