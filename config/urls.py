from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import health, metrics

# Overdue cases, the outbox and the queue on /metrics (config/metrics.py).
metrics.metrics_register()

admin.site.site_header = "医保关系转移接续 · 经办"
admin.site.site_title = "医保关系转移接续"
admin.site.index_title = "转移接续业务"
# The admin's "view site" link: the service's home page.
admin.site.site_url = "/"

# Swagger UI's script is served from a URL of its own (the split view), so no inline script; its
# React components style elements inline, which is all the policy relaxes here.
swagger_ui = csp_update({"style-src": [SELF, UNSAFE_INLINE]})(
    SpectacularSwaggerSplitView.as_view(url_name="schema")
)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", swagger_ui, name="swagger-ui"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("django_prometheus.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("desk/", include("desk.urls")),
    path("", include("portal.urls")),
]

# Errors outside DRF views: problem details for programs, pages for people (config/errors.py).
handler400 = "config.errors.handler400"
handler403 = "config.errors.handler403"
handler404 = "config.errors.handler404"
handler500 = "config.errors.handler500"
