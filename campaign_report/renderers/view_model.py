"""The view model: display strings arranged for the documents. Typed, so that a renderer's typo is a
type error rather than an empty cell; filled by renderers.sections, read by pdf, pptx, email and exports."""

from __future__ import annotations

from dataclasses import dataclass, field

from campaign_report.renderers.charts import ChartSpec
from campaign_report.renderers.format import Formatter


@dataclass(frozen=True)
class Table:
    title: str
    header: list[str]
    rows: list[list[str]]
    numeric: list[int] = field(default_factory=list)  # column indices set right-aligned
    note: str = ""
    headline: str = ""  # the deck's action title for this table, where it states a finding
    appendix: bool = False  # detail behind a finding: the deck shows it after the next steps
    abridged: bool = False  # the top rows of a table printed whole in the appendix: the deck shows only the whole


@dataclass(frozen=True)
class Card:
    title: str
    lines: list[str]
    kind: str = ""  # "cluster" | "action" | "rfm" | "" — decides whether the deck charts it


@dataclass(frozen=True)
class Verdict:
    code: str  # "win" | "loss" | "no_detectable_effect" | "invalid"
    label: str
    sentence: str
    headline: str
    treatment: str


@dataclass(frozen=True)
class Finding:
    label: str  # what the finding is about: "Segments", "Model"
    sentence: str
    source: str = ""  # the analysis it comes from: a caveat of that analysis goes where the finding is shown
    # It states money at stake (the value of customers slipping away): the summary slide shows it before other
    # findings, since a director who reads only the deck must see what is at stake beside the decision.
    stake: bool = False


@dataclass(frozen=True)
class Caveat:
    """What page-1 figures rest on, and the analysis whose figures it qualifies ("data" qualifies all)."""

    text: str
    source: str = "data"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class KeyNumber:
    label: str
    value: str
    detail: str
    significant: bool
    source: str = ""  # the analysis it comes from: page 1 orders experiment, model, segments
    primary: bool = False  # the number a decision rests on (an arm's primary metric): the deck's tiles lead with it


@dataclass(frozen=True)
class ActOn:
    title: str
    text: str
    # How this list relates to another analysis's list (the lifetime model's slipping-away customers): said
    # wherever both lists are shown, so that two counts of "at risk" are never left unreconciled.
    aside: str = ""
    # What the model expects of these customers before anyone acts (how many have the outcome, their value
    # together), and that an offer's own effect is measured only by its hold-out.
    expect: str = ""

    @property
    def full(self) -> str:
        return f"{self.text} {self.aside}" if self.aside else self.text


@dataclass(frozen=True)
class OfferLine:
    segment: str
    offer: str
    kind: str = ""  # the segment's kind: action, list, cluster (page 1 lists them in that order)


@dataclass
class Summary:
    """Page 1 and the summary slide."""

    verdicts: list[Verdict] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # the main finding of every other analysis that ran
    key_numbers: list[KeyNumber] = field(default_factory=list)
    # Numbers that fill the three tiles when the analyses that ran give fewer (a profile without a test).
    spare_numbers: list[KeyNumber] = field(default_factory=list)
    act_on: list[ActOn] = field(default_factory=list)
    offers: list[OfferLine] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)  # what the results support doing, at most three
    # Without a test's verdict, page 1 opens with what to do: the first step's action without its detail.
    lead: str = ""
    whom_next: str = ""  # "whom to contact next time", when the uplift section ran
    worth: str = ""  # what acting on it is worth, in a phrase the summary slide's title can carry
    # What the page-1 numbers rest on, said wherever they are (page 1, the summary slide): the deck must not
    # drop what the brief qualifies.
    caveats: list[Caveat] = field(default_factory=list)


@dataclass
class Section:
    key: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    # For the analyst who checks and configures the run (settings that would say more, file columns, the
    # engine): the brief prints them after the paragraphs, the deck (read by directors) leaves them out.
    analyst: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[ChartSpec] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    headline: str = ""
    headlines: dict[str, str] = field(default_factory=dict)  # chart key -> deck headline stating the finding
    so_what: dict[str, list[str]] = field(default_factory=dict)  # chart key -> two or three lines beside it
    # chart key -> how that chart's figures were made and their caveat, for its slide's notes (an appendix chart
    # is not the section's first slide, which alone carries the section's method paragraph)
    chart_methods: dict[str, str] = field(default_factory=dict)
    diagnostics: list[str] = field(default_factory=list)  # chart keys that check a method: deck appendix
    deck_tables: list[Table] = field(default_factory=list)  # tables only the deck shows (the offer plan)
    # Whole tables whose most important rows the section shows: the brief prints them in an appendix.
    appendix_tables: list[Table] = field(default_factory=list)
    notes: str = ""


@dataclass
class View:
    language: str
    title: str
    created: str
    as_of: str
    fmt: Formatter
    summary: Summary
    sections: list[Section]
    email_subject: str
    kicker: str = ""  # the report's kind above the title: campaign report, customer profile, activity forecast
    kind: str = "profile"  # "campaign" | "model" | "profile": names the attachments
    has_categories: bool = False  # purchase lines carry categories (what portraits can speak of)
    has_lists: bool = False  # a customer list file is delivered (target, uplift or customer-value list)
