from django.contrib import admin
from django.urls import path

admin.site.site_header = "医保关系转移接续 · 经办"
admin.site.site_title = "医保关系转移接续"
admin.site.index_title = "转移接续业务"

urlpatterns = [
    path("admin/", admin.site.urls),
]
