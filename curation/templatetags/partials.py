"""Named partials inside a page template (the django-htmx pattern, without another dependency).

    {% load partials %}
    {% partialdef rows %} ... {% endpartialdef %}

renders in place as part of the page, and `partial_render(request, "page.html", "rows", ctx)`
renders just that fragment for an htmx request — one template per page, no fragment files.
"""
from __future__ import annotations

from django import template
from django.http import HttpResponse
from django.template.context import make_context
from django.template.loader import get_template

register = template.Library()


class PartialDefNode(template.Node):
    def __init__(self, name: str, nodelist: template.NodeList):
        self.name = name
        self.nodelist = nodelist

    def render(self, context) -> str:
        return self.nodelist.render(context)


@register.tag("partialdef")
def do_partialdef(parser, token):
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("usage: {% partialdef name %} ... {% endpartialdef %}")
    nodelist = parser.parse(("endpartialdef",))
    parser.delete_first_token()
    return PartialDefNode(bits[1], nodelist)


def _find_partial(nodelist, name: str) -> PartialDefNode:
    for node in nodelist.get_nodes_by_type(PartialDefNode):
        if node.name == name:
            return node
    raise template.TemplateDoesNotExist(f"no partial named {name!r}")


def partial_render_to_string(request, template_name: str, partial: str, context: dict | None = None) -> str:
    engine_template = get_template(template_name).template
    node = _find_partial(engine_template.nodelist, partial)
    ctx = make_context(context or {}, request)
    with ctx.render_context.push_state(engine_template):
        with ctx.bind_template(engine_template):
            return node.nodelist.render(ctx)


def partial_render(request, template_name: str, partial: str, context: dict | None = None, status: int = 200) -> HttpResponse:
    return HttpResponse(partial_render_to_string(request, template_name, partial, context), status=status)
