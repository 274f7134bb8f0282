from curation.roles import role_required
from django.core.paginator import Paginator
from django.shortcuts import render

from curation import selectors


@role_required("viewer")
def home(request):
    search = request.GET.get("q", "").strip()
    page = Paginator(selectors.problem_list(search=search), 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "search": search,
        "counts": selectors.problem_counts_by_source(),
        "import_runs": selectors.import_runs_recent(),
    }
    return render(request, "curation/home.html", context)
