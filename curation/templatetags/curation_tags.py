"""Small display helpers for the workspace templates."""
from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def pct(value, digits: int = 0) -> str:
    if value is None or value == "":
        return "—"
    try:
        return f"{float(value) * 100:.{int(digits)}f}%"
    except (TypeError, ValueError):
        return "—"


@register.filter
def score(value) -> str:
    if value is None or value == "":
        return "—"
    try:
        return f"{float(value):.1f}"
    except (TypeError, ValueError):
        return "—"


@register.filter
def label(value) -> str:
    return str(value or "").replace("_", " ")


@register.filter
def error_reason(message) -> str:
    """A recorded error in plain words (curation.errors.error_explain): never a bare exception name."""
    from curation.errors import error_explain

    return error_explain(message)[0]


@register.filter
def error_detail(message) -> str:
    from curation.errors import error_explain

    return error_explain(message)[1]


@register.filter
def get(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def status_class(value) -> str:
    good = {"ok", "verified", "accepted", "succeeded", "AC", "easy", "valid", "approved"}
    bad = {"failed", "rejected", "error", "tests_inconsistent", "incomplete", "WA", "RE", "TLE", "MLE", "CE", "OLE", "SE", "hard"}
    warn = {"needs_adjudication", "needs_checker", "no_reference", "reference_too_slow", "partial", "running", "in_review", "medium"}
    value = str(value)
    if value in good:
        return "st-good"
    if value in bad:
        return "st-bad"
    if value in warn:
        return "st-warn"
    return "st-neutral"


@register.filter
def thousands(value) -> str:
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


@register.simple_tag(takes_context=True)
def sort_link(context, key: str, title: str, first: str = "asc"):
    """A column header link that sorts by `key` (toggling direction), keeping the filters; an
    ordinary href for no-JS use and the same URL as hx-get for htmx."""
    from django.utils.html import format_html

    request = context["request"]
    params = request.GET.copy()
    current = params.get("ordering", "")
    if current == key:
        target, arrow = f"-{key}", " ▲"
    elif current == f"-{key}":
        target, arrow = key, " ▼"
    else:
        target, arrow = (key if first == "asc" else f"-{key}"), ""
    params["ordering"] = target
    params.pop("page", None)
    url = "?" + params.urlencode()
    # No hx-get of its own: the script sets the filter form's `ordering` field and submits that one
    # form (hx-sync replaces an older request), so filters, sort, table and URL cannot disagree.
    return format_html('<a href="{}" data-sort="{}">{}{}</a>', url, target, title, arrow)


@register.filter
def make_list_words(value) -> list[str]:
    return str(value).split()


@register.simple_tag
def field(bound, input_type: str = ""):
    """Render a filter form field as plain HTML without Django's template-based widget rendering
    (about 20x cheaper per field, which matters on a page drawn on every filter change)."""
    from django import forms
    from django.utils.html import format_html, format_html_join
    from django.utils.safestring import mark_safe

    widget = bound.field.widget
    name, html_id = bound.html_name, bound.auto_id
    data = bound.form.data if bound.form.is_bound else {}
    if isinstance(widget, forms.SelectMultiple):
        chosen = set(data.getlist(name)) if hasattr(data, "getlist") else set()
        options = format_html_join(
            "", '<option value="{}"{}>{}</option>',
            ((str(v), " selected" if str(v) in chosen else "", label) for v, label in _choices(bound.field)),
        )
        return format_html('<select name="{}" id="{}" multiple>{}</select>', name, html_id, options)
    value = data.get(name, "") if hasattr(data, "get") else ""
    if isinstance(widget, forms.NullBooleanSelect):
        choices = [("", "Any"), ("true", "Yes"), ("false", "No")]
        options = format_html_join(
            "", '<option value="{}"{}>{}</option>', ((v, " selected" if v == value else "", label) for v, label in choices)
        )
        return format_html('<select name="{}" id="{}">{}</select>', name, html_id, options)
    if isinstance(widget, forms.Select):
        options = format_html_join(
            "", '<option value="{}"{}>{}</option>',
            ((str(v), " selected" if str(v) == value else "", label if v != "" else "Any") for v, label in _choices(bound.field)),
        )
        return format_html('<select name="{}" id="{}">{}</select>', name, html_id, options)
    kind = input_type or ("number" if isinstance(widget, forms.NumberInput) else "text")
    extra = ' step="any"' if kind == "number" else ""
    # The form's bounds, so that the browser says so before the server has to.
    for attr, bound_value in (("maxlength", getattr(bound.field, "max_length", None)),
                              ("min", getattr(bound.field, "min_value", None)),
                              ("max", getattr(bound.field, "max_value", None))):
        if bound_value is not None and (attr == "maxlength") == (kind != "number"):
            extra += f' {attr}="{bound_value}"'
    # The range table labels only the "min" column's input; the "max" one needs its own name.
    aria = ""
    for suffix, word in (("_max", "maximum"), ("_min", "minimum")):
        if name.endswith(suffix):
            aria = f"{name[: -len(suffix)].replace('_', ' ')} {word}"
    return format_html(
        '<input type="{}" name="{}" id="{}" value="{}"{}{}>', kind, name, html_id, value,
        format_html(' aria-label="{}"', aria) if aria else "", mark_safe(extra),
    )


def _choices(form_field):
    seen_empty = False
    for value, label in form_field.choices:
        value = getattr(value, "value", value)  # ModelChoiceIteratorValue
        if value == "":
            if seen_empty:
                continue
            seen_empty = True
        yield value, label


# The list's columns (key, header): each cell and header carries class `c-<key>`, so the column
# chooser hides a column with one class on the results section (`hide-<key>`, see microcoder.css).
LIST_COLUMNS = (
    ("id", "#"), ("title", "Title"), ("source", "Source"), ("platform", "Platform"), ("format", "Format"),
    ("date", "Date"), ("processed", "Processed"), ("verified", "Verified"), ("score", "Score"),
    ("pass_rate", "Pass rate"), ("bucket", "Bucket"), ("flags", "Flags"), ("review", "Review"),
)
# Hidden until a user shows them: what the table can spare so that it fits a 1024 px window.
LIST_COLUMNS_HIDDEN = ("source", "platform", "format", "processed", "flags")

_ROW = (
    '<tr>{}<td class="c-id">{}</td><td class="c-title"><a class="trunc" href="{}{}/" title="{}">{}</a>'
    '<span class="muted small trunc" title="{}">{}</span></td><td class="c-source">{}</td><td class="c-platform">{}</td>'
    '<td class="c-format">{}</td><td class="c-date">{}</td><td class="c-processed"><span class="st {}">{}</span></td>'
    '<td class="c-verified"><span class="st {}">{}</span></td><td class="c-score">{}</td><td class="c-pass_rate">{}</td>'
    '<td class="c-bucket">{}</td><td class="c-flags">{}</td><td class="c-review"><span class="st {}">{}</span></td></tr>'
)


@register.simple_tag
def list_columns() -> list[dict]:
    return [{"key": k, "label": v, "hidden": k in LIST_COLUMNS_HIDDEN} for k, v in LIST_COLUMNS]


@register.simple_tag
def list_columns_hidden_classes() -> str:
    return " ".join(f"hide-{k}" for k in LIST_COLUMNS_HIDDEN)


_PICK = '<td><input type="checkbox" name="ids" value="{}" form="bulk-form" class="pick" aria-label="Pick problem #{}"></td>'


@register.simple_tag
def problem_rows(rows, detail_base: str, pick: bool = False):
    """The list's table rows, built in Python: the page is redrawn on every filter change and this is
    its hot loop (50 rows x 13 cells); every value is escaped by format_html."""
    from django.utils.html import format_html
    from django.utils.safestring import mark_safe

    out = []
    for p in rows:
        bucket = format_html('<span class="st {}">{}</span>', status_class(p.bucket), p.bucket) if p.bucket else "—"
        flags = mark_safe(
            ('<span class="flag" title="duplicate">dup</span>' if p.is_duplicate else "")
            + ('<span class="flag" title="overlaps a benchmark">bench</span>' if p.is_contaminated else "")
            + ('<span class="flag" title="benchmark problem">B</span>' if p.is_benchmark else "")
        )
        # Curators pick rows for a bulk action; the checkbox belongs to the bulk form (form=).
        pick_cell = format_html(_PICK, p.id, p.id) if pick else ""
        out.append(
            format_html(
                _ROW,
                pick_cell, p.id, detail_base, p.id, p.title, p.title, p.external_id, p.external_id, p.source.name, p.platform or "—", p.io_format,
                p.contest_date.isoformat() if p.contest_date else "—",
                status_class(p.process_status), label(p.process_status),
                status_class(p.verification_status), label(p.verification_status),
                score(p.weighted_score), pct(p.calibrated_pass_rate), bucket, flags,
                status_class(p.review_status), label(p.review_status),
            )
        )
    return mark_safe("".join(out))


@register.simple_tag
def user_roles(user) -> dict:
    """{role: bool} for the navigation and buttons: links only to what the user may open."""
    from curation.roles import ROLES, user_has_role

    return {role: user_has_role(user, role) for role in ROLES}


@register.simple_tag(takes_context=True)
def aria_sort(context, key: str):
    """aria-sort for a sortable column header: ascending / descending / none, from ?ordering."""
    from django.utils.html import format_html

    current = context["request"].GET.get("ordering", "")
    state = "ascending" if current == key else ("descending" if current == f"-{key}" else "none")
    return format_html(' aria-sort="{}"', state)


@register.inclusion_tag("curation/_judge_mode.html")
def judge_mode_line(mode, element_id: str = ""):
    """How judgements were limited, one line: "bubblewrap · cgroup-v1 · seccomp", the weak parts
    as warnings. `mode` is a run's judge_mode dict or a row with isolation/resource_limits/seccomp
    columns (VerificationRun)."""
    from curation.judge.mode import describe

    if not isinstance(mode, dict):
        mode = {"isolation": getattr(mode, "isolation", ""), "resource_limits": getattr(mode, "resource_limits", ""),
                "seccomp": getattr(mode, "seccomp", None)}
    return {"d": describe(mode), "element_id": element_id}
